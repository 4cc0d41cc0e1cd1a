//! Programs' own Telegram bots, so one deployment serves many brands: each program may have a
//! bot of its own, which answers its members, validates its Mini App's `initData`, sends its
//! notifications and receives its webhook at `/webhooks/telegram/<bot id>` with a secret of its
//! own. The process's configured bot (`LOYALTY_TELEGRAM_BOT_TOKEN`) serves `LOYALTY_PROGRAM`, or
//! every program when that is unset, but never a program with a bot of its own (`Served`).
//!
//! Tokens and webhook secrets are sealed at rest (`secrets`); changes are recorded in
//! `channel_changes` as `telegram bot:<id>` rows, never with a secret.

use crate::secrets::{SecretBox, SecretError};
use domain::ids::ProgramId;
use parking_lot::RwLock;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A lookup that misses reloads the table at most this often (a bot added by another process
/// is found within it; a forged bot id in a URL costs one read per interval at most).
const RELOAD_ON_MISS: Duration = Duration::from_secs(1);

/// Length of a generated webhook secret (Telegram allows 1–256 of `A-Za-z0-9_-`).
const WEBHOOK_SECRET_LEN: usize = 48;

/// One program's bot, opened.
pub struct ProgramBot {
    pub program_id: ProgramId,
    /// The digits before the token's colon: the bot's user id, not secret.
    pub bot_id: i64,
    /// Without the `@`, as `getMe` gave it.
    pub username: String,
    pub token: SecretString,
    /// What Telegram sends in `X-Telegram-Bot-Api-Secret-Token` to this bot's webhook.
    pub webhook_secret: SecretString,
}

impl std::fmt::Debug for ProgramBot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgramBot")
            .field("program_id", &self.program_id)
            .field("bot_id", &self.bot_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProgramBotError {
    #[error("{0}")]
    Invalid(String),
    #[error("bot {0} already serves another program")]
    Taken(i64),
    #[error("this program has no bot of its own")]
    NotFound,
    #[error("a stored bot secret does not open: {0}")]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The bot id of a token in BotFather's shape (`<digits>:<A-Za-z0-9_->`); whether it works is
/// for `getMe` to say.
pub fn bot_id_of(token: &str) -> Result<i64, ProgramBotError> {
    let invalid = || {
        ProgramBotError::Invalid(
            "a bot token is what BotFather gives: digits, a colon, then letters, digits, `_` \
             and `-` (such as 123456789:AAH…)"
                .into(),
        )
    };
    let (id, key) = token.trim().split_once(':').ok_or_else(invalid)?;
    let valid_key = key.len() >= 20
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    match id.parse::<i64>() {
        Ok(id) if id > 0 && digits && valid_key => Ok(id),
        _ => Err(invalid()),
    }
}

fn token_row(program: Uuid) -> String {
    format!("program_bots/{program}/token")
}

fn secret_row(program: Uuid) -> String {
    format!("program_bots/{program}/webhook_secret")
}

/// What [`save`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Added,
    /// The program had a bot; its token (and perhaps the bot) changed.
    Replaced,
}

/// Gives `program` the bot `bot_id` (its `getMe` name `username`) with `token`. The webhook
/// secret is kept when the bot stays the same, so deliveries already on their way still pass.
pub async fn save(
    pool: &PgPool,
    secrets: &SecretBox,
    program: ProgramId,
    bot_id: i64,
    username: &str,
    token: &str,
    actor: &str,
) -> Result<Saved, ProgramBotError> {
    let mut tx = pool.begin().await?;
    let before: Option<(i64, String)> = sqlx::query_as(
        "SELECT bot_id, webhook_secret FROM program_bots WHERE program_id = $1 FOR UPDATE",
    )
    .bind(program.0)
    .fetch_optional(&mut *tx)
    .await?;
    let webhook_secret = match &before {
        Some((same, sealed)) if *same == bot_id => sealed.clone(),
        _ => secrets.seal(&new_webhook_secret(), &secret_row(program.0)),
    };
    let written = sqlx::query(
        "INSERT INTO program_bots (program_id, bot_id, username, token, webhook_secret) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (program_id) DO UPDATE SET \
         bot_id = EXCLUDED.bot_id, username = EXCLUDED.username, token = EXCLUDED.token, \
         webhook_secret = EXCLUDED.webhook_secret, added_at = now()",
    )
    .bind(program.0)
    .bind(bot_id)
    .bind(username)
    .bind(secrets.seal(token.trim(), &token_row(program.0)))
    .bind(&webhook_secret)
    .execute(&mut *tx)
    .await;
    match written {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(ProgramBotError::Taken(bot_id));
        }
        other => other?,
    };
    let (action, saved) = match before {
        None => ("connected", Saved::Added),
        Some(_) => ("changed", Saved::Replaced),
    };
    record_change(&mut tx, actor, action, program, bot_id, username).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Takes the program's bot away; its webhook stops being accepted.
pub async fn remove(
    pool: &PgPool,
    program: ProgramId,
    actor: &str,
) -> Result<(i64, String), ProgramBotError> {
    let mut tx = pool.begin().await?;
    let removed: Option<(i64, String)> =
        sqlx::query_as("DELETE FROM program_bots WHERE program_id = $1 RETURNING bot_id, username")
            .bind(program.0)
            .fetch_optional(&mut *tx)
            .await?;
    let (bot_id, username) = removed.ok_or(ProgramBotError::NotFound)?;
    record_change(&mut tx, actor, "disconnected", program, bot_id, &username).await?;
    tx.commit().await?;
    Ok((bot_id, username))
}

async fn record_change(
    tx: &mut sqlx::PgConnection,
    actor: &str,
    action: &str,
    program: ProgramId,
    bot_id: i64,
    username: &str,
) -> sqlx::Result<()> {
    let detail = match action {
        "disconnected" => format!("bot @{username} removed"),
        _ => format!("bot @{username}; token set"),
    };
    sqlx::query(
        "INSERT INTO channel_changes (actor, action, network, destination, program_id, detail) \
         VALUES ($1, $2, 'telegram', $3, $4, $5)",
    )
    .bind(actor)
    .bind(action)
    .bind(format!("bot:{bot_id}"))
    .bind(program.0)
    .bind(detail)
    .execute(tx)
    .await?;
    Ok(())
}

fn new_webhook_secret() -> String {
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(WEBHOOK_SECRET_LEN)
        .map(char::from)
        .collect()
}

type Row = (Uuid, i64, String, String, String);

fn open(secrets: &SecretBox, row: Row) -> Result<ProgramBot, SecretError> {
    let (program, bot_id, username, token, webhook_secret) = row;
    Ok(ProgramBot {
        program_id: ProgramId(program),
        bot_id,
        username,
        token: secrets.open(&token, &token_row(program))?.into(),
        webhook_secret: secrets.open(&webhook_secret, &secret_row(program))?.into(),
    })
}

/// Every program's bot. A row no configured key opens is left out and logged: one bad row
/// must not silence every other brand.
pub async fn all(pool: &PgPool, secrets: &SecretBox) -> sqlx::Result<Vec<ProgramBot>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT program_id, bot_id, username, token, webhook_secret FROM program_bots \
         ORDER BY added_at, program_id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let (program, bot_id) = (row.0, row.1);
            open(secrets, row)
                .inspect_err(|e| tracing::error!(%program, bot_id, error = %e, "program bot"))
                .ok()
        })
        .collect())
}

