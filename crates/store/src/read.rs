//! Reading: one stream by version, the whole log in gap-safe order, and the past as it stood.

use crate::EventStore;
use crate::error::StoreError;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// The most rows one read returns; callers page with the last row's checkpoint.
pub const MAX_READ_BATCH: i64 = 20_000;

/// A stored event as read back: the raw row, payload still JSON (see [`crate::codec::decode`]).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RecordedEvent {
    /// The row's identity value, increasing within a transaction.
    pub position: i64,
    /// The inserting transaction; the log's order is `(tx_id, position)`.
    pub tx_id: i64,
    /// The program whose stream the event belongs to.
    pub program_id: Uuid,
    /// The stream the event was appended to.
    pub stream_id: String,
    /// The event's version within its stream, gapless from 1.
    pub stream_version: i64,
    /// The id the writer gave the event.
    pub event_id: Uuid,
    /// The event's name, as in the payload's `type`.
    pub event_type: String,
    /// Version of the payload's shape.
    pub schema_version: i16,
    /// The event itself as JSON.
    pub payload: Value,
    /// Who and what caused the event (a [`crate::Metadata`] as JSON).
    pub metadata: Value,
    /// When the database recorded the row.
    pub recorded_at: DateTime<Utc>,
    /// The row's link in the hash chain.
    pub hash: Vec<u8>,
}

impl RecordedEvent {
    /// Where this event stands in the log, for resuming a read after it.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            tx_id: self.tx_id,
            position: self.position,
        }
    }
}

/// A place in the global order: events are ordered by (inserting transaction, position).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Checkpoint {
    /// The inserting transaction, compared first.
    pub tx_id: i64,
    /// The position within that transaction.
    pub position: i64,
}

/// The event types the partial `(event_type, program_id, position)` index covers: the only
/// ones read by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexedType {
    /// Every program's creation: the admin panel's list of programs.
    ProgramCreated,
    /// Every campaign's creation: a program's campaigns.
    CampaignCreated,
    /// Every raffle's opening: a program's raffles.
    RaffleOpened,
}

impl IndexedType {
    /// The `event_type` column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            IndexedType::ProgramCreated => "ProgramCreated",
            IndexedType::CampaignCreated => "CampaignCreated",
            IndexedType::RaffleOpened => "RaffleOpened",
        }
    }

    /// The payload field holding the id of what the event created.
    fn id_field(self) -> &'static str {
        match self {
            IndexedType::ProgramCreated => "program_id",
            IndexedType::CampaignCreated => "campaign_id",
            IndexedType::RaffleOpened => "raffle_id",
        }
    }
}

/// The columns a [`RecordedEvent`] is read from, for a query outside this module that reads
/// events with something else in one round trip.
pub const COLUMNS: &str = "position, tx_id, program_id, stream_id, stream_version, event_id, \
                       event_type, schema_version, payload, metadata, recorded_at, hash";

