//! The morning digest: the previous local day of a program, from the read models, sent once
//! per local day at the chat's time.

use super::texts;
use crate::{Bot, BotError};
use app::managers_chat::ManagersChat;
use app::period_counts::{PeriodCounts, day_start, period_counts};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::ids::ProgramId;
use projections::ranking::{self, PeriodKind};

/// Members the digest names as the week's top.
const TOP: i64 = 3;

/// What the digest says about one local day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub day: NaiveDate,
    pub new_members: i64,
    pub active_members: i64,
    pub points_awarded: i64,
    pub points_reversed: i64,
    pub counts: PeriodCounts,
    /// The week the day belongs to: (name, points).
    pub top: Vec<(String, i64)>,
    /// Deliveries refused on the program's channels, on channels last refused that day.
    pub refused: i64,
    /// Alerts the chat got that day, by kind.
    pub unusual: Vec<(String, i64)>,
}

/// The local day whose digest is due at `now`, if one is: the chat's time has come today in
/// the program's zone, and the chat was connected before that moment (a chat connected at
/// noon gets its first digest the next morning).
pub fn due(chat: &ManagersChat, tz: Tz, now: DateTime<Utc>) -> Option<NaiveDate> {
    let today = now.with_timezone(&tz).date_naive();
    let local = today.and_time(chat.digest_time);
    // A time a clock change skips is taken an hour later.
    let at = local
        .and_local_timezone(tz)
        .earliest()
        .or_else(|| {
            (local + Duration::hours(1))
                .and_local_timezone(tz)
                .earliest()
        })?
        .with_timezone(&Utc);
    (now >= at && chat.connected_at <= at).then_some(today)
}

/// Sends the digest if it is due and no process has claimed it; `true` if this call sent it.
pub async fn send_if_due(
    bot: &Bot,
    chat: &ManagersChat,
    now: DateTime<Utc>,
) -> Result<bool, BotError> {
    let program = bot
        .state
        .ledger()
        .program(ProgramId(chat.program_id))
        .await?;
    let tz = program.time_zone;
    let Some(today) = due(chat, tz, now) else {
        return Ok(false);
    };
    let pool = bot.pool();
    let claimed = sqlx::query(
        "INSERT INTO managers_digests (program_id, day, chat_id) VALUES ($1, $2, $3) \
         ON CONFLICT (program_id, day) DO NOTHING",
    )
    .bind(chat.program_id)
    .bind(today)
    .bind(chat.chat_id)
    .execute(pool)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        return Ok(false);
    }
    let yesterday = today.pred_opt().unwrap_or(today);
    let facts = match facts(bot, chat, tz, yesterday).await {
        Ok(facts) => facts,
        Err(e) => {
            release(bot, chat, today).await?;
            return Err(e);
        }
    };
    let lang = texts::lang(&chat.language);
    let text = texts::digest(lang, &program.name, &facts);
    match super::send(bot, chat.chat_id, &text, None).await {
        Ok(message_id) => {
            sqlx::query(
                "UPDATE managers_digests SET message_id = $3 WHERE program_id = $1 AND day = $2",
            )
            .bind(chat.program_id)
            .bind(today)
            .bind(message_id)
            .execute(pool)
            .await?;
            Ok(true)
        }
        Err(e) if e.is_retryable() => {
            release(bot, chat, today).await?;
            Err(e.into())
        }
        Err(e) => {
            tracing::warn!(program = %chat.program_id, error = %e, "Telegram refused the digest");
            sqlx::query(
                "UPDATE managers_digests SET error = $3 WHERE program_id = $1 AND day = $2",
            )
            .bind(chat.program_id)
            .bind(today)
            .bind(e.to_string())
            .execute(pool)
            .await?;
            Ok(false)
        }
    }
}

/// The claim is given back: the next tick tries again.
async fn release(bot: &Bot, chat: &ManagersChat, day: NaiveDate) -> Result<(), BotError> {
    sqlx::query(
        "DELETE FROM managers_digests WHERE program_id = $1 AND day = $2 AND message_id IS NULL",
    )
    .bind(chat.program_id)
    .bind(day)
    .execute(bot.pool())
    .await?;
    Ok(())
}

/// The day's numbers, as the dashboard reads them.
pub async fn facts(
    bot: &Bot,
    chat: &ManagersChat,
    tz: Tz,
    day: NaiveDate,
) -> Result<Facts, BotError> {
    let pool = bot.pool();
    let program = chat.program_id;
    let missing = || BotError::Record(format!("no start of {day} in {tz}"));
    let from = day_start(day, tz).ok_or_else(missing)?;
    let until = day_start(day.succ_opt().unwrap_or(day), tz).ok_or_else(missing)?;
    let mut facts = Facts {
        day,
        ..Facts::default()
    };
    let stats = projections::daily_stats::daily_stats(pool, program, day, day).await?;
    if let Some(all) = stats.iter().find(|row| row.network == "all") {
        facts.new_members = all.counters.new_members;
        facts.active_members = all.counters.active_members;
        facts.points_awarded = all.counters.points_awarded;
        facts.points_reversed = all.counters.points_reversed;
    }
    facts.counts = period_counts(pool, program, from, until).await?;
    let board = ranking::current_board(PeriodKind::Week, None, tz, from);
    let top = bot.state.boards.top(program, board, TOP).await?;
    let ids: Vec<uuid::Uuid> = top.iter().map(|r| r.member_id).collect();
    let names = bot.state.names.names(program, &ids).await?;
    facts.top = top
        .iter()
        .zip(names)
        .map(|(ranked, name)| {
            let name = name.unwrap_or_else(|| texts::anonymous(texts::lang(&chat.language)));
            (name, ranked.score)
        })
        .collect();
    facts.refused = sqlx::query_scalar(
        "SELECT coalesce(sum(u.deliveries), 0)::int8 FROM unrouted_destinations u \
         JOIN channels c ON c.network = u.network AND c.destination = u.destination \
         WHERE c.program_id = $1 AND u.reason IN ('wrong_secret', 'bad_signature') \
           AND u.last_seen >= $2 AND u.last_seen < $3",
    )
    .bind(program)
    .bind(from)
    .bind(until)
    .fetch_one(pool)
    .await?;
    facts.unusual = sqlx::query_as(
        "SELECT split_part(key, ':', 1) AS kind, count(*) FROM managers_alerts \
         WHERE program_id = $1 AND opened_at >= $2 AND opened_at < $3 \
         GROUP BY 1 ORDER BY 1",
    )
    .bind(program)
    .bind(from)
    .bind(until)
    .fetch_all(pool)
    .await?;
    Ok(facts)
}
