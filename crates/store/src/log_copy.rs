//! The whole log, as stored, through binary `COPY`: the auditor's full read, its critical path.

use crate::copy_out::{BinaryCopy, Fields};
use crate::error::StoreError;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// One stored row of the log: every column the hash chain and the folds need, the payload as
/// the jsonb's text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRow {
    /// The inserting transaction; the log's order is `(tx_id, position)`.
    pub tx_id: i64,
    /// The row's identity value, increasing within a transaction.
    pub position: i64,
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
    /// When the database recorded the row.
    pub recorded_at: DateTime<Utc>,
    /// The payload as PostgreSQL prints the jsonb.
    pub payload: String,
    /// The row's link in the hash chain.
    pub hash: Vec<u8>,
}

/// Reads every event of the log in the store's log order (transaction, then position) as seen
/// by `conn`'s snapshot; rows come one at a time from [`LogCopy::next_into`], written over a
/// row the caller reuses (a million rows then cost no allocation each).
pub struct LogCopy<'c> {
    copy: BinaryCopy<'c>,
}

impl<'c> LogCopy<'c> {
    /// Starts the `COPY` on `conn`; rows are read with [`LogCopy::next_into`]. In a
    /// transaction (the audit's snapshot), the read walks the log's order index: past about 20
    /// million events the planner otherwise prefers a parallel scan and a sort, which spilled
    /// 16 GB to temporary files at 30 million events, while the table is written in that order.
    pub async fn start(conn: &'c mut PgConnection) -> Result<LogCopy<'c>, StoreError> {
        sqlx::query("SELECT set_config('enable_sort', 'off', true)")
            .execute(&mut *conn)
            .await?;
        let copy = BinaryCopy::start(
            conn,
            "SELECT tx_id, position, program_id, stream_id, stream_version, event_id, \
             event_type, schema_version, recorded_at, payload, hash \
             FROM events ORDER BY tx_id, position",
        )
        .await?;
        Ok(LogCopy { copy })
    }

    /// Writes the next row over `row` (its buffers are reused); false after the last one.
    pub async fn next_into(&mut self, row: &mut LogRow) -> Result<bool, StoreError> {
        match self.copy.next_row().await? {
            Some(mut fields) => {
                read_row(&mut fields, row)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// The columns in `LogCopy::start`'s order.
fn read_row(f: &mut Fields, row: &mut LogRow) -> Result<(), StoreError> {
    row.tx_id = f.bigint()?;
    row.position = f.bigint()?;
    row.program_id = f.uuid()?;
    set_text(&mut row.stream_id, f.text()?);
    row.stream_version = f.bigint()?;
    row.event_id = f.uuid()?;
    set_text(&mut row.event_type, f.text()?);
    row.schema_version = f.smallint()?;
    row.recorded_at = f.timestamptz()?;
    set_text(&mut row.payload, f.jsonb()?);
    let hash = f.bytea()?;
    row.hash.clear();
    row.hash.extend_from_slice(hash);
    Ok(())
}

fn set_text(into: &mut String, text: &str) {
    into.clear();
    into.push_str(text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copy_out::tests::{field, fields};

    fn tuple() -> Vec<u8> {
        tuple_with_tx_id(&7i64.to_be_bytes())
    }

    fn tuple_with_tx_id(tx_id: &[u8]) -> Vec<u8> {
        let mut out = 11i16.to_be_bytes().to_vec();
        field(&mut out, tx_id);
        field(&mut out, &(-3i64).to_be_bytes());
        field(&mut out, Uuid::from_u128(1).as_bytes());
        field(&mut out, "member-1".as_bytes());
        field(&mut out, &2i64.to_be_bytes());
        field(&mut out, Uuid::from_u128(2).as_bytes());
        field(&mut out, b"PointsAwarded");
        field(&mut out, &1i16.to_be_bytes());
        field(&mut out, &1_000_000i64.to_be_bytes());
        field(&mut out, b"\x01{\"a\": \"\xc3\xa9\"}");
        field(&mut out, &[9, 8, 7]);
        out
    }

    #[test]
    fn a_tuple_decodes_over_an_earlier_row() {
        let bytes = tuple();
        let mut row = LogRow {
            payload: "an earlier, longer payload".into(),
            ..LogRow::default()
        };
        assert!(read_row(&mut fields(&bytes), &mut row).is_ok());
        assert_eq!((row.tx_id, row.position, row.stream_version), (7, -3, 2));
        assert_eq!(row.program_id, Uuid::from_u128(1));
        assert_eq!(row.event_type, "PointsAwarded");
        assert_eq!(row.payload, "{\"a\": \"é\"}");
        assert_eq!(row.hash, vec![9, 8, 7]);
        assert_eq!(
            row.recorded_at,
            DateTime::from_timestamp(946_684_801, 0).unwrap_or_default()
        );
    }

    #[test]
    fn a_bad_tuple_is_an_error_not_a_panic() {
        let wrong_width = tuple_with_tx_id(&7i32.to_be_bytes());
        assert!(read_row(&mut fields(&wrong_width), &mut LogRow::default()).is_err());
        let mut not_utf8 = tuple();
        let at = not_utf8.len() - 7 - 4 - 3;
        not_utf8[at] = 0xff;
        assert!(read_row(&mut fields(&not_utf8), &mut LogRow::default()).is_err());
        let mut unknown_jsonb = tuple();
        let at = unknown_jsonb.len() - 7 - 11 - 1; // the version byte before 11 bytes of JSON
        unknown_jsonb[at] = 2;
        assert!(read_row(&mut fields(&unknown_jsonb), &mut LogRow::default()).is_err());
    }
}
