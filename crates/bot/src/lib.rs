#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
//! The Telegram bot: member commands in private chats, long polling, the webhook start-up
//! check, on-demand subscription checks, point notifications and broadcasts.
//!
//! Invariants, stated as absences:
//! - No webhook answer waits on an outbound call: a private message is stored in `bot_updates`
//!   first and answered by the inbox worker, so Telegram's 200 never depends on Telegram.
//! - No point moves here except through `Ledger` / `Ingest` commands.
//! - No notification blocks ingestion: the notifier follows the log with its own checkpoint.
//! - No notification is sent twice for one ledger entry across restarts (keys are recorded).
//!
//! Walkthrough, "a member sends /balance": webhook or `getUpdates` → `http::webhooks::
//! telegram_update` parses and stores the raw update (`inbox::store`) → the inbox worker
//! claims it, re-parses it, runs `commands::handle` (ledger reads, maybe commands) → one
//! `sendMessage` → the row is marked handled.

pub mod broadcasts;
pub mod channels;
pub mod chats;
pub mod commands;
pub mod history;
pub mod inbox;
pub mod managers;
pub mod members;
pub mod notify;
pub mod polling;
pub mod status;
pub mod subscriptions;
pub mod texts;
pub mod updates;
pub mod vk_names;
pub mod webhook;

use app::AppContext;
use app::config::TelegramMode;
use app::{AppError, ProgramContext};
use clients::{RetryPolicy, TelegramApi, VkApi};
use domain::ids::ProgramId;
use parking_lot::Mutex;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::sync::LazyLock;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The bot's `messages_per_second` are counted over this window: Telegram counts messages as
/// they arrive, and requests reach it a few milliseconds apart from when the limiter let them
/// go, so a window of exactly one second lets one message too many land in one of its seconds.
/// Longer delays (a stalled host) the limiter adds on its own (`clients::RateLimiter`).
pub const SEND_WINDOW: std::time::Duration = std::time::Duration::from_millis(1_020);

/// Path of the Mini App under the public URL.
pub const MINI_APP_PATH: &str = "/app";
/// The Mini App screen where Instagram and VK accounts are linked.
pub const MINI_APP_LINK_PATH: &str = "/app#/link";

/// What every bot worker needs: the application, the Bot API, and the VK API if configured.
#[derive(Clone)]
pub struct Bot {
    pub state: AppContext,
    pub telegram: TelegramApi,
    pub vk: Option<VkApi>,
}

impl Bot {
    /// `None` when no bot token is configured (or it is not a BotFather token).
    pub fn from_state(state: &AppContext) -> Option<Bot> {
        let telegram = telegram_client(state)?;
        Some(Bot {
            state: state.clone(),
            telegram,
            vk: vk_client(state),
        })
    }

    /// Replaces the retry policy of both clients (tests use short delays).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.telegram = self.telegram.with_retry(retry.clone());
        self.vk = self.vk.map(|vk| vk.with_retry(retry));
        self
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        &self.state.pool
    }

    /// The program the bot serves, if configured and created.
    pub async fn program(&self) -> Result<Option<ProgramContext>, AppError> {
        program(&self.state).await
    }

    /// `{public_url}{path}`.
    pub fn public_link(&self, path: &str) -> String {
        let base = self.state.config.http.public_url.trim_end_matches('/');
        format!("{base}{path}")
    }

    /// The numeric bot id: the part of the token before the colon (not secret).
    pub fn bot_id(&self) -> String {
        let token = self.state.config.telegram.bot_token.expose_secret();
        token.split_once(':').map_or("", |(id, _)| id).to_owned()
    }
}

