//! Webhook routes. Each takes the raw body and headers, verifies first (in constant time),
//! parses with a pure adapter, and records before answering. Signals whose destination no
//! program owns are skipped and the destination noted (`ingest::unrouted`); the delivery is
//! still answered as accepted, since the platforms retry anything else for hours.

use super::AppState;
use super::error::ApiError;
use adapters::{instagram, telegram, vk};
use app::ingest::unrouted::Unrouted;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use domain::network::Network;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use store::Metadata;

pub async fn instagram_verify(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let outcome = instagram::verify_subscription(
        query.get("hub.mode").map(String::as_str),
        query.get("hub.verify_token").map(String::as_str),
        query.get("hub.challenge").map(String::as_str),
        state.config.instagram.verify_token.expose_secret(),
    );
    match outcome {
        instagram::Subscription::Confirmed(challenge) => {
            (StatusCode::OK, challenge).into_response()
        }
        instagram::Subscription::Forbidden => {
            ApiError::forbidden("verify token does not match or mode is not subscribe")
                .into_response()
        }
        instagram::Subscription::BadRequest => {
            ApiError::bad_request("hub.challenge is missing").into_response()
        }
    }
}

pub async fn instagram_receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let signature = headers
        .get(instagram::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let verified = instagram::verify_signature(
        state.config.instagram.app_secret.expose_secret().as_bytes(),
        &body,
        signature,
    );
    if let Err(e) = verified {
        // Nothing of the body is used but the account ids, so the channel shows the refusal.
        for account in instagram::addressed_accounts(&body) {
            state
                .ingest
                .unrouted(Network::Instagram, &account, Unrouted::BadSignature)
                .await?;
        }
        return Err(ApiError::unauthorized(format!("X-Hub-Signature-256: {e}")));
    }
    let signals = instagram::parse(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let metadata = Metadata {
        actor: Some("platform:instagram".into()),
        ..Metadata::default()
    };
    state
        .ingest
        .record_delivery(Network::Instagram, &signals, metadata)
        .await?;
    Ok(StatusCode::OK)
}

/// A VK group no program has and a secret key that does not match the group's are answered
/// alike, "ok" (as an accepted delivery), so the answer does not tell a stranger which groups
/// are configured; neither records anything but the group (`ingest::unrouted`).
pub async fn vk_receive(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let callback = vk::parse(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let group = callback.group_id.to_string();
    let routed = match state.ingest.channel(Network::Vk, &group).await? {
        None => Err(Unrouted::NoProgram),
        Some(channel)
            if adapters::secret_matches(
                channel.secret.as_deref().unwrap_or_default(),
                callback.secret.as_deref(),
            ) =>
        {
            Ok(channel)
        }
        Some(_) => Err(Unrouted::WrongSecret),
    };
    let channel = match routed {
        Ok(channel) => channel,
        Err(why) => {
            state.ingest.unrouted(Network::Vk, &group, why).await?;
            return Ok((StatusCode::OK, vk::OK_RESPONSE).into_response());
        }
    };
    if callback.is_confirmation() {
        return Ok((StatusCode::OK, channel.confirmation.unwrap_or_default()).into_response());
    }
    let metadata = Metadata {
        actor: Some("platform:vk".into()),
        delivery_id: callback
            .delivery_key()
            .map(|key| state.accounts().delivery(&key)),
        ..Metadata::default()
    };
    state
        .ingest
        .record_delivery(Network::Vk, callback.signals(), metadata)
        .await?;
    Ok((StatusCode::OK, vk::OK_RESPONSE).into_response())
}

pub async fn telegram_receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let secret = headers
        .get(telegram::SECRET_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok());
    if !adapters::secret_matches(state.config.telegram.webhook_secret.expose_secret(), secret) {
        return Err(ApiError::unauthorized(
            "X-Telegram-Bot-Api-Secret-Token is missing or wrong",
        ));
    }
    handle_update(&state, 0, &body).await
}

/// A program's own bot posts to `/webhooks/telegram/<bot id>` with that bot's secret.
pub async fn telegram_receive_for_bot(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let secret = headers
        .get(telegram::SECRET_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok());
    let own = match bot_id.parse::<i64>() {
        Ok(id) => state.program_bots.by_bot(id).await?,
        Err(_) => None,
    };
    // One answer for an unknown bot and a wrong secret: the path tells a prober nothing.
    let Some(own) = own.filter(|own| own.webhook_secret_matches(secret)) else {
        return Err(ApiError::unauthorized(
            "X-Telegram-Bot-Api-Secret-Token is missing or wrong",
        ));
    };
    handle_update(&state, own.bot_id, &body).await
}

async fn handle_update(state: &AppState, bot: i64, body: &[u8]) -> Result<StatusCode, ApiError> {
    bot::updates::handle(state, bot, body)
        .await
        .map_err(|e| match e {
            bot::updates::UpdateError::Malformed(why) => ApiError::bad_request(why),
            bot::updates::UpdateError::Failed(e) => e.into(),
        })?;
    Ok(StatusCode::OK)
}
