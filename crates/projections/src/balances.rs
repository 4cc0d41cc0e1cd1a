//! Projection "balances": every member's current balance, lifetime earned and spent, and
//! whether they are blocked. The numbers follow `domain::folds::Balances` exactly.

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
    pub blocked: bool,
    pub registered_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A member's balance, or `None` if the member has no row (never registered nor paid).
pub async fn balance(
    pool: &PgPool,
    program_id: Uuid,
    member_id: Uuid,
) -> Result<Option<BalanceRow>> {
    Ok(sqlx::query_as(
        "SELECT program_id, member_id, current, earned, spent, blocked, registered_at, updated_at \
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
}

impl Changes {
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    pub fn add(&mut self, r: &Recorded) {
        self.scratch.apply(&r.event);
        for (member, effect) in self.scratch.0.drain() {
            let d = self.rows.entry((r.program_id, member.0)).or_default();
            d.current += effect.current;
            d.earned += effect.earned;
            d.spent += effect.spent;
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
                 spent = b.spent + EXCLUDED.spent, \
                 registered_at = coalesce(b.registered_at, EXCLUDED.registered_at), \
                 updated_at = greatest(b.updated_at, EXCLUDED.updated_at)"
            };
            sqlx::query(&format!(
                "INSERT INTO {table} AS b (program_id, member_id, current, earned, spent, blocked, \
                 registered_at, updated_at) \
                 SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::int8[], $5::int8[], \
                 $6::bool[], $7::timestamptz[], $8::timestamptz[]) {conflict}"
            ))
            .bind(&cols.program)
            .bind(&cols.member)
            .bind(&cols.current)
            .bind(&cols.earned)
            .bind(&cols.spent)
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
    blocked: Vec<bool>,
    registered_at: Vec<Option<DateTime<Utc>>>,
    updated_at: Vec<DateTime<Utc>>,
}
