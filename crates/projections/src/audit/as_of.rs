//! A member as they stood at a past moment: their stream up to then, folded by the domain.

use crate::error::{ProjectionError, Result};
use chrono::{DateTime, Utc};
use domain::ids::MemberId;
use domain::member::MemberState;
use domain::{Aggregate, Event, StreamId};
use serde::Serialize;
use std::io::Write;
use store::EventStore;
use uuid::Uuid;

/// One line of the member's history: what an event did to the balance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryLine {
    pub stream_version: i64,
    pub position: i64,
    pub recorded_at: DateTime<Utc>,
    pub event_type: String,
    /// Change of the spendable balance (0 for events that change none).
    pub delta: i64,
    pub balance_after: i64,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsOf {
    pub member_id: Uuid,
    pub at: DateTime<Utc>,
    pub program_id: Option<Uuid>,
    pub balance: i64,
    pub earned: i64,
    pub spent: i64,
    pub expired: i64,
    pub blocked: bool,
    /// What is left of each credit, oldest first: (entry, when credited, points); the points
    /// that can still expire.
    pub open_lots: Vec<(Uuid, DateTime<Utc>, i64)>,
    /// The tier the member held then, and its multiplier in percent.
    pub tier: Option<(String, u32)>,
    /// Linked accounts, as `network:scope:id`.
    pub linked: Vec<String>,
    pub history: Vec<HistoryLine>,
}

/// The member's balance and history from the events recorded at or before `at`.
pub async fn as_of(store: &EventStore, member_id: Uuid, at: DateTime<Utc>) -> Result<AsOf> {
    let stream = StreamId::Member(MemberId(member_id)).to_string();
    let mut state = MemberState::default();
    let mut history = Vec::new();
    for recorded in store.read_stream_as_of(&stream, at).await? {
        let event = store::codec::decode(&recorded).map_err(|e| ProjectionError::Decode {
            position: recorded.position,
            message: e.to_string(),
        })?;
        state = state.apply(&event);
        history.push(HistoryLine {
            stream_version: recorded.stream_version,
            position: recorded.position,
            recorded_at: recorded.recorded_at,
            event_type: recorded.event_type,
            delta: event.balance_delta().map_or(0, |(_, d)| d),
            balance_after: state.balance,
            event,
        });
    }
    Ok(AsOf {
        member_id,
        at,
        program_id: state.program_id.map(|p| p.0),
        balance: state.balance,
        earned: state.earned,
        spent: state.spent,
        expired: state.expired,
        blocked: state.blocked,
        open_lots: state
            .lots
            .open()
            .map(|l| (l.entry_id.0, l.earned_at.get(), l.remaining))
            .collect(),
        tier: state.tier.map(|t| (t.name, t.multiplier_percent)),
        linked: state.linked.iter().map(|a| a.to_string()).collect(),
        history,
    })
}

pub fn write_as_of(a: &AsOf, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "member {} as of {}", a.member_id, a.at.to_rfc3339())?;
    writeln!(
        out,
        "balance {}  earned {}  spent {}  expired {}  blocked {}",
        a.balance, a.earned, a.spent, a.expired, a.blocked
    )?;
    for (entry, earned_at, points) in &a.open_lots {
        writeln!(
            out,
            "unspent {points} of {entry} ({})",
            earned_at.to_rfc3339()
        )?;
    }
    if let Some((tier, multiplier)) = &a.tier {
        writeln!(out, "tier {tier} ({multiplier}%)")?;
    }
    if !a.linked.is_empty() {
        writeln!(out, "linked {}", a.linked.join(", "))?;
    }
    for h in &a.history {
        writeln!(
            out,
            "{:>6} {:>12} {} {:<20} {:>+8} = {}",
            h.stream_version,
            h.position,
            h.recorded_at.to_rfc3339(),
            h.event_type,
            h.delta,
            h.balance_after
        )?;
    }
    Ok(())
}
