//! Reads of the log for the surfaces, as domain types: the store finds the rows, this module
//! decodes and folds them, so no handler sees a payload or derives an event id.

use crate::AppError;
use chrono::{DateTime, Utc};
use domain::ids::MemberId;
use domain::member::MemberState;
use domain::{Aggregate, Event, StreamId};
use store::{EventStore, IndexedType, RecordedEvent, codec};
use uuid::Uuid;

/// Events that move a member's balance, as stored in `events.event_type`.
pub const BALANCE_EVENTS: [&str; 11] = [
    "PointsAwarded",
    "PointsReversed",
    "AwardRestored",
    "HeldAwardApproved",
    "PointsAdjusted",
    "RewardRedeemed",
    "RedemptionCancelled",
    "RaffleTicketBought",
    "RaffleTicketRefunded",
    "PointsExpired",
    "SeasonPrizeAwarded",
];

/// A recorded event and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub recorded: RecordedEvent,
    pub event: Event,
}

pub(crate) fn decode(recorded: RecordedEvent) -> Result<Logged, AppError> {
    let event = codec::decode(&recorded).map_err(|e| AppError::Corrupt(e.to_string()))?;
    Ok(Logged { recorded, event })
}

/// Up to `limit` events of the member's stream below `before_version`, newest first.
pub async fn member_page(
    store: &EventStore,
    member: MemberId,
    before_version: i64,
    limit: i64,
) -> Result<Vec<Logged>, AppError> {
    let stream = StreamId::Member(member).to_string();
    store
        .stream_page(&stream, before_version, limit, None)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// The member's latest balance entries (`BALANCE_EVENTS`), newest first.
pub async fn latest_balance_entries(
    store: &EventStore,
    member: MemberId,
    limit: i64,
) -> Result<Vec<Event>, AppError> {
    let stream = StreamId::Member(member).to_string();
    store
        .stream_page(&stream, i64::MAX, limit, Some(&BALANCE_EVENTS))
        .await?
        .into_iter()
        .map(|r| decode(r).map(|logged| logged.event))
        .collect()
}

/// One event of a member's stream with the balance after it and who caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberLine {
    pub logged: Logged,
    pub balance_after: i64,
    /// The `actor` of the event's metadata (`manager:<name>`, a platform), if any.
    pub actor: Option<String>,
}

/// The member's whole stream in version order, each event with the balance after it, and the
/// state folded from all of it.
pub async fn member_lines(
    store: &EventStore,
    member: MemberId,
) -> Result<(Vec<MemberLine>, MemberState), AppError> {
    let recorded = store
        .read_stream(&StreamId::Member(member).to_string(), 0)
        .await?;
    let mut folded = MemberState::default();
    let mut lines = Vec::with_capacity(recorded.len());
    for r in recorded {
        let logged = decode(r)?;
        folded = folded.apply(&logged.event);
        let actor = logged
            .recorded
            .metadata
            .get("actor")
            .and_then(|a| a.as_str())
            .map(str::to_string);
        lines.push(MemberLine {
            balance_after: folded.balance,
            actor,
            logged,
        });
    }
    Ok((lines, folded))
}

/// One version of a program's rules: who set them, when, and what they were.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesVersion {
    pub version: u32,
    pub rules: domain::program::Rules,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Every rules version of a program, oldest first, from its stream.
pub async fn rules_history(
    store: &EventStore,
    program: domain::ids::ProgramId,
) -> Result<Vec<RulesVersion>, AppError> {
    let recorded = store
        .read_stream(&StreamId::Program(program).to_string(), 0)
        .await?;
    let mut versions = Vec::new();
    for r in recorded {
        if let Event::RulesChanged {
            version,
            rules,
            by,
            at,
            ..
        } = decode(r)?.event
        {
            versions.push(RulesVersion {
                version,
                rules,
                by: by.to_string(),
                at: at.get(),
            });
        }
    }
    Ok(versions)
}

/// The first event a command recorded, if it recorded any.
pub async fn first_event_of(
    store: &EventStore,
    command_id: Uuid,
) -> Result<Option<Logged>, AppError> {
    store
        .event_by_id(codec::event_id(command_id, 0))
        .await?
        .map(decode)
        .transpose()
}

/// True if the command was recorded before (its first event exists).
pub async fn command_recorded(store: &EventStore, command_id: Uuid) -> Result<bool, AppError> {
    Ok(store.contains_event(codec::event_id(command_id, 0)).await?)
}

/// A program as its `ProgramCreated` event names it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramSummary {
    pub program_id: Uuid,
    pub name: String,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

/// Every program, in the order they were created. There is no read model of programs (a
/// handful per installation): this reads their creation events.
pub async fn programs(store: &EventStore) -> Result<Vec<ProgramSummary>, AppError> {
    let mut programs = Vec::new();
    for r in store.events_of_type(IndexedType::ProgramCreated).await? {
        let Logged { recorded, event } = decode(r)?;
        if let Event::ProgramCreated {
            program_id,
            name,
            time_zone,
            ..
        } = event
        {
            programs.push(ProgramSummary {
                program_id: program_id.0,
                name,
                time_zone: time_zone.name().to_string(),
                created_at: recorded.recorded_at,
            });
        }
    }
    Ok(programs)
}

/// The rules a program had in force just before version `version`; `None` before its first.
pub async fn rules_before(
    store: &EventStore,
    program: domain::ids::ProgramId,
    version: u32,
) -> Result<Option<domain::program::Rules>, AppError> {
    let history = rules_history(store, program).await?;
    let before = history.into_iter().rev().find(|v| v.version < version);
    Ok(before.map(|v| v.rules))
}
