//! VK API client (`groups.isMember`) and VK ID OAuth for account linking.

mod groups;
mod oauth;
mod users;

use secrecy::ExposeSecret;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::http::{self, Answer, excerpt};
use super::{ClientError, RateLimiter, Result, RetryPolicy};
use secrecy::SecretString;

pub use groups::{MAX_USER_IDS, VkMembership};
pub use oauth::{PendingLink, VkIdCallback, VkIdOAuth, VkIdTokens, code_challenge};
pub use users::{MAX_USERS_PER_CALL, VkUser};

pub const DEFAULT_BASE_URL: &str = "https://api.vk.com/method";
pub const API_VERSION: &str = "5.199";

/// User tokens get about 3 requests per second (community tokens 20: see
/// [`VkApi::with_rate_limit`]); VK answers error 6 beyond it.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 3;

/// Cheap to clone; clones share the rate limiter, as VK counts requests per token.
#[derive(Clone)]
pub struct VkApi {
    http: reqwest::Client,
    base_url: String,
    token: SecretString,
    limiter: Arc<RateLimiter>,
    retry: RetryPolicy,
}

impl fmt::Debug for VkApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VkApi")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl VkApi {
    pub fn new(access_token: impl Into<SecretString>) -> Result<Self> {
        let token = access_token.into();
        if token.expose_secret().is_empty() {
            return Err(ClientError::InvalidInput("VK access token is empty"));
        }
        Ok(VkApi {
            http: http::client()?,
            base_url: DEFAULT_BASE_URL.to_owned(),
            token,
            limiter: Arc::new(RateLimiter::new(
                DEFAULT_REQUESTS_PER_SECOND,
                Duration::from_secs(1),
            )),
            retry: RetryPolicy::default(),
        })
    }

    /// The `api.vk.ru` mirror, or a fake server in tests.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the limiter: 20/s for a community token, 5-60/s for a service token.
    pub fn with_rate_limit(mut self, requests: u32, per: Duration) -> Self {
        self.limiter = Arc::new(RateLimiter::new(requests, per));
        self
    }

    /// POSTs form parameters (VK accepts no JSON bodies) under the limiter and retry policy;
    /// the token travels in the `Authorization` header, not in a logged query string.
    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<T> {
        let url = http::join(&self.base_url, method);
        self.retry
            .run(|| async {
                let slot = self.limiter.acquire().await;
                let request = self
                    .http
                    .post(&url)
                    .bearer_auth(self.token.expose_secret())
                    .form(&Form(params));
                let answer = http::send(request, self.retry.request_timeout).await;
                drop(slot);
                let answer = answer?;
                read_response(&answer)
            })
            .await
    }
}

/// Form body: the caller's parameters plus `v`.
struct Form<'a>(&'a [(&'a str, String)]);

impl serde::Serialize for Form<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len() + 1))?;
        for (key, value) in self.0 {
            seq.serialize_element(&(key, value))?;
        }
        seq.serialize_element(&("v", API_VERSION))?;
        seq.end()
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    response: Option<&'a RawValue>,
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error_code: i64,
    #[serde(default)]
    error_msg: String,
}

/// VK answers errors with HTTP 200 and `{"error":{…}}`; success is `{"response":…}`.
fn read_response<T: DeserializeOwned>(answer: &Answer) -> Result<T> {
    let envelope: Envelope = match serde_json::from_slice(&answer.body) {
        Ok(envelope) => envelope,
        Err(_) if answer.status >= 500 || answer.status == 429 => {
            return Err(ClientError::Status {
                status: answer.status,
            });
        }
        Err(e) => {
            return Err(ClientError::Malformed(format!(
                "HTTP {}: not a VK envelope ({e}): {}",
                answer.status,
                excerpt(&answer.body)
            )));
        }
    };
    if let Some(error) = envelope.error {
        return Err(ClientError::Vk {
            code: error.error_code,
            message: error.error_msg,
        });
    }
    let raw = envelope
        .response
        .ok_or_else(|| ClientError::Malformed("neither `response` nor `error`".to_owned()))?;
    serde_json::from_str(raw.get())
        .map_err(|e| ClientError::Malformed(format!("unexpected `response`: {e}")))
}
