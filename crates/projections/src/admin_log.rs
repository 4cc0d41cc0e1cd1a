//! Projection "admin_log": manual balance adjustments (who, when, how much, why, what they
//! compensated), every manager action (blocks, campaign, reward and rules changes) for the
//! admin panel's audit log, and the awards held for review with their decisions. Adjustments
//! and actions are keyed by log position, so they are only ever inserted; a held award's row
//! is inserted when held and updated once, when decided.

use crate::error::Result;
use crate::projection::{ROWS_PER_STATEMENT, Target};
use crate::source::Recorded;
use chrono::{DateTime, Utc};
use domain::Event;
use domain::event::ReversalReason;
use domain::review::Rejection;
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

/// A held award as the review queue shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct HeldAwardRow {
    pub entry_id: Uuid,
    pub member_id: Uuid,
    pub network: String,
    pub kind: String,
    pub points: i64,
    /// Which rule held it: `velocity_minute`, `velocity_hour`, `large_codeword`, `new_member`.
    pub hold: String,
    pub campaign_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
    pub held_at: DateTime<Utc>,
    pub position: i64,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// The manager who decided; none while pending, or when the activity was undone.
    pub decided_by: Option<String>,
    /// A manager's reason for rejecting, or what undid the activity (`deleted`, `withdrawn`,
    /// `left`).
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// Held awards of one status (or all), optionally of one member, in log order (oldest first:
/// a queue is worked from its head), after `after_position` (paging).
pub async fn held_awards(
    pool: &PgPool,
    program_id: Uuid,
    status: Option<&str>,
    member_id: Option<Uuid>,
    after_position: Option<i64>,
    limit: i64,
) -> Result<Vec<HeldAwardRow>> {
    Ok(sqlx::query_as(
        "SELECT entry_id, member_id, network, kind, points, hold, campaign_id, occurred_at, held_at, \
         position, status, decided_by, decision_reason, decided_at FROM held_awards \
         WHERE program_id = $1 AND ($2::text IS NULL OR status = $2) \
         AND ($3::uuid IS NULL OR member_id = $3) AND position > $4 \
         ORDER BY position LIMIT $5",
    )
    .bind(program_id)
    .bind(status)
    .bind(member_id)
    .bind(after_position.unwrap_or(-1))
    .bind(limit.clamp(0, 1_000))
    .fetch_all(pool)
    .await?)
}

/// The member of each of `entries` that is a held award of the program, in one query:
/// (entry, member); an entry that is none is left out.
pub async fn held_award_members(
    pool: &PgPool,
    program_id: Uuid,
    entries: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>> {
    Ok(sqlx::query_as(
        "SELECT entry_id, member_id FROM held_awards WHERE program_id = $1 AND entry_id = ANY($2)",
    )
    .bind(program_id)
    .bind(entries)
    .fetch_all(pool)
    .await?)
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
        | Event::CouponUsed { by, .. }
        | Event::HeldAwardApproved { by, .. }
        | Event::SeasonScheduled { by, .. }
        | Event::SeasonCancelled { by, .. }
        | Event::HeldAwardRejected {
            rejection: Rejection::Manager { by, .. },
            ..
        } => Some(by),
        _ => None,
    }
}

/// A held award's decision as its row records it: (status, manager, reason).
pub fn decision_of(event: &Event) -> Option<(&'static str, Option<&str>, Option<&str>)> {
    match event {
        Event::HeldAwardApproved { by, .. } => Some(("approved", Some(by), None)),
        Event::HeldAwardRejected { rejection, .. } => Some(match rejection {
            Rejection::Manager { by, reason } => ("rejected", Some(by), Some(reason)),
            Rejection::ActivityUndone { cause } => ("rejected", None, Some(reversal_cause(*cause))),
        }),
        _ => None,
    }
}

