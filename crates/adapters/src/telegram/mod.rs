//! Telegram Bot API webhook updates. The handler checks the
//! [`SECRET_TOKEN_HEADER`] with [`secret_matches`], stores the raw update by `update_id`,
//! then calls [`parse`].

mod members;
mod message;
mod votes;
mod wire;

use domain::network::{ExternalIdentity, Network};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ParseError;
use crate::signal::Signal;

pub use crate::secret::secret_matches;

/// Header carrying the `secret_token` given to `setWebhook`.
pub const SECRET_TOKEN_HEADER: &str = "x-telegram-bot-api-secret-token";

/// A poll answer names no chat: its destination is `poll:<poll_id>`, resolved by whoever
/// published the poll.
pub const POLL_DESTINATION_PREFIX: &str = "poll:";

/// One parsed update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramUpdate {
    /// Per-bot delivery id: the idempotency key for redeliveries.
    pub update_id: i64,
    pub signals: Vec<Signal>,
}

impl TelegramUpdate {
    /// `telegram:<update_id>` for logs and delivery dedupe (per bot).
    pub fn delivery_key(&self) -> String {
        format!("telegram:{}", self.update_id)
    }
}

#[derive(Deserialize)]
struct RawUpdate {
    update_id: Option<i64>,
    message: Option<Value>,
    edited_message: Option<Value>,
    channel_post: Option<Value>,
    edited_channel_post: Option<Value>,
    message_reaction: Option<Value>,
    message_reaction_count: Option<Value>,
    poll_answer: Option<Value>,
    chat_member: Option<Value>,
    my_chat_member: Option<Value>,
    chat_join_request: Option<Value>,
    callback_query: Option<Value>,
}

/// Parses an `Update`. A known update kind with an unreadable object is an error (answer
/// 400 after storing the raw body); unknown kinds are `Signal::Ignored`.
pub fn parse(raw_body: &[u8]) -> Result<TelegramUpdate, ParseError> {
    let raw: RawUpdate = serde_json::from_slice(raw_body).map_err(ParseError::json)?;
    let update_id = raw.update_id.ok_or(ParseError::Missing("update_id"))?;
    let signals = if let Some(v) = raw.message {
        message::message(read("message", v)?, false)
    } else if let Some(v) = raw.edited_message {
        message::message(read("edited_message", v)?, true)
    } else {
        vec![other(raw)?]
    };
    Ok(TelegramUpdate { update_id, signals })
}

/// Updates that are not messages: one signal each.
fn other(raw: RawUpdate) -> Result<Signal, ParseError> {
    let signal = if raw.channel_post.is_some() || raw.edited_channel_post.is_some() {
        Signal::Ignored {
            reason: "channel post has no member author",
        }
    } else if let Some(v) = raw.message_reaction {
        votes::reaction(read("message_reaction", v)?)
    } else if raw.message_reaction_count.is_some() {
        Signal::Ignored {
            reason: "reaction counts name no member",
        }
    } else if let Some(v) = raw.poll_answer {
        votes::poll_answer(read("poll_answer", v)?)
    } else if let Some(v) = raw.chat_member {
        members::chat_member(read("chat_member", v)?)
    } else if let Some(v) = raw.my_chat_member {
        members::my_chat_member(read("my_chat_member", v)?)
    } else if raw.chat_join_request.is_some() {
        Signal::Ignored {
            reason: "join request is not membership",
        }
    } else if let Some(v) = raw.callback_query {
        callback_query(read("callback_query", v)?)
    } else {
        Signal::Ignored {
            reason: "update kind not used",
        }
    };
    Ok(signal)
}

fn callback_query(query: wire::CallbackQuery) -> Signal {
    Signal::CallbackQuery(crate::signal::CallbackQuery {
        id: query.id,
        user_id: query.from.id,
        language_code: crate::wire::clean_opt(query.from.language_code),
        chat_id: query.message.as_ref().map(|m| m.chat.id),
        message_id: query.message.as_ref().map(|m| m.message_id),
        data: query.data.map(|d| crate::wire::clean(&d)),
    })
}

fn read<T: serde::de::DeserializeOwned>(kind: &'static str, value: Value) -> Result<T, ParseError> {
    serde_json::from_value(value).map_err(|e| ParseError::Shape(kind, e.to_string()))
}

/// Telegram user ids are global: no scope.
fn member(user_id: i64) -> ExternalIdentity {
    ExternalIdentity::new(Network::Telegram, "", user_id.to_string())
}

/// Accounts that are not members: Telegram's service account (channel auto-forwards),
/// GroupAnonymousBot (anonymous admins) and Channel_Bot (acting as a channel).
const SERVICE_ACCOUNTS: [i64; 3] = [777_000, 1_087_968_824, 136_817_688];

fn is_member_account(user: &wire::User) -> bool {
    !user.is_bot && user.id > 0 && !SERVICE_ACCOUNTS.contains(&user.id)
}
