//! Linking accounts by one-time code: `POST links` gives a code and the steps to post it from
//! the account; the webhook carrying it links the account (`ingest`); `GET links/{code}`
//! tells whether that happened, `DELETE links/{code}` cancels it. `DELETE accounts/…` unlinks.

use super::auth::Member;

use super::texts;
use super::{ErrorEnvelope, JsonBody};
use crate::AppState;
use crate::error::ApiError;
use app::ingest::link_codes::{self, CODE_TTL_MINUTES, LinkCodeRow};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::StreamId;
use domain::member::MemberState;
use domain::network::Network;
use serde::{Deserialize, Serialize};
use store::Metadata;
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewLink {
    /// `instagram` or `vk`.
    pub network: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LinkCode {
    pub code: String,
    pub network: String,
    /// `pending`, `used` (linked), `taken` (used, but another member owns the account),
    /// `cooldown` (used, but another member gave the account up recently), `expired` or
    /// `cancelled`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// For `cooldown`: when the account can be linked.
    pub linkable_from: Option<DateTime<Utc>>,
    pub instructions: Instructions,
}

/// The same steps in both languages.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Instructions {
    pub ru: Vec<String>,
    pub en: Vec<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/app/links",
    tag = "mini-app",
    security(("tma" = [])),
    request_body = NewLink,
    responses(
        (status = 201, description = "A one-time code and how to use it", body = LinkCode),
        (status = 400, description = "Not a network linked by code", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 429, description = "Too many open codes", body = ErrorEnvelope),
    )
)]
pub async fn create_link(
    State(state): State<AppState>,
    member: Member,
    JsonBody(request): JsonBody<NewLink>,
) -> Result<(StatusCode, Json<LinkCode>), ApiError> {
    let network = match Network::parse(&request.network) {
        Some(n @ (Network::Instagram | Network::Vk)) => n,
        Some(Network::Telegram) => {
            return Err(ApiError::bad_request(
                "your Telegram account is linked when you open the Mini App",
            ));
        }
        None => {
            return Err(ApiError::bad_request(format!(
                "unknown network `{}`: use instagram or vk",
                request.network
            )));
        }
    };
    let now = Utc::now();
    let open =
        link_codes::open_codes(&state.pool, member.program_id(), member.member_id, now).await?;
    if open >= link_codes::MAX_OPEN_CODES {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_codes",
            format!(
                "you already have {open} unused codes: use or cancel one, or wait until they expire"
            ),
        ));
    }
    let (code, expires_at) = link_codes::create(
        &state.pool,
        member.program_id(),
        member.member_id,
        network,
        now,
    )
    .await?;
    let row = LinkCodeRow {
        code,
        network: network.as_str().to_string(),
        created_at: now,
        expires_at,
        used_at: None,
        cancelled_at: None,
        refusal: None,
        linkable_from: None,
    };
    Ok((StatusCode::CREATED, Json(view(row, now))))
}

#[utoipa::path(
    get,
    path = "/api/v1/app/links/{code}",
    tag = "mini-app",
    security(("tma" = [])),
    params(("code" = String, Path, description = "A code this member created")),
    responses(
        (status = 200, description = "The code and whether it was used", body = LinkCode),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such code of this member", body = ErrorEnvelope),
    )
)]
pub async fn link_status(
    State(state): State<AppState>,
    member: Member,
    Path(code): Path<String>,
) -> Result<Json<LinkCode>, ApiError> {
    let row = link_codes::link_code(
        &state.pool,
        member.program_id(),
        member.member_id,
        &code.trim().to_ascii_uppercase(),
    )
    .await?
    .ok_or_else(no_such_code)?;
    Ok(Json(view(row, Utc::now())))
}

#[utoipa::path(
    delete,
    path = "/api/v1/app/links/{code}",
    tag = "mini-app",
    security(("tma" = [])),
    params(("code" = String, Path, description = "A code this member created")),
    responses(
        (status = 200, description = "The code, now cancelled", body = LinkCode),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such code of this member", body = ErrorEnvelope),
        (status = 409, description = "The code was already used", body = ErrorEnvelope),
    )
)]
pub async fn cancel_link(
    State(state): State<AppState>,
    member: Member,
    Path(code): Path<String>,
) -> Result<Json<LinkCode>, ApiError> {
    let code = code.trim().to_ascii_uppercase();
    let (program, me, now) = (member.program_id(), member.member_id, Utc::now());
    if let Some(row) = link_codes::cancel_link_code(&state.pool, program, me, &code, now).await? {
        return Ok(Json(view(row, now)));
    }
    let row = link_codes::link_code(&state.pool, program, me, &code)
        .await?
        .ok_or_else(no_such_code)?;
    match row.status(now) {
        "used" => Err(ApiError::new(
            StatusCode::CONFLICT,
            "code_used",
            "this code was already used: unlink the account instead",
        )),
        // Cancelling twice is not an error.
        _ => Ok(Json(view(row, now))),
    }
}

#[utoipa::path(
    delete,
    path = "/api/v1/app/accounts/{network}/{external_id}",
    tag = "mini-app",
    security(("tma" = [])),
    params(
        ("network" = String, Path, description = "`instagram`, `vk` or `telegram`"),
        ("external_id" = String, Path, description = "The account's id on that network"),
    ),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such account linked to this member", body = ErrorEnvelope),
        (status = 409, description = "The Telegram account the member is signed in with", body = ErrorEnvelope),
    )
)]
pub async fn unlink(
    State(state): State<AppState>,
    member: Member,
    Path((network, external_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let own = state
        .ledger()
        .load::<MemberState>(&StreamId::Member(member.member_id))
        .await?
        .state;
    // Instagram ids are scoped by the brand account that saw them: match on network and id.
    let mut identity = None;
    for account in own.linked.iter().filter(|a| a.network.as_str() == network) {
        let platform = state.accounts().platform_id(account.account).await?;
        if platform.is_some_and(|p| p.external_id == external_id) {
            identity = Some(*account);
            break;
        }
    }
    let identity =
        identity.ok_or_else(|| ApiError::not_found("no such account is linked to you"))?;
    if identity == member.account {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "signed_in_account",
            "this is the Telegram account you are signed in with; it cannot be unlinked here",
        ));
    }
    let metadata = Metadata {
        actor: Some(format!("member:{}", member.member_id)),
        ..Metadata::default()
    };
    state
        .ledger()
        .unlink_account(
            member.program_id(),
            member.member_id,
            identity,
            metadata,
            Utc::now().into(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn no_such_code() -> ApiError {
    ApiError::not_found("no such link code")
}

fn view(row: LinkCodeRow, now: DateTime<Utc>) -> LinkCode {
    let network = Network::parse(&row.network).unwrap_or(Network::Instagram);
    let (ru, en) = texts::link_steps(network, &row.code, CODE_TTL_MINUTES);
    LinkCode {
        status: row.status(now).to_string(),
        code: row.code,
        network: row.network,
        created_at: row.created_at,
        expires_at: row.expires_at,
        linkable_from: row.linkable_from,
        instructions: Instructions { ru, en },
    }
}
