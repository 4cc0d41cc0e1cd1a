//! Configuration of `serve` (and `demo`): every option is a flag, an environment variable and a
//! key of an optional TOML config file (documented in the README and `loyalty.example.toml`),
//! typed here once. Precedence: flag > environment variable > config file > built-in default.
//! Secrets never print.

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

/// Secrets (tokens, app secrets, the database URL with its password) are `secrecy`'s
/// `SecretString`: Debug prints `[REDACTED]`, and the value is read with `expose_secret` only
/// where it is used. An empty one is unset.
pub fn is_set(secret: &SecretString) -> bool {
    !secret.expose_secret().is_empty()
}

/// The values each numeric option accepts. Clap checks flags and environment variables against
/// them, [`ServeConfig::validate`] a config file's values; anything outside stops `serve` with a
/// message naming the option and its range.
pub mod limits {
    use std::ops::RangeInclusive;

    pub const MAX_BODY_BYTES: RangeInclusive<u64> = 1_024..=1_073_741_824;
    /// Up to a day.
    pub const REQUEST_TIMEOUT_MS: RangeInclusive<u64> = 1..=86_400_000;
    /// Up to a year.
    pub const INIT_DATA_MAX_AGE_SECS: RangeInclusive<i64> = 1..=31_536_000;
    /// Up to 30 days.
    pub const SESSION_TTL_HOURS: RangeInclusive<i64> = 1..=720;
    /// Up to the largest adjustment there is.
    pub const LARGE_ADJUSTMENT_POINTS: RangeInclusive<i64> = 1..=1_000_000_000;
    pub const READY_MAX_LAG_EVENTS: RangeInclusive<i64> = 0..=i64::MAX;
    pub const DB_CONNECTIONS: RangeInclusive<i64> = 1..=1_000;
    /// A day (no notification is announced for an entry older than that, so none is sent
    /// twice) up to ten years.
    pub const RETENTION_DAYS: RangeInclusive<i64> = 1..=3_650;
    /// Up to a year.
    pub const RAW_UPDATE_RETENTION_HOURS: RangeInclusive<i64> = 1..=8_760;
}

/// How bot updates arrive.
/// How Telegram bot updates arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// Telegram posts updates to `/webhooks/telegram`.
    Webhook,
    /// The server long-polls `getUpdates`.
    Polling,
    /// No bot workers run.
    Off,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (span fields included), for log collectors.
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// TOML file of options (keys are the long flag names with `_`, e.g. `listen`,
    /// `telegram_bot_token`). Flags and environment variables override it.
    #[arg(long = "config", env = "LOYALTY_CONFIG", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// Check the configuration, print it (secrets hidden) and exit.
    #[arg(long)]
    pub check_config: bool,
    /// Development: without a database URL, `serve` uses the local server or a private cluster
    /// as `demo` does, instead of refusing to start.
    #[arg(long, env = "LOYALTY_DEV", default_value_t = false, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    pub dev: bool,
    /// Log filter (tracing `EnvFilter` syntax, e.g. `info,api=debug`); unset: `info`.
    #[arg(long, env = "RUST_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Log line format: `text` or `json` (one object per line, with the request span's fields).
    #[arg(long, env = "LOYALTY_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Run projection workers in this process.
    #[arg(long, env = "LOYALTY_PROJECTIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub projections: bool,
    /// The program the Telegram bot and the Mini App serve (its id).
    #[arg(long, env = "LOYALTY_PROGRAM")]
    pub program: Option<uuid::Uuid>,
    /// The event store.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// The HTTP listener and its limits.
    #[command(flatten)]
    pub http: HttpConfig,
    /// Instagram (Meta) webhooks.
    #[command(flatten)]
    pub instagram: InstagramConfig,
    /// The Telegram bot and its webhook.
    #[command(flatten)]
    pub telegram: TelegramConfig,
    /// The VK API and VK ID sign-in.
    #[command(flatten)]
    pub vk: VkConfig,
    /// The Mini App's sign-in.
    #[command(flatten)]
    pub mini_app: MiniAppConfig,
    /// The admin panel's sessions.
    #[command(flatten)]
    pub admin: AdminConfig,
    /// The key of the keyed digests that keep platform ids and texts out of the log.
    #[command(flatten)]
    pub privacy: PrivacyConfig,
    /// How long operational records are kept (`app::retention`).
    #[command(flatten)]
    pub retention: RetentionConfig,
}

/// The event store.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. `serve` refuses to start without one unless `--dev`; `demo` and `--dev`
    /// fall back to the local server or a private cluster (see the README).
    #[arg(
        id = "database_url",
        long = "database-url",
        env = "DATABASE_URL",
        hide_env_values = true
    )]
    pub url: Option<SecretString>,
    /// Database connections in the pool (default: twice this machine's cores, plus two).
    #[arg(id = "db_connections", long = "db-connections", env = "LOYALTY_DB_CONNECTIONS", default_value_t = default_db_connections(),
          value_parser = clap::value_parser!(u32).range(limits::DB_CONNECTIONS))]
    pub connections: u32,
}

