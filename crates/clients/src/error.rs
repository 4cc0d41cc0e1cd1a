//! The one error type of the outbound clients. Variants say what the caller can do next:
//! retry ([`ClientError::is_retryable`]), wait ([`ClientError::retry_after`]), or give up.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// No answer within the request timeout.
    #[error("request timed out")]
    Timeout,
    /// Connection refused, reset, TLS failure... Never carries the URL (it holds bot tokens).
    #[error("network error: {0}")]
    Network(String),
    /// An HTTP error status whose body is not the API's error envelope (a proxy's 502 page).
    #[error("HTTP status {status} without an API answer")]
    Status { status: u16 },
    /// The body is not what the API documents; never retried.
    #[error("unexpected response: {0}")]
    Malformed(String),
    /// Telegram flood control (HTTP 429, `parameters.retry_after`).
    #[error("too many requests, retry after {retry_after:?}")]
    TooManyRequests { retry_after: Duration },
    /// Telegram: the chat does not exist or the bot cannot see it.
    #[error("chat not found")]
    ChatNotFound,
    /// Telegram 403: the user blocked the bot, or the bot was removed from the chat.
    #[error("forbidden: {description}")]
    Forbidden { description: String },
    /// Telegram: the group became a supergroup; stored chat ids must follow.
    #[error("chat migrated to {new_chat_id}")]
    ChatMigrated { new_chat_id: i64 },
    /// Any other Telegram Bot API error.
    #[error("Telegram error {code}: {description}")]
    Telegram { code: i64, description: String },
    /// A VK API error envelope (6 = too many requests per second, 10 = internal error).
    #[error("VK error {code}: {message}")]
    Vk { code: i64, message: String },
    /// An Instagram Graph API error (190 = the access token expired or was revoked).
    #[error("Graph API error {code}: {message}")]
    Graph { code: i64, message: String },
    /// The VK ID token endpoint refused (`invalid_grant` for a bad or reused code).
    #[error("OAuth error {error}: {description}")]
    OAuth { error: String, description: String },
    /// The `state` returned to the redirect is not the one this link started with.
    #[error("OAuth state does not match")]
    StateMismatch,
    /// Refused before any request was sent.
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
}

/// VK error codes worth retrying: 6 too many requests per second, 10 internal server error.
const VK_RETRYABLE: [i64; 2] = [6, 10];

impl ClientError {
    /// True for failures that may pass on a later attempt: network, timeouts, 5xx, 429,
    /// VK 6/10. A refusal (bad code, blocked bot, malformed answer) is final.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Timeout | ClientError::Network(_) => true,
            ClientError::Status { status } => *status >= 500 || *status == 429,
            ClientError::TooManyRequests { .. } => true,
            ClientError::Telegram { code, .. } => *code >= 500,
            ClientError::Vk { code, .. } => VK_RETRYABLE.contains(code),
            _ => false,
        }
    }

    /// How long the server asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::TooManyRequests { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}
