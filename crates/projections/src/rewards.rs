//! Projection "rewards": the catalog with stock left (as `domain::reward::RewardState` counts
//! it), and every redemption with its coupon code and, if cancelled, who cancelled it and why.

use crate::error::Result;
use crate::projection::{ROWS_PER_STATEMENT, Target};
use crate::source::Recorded;
use chrono::{DateTime, Utc};
use domain::Event;
use serde::Serialize;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RewardRow {
    pub program_id: Uuid,
    pub reward_id: Uuid,
    pub title: String,
    pub cost: i64,
    /// Units left to issue.
    pub stock: i64,
    pub issued: i64,
    pub returned: i64,
    pub delisted: bool,
    pub listed_by: String,
    pub updated_at: DateTime<Utc>,
    /// Codes come from a pool the brand uploads; stock is its unused codes.
    pub coupon_pool: bool,
    /// A cancelled redemption's code goes back to the pool.
    pub return_codes: bool,
    /// Managers are alerted when stock falls to this.
    pub low_stock_alert: Option<i32>,
    /// Codes ever uploaded to the pool.
    pub codes_uploaded: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RedemptionRow {
    pub program_id: Uuid,
    pub redemption_id: Uuid,
    pub reward_id: Uuid,
    pub member_id: Uuid,
    pub cost: i64,
    pub coupon_code: String,
    pub redeemed_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub refund: Option<i64>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub used_at: Option<DateTime<Utc>>,
    pub used_by: Option<String>,
}

/// The catalog of a program, listed rewards first.
pub async fn rewards<'c>(
    db: impl sqlx::PgExecutor<'c>,
    program_id: Uuid,
) -> Result<Vec<RewardRow>> {
    Ok(sqlx::query_as(
        "SELECT program_id, reward_id, title, cost, stock, issued, returned, delisted, listed_by, updated_at, \
         coupon_pool, return_codes, low_stock_alert, codes_uploaded \
         FROM rewards WHERE program_id = $1 ORDER BY delisted, title, reward_id",
    )
    .bind(program_id)
    .fetch_all(db)
    .await?)
}

/// A member's redemptions, newest first, at most `limit` (≤ 1,000).
pub async fn redemptions_of<'c>(
    db: impl sqlx::PgExecutor<'c>,
    program_id: Uuid,
    member_id: Uuid,
    limit: i64,
) -> Result<Vec<RedemptionRow>> {
    Ok(sqlx::query_as(
        "SELECT program_id, redemption_id, reward_id, member_id, cost, coupon_code, redeemed_at, \
         cancelled_at, refund, cancelled_by, cancel_reason, used_at, used_by FROM reward_redemptions \
         WHERE program_id = $1 AND member_id = $2 ORDER BY redeemed_at DESC, redemption_id LIMIT $3",
    )
    .bind(program_id)
    .bind(member_id)
    .bind(limit.clamp(0, 1_000))
    .fetch_all(db)
    .await?)
}

#[derive(Debug, Default)]
struct StockPatch {
    stock: i64,
    issued: i64,
    returned: i64,
    uploaded: i64,
    delisted: bool,
    updated_at: Option<DateTime<Utc>>,
}

type CancelColumns = (
    Vec<Uuid>,
    Vec<Uuid>,
    Vec<DateTime<Utc>>,
    Vec<i64>,
    Vec<String>,
    Vec<String>,
);

#[derive(Debug, Clone)]
struct Cancel {
    at: DateTime<Utc>,
    refund: i64,
    by: String,
    reason: String,
}

#[derive(Debug, Default)]
pub(crate) struct Changes {
    listed: HashMap<(Uuid, Uuid), RewardRow>,
    patches: HashMap<(Uuid, Uuid), StockPatch>,
    redeemed: HashMap<(Uuid, Uuid), RedemptionRow>,
    cancels: HashMap<(Uuid, Uuid), Cancel>,
    uses: HashMap<(Uuid, Uuid), (DateTime<Utc>, String)>,
}

impl Changes {
    pub fn rows(&self) -> usize {
        self.listed.len()
            + self.patches.len()
            + self.redeemed.len()
            + self.cancels.len()
            + self.uses.len()
    }

