//! What managers and members did in a period, from the read models: the dashboard's totals
//! and the managers' chat digest read the same numbers.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// What managers and members did in a period, beside the daily charts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct PeriodCounts {
    /// Points managers added or removed by hand (not reversals), and how many times.
    pub adjustments: i64,
    pub adjusted_points: i64,
    /// Entries managers reversed (an adjustment that compensates an entry).
    pub manager_reversals: i64,
    /// Codewords redeemed, and the points they paid.
    pub codewords: i64,
    pub codeword_points: i64,
    /// Coupons issued for rewards, the points spent on them, and coupons cancelled.
    pub coupons_issued: i64,
    pub points_spent: i64,
    pub coupons_cancelled: i64,
}

/// [`PeriodCounts`] of one program for `[from, until)`.
pub async fn period_counts(
    pool: &PgPool,
    program_id: Uuid,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<PeriodCounts, sqlx::Error> {
    sqlx::query_as(
        "SELECT \
           count(*) FILTER (WHERE a.compensates IS NULL) AS adjustments, \
           coalesce(sum(a.delta) FILTER (WHERE a.compensates IS NULL), 0)::int8 AS adjusted_points, \
           count(*) FILTER (WHERE a.compensates IS NOT NULL) AS manager_reversals, \
           (SELECT count(*) FROM codeword_redemptions \
             WHERE program_id = $1 AND redeemed_at >= $2 AND redeemed_at < $3) AS codewords, \
           (SELECT coalesce(sum(points), 0)::int8 FROM codeword_redemptions \
             WHERE program_id = $1 AND redeemed_at >= $2 AND redeemed_at < $3) AS codeword_points, \
           (SELECT count(*) FROM reward_redemptions \
             WHERE program_id = $1 AND redeemed_at >= $2 AND redeemed_at < $3) AS coupons_issued, \
           (SELECT coalesce(sum(cost), 0)::int8 FROM reward_redemptions \
             WHERE program_id = $1 AND redeemed_at >= $2 AND redeemed_at < $3) AS points_spent, \
           (SELECT count(*) FROM reward_redemptions WHERE program_id = $1 \
             AND cancelled_at >= $2 AND cancelled_at < $3) AS coupons_cancelled \
         FROM adjustments a WHERE a.program_id = $1 AND a.at >= $2 AND a.at < $3",
    )
    .bind(program_id)
    .bind(from)
    .bind(until)
    .fetch_one(pool)
    .await
}

/// The instant a local day starts in `tz`. A day whose midnight a clock change skips starts at
/// its first hour that exists.
pub fn day_start(day: chrono::NaiveDate, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    (0..3)
        .filter_map(|hour| day.and_hms_opt(hour, 0, 0))
        .find_map(|t| t.and_local_timezone(tz).earliest())
        .map(|t| t.with_timezone(&Utc))
}
