//! Where deliveries come from: a program's channels (connected, changed and disconnected
//! here, each with its health), how they moved (a Telegram group that
//! became a supergroup), and destinations deliveries came for that no program received, so a
//! manager can see what to connect.

use super::auth::{Administer, Authorized, Read};
use super::support::Body;
use crate::AppState;
use crate::error::ApiError;
use app::channels::{ChannelChange, ChannelRequest, ChannelStatus, Connected, OfferedChat};
use app::ingest::channels::{self, ChannelMove};
use app::ingest::unrouted::{self, UnroutedDestination};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::ids::ProgramId;
use domain::network::Network;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Most rows either list shows.
const LIST_LIMIT: i64 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramChannels {
    /// Each channel with whether its deliveries arrive.
    pub channels: Vec<ChannelStatus>,
    /// How channels followed their destination to a new id, newest first.
    pub moves: Vec<ChannelMove>,
    /// Who connected, changed or disconnected which channel, newest first.
    pub changes: Vec<ChannelChange>,
}

/// The program's channels with their health, moves and changes.
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
    let id = program.program_id;
    Ok(Json(ProgramChannels {
        channels: app::channels::statuses(&state.pool, id).await?,
        moves: channels::moves(&state.pool, id, LIST_LIMIT).await?,
        changes: app::channels::changes(&state.pool, id, LIST_LIMIT).await?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectReply {
    /// `connected`, `changed` (its VK secret or confirmation) or `unchanged`.
    pub outcome: Connected,
}

/// Connect an Instagram account, a VK group or a Telegram group or channel to the program (or
/// change a VK group's secret key and confirmation string). Admins only; recorded with who did
/// it. 400 names what is wrong with the input; 409 when another program has the destination.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/channels",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    request_body = ChannelRequest,
    responses(
        (status = 200, body = ConnectReply), (status = 400), (status = 403), (status = 409)
    )
)]
pub async fn connect(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(request): Body<ChannelRequest>,
) -> Result<Json<ConnectReply>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let channel = app::channels::validate(&request)?;
    let outcome = app::channels::connect(
        &state.pool,
        state.ingest.channel_cache(),
        program.program_id,
        &channel,
        &auth.session.actor(),
    )
    .await?;
    Ok(Json(ConnectReply { outcome }))
}

/// Disconnect one of the program's channels: its deliveries reach no program from then on.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/programs/{program_id}/channels/{network}/{destination}",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("network" = String, Path), ("destination" = String, Path),
        ("X-CSRF-Token" = String, Header),
    ),
    responses((status = 204), (status = 403), (status = 404))
)]
pub async fn disconnect(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Path((program_id, network, destination)): Path<(Uuid, String, String)>,
) -> Result<StatusCode, ApiError> {
    let network = network_named(&network)?;
    app::channels::disconnect(
        &state.pool,
        state.ingest.channel_cache(),
        ProgramId(program_id),
        network,
        &destination,
        &auth.session.actor(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferedChats {
    /// Newest first.
    pub chats: Vec<OfferedChat>,
}

/// Telegram groups and channels where the bot is an administrator and that no program has:
/// connect one by its chat id.
#[utoipa::path(
    get,
    path = "/api/v1/admin/telegram/offered-chats",
    tag = "admin",
    params(BotOf),
    responses((status = 200, body = OfferedChats), (status = 403))
)]
pub async fn offered_chats(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Query(of): Query<BotOf>,
) -> Result<Json<OfferedChats>, ApiError> {
    let program = of.program(&auth)?;
    Ok(Json(OfferedChats {
        chats: app::channels::offered_chats(&state.pool, program, LIST_LIMIT).await?,
    }))
}

/// Which bot a Telegram endpoint is about: the program's (its own, else the configured one),
/// or the configured bot when no program is named.
#[derive(Debug, Deserialize, IntoParams)]
pub struct BotOf {
    pub program_id: Option<Uuid>,
}

impl BotOf {
    fn program(&self, auth: &Authorized<Administer>) -> Result<Option<ProgramId>, ApiError> {
        match self.program_id {
            Some(p) if !auth.session.may_access(p) => Err(ApiError::forbidden(
                "this account does not manage that program",
            )),
            other => Ok(other.map(ProgramId)),
        }
    }

    async fn bot(
        &self,
        state: &AppState,
        auth: &Authorized<Administer>,
    ) -> Result<bot::Bot, ApiError> {
        let bot = match self.program(auth)? {
            Some(program) => bot::Bot::for_program(state, program).await?,
            None => bot::Bot::from_state(state),
        };
        bot.ok_or_else(not_configured)
    }
}

/// The bot's webhook as Telegram reports it: where it points, pending updates, the last
/// delivery error and update kinds Telegram leaves out. 409 without a bot token.
#[utoipa::path(
    get,
    path = "/api/v1/admin/telegram/webhook",
    tag = "admin",
    params(BotOf),
    responses((status = 200, body = bot::webhook::WebhookStatus), (status = 403), (status = 409), (status = 502))
)]
pub async fn telegram_webhook(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Query(of): Query<BotOf>,
) -> Result<Json<bot::webhook::WebhookStatus>, ApiError> {
    let bot = of.bot(&state, &auth).await?;
    Ok(Json(
        bot::webhook::status(&bot).await.map_err(telegram_error)?,
    ))
}

