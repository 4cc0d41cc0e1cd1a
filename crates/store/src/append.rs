//! Appending: atomic commits over one or more streams, many commits per round trip.

use crate::EventStore;
use crate::digest::content_digest;
use crate::error::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use uuid::Uuid;

/// The most events one call of `append_events` may carry; keeps a round trip bounded.
pub const MAX_EVENTS_PER_BATCH: usize = 10_000;

/// How often an append expecting `Any` is retried after losing a race for the next version.
const MAX_ANY_RETRIES: u32 = 8;

/// What the caller believes a stream's head to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the head is.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The head must be exactly this version (versions start at 1).
    Exact(i64),
}

impl ExpectedVersion {
    /// From a version read earlier: 0 means the stream was empty.
    pub fn from_head(version: i64) -> Self {
        if version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(version)
        }
    }

    fn code(self) -> i64 {
        match self {
            ExpectedVersion::Any => -1,
            ExpectedVersion::NoStream => 0,
            ExpectedVersion::Exact(v) => v,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// Who and what caused an event. Kept beside the payload, not in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Who acted: a manager's id, or `member:<id>` for a member's own request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The event that caused this one, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// Groups the events of one request or conversation across commits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    /// The platform's delivery id (VK event_id, Telegram update_id, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<String>,
}

/// An event ready to append: its JSON and identity, before the store gives it a place.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Unique across the log; appending an id again is reported as a duplicate.
    pub event_id: Uuid,
    /// The event's name (the payload's `type`), kept as a column for lookups by type.
    pub event_type: String,
    /// Version of the payload's shape, so old rows can be upcast.
    pub schema_version: i16,
    /// The event itself as JSON.
    pub payload: Value,
    /// Who and what caused the event.
    pub metadata: Metadata,
}

/// Events for one stream, appended only if the stream's head is where the caller expects.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAppend {
    /// The program the stream belongs to (exports and audits filter by it).
    pub program_id: Uuid,
    /// The stream, e.g. `member-<id>` (see `domain::StreamId`).
    pub stream_id: String,
    /// The head the caller decided against; anything else is a conflict.
    pub expected: ExpectedVersion,
    /// Appended in order, taking the next versions of the stream.
    pub events: Vec<NewEvent>,
}

/// Appends that succeed or fail together.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Commit {
    /// One entry per stream; a stream may appear only once.
    pub appends: Vec<StreamAppend>,
}

impl Commit {
    /// How many events the commit appends over all its streams.
    pub fn event_count(&self) -> usize {
        self.appends.iter().map(|a| a.events.len()).sum()
    }

    fn validate(&self) -> Result<(), StoreError> {
        if self.event_count() == 0 {
            return Err(StoreError::InvalidAppend(
                "a commit needs at least one event".into(),
            ));
        }
        let mut streams: Vec<&str> = self.appends.iter().map(|a| a.stream_id.as_str()).collect();
        streams.sort_unstable();
        if streams.windows(2).any(|w| w[0] == w[1]) {
            return Err(StoreError::InvalidAppend(
                "a stream appears twice in one commit".into(),
            ));
        }
        Ok(())
    }
}

/// What became of a commit that the store accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Appended.
    Appended {
        /// The global positions of the events, in commit order.
        positions: Vec<i64>,
    },
    /// An event id of this commit was recorded before: nothing changed.
    Duplicate,
}

/// The commits of one round trip as the parallel arrays `append_events` takes.
#[derive(Default)]
struct Columns {
    group: Vec<i32>,
    program: Vec<Uuid>,
    stream: Vec<String>,
    expected: Vec<i64>,
    event_id: Vec<Uuid>,
    event_type: Vec<String>,
    schema: Vec<i16>,
    payload: Vec<Value>,
    metadata: Vec<Value>,
    digest: Vec<Vec<u8>>,
}

impl Columns {
    fn push(
        &mut self,
        group: i32,
        append: &StreamAppend,
        event: &NewEvent,
    ) -> Result<(), StoreError> {
        self.group.push(group);
        self.program.push(append.program_id);
        self.stream.push(append.stream_id.clone());
        self.expected.push(append.expected.code());
        self.event_id.push(event.event_id);
        self.event_type.push(event.event_type.clone());
        self.schema.push(event.schema_version);
        self.digest.push(
            content_digest(
                event.event_id,
                &event.event_type,
                event.schema_version,
                &event.payload,
            )
            .to_vec(),
        );
        self.payload.push(event.payload.clone());
        self.metadata.push(serde_json::to_value(&event.metadata)?);
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    group_no: i32,
    status: String,
    conflict_stream: Option<String>,
    actual_version: Option<i64>,
    positions: Option<Vec<i64>>,
}

impl EventStore {
    /// Appends one commit atomically. A commit that expects `Any` on every stream is retried
    /// when a concurrent writer took the next version first: it accepts whatever head it finds.
    pub async fn append(&self, commit: Commit) -> Result<AppendOutcome, StoreError> {
        let any_head = commit
            .appends
            .iter()
            .all(|a| a.expected == ExpectedVersion::Any);
        let mut attempt = 0;
        loop {
            let mut results = self.append_batch(vec![commit.clone()]).await;
            let result = results
                .pop()
                .unwrap_or(Err(StoreError::InvalidAppend("empty batch".into())));
            match result {
                Err(e) if e.is_conflict() && any_head && attempt < MAX_ANY_RETRIES => attempt += 1,
                other => return other,
            }
        }
    }

