//! The member's switch for the brand's broadcasts (the bot's `/stop` and `/resume` flip it too).

use super::auth::Member;
use super::{ErrorEnvelope, JsonBody};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BroadcastSetting {
    /// `true`: the member gets the brand's broadcasts in their chat with the bot.
    pub subscribed: bool,
}

/// Whether the signed-in member gets broadcasts.
#[utoipa::path(
    get,
    path = "/api/v1/app/me/broadcasts",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, body = BroadcastSetting),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn setting(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<BroadcastSetting>, ApiError> {
    let out =
        app::broadcasts::opted_out(&state.pool, member.program_id(), member.member_id).await?;
    Ok(Json(BroadcastSetting { subscribed: !out }))
}

/// Turns the brand's broadcasts on or off for the signed-in member.
#[utoipa::path(
    put,
    path = "/api/v1/app/me/broadcasts",
    tag = "mini-app",
    security(("tma" = [])),
    request_body = BroadcastSetting,
    responses(
        (status = 200, body = BroadcastSetting),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn set(
    State(state): State<AppState>,
    member: Member,
    JsonBody(body): JsonBody<BroadcastSetting>,
) -> Result<Json<BroadcastSetting>, ApiError> {
    app::broadcasts::set_opted_out(
        &state.pool,
        member.program_id(),
        member.member_id,
        !body.subscribed,
        Utc::now(),
    )
    .await?;
    Ok(Json(body))
}
