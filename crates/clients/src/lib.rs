#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
//! Outbound platform clients: calls the ledger makes to VK, VK ID and the Telegram Bot API, and
//! a rate-limited Telegram notification dispatcher.
//!
//! Unlike the inbound parsers (`adapters`) this crate does IO and is async (tokio + reqwest). Invariants:
//! tokens never appear in `Debug` output or in error text; no response body can make it panic
//! (anything unexpected is [`ClientError::Malformed`]); every wait is on tokio's clock, so
//! `start_paused` tests drive retries and rate limits without sleeping.

pub mod error;
pub mod instagram;
pub mod notify;
pub mod rate;
pub mod retry;
pub mod telegram;
pub mod vk;

mod http;

pub use error::ClientError;
pub use notify::{
    EnqueueError, Enqueued, NotificationKey, Notifier, NotifierConfig, NotifierStats, Outcome,
    Report,
};
pub use rate::{RateLimiter, SlidingWindow};
pub use retry::{Jitter, RetryPolicy};
pub use telegram::{
    Announcement, BotUser, ChatId, ForceReply, InlineButton, InlineKeyboard, MAX_CAPTION_UTF16,
    MemberStatus, PolledUpdate, SentMessage, SentPoll, TelegramApi, WebhookConfig, WebhookInfo,
};
pub use vk::{PendingLink, VkApi, VkIdCallback, VkIdOAuth, VkIdTokens, VkMembership, VkUser};

/// Result of every client call.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
