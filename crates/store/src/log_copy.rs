//! The whole log, as stored, through `COPY … TO STDOUT (FORMAT binary)`: the auditor's full
//! read. COPY sends each row as a plain length-prefixed record, so decoding it costs a fraction
//! of a query's per-row work (the audit reads a million rows in a few seconds and this read is
//! its critical path). The format is PostgreSQL's documented binary COPY format.

use crate::error::StoreError;
use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use sqlx::PgConnection;
use uuid::Uuid;

/// One stored row of the log: every column the hash chain and the folds need, the payload as
/// the jsonb's text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRow {
    pub tx_id: i64,
    pub position: i64,
    pub program_id: Uuid,
    pub stream_id: String,
    pub stream_version: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i16,
    pub recorded_at: DateTime<Utc>,
    pub payload: String,
    pub hash: Vec<u8>,
}

const COLUMNS: i16 = 11;
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// The jsonb binary format's only version: a version byte, then the JSON text.
const JSONB_VERSION: u8 = 1;

/// Reads every event of the log in the store's log order (transaction, then position) as seen
/// by `conn`'s snapshot; rows come one at a time from [`LogCopy::next_into`], written over a
/// row the caller reuses (a million rows then cost no allocation each).
pub struct LogCopy<'c> {
    chunks: BoxStream<'c, sqlx::Result<bytes::Bytes>>,
    buffer: Vec<u8>,
    /// Where the unread part of `buffer` starts.
    read: usize,
    header_read: bool,
    done: bool,
}

