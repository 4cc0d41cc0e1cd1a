//! Broadcasts: a manager's message to an audience of the program's members in their private
//! chat with the bot, now or at a set time.
//!
//! - The audience is fixed when sending starts: one `broadcast_recipients` row per chat, keyed
//!   by (broadcast, chat), so no chat can get a broadcast twice, whatever restarts.
//! - A recipient is claimed (`sending`) just before its request and settled after the answer.
//!   A sender that dies in between leaves `sending`; the next one marks it `unknown` and never
//!   sends it again: a broadcast is at most once per chat.
//! - Nothing here is a ledger event: a broadcast moves no points. These rows are operational
//!   records (docs/privacy.md: retention, erasure).

use crate::program_bots::Served;
use chrono::{DateTime, Duration, Utc};
use domain::ids::{MemberId, ProgramId};
use domain::network::Network;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, QueryBuilder};
use utoipa::ToSchema;
use uuid::Uuid;

/// Telegram's limit on a message's text, and on a photo's caption (UTF-16 code units).
pub const MAX_TEXT: usize = 4096;
pub const MAX_CAPTION: usize = 1024;
/// A button's label, at most (Telegram cuts longer ones).
pub const MAX_BUTTON_LABEL: usize = 64;
/// How far ahead a broadcast may be scheduled.
pub const MAX_SCHEDULE_DAYS: i64 = 90;

/// Who gets a broadcast: every member of the program the bot can write to (they started the
/// bot and have not blocked it), not blocked by a manager and not opted out, narrowed by each
/// filter that is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// Members with an account linked on this network (`instagram`, `vk`, `telegram`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub network: Option<Network>,
    /// Members whose balance changed (earned or spent) in the last N days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_days: Option<u32>,
    /// Balance at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_balance: Option<i64>,
    /// Points earned over the member's whole history at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_lifetime: Option<i64>,
    /// Members who redeemed this campaign's codeword.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<Uuid>,
}

