//! `loyalty projections status`: where each projection stands and how far behind it is.

use crate::checkpoint;
use crate::error::Result;
use crate::projection::Projection;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use std::io::Write;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectionStatus {
    pub name: &'static str,
    pub tx_id: i64,
    pub position: i64,
    /// Events applied since the projection was last built from position 0.
    pub events_applied: i64,
    pub updated_at: Option<DateTime<Utc>>,
    /// Committed events not yet applied.
    pub lag_events: i64,
    /// Age of the oldest event not yet applied (0 when caught up).
    pub lag_ms: i64,
}

/// Every projection's checkpoint and lag.
pub async fn status(pool: &PgPool) -> Result<Vec<ProjectionStatus>> {
    let mut conn = pool.acquire().await?;
    let mut out = Vec::new();
    for p in Projection::ALL {
        let at = checkpoint::load(&mut conn, p.name()).await?;
        let meta: Option<(i64, DateTime<Utc>)> =
            sqlx::query_as("SELECT events, updated_at FROM projection_checkpoints WHERE name = $1")
                .bind(p.name())
                .fetch_optional(&mut *conn)
                .await?;
        let (lag_events, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT count(*), min(recorded_at) FROM events WHERE (tx_id, position) > ($1, $2)",
        )
        .bind(at.tx_id)
        .bind(at.position)
        .fetch_one(&mut *conn)
        .await?;
        out.push(ProjectionStatus {
            name: p.name(),
            tx_id: at.tx_id,
            position: at.position,
            events_applied: meta.map_or(0, |m| m.0),
            updated_at: meta.map(|m| m.1),
            lag_events,
            lag_ms: oldest.map_or(0, |t| (Utc::now() - t).num_milliseconds().max(0)),
        });
    }
    Ok(out)
}

/// When the oldest event some projection has not applied yet was recorded; `None` when every
/// projection is caught up. One index probe after the lowest checkpoint, for periodic checks.
pub async fn oldest_unapplied(pool: &PgPool) -> Result<Option<DateTime<Utc>>> {
    let mut conn = pool.acquire().await?;
    let mut lowest: Option<store::Checkpoint> = None;
    for p in Projection::ALL {
        let at = checkpoint::load(&mut conn, p.name()).await?;
        if lowest.is_none_or(|l| at < l) {
            lowest = Some(at);
        }
    }
    let Some(at) = lowest else {
        return Ok(None);
    };
    Ok(sqlx::query_scalar(
        "SELECT recorded_at FROM events WHERE (tx_id, position) > ($1, $2) \
         ORDER BY tx_id, position LIMIT 1",
    )
    .bind(at.tx_id)
    .bind(at.position)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Each projection's lag as an upper bound in one O(1) statement, by name: 0 at the log's last
/// event in the log's order, else the log's highest position less the checkpoint's (at least
/// 1; positions taken by failed appends count too). Not the highest position alone: concurrent
/// appends interleave their positions, so a caught-up checkpoint may stand below it.
pub async fn position_lags(pool: &PgPool) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT c.name, CASE WHEN last.tx_id IS NULL \
                              OR (c.tx_id, c.position) >= (last.tx_id, last.position) THEN 0 \
                         ELSE greatest((SELECT max(position) FROM events) - c.position, 1) END \
           FROM projection_checkpoints c \
           LEFT JOIN (SELECT tx_id, position FROM events \
                       ORDER BY tx_id DESC, position DESC LIMIT 1) last ON true \
          ORDER BY c.name",
    )
    .fetch_all(pool)
    .await?)
}

/// The status as a table for a terminal.
pub fn write_status(statuses: &[ProjectionStatus], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<14} {:>12} {:>12} {:>14} {:>12} {:>10}",
        "projection", "tx_id", "position", "applied", "lag_events", "lag_ms"
    )?;
    for s in statuses {
        writeln!(
            out,
            "{:<14} {:>12} {:>12} {:>14} {:>12} {:>10}",
            s.name, s.tx_id, s.position, s.events_applied, s.lag_events, s.lag_ms
        )?;
    }
    Ok(())
}
