//! Linking a VK account with VK ID (OAuth 2.1, code + PKCE): `start` keeps the verifier
//! server-side under a fresh `state` and returns the authorize URL; VK ID redirects the
//! browser to `callback`, which takes the state back once, trades the code for the VK user id
//! and links that account (`LinkMethod::OAuth`). The callback answers with a small page, as a
//! person reads it in a browser.

use super::ErrorEnvelope;
use super::auth::Member;
use super::pending;
use crate::AppState;
use crate::error::ApiError;
use app::AppError;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use clients::{ClientError, PendingLink, VkIdCallback, VkIdOAuth};
use domain::DomainError;
use domain::event::LinkMethod;
use domain::ids::{MemberId, ProgramId};
use domain::network::{ExternalIdentity, Network};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use store::Metadata;
use utoipa::{IntoParams, ToSchema};

pub const CALLBACK_PATH: &str = "/api/v1/app/links/vk-id/callback";

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VkIdStart {
    /// Open in the browser (from Telegram: `Telegram.WebApp.openLink`).
    pub authorize_url: String,
    pub expires_at: DateTime<Utc>,
}

/// What VK ID appends to the redirect: `code`, `state`, `device_id`, or an `error`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub device_id: Option<String>,
    pub error: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/app/links/vk-id/start",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, description = "Where to send the member", body = VkIdStart),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "VK ID linking is not enabled", body = ErrorEnvelope),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<VkIdStart>, ApiError> {
    let oauth = client(&state)?;
    let link = PendingLink::generate().map_err(ApiError::internal)?;
    let expires_at = pending::save_vk_id(
        &state.pool,
        member.program_id(),
        member.member_id,
        link.state(),
        link.code_verifier().expose_secret(),
        Utc::now(),
    )
    .await?;
    let authorize_url = oauth.authorize_url(&link).map_err(ApiError::internal)?;
    Ok(Json(VkIdStart {
        authorize_url,
        expires_at,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/app/links/vk-id/callback",
    tag = "mini-app",
    params(CallbackQuery),
    responses(
        (status = 200, description = "Linked: a page telling the member to go back", content_type = "text/html"),
        (status = 400, description = "Unknown, used or expired state, or VK ID refused", content_type = "text/html"),
        (status = 409, description = "That VK account belongs to another member", content_type = "text/html"),
        (status = 502, description = "VK ID did not answer as expected", content_type = "text/html"),
    )
)]
pub async fn callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    match link(&state, query).await {
        Ok(()) => page(
            StatusCode::OK,
            "Аккаунт ВКонтакте привязан. Вернитесь в Telegram.",
            "Your VK account is linked. Go back to Telegram.",
        ),
        Err((status, ru, en)) => page(status, &ru, &en),
    }
}

type Failure = (StatusCode, Cow<'static, str>, Cow<'static, str>);

fn failure(
    status: StatusCode,
    ru: impl Into<Cow<'static, str>>,
    en: impl Into<Cow<'static, str>>,
) -> Failure {
    (status, ru.into(), en.into())
}

