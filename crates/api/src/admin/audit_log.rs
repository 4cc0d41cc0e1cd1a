//! The audit log: every manager action (who, when, what, why) from the admin_log read model,
//! as JSON pages or one CSV file.

use super::auth::{Authorized, Read};
use super::csv_file::{CsvFile, CsvOptions};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use projections::admin_log::{ManagerActionRow, manager_actions};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Most rows one CSV export holds; an older part of the log needs `loyalty audit export`.
pub const MAX_CSV_ROWS: usize = 100_000;
const PAGE: i64 = 1_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    pub position: i64,
    pub at: DateTime<Utc>,
    /// `manager:<username>`.
    pub manager: String,
    /// The event type, e.g. `PointsAdjusted`, `MemberBlocked`, `CampaignCreated`.
    pub action: String,
    /// The stream changed: `member-…`, `campaign-…`, `reward-…`, `program-…`.
    pub subject: String,
    /// The member's name when the subject is a member with a known name.
    pub subject_name: Option<String>,
    /// The reason given, where the action takes one.
    pub reason: Option<String>,
    /// Points moved, for adjustments and cancelled redemptions.
    pub points: Option<i64>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<ManagerActionRow> for LogEntry {
    fn from(row: ManagerActionRow) -> Self {
        let text = |k: &str| {
            row.details
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let points = ["delta", "refund"]
            .iter()
            .find_map(|k| row.details.get(*k).and_then(|v| v.as_i64()));
        Self {
            position: row.position,
            at: row.at,
            reason: text("reason"),
            points,
            manager: row.manager,
            action: row.action,
            subject: row.subject,
            subject_name: None,
            details: row.details,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogPage {
    /// Newest first.
    pub entries: Vec<LogEntry>,
    /// Pass as `before` for the next (older) page; none at the end.
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LogQuery {
    /// Only entries before this log position.
    pub before: Option<i64>,
    /// Page size (default 100, at most 1,000).
    pub limit: Option<i64>,
}

/// Every manager action of the program, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/audit-log",
    tag = "admin",
    params(("program_id" = Uuid, Path), LogQuery),
    responses((status = 200, body = LogPage))
)]
pub async fn page(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Query(query): Query<LogQuery>,
) -> Result<Json<LogPage>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, PAGE);
    let rows = manager_actions(&state.pool, program_id, query.before, limit)
        .await
        .map_err(ApiError::internal)?;
    let next_before = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.position))
        .flatten();
    let mut entries: Vec<LogEntry> = rows.into_iter().map(LogEntry::from).collect();
    name_subjects(&state, program_id, &mut entries).await?;
    Ok(Json(LogPage {
        entries,
        next_before,
    }))
}

/// Fills in the names of the entries' member subjects (`member-<id>`), as the panel shows
/// members everywhere.
async fn name_subjects(
    state: &AppState,
    program_id: Uuid,
    entries: &mut [LogEntry],
) -> Result<(), ApiError> {
    let member_of = |e: &LogEntry| {
        e.subject
            .strip_prefix("member-")
            .and_then(|id| id.parse::<Uuid>().ok())
    };
    let members: Vec<Uuid> = entries.iter().filter_map(member_of).collect();
    if members.is_empty() {
        return Ok(());
    }
    let names = state
        .names
        .names(program_id, &members)
        .await
        .map_err(ApiError::internal)?;
    let named: std::collections::HashMap<Uuid, Option<String>> =
        members.into_iter().zip(names).collect();
    for entry in entries.iter_mut() {
        entry.subject_name = member_of(entry).and_then(|m| named.get(&m).cloned().flatten());
    }
    Ok(())
}

/// The audit log as CSV for spreadsheets: position, at, manager, action, subject, the
/// subject member's name, points, reason, details (`;`-separated with a byte order mark unless `separator=comma`).
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/audit-log.csv",
    tag = "admin",
    params(("program_id" = Uuid, Path), CsvOptions),
    responses((status = 200, content_type = "text/csv", body = String))
)]
pub async fn csv(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Query(options): Query<CsvOptions>,
) -> Result<Response, ApiError> {
    let mut file = CsvFile::new(&state, program_id, "audit-log", options).await?;
    file.header_row(&[
        ("position", "Позиция"),
        ("at", "Время"),
        ("manager", "Менеджер"),
        ("action", "Действие"),
        ("subject", "Объект"),
        ("subject_name", "Имя"),
        ("points", "Баллы"),
        ("reason", "Причина"),
        ("details", "Подробности"),
    ])?;
    let mut before = None;
    let mut written = 0;
    while written < MAX_CSV_ROWS {
        let rows = manager_actions(&state.pool, program_id, before, PAGE)
            .await
            .map_err(ApiError::internal)?;
        let Some(last) = rows.last() else { break };
        before = Some(last.position);
        let full = rows.len() as i64 == PAGE;
        let mut entries: Vec<LogEntry> = rows.into_iter().map(LogEntry::from).collect();
        name_subjects(&state, program_id, &mut entries).await?;
        for e in entries {
            file.row(&[
                e.position.to_string(),
                e.at.to_rfc3339(),
                e.manager,
                e.action,
                e.subject,
                e.subject_name.unwrap_or_default(),
                e.points.map(|p| p.to_string()).unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.details.to_string(),
            ])?;
            written += 1;
        }
        if !full {
            break;
        }
    }
    Ok((file.headers(), file.take()?).into_response())
}