    pub fn add(&mut self, r: &Recorded) {
        let p = r.program_id;
        let (reward, stock, issued, returned, uploaded, delisted) = match &r.event {
            Event::RewardListed {
                reward_id,
                title,
                cost,
                stock,
                by,
                coupon_pool,
                return_codes,
                low_stock_alert,
                ..
            } => {
                let row = RewardRow {
                    program_id: p,
                    reward_id: reward_id.0,
                    title: title.clone(),
                    cost: *cost,
                    stock: i64::from(*stock),
                    issued: 0,
                    returned: 0,
                    delisted: false,
                    listed_by: by.clone(),
                    updated_at: r.recorded_at,
                    coupon_pool: *coupon_pool,
                    return_codes: *return_codes,
                    low_stock_alert: low_stock_alert.map(|t| i32::try_from(t).unwrap_or(i32::MAX)),
                    codes_uploaded: 0,
                };
                self.listed.insert((p, reward_id.0), row);
                return;
            }
            Event::RewardStockChanged {
                reward_id, delta, ..
            } => (reward_id.0, i64::from(*delta), 0, 0, 0, false),
            Event::RewardDelisted { reward_id, .. } => (reward_id.0, 0, 0, 0, 0, true),
            Event::RewardIssued { reward_id, .. } => (reward_id.0, -1, 1, 0, 0, false),
            Event::RewardReturned { reward_id, .. } => (reward_id.0, 1, 0, 1, 0, false),
            Event::RewardCodesAdded {
                reward_id, codes, ..
            } => {
                let n = codes.len() as i64;
                (reward_id.0, n, 0, 0, n, false)
            }
            Event::CouponUsed {
                redemption_id,
                by,
                at,
                ..
            } => {
                let used = (at.get(), by.clone());
                match self.redeemed.get_mut(&(p, redemption_id.0)) {
                    Some(row) => {
                        row.used_at = Some(used.0);
                        row.used_by = Some(used.1);
                    }
                    None => {
                        self.uses.insert((p, redemption_id.0), used);
                    }
                }
                return;
            }
            Event::RewardRedeemed {
                member_id,
                redemption_id,
                reward_id,
                cost,
                coupon_code,
                at,
                ..
            } => {
                let row = RedemptionRow {
                    program_id: p,
                    redemption_id: redemption_id.0,
                    reward_id: reward_id.0,
                    member_id: member_id.0,
                    cost: *cost,
                    coupon_code: coupon_code.clone(),
                    redeemed_at: at.get(),
                    cancelled_at: None,
                    refund: None,
                    cancelled_by: None,
                    cancel_reason: None,
                    used_at: None,
                    used_by: None,
                };
                self.redeemed.insert((p, redemption_id.0), row);
                return;
            }
            Event::RedemptionCancelled {
                redemption_id,
                refund,
                by,
                reason,
                at,
                ..
            } => {
                let cancel = Cancel {
                    at: at.get(),
                    refund: *refund,
                    by: by.clone(),
                    reason: reason.clone(),
                };
                match self.redeemed.get_mut(&(p, redemption_id.0)) {
                    Some(row) => {
                        row.cancelled_at = Some(cancel.at);
                        row.refund = Some(cancel.refund);
                        row.cancelled_by = Some(cancel.by);
                        row.cancel_reason = Some(cancel.reason);
                    }
                    None => {
                        self.cancels.insert((p, redemption_id.0), cancel);
                    }
                }
                return;
            }
            _ => return,
        };
        if let Some(row) = self.listed.get_mut(&(p, reward)) {
            row.stock += stock;
            row.issued += issued;
            row.returned += returned;
            row.codes_uploaded += uploaded;
            row.delisted |= delisted;
            row.updated_at = r.recorded_at;
        } else {
            let patch = self.patches.entry((p, reward)).or_default();
            patch.stock += stock;
            patch.issued += issued;
            patch.returned += returned;
            patch.uploaded += uploaded;
            patch.delisted |= delisted;
            patch.updated_at = Some(r.recorded_at);
        }
    }

