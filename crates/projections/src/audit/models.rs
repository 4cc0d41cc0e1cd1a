//! Every read model's rows, read in the audit's snapshot on a connection of their own, one
//! model at a time after the log was folded, and handed to the comparison one row at a time as
//! they arrive: the audit holds what the fold expects of the models, not their rows (but one
//! campaign's codeword redemptions, whose order is compared).

use crate::error::Result;
use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use sqlx::PgConnection;
use store::BinaryCopy;
use uuid::Uuid;

pub(crate) type BalanceRow = (Uuid, Uuid, i64, i64, i64, i64, bool);
pub(crate) type CampaignRow = (Uuid, Uuid, i64, Option<i32>, String, i32);
pub(crate) type CodewordRow = (Uuid, Uuid, Uuid, String, String, i64, DateTime<Utc>);
pub(crate) type RewardRow = (Uuid, Uuid, String, i64, i64, i64, bool);
pub(crate) type RedemptionRow = (
    Uuid,
    Uuid,
    Uuid,
    Uuid,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);
pub(crate) type IdentityRow = (Uuid, String, Uuid, Uuid);
pub(crate) type AdjustmentRow = (Uuid, i64, Uuid, i64, String, String, Option<Uuid>);
pub(crate) type ActionRow = (Uuid, i64, String, String, String);
pub(crate) type TierModelRow = (
    Uuid,
    Uuid,
    String,
    i32,
    i32,
    i64,
    i32,
    chrono::DateTime<chrono::Utc>,
);
pub(crate) type HeldRow = (Uuid, Uuid, Uuid, i64, String, Option<String>);
pub(crate) type DailyRow = (Uuid, NaiveDate, String, i64, i64, i64, i64, i64);
/// (season, member, score).
pub(crate) type SeasonScoreRow = (Uuid, Uuid, i64);
/// (program, season, status, frozen standings, participants, prizes paid, prizes withheld).
pub(crate) type SeasonModelRow = (
    Uuid,
    Uuid,
    String,
    Option<sqlx::types::Json<Vec<domain::season::Standing>>>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
);

/// Every row of the leaderboard model, by binary COPY (at a million members it is most of the
/// models' rows), handed to `each` as it is read.
pub(crate) async fn each_board_row(
    conn: &mut PgConnection,
    mut each: impl FnMut(Uuid, &str, Uuid, i64),
) -> Result<()> {
    let mut rows = BinaryCopy::start(
        conn,
        "SELECT program_id, board_key, member_id, score FROM leaderboard",
    )
    .await?;
    while let Some(mut row) = rows.next_row().await? {
        let program = row.uuid()?;
        let key = row.text()?;
        let member = row.uuid()?;
        let score = row.bigint()?;
        each(program, key, member, score);
    }
    Ok(())
}

/// Each row of a model by query, handed to `each` as it arrives (a stream: the rows are not
/// collected first).
pub(crate) async fn each_row<T>(
    conn: &mut PgConnection,
    query: &str,
    mut each: impl FnMut(T),
) -> Result<()>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let mut rows = sqlx::query_as::<_, T>(query).fetch(conn);
    while let Some(row) = rows.try_next().await? {
        each(row);
    }
    Ok(())
}

pub(crate) const BALANCES: &str =
    "SELECT program_id, member_id, current, earned, spent, expired, blocked FROM balances";
pub(crate) const TIERS: &str = "SELECT program_id, member_id, tier, level, multiplier_percent, \
     qualifying_points, rule_version, since FROM member_tiers";
pub(crate) const CAMPAIGNS: &str =
    "SELECT program_id, campaign_id, points, total_cap, status, redemptions FROM campaigns";
pub(crate) const CODEWORDS: &str = "SELECT program_id, campaign_id, member_id, network, \
     reference, points, redeemed_at FROM codeword_redemptions ORDER BY campaign_id, position";
pub(crate) const REWARDS: &str =
    "SELECT program_id, reward_id, title, cost, stock, issued, delisted FROM rewards";
pub(crate) const REDEMPTIONS: &str = "SELECT program_id, redemption_id, reward_id, member_id, \
     cost, coupon_code, refund, cancelled_by, cancel_reason, used_by FROM reward_redemptions";
pub(crate) const IDENTITIES: &str =
    "SELECT program_id, network, account_ref, member_id FROM identities";
pub(crate) const ADJUSTMENTS: &str = "SELECT program_id, position, member_id, delta, reason, \
     manager, compensates FROM adjustments";
pub(crate) const ACTIONS: &str =
    "SELECT program_id, position, action, manager, subject FROM manager_actions";
pub(crate) const HELD: &str =
    "SELECT program_id, entry_id, member_id, points, status, decided_by FROM held_awards";
pub(crate) const DAILY: &str = "SELECT program_id, day, network, events, points_awarded, \
     points_reversed, active_members, new_members FROM daily_stats";
pub(crate) const SEASONS: &str = "SELECT program_id, season_id, status, standings, \
     participants, prizes_paid, prizes_withheld FROM seasons";
pub(crate) const SEASON_SCORES: &str = "SELECT season_id, member_id, score FROM season_scores";
