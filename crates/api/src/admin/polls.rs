//! Telegram polls: a manager publishes a poll to one of the program's Telegram chats through
//! the bot (`sendPoll`, not anonymous), and its id is recorded so that members' answers
//! (`poll_answer`, which names no chat) reach the program and earn its PollVote points.
//!
//! Publishing records routing configuration (`telegram_polls`), not a ledger fact: nothing is
//! appended to the log here. The Idempotency-Key still holds: a double submit sends one poll.

use super::auth::{Authorized, IdempotencyKey, Publish, Read};
use super::support::{Body, invalid};
use crate::AppState;
use crate::error::ApiError;
use app::ingest::polls::{self, NewPoll, PollRow};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use clients::telegram::{
    MAX_POLL_OPTION_CHARS, MAX_POLL_OPTIONS, MAX_POLL_QUESTION_CHARS, MIN_POLL_OPTIONS,
};
use clients::{ChatId, ClientError};
use domain::ids::ProgramId;
use domain::network::{ActivityKind, Network};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Most polls the list shows.
const LIST_LIMIT: i64 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct PollList {
    /// Published polls, newest first.
    pub polls: Vec<PollRow>,
    /// The program's Telegram chats (from its channels), where a poll may go.
    pub chats: Vec<String>,
    /// Points one vote earns under the rules in force (none: votes earn nothing).
    pub points_per_vote: Option<i64>,
}

/// The program's published Telegram polls and the chats a new one may go to.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/telegram/polls",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = PollList), (status = 404))
)]
pub async fn list(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<PollList>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let points_per_vote = program
        .rules
        .rule_for(Network::Telegram, ActivityKind::PollVote)
        .map(|r| r.points);
    Ok(Json(PollList {
        polls: polls::list(&state.pool, program.program_id, LIST_LIMIT).await?,
        chats: polls::program_chats(&state.pool, program.program_id).await?,
        points_per_vote,
    }))
}

/// A chat id as a number or as text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ChatParam {
    Id(i64),
    Text(String),
}

impl ChatParam {
    fn text(&self) -> String {
        match self {
            ChatParam::Id(id) => id.to_string(),
            ChatParam::Text(text) => text.trim().to_owned(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPollRequest {
    /// 1-300 characters.
    pub question: String,
    /// 2-10 different options of 1-100 characters each.
    pub options: Vec<String>,
    /// One of the program's Telegram chats; may be left out when the program has exactly one.
    pub chat: Option<ChatParam>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishReply {
    /// `published` (sent now) or `duplicate` (this Idempotency-Key published it before:
    /// nothing was sent again).
    pub outcome: &'static str,
    pub poll: PollRow,
}

/// Publish a non-anonymous poll to one of the program's Telegram chats through the bot.
/// Members' answers earn the program's Telegram PollVote points, once per member per poll.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/telegram/polls",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header)),
    request_body = NewPollRequest,
    responses(
        (status = 200, body = PublishReply),
        (status = 404, description = "no such program"),
        (status = 409, description = "this Idempotency-Key's poll is being sent right now"),
        (status = 422, description = "invalid poll, chat not the program's, or Telegram refused"),
        (status = 502, description = "Telegram did not confirm; the poll may be posted anyway"),
        (status = 503, description = "no bot token configured, or Telegram asks to wait")
    )
)]
pub async fn publish(
    auth: Authorized<Publish>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(body): Body<NewPollRequest>,
) -> Result<Json<PublishReply>, ApiError> {
    let question = body.question.trim().to_owned();
    let options = valid_options(&body.options)?;
    let question_chars = question.chars().count();
    if question_chars == 0 || question_chars > MAX_POLL_QUESTION_CHARS {
        return Err(invalid(
            "invalid_question",
            format!("the question needs 1-{MAX_POLL_QUESTION_CHARS} characters"),
        ));
    }
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let chat = chat_for(&state, program.program_id, body.chat.as_ref()).await?;
    // The program's own bot administers its chats; else the configured one.
    let Some(telegram) = bot::Bot::for_program(&state, program.program_id)
        .await?
        .map(|bot| bot.telegram)
    else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "telegram_not_configured",
            "no Telegram bot: the program has none of its own and the server has no \
             LOYALTY_TELEGRAM_BOT_TOKEN",
        ));
    };
    let action = auth.action(&key);
    let poll = NewPoll {
        request_id: action.request_id,
        program_id: program.program_id,
        chat_id: &chat,
        question: &question,
        options: &options,
        published_by: &action.manager,
    };
    if let Err(existing) = polls::reserve(&state.pool, &poll).await? {
        if existing.poll_id.is_none() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "poll_publishing",
                "this poll is being sent right now; reload the list in a moment",
            ));
        }
        return Ok(Json(PublishReply {
            outcome: "duplicate",
            poll: existing,
        }));
    }
    let sent = match telegram
        .send_poll(chat_id(&chat), &question, &options)
        .await
    {
        Ok(sent) => sent,
        Err(error) => {
            polls::release(&state.pool, action.request_id).await?;
            return Err(telegram_error(error));
        }
    };
    let row = polls::published(
        &state.pool,
        action.request_id,
        &sent.poll_id,
        sent.message_id,
        chrono::Utc::now(),
    )
    .await
    .inspect_err(|e| {
        // The poll is in the chat but its answers cannot be routed: say which one it is.
        tracing::error!(
            error = %e,
            poll_id = %sent.poll_id,
            chat = %chat,
            request_id = %action.request_id,
            "poll sent but not recorded"
        );
    })?;
    tracing::info!(
        program = %program.program_id,
        poll_id = %sent.poll_id,
        chat = %chat,
        by = %action.manager,
        "poll published"
    );
    Ok(Json(PublishReply {
        outcome: "published",
        poll: row,
    }))
}

