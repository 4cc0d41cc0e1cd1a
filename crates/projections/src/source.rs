//! Reading the log for projections: the store's gap-safe order, with the program of each row,
//! and the time zone of each program (from its ProgramCreated event).

use crate::error::{ProjectionError, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::Event;
use sqlx::PgConnection;
use std::collections::HashMap;
use store::Checkpoint;
use uuid::Uuid;

/// One event as projections consume it: the store's `Envelope` plus the row's program, which
/// most member events do not carry in their payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub tx_id: i64,
    pub position: i64,
    pub program_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub event: Event,
}

impl Recorded {
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            tx_id: self.tx_id,
            position: self.position,
        }
    }
}

/// A row with its payload in one of two columns: the current schema version decodes straight
/// into an `Event`; an older one as JSON, then through the store's upcaster.
type Row = (
    i64,
    i64,
    Uuid,
    DateTime<Utc>,
    i16,
    Option<sqlx::types::Json<Event>>,
    Option<sqlx::types::Json<serde_json::Value>>,
);

/// The columns of a [`Row`]; `$V` is the current schema version.
const COLUMNS: &str = "tx_id, position, program_id, recorded_at, schema_version, \
    CASE WHEN schema_version = $V THEN payload END, \
    CASE WHEN schema_version <> $V THEN payload END";

fn select(rest: &str) -> String {
    let columns = COLUMNS.replace("$V", &Event::SCHEMA_VERSION.to_string());
    format!("SELECT {columns} FROM events {rest}")
}

/// About `limit` events after `after` (more to finish the last transaction), below the
/// gap-safe horizon (the same order and horizon as `EventStore::read_all_as`: the database's
/// `events_read_horizon()`, which only transactions that can append events hold back).
pub async fn read_after(
    conn: &mut PgConnection,
    after: Checkpoint,
    limit: i64,
) -> Result<Vec<Recorded>> {
    let limit = limit.clamp(1, store::MAX_READ_BATCH);
    let rows: Vec<Row> = sqlx::query_as(&select(
        "WHERE (tx_id, position) > ($1, $2) \
           AND tx_id < (SELECT events_read_horizon()) \
         ORDER BY tx_id, position LIMIT $3",
    ))
    .bind(after.tx_id)
    .bind(after.position)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| decode_error(e, after))?;
    let mut rows = rows;
    // Never end a batch inside a transaction: read models then always show whole commits (a
    // codeword's redemption with its award), and every checkpoint is a commit boundary.
    if rows.len() as i64 >= limit
        && let Some((tx_id, position, ..)) = rows.last()
    {
        let rest: Vec<Row> = sqlx::query_as(&select(
            "WHERE tx_id = $1 AND position > $2 ORDER BY position",
        ))
        .bind(*tx_id)
        .bind(*position)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| decode_error(e, after))?;
        rows.extend(rest);
    }
    rows.into_iter()
        .map(
            |(tx_id, position, program_id, recorded_at, version, current, older)| {
                let event = match (current, older) {
                    (Some(event), _) => event.0,
                    (None, Some(payload)) => store::upcast::decode_value(
                        version, program_id, &payload.0,
                    )
                    .map_err(|e| ProjectionError::Decode {
                        position,
                        message: e.to_string(),
                    })?,
                    (None, None) => {
                        return Err(ProjectionError::Decode {
                            position,
                            message: "no payload".into(),
                        });
                    }
                };
                Ok(Recorded {
                    tx_id,
                    position,
                    program_id,
                    recorded_at,
                    event,
                })
            },
        )
        .collect()
}

fn decode_error(e: sqlx::Error, after: Checkpoint) -> ProjectionError {
    match e {
        sqlx::Error::ColumnDecode { source, .. } => ProjectionError::Decode {
            position: after.position,
            message: format!("an event after this position: {source}"),
        },
        other => other.into(),
    }
}

/// Programs' time zones. A program's zone never changes after ProgramCreated, so entries are
/// cached forever; a program never created counts in UTC (and is looked up again next time).
#[derive(Debug, Clone, Default)]
pub struct Zones(HashMap<Uuid, Tz>);

impl Zones {
    pub fn get(&self, program_id: Uuid) -> Tz {
        self.0.get(&program_id).copied().unwrap_or(Tz::UTC)
    }

    pub fn insert(&mut self, program_id: Uuid, tz: Tz) {
        self.0.insert(program_id, tz);
    }

    /// Makes sure every program of `batch` is known: from the batch itself, else from the log.
    pub async fn resolve(&mut self, conn: &mut PgConnection, batch: &[Recorded]) -> Result<()> {
        let mut missing: Vec<Uuid> = Vec::new();
        for r in batch {
            if let Event::ProgramCreated {
                program_id,
                time_zone,
                ..
            } = &r.event
            {
                self.0.insert(program_id.0, *time_zone);
            } else if !self.0.contains_key(&r.program_id) && !missing.contains(&r.program_id) {
                missing.push(r.program_id);
            }
        }
        if !missing.is_empty() {
            self.load(conn, &missing).await?;
        }
        Ok(())
    }

    /// Reads the zones of `programs` from their ProgramCreated events.
    pub async fn load(&mut self, conn: &mut PgConnection, programs: &[Uuid]) -> Result<()> {
        let rows: Vec<(Uuid, Option<String>)> = sqlx::query_as(
            "SELECT program_id, payload->>'time_zone' FROM events \
             WHERE event_type = 'ProgramCreated' AND program_id = ANY($1) ORDER BY position",
        )
        .bind(programs)
        .fetch_all(&mut *conn)
        .await?;
        for (program_id, zone) in rows {
            if let Some(tz) = zone.and_then(|z| z.parse::<Tz>().ok()) {
                self.0.entry(program_id).or_insert(tz);
            }
        }
        Ok(())
    }
}

/// When the ledger recorded the fact, as the event itself states it (stats count by this day).
pub fn event_at(event: &Event) -> DateTime<Utc> {
    event.at().get()
}

/// The log after `after` page by page, the next page read while the caller folds the current
/// one. Ends at the horizon as it stood when the last page was read.
pub fn read_pages(
    pool: sqlx::PgPool,
    after: Checkpoint,
    page_events: i64,
) -> tokio::sync::mpsc::Receiver<Result<Vec<Recorded>>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        let mut after = after;
        loop {
            let page = read_after(&mut conn, after, page_events).await;
            let next = match &page {
                Ok(rows) => rows.last().map(Recorded::checkpoint),
                Err(_) => None,
            };
            if tx.send(page).await.is_err() {
                return;
            }
            match next {
                Some(next) => after = next,
                None => return,
            }
        }
    });
    rx
}
