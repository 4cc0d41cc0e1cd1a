//! The auditor's endpoints: the event log exported with filters, a member as of a moment,
//! and a verify run (every read model against a fold of the whole log, every hash chain).

use super::auth::{Audit, Authorized};
use super::support::invalid;
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use projections::audit::{AsOf, ExportFilter, ExportFormat, VerifyReport};
use serde::Deserialize;
use std::io::Write;
use utoipa::IntoParams;
use uuid::Uuid;

/// The largest export served over HTTP; beyond it, narrow the filters or use the CLI
/// (`loyalty audit export`), which streams without a limit.
pub const MAX_EXPORT_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `jsonl` (default) or `csv`.
    pub format: Option<String>,
    pub program: Option<Uuid>,
    /// A stream id, e.g. `member-<uuid>`.
    pub stream: Option<String>,
    /// An event type, e.g. `PointsAdjusted`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Recorded at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Recorded before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

/// Collects the export in memory up to a cap, so one request cannot exhaust it.
struct Capped {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_EXPORT_BYTES {
            self.overflowed = true;
            return Err(std::io::Error::other("export too large for HTTP"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn blank_to_none(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Export events as JSON Lines or CSV, filtered by program, stream, type and time range.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit/events",
    tag = "auditor",
    params(ExportQuery),
    responses(
        (status = 200, content_type = "application/x-ndjson", body = String),
        (status = 403), (status = 422)
    )
)]
pub async fn export(
    auth: Authorized<Audit>,
    State(state): State<AppState>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    // An account limited to some programs exports one of them at a time.
    if auth.session.programs.is_some() && !query.program.is_some_and(|p| auth.session.may_access(p))
    {
        return Err(ApiError::forbidden(
            "this account may export only its own programs: set the program filter to one of them",
        ));
    }
    let (format, content_type, extension) = match query.format.as_deref().unwrap_or("jsonl") {
        "jsonl" | "json" => (ExportFormat::JsonLines, "application/x-ndjson", "jsonl"),
        "csv" => (ExportFormat::Csv, "text/csv; charset=utf-8", "csv"),
        other => {
            return Err(invalid(
                "invalid_format",
                format!("unknown format {other:?}: use jsonl or csv"),
            ));
        }
    };
    let filter = ExportFilter {
        program: query.program,
        stream: blank_to_none(query.stream),
        event_type: blank_to_none(query.event_type),
        from: query.from,
        to: query.to,
    };
    let mut out = Capped {
        bytes: Vec::new(),
        overflowed: false,
    };
    if let Err(e) = projections::audit::export(&state.pool, &filter, format, &mut out).await {
        if out.overflowed {
            return Err(invalid(
                "export_too_large",
                "narrow the filters or use `loyalty audit export`",
            ));
        }
        return Err(ApiError::internal(e));
    }
    let disposition = format!("attachment; filename=\"events.{extension}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        out.bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AsOfQuery {
    /// The moment (RFC 3339); default now.
    pub at: Option<DateTime<Utc>>,
}

/// A member's balance, accounts and history as they stood at a moment, folded from the log.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit/members/{member_id}/as-of",
    tag = "auditor",
    params(("member_id" = Uuid, Path), AsOfQuery),
    responses((status = 200, body = Object), (status = 403))
)]
pub async fn as_of(
    auth: Authorized<Audit>,
    State(state): State<AppState>,
    Path(member_id): Path<Uuid>,
    Query(query): Query<AsOfQuery>,
) -> Result<Json<AsOf>, ApiError> {
    let at = query.at.unwrap_or_else(Utc::now);
    let view = projections::audit::as_of(state.ledger().store(), member_id, at)
        .await
        .map_err(ApiError::internal)?;
    if !view.program_id.is_none_or(|p| auth.session.may_access(p)) {
        return Err(ApiError::forbidden(
            "this member belongs to a program this account does not manage",
        ));
    }
    Ok(Json(view))
}

/// Run a verification now: every read model against the fold of the whole log, and every
/// stream's hash chain. Reads one snapshot; changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/admin/audit/verify",
    tag = "auditor",
    params(("X-CSRF-Token" = String, Header)),
    responses((status = 200, body = Object, description = "The report; clean when differences_total is 0"), (status = 403))
)]
pub async fn verify(
    auth: Authorized<Audit>,
    State(state): State<AppState>,
) -> Result<Json<VerifyReport>, ApiError> {
    if auth.session.programs.is_some() {
        return Err(ApiError::forbidden(
            "verification reads every program: it needs an account not limited to some",
        ));
    }
    let report = projections::audit::verify(&state.pool)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(report))
}
