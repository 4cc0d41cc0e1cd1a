//! Telegram Bot API client: membership checks, messages, polls, webhook set-up and long
//! polling.
//!
//! A thin client over reqwest with its own minimal serde types rather than teloxide: updates
//! from `getUpdates` go to the caller as raw bytes for the same parser the webhook uses, and
//! teloxide-core panics on some update bodies (docs/platforms.md, Telegram).

mod member;
mod message;
mod poll;
mod webhook;
mod wire;

use secrecy::ExposeSecret;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::http;
use super::{ClientError, Result, RetryPolicy};
use secrecy::SecretString;

pub use member::MemberStatus;
pub use message::{
    Announcement, ForceReply, InlineButton, InlineKeyboard, MAX_CALLBACK_DATA, MAX_CAPTION_UTF16,
    MAX_TEXT_UTF16, SentMessage,
};
pub use poll::{
    MAX_POLL_OPTION_CHARS, MAX_POLL_OPTIONS, MAX_POLL_QUESTION_CHARS, MIN_POLL_OPTIONS, SentPoll,
};
pub use webhook::{
    ALLOWED_UPDATES, BotUser, PolledUpdate, WebhookConfig, WebhookInfo, next_offset,
};

pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";

/// A chat by numeric id (`-100…` for channels and supergroups) or a public `@username`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ChatId {
    Id(i64),
    Username(String),
}

impl From<i64> for ChatId {
    fn from(id: i64) -> Self {
        ChatId::Id(id)
    }
}

impl From<&str> for ChatId {
    fn from(username: &str) -> Self {
        ChatId::Username(username.to_owned())
    }
}

/// Cheap to clone: clones share the HTTP connection pool.
#[derive(Clone)]
pub struct TelegramApi {
    http: reqwest::Client,
    base_url: String,
    token: SecretString,
    retry: RetryPolicy,
}

impl fmt::Debug for TelegramApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramApi")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl TelegramApi {
    /// The token becomes part of every URL path, so only the characters BotFather issues
    /// (`<digits>:<A-Za-z0-9_->`) are accepted.
    pub fn new(bot_token: impl Into<SecretString>) -> Result<Self> {
        let token = bot_token.into();
        let valid = token
            .expose_secret()
            .split_once(':')
            .is_some_and(|(id, key)| {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
        if !valid {
            return Err(ClientError::InvalidInput("bot token is not <id>:<key>"));
        }
        Ok(TelegramApi {
            http: http::client()?,
            base_url: DEFAULT_BASE_URL.to_owned(),
            token,
            retry: RetryPolicy::default(),
        })
    }

    /// The bot's own user id: the token's part before the colon (checked by `new`).
    pub fn bot_id(&self) -> i64 {
        self.token
            .expose_secret()
            .split_once(':')
            .and_then(|(id, _)| id.parse().ok())
            .unwrap_or_default()
    }

    /// A local Bot API server, or a fake one in tests.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Calls `method` under the retry policy.
    async fn call<T: DeserializeOwned>(&self, method: &str, body: &impl Serialize) -> Result<T> {
        self.retry
            .run(|| self.call_once(method, body, Duration::ZERO))
            .await
    }

    /// One attempt; `extra_wait` lengthens the timeout for long polling.
    async fn call_once<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &impl Serialize,
        extra_wait: Duration,
    ) -> Result<T> {
        let url = http::join(
            &self.base_url,
            &format!("bot{}/{method}", self.token.expose_secret()),
        );
        let request = self.http.post(url).json(body);
        let timeout = self.retry.request_timeout.map(|t| t + extra_wait);
        let answer = http::send(request, timeout).await?;
        wire::result(&answer)
    }
}
