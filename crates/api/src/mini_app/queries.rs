//! Reads the Mini App needs that the projections crate has no function for: account details
//! joined with `external_accounts` and `profiles`, and the names of campaigns and rewards.

use chrono::{DateTime, Utc};
use domain::network::LinkedAccount;
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// How, when and as whom an account was linked, as far as the read models know yet.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct AccountDetails {
    pub account_ref: Uuid,
    /// The platform's id; `None` if the mapping is gone.
    pub external_id: Option<String>,
    pub method: Option<String>,
    pub linked_at: Option<DateTime<Utc>>,
    pub username: Option<String>,
    pub display_name: Option<String>,
}

/// Details of the given accounts of a member (one row each, in no particular order).
pub async fn account_details(
    pool: &PgPool,
    program_id: Uuid,
    member_id: Uuid,
    accounts: &[LinkedAccount],
) -> sqlx::Result<Vec<AccountDetails>> {
    let refs: Vec<Uuid> = accounts.iter().map(|a| a.account.0).collect();
    sqlx::query_as(
        "SELECT k.account_ref, a.platform_id AS external_id, i.method, i.linked_at, \
                p.username, p.display_name \
         FROM unnest($3::uuid[]) AS k(account_ref) \
         LEFT JOIN external_accounts a ON a.account_ref = k.account_ref \
         LEFT JOIN identities i ON i.program_id = $1 AND i.member_id = $2 \
              AND i.account_ref = k.account_ref \
         LEFT JOIN profiles p ON p.account_ref = k.account_ref",
    )
    .bind(program_id)
    .bind(member_id)
    .bind(&refs)
    .fetch_all(pool)
    .await
}

/// Names of campaigns by id (from the campaigns read model).
pub async fn campaign_names(
    pool: &PgPool,
    program_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT campaign_id, name FROM campaigns WHERE program_id = $1 AND campaign_id = ANY($2)",
    )
    .bind(program_id)
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Titles of rewards by id (from the rewards read model).
pub async fn reward_titles(
    pool: &PgPool,
    program_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT reward_id, title FROM rewards WHERE program_id = $1 AND reward_id = ANY($2)",
    )
    .bind(program_id)
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Campaigns whose codeword this member has already redeemed.
pub async fn redeemed_campaigns(
    pool: &PgPool,
    program_id: Uuid,
    member_id: Uuid,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT campaign_id FROM codeword_redemptions WHERE program_id = $1 AND member_id = $2",
    )
    .bind(program_id)
    .bind(member_id)
    .fetch_all(pool)
    .await
}

/// The networks the program has channels on, each with a Telegram chat's title where the bot
/// learnt it (one row per network).
pub async fn connected_networks(
    pool: &PgPool,
    program_id: Uuid,
) -> sqlx::Result<Vec<(String, Option<String>)>> {
    sqlx::query_as(
        "SELECT c.network, max(b.title) AS title FROM channels c \
         LEFT JOIN bot_group_chats b ON c.network = 'telegram' AND b.chat_id = c.destination \
         WHERE c.program_id = $1 GROUP BY c.network ORDER BY c.network",
    )
    .bind(program_id)
    .fetch_all(pool)
    .await
}
