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
    /// The program the Telegram bot and the Mini App serve (its id).
    #[arg(long, env = "LOYALTY_PROGRAM")]
    pub program: Option<uuid::Uuid>,
    /// Public base URL of this server (Mini App link, Telegram webhook URL).
    #[arg(
        long,
        env = "LOYALTY_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
    /// Telegram bot token (Bot API and Mini App initData signatures).
    #[arg(
        long,
        env = "LOYALTY_TELEGRAM_BOT_TOKEN",
        default_value = "",
        hide_env_values = true
    )]
    pub telegram_bot_token: Secret,
    /// How bot updates arrive: `webhook` or `polling` (getUpdates).
    #[arg(long, env = "LOYALTY_TELEGRAM_MODE", default_value = "webhook", value_parser = ["webhook", "polling", "off"])]
    pub telegram_mode: String,
    /// Bot API base URL (a local fake in tests).
    #[arg(
        long,
        env = "LOYALTY_TELEGRAM_API_URL",
        default_value = "https://api.telegram.org"
    )]
    pub telegram_api_url: String,
    /// VK API access token of the community (groups.isMember).
    #[arg(
        long,
        env = "LOYALTY_VK_API_TOKEN",
        default_value = "",
        hide_env_values = true
    )]
    pub vk_api_token: Secret,
    /// VK API base URL (a local fake in tests).
    #[arg(
        long,
        env = "LOYALTY_VK_API_URL",
        default_value = "https://api.vk.com/method"
    )]
    pub vk_api_url: String,
    /// VK ID application (OAuth account linking): client id; empty disables VK ID linking.
    #[arg(long, env = "LOYALTY_VK_ID_CLIENT_ID", default_value = "")]
    pub vk_id_client_id: String,
    /// VK ID authorize endpoint.
    #[arg(
        long,
        env = "LOYALTY_VK_ID_AUTHORIZE_URL",
        default_value = "https://id.vk.com/authorize"
    )]
    pub vk_id_authorize_url: String,
    /// VK ID token endpoint.
    #[arg(
        long,
        env = "LOYALTY_VK_ID_TOKEN_URL",
        default_value = "https://id.vk.com/oauth2/auth"
    )]
    pub vk_id_token_url: String,
    /// Oldest Mini App initData accepted, in seconds since Telegram signed it.
    #[arg(long, env = "LOYALTY_INIT_DATA_MAX_AGE_SECS", default_value_t = 86_400)]
    pub init_data_max_age_secs: i64,
    /// Lets the Mini App open in a plain browser with a development sign-in. Never in production.
    #[arg(long, env = "LOYALTY_DEV_SIGN_IN", default_value_t = false, action = clap::ArgAction::Set)]
    pub dev_sign_in: bool,
    /// Admin panel sessions expire after this many hours.
    #[arg(long, env = "LOYALTY_SESSION_TTL_HOURS", default_value_t = 12)]
    pub session_ttl_hours: i64,
    /// Mark session cookies Secure (behind HTTPS).
    #[arg(long, env = "LOYALTY_COOKIE_SECURE", default_value_t = false, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,
    /// /readyz fails when a projection lags more events than this.
    #[arg(long, env = "LOYALTY_READY_MAX_LAG_EVENTS", default_value_t = 10_000)]
    pub ready_max_lag_events: i64,
    /// Database connections in the pool.
    #[arg(long, env = "LOYALTY_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: u32,
}
