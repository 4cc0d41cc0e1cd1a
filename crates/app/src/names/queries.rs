//! The directory's two reads of `identities` ⋈ `profiles`. Both pick a member's name by the
//! same rule: among the member's accounts with a profile that has a name or username, the
//! Telegram account's first, else the most recently updated.

use super::table::{NameTable, shown_name};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// The join and the filter every read shares (`i`: identities, `p`: profiles).
const NAMING_PROFILES: &str = "identities i JOIN profiles p ON p.account_ref = i.account_ref \
     WHERE i.program_id = $1 AND (p.display_name <> '' OR p.username <> '')";
/// The order that puts a member's naming profile first.
const BEST_FIRST: &str = "(i.network = 'telegram') DESC, p.updated_at DESC";

/// Streams every named member of a program into `table`; returns the database's time before
/// the read, from which the refresh looks for changes.
pub(super) async fn load(
    pool: &PgPool,
    program: Uuid,
    table: &mut NameTable,
) -> sqlx::Result<DateTime<Utc>> {
    let started: DateTime<Utc> = sqlx::query_scalar("SELECT now()").fetch_one(pool).await?;
    let sql = format!(
        "SELECT DISTINCT ON (i.member_id) i.member_id, p.display_name, p.username \
         FROM {NAMING_PROFILES} ORDER BY i.member_id, {BEST_FIRST}"
    );
    let mut rows = sqlx::query(&sql).bind(program).fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let member: Uuid = row.try_get(0)?;
        let display_name: Option<&str> = row.try_get(1)?;
        let username: Option<&str> = row.try_get(2)?;
        table.set(member, shown_name(display_name, username).as_deref());
    }
    Ok(started)
}

/// A member one of whose profiles changed, with the name the rule now gives them.
pub(super) struct Changed {
    pub member: Uuid,
    /// The latest `updated_at` among the member's changed profiles.
    pub changed_at: DateTime<Utc>,
    pub name: Option<String>,
}

/// Every member of a program with a profile updated after `after`, re-resolved in one query
/// (`name: None` when no profile names them any more), and the database's time before the
/// read: every change committed by then is among them.
pub(super) async fn changed(
    pool: &PgPool,
    program: Uuid,
    after: DateTime<Utc>,
) -> sqlx::Result<(DateTime<Utc>, Vec<Changed>)> {
    let started: DateTime<Utc> = sqlx::query_scalar("SELECT now()").fetch_one(pool).await?;
    let sql = format!(
        "WITH changed AS ( \
             SELECT i.member_id, max(p.updated_at) AS changed_at \
             FROM profiles p \
             JOIN identities i ON i.program_id = p.program_id AND i.account_ref = p.account_ref \
             WHERE p.program_id = $1 AND p.updated_at > $2 \
             GROUP BY i.member_id) \
         SELECT c.member_id, c.changed_at, best.display_name, best.username \
         FROM changed c LEFT JOIN LATERAL ( \
             SELECT p.display_name, p.username FROM {NAMING_PROFILES} \
               AND i.member_id = c.member_id \
             ORDER BY {BEST_FIRST} LIMIT 1) best ON true"
    );
    let rows: Vec<ChangedRow> = sqlx::query_as(&sql)
        .bind(program)
        .bind(after)
        .fetch_all(pool)
        .await?;
    let changed = rows
        .into_iter()
        .map(|row| Changed {
            member: row.member_id,
            changed_at: row.changed_at,
            name: shown_name(row.display_name.as_deref(), row.username.as_deref()),
        })
        .collect();
    Ok((started, changed))
}

#[derive(sqlx::FromRow)]
struct ChangedRow {
    member_id: Uuid,
    changed_at: DateTime<Utc>,
    display_name: Option<String>,
    username: Option<String>,
}
