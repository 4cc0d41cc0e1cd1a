//! A program's own Telegram bot (many brands in one deployment): shown, given a token (proved
//! with `getMe`, webhook set at once) and removed. The token never comes back.

use super::auth::{Administer, Authorized, Read};
use super::support::Body;
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bot::program_bot::{ConnectError, ConnectedBot, ProgramBotView};
use domain::ids::ProgramId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramBotStatus {
    /// None: the server's configured bot (if any) serves the program.
    pub bot: Option<ProgramBotView>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProgramBotRequest {
    /// The token BotFather gave for the brand's bot.
    pub token: String,
}

/// The program's own bot, if it has one.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/bot",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = ProgramBotStatus), (status = 403), (status = 404))
)]
pub async fn show(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<ProgramBotStatus>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let bot = bot::program_bot::view(&state, program.program_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(ProgramBotStatus { bot }))
}

/// Give the program a bot of its own, or a new token for it. The token is checked with
/// Telegram (`getMe`) before anything is stored; the webhook is set at once when the server
/// runs in webhook mode with an https public URL. 400: not a token; 409: another program has
/// this bot; 422: Telegram refuses the token; 502: Telegram did not answer.
#[utoipa::path(
    put,
    path = "/api/v1/admin/programs/{program_id}/bot",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    request_body = ProgramBotRequest,
    responses(
        (status = 200, body = ConnectedBot), (status = 400), (status = 403), (status = 409),
        (status = 422), (status = 502)
    )
)]
pub async fn connect(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(request): Body<ProgramBotRequest>,
) -> Result<Json<ConnectedBot>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let connected = bot::program_bot::connect(
        &state,
        program.program_id,
        &request.token,
        &auth.session.actor(),
    )
    .await
    .map_err(|e| match e {
        ConnectError::Stored(e) => e.into(),
        ConnectError::Refused(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bot_token_refused",
            e.to_string(),
        ),
        ConnectError::Unavailable(_) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "telegram_unavailable",
            e.to_string(),
        ),
    })?;
    Ok(Json(connected))
}

/// Take the program's own bot away: its webhook is refused from then on, and the server's
/// configured bot (if any) serves the program again.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/programs/{program_id}/bot",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    responses((status = 204), (status = 403), (status = 404))
)]
pub async fn disconnect(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    bot::program_bot::disconnect(&state, ProgramId(program_id), &auth.session.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}