/// What a manager writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub text: String,
    /// A public https image; the text becomes its caption.
    pub image_url: Option<String>,
    /// Label of a button opening the Mini App.
    pub button_label: Option<String>,
    pub audience: Audience,
    /// `None`: now.
    pub send_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum BroadcastError {
    /// A field a manager can fix; `field` names it for the panel.
    #[error("{field}: {why}")]
    Invalid { field: &'static str, why: String },
    #[error("no such broadcast in this program")]
    NotFound,
    #[error("the broadcast is {0} already")]
    Finished(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn invalid(field: &'static str, why: impl Into<String>) -> BroadcastError {
    BroadcastError::Invalid {
        field,
        why: why.into(),
    }
}

/// Checks a draft against Telegram's limits and the audience's ranges.
pub fn validate(draft: &Draft, now: DateTime<Utc>) -> Result<(), BroadcastError> {
    let units = draft.text.trim().encode_utf16().count();
    let limit = if draft.image_url.is_some() {
        MAX_CAPTION
    } else {
        MAX_TEXT
    };
    if units == 0 {
        return Err(invalid("text", "write the message"));
    }
    if units > limit {
        return Err(invalid(
            "text",
            format!("at most {limit} characters (this one has {units})"),
        ));
    }
    if let Some(url) = &draft.image_url {
        let valid = url.starts_with("https://")
            && url.len() <= 2048
            && url.len() > "https://".len()
            && !url.chars().any(char::is_whitespace);
        if !valid {
            return Err(invalid(
                "image_url",
                "an image must be a public https:// address",
            ));
        }
    }
    if let Some(label) = &draft.button_label {
        let chars = label.trim().chars().count();
        if chars == 0 || chars > MAX_BUTTON_LABEL {
            return Err(invalid(
                "button_label",
                format!("a button label has 1 to {MAX_BUTTON_LABEL} characters"),
            ));
        }
    }
    let a = &draft.audience;
    if a.active_days.is_some_and(|d| d == 0 || d > 3650) {
        return Err(invalid("active_days", "between 1 and 3650 days"));
    }
    if a.min_balance.is_some_and(|p| p < 0) || a.min_lifetime.is_some_and(|p| p < 0) {
        return Err(invalid("min_balance", "points cannot be negative"));
    }
    if let Some(at) = draft.send_at {
        if at < now - Duration::minutes(1) {
            return Err(invalid("send_at", "that time has passed"));
        }
        if at > now + Duration::days(MAX_SCHEDULE_DAYS) {
            return Err(invalid(
                "send_at",
                format!("at most {MAX_SCHEDULE_DAYS} days ahead"),
            ));
        }
    }
    Ok(())
}

/// Appends the audience's recipients query: `(chat_id, member_id)` of every chat the
/// broadcast would go to, one row per chat.
fn push_audience(
    q: &mut QueryBuilder<'_, Postgres>,
    program: ProgramId,
    audience: &Audience,
    now: DateTime<Utc>,
) {
    q.push(
        "SELECT DISTINCT ON (c.user_id) c.user_id AS chat_id, i.member_id \
         FROM identities i \
         JOIN external_accounts a ON a.account_ref = i.account_ref \
         JOIN bot_chats c ON c.user_id::text = a.platform_id AND c.bot_id = coalesce( \
              (SELECT pb.bot_id FROM program_bots pb WHERE pb.program_id = i.program_id), 0) \
         JOIN balances b ON b.program_id = i.program_id AND b.member_id = i.member_id \
         WHERE i.network = 'telegram' AND i.program_id = ",
    );
    q.push_bind(program.0);
    q.push(
        " AND c.started_at IS NOT NULL AND c.unreachable_since IS NULL AND NOT b.blocked \
         AND NOT EXISTS (SELECT 1 FROM broadcast_opt_outs o \
             WHERE o.program_id = i.program_id AND o.member_id = i.member_id)",
    );
    if let Some(network) = audience.network {
        q.push(
            " AND EXISTS (SELECT 1 FROM identities n WHERE n.program_id = i.program_id \
             AND n.member_id = i.member_id AND n.network = ",
        );
        q.push_bind(network.as_str());
        q.push(")");
    }
    if let Some(days) = audience.active_days {
        q.push(" AND b.updated_at >= ");
        q.push_bind(now - Duration::days(i64::from(days)));
    }
    if let Some(points) = audience.min_balance {
        q.push(" AND b.current >= ");
        q.push_bind(points);
    }
    if let Some(points) = audience.min_lifetime {
        q.push(" AND b.earned >= ");
        q.push_bind(points);
    }
    if let Some(campaign) = audience.campaign_id {
        q.push(
            " AND EXISTS (SELECT 1 FROM codeword_redemptions r WHERE r.program_id = i.program_id \
             AND r.member_id = i.member_id AND r.campaign_id = ",
        );
        q.push_bind(campaign);
        q.push(")");
    }
    q.push(" ORDER BY c.user_id");
}

/// How many chats the audience reaches now.
pub async fn audience_size(
    pool: &PgPool,
    program: ProgramId,
    audience: &Audience,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    let mut q = QueryBuilder::new("SELECT count(*) FROM (");
    push_audience(&mut q, program, audience, now);
    q.push(") AS audience");
    q.build_query_scalar().fetch_one(pool).await
}

/// One broadcast with its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Broadcast {
    pub broadcast_id: Uuid,
    pub program_id: Uuid,
    pub text: String,
    pub image_url: Option<String>,
    pub button_label: Option<String>,
    pub audience: Audience,
    /// `scheduled`, `sending`, `done` or `stopped`.
    pub status: String,
    pub send_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub stopped_by: Option<String>,
    pub progress: Progress,
}

/// Recipients by outcome. `recipients` is fixed when sending starts (0 before).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub recipients: i64,
    /// Not sent yet (and never, if the broadcast was stopped).
    pub pending: i64,
    pub sent: i64,
    /// The member blocked the bot or deleted the chat.
    pub blocked: i64,
    pub failed: i64,
    /// The sender stopped while this request was out: it may have arrived; never resent.
    pub unknown: i64,
}

type Row = (
    Option<sqlx::types::Json<Progress>>,
    Uuid,
    Uuid,
    String,
    Option<String>,
    Option<String>,
    sqlx::types::Json<Audience>,
    String,
    DateTime<Utc>,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

const COLUMNS: &str = "summary, broadcast_id, program_id, text, image_url, button_label, audience, status, \
     send_at, created_by, created_at, started_at, finished_at, stopped_by";

/// `progress` is counted from the recipients; once retention deleted them, the summary kept.
fn from_row(row: Row, progress: Progress) -> Broadcast {
    Broadcast {
        progress: row.0.map_or(progress, |summary| summary.0),
        broadcast_id: row.1,
        program_id: row.2,
        text: row.3,
        image_url: row.4,
        button_label: row.5,
        audience: row.6.0,
        status: row.7,
        send_at: row.8,
        created_by: row.9,
        created_at: row.10,
        started_at: row.11,
        finished_at: row.12,
        stopped_by: row.13,
    }
}

async fn progress_of<'c>(
    db: impl sqlx::PgExecutor<'c>,
    ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, Progress)>> {
    let rows: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT broadcast_id, status, count(*) FROM broadcast_recipients \
         WHERE broadcast_id = ANY($1) GROUP BY broadcast_id, status",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(ids
        .iter()
        .map(|id| {
            let of = rows.iter().filter(|r| r.0 == *id);
            (*id, tally(of.map(|r| (r.1.as_str(), r.2))))
        })
        .collect())
}

