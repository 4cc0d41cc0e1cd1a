//! Read queries the admin panel needs beyond those beside each projection. They read the
//! projections' tables (and `external_accounts` and `profiles`) and never write them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// Most rows any list here returns.
pub const MAX_ROWS: i64 = 1_000;

/// One linked account matching a search, with its member's balance.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct MemberHit {
    pub member_id: Uuid,
    /// The account's pseudonymous reference (what a manager links or unlinks).
    pub account_ref: Uuid,
    pub network: Option<String>,
    pub external_id: Option<String>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub balance: Option<i64>,
    pub blocked: bool,
}

/// The accounts linked to one member, with what profiles know of them. An erased member's
/// accounts have no platform id any more, and are not listed.
pub async fn member_accounts(
    pool: &PgPool,
    program_id: Uuid,
    member_id: Uuid,
) -> Result<Vec<MemberHit>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.member_id, i.account_ref, i.network, a.platform_id AS external_id, p.username, \
                p.display_name, b.current AS balance, coalesce(b.blocked, false) AS blocked \
         FROM identities i \
         JOIN external_accounts a ON a.account_ref = i.account_ref \
         LEFT JOIN profiles p ON p.account_ref = i.account_ref \
         LEFT JOIN balances b ON b.program_id = i.program_id AND b.member_id = i.member_id \
         WHERE i.program_id = $1 AND i.member_id = $2 ORDER BY i.network, a.platform_id",
    )
    .bind(program_id)
    .bind(member_id)
    .fetch_all(pool)
    .await
}

/// How a member is shown in lists: one username (or name) of theirs, if any is known.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Label {
    pub network: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
}

pub async fn labels(
    pool: &PgPool,
    program_id: Uuid,
    members: &[Uuid],
) -> Result<HashMap<Uuid, Label>, sqlx::Error> {
    if members.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT DISTINCT ON (i.member_id) i.member_id, i.network, p.username, p.display_name \
         FROM identities i LEFT JOIN profiles p ON p.account_ref = i.account_ref \
         WHERE i.program_id = $1 AND i.member_id = ANY($2) \
         ORDER BY i.member_id, (p.username IS NULL), i.network",
    )
    .bind(program_id)
    .bind(members)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(member, network, username, display_name)| {
            let label = Label {
                network,
                username,
                display_name,
            };
            (member, label)
        })
        .collect())
}

/// Members with a balance row, and the points they hold.
pub async fn program_totals(pool: &PgPool, program_id: Uuid) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*)::int8, coalesce(sum(current), 0)::int8 FROM balances WHERE program_id = $1",
    )
    .bind(program_id)
    .fetch_one(pool)
    .await
}

pub use app::period_counts::{PeriodCounts, period_counts};

/// A coupon issued for a reward.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Coupon {
    pub redemption_id: Uuid,
    pub member_id: Uuid,
    /// The member's name, as the panel shows members everywhere; filled in by the handler.
    #[sqlx(skip)]
    pub member_name: Option<String>,
    pub cost: i64,
    pub coupon_code: String,
    pub redeemed_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    /// When the shop or a manager accepted it.
    pub used_at: Option<DateTime<Utc>>,
    /// Who accepted it: `manager:<login>` or `shop:<key id>`.
    pub used_by: Option<String>,
}

/// Coupons of one reward, newest first.
pub async fn coupons(
    pool: &PgPool,
    program_id: Uuid,
    reward_id: Uuid,
    limit: i64,
) -> Result<Vec<Coupon>, sqlx::Error> {
    sqlx::query_as(
        "SELECT redemption_id, member_id, cost, coupon_code, redeemed_at, cancelled_at, \
                cancelled_by, cancel_reason, used_at, used_by FROM reward_redemptions \
         WHERE program_id = $1 AND reward_id = $2 ORDER BY redeemed_at DESC, redemption_id LIMIT $3",
    )
    .bind(program_id)
    .bind(reward_id)
    .bind(limit.clamp(1, MAX_ROWS))
    .fetch_all(pool)
    .await
}

/// The member and reward of a redemption, as the rewards read model knows it.
pub async fn redemption(
    pool: &PgPool,
    program_id: Uuid,
    redemption_id: Uuid,
) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT member_id, reward_id FROM reward_redemptions \
         WHERE program_id = $1 AND redemption_id = $2",
    )
    .bind(program_id)
    .bind(redemption_id)
    .fetch_optional(pool)
    .await
}

/// A program as the log's ProgramCreated events name it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgramRow {
    pub program_id: Uuid,
    pub name: String,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

impl From<app::reads::ProgramSummary> for ProgramRow {
    fn from(p: app::reads::ProgramSummary) -> Self {
        Self {
            program_id: p.program_id,
            name: p.name,
            time_zone: p.time_zone,
            created_at: p.created_at,
        }
    }
}