/// Seals every bot secret not sealed with the current key again with it (see
/// `secrets::reseal_all`, which calls this). Returns (resealed, unreadable).
pub(crate) async fn reseal(
    pool: &PgPool,
    secrets: &SecretBox,
) -> sqlx::Result<(usize, Vec<String>)> {
    let rows: Vec<(Uuid, String, String)> =
        sqlx::query_as("SELECT program_id, token, webhook_secret FROM program_bots")
            .fetch_all(pool)
            .await?;
    let (mut resealed, mut unreadable) = (0, Vec::new());
    for (program, token, webhook_secret) in rows {
        for (column, stored, row) in [
            ("token", token, token_row(program)),
            ("webhook_secret", webhook_secret, secret_row(program)),
        ] {
            if secrets.is_current(&stored) {
                continue;
            }
            match secrets.open(&stored, &row) {
                Ok(plain) => {
                    let sql = format!(
                        "UPDATE program_bots SET {column} = $3 \
                         WHERE program_id = $1 AND {column} = $2"
                    );
                    let done = sqlx::query(&sql)
                        .bind(program)
                        .bind(&stored)
                        .bind(secrets.seal(&plain, &row))
                        .execute(pool)
                        .await?;
                    resealed += done.rows_affected() as usize;
                }
                Err(e) => unreadable.push(format!("program bot of {program} ({column}): {e}")),
            }
        }
    }
    Ok((resealed, unreadable))
}

/// Which programs a bot serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// A program's own bot: that program.
    Own(ProgramId),
    /// The configured bot: `LOYALTY_PROGRAM` (`Some`) or every program (`None`), in both cases
    /// leaving out the programs with a bot of their own.
    Configured(Option<ProgramId>),
}

impl Served {
    /// Whether the program is served, given whether it has a bot of its own.
    pub fn includes(&self, program: ProgramId, has_own_bot: bool) -> bool {
        match self {
            Served::Own(own) => *own == program,
            Served::Configured(only) => !has_own_bot && only.is_none_or(|only| only == program),
        }
    }

    /// `column` (a program id, qualified by its table's alias: inside the subquery a bare
    /// `program_id` would be `program_bots`' own) is served, as SQL; `$n` is bound to
    /// [`Served::bind`].
    pub fn sql(&self, column: &str, n: usize) -> String {
        match self {
            Served::Own(_) => format!("{column} = ${n}::uuid"),
            Served::Configured(_) => format!(
                "coalesce({column} = ${n}::uuid, true) AND NOT EXISTS \
                 (SELECT 1 FROM program_bots pb WHERE pb.program_id = {column})"
            ),
        }
    }

