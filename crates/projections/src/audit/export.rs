//! The log for auditors, filtered, as JSON lines or CSV, read in one snapshot in position order.

use crate::error::Result;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::io::Write;
use store::RecordedEvent;
use uuid::Uuid;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFilter {
    pub program: Option<Uuid>,
    pub stream: Option<String>,
    pub event_type: Option<String>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    JsonLines,
    Csv,
}

const PAGE_ROWS: i64 = 10_000;
const CSV_HEADER: &str = "position,tx_id,program_id,stream_id,stream_version,event_id,event_type,\
                          schema_version,recorded_at,payload,metadata,hash";

/// Writes every matching event; returns how many.
pub async fn export(
    pool: &PgPool,
    filter: &ExportFilter,
    format: ExportFormat,
    out: &mut (dyn Write + Send),
) -> Result<u64> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    if format == ExportFormat::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    }
    let mut after = 0i64;
    let mut written = 0u64;
    loop {
        let page: Vec<RecordedEvent> = sqlx::query_as(
            "SELECT position, tx_id, program_id, stream_id, stream_version, event_id, event_type, \
             schema_version, payload, metadata, recorded_at, hash FROM events \
             WHERE position > $1 AND ($2::uuid IS NULL OR program_id = $2) \
               AND ($3::text IS NULL OR stream_id = $3) AND ($4::text IS NULL OR event_type = $4) \
               AND ($5::timestamptz IS NULL OR recorded_at >= $5) \
               AND ($6::timestamptz IS NULL OR recorded_at < $6) \
             ORDER BY position LIMIT $7",
        )
        .bind(after)
        .bind(filter.program)
        .bind(&filter.stream)
        .bind(&filter.event_type)
        .bind(filter.from)
        .bind(filter.to)
        .bind(PAGE_ROWS)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for e in &page {
            match format {
                ExportFormat::JsonLines => write_json_line(e, out)?,
                ExportFormat::Csv => write_csv_line(e, out)?,
            }
        }
        written += page.len() as u64;
    }
    tx.rollback().await?;
    out.flush()?;
    Ok(written)
}

fn write_json_line(e: &RecordedEvent, out: &mut (dyn Write + Send)) -> Result<()> {
    let line = serde_json::json!({
        "position": e.position,
        "tx_id": e.tx_id,
        "program_id": e.program_id,
        "stream_id": e.stream_id,
        "stream_version": e.stream_version,
        "event_id": e.event_id,
        "event_type": e.event_type,
        "schema_version": e.schema_version,
        "recorded_at": e.recorded_at,
        "payload": e.payload,
        "metadata": e.metadata,
        "hash": hex::encode(&e.hash),
    });
    serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn write_csv_line(e: &RecordedEvent, out: &mut (dyn Write + Send)) -> Result<()> {
    let fields = [
        e.position.to_string(),
        e.tx_id.to_string(),
        e.program_id.to_string(),
        e.stream_id.clone(),
        e.stream_version.to_string(),
        e.event_id.to_string(),
        e.event_type.clone(),
        e.schema_version.to_string(),
        e.recorded_at.to_rfc3339(),
        e.payload.to_string(),
        e.metadata.to_string(),
        hex::encode(&e.hash),
    ];
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    writeln!(out, "{}", line.join(","))?;
    Ok(())
}

/// RFC 4180: quote fields with commas, quotes or line breaks; double the quotes inside.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
