//! The program's managers' chat (`app::managers_chat`): which Telegram group gets the morning
//! digest and the alerts, at what time and in which language. Everyone signed in sees it; the
//! roles that manage (admin, manager) of the program connect, change and disconnect it.

use super::auth::{Authorized, Manage, Read};
use super::support::Body;
use crate::AppState;
use crate::error::ApiError;
use app::managers_chat::{
    self, CandidateChat, ManagersChat, ManagersChatChange, ManagersChatRequest, Outcome,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::ids::ProgramId;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Most rows either list shows.
const LIST_LIMIT: i64 = 50;

#[derive(Debug, Serialize, ToSchema)]
pub struct ManagersChatView {
    /// The connected chat, if any.
    pub chat: Option<ManagersChat>,
    /// Telegram groups the bot is in that may become the managers' chat, newest first.
    pub candidates: Vec<CandidateChat>,
    /// Who connected, changed or disconnected it, newest first.
    pub changes: Vec<ManagersChatChange>,
    /// The program's time zone, in which the digest time is read.
    pub time_zone: String,
}

/// The program's managers' chat, the groups it could be, and its changes.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/managers-chat",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = ManagersChatView), (status = 404))
)]
pub async fn show(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<ManagersChatView>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let id = program.program_id;
    Ok(Json(ManagersChatView {
        chat: managers_chat::get(&state.pool, id).await?,
        candidates: managers_chat::candidates(&state.pool, id, LIST_LIMIT).await?,
        changes: managers_chat::changes(&state.pool, id, LIST_LIMIT).await?,
        time_zone: program.time_zone.name().to_string(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ManagersChatReply {
    /// `connected`, `changed` or `unchanged`.
    pub outcome: Outcome,
    pub chat: Option<ManagersChat>,
}

/// Connect a Telegram group as the managers' chat (replacing the one before), or change its
/// digest time, language or alert thresholds. Recorded with who did it. 400 names what is
/// wrong; 409 when the group is another program's managers' chat or one of this program's
/// channels.
#[utoipa::path(
    put,
    path = "/api/v1/admin/programs/{program_id}/managers-chat",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    request_body = ManagersChatRequest,
    responses(
        (status = 200, body = ManagersChatReply), (status = 400), (status = 403), (status = 409)
    )
)]
pub async fn connect(
    auth: Authorized<Manage>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(request): Body<ManagersChatRequest>,
) -> Result<Json<ManagersChatReply>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let id = program.program_id;
    let current = managers_chat::get(&state.pool, id).await?;
    let chat_id = request.chat_id.trim().parse::<i64>().ok();
    let same = current.as_ref().filter(|c| Some(c.chat_id) == chat_id);
    let valid = managers_chat::validate(&request, same)?;
    let channel = state
        .ingest
        .channel(
            domain::network::Network::Telegram,
            &valid.chat_id.to_string(),
        )
        .await
        .map_err(ApiError::internal)?;
    if channel.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "managers_chat_is_channel",
            "this group is a channel of a program: members earn points there; make a separate \
             group for managers",
        ));
    }
    let outcome = managers_chat::connect(&state.pool, id, &valid, &auth.session.actor()).await?;
    Ok(Json(ManagersChatReply {
        outcome,
        chat: managers_chat::get(&state.pool, id).await?,
    }))
}

/// Disconnect the managers' chat: no digest or alert goes there any more.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/programs/{program_id}/managers-chat",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    responses((status = 204), (status = 403), (status = 404))
)]
pub async fn disconnect(
    auth: Authorized<Manage>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    managers_chat::disconnect(&state.pool, ProgramId(program_id), &auth.session.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}
