//! Reads the Mini App needs that the projections crate has no function for: account details
//! joined with `profiles`, and the names of campaigns and rewards.

use chrono::{DateTime, Utc};
use domain::network::ExternalIdentity;
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// How, when and as whom an account was linked, as far as the read models know yet.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct AccountDetails {
    pub network: String,
    pub scope: String,
    pub external_id: String,
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
    accounts: &[ExternalIdentity],
) -> sqlx::Result<Vec<AccountDetails>> {
    let networks: Vec<&str> = accounts.iter().map(|a| a.network.as_str()).collect();
    let scopes: Vec<&str> = accounts.iter().map(|a| a.scope.as_str()).collect();
    let ids: Vec<&str> = accounts.iter().map(|a| a.external_id.as_str()).collect();
    sqlx::query_as(
        "SELECT k.network, k.scope, k.external_id, i.method, i.linked_at, p.username, \
                p.display_name \
         FROM unnest($3::text[], $4::text[], $5::text[]) AS k(network, scope, external_id) \
         LEFT JOIN identities i ON i.program_id = $1 AND i.member_id = $2 \
              AND i.network = k.network AND i.scope = k.scope AND i.external_id = k.external_id \
         LEFT JOIN profiles p ON p.program_id = $1 \
              AND p.network = k.network AND p.scope = k.scope AND p.external_id = k.external_id",
    )
    .bind(program_id)
    .bind(member_id)
    .bind(&networks)
    .bind(&scopes)
    .bind(&ids)
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
