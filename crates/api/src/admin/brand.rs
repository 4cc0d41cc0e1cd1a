//! The program's brand as members see it in the Mini App: name, accent colour, logo and
//! community links (see `app::brand`). Everyone signed in reads it; admins change it.

use super::auth::{Administer, Authorized, Read};
use super::support::Body;
use crate::AppState;
use crate::error::ApiError;
use app::brand::{Brand, BrandRequest};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bytes::Bytes;
use domain::ids::ProgramId;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/brand",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = Brand), (status = 404))
)]
pub async fn show(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<Brand>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    Ok(Json(
        app::brand::load(&state.pool, program.program_id).await?,
    ))
}

/// Set the brand's name, colour and links (blank clears a field; the logo stays). 422 names
/// the field to fix.
#[utoipa::path(
    put,
    path = "/api/v1/admin/programs/{program_id}/brand",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    request_body = BrandRequest,
    responses((status = 200, body = Brand), (status = 403), (status = 404), (status = 422))
)]
pub async fn change(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(request): Body<BrandRequest>,
) -> Result<Json<Brand>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let brand = app::brand::validate(&request)?;
    let saved = app::brand::save(
        &state.pool,
        program.program_id,
        &brand,
        &auth.session.actor(),
    )
    .await?;
    Ok(Json(saved))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogoReply {
    /// Names the logo's URL: `/app/brand/{program_id}/logo/{logo_hash}`.
    pub logo_hash: String,
}

/// Upload the logo: the image's bytes as the body (PNG, JPEG or WebP, at most 200 KB; the
/// type is read from the bytes).
#[utoipa::path(
    put,
    path = "/api/v1/admin/programs/{program_id}/brand/logo",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 200, body = LogoReply), (status = 403), (status = 404), (status = 422))
)]
pub async fn upload_logo(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    body: Bytes,
) -> Result<Json<LogoReply>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let logo_hash = app::brand::set_logo(
        &state.pool,
        program.program_id,
        &body,
        &auth.session.actor(),
    )
    .await?;
    Ok(Json(LogoReply { logo_hash }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/admin/programs/{program_id}/brand/logo",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    responses((status = 204), (status = 403), (status = 404))
)]
pub async fn remove_logo(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    app::brand::remove_logo(&state.pool, program.program_id, &auth.session.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}