/// Sets the bot's webhook again (`setWebhook` with this server's URL, its secret token and
/// every update kind it reads), then answers as the GET does.
#[utoipa::path(
    post,
    path = "/api/v1/admin/telegram/webhook",
    tag = "admin",
    params(BotOf, ("X-CSRF-Token" = String, Header)),
    responses((status = 200, body = bot::webhook::WebhookStatus), (status = 403), (status = 409), (status = 502))
)]
pub async fn set_telegram_webhook(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Query(of): Query<BotOf>,
) -> Result<Json<bot::webhook::WebhookStatus>, ApiError> {
    let bot = of.bot(&state, &auth).await?;
    if let bot::webhook::WebhookCheck::Skipped(why) = bot::webhook::ensure_webhook(&bot)
        .await
        .map_err(telegram_error)?
    {
        return Err(ApiError::new(StatusCode::CONFLICT, "webhook_not_set", why));
    }
    Ok(Json(
        bot::webhook::status(&bot).await.map_err(telegram_error)?,
    ))
}

fn network_named(name: &str) -> Result<Network, ApiError> {
    Network::parse(name).ok_or_else(|| ApiError::not_found(format!("no network {name:?}")))
}

fn not_configured() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "telegram_not_configured",
        "no Telegram bot: the program has none of its own and the server has no \
         LOYALTY_TELEGRAM_BOT_TOKEN",
    )
}

fn telegram_error(e: bot::BotError) -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "telegram_unavailable",
        format!("Telegram did not answer as expected: {e}"),
    )
}

/// Checks one of the program's channels now: its health and, for a Telegram chat, asks Telegram
/// whether the bot is an administrator there (the answer is kept for the channel list).
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/channels/{network}/{destination}/check",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("network" = String, Path), ("destination" = String, Path),
        ("X-CSRF-Token" = String, Header),
    ),
    responses((status = 200, body = bot::channels::ChannelCheck), (status = 404))
)]
pub async fn check(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path((program_id, network, destination)): Path<(Uuid, String, String)>,
) -> Result<Json<bot::channels::ChannelCheck>, ApiError> {
    let network = network_named(&network)?;
    let bot = bot::Bot::for_program(&state, ProgramId(program_id)).await?;
    let check = bot::channels::check(
        &state.pool,
        bot.as_ref().map(bot::Bot::asker),
        ProgramId(program_id),
        network,
        &destination,
    )
    .await?;
    Ok(Json(check))
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