impl<'c> LogCopy<'c> {
    pub async fn start(conn: &'c mut PgConnection) -> Result<LogCopy<'c>, StoreError> {
        let chunks = conn
            .copy_out_raw(
                "COPY (SELECT tx_id, position, program_id, stream_id, stream_version, event_id, \
                 event_type, schema_version, recorded_at, payload, hash \
                 FROM events ORDER BY tx_id, position) TO STDOUT (FORMAT binary)",
            )
            .await?;
        Ok(LogCopy {
            chunks,
            buffer: Vec::with_capacity(64 * 1024),
            read: 0,
            header_read: false,
            done: false,
        })
    }

    /// Writes the next row over `row` (its buffers are reused); false after the last one.
    pub async fn next_into(&mut self, row: &mut LogRow) -> Result<bool, StoreError> {
        loop {
            if self.done {
                return Ok(false);
            }
            let unread = &self.buffer[self.read..];
            let parsed = if self.header_read {
                parse_row(unread, row)?
            } else {
                parse_header(unread)?.map(|used| (used, Parsed::Header))
            };
            let Some((used, parsed)) = parsed else {
                self.fill().await?;
                continue;
            };
            self.read += used;
            match parsed {
                Parsed::Header => self.header_read = true,
                Parsed::Row => return Ok(true),
                Parsed::Trailer => {
                    // Read the stream to its end: sqlx hands the connection back only after
                    // the COPY's closing messages.
                    while let Some(chunk) = self.chunks.next().await {
                        chunk?;
                    }
                    self.done = true;
                }
            }
        }
    }

    /// Appends the next chunk of the COPY stream to the buffer (dropping what was read).
    async fn fill(&mut self) -> Result<(), StoreError> {
        let Some(chunk) = self.chunks.next().await.transpose()? else {
            return Err(malformed("the COPY data ended inside a row"));
        };
        self.buffer.drain(..self.read);
        self.read = 0;
        self.buffer.extend_from_slice(&chunk);
        Ok(())
    }
}

enum Parsed {
    Header,
    Trailer,
    Row,
}

fn malformed(what: &str) -> StoreError {
    StoreError::UnknownEvent {
        position: 0,
        message: format!("reading the log by COPY: {what}"),
    }
}

/// The header's length if `bytes` holds all of it.
fn parse_header(bytes: &[u8]) -> Result<Option<usize>, StoreError> {
    let fixed = SIGNATURE.len() + 8;
    if bytes.len() < fixed {
        return Ok(None);
    }
    if !bytes.starts_with(SIGNATURE) {
        return Err(malformed("not a binary COPY stream"));
    }
    let mut r = Reader::new(&bytes[SIGNATURE.len()..]);
    let _flags = r.int::<4>();
    let extension = r.int::<4>().and_then(|n| usize::try_from(n).ok());
    match extension {
        Some(n) if bytes.len() >= fixed + n => Ok(Some(fixed + n)),
        Some(_) => Ok(None),
        None => Err(malformed("a bad header extension length")),
    }
}

/// One tuple (or the trailer) and its length, if `bytes` holds all of it; a tuple is written
/// over `row` (a partly written `row` is fine: the caller reads it only after `Parsed::Row`).
fn parse_row(bytes: &[u8], row: &mut LogRow) -> Result<Option<(usize, Parsed)>, StoreError> {
    let mut r = Reader::new(bytes);
    let Some(fields) = r.int::<2>() else {
        return Ok(None);
    };
    if fields == -1 {
        return Ok(Some((2, Parsed::Trailer)));
    }
    if fields != i64::from(COLUMNS) {
        return Err(malformed("a row with an unexpected number of columns"));
    }
    match read_fields(&mut r, row) {
        Some(Ok(())) => Ok(Some((r.at, Parsed::Row))),
        Some(Err(e)) => Err(e),
        // Not all of the row has arrived yet (a NULL or a short field would be caught by
        // the table's NOT NULL and fixed-width columns, so only truncation gets here).
        None if r.truncated => Ok(None),
        None => Err(malformed("a row whose columns do not decode")),
    }
}

/// The columns in `LogCopy::start`'s order; `None` when a field is short or of the wrong width.
fn read_fields(r: &mut Reader, row: &mut LogRow) -> Option<Result<(), StoreError>> {
    row.tx_id = r.int_field::<8>()?;
    row.position = r.int_field::<8>()?;
    row.program_id = Uuid::from_slice(r.field()?).ok()?;
    if let Err(e) = set_text(&mut row.stream_id, r.field()?) {
        return Some(Err(e));
    }
    row.stream_version = r.int_field::<8>()?;
    row.event_id = Uuid::from_slice(r.field()?).ok()?;
    if let Err(e) = set_text(&mut row.event_type, r.field()?) {
        return Some(Err(e));
    }
    row.schema_version = i16::try_from(r.int_field::<2>()?).ok()?;
    row.recorded_at = timestamp(r.int_field::<8>()?)?;
    let Some((&JSONB_VERSION, json)) = r.field()?.split_first() else {
        return Some(Err(malformed("a jsonb payload of an unknown version")));
    };
    if let Err(e) = set_text(&mut row.payload, json) {
        return Some(Err(e));
    }
    let hash = r.field()?;
    row.hash.clear();
    row.hash.extend_from_slice(hash);
    Some(Ok(()))
}

fn set_text(into: &mut String, bytes: &[u8]) -> Result<(), StoreError> {
    let text = std::str::from_utf8(bytes).map_err(|_| malformed("text that is not UTF-8"))?;
    into.clear();
    into.push_str(text);
    Ok(())
}

/// timestamptz travels as microseconds since 2000-01-01 UTC.
fn timestamp(micros: i64) -> Option<DateTime<Utc>> {
    let epoch_2000 = DateTime::from_timestamp(946_684_800, 0)?;
    epoch_2000.checked_add_signed(TimeDelta::microseconds(micros))
}

/// Big-endian reads over a tuple; `truncated` tells a short buffer from a malformed field.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    truncated: bool,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            truncated: false,
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let Some(slice) = self.bytes.get(self.at..end) else {
            self.truncated = true;
            return None;
        };
        self.at = end;
        Some(slice)
    }

    /// A signed big-endian integer of `N` bytes.
    fn int<const N: usize>(&mut self) -> Option<i64> {
        let bytes: [u8; N] = self.take(N)?.try_into().ok()?;
        let mut wide = if bytes[0] & 0x80 != 0 {
            [0xff; 8]
        } else {
            [0; 8]
        };
        wide[8 - N..].copy_from_slice(&bytes);
        Some(i64::from_be_bytes(wide))
    }

    /// One field's bytes (a NULL, length -1, is not a field any column here may hold).
    fn field(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.int::<4>()?).ok()?;
        self.take(len)
    }

    /// A field holding a big-endian integer of exactly `N` bytes.
    fn int_field<const N: usize>(&mut self) -> Option<i64> {
        let len = self.int::<4>()?;
        if len != N as i64 {
            return None;
        }
        self.int::<N>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        out.extend_from_slice(bytes);
    }

    fn tuple() -> Vec<u8> {
        let mut out = COLUMNS.to_be_bytes().to_vec();
        field(&mut out, &7i64.to_be_bytes());
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
    fn a_tuple_decodes_and_every_prefix_of_it_waits_for_more() {
        let bytes = tuple();
        let mut row = LogRow {
            payload: "an earlier, longer payload".into(),
            ..LogRow::default()
        };
        let Ok(Some((used, Parsed::Row))) = parse_row(&bytes, &mut row) else {
            panic!("the tuple did not decode");
        };
        assert_eq!(used, bytes.len());
        assert_eq!((row.tx_id, row.position, row.stream_version), (7, -3, 2));
        assert_eq!(row.program_id, Uuid::from_u128(1));
        assert_eq!(row.event_type, "PointsAwarded");
        assert_eq!(row.payload, "{\"a\": \"é\"}");
        assert_eq!(row.hash, vec![9, 8, 7]);
        assert_eq!(
            row.recorded_at,
            DateTime::from_timestamp(946_684_801, 0).unwrap_or_default()
        );
        for cut in 0..bytes.len() {
            assert!(
                matches!(parse_row(&bytes[..cut], &mut LogRow::default()), Ok(None)),
                "a prefix of {cut} bytes"
            );
        }
    }

    #[test]
    fn a_bad_tuple_is_an_error_not_a_panic() {
        let row = &mut LogRow::default();
        let mut wrong_width = tuple();
        wrong_width[5] = 4; // tx_id's length: 4 instead of 8
        assert!(parse_row(&wrong_width, row).is_err());
        let mut not_utf8 = tuple();
        let at = not_utf8.len() - 7 - 4 - 3;
        not_utf8[at] = 0xff;
        assert!(parse_row(&not_utf8, row).is_err());
        assert!(parse_row(&[0, 3], row).is_err());
        assert!(matches!(
            parse_row(&[0xff, 0xff], row),
            Ok(Some((2, Parsed::Trailer)))
        ));
        assert!(parse_header(b"PGCOPY\n\xff\r\n\x01\0\0\0\0\0\0\0\0").is_err());
        assert!(matches!(
            parse_header(b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0"),
            Ok(Some(19))
        ));
    }
}
