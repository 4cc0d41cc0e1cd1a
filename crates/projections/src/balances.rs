//! Projection "balances": every member's current balance, lifetime earned, spent and expired, whether
//! they are blocked, and their tier (`member_tiers`, a row per member on the ladder). The
//! numbers follow `domain::folds::Balances` exactly.

use crate::error::Result;
use crate::projection::{FastMap, ROWS_PER_STATEMENT, Target};
use crate::source::Recorded;
use chrono::{DateTime, Utc};
use domain::Event;
use domain::folds::Balances;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// One member's balance as the read model holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct BalanceRow {
    pub program_id: Uuid,
    pub member_id: Uuid,
    pub current: i64,
    pub earned: i64,
    pub spent: i64,
    pub expired: i64,
    pub blocked: bool,
    pub registered_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A member's tier as the read model holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TierRow {
    pub tier: String,
    pub level: i32,
    pub multiplier_percent: i32,
    pub qualifying_points: i64,
    pub rule_version: i32,
    pub since: DateTime<Utc>,
}

/// A member's tier, or `None` below every threshold (or in a program without tiers).
pub async fn tier(pool: &PgPool, program_id: Uuid, member_id: Uuid) -> Result<Option<TierRow>> {
    Ok(sqlx::query_as(
        "SELECT tier, level, multiplier_percent, qualifying_points, rule_version, since \
         FROM member_tiers WHERE program_id = $1 AND member_id = $2",
    )
    .bind(program_id)
    .bind(member_id)
    .fetch_optional(pool)
    .await?)
}

/// How many members hold each tier of a program, by level.
pub async fn tier_counts(pool: &PgPool, program_id: Uuid) -> Result<Vec<(i32, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT level, min(tier), count(*) FROM member_tiers WHERE program_id = $1 \
         GROUP BY level ORDER BY level",
    )
    .bind(program_id)
    .fetch_all(pool)
    .await?)
}

/// The row a `TierChanged` leaves, or `None` when it takes the member off the ladder.
pub(crate) fn tier_row(event: &Event) -> Option<(Uuid, Option<TierRow>)> {
    let Event::TierChanged {
        member_id,
        to,
        level,
        multiplier_percent,
        qualifying_points,
        rule_version,
        at,
        ..
    } = event
    else {
        return None;
    };
    let row = to.as_ref().map(|tier| TierRow {
        tier: tier.clone(),
        level: *level as i32,
        multiplier_percent: *multiplier_percent as i32,
        qualifying_points: *qualifying_points,
        rule_version: *rule_version as i32,
        since: at.get(),
    });
    Some((member_id.0, row))
}

/// A member's balance, or `None` if the member has no row (never registered nor paid).
pub async fn balance(
    pool: &PgPool,
    program_id: Uuid,
    member_id: Uuid,
) -> Result<Option<BalanceRow>> {
    Ok(sqlx::query_as(
        "SELECT program_id, member_id, current, earned, spent, expired, blocked, registered_at, \
         updated_at \
         FROM balances WHERE program_id = $1 AND member_id = $2",
    )
    .bind(program_id)
    .bind(member_id)
    .fetch_optional(pool)
    .await?)
}

enum Status {
    Registered(DateTime<Utc>),
    Blocked(bool),
}

#[derive(Debug, Default)]
struct Delta {
    current: i64,
    earned: i64,
    spent: i64,
    expired: i64,
    blocked: Option<bool>,
    registered_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

impl Delta {
    fn touched(&mut self, r: &Recorded) {
        self.updated_at = Some(
            self.updated_at
                .map_or(r.recorded_at, |u| u.max(r.recorded_at)),
        );
    }
}

#[derive(Debug, Default)]
pub(crate) struct Changes {
    rows: FastMap<(Uuid, Uuid), Delta>,
    /// The domain's own fold, applied to one event at a time from empty: what it holds after
    /// an event is that event's effect, so the numbers cannot drift from `Balances`.
    scratch: Balances,
    /// Each member's last tier in the batch; `None` takes the row away.
    tiers: FastMap<(Uuid, Uuid), Option<TierRow>>,
}

impl Changes {
    pub fn rows(&self) -> usize {
        self.rows.len() + self.tiers.len()
    }

    pub fn add(&mut self, r: &Recorded) {
        if let Some((member, row)) = tier_row(&r.event) {
            self.tiers.insert((r.program_id, member), row);
            return;
        }
        self.scratch.apply(&r.event);
        for (member, effect) in self.scratch.0.drain() {
            let d = self.rows.entry((r.program_id, member.0)).or_default();
            d.current += effect.current;
            d.earned += effect.earned;
            d.spent += effect.spent;
            d.expired += effect.expired;
            d.touched(r);
        }
        let (member, change) = match &r.event {
            Event::MemberRegistered { member_id, at, .. } => {
                (member_id, Status::Registered(at.get()))
            }
            Event::MemberBlocked { member_id, .. } => (member_id, Status::Blocked(true)),
            Event::MemberUnblocked { member_id, .. } => (member_id, Status::Blocked(false)),
            _ => return,
        };
        let d = self.rows.entry((r.program_id, member.0)).or_default();
        match change {
            Status::Registered(at) => d.registered_at = Some(at),
            Status::Blocked(blocked) => d.blocked = Some(blocked),
        }
        d.touched(r);
    }