impl EventStore {
    /// Events of one stream with a version above `after_version`, in version order.
    pub async fn read_stream(
        &self,
        stream_id: &str,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 \
             ORDER BY stream_version"
        );
        Ok(sqlx::query_as(&sql)
            .bind(stream_id)
            .bind(after_version)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Two whole streams in one round trip, each in version order. Two lookups of one stream
    /// each, like `read_stream`: a prepared `stream_id = ANY($1)` can keep a generic plan made
    /// while the table was small, a sequential scan (seen: W2 fell from ~4,900 to ~800/s).
    pub async fn read_stream_pair(
        &self,
        a: &str,
        b: &str,
    ) -> Result<(Vec<RecordedEvent>, Vec<RecordedEvent>), StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > 0 \
             UNION ALL \
             SELECT {COLUMNS} FROM events WHERE stream_id = $2 AND stream_version > 0"
        );
        let rows: Vec<RecordedEvent> = sqlx::query_as(&sql)
            .bind(a)
            .bind(b)
            .fetch_all(&self.pool)
            .await?;
        let (mut of_a, mut of_b): (Vec<_>, Vec<_>) =
            rows.into_iter().partition(|r| r.stream_id == a);
        of_a.sort_unstable_by_key(|r| r.stream_version);
        of_b.sort_unstable_by_key(|r| r.stream_version);
        Ok((of_a, of_b))
    }

    /// Whole streams in one round trip, each in version order, for bulk work over many
    /// streams (a manager's file of adjustments). Planned for its own parameters every time
    /// (not a kept prepared statement): a generic plan made while the table was small can be
    /// a sequential scan (see `read_stream_pair`).
    pub async fn read_streams(
        &self,
        stream_ids: &[String],
    ) -> Result<HashMap<String, Vec<RecordedEvent>>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE stream_id = ANY($1) AND stream_version > 0 \
             ORDER BY stream_id, stream_version"
        );
        let rows: Vec<RecordedEvent> = sqlx::query_as(&sql)
            .bind(stream_ids)
            .persistent(false)
            .fetch_all(&self.pool)
            .await?;
        let mut streams: HashMap<String, Vec<RecordedEvent>> = HashMap::new();
        for row in rows {
            streams.entry(row.stream_id.clone()).or_default().push(row);
        }
        Ok(streams)
    }

    /// The next events after `after`, in an order that never skips one: only events below the
    /// database's `events_read_horizon()` are read, the oldest transaction that may still append
    /// (migration `appender_horizon`), so an append that commits late (its position lower than
    /// ones already visible) is still read, after them. Transactions that cannot append (other
    /// databases', ones that wrote other tables) hold nobody back. Every follower of the log
    /// reads below that one horizon.
    pub async fn read_all(
        &self,
        after: Checkpoint,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events \
             WHERE (tx_id, position) > ($1, $2) \
               AND tx_id < (SELECT events_read_horizon()) \
             ORDER BY tx_id, position LIMIT $3"
        );
        Ok(sqlx::query_as(&sql)
            .bind(after.tx_id)
            .bind(after.position)
            .bind(limit.clamp(1, MAX_READ_BATCH))
            .fetch_all(&self.pool)
            .await?)
    }

    /// The next events of `types` in one program's streams recorded in `[from, until)`, after
    /// `after`, in log order and below the gap-safe horizon (as [`EventStore::read_all`]): a
    /// period of one program's activity, found through the `(program_id, recorded_at)` index.
    #[allow(clippy::too_many_arguments)]
    pub async fn program_events_recorded(
        &self,
        program_id: Uuid,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        types: &[&str],
        after: Checkpoint,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events \
             WHERE program_id = $1 AND recorded_at >= $2 AND recorded_at < $3 \
               AND event_type = ANY($4) AND (tx_id, position) > ($5, $6) \
               AND tx_id < (SELECT events_read_horizon()) \
             ORDER BY tx_id, position LIMIT $7"
        );
        Ok(sqlx::query_as(&sql)
            .bind(program_id)
            .bind(from)
            .bind(until)
            .bind(types)
            .bind(after.tx_id)
            .bind(after.position)
            .bind(limit.clamp(1, MAX_READ_BATCH))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Hands `each` every event [`EventStore::program_events_recorded`] finds after `after`,
    /// page by page, so a long period is read in bounded memory.
    pub async fn each_program_event<E: From<StoreError>>(
        &self,
        program_id: Uuid,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
        types: &[&str],
        mut after: Checkpoint,
        mut each: impl FnMut(RecordedEvent) -> Result<(), E>,
    ) -> Result<(), E> {
        loop {
            let page = self
                .program_events_recorded(program_id, from, until, types, after, MAX_READ_BATCH)
                .await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.checkpoint();
            for recorded in page {
                each(recorded)?;
            }
        }
    }

    /// Events with a position at or below `position`, after `after_position`, in position
    /// order: the log as it stood (for auditors; positions never change once visible).
    pub async fn read_up_to(
        &self,
        after_position: i64,
        position: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE position > $1 AND position <= $2 \
             ORDER BY position LIMIT $3"
        );
        Ok(sqlx::query_as(&sql)
            .bind(after_position)
            .bind(position)
            .bind(limit.clamp(1, MAX_READ_BATCH))
            .fetch_all(&self.pool)
            .await?)
    }

    /// A stream as it stood at `at` (events recorded at or before then).
    pub async fn read_stream_as_of(
        &self,
        stream_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND recorded_at <= $2 \
             ORDER BY stream_version"
        );
        Ok(sqlx::query_as(&sql)
            .bind(stream_id)
            .bind(at)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Up to `limit` events of a stream with a version below `before_version`, newest first.
    /// Bounded both ways, unlike `read_stream`, which reads up to the head: a deep page costs
    /// one page. With `types`, only events of those types.
    pub async fn stream_page(
        &self,
        stream_id: &str,
        before_version: i64,
        limit: i64,
        types: Option<&[&str]>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND stream_version < $2 \
             AND ($4::text[] IS NULL OR event_type = ANY($4)) \
             ORDER BY stream_version DESC LIMIT $3"
        );
        Ok(sqlx::query_as(&sql)
            .bind(stream_id)
            .bind(before_version)
            .bind(limit)
            .bind(types)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The event with this id, if recorded.
    pub async fn event_by_id(&self, event_id: Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM events WHERE event_id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// True if an event with this id is recorded.
    pub async fn contains_event(&self, event_id: Uuid) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE event_id = $1)")
                .bind(event_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The ids that a program's events of a rare type created (its campaigns, its raffles),
    /// oldest first, without a read model: the partial index of rare types finds them by type
    /// and program. The type is written into the statement, not bound, so every plan can use
    /// that index.
    pub async fn created_ids(
        &self,
        program_id: Uuid,
        indexed: IndexedType,
    ) -> Result<Vec<Uuid>, StoreError> {
        let sql = format!(
            "SELECT (payload->>'{}')::uuid FROM events \
             WHERE event_type = '{}' AND program_id = $1 ORDER BY position",
            indexed.id_field(),
            indexed.as_str()
        );
        Ok(sqlx::query_scalar(&sql)
            .bind(program_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every event of one of the rare types the `(event_type, program_id, position)` index
    /// covers, in log order. The type is written into the statement, not bound: a generic plan
    /// for a bound type could not use that partial index.
    pub async fn events_of_type(
        &self,
        indexed: IndexedType,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE event_type = '{}' ORDER BY position",
            indexed.as_str()
        );
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    /// The current head of a stream (0 when it has no events).
    pub async fn stream_version(&self, stream_id: &str) -> Result<i64, StoreError> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT max(stream_version) FROM events WHERE stream_id = $1")
                .bind(stream_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(v.unwrap_or(0))
    }

    /// The checkpoint of the newest committed event, whether or not gap-safe readers may see
    /// it yet (an older transaction still open holds them back): the place a follower must
    /// reach to have read everything committed so far.
    pub async fn last_committed(&self) -> Result<Checkpoint, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT tx_id, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|(tx_id, position)| Checkpoint { tx_id, position })
            .unwrap_or_default())
    }

    /// The checkpoint of the newest event readers can see now, and the total count.
    pub async fn head(&self) -> Result<Checkpoint, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT tx_id, position FROM events \
             WHERE tx_id < (SELECT events_read_horizon()) \
             ORDER BY tx_id DESC, position DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|(tx_id, position)| Checkpoint { tx_id, position })
            .unwrap_or_default())
    }
}