async fn link(state: &AppState, query: CallbackQuery) -> Result<(), Failure> {
    const BAD: StatusCode = StatusCode::BAD_REQUEST;
    let expired = || {
        failure(
            BAD,
            "Ссылка устарела или уже использована. Начните привязку заново в приложении.",
            "This link has expired or was already used. Start linking again in the app.",
        )
    };
    let oauth = client(state).map_err(|_| {
        failure(
            StatusCode::NOT_FOUND,
            "Привязка через VK ID выключена.",
            "VK ID linking is not enabled.",
        )
    })?;
    let returned_state = query
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(expired)?;
    let now = Utc::now();
    let pending = pending::take_vk_id(&state.pool, returned_state)
        .await
        .map_err(|e| internal(&e))?
        .filter(|p| p.expires_at > now)
        .ok_or_else(expired)?;
    if let Some(error) = &query.error {
        tracing::info!(error, "VK ID authorization refused");
        return Err(failure(
            BAD,
            "VK ID не подтвердил вход. Попробуйте ещё раз.",
            "VK ID did not confirm the sign-in. Try again.",
        ));
    }
    let (Some(code), Some(device_id)) = (query.code, query.device_id) else {
        return Err(failure(
            BAD,
            "VK ID вернул неполный ответ. Попробуйте ещё раз.",
            "VK ID returned an incomplete answer. Try again.",
        ));
    };
    let link = PendingLink::restore(pending.state.clone(), pending.code_verifier.clone())
        .map_err(|e| internal(&e))?;
    let answer = VkIdCallback {
        code,
        state: returned_state.to_string(),
        device_id,
    };
    let tokens = oauth
        .exchange_code(&link, &answer)
        .await
        .map_err(|e| match e {
            ClientError::OAuth { .. } | ClientError::StateMismatch => failure(
                BAD,
                "VK ID не принял код входа. Начните привязку заново.",
                "VK ID did not accept the sign-in code. Start linking again.",
            ),
            other => {
                tracing::warn!(error = %other, "VK ID token exchange failed");
                failure(
                    StatusCode::BAD_GATEWAY,
                    "VK ID сейчас недоступен. Попробуйте позже.",
                    "VK ID is not available right now. Try again later.",
                )
            }
        })?;
    let identity = ExternalIdentity::new(Network::Vk, "", tokens.user_id.to_string());
    let identity = state
        .accounts()
        .resolve(ProgramId(pending.program_id), &identity)
        .await
        .map_err(|e| internal(&e))?;
    let metadata = Metadata {
        actor: Some(format!("member:{}", pending.member_id)),
        ..Metadata::default()
    };
    let outcome = state
        .ledger()
        .link_account(
            ProgramId(pending.program_id),
            MemberId(pending.member_id),
            identity,
            LinkMethod::OAuth,
            metadata,
            now.into(),
        )
        .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(AppError::Denied(DomainError::IdentityAlreadyClaimed(_))) => Err(failure(
            StatusCode::CONFLICT,
            "Этот аккаунт ВКонтакте уже привязан к другому участнику.",
            "This VK account is already linked to another member.",
        )),
        Err(AppError::Denied(DomainError::RelinkCooldown { until, .. })) => {
            let day = until.format("%Y-%m-%d %H:%M UTC");
            Err(failure(
                StatusCode::CONFLICT,
                format!(
                    "Этот аккаунт ВКонтакте недавно отвязали от другого участника. Привязать его можно с {day}."
                ),
                format!(
                    "This VK account was recently unlinked from another member. It can be linked from {day}."
                ),
            ))
        }
        Err(e) => Err(internal(&e)),
    }
}

/// VK ID is on when a client id is configured; the redirect URI is fixed by the public URL.
fn client(state: &AppState) -> Result<VkIdOAuth, ApiError> {
    let config = &state.config;
    if config.vk.id_client_id.is_empty() {
        return Err(ApiError::not_found("VK ID linking is not enabled"));
    }
    let redirect_uri = format!(
        "{}{CALLBACK_PATH}",
        config.http.public_url.trim_end_matches('/')
    );
    Ok(VkIdOAuth::new(config.vk.id_client_id.clone(), redirect_uri)
        .map_err(ApiError::internal)?
        .with_endpoints(
            config.vk.id_authorize_url.clone(),
            config.vk.id_token_url.clone(),
        ))
}

fn internal(cause: &dyn std::fmt::Display) -> Failure {
    tracing::error!(%cause, "VK ID callback failed");
    failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Что-то пошло не так. Попробуйте ещё раз.",
        "Something went wrong on our side. Try again.",
    )
}

/// A page in both languages: the browser VK ID returns to is not the Mini App.
fn page(status: StatusCode, ru: &str, en: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>VK ID</title></head>\
         <body style=\"font-family: sans-serif; padding: 24px\">\
         <p id=\"ru\" lang=\"ru\">{ru}</p><p id=\"en\" lang=\"en\">{en}</p></body></html>"
    );
    (status, Html(html)).into_response()
}
