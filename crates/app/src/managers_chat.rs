//! A program's managers' chat: the Telegram group where the bot posts the morning digest and
//! alerts that need a person (`bot::managers`). Connected, changed and disconnected here, from
//! the panel or from `/managers` in the group; every change is recorded in
//! `managers_chat_changes` with its actor.

use chrono::{DateTime, NaiveTime, Utc};
use domain::ids::ProgramId;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// A managers' chat and its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct ManagersChat {
    pub program_id: Uuid,
    /// The Telegram group's id (negative), as a string: JavaScript numbers lose such ids.
    #[serde(serialize_with = "as_string")]
    #[schema(value_type = String)]
    pub chat_id: i64,
    pub title: Option<String>,
    /// `ru` or `en`: the language of the digest and alerts.
    pub language: String,
    /// Local time of the digest in the program's time zone, `HH:MM`.
    #[serde(serialize_with = "as_hh_mm")]
    #[schema(value_type = String, example = "09:00")]
    pub digest_time: NaiveTime,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub thresholds: Thresholds,
    pub connected_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `manager:<username>` of the last change.
    pub updated_by: String,
}

/// When an alert fires. Defaults are the table's (docs/managers-chat.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Thresholds {
    /// One award or codeword bonus of at least this many points.
    pub large_award_points: i64,
    /// A member earning at least this many points within an hour.
    pub hourly_points: i64,
    /// A channel that received deliveries before and none for this many hours.
    pub silent_hours: i32,
    /// Refused deliveries (wrong secret, bad signature) on the program's channels in an hour.
    pub refused_per_hour: i32,
    /// The read models this many minutes or more behind the log.
    pub lag_minutes: i32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            large_award_points: 500,
            hourly_points: 1_000,
            silent_hours: 24,
            refused_per_hour: 20,
            lag_minutes: 5,
        }
    }
}

fn as_string<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

fn as_hh_mm<S: serde::Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.format("%H:%M").to_string())
}

/// What a manager asks for; absent settings keep their current (or default) value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ManagersChatRequest {
    /// The Telegram group's id, as the offered chats list names it.
    pub chat_id: String,
    /// `ru` or `en`.
    pub language: Option<String>,
    /// `HH:MM`, local to the program.
    pub digest_time: Option<String>,
    pub large_award_points: Option<i64>,
    pub hourly_points: Option<i64>,
    pub silent_hours: Option<i32>,
    pub refused_per_hour: Option<i32>,
    pub lag_minutes: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManagersChatError {
    /// The request cannot be stored; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// The chat is another program's managers' chat.
    #[error("this chat is another program's managers' chat")]
    Taken,
    #[error("this program has no managers' chat")]
    NotConnected,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A request that passed the checks, settings filled in from `current` or the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRequest {
    pub chat_id: i64,
    /// The group's title when the caller knows it (`/managers`); else the bot's record of it.
    pub title: Option<String>,
    pub language: String,
    pub digest_time: NaiveTime,
    pub thresholds: Thresholds,
}

/// Checks a request; absent settings come from the chat as it is, else the defaults.
pub fn validate(
    request: &ManagersChatRequest,
    current: Option<&ManagersChat>,
) -> Result<ValidRequest, ManagersChatError> {
    let invalid = |why: &str| Err(ManagersChatError::Invalid(why.to_string()));
    let chat_id = match request.chat_id.trim().parse::<i64>() {
        Ok(id) if id < 0 => id,
        _ => {
            return invalid(
                "a managers' chat is a Telegram group: its id is a negative number, as the list \
                 of the bot's groups shows it",
            );
        }
    };
    let language = match request.language.as_deref().map(str::trim) {
        None => current.map_or("ru", |c| c.language.as_str()).to_string(),
        Some(l @ ("ru" | "en")) => l.to_string(),
        Some(_) => return invalid("the language is ru or en"),
    };
    let digest_time = match request.digest_time.as_deref().map(str::trim) {
        None => current.map_or(default_digest_time(), |c| c.digest_time),
        Some(t) => match NaiveTime::parse_from_str(t, "%H:%M") {
            Ok(t) => t,
            Err(_) => return invalid("the digest time is HH:MM, such as 09:00"),
        },
    };
    let base = current.map(|c| c.thresholds).unwrap_or_default();
    let thresholds = Thresholds {
        large_award_points: request
            .large_award_points
            .unwrap_or(base.large_award_points),
        hourly_points: request.hourly_points.unwrap_or(base.hourly_points),
        silent_hours: request.silent_hours.unwrap_or(base.silent_hours),
        refused_per_hour: request.refused_per_hour.unwrap_or(base.refused_per_hour),
        lag_minutes: request.lag_minutes.unwrap_or(base.lag_minutes),
    };
    let positive = thresholds.large_award_points > 0
        && thresholds.hourly_points > 0
        && thresholds.silent_hours > 0
        && thresholds.refused_per_hour > 0
        && thresholds.lag_minutes > 0;
    if !positive {
        return invalid("every alert threshold is a positive whole number");
    }
    Ok(ValidRequest {
        chat_id,
        title: None,
        language,
        digest_time,
        thresholds,
    })
}

/// 09:00, when nobody chose.
pub fn default_digest_time() -> NaiveTime {
    NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default()
}

const COLUMNS: &str = "program_id, chat_id, title, language, digest_time, large_award_points, \
                       hourly_points, silent_hours, refused_per_hour, lag_minutes, connected_at, \
                       updated_at, updated_by";

/// The program's managers' chat, if one is connected.
pub async fn get(pool: &PgPool, program: ProgramId) -> sqlx::Result<Option<ManagersChat>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM managers_chats WHERE program_id = $1"
    ))
    .bind(program.0)
    .fetch_optional(pool)
    .await
}