/// The HTTP listener and its limits.
#[derive(Debug, Clone, Args)]
pub struct HttpConfig {
    /// Address to listen on.
    #[arg(
        id = "listen",
        long = "listen",
        env = "LOYALTY_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,
    /// Public base URL of this server (Mini App link, Telegram webhook URL).
    #[arg(
        id = "public_url",
        long = "public-url",
        env = "LOYALTY_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
    /// Largest request body accepted, in bytes.
    #[arg(id = "max_body_bytes", long = "max-body-bytes", env = "LOYALTY_MAX_BODY_BYTES", default_value_t = 256 * 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(limits::MAX_BODY_BYTES))]
    pub max_body_bytes: usize,
    /// Largest file a manager uploads (a bulk adjustments CSV, a coupon pool's codes).
    #[arg(id = "max_upload_bytes", long = "max-upload-bytes", env = "LOYALTY_MAX_UPLOAD_BYTES", default_value_t = 32 * 1024 * 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(limits::MAX_BODY_BYTES))]
    pub max_upload_bytes: usize,
    /// Uploads taking longer are answered 408 (a 250,000-row file is checked before it starts).
    #[arg(id = "upload_timeout_ms", long = "upload-timeout-ms", env = "LOYALTY_UPLOAD_TIMEOUT_MS", default_value_t = 120_000,
          value_parser = clap::value_parser!(u64).range(limits::REQUEST_TIMEOUT_MS))]
    pub upload_timeout_ms: u64,
    /// Requests taking longer are answered 408.
    #[arg(id = "request_timeout_ms", long = "request-timeout-ms", env = "LOYALTY_REQUEST_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(limits::REQUEST_TIMEOUT_MS))]
    pub request_timeout_ms: u64,
    /// /readyz names projections lagging more events than this (it stays ready: lag is shared).
    #[arg(id = "ready_max_lag_events", long = "ready-max-lag-events", env = "LOYALTY_READY_MAX_LAG_EVENTS", default_value_t = 10_000,
          value_parser = clap::value_parser!(i64).range(limits::READY_MAX_LAG_EVENTS))]
    pub ready_max_lag_events: i64,
    /// Reverse proxies (CIDRs, comma-separated) whose `X-Forwarded-For` names the client: login
    /// throttling and request logs then use the address the proxy saw. Others' headers are
    /// ignored.
    #[arg(
        id = "trusted_proxies",
        long = "trusted-proxies",
        env = "LOYALTY_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Serve `/metrics` on this address only, instead of on `listen` beside the public routes.
    #[arg(
        id = "metrics_listen",
        long = "metrics-listen",
        env = "LOYALTY_METRICS_LISTEN"
    )]
    pub metrics_listen: Option<SocketAddr>,
}

impl HttpConfig {
    /// Whether the public URL is https: cookies are then Secure whatever `cookie_secure` says.
    pub fn public_url_is_https(&self) -> bool {
        self.public_url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }
}

/// Instagram (Meta) webhooks.
#[derive(Debug, Clone, Args)]
pub struct InstagramConfig {
    /// Meta app secret that signs Instagram webhooks (X-Hub-Signature-256).
    #[arg(
        id = "instagram_app_secret",
        long = "instagram-app-secret",
        env = "LOYALTY_INSTAGRAM_APP_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    pub app_secret: SecretString,
    /// Token Meta echoes in the webhook verification handshake.
    #[arg(
        id = "instagram_verify_token",
        long = "instagram-verify-token",
        env = "LOYALTY_INSTAGRAM_VERIFY_TOKEN",
        default_value = "",
        hide_env_values = true
    )]
    pub verify_token: SecretString,
    /// Graph API base URL, for looking up comments that mention a brand (a local fake in
    /// tests).
    #[arg(
        id = "instagram_graph_url",
        long = "instagram-graph-url",
        env = "LOYALTY_INSTAGRAM_GRAPH_URL",
        default_value = "https://graph.facebook.com/v21.0"
    )]
    pub graph_url: String,
}

