//! Where deliveries come from: a program's channels and how they moved (a Telegram group that
//! became a supergroup), and destinations deliveries came for that no program received, so a
//! manager can see what to connect.

use super::auth::{Authorized, Read};
use crate::AppState;
use crate::error::ApiError;
use app::ingest::channels::{self, ChannelMove};
use app::ingest::unrouted::{self, UnroutedDestination};
use axum::Json;
use axum::extract::{Path, State};
use domain::ids::ProgramId;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Most rows either list shows.
const LIST_LIMIT: i64 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelRow {
    /// `instagram`, `vk` or `telegram`.
    pub network: String,
    /// Instagram brand account id, VK group id or Telegram chat id.
    pub destination: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramChannels {
    pub channels: Vec<ChannelRow>,
    /// How channels followed their destination to a new id, newest first.
    pub moves: Vec<ChannelMove>,
}

/// The program's channels and their moves.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/channels",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = ProgramChannels), (status = 404))
)]
pub async fn program_channels(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<ProgramChannels>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let channels = channels::of_program(&state.pool, program.program_id)
        .await?
        .into_iter()
        .map(|(network, destination)| ChannelRow {
            network,
            destination,
        })
        .collect();
    let moves = channels::moves(&state.pool, program.program_id, LIST_LIMIT).await?;
    Ok(Json(ProgramChannels { channels, moves }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnroutedList {
    /// Most recently seen first.
    pub destinations: Vec<UnroutedDestination>,
}

/// Destinations deliveries came for that no program received: no channel for them, or (VK) a
/// secret key that is not the group's. Not any one program's, so only for accounts not limited
/// to some programs.
#[utoipa::path(
    get,
    path = "/api/v1/admin/unrouted",
    tag = "admin",
    responses((status = 200, body = UnroutedList), (status = 403))
)]
pub async fn unrouted(
    auth: Authorized<Read>,
    State(state): State<AppState>,
) -> Result<Json<UnroutedList>, ApiError> {
    if auth.session.programs.is_some() {
        return Err(ApiError::forbidden(
            "destinations of no program are shown only to accounts not limited to some programs",
        ));
    }
    Ok(Json(UnroutedList {
        destinations: unrouted::list(&state.pool, LIST_LIMIT).await?,
    }))
}
