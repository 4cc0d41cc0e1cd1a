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
pub mod locks;
pub mod managers;
pub mod members;
pub mod notify;
pub mod polling;
pub mod program_bot;
pub mod status;
pub mod subscriptions;
pub mod texts;
pub mod updates;
pub mod vk_names;
pub mod webhook;

use app::AppContext;
use app::config::TelegramMode;
use app::program_bots::{ProgramBot, Served};
use app::{AppError, ProgramContext};
use clients::{RetryPolicy, TelegramApi, VkApi};
use domain::ids::ProgramId;
use locks::LockSession;
use parking_lot::Mutex;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::Arc;
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
pub const MINI_APP_LINK_FRAGMENT: &str = "#/link";

/// What every bot worker needs: the application, the Bot API, and the VK API if configured.
/// A bot is the process's configured one (`own` is `None`: `LOYALTY_TELEGRAM_BOT_TOKEN`,
/// serving `LOYALTY_PROGRAM`, or every program without a bot of its own when that is unset) or
/// a program's own (`app::program_bots`).
#[derive(Clone)]
pub struct Bot {
    pub state: AppContext,
    pub telegram: TelegramApi,
    pub vk: Option<VkApi>,
    pub own: Option<Arc<ProgramBot>>,
    /// The log's newest events shared by the process's program bots (set by the supervisor);
    /// without it, a program bot's followers read the database themselves.
    pub tail: Option<Arc<LogTail>>,
    /// Where its notifier takes its advisory lock: the process's program bots share one
    /// session (one connection).
    pub locks: Arc<LockSession>,
}

/// The newest events of the log, read once for every program bot of a process.
pub type LogTail = store::LogTail<domain::Event>;

impl Bot {
    /// The configured bot; `None` when no bot token is configured (or it is not a BotFather
    /// token).
    pub fn from_state(state: &AppContext) -> Option<Bot> {
        let config = &state.config;
        let telegram = client(&config.telegram.api_url, &config.telegram.bot_token)?;
        Some(Bot {
            state: state.clone(),
            telegram,
            vk: vk_client(state),
            own: None,
            tail: None,
            locks: LockSession::new(state.pool.clone()),
        })
    }

    /// A program's own bot; `None` if its stored token is not a BotFather token.
    pub fn of_program_bot(state: &AppContext, own: Arc<ProgramBot>) -> Option<Bot> {
        let telegram = client(&state.config.telegram.api_url, &own.token)?;
        Some(Bot {
            state: state.clone(),
            telegram,
            vk: vk_client(state),
            own: Some(own),
            tail: None,
            locks: LockSession::new(state.pool.clone()),
        })
    }