/// The configured program, or `None` when none is configured or it does not exist.
pub async fn program(state: &AppContext) -> Result<Option<ProgramContext>, AppError> {
    let Some(id) = state.config.program else {
        return Ok(None);
    };
    match state.ledger().program(ProgramId(id)).await {
        Ok(program) => Ok(Some(program)),
        Err(AppError::Denied(domain::DomainError::NotFound)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Clients are shared per (base URL, token) so that every request of a process goes through
/// one connection pool and, for VK, one rate limiter (VK counts requests per token).
type ClientCache<T> = LazyLock<Mutex<HashMap<(String, String), T>>>;
static TELEGRAM_CLIENTS: ClientCache<TelegramApi> = LazyLock::new(Default::default);
static VK_CLIENTS: ClientCache<VkApi> = LazyLock::new(Default::default);

/// The Bot API client of this configuration, or `None` without a valid bot token.
pub fn telegram_client(state: &AppContext) -> Option<TelegramApi> {
    let config = &state.config;
    let token = config.telegram.bot_token.expose_secret();
    if token.is_empty() {
        return None;
    }
    let key = (config.telegram.api_url.clone(), token.to_owned());
    let mut clients = TELEGRAM_CLIENTS.lock();
    if let Some(client) = clients.get(&key) {
        return Some(client.clone());
    }
    let client = match TelegramApi::new(token) {
        Ok(client) => client.with_base_url(config.telegram.api_url.clone()),
        Err(e) => {
            tracing::error!(error = %e, "LOYALTY_TELEGRAM_BOT_TOKEN is not a bot token");
            return None;
        }
    };
    clients.insert(key, client.clone());
    Some(client)
}

/// The VK API client of this configuration, or `None` without a VK token.
pub fn vk_client(state: &AppContext) -> Option<VkApi> {
    let config = &state.config;
    let token = config.vk.api_token.expose_secret();
    if token.is_empty() {
        return None;
    }
    let key = (config.vk.api_url.clone(), token.to_owned());
    let mut clients = VK_CLIENTS.lock();
    if let Some(client) = clients.get(&key) {
        return Some(client.clone());
    }
    let client = VkApi::new(token)
        .ok()?
        .with_base_url(config.vk.api_url.clone());
    clients.insert(key, client.clone());
    Some(client)
}

/// Starts the bot's workers for `LOYALTY_TELEGRAM_MODE`: the long-polling loop (`polling`) or
/// the start-up `setWebhook`/`getWebhookInfo` check (`webhook` with a public https URL), plus
/// the inbox worker that answers private messages and managers' buttons, the managers' chat
/// worker (digests and alerts) and the notification worker. Nothing is
/// started when the mode is `off` or no bot token is configured. Every task ends when
/// `shutdown` turns true.
pub fn spawn(state: &AppContext, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mode = state.config.telegram.mode;
    if mode == TelegramMode::Off {
        tracing::info!("Telegram bot is off (LOYALTY_TELEGRAM_MODE=off)");
        return Vec::new();
    }
    let Some(bot) = Bot::from_state(state) else {
        tracing::warn!("no LOYALTY_TELEGRAM_BOT_TOKEN: the Telegram bot and notifications are off");
        return Vec::new();
    };
    if state.config.program.is_none() {
        tracing::warn!("no LOYALTY_PROGRAM: the bot answers members that it is not set up yet");
    }
    let mut tasks = Vec::new();
    if mode == TelegramMode::Polling {
        tasks.push(tokio::spawn(polling::run(bot.clone(), shutdown.clone())));
    } else {
        tasks.push(tokio::spawn(webhook::check_at_startup(bot.clone())));
    }
    tasks.push(tokio::spawn(inbox::run(bot.clone(), shutdown.clone())));
    tasks.push(tokio::spawn(managers::run(bot.clone(), shutdown.clone())));
    let per_second = state.config.telegram.messages_per_second;
    // This process may have just replaced one that was sending (a crash, a restart): the
    // messages that one sent in its last second still count at Telegram's end.
    let limit = std::sync::Arc::new(clients::RateLimiter::just_full(per_second, SEND_WINDOW));
    let config = clients::NotifierConfig {
        global_per_second: per_second,
        shared_limit: Some(limit),
        ..clients::NotifierConfig::default()
    };
    tasks.push(tokio::spawn(notify::run(bot, config, shutdown)));
    tasks
}

/// Resolves when `shutdown` is (or becomes) true, or its sender is gone.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Why a bot step did not finish; the step is tried again later.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("read model: {0}")]
    ReadModel(#[from] projections::ProjectionError),
    #[error("Telegram: {0}")]
    Telegram(#[from] clients::ClientError),
    #[error("could not record the update: {0}")]
    Record(String),
    /// Another process runs this worker (or the notifier was shut down).
    #[error("busy: another worker holds this job")]
    Busy,
}

impl BotError {
    /// The ledger refused: trying the same step again would be refused again.
    pub fn is_final(&self) -> bool {
        matches!(self, BotError::App(AppError::Denied(_)))
    }
}
