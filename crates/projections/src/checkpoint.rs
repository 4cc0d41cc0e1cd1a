//! Each projection's place in the log, moved in the same transaction as its batch.

use crate::error::Result;
use sqlx::{PgConnection, PgPool};
use store::Checkpoint;

/// Creates the checkpoint row at the log's start if the projection has none yet.
pub(crate) async fn ensure(pool: &PgPool, name: &str) -> Result<()> {
    sqlx::query("INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(name)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn load(conn: &mut PgConnection, name: &str) -> Result<Checkpoint> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT tx_id, position FROM projection_checkpoints WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row
        .map(|(tx_id, position)| Checkpoint { tx_id, position })
        .unwrap_or_default())
}

/// Sets the checkpoint outright (a rebuild's swap).
pub(crate) async fn set(
    conn: &mut PgConnection,
    name: &str,
    to: Checkpoint,
    events: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, tx_id, position, events, updated_at) \
         VALUES ($1, $2, $3, $4, now()) ON CONFLICT (name) DO UPDATE SET tx_id = EXCLUDED.tx_id, \
         position = EXCLUDED.position, events = EXCLUDED.events, updated_at = now()",
    )
    .bind(name)
    .bind(to.tx_id)
    .bind(to.position)
    .bind(events)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Waits for the projection's writer lock, held until the transaction ends.
pub(crate) async fn lock(conn: &mut PgConnection, name: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('loyalty.projection'), hashtext($1))")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes the writer lock of each projection that is free and reads its checkpoint, in one
/// round trip; the projections another runner holds are left out.
pub(crate) async fn lock_and_load(
    conn: &mut PgConnection,
    names: &[&str],
) -> Result<Vec<(String, Checkpoint)>> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT c.name, c.tx_id, c.position FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i) \
         JOIN projection_checkpoints c ON c.name = n.name \
         WHERE pg_try_advisory_xact_lock(hashtext('loyalty.projection'), hashtext(n.name)) \
         ORDER BY n.i",
    )
    .bind(names)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, tx_id, position)| (name, Checkpoint { tx_id, position }))
        .collect())
}

/// Moves several checkpoints to `to` in one statement, each only from where it was read;
/// false if any had moved (the caller must roll back).
pub(crate) async fn advance_all(
    conn: &mut PgConnection,
    moves: &[(&str, Checkpoint, i64)],
    to: Checkpoint,
) -> Result<bool> {
    if moves.is_empty() {
        return Ok(true);
    }
    let names: Vec<&str> = moves.iter().map(|m| m.0).collect();
    let from_tx: Vec<i64> = moves.iter().map(|m| m.1.tx_id).collect();
    let from_position: Vec<i64> = moves.iter().map(|m| m.1.position).collect();
    let events: Vec<i64> = moves.iter().map(|m| m.2).collect();
    let moved = sqlx::query(
        "UPDATE projection_checkpoints c SET tx_id = $5, position = $6, events = c.events + t.events, \
         updated_at = now() FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[]) \
           AS t(name, from_tx, from_position, events) \
         WHERE c.name = t.name AND c.tx_id = t.from_tx AND c.position = t.from_position",
    )
    .bind(&names)
    .bind(&from_tx)
    .bind(&from_position)
    .bind(&events)
    .bind(to.tx_id)
    .bind(to.position)
    .execute(&mut *conn)
    .await?;
    Ok(moved.rows_affected() == moves.len() as u64)
}
