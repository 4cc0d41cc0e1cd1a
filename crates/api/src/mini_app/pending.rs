//! The Mini App's short-lived operational rows: a member's link codes (created and consumed
//! by `ingest::link_codes`; listed and cancelled here) and VK ID authorizations in flight.

use chrono::{DateTime, Duration, Utc};
use domain::ids::{MemberId, ProgramId};
use sqlx::PgPool;
use uuid::Uuid;

/// Unused, unexpired codes one member may hold at once: enough for a retry on each network.
pub const MAX_OPEN_CODES: i64 = 5;
/// How long a VK ID authorization may take.
pub const VK_ID_TTL_MINUTES: i64 = 10;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkCodeRow {
    pub code: String,
    pub network: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl LinkCodeRow {
    /// `used`, `cancelled`, `expired` or `pending`, in that order of precedence: a code
    /// consumed by a comment posted just before the member cancelled it was still used.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if self.used_at.is_some() {
            "used"
        } else if self.cancelled_at.is_some() {
            "cancelled"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "pending"
        }
    }
}

const CODE_COLUMNS: &str = "code, network, created_at, expires_at, used_at, cancelled_at";

/// Codes of this member that a comment could still consume.
pub async fn open_codes(
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM link_codes WHERE member_id = $1 AND program_id = $2 \
         AND used_at IS NULL AND expires_at > $3",
    )
    .bind(member_id.0)
    .bind(program_id.0)
    .bind(now)
    .fetch_one(pool)
    .await
}

/// One of this member's codes; another member's code is as unknown as a made-up one.
pub async fn link_code(
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    code: &str,
) -> sqlx::Result<Option<LinkCodeRow>> {
    sqlx::query_as(&format!(
        "SELECT {CODE_COLUMNS} FROM link_codes \
         WHERE code = $1 AND program_id = $2 AND member_id = $3"
    ))
    .bind(code)
    .bind(program_id.0)
    .bind(member_id.0)
    .fetch_optional(pool)
    .await
}

/// Makes an unused code unusable: the ingest path checks expiry, so that moves to now too.
/// `None` if the member has no such code that is still unused and not cancelled.
pub async fn cancel_link_code(
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    code: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<LinkCodeRow>> {
    sqlx::query_as(&format!(
        "UPDATE link_codes SET cancelled_at = $4, expires_at = least(expires_at, $4) \
         WHERE code = $1 AND program_id = $2 AND member_id = $3 \
           AND used_at IS NULL AND cancelled_at IS NULL \
         RETURNING {CODE_COLUMNS}"
    ))
    .bind(code)
    .bind(program_id.0)
    .bind(member_id.0)
    .bind(now)
    .fetch_optional(pool)
    .await
}

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
