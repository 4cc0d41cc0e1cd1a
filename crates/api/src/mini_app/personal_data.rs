//! A member's own data: download it, or delete it (with an explicit confirmation).

use super::auth::Member;
use super::{ErrorEnvelope, JsonBody};
use crate::AppState;
use crate::error::ApiError;
use app::personal_data::{Erased, MemberExport};
use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_DISPOSITION;
use axum::response::{IntoResponse, Response};
use domain::event::{Eraser, ErasureReason};
use serde::Deserialize;
use utoipa::ToSchema;

/// Everything the program holds about the signed-in member, as a JSON file: accounts and what
/// the platforms told about them, the whole points history, redemptions and coupons.
#[utoipa::path(
    get,
    path = "/api/v1/app/me/export",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, description = "The member's data", body = MemberExport),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn export(State(state): State<AppState>, member: Member) -> Result<Response, ApiError> {
    let export = state
        .export_member(member.program_id(), member.member_id)
        .await?;
    let file = format!("attachment; filename=\"my-data-{}.json\"", member.member_id);
    Ok(([(CONTENT_DISPOSITION, file)], Json(export)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EraseRequest {
    /// Must be `true`: the member confirmed they understand their points are lost.
    pub confirm: bool,
}

/// Deletes the signed-in member's personal data. The points history stays in the ledger as an
/// anonymous member's; opening the app again starts a new member with no points.
#[utoipa::path(
    post,
    path = "/api/v1/app/me/erasure",
    tag = "mini-app",
    security(("tma" = [])),
    request_body = EraseRequest,
    responses(
        (status = 200, description = "Erased (or erased before)", body = Erased),
        (status = 400, description = "Not confirmed", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn erase(
    State(state): State<AppState>,
    member: Member,
    JsonBody(body): JsonBody<EraseRequest>,
) -> Result<Json<Erased>, ApiError> {
    if !body.confirm {
        return Err(ApiError::bad_request(
            "erasure needs {\"confirm\": true}: the member's points are lost for good",
        ));
    }
    let erased = state
        .erase_member(
            member.program_id(),
            member.member_id,
            Eraser::Member,
            ErasureReason::MemberRequest,
        )
        .await?;
    state
        .mini_app
        .forget_caller(member.program_id().0, member.user.id);
    Ok(Json(erased))
}