/// The Telegram bot and its webhook.
#[derive(Debug, Clone, Args)]
pub struct TelegramConfig {
    /// Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (set with setWebhook).
    #[arg(
        id = "telegram_webhook_secret",
        long = "telegram-webhook-secret",
        env = "LOYALTY_TELEGRAM_WEBHOOK_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    pub webhook_secret: SecretString,
    /// Telegram bot token (Bot API and Mini App initData signatures).
    #[arg(
        id = "telegram_bot_token",
        long = "telegram-bot-token",
        env = "LOYALTY_TELEGRAM_BOT_TOKEN",
        default_value = "",
        hide_env_values = true
    )]
    pub bot_token: SecretString,
    /// How bot updates arrive: `webhook`, `polling` (getUpdates) or `off`.
    #[arg(
        id = "telegram_mode",
        long = "telegram-mode",
        env = "LOYALTY_TELEGRAM_MODE",
        value_enum,
        default_value = "webhook"
    )]
    pub mode: TelegramMode,
    /// Bot API base URL (a local fake in tests).
    #[arg(
        id = "telegram_api_url",
        long = "telegram-api-url",
        env = "LOYALTY_TELEGRAM_API_URL",
        default_value = "https://api.telegram.org"
    )]
    pub api_url: String,
    /// Messages a second the bot sends at most, notifications and broadcasts together
    /// (Telegram's limit for a bot is about 30).
    #[arg(
        id = "telegram_messages_per_second",
        long = "telegram-messages-per-second",
        env = "LOYALTY_TELEGRAM_MESSAGES_PER_SECOND",
        default_value_t = 30,
        value_parser = clap::value_parser!(u32).range(1..=1000)
    )]
    pub messages_per_second: u32,
}

/// The VK API and VK ID sign-in.
#[derive(Debug, Clone, Args)]
pub struct VkConfig {
    /// VK API access token of the community (groups.isMember).
    #[arg(
        id = "vk_api_token",
        long = "vk-api-token",
        env = "LOYALTY_VK_API_TOKEN",
        default_value = "",
        hide_env_values = true
    )]
    pub api_token: SecretString,
    /// VK API base URL (a local fake in tests).
    #[arg(
        id = "vk_api_url",
        long = "vk-api-url",
        env = "LOYALTY_VK_API_URL",
        default_value = "https://api.vk.com/method"
    )]
    pub api_url: String,
    /// VK ID application (OAuth account linking): client id; empty disables VK ID linking.
    #[arg(
        id = "vk_id_client_id",
        long = "vk-id-client-id",
        env = "LOYALTY_VK_ID_CLIENT_ID",
        default_value = ""
    )]
    pub id_client_id: String,
    /// VK ID authorize endpoint.
    #[arg(
        id = "vk_id_authorize_url",
        long = "vk-id-authorize-url",
        env = "LOYALTY_VK_ID_AUTHORIZE_URL",
        default_value = "https://id.vk.com/authorize"
    )]
    pub id_authorize_url: String,
    /// VK ID token endpoint.
    #[arg(
        id = "vk_id_token_url",
        long = "vk-id-token-url",
        env = "LOYALTY_VK_ID_TOKEN_URL",
        default_value = "https://id.vk.com/oauth2/auth"
    )]
    pub id_token_url: String,
}

/// The Mini App's sign-in.
#[derive(Debug, Clone, Args)]
pub struct MiniAppConfig {
    /// Oldest Mini App initData accepted, in seconds since Telegram signed it.
    #[arg(id = "init_data_max_age_secs", long = "init-data-max-age-secs", env = "LOYALTY_INIT_DATA_MAX_AGE_SECS", default_value_t = 86_400,
          value_parser = clap::value_parser!(i64).range(limits::INIT_DATA_MAX_AGE_SECS))]
    pub init_data_max_age_secs: i64,
    /// Lets the Mini App open in a plain browser with a development sign-in. Never in production.
    #[arg(id = "dev_sign_in", long = "dev-sign-in", env = "LOYALTY_DEV_SIGN_IN", default_value_t = false, action = clap::ArgAction::Set)]
    pub dev_sign_in: bool,
}

/// The admin panel's sessions.
#[derive(Debug, Clone, Args)]
pub struct AdminConfig {
    /// Admin panel sessions expire after this many hours.
    #[arg(id = "session_ttl_hours", long = "session-ttl-hours", env = "LOYALTY_SESSION_TTL_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(i64).range(limits::SESSION_TTL_HOURS))]
    pub session_ttl_hours: i64,
    /// Mark session cookies Secure; they are whenever the public URL is https.
    #[arg(id = "cookie_secure", long = "cookie-secure", env = "LOYALTY_COOKIE_SECURE", default_value_t = false, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,
    /// An adjustment moving more points than this, either way, is refused unless confirmed a
    /// second time (`confirm_large`): a slip of the finger (50000 for 500) is caught.
    #[arg(id = "large_adjustment_points", long = "large-adjustment-points", env = "LOYALTY_LARGE_ADJUSTMENT_POINTS", default_value_t = 1_000,
          value_parser = clap::value_parser!(i64).range(limits::LARGE_ADJUSTMENT_POINTS))]
    pub large_adjustment_points: i64,
}