/// Recipients counted by status.
fn tally<'a>(counts: impl Iterator<Item = (&'a str, i64)>) -> Progress {
    let mut p = Progress::default();
    for (status, n) in counts {
        p.recipients += n;
        match status {
            // A claim in flight is still on its way.
            "pending" | "sending" => p.pending += n,
            "sent" => p.sent += n,
            "blocked" => p.blocked += n,
            "failed" => p.failed += n,
            _ => p.unknown += n,
        }
    }
    p
}

/// Records a broadcast; the id is the caller's (derived from the request, so a repeated
/// submit records it once and answers the same broadcast).
pub async fn create(
    pool: &PgPool,
    program: ProgramId,
    broadcast_id: Uuid,
    draft: &Draft,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Broadcast, BroadcastError> {
    validate(draft, now)?;
    let send_at = draft.send_at.unwrap_or(now);
    sqlx::query(
        "INSERT INTO broadcasts (broadcast_id, program_id, text, image_url, button_label, \
             audience, status, send_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7, $8, $9) \
         ON CONFLICT (broadcast_id) DO NOTHING",
    )
    .bind(broadcast_id)
    .bind(program.0)
    .bind(draft.text.trim())
    .bind(&draft.image_url)
    .bind(draft.button_label.as_deref().map(str::trim))
    .bind(sqlx::types::Json(&draft.audience))
    .bind(send_at)
    .bind(actor)
    .bind(now)
    .execute(pool)
    .await?;
    get(pool, program, broadcast_id)
        .await?
        .ok_or(BroadcastError::NotFound)
}

/// One broadcast of the program, with its progress.
pub async fn get(
    pool: &PgPool,
    program: ProgramId,
    broadcast_id: Uuid,
) -> sqlx::Result<Option<Broadcast>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM broadcasts WHERE program_id = $1 AND broadcast_id = $2"
    ))
    .bind(program.0)
    .bind(broadcast_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let progress = progress_of(pool, &[broadcast_id]).await?;
    Ok(Some(from_row(
        row,
        progress.first().map(|p| p.1).unwrap_or_default(),
    )))
}

/// The program's broadcasts, newest first.
pub async fn list(pool: &PgPool, program: ProgramId, limit: i64) -> sqlx::Result<Vec<Broadcast>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM broadcasts WHERE program_id = $1 \
         ORDER BY created_at DESC, broadcast_id LIMIT $2"
    ))
    .bind(program.0)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.1).collect();
    let progress = progress_of(pool, &ids).await?;
    Ok(rows
        .into_iter()
        .zip(progress)
        .map(|(row, (_, p))| from_row(row, p))
        .collect())
}

