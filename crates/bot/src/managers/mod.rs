//! The managers' chat (`app::managers_chat`): a Telegram group of a program's staff where the
//! bot posts a digest every morning and alerts for what needs a person, and where managers
//! answer some alerts with inline buttons.
//!
//! - The worker ([`Managers::tick`]) runs in every `serve` process with the bot, every
//!   [`TICK`], and between ticks reads the log for alerts every [`FOLLOW_EVERY`]; the clock
//!   is a parameter, so tests drive it without sleeping.
//! - Exactly one digest per program and local day, even with two processes: the
//!   `managers_digests` row for (program, day) is claimed before sending. A crash between the
//!   claim and Telegram's answer loses that day's digest rather than risking two (at most
//!   once); a send that fails in a retryable way releases the claim for the next tick.
//! - An alert is sent once per episode: its open `managers_alerts` row (unique per program and
//!   key while open) is claimed before sending, and marked resolved when the condition ends, so
//!   the next episode alerts again. Alerts about one entry of the log (a large award) stay open:
//!   their key is the entry.
//! - Buttons act with the panel's rules: `actions` checks the Telegram user pressing or
//!   answering is linked to an active admin account with the role and program scope the panel
//!   requires, and reverses through `Ledger::compensate_entry` as that account.

pub mod actions;
pub mod alerts;
pub mod digest;
pub mod texts;

use super::{Bot, BotError, stopped};
use app::managers_chat::ManagersChat;
use chrono::{DateTime, Utc};
use clients::{ClientError, InlineKeyboard};
use domain::ids::ProgramId;
use std::time::Duration;
use tokio::sync::watch;

/// How often the worker looks at the clock and the conditions.
pub const TICK: Duration = Duration::from_secs(30);
/// How often, between ticks, it reads the log for alerts about entries: a follower that keeps
/// close to the head reads the program bots' shared tail, not the database.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// The worker's state between ticks: the log follower's window and the refused-delivery
/// counters (both in memory; a restart starts them afresh), and the chats as of the last tick.
pub struct Managers {
    bot: Bot,
    alerts: alerts::Watch,
    chats: Vec<ManagersChat>,
}

impl Managers {
    pub async fn start(bot: Bot) -> Result<Self, BotError> {
        bot.know_program_bots().await?;
        let alerts = alerts::Watch::start(&bot).await?;
        Ok(Managers {
            bot,
            alerts,
            chats: Vec::new(),
        })
    }

    /// One round at `now`: every connected chat's digest if due, the conditions checked, the
    /// log read up to its head for alerts about entries.
    pub async fn tick(&mut self, now: DateTime<Utc>) -> Result<(), BotError> {
        let mut chats = app::managers_chat::all(self.bot.pool()).await?;
        chats.retain(|chat| self.bot.serves(ProgramId(chat.program_id)));
        self.chats = chats;
        // A failure reading the log must not cost the digest: it is read again next tick.
        self.follow_log(now).await;
        for chat in &self.chats {
            if let Err(e) = digest::send_if_due(&self.bot, chat, now).await {
                tracing::warn!(program = %chat.program_id, error = %e, "managers' digest failed");
            }
            if let Err(e) = self.alerts.check(&self.bot, chat, now).await {
                tracing::warn!(program = %chat.program_id, error = %e, "managers' alerts failed");
            }
        }
        Ok(())
    }

    /// Reads the log for alerts about entries, for the chats of the last tick.
    pub async fn follow_log(&mut self, now: DateTime<Utc>) {
        if let Err(e) = self.alerts.follow_log(&self.bot, &self.chats, now).await {
            tracing::warn!(error = %e, "managers' alerts from the log failed");
        }
    }
}

/// Runs the worker until `shutdown`.
pub async fn run(bot: Bot, mut shutdown: watch::Receiver<bool>) {
    let mut managers = loop {
        match Managers::start(bot.clone()).await {
            Ok(managers) => break managers,
            Err(e) => tracing::warn!(error = %e, "managers' chat worker cannot start"),
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            () = stopped(&mut shutdown) => return,
        }
    };
    let mut next_tick = tokio::time::Instant::now();
    loop {
        if tokio::time::Instant::now() >= next_tick {
            if let Err(e) = managers.tick(Utc::now()).await {
                tracing::warn!(error = %e, "managers' chat round failed");
            }
            next_tick = tokio::time::Instant::now() + TICK;
        } else {
            managers.follow_log(Utc::now()).await;
        }
        tokio::select! {
            () = tokio::time::sleep(FOLLOW_EVERY) => {}
            () = stopped(&mut shutdown) => return,
        }
    }
}

/// Sends one message to a managers' chat; the message id when delivered.
pub(crate) async fn send(
    bot: &Bot,
    chat_id: i64,
    text: &str,
    keyboard: Option<&InlineKeyboard>,
) -> Result<i64, ClientError> {
    let sent = bot.telegram.send_message(chat_id, text, keyboard).await?;
    Ok(sent.message_id)
}