/// A decoded event with its place in the log, as followers of the log consume it.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<T> {
    /// The inserting transaction.
    pub tx_id: i64,
    /// The row's position in the log.
    pub position: i64,
    /// The program whose log it is.
    pub program_id: uuid::Uuid,
    /// The event's version within its stream.
    pub stream_version: i64,
    /// When the database recorded the row.
    pub recorded_at: DateTime<Utc>,
    /// The decoded event.
    pub event: T,
}

impl<T> Envelope<T> {
    /// Where this event stands in the log, for resuming after it.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            tx_id: self.tx_id,
            position: self.position,
        }
    }
}

impl EventStore {
    /// The events of `types` after `after` up to `upto` (a checkpoint at or below the gap-safe
    /// horizon, such as [`EventStore::head`]'s), decoded, in log order: a follower that cares
    /// for a few types scans the log's index in the database and receives only those.
    pub async fn read_types_as<T>(
        &self,
        after: Checkpoint,
        upto: Checkpoint,
        types: &[&str],
        limit: i64,
    ) -> Result<Vec<Envelope<T>>, StoreError>
    where
        T: serde::de::DeserializeOwned + Send + Unpin + 'static,
    {
        let rows: Vec<EnvelopeRow<T>> = sqlx::query_as(
            "SELECT tx_id, position, program_id, stream_version, recorded_at, payload FROM events \
             WHERE (tx_id, position) > ($1, $2) AND (tx_id, position) <= ($3, $4) \
               AND event_type = ANY($5) \
             ORDER BY tx_id, position LIMIT $6",
        )
        .bind(after.tx_id)
        .bind(after.position)
        .bind(upto.tx_id)
        .bind(upto.position)
        .bind(types)
        .bind(limit.clamp(1, MAX_READ_BATCH))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| undecodable(e, after))?;
        Ok(envelopes(rows))
    }

    /// Like [`EventStore::read_all`], decoding payloads straight from jsonb into `T` and
    /// reading only what a fold needs: the fast path for followers of the log (notifications).
    pub async fn read_all_as<T>(
        &self,
        after: Checkpoint,
        limit: i64,
    ) -> Result<Vec<Envelope<T>>, StoreError>
    where
        T: serde::de::DeserializeOwned + Send + Unpin + 'static,
    {
        let rows: Vec<EnvelopeRow<T>> = sqlx::query_as(
            "SELECT tx_id, position, program_id, stream_version, recorded_at, payload FROM events \
             WHERE (tx_id, position) > ($1, $2) \
               AND tx_id < (SELECT events_read_horizon()) \
             ORDER BY tx_id, position LIMIT $3",
        )
        .bind(after.tx_id)
        .bind(after.position)
        .bind(limit.clamp(1, MAX_READ_BATCH))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| undecodable(e, after))?;
        Ok(envelopes(rows))
    }
}