    /// Appends many independent commits in one round trip; each succeeds or fails on its own.
    /// If the whole statement fails because another process raced us on a stream, or because
    /// the database refused something one commit carries (text it cannot store, say), falls
    /// back to one round trip per commit, so that only the losers or the bad commit fail.
    pub async fn append_batch(
        &self,
        commits: Vec<Commit>,
    ) -> Vec<Result<AppendOutcome, StoreError>> {
        let mut results: Vec<Option<Result<AppendOutcome, StoreError>>> =
            commits.iter().map(|_| None).collect();
        let mut columns = Columns::default();
        let mut sent = Vec::new();
        for (i, commit) in commits.iter().enumerate() {
            let group = i32::try_from(i).unwrap_or(i32::MAX);
            let checked = commit.validate().and_then(|_| {
                if columns.event_id.len() + commit.event_count() > MAX_EVENTS_PER_BATCH {
                    return Err(StoreError::InvalidAppend("batch too large".into()));
                }
                let mut staged = Columns::default();
                for append in &commit.appends {
                    for event in &append.events {
                        staged.push(group, append, event)?;
                    }
                }
                Ok(staged)
            });
            match checked {
                Ok(staged) => {
                    columns.extend(staged);
                    sent.push(i);
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if !sent.is_empty() {
            match self.call_append(&columns).await {
                Ok(rows) => {
                    for row in rows {
                        let Some(i) = usize::try_from(row.group_no).ok() else {
                            continue;
                        };
                        if let (Some(slot), Some(commit)) = (results.get_mut(i), commits.get(i)) {
                            *slot = Some(outcome_of(row, commit));
                        }
                    }
                }
                Err(e) if sent.len() > 1 && is_refused_by_server(&e) => {
                    for &i in &sent {
                        let single = Box::pin(self.append(commits[i].clone())).await;
                        results[i] = Some(single);
                    }
                }
                Err(e) => {
                    let mapped = map_single_failure(e);
                    for &i in &sent {
                        results[i] = Some(Err(mapped.clone()));
                    }
                }
            }
        }
        if results
            .iter()
            .any(|r| matches!(r, Some(Ok(AppendOutcome::Appended { .. }))))
        {
            self.wake.signal();
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or(Err(StoreError::InvalidAppend(
                    "commit was not processed".into(),
                )))
            })
            .collect()
    }

    async fn call_append(&self, c: &Columns) -> Result<Vec<GroupRow>, sqlx::Error> {
        sqlx::query_as::<_, GroupRow>(
            "SELECT group_no, status, conflict_stream, actual_version, positions \
             FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&c.group)
        .bind(&c.program)
        .bind(&c.stream)
        .bind(&c.expected)
        .bind(&c.event_id)
        .bind(&c.event_type)
        .bind(&c.schema)
        .bind(&c.payload)
        .bind(&c.metadata)
        .bind(&c.digest)
        .fetch_all(&self.pool)
        .await
    }
}

impl Columns {
    fn extend(&mut self, other: Columns) {
        self.group.extend(other.group);
        self.program.extend(other.program);
        self.stream.extend(other.stream);
        self.expected.extend(other.expected);
        self.event_id.extend(other.event_id);
        self.event_type.extend(other.event_type);
        self.schema.extend(other.schema);
        self.payload.extend(other.payload);
        self.metadata.extend(other.metadata);
        self.digest.extend(other.digest);
    }
}

fn outcome_of(row: GroupRow, commit: &Commit) -> Result<AppendOutcome, StoreError> {
    match row.status.as_str() {
        "ok" => Ok(AppendOutcome::Appended {
            positions: row.positions.unwrap_or_default(),
        }),
        "duplicate" => Ok(AppendOutcome::Duplicate),
        _ => {
            let stream_id = row.conflict_stream.unwrap_or_default();
            let expected = commit
                .appends
                .iter()
                .find(|a| a.stream_id == stream_id)
                .map(|a| a.expected.to_string())
                .unwrap_or_default();
            Err(StoreError::Conflict {
                stream_id,
                expected,
                actual: row.actual_version.unwrap_or(0),
            })
        }
    }
}

/// Unique violations and deadlocks mean another transaction appended to the same stream.
fn is_race(e: &sqlx::Error) -> bool {
    StoreError::is_unique_violation(e).is_some()
        || matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("40P01"))
}

/// An error the server raised for the statement: a race (see `is_race`) or something one
/// commit carries. A connection or pool failure is neither, and retrying commit by commit would
/// only multiply it.
fn is_refused_by_server(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(_))
}

fn map_single_failure(e: sqlx::Error) -> StoreError {
    match StoreError::is_unique_violation(&e) {
        Some("events_event_id_key") => StoreError::Conflict {
            stream_id: String::new(),
            expected: "new event ids".into(),
            actual: -1,
        },
        Some(_) => StoreError::Conflict {
            stream_id: String::new(),
            expected: "head unchanged by a concurrent writer".into(),
            actual: -1,
        },
        None if is_race(&e) => StoreError::Conflict {
            stream_id: String::new(),
            expected: "no deadlock".into(),
            actual: -1,
        },
        None => StoreError::from(e),
    }
}