/// The managers' chat that is this Telegram group, if any.
pub async fn by_chat(pool: &PgPool, chat_id: i64) -> sqlx::Result<Option<ManagersChat>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM managers_chats WHERE chat_id = $1"
    ))
    .bind(chat_id)
    .fetch_optional(pool)
    .await
}

/// Every connected managers' chat.
pub async fn all(pool: &PgPool) -> sqlx::Result<Vec<ManagersChat>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM managers_chats ORDER BY program_id"
    ))
    .fetch_all(pool)
    .await
}

/// What `connect` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The chat is now the program's managers' chat (replacing another one, if any).
    Connected,
    /// It was already; its settings changed.
    Changed,
    /// Nothing changed.
    Unchanged,
}

/// Makes a group the program's managers' chat, or changes its settings; refused when it is
/// another program's. Recorded in `managers_chat_changes` with `actor`.
pub async fn connect(
    pool: &PgPool,
    program: ProgramId,
    request: &ValidRequest,
    actor: &str,
) -> Result<Outcome, ManagersChatError> {
    let mut tx = pool.begin().await?;
    // One change to a program's chat at a time: the row, or the program when it has none.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
        .bind(program.0)
        .execute(&mut *tx)
        .await?;
    let current: Option<ManagersChat> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM managers_chats WHERE program_id = $1"
    ))
    .bind(program.0)
    .fetch_optional(&mut *tx)
    .await?;
    let owner: Option<Uuid> =
        sqlx::query_scalar("SELECT program_id FROM managers_chats WHERE chat_id = $1")
            .bind(request.chat_id)
            .fetch_optional(&mut *tx)
            .await?;
    if owner.is_some_and(|p| p != program.0) {
        return Err(ManagersChatError::Taken);
    }
    let title = match &request.title {
        Some(title) => Some(title.clone()),
        None => sqlx::query_scalar("SELECT title FROM bot_group_chats WHERE chat_id = $1")
            .bind(request.chat_id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .flatten(),
    };
    let (outcome, detail) = match &current {
        Some(c) if c.chat_id == request.chat_id => {
            let detail = differences(c, request);
            if detail.is_empty() {
                return Ok(Outcome::Unchanged);
            }
            (Outcome::Changed, detail)
        }
        Some(c) => (Outcome::Connected, format!("replaces chat {}", c.chat_id)),
        None => (Outcome::Connected, String::new()),
    };
    let t = request.thresholds;
    sqlx::query(
        "INSERT INTO managers_chats (program_id, chat_id, title, language, digest_time, \
           large_award_points, hourly_points, silent_hours, refused_per_hour, lag_minutes, \
           updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (program_id) DO UPDATE SET chat_id = EXCLUDED.chat_id, \
           title = coalesce(EXCLUDED.title, managers_chats.title), \
           language = EXCLUDED.language, digest_time = EXCLUDED.digest_time, \
           large_award_points = EXCLUDED.large_award_points, \
           hourly_points = EXCLUDED.hourly_points, silent_hours = EXCLUDED.silent_hours, \
           refused_per_hour = EXCLUDED.refused_per_hour, lag_minutes = EXCLUDED.lag_minutes, \
           connected_at = CASE WHEN managers_chats.chat_id = EXCLUDED.chat_id \
                          THEN managers_chats.connected_at ELSE now() END, \
           updated_at = now(), updated_by = EXCLUDED.updated_by",
    )
    .bind(program.0)
    .bind(request.chat_id)
    .bind(&title)
    .bind(&request.language)
    .bind(request.digest_time)
    .bind(t.large_award_points)
    .bind(t.hourly_points)
    .bind(t.silent_hours)
    .bind(t.refused_per_hour)
    .bind(t.lag_minutes)
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    let action = match outcome {
        Outcome::Connected => "connected",
        _ => "changed",
    };
    record(&mut tx, program, actor, action, request.chat_id, &detail).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Disconnects the program's managers' chat: no digest or alert goes there any more.
pub async fn disconnect(
    pool: &PgPool,
    program: ProgramId,
    actor: &str,
) -> Result<i64, ManagersChatError> {
    let mut tx = pool.begin().await?;
    let chat: Option<i64> =
        sqlx::query_scalar("DELETE FROM managers_chats WHERE program_id = $1 RETURNING chat_id")
            .bind(program.0)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(chat_id) = chat else {
        return Err(ManagersChatError::NotConnected);
    };
    record(&mut tx, program, actor, "disconnected", chat_id, "").await?;
    tx.commit().await?;
    Ok(chat_id)
}

/// The settings that differ, for the change record.
fn differences(current: &ManagersChat, request: &ValidRequest) -> String {
    let mut changed = Vec::new();
    if current.language != request.language {
        changed.push(format!("language {}", request.language));
    }
    if current.digest_time != request.digest_time {
        changed.push(format!("digest at {}", request.digest_time.format("%H:%M")));
    }
    if current.thresholds != request.thresholds {
        let t = request.thresholds;
        changed.push(format!(
            "thresholds: award {}, hour {}, silent {} h, refused {}/h, lag {} min",
            t.large_award_points,
            t.hourly_points,
            t.silent_hours,
            t.refused_per_hour,
            t.lag_minutes
        ));
    }
    changed.join(", ")
}

async fn record(
    tx: &mut sqlx::PgConnection,
    program: ProgramId,
    actor: &str,
    action: &str,
    chat_id: i64,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO managers_chat_changes (actor, program_id, action, chat_id, detail) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(actor)
    .bind(program.0)
    .bind(action)
    .bind(chat_id)
    .bind(detail)
    .execute(tx)
    .await?;
    Ok(())
}

/// One change to a program's managers' chat.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ManagersChatChange {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `connected`, `changed` or `disconnected`.
    pub action: String,
    #[serde(serialize_with = "as_string")]
    #[schema(value_type = String)]
    pub chat_id: i64,
    pub detail: String,
}

