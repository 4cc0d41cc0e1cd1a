//! Projection "admin_log": manual balance adjustments (who, when, how much, why, what they
//! compensated) and every manager action (blocks, campaign, reward and rules changes) for the
//! admin panel's audit log. Rows are keyed by log position, so they are only ever inserted.

use crate::error::Result;
use crate::projection::{ROWS_PER_STATEMENT, Target};
use crate::source::Recorded;
use chrono::{DateTime, Utc};
use domain::Event;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdjustmentRow {
    pub position: i64,
    pub entry_id: Uuid,
    pub member_id: Uuid,
    pub delta: i64,
    pub reason: String,
    pub manager: String,
    /// The entry this adjustment nets to zero, if it is a compensation.
    pub compensates: Option<Uuid>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ManagerActionRow {
    pub position: i64,
    /// The event type, e.g. `MemberBlocked`.
    pub action: String,
    pub manager: String,
    /// The stream changed: `member-…`, `campaign-…`, `reward-…` or `program-…`.
    pub subject: String,
    pub at: DateTime<Utc>,
    /// The event as recorded.
    pub details: serde_json::Value,
}

/// Adjustments newest first, optionally of one member, before `before_position` (paging).
pub async fn adjustments(
    pool: &PgPool,
    program_id: Uuid,
    member_id: Option<Uuid>,
    before_position: Option<i64>,
    limit: i64,
) -> Result<Vec<AdjustmentRow>> {
    Ok(sqlx::query_as(
        "SELECT position, entry_id, member_id, delta, reason, manager, compensates, at FROM adjustments \
         WHERE program_id = $1 AND ($2::uuid IS NULL OR member_id = $2) AND position < $3 \
         ORDER BY position DESC LIMIT $4",
    )
    .bind(program_id)
    .bind(member_id)
    .bind(before_position.unwrap_or(i64::MAX))
    .bind(limit.clamp(0, 1_000))
    .fetch_all(pool)
    .await?)
}

/// Manager actions newest first, before `before_position` (paging).
pub async fn manager_actions(
    pool: &PgPool,
    program_id: Uuid,
    before_position: Option<i64>,
    limit: i64,
) -> Result<Vec<ManagerActionRow>> {
    Ok(sqlx::query_as(
        "SELECT position, action, manager, subject, at, details FROM manager_actions \
         WHERE program_id = $1 AND position < $2 ORDER BY position DESC LIMIT $3",
    )
    .bind(program_id)
    .bind(before_position.unwrap_or(i64::MAX))
    .bind(limit.clamp(0, 1_000))
    .fetch_all(pool)
    .await?)
}

/// The manager who caused an event, for the events only a manager can cause (a coupon used
/// through a shop's API key names the key: managers issued it).
pub fn manager_of(event: &Event) -> Option<&str> {
    match event {
        Event::RulesChanged { by, .. }
        | Event::PointsAdjusted { by, .. }
        | Event::RedemptionCancelled { by, .. }
        | Event::MemberBlocked { by, .. }
        | Event::MemberUnblocked { by, .. }
        | Event::CampaignCreated { by, .. }
        | Event::CampaignPaused { by, .. }
        | Event::CampaignResumed { by, .. }
        | Event::CampaignEnded { by, .. }
        | Event::RewardListed { by, .. }
        | Event::RewardStockChanged { by, .. }
        | Event::RewardDelisted { by, .. }
        | Event::RewardCodesAdded { by, .. }
        | Event::CouponUsed { by, .. } => Some(by),
        _ => None,
    }
}

/// The event as the audit log shows it; an upload names how many codes, not the codes (up to
/// 10,000 of the shop's coupons would be copied into every audit-log row otherwise).
fn details_of(event: &Event) -> serde_json::Value {
    let mut details = serde_json::to_value(event).unwrap_or_default();
    if let Event::RewardCodesAdded { codes, .. } = event
        && let Some(fields) = details.as_object_mut()
    {
        fields.remove("codes");
        fields.insert("codes_added".into(), codes.len().into());
    }
    details
}

type AdjustmentColumns = (
    Vec<Uuid>,
    Vec<i64>,
    Vec<Uuid>,
    Vec<Uuid>,
    Vec<i64>,
    Vec<String>,
    Vec<String>,
);
type ActionColumns = (Vec<Uuid>, Vec<i64>, Vec<String>, Vec<String>, Vec<String>);

#[derive(Debug, Default)]
pub(crate) struct Changes {
    adjustments: Vec<(Uuid, AdjustmentRow)>,
    actions: Vec<(Uuid, ManagerActionRow)>,
}

impl Changes {
    pub fn rows(&self) -> usize {
        self.adjustments.len() + self.actions.len()
    }

    pub fn add(&mut self, r: &Recorded) {
        let Some(manager) = manager_of(&r.event) else {
            return;
        };
        if let Event::PointsAdjusted {
            member_id,
            entry_id,
            delta,
            reason,
            note: _,
            by,
            compensates,
            at,
        } = &r.event
        {
            let row = AdjustmentRow {
                position: r.position,
                entry_id: entry_id.0,
                member_id: member_id.0,
                delta: *delta,
                reason: reason.clone(),
                manager: by.clone(),
                compensates: compensates.map(|c| c.0),
                at: at.get(),
            };
            self.adjustments.push((r.program_id, row));
        }
        let row = ManagerActionRow {
            position: r.position,
            action: r.event.event_type().to_string(),
            manager: manager.to_string(),
            subject: r.event.stream().to_string(),
            at: crate::source::event_at(&r.event),
            details: details_of(&r.event),
        };
        self.actions.push((r.program_id, row));
    }

    pub async fn write(self, conn: &mut PgConnection, target: Target) -> Result<()> {
        let table = target.table("adjustments");
        for chunk in self.adjustments.chunks(ROWS_PER_STATEMENT) {
            let mut c: AdjustmentColumns = Default::default();
            let (mut compensates, mut at): (Vec<Option<Uuid>>, Vec<DateTime<Utc>>) =
                Default::default();
            for (program, row) in chunk {
                c.0.push(*program);
                c.1.push(row.position);
                c.2.push(row.entry_id);
                c.3.push(row.member_id);
                c.4.push(row.delta);
                c.5.push(row.reason.clone());
                c.6.push(row.manager.clone());
                compensates.push(row.compensates);
                at.push(row.at);
            }
            sqlx::query(&format!(
                "INSERT INTO {table} (program_id, position, entry_id, member_id, delta, reason, manager, \
                 compensates, at) SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::uuid[], $4::uuid[], \
                 $5::int8[], $6::text[], $7::text[], $8::uuid[], $9::timestamptz[]) ON CONFLICT DO NOTHING"
            ))
            .bind(&c.0)
            .bind(&c.1)
            .bind(&c.2)
            .bind(&c.3)
            .bind(&c.4)
            .bind(&c.5)
            .bind(&c.6)
            .bind(&compensates)
            .bind(&at)
            .execute(&mut *conn)
            .await?;
        }
        let table = target.table("manager_actions");
        for chunk in self.actions.chunks(ROWS_PER_STATEMENT) {
            let mut c: ActionColumns = Default::default();
            let (mut at, mut details): (Vec<DateTime<Utc>>, Vec<serde_json::Value>) =
                Default::default();
            for (program, row) in chunk {
                c.0.push(*program);
                c.1.push(row.position);
                c.2.push(row.action.clone());
                c.3.push(row.manager.clone());
                c.4.push(row.subject.clone());
                at.push(row.at);
                details.push(row.details.clone());
            }
            sqlx::query(&format!(
                "INSERT INTO {table} (program_id, position, action, manager, subject, at, details) \
                 SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::text[], $4::text[], $5::text[], \
                 $6::timestamptz[], $7::jsonb[]) ON CONFLICT DO NOTHING"
            ))
            .bind(&c.0)
            .bind(&c.1)
            .bind(&c.2)
            .bind(&c.3)
            .bind(&c.4)
            .bind(&at)
            .bind(&details)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}