/// One recipient's outcome, as the panel shows it (the member, never the chat).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct RecipientOutcome {
    pub member_id: Uuid,
    /// `pending`, `sending`, `sent`, `blocked`, `failed` or `unknown`.
    pub status: String,
    pub error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// The broadcast's recipients with `status` (any when `None`), by member id after `after`.
pub async fn recipients(
    pool: &PgPool,
    broadcast_id: Uuid,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<RecipientOutcome>> {
    sqlx::query_as(
        "SELECT member_id, status, error, updated_at FROM broadcast_recipients \
         WHERE broadcast_id = $1 AND ($2::text IS NULL OR status = $2) \
           AND ($3::uuid IS NULL OR member_id > $3) \
         ORDER BY member_id LIMIT $4",
    )
    .bind(broadcast_id)
    .bind(status)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Stops a scheduled or sending broadcast: nothing more is sent (requests already out finish).
pub async fn stop(
    pool: &PgPool,
    program: ProgramId,
    broadcast_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Broadcast, BroadcastError> {
    let current = get(pool, program, broadcast_id)
        .await?
        .ok_or(BroadcastError::NotFound)?;
    if current.status == "stopped" {
        return Ok(current); // a repeated stop changes nothing
    }
    let stopped = sqlx::query(
        "UPDATE broadcasts SET status = 'stopped', stopped_by = $3, finished_at = $4 \
         WHERE program_id = $1 AND broadcast_id = $2 AND status IN ('scheduled', 'sending')",
    )
    .bind(program.0)
    .bind(broadcast_id)
    .bind(actor)
    .bind(now)
    .execute(pool)
    .await?;
    let after = get(pool, program, broadcast_id)
        .await?
        .ok_or(BroadcastError::NotFound)?;
    if stopped.rows_affected() == 0 && after.status != "stopped" {
        return Err(BroadcastError::Finished(after.status));
    }
    Ok(after)
}

/// The member asked for no broadcasts (`true`) or for them again (`false`).
pub async fn set_opted_out(
    pool: &PgPool,
    program: ProgramId,
    member: MemberId,
    opted_out: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if opted_out {
        sqlx::query(
            "INSERT INTO broadcast_opt_outs (program_id, member_id, at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(program.0)
        .bind(member.0)
        .bind(now)
        .execute(pool)
        .await?;
    } else {
        sqlx::query("DELETE FROM broadcast_opt_outs WHERE program_id = $1 AND member_id = $2")
            .bind(program.0)
            .bind(member.0)
            .execute(pool)
            .await?;
    }
    Ok(())
}

pub async fn opted_out(pool: &PgPool, program: ProgramId, member: MemberId) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM broadcast_opt_outs WHERE program_id = $1 AND member_id = $2)",
    )
    .bind(program.0)
    .bind(member.0)
    .fetch_one(pool)
    .await
}

/// Retention: the recipients of broadcasts finished before `before` are deleted (they name
/// chats), each broadcast keeping its outcome counts. Answers the rows deleted.
pub async fn purge_recipients(
    tx: &mut sqlx::PgConnection,
    before: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let old: Vec<Uuid> = sqlx::query_scalar(
        "SELECT broadcast_id FROM broadcasts WHERE status IN ('done', 'stopped') \
         AND finished_at < $1 AND summary IS NULL",
    )
    .bind(before)
    .fetch_all(&mut *tx)
    .await?;
    if old.is_empty() {
        return Ok(0);
    }
    for (id, summary) in progress_of(&mut *tx, &old).await? {
        sqlx::query("UPDATE broadcasts SET summary = $2 WHERE broadcast_id = $1")
            .bind(id)
            .bind(sqlx::types::Json(summary))
            .execute(&mut *tx)
            .await?;
    }
    let deleted = sqlx::query("DELETE FROM broadcast_recipients WHERE broadcast_id = ANY($1)")
        .bind(&old)
        .execute(&mut *tx)
        .await?;
    Ok(deleted.rows_affected())
}

// The sender's side. One sender per database at a time (the caller holds the lock).

/// A broadcast being sent, as the sender needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Outgoing {
    pub broadcast_id: Uuid,
    pub program_id: Uuid,
    pub text: String,
    pub image_url: Option<String>,
    pub button_label: Option<String>,
}

