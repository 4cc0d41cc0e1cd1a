//! Configuration: every option is an environment variable (documented in the README), typed
//! here once. Secrets never print.

use clap::Args;
use std::fmt;
use std::net::SocketAddr;

/// A secret from the environment: Debug and Display show only whether it is set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() {
            "Secret(***)"
        } else {
            "Secret(unset)"
        })
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "LOYALTY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Meta app secret that signs Instagram webhooks (X-Hub-Signature-256).
    #[arg(
        long,
        env = "LOYALTY_INSTAGRAM_APP_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    pub instagram_app_secret: Secret,
    /// Token Meta echoes in the webhook verification handshake.
    #[arg(
        long,
        env = "LOYALTY_INSTAGRAM_VERIFY_TOKEN",
        default_value = "",
        hide_env_values = true
    )]
    pub instagram_verify_token: Secret,
    /// Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (set with setWebhook).
    #[arg(
        long,
        env = "LOYALTY_TELEGRAM_WEBHOOK_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    pub telegram_webhook_secret: Secret,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "LOYALTY_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,
    /// Requests taking longer are answered 408.
    #[arg(long, env = "LOYALTY_REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,
    /// Run projection workers in this process.
    #[arg(long, env = "LOYALTY_PROJECTIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub projections: bool,
    /// Database connections in the pool.
    #[arg(long, env = "LOYALTY_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: u32,
}
