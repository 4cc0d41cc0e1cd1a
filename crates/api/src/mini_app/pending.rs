//! VK ID authorizations in flight: the Mini App's short-lived rows (a member's link codes are
//! `app::ingest::link_codes`').

use chrono::{DateTime, Duration, Utc};
use domain::ids::{MemberId, ProgramId};
use sqlx::PgPool;
use uuid::Uuid;

/// How long a VK ID authorization may take.
pub const VK_ID_TTL_MINUTES: i64 = 10;

/// A VK ID authorization waiting for its redirect.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VkIdPending {
    pub state: String,
    pub program_id: Uuid,
    pub member_id: Uuid,
    pub code_verifier: String,
    pub expires_at: DateTime<Utc>,
}

/// Stores one authorization and drops the ones that expired long ago.
pub async fn save_vk_id(
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    state: &str,
    code_verifier: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<DateTime<Utc>> {
    let expires_at = now + Duration::minutes(VK_ID_TTL_MINUTES);
    sqlx::query("DELETE FROM vk_id_pending WHERE expires_at < $1")
        .bind(now - Duration::hours(1))
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO vk_id_pending (state, program_id, member_id, code_verifier, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(state)
    .bind(program_id.0)
    .bind(member_id.0)
    .bind(code_verifier)
    .bind(now)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(expires_at)
}

/// Takes an authorization out (a redirect is honoured once), expired or not: the caller
/// decides what an expired one means.
pub async fn take_vk_id(pool: &PgPool, state: &str) -> sqlx::Result<Option<VkIdPending>> {
    sqlx::query_as(
        "DELETE FROM vk_id_pending WHERE state = $1 \
         RETURNING state, program_id, member_id, code_verifier, expires_at",
    )
    .bind(state)
    .fetch_optional(pool)
    .await
}