/// The installation's privacy key (see `domain::privacy`).
#[derive(Debug, Clone, Args)]
pub struct PrivacyConfig {
    /// 32 bytes as 64 hex digits (`openssl rand -hex 32`), kept outside the database: activity
    /// ids, delivery ids and texts enter the log only as digests under it. Back it up with the
    /// database credentials: with another key, redeliveries of earlier activity pay again and
    /// earlier texts stop counting as repeats. `serve` refuses to start without it unless `--dev`.
    #[arg(
        id = "privacy_key",
        long = "privacy-key",
        env = "LOYALTY_PRIVACY_KEY",
        default_value = "",
        hide_env_values = true
    )]
    pub key: SecretString,
    /// Keys that encrypt the secrets the database holds (VK secret keys), 64 hex digits each,
    /// comma-separated: the first seals, the others still open what they sealed (a rotation).
    /// Unset: a key derived from the privacy key. The derived key always opens.
    #[arg(
        id = "secrets_keys",
        long = "secrets-keys",
        env = "LOYALTY_SECRETS_KEYS",
        default_value = "",
        hide_env_values = true
    )]
    pub secrets_keys: SecretString,
}

/// The secret `demo`, `serve --dev`, benches and tests use when none is configured. Public:
/// never for a brand's data.
pub const DEV_PRIVACY_SECRET: [u8; 32] = *b"loyalty-dev-privacy-key-not-secr";

/// The keys of [`DEV_PRIVACY_SECRET`].
pub fn dev_privacy_keys() -> domain::privacy::PrivacyKeys {
    domain::privacy::PrivacyKeys::derive(&DEV_PRIVACY_SECRET)
}

/// The secrets key derived from [`DEV_PRIVACY_SECRET`], as `demo` and tests seal with.
pub fn dev_secret_box() -> crate::secrets::SecretBox {
    crate::secrets::SecretBox::new(
        &crate::secrets::SecretBox::derived_key(&DEV_PRIVACY_SECRET),
        &[],
    )
}

impl PrivacyConfig {
    /// The digest keys; without a configured key, the public development key when `dev`.
    pub fn keys(&self, dev: bool) -> Result<domain::privacy::PrivacyKeys, String> {
        Ok(domain::privacy::PrivacyKeys::derive(&self.secret(dev)?))
    }

    /// The keys of the secrets the database holds: `secrets_keys`, and the one derived from the
    /// privacy key (sealing when `secrets_keys` is unset).
    pub fn secret_box(&self, dev: bool) -> Result<crate::secrets::SecretBox, String> {
        let derived = crate::secrets::SecretBox::derived_key(&self.secret(dev)?);
        if !is_set(&self.secrets_keys) {
            return Ok(crate::secrets::SecretBox::new(&derived, &[]));
        }
        let mut keys = Vec::new();
        for hex_key in self.secrets_keys.expose_secret().split(',') {
            let mut key = [0u8; 32];
            hex::decode_to_slice(hex_key.trim(), &mut key).map_err(|_| {
                "secrets_keys must be keys of 64 hex digits (32 bytes), separated by commas"
                    .to_string()
            })?;
            keys.push(key);
        }
        keys.push(derived);
        Ok(crate::secrets::SecretBox::new(&keys[0], &keys[1..]))
    }

    /// The installation's secret; without a configured key, the public development key when
    /// `dev`.
    fn secret(&self, dev: bool) -> Result<[u8; 32], String> {
        let hex_key = if is_set(&self.key) {
            self.key.expose_secret()
        } else if dev {
            return Ok(DEV_PRIVACY_SECRET);
        } else {
            return Err(
                "no privacy key configured: set LOYALTY_PRIVACY_KEY (or --privacy-key, \
                 or privacy_key in the config file) to 64 hex digits, e.g. the output of \
                 `openssl rand -hex 32`, and back it up with the database credentials"
                    .into(),
            );
        };
        let mut secret = [0u8; 32];
        hex::decode_to_slice(hex_key.trim(), &mut secret)
            .map_err(|_| "privacy_key must be 64 hex digits (32 bytes)".to_string())?;
        Ok(secret)
    }
}

/// How long records kept only for operations live before the retention job deletes them.
#[derive(Debug, Clone, Args)]
pub struct RetentionConfig {
    /// Operational records (deliveries that changed nothing, unrouted destinations, settled
    /// notifications, sign-in failures, used link codes, subscription checks) are deleted
    /// after this many days.
    #[arg(id = "retention_days", long = "retention-days", env = "LOYALTY_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(i64).range(limits::RETENTION_DAYS))]
    pub days: i64,
    /// Handled bot messages (raw Telegram updates) are deleted after this many hours.
    #[arg(id = "raw_update_retention_hours", long = "raw-update-retention-hours", env = "LOYALTY_RAW_UPDATE_RETENTION_HOURS", default_value_t = 48,
          value_parser = clap::value_parser!(i64).range(limits::RAW_UPDATE_RETENTION_HOURS))]
    pub raw_update_hours: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            days: 30,
            raw_update_hours: 48,
        }
    }
}

