//! Receiving updates: `setWebhook` with an explicit `allowed_updates`, `getWebhookInfo` to
//! check it at start-up, and `getUpdates` long polling as the alternative.

use secrecy::ExposeSecret;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::TelegramApi;
use super::message::expect_true;
use crate::{ClientError, Result};
use secrecy::SecretString;

/// The update kinds the ledger reads. Listed explicitly because an empty or missing list
/// silently drops `chat_member` and reactions (docs/platforms.md, Telegram).
pub const ALLOWED_UPDATES: [&str; 10] = [
    "message",
    "edited_message",
    "channel_post",
    "message_reaction",
    "message_reaction_count",
    "poll_answer",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "callback_query",
];

/// Kinds Telegram leaves out unless they are named (what an empty list really means).
const OPT_IN_UPDATES: [&str; 3] = ["chat_member", "message_reaction", "message_reaction_count"];

/// Most updates one `getUpdates` call returns (Telegram's maximum).
const POLL_LIMIT: u32 = 100;

#[derive(Debug, Clone, Serialize)]
pub struct WebhookConfig {
    pub url: String,
    #[serde(serialize_with = "expose")]
    secret_token: SecretString,
    pub allowed_updates: Vec<String>,
    pub max_connections: u32,
    pub drop_pending_updates: bool,
}

fn expose<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

impl WebhookConfig {
    /// [`ALLOWED_UPDATES`], 40 connections, pending updates kept. The secret comes back in
    /// the `X-Telegram-Bot-Api-SecretString-Token` header: 1-256 of `A-Z a-z 0-9 _ -`.
    pub fn new(url: impl Into<String>, secret_token: impl Into<SecretString>) -> Result<Self> {
        let secret_token = secret_token.into();
        let token = secret_token.expose_secret();
        let valid = (1..=256).contains(&token.len())
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(ClientError::InvalidInput(
                "secret_token must be 1-256 of A-Z a-z 0-9 _ -",
            ));
        }
        Ok(WebhookConfig {
            url: url.into(),
            secret_token,
            allowed_updates: ALLOWED_UPDATES.iter().map(|s| (*s).to_owned()).collect(),
            max_connections: 40,
            drop_pending_updates: false,
        })
    }
}

/// `getWebhookInfo`, the fields worth checking at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebhookInfo {
    pub url: String,
    #[serde(default)]
    pub pending_update_count: i64,
    pub last_error_date: Option<i64>,
    pub last_error_message: Option<String>,
    pub max_connections: Option<u32>,
    /// Absent when Telegram uses its default: everything except `chat_member`,
    /// `message_reaction` and `message_reaction_count`.
    pub allowed_updates: Option<Vec<String>>,
}

impl WebhookInfo {
    /// Kinds in `wanted` that Telegram will not deliver: log these loudly at start-up.
    pub fn missing_updates(&self, wanted: &[&str]) -> Vec<String> {
        let delivered = |kind: &str| match &self.allowed_updates {
            Some(list) if !list.is_empty() => list.iter().any(|k| k == kind),
            _ => !OPT_IN_UPDATES.contains(&kind),
        };
        wanted
            .iter()
            .filter(|kind| !delivered(kind))
            .map(|kind| (*kind).to_owned())
            .collect()
    }
}

/// One update from `getUpdates`, as the bytes Telegram sent: store it by `update_id` and hand
/// [`PolledUpdate::bytes`] to [`adapters::telegram::parse`], exactly as a webhook delivery.
#[derive(Debug, Clone)]
pub struct PolledUpdate {
    pub update_id: i64,
    pub body: Box<RawValue>,
}

impl PolledUpdate {
    pub fn bytes(&self) -> &[u8] {
        self.body.get().as_bytes()
    }
}

/// The `offset` for the next `getUpdates` call, which also confirms everything before it.
pub fn next_offset(updates: &[PolledUpdate]) -> Option<i64> {
    updates.iter().map(|u| u.update_id.saturating_add(1)).max()
}

#[derive(Serialize)]
struct GetUpdates<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<i64>,
    limit: u32,
    timeout: u32,
    allowed_updates: &'a [&'a str],
}

#[derive(Deserialize)]
struct UpdateId {
    update_id: i64,
}

#[derive(Serialize)]
struct Empty {}

/// The bot a token belongs to (`getMe`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BotUser {
    pub id: i64,
    /// Without the `@`.
    #[serde(default)]
    pub username: String,
}

impl TelegramApi {
    pub async fn set_webhook(&self, config: &WebhookConfig) -> Result<()> {
        if config.allowed_updates.is_empty() {
            return Err(ClientError::InvalidInput(
                "empty allowed_updates drops chat_member and reactions",
            ));
        }
        expect_true(self.call("setWebhook", config).await?)
    }

    /// Proves the token works and names its bot: a token BotFather revoked answers 401.
    pub async fn get_me(&self) -> Result<BotUser> {
        self.call("getMe", &Empty {}).await
    }

    pub async fn get_webhook_info(&self) -> Result<WebhookInfo> {
        self.call("getWebhookInfo", &Empty {}).await
    }

    /// Long polling: waits up to `timeout_secs` for updates after `offset`. Fails with
    /// `Telegram { code: 409 }` while a webhook is set. An element without a readable
    /// `update_id` cannot be stored or confirmed and is left out.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout_secs: u32,
        allowed_updates: &[&str],
    ) -> Result<Vec<PolledUpdate>> {
        if allowed_updates.is_empty() {
            return Err(ClientError::InvalidInput(
                "empty allowed_updates drops chat_member and reactions",
            ));
        }
        let body = GetUpdates {
            offset,
            limit: POLL_LIMIT,
            timeout: timeout_secs,
            allowed_updates,
        };
        let wait = Duration::from_secs(u64::from(timeout_secs));
        let raw: Vec<Box<RawValue>> = self
            .retry
            .run(|| self.call_once("getUpdates", &body, wait))
            .await?;
        Ok(raw
            .into_iter()
            .filter_map(|body| {
                let id: UpdateId = serde_json::from_str(body.get()).ok()?;
                Some(PolledUpdate {
                    update_id: id.update_id,
                    body,
                })
            })
            .collect())
    }
}