    pub async fn write(self, conn: &mut PgConnection, target: Target) -> Result<()> {
        let rewards = target.table("rewards");
        for row in self.listed.values() {
            sqlx::query(&format!(
                "INSERT INTO {rewards} (program_id, reward_id, title, cost, stock, issued, returned, \
                 delisted, listed_by, updated_at, coupon_pool, return_codes, low_stock_alert, \
                 codes_uploaded) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT DO NOTHING"
            ))
            .bind(row.program_id)
            .bind(row.reward_id)
            .bind(&row.title)
            .bind(row.cost)
            .bind(row.stock)
            .bind(row.issued)
            .bind(row.returned)
            .bind(row.delisted)
            .bind(&row.listed_by)
            .bind(row.updated_at)
            .bind(row.coupon_pool)
            .bind(row.return_codes)
            .bind(row.low_stock_alert)
            .bind(row.codes_uploaded)
            .execute(&mut *conn)
            .await?;
        }
        for ((program, reward), p) in &self.patches {
            sqlx::query(&format!(
                "UPDATE {rewards} SET stock = stock + $3, issued = issued + $4, returned = returned + $5, \
                 delisted = delisted OR $6, updated_at = greatest(updated_at, $7), \
                 codes_uploaded = codes_uploaded + $8 \
                 WHERE program_id = $1 AND reward_id = $2"
            ))
            .bind(program)
            .bind(reward)
            .bind(p.stock)
            .bind(p.issued)
            .bind(p.returned)
            .bind(p.delisted)
            .bind(p.updated_at.unwrap_or_default())
            .bind(p.uploaded)
            .execute(&mut *conn)
            .await?;
        }
        let redemptions = target.table("reward_redemptions");
        let rows: Vec<RedemptionRow> = self.redeemed.into_values().collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut c: RedemptionColumns = Default::default();
            for row in chunk {
                c.push(row);
            }
            sqlx::query(&format!(
                "INSERT INTO {redemptions} (program_id, redemption_id, reward_id, member_id, cost, \
                 coupon_code, redeemed_at, cancelled_at, refund, cancelled_by, cancel_reason, \
                 used_at, used_by) \
                 SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int8[], \
                 $6::text[], $7::timestamptz[], $8::timestamptz[], $9::int8[], $10::text[], $11::text[], \
                 $12::timestamptz[], $13::text[]) \
                 ON CONFLICT DO NOTHING"
            ))
            .bind(&c.program)
            .bind(&c.redemption)
            .bind(&c.reward)
            .bind(&c.member)
            .bind(&c.cost)
            .bind(&c.coupon)
            .bind(&c.redeemed_at)
            .bind(&c.cancelled_at)
            .bind(&c.refund)
            .bind(&c.cancelled_by)
            .bind(&c.cancel_reason)
            .bind(&c.used_at)
            .bind(&c.used_by)
            .execute(&mut *conn)
            .await?;
        }
        if !self.cancels.is_empty() {
            let mut c: CancelColumns = Default::default();
            for ((program, redemption), cancel) in self.cancels {
                c.0.push(program);
                c.1.push(redemption);
                c.2.push(cancel.at);
                c.3.push(cancel.refund);
                c.4.push(cancel.by);
                c.5.push(cancel.reason);
            }
            sqlx::query(&format!(
                "UPDATE {redemptions} AS r SET cancelled_at = t.at, refund = t.refund, \
                 cancelled_by = t.by, cancel_reason = t.reason \
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::int8[], $5::text[], $6::text[]) \
                   AS t(program_id, redemption_id, at, refund, by, reason) \
                 WHERE r.program_id = t.program_id AND r.redemption_id = t.redemption_id"
            ))
            .bind(&c.0)
            .bind(&c.1)
            .bind(&c.2)
            .bind(&c.3)
            .bind(&c.4)
            .bind(&c.5)
            .execute(&mut *conn)
            .await?;
        }
        if !self.uses.is_empty() {
            let mut c: (Vec<Uuid>, Vec<Uuid>, Vec<DateTime<Utc>>, Vec<String>) = Default::default();
            for ((program, redemption), (at, by)) in self.uses {
                c.0.push(program);
                c.1.push(redemption);
                c.2.push(at);
                c.3.push(by);
            }
            sqlx::query(&format!(
                "UPDATE {redemptions} AS r SET used_at = t.at, used_by = t.by \
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[]) \
                   AS t(program_id, redemption_id, at, by) \
                 WHERE r.program_id = t.program_id AND r.redemption_id = t.redemption_id"
            ))
            .bind(&c.0)
            .bind(&c.1)
            .bind(&c.2)
            .bind(&c.3)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct RedemptionColumns {
    program: Vec<Uuid>,
    redemption: Vec<Uuid>,
    reward: Vec<Uuid>,
    member: Vec<Uuid>,
    cost: Vec<i64>,
    coupon: Vec<String>,
    redeemed_at: Vec<DateTime<Utc>>,
    cancelled_at: Vec<Option<DateTime<Utc>>>,
    refund: Vec<Option<i64>>,
    cancelled_by: Vec<Option<String>>,
    cancel_reason: Vec<Option<String>>,
    used_at: Vec<Option<DateTime<Utc>>>,
    used_by: Vec<Option<String>>,
}

impl RedemptionColumns {
    fn push(&mut self, row: &RedemptionRow) {
        self.program.push(row.program_id);
        self.redemption.push(row.redemption_id);
        self.reward.push(row.reward_id);
        self.member.push(row.member_id);
        self.cost.push(row.cost);
        self.coupon.push(row.coupon_code.clone());
        self.redeemed_at.push(row.redeemed_at);
        self.cancelled_at.push(row.cancelled_at);
        self.refund.push(row.refund);
        self.cancelled_by.push(row.cancelled_by.clone());
        self.cancel_reason.push(row.cancel_reason.clone());
        self.used_at.push(row.used_at);
        self.used_by.push(row.used_by.clone());
    }
}
