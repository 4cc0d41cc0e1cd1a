//! Deliveries that changed nothing. A delivery that recorded something finds its own events
//! when it arrives again (their ids derive from it); one that recorded nothing (a second like
//! while the first still pays, a removal of what was already taken back) leaves no trace in
//! the log, so it is remembered here: arriving again after the member's next change, it must
//! still change nothing.

use sqlx::PgPool;
use uuid::Uuid;

/// Whether this delivery's command was handled before and recorded nothing.
pub async fn changed_nothing(pool: &PgPool, command_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM deliveries_without_effect WHERE command_id = $1)",
    )
    .bind(command_id)
    .fetch_one(pool)
    .await
}

pub async fn remember_unchanged(pool: &PgPool, command_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO deliveries_without_effect (command_id) VALUES ($1) \
         ON CONFLICT (command_id) DO NOTHING",
    )
    .bind(command_id)
    .execute(pool)
    .await?;
    Ok(())
}
