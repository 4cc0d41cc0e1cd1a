//! Bulk adjustments in the panel: check a CSV of point changes (every bad row by its line),
//! apply it in the background and follow its progress, reverse it as a whole.

use super::auth::{Authorized, IdempotencyKey, Manage, Read};
use super::support::{Body, invalid};
use crate::AppState;
use crate::error::ApiError;
use app::bulk_adjustments::{BulkAdjustment, BulkError, DryRun};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::ids::ProgramId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

impl From<BulkError> for ApiError {
    fn from(e: BulkError) -> Self {
        match e {
            BulkError::File(_) | BulkError::BadRows(_) => {
                invalid("invalid_bulk_file", e.to_string())
            }
            BulkError::LargeUnconfirmed(_) => {
                invalid("large_adjustment_unconfirmed", e.to_string())
            }
            BulkError::Busy | BulkError::NotApplied(_) => {
                ApiError::new(StatusCode::CONFLICT, "bulk_adjustment_busy", e.to_string())
            }
            BulkError::App(e) => e.into(),
            BulkError::Database(e) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkAdjustmentList {
    /// Newest first, up to 200.
    pub bulk_adjustments: Vec<BulkAdjustment>,
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/bulk-adjustments",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = BulkAdjustmentList))
)]
pub async fn list(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<BulkAdjustmentList>, ApiError> {
    let bulk_adjustments = app::bulk_adjustments::list(&state.pool, ProgramId(program_id))
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(BulkAdjustmentList { bulk_adjustments }))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/bulk-adjustments/{bulk_id}",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("bulk_id" = Uuid, Path)),
    responses((status = 200, body = BulkAdjustment), (status = 404))
)]
pub async fn one(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path((program_id, bulk_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<BulkAdjustment>, ApiError> {
    app::bulk_adjustments::get(&state.pool, ProgramId(program_id), bulk_id)
        .await
        .map_err(ApiError::internal)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no such bulk adjustment in this program"))
}

/// A dry run: every row checked (member found, points valid, balance enough, rows of one
/// member in file order), every bad row named by its line. Nothing is applied.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/bulk-adjustments/check",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = DryRun), (status = 422))
)]
pub async fn check(
    _auth: Authorized<Manage>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    file: Bytes,
) -> Result<Json<DryRun>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let threshold = state.config.admin.large_adjustment_points;
    let dry_run = app::bulk_adjustments::check(
        state.ledger(),
        &state.pool,
        program.program_id,
        &file,
        threshold,
    )
    .await?;
    Ok(Json(dry_run))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplyParams {
    /// The file's name as the manager chose it, for the list.
    #[serde(default)]
    pub file_name: String,
    /// Rows over the single-adjustment threshold are applied only when confirmed.
    #[serde(default)]
    pub confirm_large: bool,
}

/// Apply a file: checked again, refused whole if any row is bad, then applied in the
/// background (poll the answer's id for progress). Each row's command id derives from the
/// file's SHA-256 and its line: the same file again resumes an interrupted run, and answers
/// a finished one as it is, so each row is applied once.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/bulk-adjustments",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ApplyParams,
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 202, body = BulkAdjustment), (status = 409), (status = 422))
)]
pub async fn apply(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Query(params): Query<ApplyParams>,
    file: Bytes,
) -> Result<(StatusCode, Json<BulkAdjustment>), ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let threshold = state.config.admin.large_adjustment_points;
    let started = app::bulk_adjustments::start(
        state.ledger(),
        &state.pool,
        program.program_id,
        &file,
        &params.file_name,
        (threshold, params.confirm_large),
        &auth.action(&key),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReverseBulkRequest {
    /// Why, for managers and auditors: kept on every compensation.
    pub reason: String,
}

/// Reverse an applied file as a whole: one compensating adjustment per applied row, in the
/// background; twice is once, and a row reversed by hand meanwhile is not reversed again.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/bulk-adjustments/{bulk_id}/reverse",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("bulk_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = ReverseBulkRequest,
    responses((status = 202, body = BulkAdjustment), (status = 404), (status = 409), (status = 422))
)]
pub async fn reverse(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, bulk_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<ReverseBulkRequest>,
) -> Result<(StatusCode, Json<BulkAdjustment>), ApiError> {
    let reason = super::members::required_reason(&body.reason)?;
    let reversing = app::bulk_adjustments::reverse(
        state.ledger(),
        &state.pool,
        ProgramId(program_id),
        bulk_id,
        &reason,
        &auth.action(&key),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("no such bulk adjustment in this program"))?;
    Ok((StatusCode::ACCEPTED, Json(reversing)))
}