impl RetentionConfig {
    /// Both values within their ranges (clap checks flags and variables; this, a file's values
    /// and values set in code).
    pub fn validate(&self) -> Result<(), String> {
        within("retention_days", self.days, limits::RETENTION_DAYS)?;
        within(
            "raw_update_retention_hours",
            self.raw_update_hours,
            limits::RAW_UPDATE_RETENTION_HOURS,
        )
    }

    /// Takes the retention keys of the config file at `path` where `given` says no flag or
    /// environment variable set them (`loyalty retention run`, which needs nothing else of
    /// `serve`'s file), and checks the result.
    pub fn with_config_file(
        mut self,
        path: &Path,
        given: &dyn Fn(&str) -> bool,
    ) -> Result<Self, ConfigError> {
        let file = FileConfig::load(path)?;
        if let Some(days) = file.retention_days
            && !given("retention_days")
        {
            self.days = days;
        }
        if let Some(hours) = file.raw_update_retention_hours
            && !given("raw_update_retention_hours")
        {
            self.raw_update_hours = hours;
        }
        self.validate().map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(self)
    }
}

/// PostgreSQL's own sizing rule, about two connections a core: more busy backends than that
/// only take turns on the cores. On 2 cores, 6 connections against 16 gave W2 +8% deliveries/s
/// and took its fixed-rate phase's p99 from 6.7–39 ms to 3.5–6.0 ms (fewer cold backends).
fn default_db_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores * 2 + 2).unwrap_or(u32::MAX)
}

/// Why a config file could not be used. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// Declares the options a config file may set: each is the `ServeConfig` field of the same name,
/// taken from the file only when neither its flag nor its environment variable gave it.
macro_rules! file_options {
    ($($field:ident: $ty:ty => $($path:ident).+),* $(,)?) => {
        /// A config file: TOML, one key per option, named as the option's long flag with `_`.
        /// Unknown keys are an error.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct FileConfig {
            $(pub $field: Option<$ty>,)*
        }

        /// Every key a config file may hold.
        pub const FILE_KEYS: &[&str] = &[$(stringify!($field)),*];

        impl ServeConfig {
            /// Takes the file's value of every option that `given` says no flag or environment
            /// variable set.
            fn layer(&mut self, file: FileConfig, given: &dyn Fn(&str) -> bool) {
                $(
                    if let Some(value) = file.$field
                        && !given(stringify!($field))
                    {
                        self.$($path).+ = value.into();
                    }
                )*
            }
        }
    };
}

file_options! {
    database_url: SecretString => database.url,
    dev: bool => dev,
    log: String => log,
    log_format: LogFormat => log_format,
    listen: SocketAddr => http.listen,
    public_url: String => http.public_url,
    program: uuid::Uuid => program,
    db_connections: u32 => database.connections,
    projections: bool => projections,
    max_body_bytes: usize => http.max_body_bytes,
    request_timeout_ms: u64 => http.request_timeout_ms,
    max_upload_bytes: usize => http.max_upload_bytes,
    upload_timeout_ms: u64 => http.upload_timeout_ms,
    ready_max_lag_events: i64 => http.ready_max_lag_events,
    trusted_proxies: Vec<ipnet::IpNet> => http.trusted_proxies,
    metrics_listen: SocketAddr => http.metrics_listen,
    instagram_app_secret: SecretString => instagram.app_secret,
    instagram_verify_token: SecretString => instagram.verify_token,
    instagram_graph_url: String => instagram.graph_url,
    telegram_webhook_secret: SecretString => telegram.webhook_secret,
    telegram_bot_token: SecretString => telegram.bot_token,
    telegram_mode: TelegramMode => telegram.mode,
    telegram_api_url: String => telegram.api_url,
    telegram_messages_per_second: u32 => telegram.messages_per_second,
    vk_api_token: SecretString => vk.api_token,
    vk_api_url: String => vk.api_url,
    vk_id_client_id: String => vk.id_client_id,
    vk_id_authorize_url: String => vk.id_authorize_url,
    vk_id_token_url: String => vk.id_token_url,
    init_data_max_age_secs: i64 => mini_app.init_data_max_age_secs,
    dev_sign_in: bool => mini_app.dev_sign_in,
    session_ttl_hours: i64 => admin.session_ttl_hours,
    large_adjustment_points: i64 => admin.large_adjustment_points,
    cookie_secure: bool => admin.cookie_secure,
    privacy_key: SecretString => privacy.key,
    secrets_keys: SecretString => privacy.secrets_keys,
    retention_days: i64 => retention.days,
    raw_update_retention_hours: i64 => retention.raw_update_hours,
}

impl FileConfig {
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// Reads a config file; a file named but missing is an error.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }
}

impl ServeConfig {
    /// Whether session cookies carry `Secure`: when asked, and always behind an https public URL
    /// (a browser then never sends them over plain HTTP).
    pub fn secure_cookies(&self) -> bool {
        self.admin.cookie_secure || self.http.public_url_is_https()
    }