    /// The bot that speaks for `program`: its own, else the configured one.
    pub async fn for_program(
        state: &AppContext,
        program: ProgramId,
    ) -> Result<Option<Bot>, AppError> {
        let own = state
            .program_bots
            .of_program(program)
            .await
            .map_err(|e| AppError::ReadModel(e.to_string()))?;
        Ok(match own {
            Some(own) => Bot::of_program_bot(state, own),
            None => Bot::from_state(state),
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

    /// The program this bot answers members for: its own program's, or `LOYALTY_PROGRAM`.
    pub fn program_id(&self) -> Option<ProgramId> {
        match &self.own {
            Some(own) => Some(own.program_id),
            None => self.state.config.program.map(ProgramId),
        }
    }

    /// The program the bot serves, if configured and created.
    pub async fn program(&self) -> Result<Option<ProgramContext>, AppError> {
        let Some(id) = self.program_id() else {
            return Ok(None);
        };
        match self.state.ledger().program(id).await {
            Ok(program) => Ok(Some(program)),
            Err(AppError::Denied(domain::DomainError::NotFound)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether this bot notifies and alerts for `program`. The configured bot serves
    /// `LOYALTY_PROGRAM` (every program when that is unset) except the programs with a bot of
    /// their own, so no program hears from two bots.
    pub fn serves(&self, program: ProgramId) -> bool {
        let has_own_bot = self.state.program_bots.has_own_bot(program);
        self.served().includes(program, has_own_bot)
    }

    /// Reads `program_bots` now: a worker filtering by [`Bot::serves`] calls this as it starts,
    /// so the configured bot never begins by serving a program that has a bot of its own.
    pub async fn know_program_bots(&self) -> Result<(), BotError> {
        self.state.program_bots.reload().await?;
        Ok(())
    }

    /// The next events of the log this bot's followers (notifications, managers' alerts) look
    /// at, and how far the look reached: a program's own bot receives only its program's
    /// events, from the process's shared [`LogTail`] when it has one, so a hundred brands'
    /// followers cost the database one reader; the configured bot reads them all.
    pub async fn read_log(
        &self,
        after: store::Checkpoint,
        limit: i64,
    ) -> Result<(Vec<store::Envelope<domain::Event>>, store::Checkpoint), AppError> {
        let store = self.state.ledger().store();
        if let Some(own) = &self.own {
            let program = own.program_id.0;
            return Ok(match &self.tail {
                Some(tail) => tail.read_program(program, after, limit).await?,
                None => store.read_program_as(program, after, limit).await?,
            });
        }
        let batch = store.read_all_as(after, limit).await?;
        let reached = batch.last().map_or(after, store::Envelope::checkpoint);
        Ok((batch, reached))
    }

    /// `{public_url}{path}`.
    pub fn public_link(&self, path: &str) -> String {
        let base = self.state.config.http.public_url.trim_end_matches('/');
        format!("{base}{path}")
    }

    /// The Mini App as this bot opens it, at `fragment` (`""`, or a screen such as `#/link`).
    /// A program's own bot names itself in the query, so the app knows whose `initData` it
    /// carries.
    pub fn mini_app_link(&self, fragment: &str) -> String {
        match &self.own {
            Some(own) => self.public_link(&format!("{MINI_APP_PATH}?bot={}{fragment}", own.bot_id)),
            None => self.public_link(&format!("{MINI_APP_PATH}{fragment}")),
        }
    }

    /// Where Telegram posts this bot's updates.
    pub fn webhook_path(&self) -> String {
        match &self.own {
            Some(own) => format!("{}/{}", webhook::WEBHOOK_PATH, own.bot_id),
            None => webhook::WEBHOOK_PATH.to_owned(),
        }
    }

    /// What Telegram sends back in `X-Telegram-Bot-Api-Secret-Token`.
    pub fn webhook_secret(&self) -> &SecretString {
        match &self.own {
            Some(own) => &own.webhook_secret,
            None => &self.state.config.telegram.webhook_secret,
        }
    }

    /// The numeric bot id: the part of the token before the colon (not secret).
    pub fn bot_id(&self) -> i64 {
        self.telegram.bot_id()
    }

    /// How this bot's rows are keyed in `bot_updates`, `bot_chats` and `bot_group_chats`: its
    /// id, or 0 for the configured bot.
    pub fn rows_key(&self) -> i64 {
        self.own.as_ref().map_or(0, |own| own.bot_id)
    }

    /// The programs this bot serves, as a filter SQL can apply.
    pub fn served(&self) -> Served {
        match &self.own {
            Some(own) => Served::Own(own.program_id),
            None => Served::Configured(self.state.config.program.map(ProgramId)),
        }
    }

    /// A per-bot name for a checkpoint or lock: the configured bot keeps the plain name, so an
    /// upgrade continues where it stood.
    pub fn scoped(&self, name: &str) -> String {
        match &self.own {
            Some(own) => format!("{name}:{}", own.bot_id),
            None => name.to_owned(),
        }
    }
}

/// Clients are shared per (base URL, token) so that every request of a process goes through
/// one connection pool and, for VK, one rate limiter (VK counts requests per token).
type ClientCache<T> = LazyLock<Mutex<HashMap<(String, String), T>>>;
static TELEGRAM_CLIENTS: ClientCache<TelegramApi> = LazyLock::new(Default::default);
static VK_CLIENTS: ClientCache<VkApi> = LazyLock::new(Default::default);

/// The configured bot's API client, or `None` without a valid bot token.
pub fn telegram_client(state: &AppContext) -> Option<TelegramApi> {
    client(
        &state.config.telegram.api_url,
        &state.config.telegram.bot_token,
    )
}

fn client(api_url: &str, token: &SecretString) -> Option<TelegramApi> {
    let token = token.expose_secret();
    if token.is_empty() {
        return None;
    }
    let key = (api_url.to_owned(), token.to_owned());
    let mut clients = TELEGRAM_CLIENTS.lock();
    if let Some(client) = clients.get(&key) {
        return Some(client.clone());
    }
    let client = match TelegramApi::new(token) {
        Ok(client) => client.with_base_url(api_url.to_owned()),
        Err(e) => {
            tracing::error!(error = %e, "a configured or stored bot token is not a bot token");
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

/// How often the supervisor reads `program_bots` for bots added, changed or removed.
pub const SUPERVISE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);
/// Events the program bots' shared [`LogTail`] keeps: many seconds of the log at the rates
/// measured here, while followers look once a second.
pub const TAIL_CAPACITY: usize = 20_000;
/// The shared tail asks the database for new events at most this often.
pub const TAIL_REFRESH: std::time::Duration = std::time::Duration::from_millis(100);

/// Starts the workers of every bot for `LOYALTY_TELEGRAM_MODE`: the configured bot's, and a
/// supervisor that starts (and stops) those of programs' own bots as `program_bots` changes.
/// Nothing is started when the mode is `off`. Every task ends when `shutdown` turns true.
pub fn spawn(state: &AppContext, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    if state.config.telegram.mode == TelegramMode::Off {
        tracing::info!("Telegram bots are off (LOYALTY_TELEGRAM_MODE=off)");
        return Vec::new();
    }
    let mut tasks = match Bot::from_state(state) {
        Some(bot) => {
            if state.config.program.is_none() {
                tracing::info!(
                    "no LOYALTY_PROGRAM: the configured bot serves every program without a bot \
                     of its own"
                );
            }
            spawn_workers(bot, shutdown.clone())
        }
        None => {
            tracing::info!("no LOYALTY_TELEGRAM_BOT_TOKEN: only programs' own bots run");
            Vec::new()
        }
    };
    tasks.push(tokio::spawn(supervise(state.clone(), shutdown)));
    tasks
}

/// One bot's workers: the long-polling loop (`polling`) or the start-up
/// `setWebhook`/`getWebhookInfo` check (`webhook`), the inbox worker that answers private
/// messages and managers' buttons, the managers' chat worker (digests and alerts) and the
/// notification worker (which also sends broadcasts), all within this bot's message limit.
pub fn spawn_workers(bot: Bot, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let config = &bot.state.config;
    let mut tasks = Vec::new();
    if config.telegram.mode == TelegramMode::Polling {
        tasks.push(tokio::spawn(polling::run(bot.clone(), shutdown.clone())));
    } else {
        tasks.push(tokio::spawn(webhook::check_at_startup(bot.clone())));
    }
    tasks.push(tokio::spawn(inbox::run(bot.clone(), shutdown.clone())));
    tasks.push(tokio::spawn(managers::run(bot.clone(), shutdown.clone())));
    let per_second = config.telegram.messages_per_second;
    // This process may have just replaced one that was sending (a crash, a restart): the
    // messages that one sent in its last second still count at Telegram's end.
    let limit = std::sync::Arc::new(clients::RateLimiter::just_full(per_second, SEND_WINDOW));
    let notifier = clients::NotifierConfig {
        global_per_second: per_second,
        shared_limit: Some(limit),
        ..clients::NotifierConfig::default()
    };
    tasks.push(tokio::spawn(notify::run(bot, notifier, shutdown)));
    tasks
}

/// What the program bots of a process share: one reader of the log and one lock session.
struct Shared {
    tail: Arc<LogTail>,
    locks: Arc<LockSession>,
}

/// A program bot's running workers and the switch that stops them.
struct Running {
    own: Arc<ProgramBot>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Keeps one set of workers per program bot: reads `program_bots` every
/// [`SUPERVISE_INTERVAL`], starts the new, restarts the changed (a new token, secret or
/// program) and stops the removed. Their followers of the log share one [`LogTail`], their
/// notifiers one [`LockSession`].
async fn supervise(state: AppContext, mut shutdown: watch::Receiver<bool>) {
    let mut running: HashMap<i64, Running> = HashMap::new();
    let shared = Shared {
        tail: Arc::new(LogTail::new(
            state.ledger().store().clone(),
            TAIL_CAPACITY,
            TAIL_REFRESH,
        )),
        locks: LockSession::new(state.pool.clone()),
    };
    loop {
        match state.program_bots.reload().await {
            Ok(bots) => reconcile(&state, &shutdown, &mut running, bots, &shared).await,
            Err(e) => tracing::warn!(error = %e, "could not read the programs' bots"),
        }
        tokio::select! {
            () = tokio::time::sleep(SUPERVISE_INTERVAL) => {}
            () = stopped(&mut shutdown) => break,
        }
    }
    for (_, bot) in running.drain() {
        stop(bot).await;
    }
}

async fn reconcile(
    state: &AppContext,
    shutdown: &watch::Receiver<bool>,
    running: &mut HashMap<i64, Running>,
    bots: Vec<Arc<ProgramBot>>,
    shared: &Shared,
) {
    let wanted: HashMap<i64, Arc<ProgramBot>> =
        bots.into_iter().map(|bot| (bot.bot_id, bot)).collect();
    let gone: Vec<i64> = running
        .iter()
        .filter(|(id, run)| {
            wanted.get(*id).is_none_or(|bot| {
                bot.program_id != run.own.program_id
                    || bot.token.expose_secret() != run.own.token.expose_secret()
                    || bot.webhook_secret.expose_secret() != run.own.webhook_secret.expose_secret()
            })
        })
        .map(|(id, _)| *id)
        .collect();
    for id in gone {
        if let Some(run) = running.remove(&id) {
            tracing::info!(
                bot_id = id,
                "a program's bot was removed or changed: stopping it"
            );
            stop(run).await;
        }
    }
    for (id, own) in wanted {
        if running.contains_key(&id) {
            continue;
        }
        let Some(mut bot) = Bot::of_program_bot(state, own.clone()) else {
            continue;
        };
        bot.tail = Some(shared.tail.clone());
        bot.locks = shared.locks.clone();
        tracing::info!(bot_id = id, program = %own.program_id, "starting a program's bot");
        let (stop, stopped) = watch::channel(false);
        // Stops with the process, too.
        let mut process = shutdown.clone();
        let forward = stop.clone();
        let mut tasks = spawn_workers(bot, stopped);
        tasks.push(tokio::spawn(async move {
            tokio::select! {
                () = crate::stopped(&mut process) => { let _ = forward.send(true); }
                () = forward.closed() => {}
            }
        }));
        running.insert(
            id,
            Running {
                own: own.clone(),
                stop,
                tasks,
            },
        );
    }
}

async fn stop(run: Running) {
    let _ = run.stop.send(true);
    for task in run.tasks {
        let _ = task.await;
    }
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
