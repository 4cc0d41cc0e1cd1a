//! What every admin handler shares: a JSON body extractor whose failures use the error
//! envelope, the reply to a command, and the checks that a subject belongs to the program in
//! the path.

use crate::AppState;
use crate::error::ApiError;
use app::{AppError, Outcome};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use domain::campaign::CampaignState;
use domain::ids::{CampaignId, MemberId, ProgramId, RewardId};
use domain::member::MemberState;
use domain::reward::RewardState;
use domain::{DomainError, StreamId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use uuid::Uuid;

/// A JSON request body; a malformed one is a 422 (415 without a JSON content type) in the
/// error envelope, and changes nothing.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "json_required",
                "send the body as application/json",
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.body_text(),
            )),
        }
    }
}

/// What became of a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandReply {
    /// `recorded` (events appended), `duplicate` (this Idempotency-Key was used before:
    /// nothing changed again) or `unchanged` (nothing to do).
    pub outcome: &'static str,
    /// The ids of the events appended (empty unless recorded).
    pub event_ids: Vec<Uuid>,
    /// The request id the events were derived from (UUIDv5 of account and key).
    pub request_id: Uuid,
    /// The id of what was created (campaign, reward, program), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_id: Option<Uuid>,
}

impl CommandReply {
    pub fn from_outcome(outcome: Outcome, request_id: Uuid) -> Self {
        let event_ids = outcome.event_ids(request_id);
        let outcome = match outcome {
            Outcome::Recorded { .. } => "recorded",
            Outcome::Duplicate => "duplicate",
            Outcome::Unchanged => "unchanged",
        };
        Self {
            outcome,
            event_ids,
            request_id,
            created_id: None,
        }
    }

    pub fn created(mut self, id: Uuid) -> Self {
        self.created_id = Some(id);
        self
    }
}

/// True if this request id's first event exists: the change was recorded before, so a
/// repeated submit answers "duplicate" even where deciding again would now be refused
/// (a second reversal of the same award).
pub async fn already_recorded(state: &AppState, request_id: Uuid) -> Result<bool, ApiError> {
    Ok(app::reads::command_recorded(state.ledger().store(), request_id).await?)
}

/// Runs a command unless its request id was recorded before.
pub async fn run(
    state: &AppState,
    request_id: Uuid,
    command: impl Future<Output = Result<Outcome, AppError>>,
) -> Result<CommandReply, ApiError> {
    if already_recorded(state, request_id).await? {
        return Ok(CommandReply::from_outcome(Outcome::Duplicate, request_id));
    }
    Ok(CommandReply::from_outcome(command.await?, request_id))
}

fn not_in_program(what: &str) -> ApiError {
    ApiError::not_found(format!("no such {what} in this program"))
}

/// The member's state, if the member is registered in `program`.
pub async fn member_in(
    state: &AppState,
    program: ProgramId,
    member: MemberId,
) -> Result<MemberState, ApiError> {
    let loaded = state
        .ledger()
        .load::<MemberState>(&StreamId::Member(member))
        .await?;
    match loaded.state.program_id {
        Some(p) if p == program => Ok(loaded.state),
        _ => Err(not_in_program("member")),
    }
}

pub async fn campaign_in(
    state: &AppState,
    program: ProgramId,
    campaign: CampaignId,
) -> Result<CampaignState, ApiError> {
    let loaded = state
        .ledger()
        .load::<CampaignState>(&StreamId::Campaign(campaign))
        .await?;
    match loaded.state.program_id {
        Some(p) if p == program => Ok(loaded.state),
        _ => Err(not_in_program("campaign")),
    }
}

pub async fn reward_in(
    state: &AppState,
    program: ProgramId,
    reward: RewardId,
) -> Result<RewardState, ApiError> {
    let loaded = state
        .ledger()
        .load::<RewardState>(&StreamId::Reward(reward))
        .await?;
    match loaded.state.program_id {
        Some(p) if p == program => Ok(loaded.state),
        _ => Err(not_in_program("reward")),
    }
}

/// A refusal by the domain, for checks made at the edge with the domain's own words.
pub fn denied(e: DomainError) -> ApiError {
    ApiError::from(AppError::Denied(e))
}

/// 422 in the envelope for a field the domain has no type for.
pub fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}
