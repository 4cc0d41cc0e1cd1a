//! A member as they stood at a past moment: their stream up to then, folded by the domain.

use crate::error::{ProjectionError, Result};
use chrono::{DateTime, Utc};
use domain::ids::{MemberId, ProgramId, SeasonId};
use domain::member::MemberState;
use domain::season::{SeasonBoards, SeasonState};
use domain::{Aggregate, Event, StreamId};
use serde::Serialize;
use std::collections::BTreeMap;
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
    /// The member's place in each season of the program scheduled by then.
    pub seasons: Vec<SeasonAsOf>,
    pub history: Vec<HistoryLine>,
}

/// A member's score in one season at that moment, and their frozen place once it had ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeasonAsOf {
    pub season_id: Uuid,
    pub name: String,
    /// `scheduled`, `cancelled`, `ended` or `settled`, then.
    pub status: String,
    pub score: i64,
    /// Rank and prize in the frozen standings, if the season had ended with the member in them.
    pub rank: Option<u32>,
    pub prize: Option<i64>,
}

/// Season events as stored in `events.event_type`.
const SEASON_EVENTS: [&str; 4] = [
    "SeasonScheduled",
    "SeasonCancelled",
    "SeasonEnded",
    "SeasonSettled",
];

/// The member's balance and history from the events recorded at or before `at`.
pub async fn as_of(store: &EventStore, member_id: Uuid, at: DateTime<Utc>) -> Result<AsOf> {
    let stream = StreamId::Member(MemberId(member_id)).to_string();
    let mut state = MemberState::default();
    let mut history = Vec::new();
    let mut in_order = BTreeMap::new();
    for recorded in store.read_stream_as_of(&stream, at).await? {
        let event = store::codec::decode(&recorded).map_err(|e| ProjectionError::Decode {
            position: recorded.position,
            message: e.to_string(),
        })?;
        state = state.apply(&event);
        in_order.insert(recorded.checkpoint(), event.clone());
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
    let seasons = match state.program_id {
        Some(program) => seasons_as_of(store, program, MemberId(member_id), at, in_order).await?,
        None => Vec::new(),
    };
    Ok(AsOf {
        member_id,
        at,
        seasons,
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

/// The member's seasons then: the program's season events recorded by `at` and the member's
/// own events, folded in log order (only the member's events move the member's score).
async fn seasons_as_of(
    store: &EventStore,
    program: ProgramId,
    member: MemberId,
    at: DateTime<Utc>,
    mut in_order: BTreeMap<store::Checkpoint, Event>,
) -> Result<Vec<SeasonAsOf>> {
    let until = at + chrono::Duration::microseconds(1);
    store
        .each_program_event(
            program.0,
            (DateTime::UNIX_EPOCH, until),
            &SEASON_EVENTS,
            store::Checkpoint::default(),
            |recorded| {
                let event =
                    store::codec::decode(&recorded).map_err(|e| ProjectionError::Decode {
                        position: recorded.position,
                        message: e.to_string(),
                    })?;
                in_order.insert(recorded.checkpoint(), event);
                Ok::<_, ProjectionError>(())
            },
        )
        .await?;
    let mut boards = SeasonBoards::default();
    let mut states: BTreeMap<SeasonId, SeasonState> = BTreeMap::new();
    for event in in_order.values() {
        boards.apply(program, event);
        if let Event::SeasonScheduled { season_id, .. }
        | Event::SeasonCancelled { season_id, .. }
        | Event::SeasonEnded { season_id, .. }
        | Event::SeasonSettled { season_id, .. } = event
        {
            let state = states.entry(*season_id).or_default();
            *state = std::mem::take(state).apply(event);
        }
    }
    Ok(states
        .into_iter()
        .filter_map(|(season_id, state)| {
            let terms = state.terms.as_ref()?;
            let standing = state.standing_of(member);
            Some(SeasonAsOf {
                season_id: season_id.0,
                name: terms.name.clone(),
                status: state.status.as_str().to_string(),
                score: boards
                    .boards
                    .get(&season_id)
                    .and_then(|b| b.scores.get(&member))
                    .copied()
                    .unwrap_or(0),
                rank: standing.map(|s| s.rank),
                prize: standing.map(|s| s.prize),
            })
        })
        .collect())
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
    for s in &a.seasons {
        let place = match (s.rank, s.prize) {
            (Some(rank), Some(prize)) => format!(", final rank {rank}, prize {prize}"),
            _ => String::new(),
        };
        writeln!(
            out,
            "season \"{}\" ({}): {} points{place}",
            s.name, s.status, s.score
        )?;
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
