//! Signing in with Telegram, as an alternative to a password. The Login Widget (Telegram's own
//! script, in a popup) hands the page fields signed with the installation's bot token; the page
//! posts them here. An account links its Telegram user once, while signed in with its password,
//! from the same widget; from then on that Telegram user signs in as the account.

use super::auth::users::{self, UserChange};
use super::auth::{AdminUser, Authorized, Read};
use super::session_api::{ClientAddr, signed_in};
use super::support::Body;
use crate::AppState;
use crate::error::ApiError;
use adapters::mini_app::{LoginWidgetUser, validate_login_widget};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{TimeDelta, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// How old the widget's `auth_date` may be: Telegram's own example allows a day.
const MAX_AGE: TimeDelta = TimeDelta::days(1);

/// The Login Widget's fields as its script hands them to the page (`id`, `first_name`,
/// `username`, `photo_url`, `auth_date`, `hash`, …): names to numbers or text, passed on
/// unchanged, since the hash covers every field.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct TelegramWidgetData(BTreeMap<String, serde_json::Value>);

/// What the login page needs to open the widget.
#[derive(Debug, Serialize, ToSchema)]
pub struct TelegramSignInInfo {
    /// The bot the widget asks the member to authorize (the numeric part of its token).
    pub bot_id: i64,
}

/// The bot's token and id, when a token is configured; otherwise Telegram sign-in is off
/// (an empty key would let anyone sign the fields).
fn bot(state: &AppState) -> Result<(&str, i64), ApiError> {
    let token = state.config.telegram.bot_token.expose_secret();
    token
        .split_once(':')
        .and_then(|(id, _)| id.parse::<i64>().ok())
        .map(|id| (token, id))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_configured",
                "signing in with Telegram needs LOYALTY_TELEGRAM_BOT_TOKEN",
            )
        })
}

/// Checks the widget's signature and age with the bot's token.
fn verified(state: &AppState, data: &TelegramWidgetData) -> Result<LoginWidgetUser, ApiError> {
    let (token, _) = bot(state)?;
    let mut fields = Vec::with_capacity(data.0.len());
    for (name, value) in &data.0 {
        let text = match value {
            serde_json::Value::String(text) => text.clone(),
            serde_json::Value::Number(number) => number.to_string(),
            _ => return Err(refused()),
        };
        fields.push((name.as_str(), text));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    validate_login_widget(&fields, token, Utc::now(), MAX_AGE).map_err(|e| {
        tracing::info!(outcome = e.code(), "Telegram sign-in refused");
        refused()
    })
}

fn refused() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "telegram_refused",
        "Telegram did not confirm this sign-in, or it is more than a day old; try again",
    )
}

/// Whether signing in with Telegram is on, and the bot the widget must ask for.
#[utoipa::path(
    get,
    path = "/api/v1/admin/session/telegram",
    tag = "admin",
    responses(
        (status = 200, body = TelegramSignInInfo),
        (status = 404, description = "No bot token is configured: password sign-in only"),
    )
)]
pub async fn info(State(state): State<AppState>) -> Result<Json<TelegramSignInInfo>, ApiError> {
    let (_, bot_id) = bot(&state)?;
    Ok(Json(TelegramSignInInfo { bot_id }))
}

/// Sign in with the Login Widget's fields. 401 `telegram_refused` when the signature is wrong,
/// the fields are over a day old, or no enabled account has linked this Telegram user; all
/// look alike, so the answer does not tell whether a Telegram user has an account. The
/// signature cannot be guessed, so unlike passwords these attempts are not throttled.
#[utoipa::path(
    post,
    path = "/api/v1/admin/session/telegram",
    tag = "admin",
    request_body = TelegramWidgetData,
    responses(
        (status = 200, description = "Signed in", body = super::session_api::SessionInfo),
        (status = 401, description = "Not signed by Telegram, too old, or not linked"),
        (status = 404, description = "No bot token is configured"),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Body(data): Body<TelegramWidgetData>,
) -> Result<Response, ApiError> {
    let user = verified(&state, &data)?;
    let (username, role) = users::telegram_account(&state.pool, user.id())
        .await?
        .ok_or_else(refused)?;
    let ttl = state.config.admin.session_ttl_hours;
    let (token, session) =
        super::auth::session::start(&state.pool, &username, role, ttl, &client).await?;
    Ok(signed_in(&state, &token, &session))
}

/// Link the Telegram user of the widget's fields to the signed-in account, so it may sign in
/// with Telegram. 409 `telegram_taken` when another account has linked that user.
#[utoipa::path(
    put,
    path = "/api/v1/admin/account/telegram",
    tag = "admin",
    params(("X-CSRF-Token" = String, Header)),
    request_body = TelegramWidgetData,
    responses(
        (status = 200, body = AdminUser),
        (status = 401, description = "Not signed in, or not signed by Telegram"),
        (status = 409, description = "Linked to another account"),
    )
)]
pub async fn link(
    auth: Authorized<Read>,
    State(state): State<AppState>,
    Body(data): Body<TelegramWidgetData>,
) -> Result<Json<AdminUser>, ApiError> {
    let user = verified(&state, &data)?;
    let username = &auth.session.username;
    let linked = users::link_telegram(&state.pool, username, user.id(), user.username()).await?;
    Ok(Json(linked))
}

/// Unlink the signed-in account's Telegram: from now on it signs in with its password only.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/account/telegram",
    tag = "admin",
    params(("X-CSRF-Token" = String, Header)),
    responses((status = 200, body = AdminUser), (status = 401))
)]
pub async fn unlink(
    auth: Authorized<Read>,
    State(state): State<AppState>,
) -> Result<Json<AdminUser>, ApiError> {
    let change = UserChange {
        unlink_telegram: true,
        ..UserChange::default()
    };
    let session = &auth.session;
    let user = users::update_user(&state.pool, &session.actor(), &session.username, change).await?;
    Ok(Json(user))
}

/// The signed-in account, as the account page shows it.
#[utoipa::path(
    get,
    path = "/api/v1/admin/account",
    tag = "admin",
    responses((status = 200, body = AdminUser), (status = 401))
)]
pub async fn account(
    auth: Authorized<Read>,
    State(state): State<AppState>,
) -> Result<Json<AdminUser>, ApiError> {
    let username = &auth.session.username;
    users::find_user(&state.pool, username)
        .await?
        .map(Json)
        .ok_or_else(|| users::UserError::NotFound(username.clone()).into())
}