/// A sender that holds the lock now finds the claims of one that died: their requests may
/// have been delivered, so they become `unknown`, never sent again. Only the broadcasts of the
/// programs this sender's bot serves: another bot's sender may be mid-request.
pub async fn settle_interrupted(
    pool: &PgPool,
    served: Served,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let sql = format!(
        "UPDATE broadcast_recipients SET status = 'unknown', \
             error = 'the sender stopped while this message was being sent', updated_at = $1 \
         WHERE status = 'sending' AND broadcast_id IN \
             (SELECT broadcast_id FROM broadcasts b WHERE {})",
        served.sql("b.program_id", 2)
    );
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(served.bind())
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Starts every scheduled broadcast that is due: its audience becomes its recipients, in one
/// transaction with the status change, so a broadcast is fixed once.
pub async fn start_due(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<Vec<Uuid>> {
    let due: Vec<(Uuid, Uuid, sqlx::types::Json<Audience>)> = sqlx::query_as(
        "SELECT broadcast_id, program_id, audience FROM broadcasts \
         WHERE status = 'scheduled' AND send_at <= $1 ORDER BY send_at, broadcast_id",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    let mut started = Vec::new();
    for (id, program, audience) in due {
        let mut tx = pool.begin().await?;
        let claimed = sqlx::query(
            "UPDATE broadcasts SET status = 'sending', started_at = $2 \
             WHERE broadcast_id = $1 AND status = 'scheduled'",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            continue; // stopped meanwhile
        }
        let mut q = QueryBuilder::new(
            "INSERT INTO broadcast_recipients (broadcast_id, chat_id, member_id) SELECT ",
        );
        q.push_bind(id);
        q.push(", chat_id, member_id FROM (");
        push_audience(&mut q, ProgramId(program), &audience.0, now);
        q.push(") AS audience ON CONFLICT DO NOTHING");
        let added = q.build().execute(&mut *tx).await?;
        sqlx::query("UPDATE broadcasts SET recipients = $2 WHERE broadcast_id = $1")
            .bind(id)
            .bind(i64::try_from(added.rows_affected()).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        started.push(id);
    }
    Ok(started)
}

/// The broadcast to send now: the oldest one sending of the programs a bot serves.
pub async fn sending(pool: &PgPool, served: Served) -> sqlx::Result<Option<Outgoing>> {
    let sql = format!(
        "SELECT broadcast_id, program_id, text, image_url, button_label FROM broadcasts b \
         WHERE status = 'sending' AND {} ORDER BY started_at, broadcast_id LIMIT 1",
        served.sql("b.program_id", 1)
    );
    sqlx::query_as(&sql)
        .bind(served.bind())
        .fetch_optional(pool)
        .await
}

/// Whether the broadcast is still to be sent (a manager may have stopped it).
pub async fn still_sending(pool: &PgPool, broadcast_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM broadcasts WHERE broadcast_id = $1 AND status = 'sending')",
    )
    .bind(broadcast_id)
    .fetch_one(pool)
    .await
}

/// Up to `limit` chats not sent yet, in chat order.
pub async fn pending(pool: &PgPool, broadcast_id: Uuid, limit: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT chat_id FROM broadcast_recipients WHERE broadcast_id = $1 AND status = 'pending' \
         ORDER BY chat_id LIMIT $2",
    )
    .bind(broadcast_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Claims one chat just before its request: the attempts made with this one, or `None` if it
/// is not pending any more.
pub async fn claim(
    pool: &PgPool,
    broadcast_id: Uuid,
    chat_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<i16>> {
    sqlx::query_scalar(
        "UPDATE broadcast_recipients SET status = 'sending', attempts = attempts + 1, \
             updated_at = $3 \
         WHERE broadcast_id = $1 AND chat_id = $2 AND status = 'pending' RETURNING attempts",
    )
    .bind(broadcast_id)
    .bind(chat_id)
    .bind(now)
    .fetch_optional(pool)
    .await
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        message_id: i64,
    },
    /// Refused before delivery (flood control, a server error): to be tried again.
    Retry,
    Blocked(String),
    Failed(String),
    /// No answer: it may have arrived.
    Unknown(String),
}

/// Settles a claimed chat.
pub async fn settle(
    pool: &PgPool,
    broadcast_id: Uuid,
    chat_id: i64,
    delivery: &Delivery,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let (status, message_id, error) = match delivery {
        Delivery::Sent { message_id } => ("sent", Some(*message_id), None),
        Delivery::Retry => ("pending", None, None),
        Delivery::Blocked(e) => ("blocked", None, Some(e.as_str())),
        Delivery::Failed(e) => ("failed", None, Some(e.as_str())),
        Delivery::Unknown(e) => ("unknown", None, Some(e.as_str())),
    };
    // Without waiting for its own WAL flush: an outcome lost in a crash leaves the claim,
    // which the next sender settles `unknown`; never a second message.
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit TO OFF")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE broadcast_recipients SET status = $3, message_id = $4, error = $5, updated_at = $6 \
         WHERE broadcast_id = $1 AND chat_id = $2 AND status = 'sending'",
    )
    .bind(broadcast_id)
    .bind(chat_id)
    .bind(status)
    .bind(message_id)
    .bind(error)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Marks the broadcast done when no chat is left to send (or being sent).
pub async fn finish_if_done(
    pool: &PgPool,
    broadcast_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE broadcasts SET status = 'done', finished_at = $2 \
         WHERE broadcast_id = $1 AND status = 'sending' AND NOT EXISTS ( \
             SELECT 1 FROM broadcast_recipients r WHERE r.broadcast_id = $1 \
             AND r.status IN ('pending', 'sending'))",
    )
    .bind(broadcast_id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(text: &str) -> Draft {
        Draft {
            text: text.into(),
            image_url: None,
            button_label: None,
            audience: Audience::default(),
            send_at: None,
        }
    }

    #[test]
    fn a_draft_is_held_to_telegrams_limits() {
        let now = Utc::now();
        assert!(validate(&draft("Новый кодовое слово — ЗЕРНО"), now).is_ok());
        assert!(validate(&draft("   "), now).is_err());
        assert!(validate(&draft(&"я".repeat(4096)), now).is_ok());
        assert!(validate(&draft(&"я".repeat(4097)), now).is_err());
        let mut photo = draft(&"a".repeat(1025));
        photo.image_url = Some("https://cdn.example/p.jpg".into());
        assert!(matches!(
            validate(&photo, now),
            Err(BroadcastError::Invalid { field: "text", .. })
        ));
        photo.text = "a".repeat(1024);
        assert!(validate(&photo, now).is_ok());
        photo.image_url = Some("http://cdn.example/p.jpg".into());
        assert!(matches!(
            validate(&photo, now),
            Err(BroadcastError::Invalid {
                field: "image_url",
                ..
            })
        ));
    }

    #[test]
    fn a_schedule_is_in_the_future_and_within_reach() {
        let now = Utc::now();
        let mut d = draft("hi");
        d.send_at = Some(now - Duration::hours(1));
        assert!(validate(&d, now).is_err());
        d.send_at = Some(now + Duration::days(MAX_SCHEDULE_DAYS + 1));
        assert!(validate(&d, now).is_err());
        d.send_at = Some(now + Duration::hours(2));
        assert!(validate(&d, now).is_ok());
        d.audience.active_days = Some(0);
        assert!(validate(&d, now).is_err());
    }

    #[test]
    fn an_audience_reads_back_as_written_and_refuses_unknown_filters() {
        let a = Audience {
            network: Some(Network::Vk),
            active_days: Some(30),
            min_balance: None,
            min_lifetime: Some(500),
            campaign_id: None,
        };
        let json = serde_json::to_value(&a).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"network": "vk", "active_days": 30, "min_lifetime": 500})
        );
        assert_eq!(serde_json::from_value::<Audience>(json).ok(), Some(a));
        assert!(serde_json::from_value::<Audience>(serde_json::json!({"tier": "gold"})).is_err());
    }
}
