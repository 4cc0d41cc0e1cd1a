//! Broadcasts in the panel: see how many an audience reaches, send now or at a time, follow
//! the progress and each recipient's outcome, stop one.

use super::auth::{Authorized, IdempotencyKey, Publish, Read};
use super::support::{Body, invalid};
use crate::AppState;
use crate::error::ApiError;
use app::broadcasts::{Audience, Broadcast, BroadcastError, Draft, RecipientOutcome};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::ids::ProgramId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Broadcasts a list shows at most (newest first).
const LIST_LIMIT: i64 = 100;
/// Recipients a page shows at most.
const PAGE: i64 = 100;

impl From<BroadcastError> for ApiError {
    fn from(e: BroadcastError) -> Self {
        match e {
            BroadcastError::Invalid { field, why } => {
                invalid("invalid_broadcast", format!("{field}: {why}"))
            }
            BroadcastError::NotFound => ApiError::not_found("no such broadcast in this program"),
            BroadcastError::Finished(_) => {
                ApiError::new(StatusCode::CONFLICT, "broadcast_finished", e.to_string())
            }
            BroadcastError::Database(e) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastList {
    /// Newest first.
    pub broadcasts: Vec<Broadcast>,
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/broadcasts",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = BroadcastList))
)]
pub async fn list(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<BroadcastList>, ApiError> {
    let broadcasts = app::broadcasts::list(&state.pool, ProgramId(program_id), LIST_LIMIT).await?;
    Ok(Json(BroadcastList { broadcasts }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AudienceSize {
    /// Chats the broadcast would go to now.
    pub recipients: i64,
}

/// How many members an audience reaches now (the bot can write to them, not blocked, not
/// opted out).
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/broadcasts/audience",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    request_body = Audience,
    responses((status = 200, body = AudienceSize), (status = 422))
)]
pub async fn audience(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(audience): Body<Audience>,
) -> Result<Json<AudienceSize>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let recipients =
        app::broadcasts::audience_size(&state.pool, program.program_id, &audience, Utc::now())
            .await?;
    Ok(Json(AudienceSize { recipients }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewBroadcastRequest {
    /// Plain text, up to 4,096 characters (1,024 with an image).
    pub text: String,
    /// A public https image sent with the text as its caption.
    #[serde(default)]
    pub image_url: Option<String>,
    /// Label of a button that opens the Mini App; no button when absent.
    #[serde(default)]
    pub button_label: Option<String>,
    #[serde(default)]
    pub audience: Audience,
    /// When to send (RFC 3339); now when absent.
    #[serde(default)]
    pub send_at: Option<DateTime<Utc>>,
}

/// Schedule a broadcast (now, or at `send_at`). Its id derives from the Idempotency-Key, so a
/// repeated submit answers the same broadcast.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/broadcasts",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header)),
    request_body = NewBroadcastRequest,
    responses((status = 200, body = Broadcast), (status = 422))
)]
pub async fn create(
    auth: Authorized<Publish>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(body): Body<NewBroadcastRequest>,
) -> Result<Json<Broadcast>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let action = auth.action(&key);
    let draft = Draft {
        text: body.text,
        image_url: body.image_url.filter(|u| !u.trim().is_empty()),
        button_label: body.button_label.filter(|l| !l.trim().is_empty()),
        audience: body.audience,
        send_at: body.send_at,
    };
    let broadcast = app::broadcasts::create(
        &state.pool,
        program.program_id,
        action.request_id,
        &draft,
        &action.manager,
        Utc::now(),
    )
    .await?;
    Ok(Json(broadcast))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/broadcasts/{broadcast_id}",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("broadcast_id" = Uuid, Path)),
    responses((status = 200, body = Broadcast), (status = 404))
)]
pub async fn one(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path((program_id, broadcast_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<Broadcast>, ApiError> {
    let broadcast = app::broadcasts::get(&state.pool, ProgramId(program_id), broadcast_id)
        .await?
        .ok_or(BroadcastError::NotFound)?;
    Ok(Json(broadcast))
}

/// Stop a scheduled or sending broadcast: nothing more is sent.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/broadcasts/{broadcast_id}/stop",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("broadcast_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    responses((status = 200, body = Broadcast), (status = 404), (status = 409))
)]
pub async fn stop(
    auth: Authorized<Publish>,
    State(state): State<AppState>,
    Path((program_id, broadcast_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<Broadcast>, ApiError> {
    let actor = auth.session.actor();
    let broadcast = app::broadcasts::stop(
        &state.pool,
        ProgramId(program_id),
        broadcast_id,
        &actor,
        Utc::now(),
    )
    .await?;
    Ok(Json(broadcast))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RecipientsQuery {
    /// One outcome only: `pending`, `sent`, `blocked`, `failed` or `unknown`.
    pub status: Option<String>,
    /// The last member id of the previous page.
    pub after: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientPage {
    pub recipients: Vec<RecipientRow>,
    /// The `after` of the next page; `null` on the last one.
    pub next_after: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientRow {
    #[serde(flatten)]
    pub outcome: RecipientOutcome,
    pub member_name: Option<String>,
}

/// Each recipient's outcome, by member, 100 a page.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/broadcasts/{broadcast_id}/recipients",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("broadcast_id" = Uuid, Path), RecipientsQuery),
    responses((status = 200, body = RecipientPage), (status = 404), (status = 422))
)]
pub async fn recipients(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path((program_id, broadcast_id)): Path<(Uuid, Uuid)>,
    Query(q): Query<RecipientsQuery>,
) -> Result<Json<RecipientPage>, ApiError> {
    const OUTCOMES: [&str; 5] = ["pending", "sent", "blocked", "failed", "unknown"];
    let status = q.status.filter(|s| !s.is_empty());
    if status.as_deref().is_some_and(|s| !OUTCOMES.contains(&s)) {
        return Err(invalid(
            "invalid_status",
            "status is one of pending, sent, blocked, failed, unknown",
        ));
    }
    let program = ProgramId(program_id);
    app::broadcasts::get(&state.pool, program, broadcast_id)
        .await?
        .ok_or(BroadcastError::NotFound)?;
    let rows =
        app::broadcasts::recipients(&state.pool, broadcast_id, status.as_deref(), q.after, PAGE)
            .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.member_id).collect();
    let names = state
        .names
        .names(program_id, &ids)
        .await
        .map_err(ApiError::internal)?;
    let next_after = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| r.member_id))
        .flatten();
    let recipients = rows
        .into_iter()
        .zip(names)
        .map(|(outcome, member_name)| RecipientRow {
            outcome,
            member_name,
        })
        .collect();
    Ok(Json(RecipientPage {
        recipients,
        next_after,
    }))
}