    /// The value for the `$n` of [`Served::sql`].
    pub fn bind(&self) -> Option<Uuid> {
        match self {
            Served::Own(program) | Served::Configured(Some(program)) => Some(program.0),
            Served::Configured(None) => None,
        }
    }
}

#[derive(Default)]
struct Snapshot {
    by_bot: HashMap<i64, Arc<ProgramBot>>,
    by_program: HashMap<ProgramId, i64>,
    loaded: Option<Instant>,
}

/// This process's view of `program_bots`, for the hot paths (webhooks, the Mini App): a lookup
/// that misses reloads the table (at most every [`RELOAD_ON_MISS`]), and the bot supervisor
/// reloads it every few seconds, so a removed or changed bot is seen within that.
#[derive(Clone)]
pub struct ProgramBots {
    pool: PgPool,
    secrets: SecretBox,
    snapshot: Arc<RwLock<Snapshot>>,
}

impl ProgramBots {
    pub fn new(pool: PgPool, secrets: SecretBox) -> Self {
        Self {
            pool,
            secrets,
            snapshot: Arc::default(),
        }
    }

    /// Reads the table again; returns every bot.
    pub async fn reload(&self) -> sqlx::Result<Vec<Arc<ProgramBot>>> {
        let bots: Vec<Arc<ProgramBot>> = all(&self.pool, &self.secrets)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect();
        let mut next = Snapshot {
            loaded: Some(Instant::now()),
            ..Snapshot::default()
        };
        for bot in &bots {
            next.by_program.insert(bot.program_id, bot.bot_id);
            next.by_bot.insert(bot.bot_id, bot.clone());
        }
        *self.snapshot.write() = next;
        Ok(bots)
    }

    async fn reload_if_stale(&self) -> sqlx::Result<()> {
        let stale = self
            .snapshot
            .read()
            .loaded
            .is_none_or(|at| at.elapsed() >= RELOAD_ON_MISS);
        if stale {
            self.reload().await?;
        }
        Ok(())
    }

    /// The bot with this id, if a program has it.
    pub async fn by_bot(&self, bot_id: i64) -> sqlx::Result<Option<Arc<ProgramBot>>> {
        if let Some(bot) = self.snapshot.read().by_bot.get(&bot_id) {
            return Ok(Some(bot.clone()));
        }
        self.reload_if_stale().await?;
        Ok(self.snapshot.read().by_bot.get(&bot_id).cloned())
    }

    /// The program's own bot, if it has one.
    pub async fn of_program(&self, program: ProgramId) -> sqlx::Result<Option<Arc<ProgramBot>>> {
        self.reload_if_stale().await?;
        let snapshot = self.snapshot.read();
        Ok(snapshot
            .by_program
            .get(&program)
            .and_then(|id| snapshot.by_bot.get(id))
            .cloned())
    }

    /// Whether the program had a bot of its own at the last reload (no IO: for filters on
    /// paths that follow the log).
    pub fn has_own_bot(&self, program: ProgramId) -> bool {
        self.snapshot.read().by_program.contains_key(&program)
    }
}

impl ProgramBot {
    /// Whether `secret` is this bot's webhook secret (constant time).
    pub fn webhook_secret_matches(&self, secret: Option<&str>) -> bool {
        adapters::secret_matches(self.webhook_secret.expose_secret(), secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_bot_and_nothing_else_passes() {
        assert_eq!(
            bot_id_of("7000000001:AAFakeBotTokenForTests_only-42").unwrap(),
            7_000_000_001
        );
        for bad in [
            "",
            "7000000001",
            ":AAFakeBotTokenForTests_only-42",
            "-7:AAFakeBotTokenForTests_only-42",
            "+7:AAFakeBotTokenForTests_only-42",
            "7:short",
            "7:AAFakeBotTokenForTests/only-42",
            "0:AAFakeBotTokenForTests_only-42",
        ] {
            assert!(
                matches!(bot_id_of(bad), Err(ProgramBotError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_program_hears_from_one_bot_only() {
        let (a, b) = (ProgramId(Uuid::from_u128(1)), ProgramId(Uuid::from_u128(2)));
        assert!(Served::Own(b).includes(b, true));
        assert!(!Served::Own(b).includes(a, false));
        assert!(Served::Configured(None).includes(a, false));
        assert!(!Served::Configured(None).includes(b, true));
        assert!(Served::Configured(Some(a)).includes(a, false));
        assert!(!Served::Configured(Some(a)).includes(b, false));
        assert!(
            !Served::Configured(Some(b)).includes(b, true),
            "its own bot speaks for it"
        );
    }

    #[test]
    fn generated_webhook_secrets_are_long_and_distinct() {
        let (a, b) = (new_webhook_secret(), new_webhook_secret());
        assert_eq!(a.len(), WEBHOOK_SECRET_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