    pub async fn write(self, conn: &mut PgConnection, target: Target) -> Result<()> {
        write_tiers(&self.tiers, conn, target).await?;
        let table = target.table("balances");
        let mut rows: Vec<((Uuid, Uuid), Delta)> = self.rows.into_iter().collect();
        // In key order, a fresh table's primary key builds from presorted input.
        rows.sort_unstable_by_key(|(key, _)| *key);
        let mut blocks: (Vec<Uuid>, Vec<Uuid>, Vec<bool>) = Default::default();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut cols: Columns = Default::default();
            for ((program, member), d) in chunk {
                cols.program.push(*program);
                cols.member.push(*member);
                cols.current.push(d.current);
                cols.earned.push(d.earned);
                cols.spent.push(d.spent);
                cols.expired.push(d.expired);
                cols.blocked.push(d.blocked.unwrap_or(false));
                cols.registered_at.push(d.registered_at);
                cols.updated_at.push(d.updated_at.unwrap_or_default());
                if let (Some(b), false) = (d.blocked, target.fresh) {
                    blocks.0.push(*program);
                    blocks.1.push(*member);
                    blocks.2.push(b);
                }
            }
            let conflict = if target.fresh {
                ""
            } else {
                "ON CONFLICT (program_id, member_id) DO UPDATE SET \
                 current = b.current + EXCLUDED.current, earned = b.earned + EXCLUDED.earned, \
                 spent = b.spent + EXCLUDED.spent, expired = b.expired + EXCLUDED.expired, \
                 registered_at = coalesce(b.registered_at, EXCLUDED.registered_at), \
                 updated_at = greatest(b.updated_at, EXCLUDED.updated_at)"
            };
            sqlx::query(&format!(
                "INSERT INTO {table} AS b (program_id, member_id, current, earned, spent, expired, \
                 blocked, registered_at, updated_at) \
                 SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::int8[], $5::int8[], \
                 $6::int8[], $7::bool[], $8::timestamptz[], $9::timestamptz[]) {conflict}"
            ))
            .bind(&cols.program)
            .bind(&cols.member)
            .bind(&cols.current)
            .bind(&cols.earned)
            .bind(&cols.spent)
            .bind(&cols.expired)
            .bind(&cols.blocked)
            .bind(&cols.registered_at)
            .bind(&cols.updated_at)
            .execute(&mut *conn)
            .await?;
        }
        // Blocking is rare and an upsert cannot tell "unchanged" from "unblocked": set it apart.
        if !blocks.0.is_empty() {
            sqlx::query(&format!(
                "UPDATE {table} AS b SET blocked = t.blocked \
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::bool[]) AS t(program_id, member_id, blocked) \
                 WHERE b.program_id = t.program_id AND b.member_id = t.member_id"
            ))
            .bind(&blocks.0)
            .bind(&blocks.1)
            .bind(&blocks.2)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Columns {
    program: Vec<Uuid>,
    member: Vec<Uuid>,
    current: Vec<i64>,
    earned: Vec<i64>,
    spent: Vec<i64>,
    expired: Vec<i64>,
    blocked: Vec<bool>,
    registered_at: Vec<Option<DateTime<Utc>>>,
    updated_at: Vec<DateTime<Utc>>,
}

/// Upserts the members who reached a tier and deletes those who left the ladder. Tier moves are
/// rare beside awards, so one statement each is enough.
async fn write_tiers(
    tiers: &FastMap<(Uuid, Uuid), Option<TierRow>>,
    conn: &mut PgConnection,
    target: Target,
) -> Result<()> {
    if tiers.is_empty() {
        return Ok(());
    }
    let table = target.table("member_tiers");
    let mut cols: TierColumns = Default::default();
    let mut gone: (Vec<Uuid>, Vec<Uuid>) = Default::default();
    for ((program, member), row) in tiers {
        match row {
            Some(row) => {
                cols.program.push(*program);
                cols.member.push(*member);
                cols.tier.push(row.tier.clone());
                cols.level.push(row.level);
                cols.multiplier_percent.push(row.multiplier_percent);
                cols.qualifying_points.push(row.qualifying_points);
                cols.rule_version.push(row.rule_version);
                cols.since.push(row.since);
            }
            None => {
                gone.0.push(*program);
                gone.1.push(*member);
            }
        }
    }
    if !gone.0.is_empty() && !target.fresh {
        sqlx::query(&format!(
            "DELETE FROM {table} AS t USING UNNEST($1::uuid[], $2::uuid[]) AS g(program_id, member_id) \
             WHERE t.program_id = g.program_id AND t.member_id = g.member_id"
        ))
        .bind(&gone.0)
        .bind(&gone.1)
        .execute(&mut *conn)
        .await?;
    }
    if cols.program.is_empty() {
        return Ok(());
    }
    let conflict = if target.fresh {
        ""
    } else {
        "ON CONFLICT (program_id, member_id) DO UPDATE SET tier = EXCLUDED.tier, \
         level = EXCLUDED.level, multiplier_percent = EXCLUDED.multiplier_percent, \
         qualifying_points = EXCLUDED.qualifying_points, rule_version = EXCLUDED.rule_version, \
         since = EXCLUDED.since"
    };
    sqlx::query(&format!(
        "INSERT INTO {table} (program_id, member_id, tier, level, multiplier_percent, \
         qualifying_points, rule_version, since) \
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::int4[], $5::int4[], \
         $6::int8[], $7::int4[], $8::timestamptz[]) {conflict}"
    ))
    .bind(&cols.program)
    .bind(&cols.member)
    .bind(&cols.tier)
    .bind(&cols.level)
    .bind(&cols.multiplier_percent)
    .bind(&cols.qualifying_points)
    .bind(&cols.rule_version)
    .bind(&cols.since)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Default)]
struct TierColumns {
    program: Vec<Uuid>,
    member: Vec<Uuid>,
    tier: Vec<String>,
    level: Vec<i32>,
    multiplier_percent: Vec<i32>,
    qualifying_points: Vec<i64>,
    rule_version: Vec<i32>,
    since: Vec<DateTime<Utc>>,
}