impl EventStore {
    /// One program's events among the next `limit` of the log (gap-safe, as
    /// [`EventStore::read_all_as`]), and how far that look reached: a follower of one program
    /// moves past the others' events without receiving or decoding them. Nothing new: the
    /// events are empty and the checkpoint is `after`.
    pub async fn read_program_as<T>(
        &self,
        program: uuid::Uuid,
        after: Checkpoint,
        limit: i64,
    ) -> Result<(Vec<Envelope<T>>, Checkpoint), StoreError>
    where
        T: serde::de::DeserializeOwned + Send + Unpin + 'static,
    {
        // The span from the log's order index alone; then the program's rows within it.
        let reached: Option<(i64, i64)> = sqlx::query_as(
            "SELECT tx_id, position FROM (SELECT tx_id, position FROM events \
               WHERE (tx_id, position) > ($1, $2) AND tx_id < (SELECT events_read_horizon()) \
               ORDER BY tx_id, position LIMIT $3) span \
             ORDER BY tx_id DESC, position DESC LIMIT 1",
        )
        .bind(after.tx_id)
        .bind(after.position)
        .bind(limit.clamp(1, MAX_READ_BATCH))
        .fetch_optional(&self.pool)
        .await?;
        let Some((tx_id, position)) = reached else {
            return Ok((Vec::new(), after));
        };
        let upto = Checkpoint { tx_id, position };
        let rows: Vec<EnvelopeRow<T>> = sqlx::query_as(
            "SELECT tx_id, position, program_id, stream_version, recorded_at, payload FROM events \
             WHERE (tx_id, position) > ($1, $2) AND (tx_id, position) <= ($3, $4) \
               AND program_id = $5 \
             ORDER BY tx_id, position",
        )
        .bind(after.tx_id)
        .bind(after.position)
        .bind(upto.tx_id)
        .bind(upto.position)
        .bind(program)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| undecodable(e, after))?;
        Ok((envelopes(rows), upto))
    }
}

/// A log row as followers read it: place, program, stream version, record time and the decoded
/// payload.
type EnvelopeRow<T> = (
    i64,
    i64,
    uuid::Uuid,
    i64,
    DateTime<Utc>,
    sqlx::types::Json<T>,
);

fn envelopes<T>(rows: Vec<EnvelopeRow<T>>) -> Vec<Envelope<T>> {
    rows.into_iter()
        .map(
            |(tx_id, position, program_id, stream_version, recorded_at, payload)| Envelope {
                tx_id,
                position,
                program_id,
                stream_version,
                recorded_at,
                event: payload.0,
            },
        )
        .collect()
}

/// A payload that does not decode names where the read started; other failures are the store's.
fn undecodable(e: sqlx::Error, after: Checkpoint) -> StoreError {
    match e {
        sqlx::Error::ColumnDecode { source, .. } => StoreError::UnknownEvent {
            position: after.position,
            message: format!("an event after this position does not decode: {source}"),
        },
        other => other.into(),
    }
}