fn reversal_cause(cause: ReversalReason) -> &'static str {
    match cause {
        ReversalReason::Deleted => "deleted",
        ReversalReason::Withdrawn => "withdrawn",
        ReversalReason::Left => "left",
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

/// A decision on a held award: (program, entry, status, manager, reason, when).
type Decision = (
    Uuid,
    Uuid,
    &'static str,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
);

#[derive(Debug, Default)]
pub(crate) struct Changes {
    adjustments: Vec<(Uuid, AdjustmentRow)>,
    actions: Vec<(Uuid, ManagerActionRow)>,
    held: Vec<(Uuid, HeldAwardRow)>,
    decisions: Vec<Decision>,
}

impl Changes {
    pub fn rows(&self) -> usize {
        self.adjustments.len() + self.actions.len() + self.held.len() + self.decisions.len()
    }

    pub fn add(&mut self, r: &Recorded) {
        self.add_held(r);
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

    fn add_held(&mut self, r: &Recorded) {
        if let Event::AwardHeld {
            member_id,
            entry_id,
            activity,
            points,
            campaign_id,
            occurred_at,
            at,
            hold,
            ..
        } = &r.event
        {
            let row = HeldAwardRow {
                entry_id: entry_id.0,
                member_id: member_id.0,
                network: activity.network.as_str().to_string(),
                kind: activity.kind.as_str().to_string(),
                points: *points,
                hold: hold.as_str().to_string(),
                campaign_id: campaign_id.map(|c| c.0),
                occurred_at: occurred_at.get(),
                held_at: at.get(),
                position: r.position,
                status: "pending".into(),
                decided_by: None,
                decision_reason: None,
                decided_at: None,
            };
            self.held.push((r.program_id, row));
        }
        if let (
            Some((status, by, reason)),
            Event::HeldAwardApproved {
                award_entry_id, at, ..
            }
            | Event::HeldAwardRejected {
                award_entry_id, at, ..
            },
        ) = (decision_of(&r.event), &r.event)
        {
            self.decisions.push((
                r.program_id,
                award_entry_id.0,
                status,
                by.map(str::to_string),
                reason.map(str::to_string),
                at.get(),
            ));
        }
    }

    pub async fn write(self, conn: &mut PgConnection, target: Target) -> Result<()> {
        self.write_held(conn, target).await?;
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

impl Changes {
    /// Held awards first, then decisions: an award held and decided in one batch is inserted
    /// before its update.
    async fn write_held(&self, conn: &mut PgConnection, target: Target) -> Result<()> {
        let table = target.table("held_awards");
        for chunk in self.held.chunks(ROWS_PER_STATEMENT) {
            let mut c = HeldColumns::default();
            for (program, row) in chunk {
                c.program.push(*program);
                c.entry.push(row.entry_id);
                c.member.push(row.member_id);
                c.network.push(row.network.clone());
                c.kind.push(row.kind.clone());
                c.points.push(row.points);
                c.hold.push(row.hold.clone());
                c.campaign.push(row.campaign_id);
                c.occurred_at.push(row.occurred_at);
                c.held_at.push(row.held_at);
                c.position.push(row.position);
            }
            sqlx::query(&format!(
                "INSERT INTO {table} (program_id, entry_id, member_id, network, kind, points, hold, \
                 campaign_id, occurred_at, held_at, position, status) \
                 SELECT *, 'pending' FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], \
                 $5::text[], $6::int8[], $7::text[], $8::uuid[], $9::timestamptz[], \
                 $10::timestamptz[], $11::int8[]) ON CONFLICT DO NOTHING"
            ))
            .bind(&c.program)
            .bind(&c.entry)
            .bind(&c.member)
            .bind(&c.network)
            .bind(&c.kind)
            .bind(&c.points)
            .bind(&c.hold)
            .bind(&c.campaign)
            .bind(&c.occurred_at)
            .bind(&c.held_at)
            .bind(&c.position)
            .execute(&mut *conn)
            .await?;
        }
        for chunk in self.decisions.chunks(ROWS_PER_STATEMENT) {
            let mut program = Vec::with_capacity(chunk.len());
            let mut entry = Vec::with_capacity(chunk.len());
            let mut status = Vec::with_capacity(chunk.len());
            let mut by = Vec::with_capacity(chunk.len());
            let mut reason = Vec::with_capacity(chunk.len());
            let mut at = Vec::with_capacity(chunk.len());
            for (p, e, s, b, r, a) in chunk {
                program.push(*p);
                entry.push(*e);
                status.push(s.to_string());
                by.push(b.clone());
                reason.push(r.clone());
                at.push(*a);
            }
            sqlx::query(&format!(
                "UPDATE {table} AS h SET status = t.status, decided_by = t.by, \
                 decision_reason = t.reason, decided_at = t.at \
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], \
                 $6::timestamptz[]) AS t(program_id, entry_id, status, by, reason, at) \
                 WHERE h.program_id = t.program_id AND h.entry_id = t.entry_id"
            ))
            .bind(&program)
            .bind(&entry)
            .bind(&status)
            .bind(&by)
            .bind(&reason)
            .bind(&at)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct HeldColumns {
    program: Vec<Uuid>,
    entry: Vec<Uuid>,
    member: Vec<Uuid>,
    network: Vec<String>,
    kind: Vec<String>,
    points: Vec<i64>,
    hold: Vec<String>,
    campaign: Vec<Option<Uuid>>,
    occurred_at: Vec<DateTime<Utc>>,
    held_at: Vec<DateTime<Utc>>,
    position: Vec<i64>,
}
