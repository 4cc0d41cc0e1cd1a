//! Signing in and out, and the session the page works with (its CSRF token).

use super::auth::session::{self, Session};
use super::auth::{Role, SignInError, guard};
use super::support::Body;
use crate::AppState;
use crate::client_address::ClientAddress;
use crate::error::ApiError;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, extract::Request};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in account and the token the page must send in `X-CSRF-Token` on every change.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub username: String,
    pub role: Role,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    /// Adjustments of more points than this need `confirm_large` (the panel asks twice).
    pub large_adjustment_points: i64,
}

impl SessionInfo {
    fn of(s: &Session, state: &AppState) -> Self {
        Self {
            username: s.username.clone(),
            role: s.role,
            csrf_token: s.csrf_token.clone(),
            expires_at: s.expires_at,
            large_adjustment_points: state.config.admin.large_adjustment_points,
        }
    }
}

/// The client's address ([`ClientAddress`]) when the server records it, else one shared key:
/// throttling then applies per username alone, which is stricter, never looser.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ClientAddress>()
            .map_or_else(|| "unknown".to_string(), |c| c.0.to_string());
        Ok(Self(addr))
    }
}

/// Sign in with a username and password. Sets the HttpOnly session cookie. A wrong password
/// is a 401 that changes nothing. 429 with `Retry-After`: the sixth failure within 15 minutes
/// for the same username and address, or the 21st for the same address whatever the username
/// (`too_many_attempts`), whatever the password; or more sign-ins at once than the server
/// checks (`busy`).
#[utoipa::path(
    post,
    path = "/api/v1/admin/session",
    tag = "admin",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = SessionInfo),
        (status = 401, description = "Wrong username or password"),
        (status = 429, description = "Too many failed sign-ins, or too many at once"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Body(body): Body<LoginRequest>,
) -> Result<Response, ApiError> {
    let ttl = state.config.admin.session_ttl_hours;
    let outcome = super::auth::sign_in(
        &state.pool,
        &state.password_checks,
        &body.username,
        &body.password,
        &client,
        ttl,
    )
    .await;
    match outcome {
        Ok((token, session)) => Ok(signed_in(&state, &token, &session)),
        Err(SignInError::Refused) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_credentials",
            "wrong username or password",
        )),
        Err(e @ SignInError::Throttled { retry_after_secs }) => {
            Ok(too_many("too_many_attempts", &e, retry_after_secs))
        }
        Err(e @ SignInError::Busy) => Ok(too_many("busy", &e, 1)),
        Err(SignInError::Db(e)) => Err(e.into()),
    }
}

/// The answer to a sign-in: the session, and the cookie that carries its token.
pub(super) fn signed_in(state: &AppState, token: &str, session: &Session) -> Response {
    let ttl = state.config.admin.session_ttl_hours;
    let cookie = session::cookie(token, ttl, state.config.secure_cookies());
    let mut response = Json(SessionInfo::of(session, state)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn too_many(code: &'static str, e: &SignInError, retry_after_secs: u64) -> Response {
    let mut response =
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, e.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, retry_after_secs.into());
    response
}

/// The current session and its CSRF token; 401 when not signed in.
#[utoipa::path(
    get,
    path = "/api/v1/admin/session",
    tag = "admin",
    responses(
        (status = 200, description = "Signed in", body = SessionInfo),
        (status = 401, description = "Not signed in"),
    )
)]
pub async fn current(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, _) = request.into_parts();
    let session = guard::session_of(&parts, &state).await?;
    let mut response = Json(SessionInfo::of(&session, &state)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Sign out: the session row is deleted and the cookie cleared. Needs the CSRF token.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/session",
    tag = "admin",
    params(("X-CSRF-Token" = String, Header, description = "The session's CSRF token")),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Missing or wrong CSRF token"),
    )
)]
pub async fn logout(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (parts, _) = request.into_parts();
    guard::session_of(&parts, &state).await?;
    if let Some(token) = session::token_from(&parts.headers) {
        session::end(&state.pool, &token).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        session::clear_cookie(state.config.secure_cookies()),
    );
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}