    /// Every option at its built-in default, read from no flag, environment variable or file,
    /// with no secret set: tests start here and set what they need by field assignment.
    pub fn for_tests() -> Self {
        Self {
            config_file: None,
            check_config: false,
            dev: false,
            log: None,
            log_format: LogFormat::Text,
            projections: true,
            program: None,
            database: DatabaseConfig {
                url: None,
                connections: default_db_connections(),
            },
            http: HttpConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                public_url: "http://127.0.0.1:8080".into(),
                max_body_bytes: 256 * 1024,
                request_timeout_ms: 10_000,
                max_upload_bytes: 32 * 1024 * 1024,
                upload_timeout_ms: 120_000,
                ready_max_lag_events: 10_000,
                trusted_proxies: Vec::new(),
                metrics_listen: None,
            },
            instagram: InstagramConfig {
                app_secret: SecretString::default(),
                verify_token: SecretString::default(),
                graph_url: clients::instagram::DEFAULT_BASE_URL.into(),
            },
            telegram: TelegramConfig {
                webhook_secret: SecretString::default(),
                bot_token: SecretString::default(),
                mode: TelegramMode::Webhook,
                api_url: "https://api.telegram.org".into(),
                messages_per_second: 30,
            },
            vk: VkConfig {
                api_token: SecretString::default(),
                api_url: "https://api.vk.com/method".into(),
                id_client_id: String::new(),
                id_authorize_url: "https://id.vk.com/authorize".into(),
                id_token_url: "https://id.vk.com/oauth2/auth".into(),
            },
            mini_app: MiniAppConfig {
                init_data_max_age_secs: 86_400,
                dev_sign_in: false,
            },
            admin: AdminConfig {
                session_ttl_hours: 12,
                cookie_secure: false,
                large_adjustment_points: 1_000,
            },
            privacy: PrivacyConfig {
                key: SecretString::from(hex::encode(DEV_PRIVACY_SECRET)),
                secrets_keys: SecretString::default(),
            },
            retention: RetentionConfig::default(),
        }
    }

    /// Layers the config file named by `--config` / `LOYALTY_CONFIG` (if any) under the flags
    /// and environment variables `matches` were parsed from: an option takes the file's value
    /// only when it would otherwise take its built-in default.
    pub fn with_config_file(mut self, matches: &ArgMatches) -> Result<Self, ConfigError> {
        let Some(path) = self.config_file.clone() else {
            return Ok(self);
        };
        let file = FileConfig::load(&path)?;
        self.layer(file, &|id| {
            matches!(
                matches.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        });
        self.validate()
            .map_err(|message| ConfigError::Invalid { path, message })?;
        Ok(self)
    }

    /// What flags and environment variables have checked already (clap's value parsers) but a
    /// file's values have not.
    fn validate(&self) -> Result<(), String> {
        let body = u64::try_from(self.http.max_body_bytes).unwrap_or(u64::MAX);
        within("max_body_bytes", body, limits::MAX_BODY_BYTES)?;
        within(
            "request_timeout_ms",
            self.http.request_timeout_ms,
            limits::REQUEST_TIMEOUT_MS,
        )?;
        let upload = u64::try_from(self.http.max_upload_bytes).unwrap_or(u64::MAX);
        within("max_upload_bytes", upload, limits::MAX_BODY_BYTES)?;
        within(
            "upload_timeout_ms",
            self.http.upload_timeout_ms,
            limits::REQUEST_TIMEOUT_MS,
        )?;
        within(
            "init_data_max_age_secs",
            self.mini_app.init_data_max_age_secs,
            limits::INIT_DATA_MAX_AGE_SECS,
        )?;
        within(
            "session_ttl_hours",
            self.admin.session_ttl_hours,
            limits::SESSION_TTL_HOURS,
        )?;
        within(
            "large_adjustment_points",
            self.admin.large_adjustment_points,
            limits::LARGE_ADJUSTMENT_POINTS,
        )?;
        within(
            "ready_max_lag_events",
            self.http.ready_max_lag_events,
            limits::READY_MAX_LAG_EVENTS,
        )?;
        within(
            "db_connections",
            i64::from(self.database.connections),
            limits::DB_CONNECTIONS,
        )?;
        self.retention.validate()
    }

    /// The oldest Mini App initData accepted. The option's range keeps it representable; were it
    /// not, every age would be accepted rather than the request failing.
    pub fn init_data_max_age(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::try_seconds(self.mini_app.init_data_max_age_secs)
            .unwrap_or(chrono::TimeDelta::MAX)
    }
}