fn valid_options(options: &[String]) -> Result<Vec<String>, ApiError> {
    let options: Vec<String> = options.iter().map(|o| o.trim().to_owned()).collect();
    if !(MIN_POLL_OPTIONS..=MAX_POLL_OPTIONS).contains(&options.len()) {
        return Err(invalid(
            "invalid_options",
            format!("a poll needs {MIN_POLL_OPTIONS}-{MAX_POLL_OPTIONS} options"),
        ));
    }
    if options
        .iter()
        .any(|o| o.is_empty() || o.chars().count() > MAX_POLL_OPTION_CHARS)
    {
        return Err(invalid(
            "invalid_options",
            format!("each option needs 1-{MAX_POLL_OPTION_CHARS} characters"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if !options.iter().all(|o| seen.insert(o.to_lowercase())) {
        return Err(invalid("invalid_options", "the options must differ"));
    }
    Ok(options)
}

/// The chat named (one of the program's Telegram chats), or the program's only one.
async fn chat_for(
    state: &AppState,
    program_id: ProgramId,
    chat: Option<&ChatParam>,
) -> Result<String, ApiError> {
    let chats = polls::program_chats(&state.pool, program_id).await?;
    match chat.map(ChatParam::text).filter(|c| !c.is_empty()) {
        Some(chat) if chats.contains(&chat) => Ok(chat),
        Some(chat) => Err(invalid(
            "chat_not_linked",
            format!("chat {chat} is not one of this program's Telegram chats"),
        )),
        None => match chats.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(invalid(
                "no_telegram_chat",
                "this program has no Telegram group or channel to post to",
            )),
            several => Err(invalid(
                "chat_required",
                format!("choose the chat: one of {}", several.join(", ")),
            )),
        },
    }
}

fn chat_id(chat: &str) -> ChatId {
    match chat.parse::<i64>() {
        Ok(id) => ChatId::Id(id),
        Err(_) => ChatId::Username(chat.to_owned()),
    }
}

/// Telegram's refusals are the manager's to fix (422); a failure to hear back may hide a poll
/// that was posted (502), so the manager is told to look before trying again.
fn telegram_error(error: ClientError) -> ApiError {
    let refused =
        |code, message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
    match error {
        ClientError::ChatNotFound => refused(
            "telegram_chat_not_found",
            "Telegram does not know this chat, or the bot is not in it".into(),
        ),
        ClientError::Forbidden { description } => refused(
            "telegram_forbidden",
            format!("the bot may not post in this chat: {description}"),
        ),
        ClientError::ChatMigrated { new_chat_id } => refused(
            "telegram_chat_migrated",
            format!(
                "the group became a supergroup with id {new_chat_id}; update the program's channel"
            ),
        ),
        ClientError::Telegram { code, description } if (400..500).contains(&code) => refused(
            "telegram_refused",
            format!("Telegram refused the poll: {description}"),
        ),
        ClientError::InvalidInput(what) => refused("invalid_poll", what.to_owned()),
        ClientError::TooManyRequests { retry_after } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "telegram_busy",
            format!(
                "Telegram asks to wait {} s before the next message",
                retry_after.as_secs()
            ),
        ),
        other => {
            tracing::warn!(error = %other, "sendPoll failed");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "poll_unconfirmed",
                "Telegram did not confirm the poll; it may have been posted anyway: check the \
                 chat before publishing again",
            )
        }
    }
}