/// The program's managers' chat changes, newest first.
pub async fn changes(
    pool: &PgPool,
    program: ProgramId,
    limit: i64,
) -> sqlx::Result<Vec<ManagersChatChange>> {
    sqlx::query_as(
        "SELECT at, actor, action, chat_id, detail FROM managers_chat_changes \
         WHERE program_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(program.0)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A Telegram group the bot is in (administrator or member) that may become a managers' chat:
/// not one of a program's channels (its messages earn points) nor another program's.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CandidateChat {
    pub chat_id: String,
    pub title: Option<String>,
    /// `administrator` or `member`.
    pub role: String,
}

/// Groups offered as managers' chats for `program`, newest first: those its bot (its own, else
/// the configured one) is in.
pub async fn candidates(
    pool: &PgPool,
    program: ProgramId,
    limit: i64,
) -> sqlx::Result<Vec<CandidateChat>> {
    sqlx::query_as(
        "SELECT b.chat_id, b.title, b.role FROM bot_group_chats b \
         WHERE b.role IN ('administrator', 'member') \
           AND b.bot_id = coalesce( \
               (SELECT pb.bot_id FROM program_bots pb WHERE pb.program_id = $1), 0) \
           AND coalesce(b.chat_type, 'group') IN ('group', 'supergroup') \
           AND NOT EXISTS (SELECT 1 FROM channels c \
                           WHERE c.network = 'telegram' AND c.destination = b.chat_id) \
           AND NOT EXISTS (SELECT 1 FROM managers_chats m \
                           WHERE m.chat_id::text = b.chat_id AND m.program_id <> $1) \
         ORDER BY b.changed_at DESC LIMIT $2",
    )
    .bind(program.0)
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(chat: &str) -> ManagersChatRequest {
        ManagersChatRequest {
            chat_id: chat.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_request_names_a_group_and_keeps_unset_settings() {
        let valid = validate(&request(" -1001234 "), None).unwrap();
        assert_eq!(valid.chat_id, -1_001_234);
        assert_eq!(valid.language, "ru");
        assert_eq!(valid.digest_time, default_digest_time());
        assert_eq!(valid.thresholds, Thresholds::default());
        for bad in ["12345", "@group", ""] {
            assert!(validate(&request(bad), None).is_err(), "{bad}");
        }
        let mut r = request("-1");
        r.digest_time = Some("25:00".into());
        assert!(validate(&r, None).is_err());
        r.digest_time = Some("07:30".into());
        r.language = Some("de".into());
        assert!(validate(&r, None).is_err());
        r.language = Some("en".into());
        r.hourly_points = Some(0);
        assert!(validate(&r, None).is_err());
        r.hourly_points = Some(300);
        let valid = validate(&r, None).unwrap();
        assert_eq!(valid.digest_time.format("%H:%M").to_string(), "07:30");
        assert_eq!(valid.thresholds.hourly_points, 300);
    }
}