fn within<T: PartialOrd + fmt::Display>(
    key: &str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<(), String> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{key} = {value}: allowed range is {}..={}",
            range.start(),
            range.end()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches, Parser};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: ServeConfig,
    }

    /// A config file of its own for each test, removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(text: &str) -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let name = format!(
                "loyalty-config-test-{}-{}.toml",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            );
            let path = std::env::temp_dir().join(name);
            std::fs::write(&path, text).expect("temp file written");
            Self(path)
        }

        fn arg(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// Parses `args` as `loyalty serve` would and layers the config file under them.
    fn resolve(args: &[&str]) -> Result<ServeConfig, ConfigError> {
        let argv = std::iter::once("loyalty").chain(args.iter().copied());
        let matches = Cli::command()
            .try_get_matches_from(argv)
            .expect("valid arguments");
        let cli = Cli::from_arg_matches(&matches).expect("valid arguments");
        cli.config.with_config_file(&matches)
    }

    #[test]
    fn the_file_fills_what_flags_leave_at_their_defaults() {
        let file = TempFile::new(
            r#"
listen = "0.0.0.0:9000"
public_url = "https://loyalty.example.com"
max_body_bytes = 1024
projections = false
telegram_mode = "polling"
program = "6f1c1e0a-2d4b-4c1e-9a57-3f0b8f2a9d11"
"#,
        );
        let config = resolve(&["--config", &file.arg(), "--listen", "127.0.0.1:7000"]).unwrap();
        assert_eq!(
            config.http.listen,
            "127.0.0.1:7000".parse().unwrap(),
            "the flag wins"
        );
        assert_eq!(config.http.public_url, "https://loyalty.example.com");
        assert_eq!(config.http.max_body_bytes, 1024);
        assert!(!config.projections);
        assert_eq!(config.telegram.mode, TelegramMode::Polling);
        assert_eq!(
            config.program,
            Some("6f1c1e0a-2d4b-4c1e-9a57-3f0b8f2a9d11".parse().unwrap())
        );
        assert_eq!(
            config.http.request_timeout_ms, 10_000,
            "absent from the file: the default"
        );
    }

    #[test]
    fn a_flag_set_to_its_default_value_still_beats_the_file() {
        let file = TempFile::new("telegram_mode = \"off\"\ndev_sign_in = true\n");
        let args = [
            "--config",
            &file.arg(),
            "--telegram-mode",
            "webhook",
            "--dev-sign-in",
            "false",
        ];
        let config = resolve(&args).unwrap();
        assert_eq!(config.telegram.mode, TelegramMode::Webhook);
        assert!(!config.mini_app.dev_sign_in);
    }

    #[test]
    fn environment_variables_beat_the_file_and_the_file_beats_defaults() {
        let file = FileConfig::parse(
            "listen = \"0.0.0.0:9000\"\nmax_body_bytes = 1024\n",
            Path::new("x.toml"),
        )
        .unwrap();
        let mut config = Cli::parse_from(["loyalty", "--listen", "127.0.0.1:7000"]).config;
        // As if LOYALTY_LISTEN had been set: it was given, so the file does not apply.
        config.layer(file, &|id| id == "listen");
        assert_eq!(config.http.listen, "127.0.0.1:7000".parse().unwrap());
        assert_eq!(config.http.max_body_bytes, 1024);
    }

    #[test]
    fn secrets_load_from_the_file_and_never_print() {
        let file = TempFile::new(
            "telegram_bot_token = \"123456:AAH-secret-token\"\n\
             database_url = \"postgres://loyalty:hunter2@db/loyalty\"\n",
        );
        let config = resolve(&["--config", &file.arg()]).unwrap();
        assert_eq!(
            config.telegram.bot_token.expose_secret(),
            "123456:AAH-secret-token"
        );
        assert_eq!(
            config.database.url.as_ref().map(|s| s.expose_secret()),
            Some("postgres://loyalty:hunter2@db/loyalty")
        );
        let printed = format!("{config:?}");
        assert!(!printed.contains("AAH-secret-token"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let file = TempFile::new("listen = \"127.0.0.1:1\"\ntelegram_bot_tokn = \"x\"\n");
        let error = resolve(&["--config", &file.arg()]).unwrap_err().to_string();
        assert!(error.contains(&file.arg()), "{error}");
        assert!(
            error.contains("unknown field `telegram_bot_tokn`"),
            "{error}"
        );
        assert!(
            error.contains("telegram_bot_token"),
            "the known keys are listed: {error}"
        );
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let path = std::env::temp_dir().join("loyalty-config-test-does-not-exist.toml");
        let error = resolve(&["--config", &path.display().to_string()])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("cannot read config file"), "{error}");
        assert!(error.contains("does-not-exist"), "{error}");
    }

    #[test]
    fn values_are_checked_like_flags() {
        for (text, expected) in [
            ("max_body_bytes = \"big\"", "max_body_bytes"),
            ("listen = \"nowhere\"", "listen"),
            ("telegram_mode = \"carrier-pigeon\"", "telegram_mode"),
            ("listen = ", "listen"),
        ] {
            let file = TempFile::new(text);
            let error = resolve(&["--config", &file.arg()]).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn retention_comes_from_flags_or_the_file_and_must_be_positive() {
        let file = TempFile::new("retention_days = 7\nraw_update_retention_hours = 6\n");
        let config = resolve(&["--config", &file.arg()]).unwrap();
        assert_eq!(
            (config.retention.days, config.retention.raw_update_hours),
            (7, 6)
        );
        let config = resolve(&["--config", &file.arg(), "--retention-days", "90"]).unwrap();
        assert_eq!(config.retention.days, 90, "the flag wins");

        for (text, key) in [
            (
                "retention_days = 0",
                "retention_days = 0: allowed range is 1..=3650",
            ),
            (
                "raw_update_retention_hours = -1",
                "raw_update_retention_hours = -1",
            ),
        ] {
            let file = TempFile::new(text);
            let error = resolve(&["--config", &file.arg()]).unwrap_err().to_string();
            assert!(error.contains(key), "{text}: {error}");
        }
        for flag in ["--retention-days", "--raw-update-retention-hours"] {
            let refused = Cli::command().try_get_matches_from(["loyalty", flag, "0"]);
            assert!(refused.is_err(), "{flag} 0");
        }
    }

    #[test]
    fn every_option_but_the_file_itself_has_a_key() {
        let mut ids: Vec<String> = Cli::command()
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .filter(|id| !["config_file", "check_config", "help"].contains(&id.as_str()))
            .collect();
        ids.sort();
        let mut keys: Vec<String> = FILE_KEYS.iter().map(|k| k.to_string()).collect();
        keys.sort();
        assert_eq!(ids, keys);
    }

    /// `for_tests` is exactly the flags' defaults: parsed from no arguments and no environment.
    #[test]
    fn for_tests_is_every_default() {
        let matches = Cli::command()
            .mut_args(|arg| arg.env(None::<&str>))
            .try_get_matches_from(["loyalty"])
            .expect("no arguments are valid");
        let defaults = Cli::from_arg_matches(&matches).expect("defaults").config;
        assert_eq!(
            format!("{:?}", ServeConfig::for_tests()),
            format!("{defaults:?}")
        );
    }

    /// `loyalty.example.toml` documents every key, and uncommented it is a valid config file.
    #[test]
    fn the_example_file_lists_every_option() {
        let example = include_str!("../../../loyalty.example.toml");
        for key in FILE_KEYS {
            assert!(
                example
                    .lines()
                    .any(|l| l.starts_with(&format!("# {key} = "))),
                "{key} missing from loyalty.example.toml"
            );
        }
        let uncommented: String = example
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| FILE_KEYS.iter().any(|k| l.starts_with(&format!("{k} = "))))
            .map(|l| format!("{l}\n"))
            .collect();
        let file = FileConfig::parse(&uncommented, Path::new("loyalty.example.toml")).unwrap();
        assert_eq!(file.listen, Some("127.0.0.1:8080".parse().unwrap()));
    }

    #[test]
    fn the_privacy_key_is_required_outside_dev_and_must_be_32_bytes() {
        let keys = |key: &str, dev: bool| {
            let privacy = PrivacyConfig {
                key: key.into(),
                secrets_keys: SecretString::default(),
            };
            privacy.keys(dev)
        };
        let unset = keys("", false).unwrap_err();
        assert!(unset.contains("LOYALTY_PRIVACY_KEY"), "{unset}");
        for bad in ["abc", "zz", &"0".repeat(62), &"0".repeat(66)] {
            let refused = keys(bad, true).unwrap_err();
            assert!(refused.contains("64 hex digits"), "{bad}: {refused}");
        }
        let program = domain::ids::ProgramId(uuid::Uuid::nil());
        let text = |k: domain::privacy::PrivacyKeys| k.text(program, "hello");
        assert_eq!(text(keys("", true).unwrap()), text(dev_privacy_keys()));
        let own = keys(&"ab".repeat(32), false).unwrap();
        assert_ne!(text(own), text(dev_privacy_keys()));
    }

    #[test]
    fn secrets_keys_seal_with_the_first_and_open_with_all_and_the_derived_key() {
        let privacy = |secrets_keys: &str| PrivacyConfig {
            key: "ab".repeat(32).into(),
            secrets_keys: secrets_keys.into(),
        };
        let derived = privacy("").secret_box(false).unwrap();
        let sealed = derived.seal("s", "r");
        let (a, b) = ("a1".repeat(32), "b2".repeat(32));
        let rotated = privacy(&format!("{b}, {a}")).secret_box(false).unwrap();
        assert_ne!(rotated.current_key_id(), derived.current_key_id());
        assert_eq!(
            rotated.open(&sealed, "r").unwrap(),
            "s",
            "the derived key always opens"
        );
        let only_a = privacy(&a).secret_box(false).unwrap();
        assert!(only_a.open(&rotated.seal("s", "r"), "r").is_err());
        let refused = privacy("abc").secret_box(false).unwrap_err();
        assert!(refused.contains("64 hex digits"), "{refused}");
    }
}
