//! Webhook routes. Each takes the raw body and headers, verifies first (in constant time),
//! parses with a pure adapter, and records before answering. Signals whose destination no
//! program owns are skipped; a delivery none of whose signals has an owner is a 404.

use super::AppState;
use super::error::ApiError;
use adapters::signal::Signal;
use adapters::{instagram, telegram, vk};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use domain::network::Network;
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
        state.config.instagram_verify_token.expose(),
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
    instagram::verify_signature(
        state.config.instagram_app_secret.expose().as_bytes(),
        &body,
        signature,
    )
    .map_err(|e| ApiError::unauthorized(format!("X-Hub-Signature-256: {e}")))?;
    let signals = instagram::parse(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let metadata = Metadata {
        actor: Some("platform:instagram".into()),
        ..Metadata::default()
    };
    record(&state, Network::Instagram, &signals, metadata).await?;
    Ok(StatusCode::OK)
}

pub async fn vk_receive(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let callback = vk::parse(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let group = callback.group_id.to_string();
    let channel = state
        .ingest
        .channel(Network::Vk, &group)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no program receives VK group {group}")))?;
    let expected = channel.secret.as_deref().unwrap_or_default();
    if !adapters::secret_matches(expected, callback.secret.as_deref()) {
        return Err(ApiError::forbidden(
            "the secret key does not match this group's",
        ));
    }
    if callback.is_confirmation() {
        return Ok((StatusCode::OK, channel.confirmation.unwrap_or_default()).into_response());
    }
    let metadata = Metadata {
        actor: Some("platform:vk".into()),
        delivery_id: callback.delivery_key(),
        ..Metadata::default()
    };
    record(&state, Network::Vk, callback.signals(), metadata).await?;
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
    if !adapters::secret_matches(state.config.telegram_webhook_secret.expose(), secret) {
        return Err(ApiError::unauthorized(
            "X-Telegram-Bot-Api-Secret-Token is missing or wrong",
        ));
    }
    telegram_update(&state, &body).await?;
    Ok(StatusCode::OK)
}

/// One Telegram update, from the webhook or from `getUpdates`: parse, store what the bot must
/// answer (the raw bytes, by `update_id`), record the rest. `Ok` also for updates no program
/// receives: Telegram must not retry those for a day. A 400 means the bytes do not parse.
pub async fn telegram_update(state: &AppState, body: &[u8]) -> Result<(), ApiError> {
    let update = telegram::parse(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if update
        .signals
        .iter()
        .any(|s| matches!(s, Signal::BotMessage(_)))
    {
        crate::bot::inbox::store(&state.pool, update.update_id, body).await?;
    }
    let metadata = Metadata {
        actor: Some("platform:telegram".into()),
        delivery_id: Some(update.delivery_key()),
        ..Metadata::default()
    };
    match record(state, Network::Telegram, &update.signals, metadata).await {
        Ok(())
        | Err(ApiError {
            status: StatusCode::NOT_FOUND,
            ..
        }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Routes each signal to the program owning its destination and records it.
async fn record(
    state: &AppState,
    network: Network,
    signals: &[Signal],
    metadata: Metadata,
) -> Result<(), ApiError> {
    let received_at = Utc::now();
    let mut routed = 0;
    for signal in signals {
        match signal {
            // Stored in the bot's inbox by `telegram_update`; the bot worker answers it.
            Signal::BotMessage(_) => {
                routed += 1;
                continue;
            }
            Signal::BotStatus(status) => {
                crate::bot::status::observe(state, status).await?;
                routed += 1;
                continue;
            }
            _ => {}
        }
        let Some(destination) = destination(signal) else {
            routed += 1;
            continue;
        };
        let Some(channel) = state.ingest.channel(network, destination).await? else {
            tracing::debug!(%network, destination, "no program for this destination");
            continue;
        };
        routed += 1;
        let program = state.ingest.ledger().program(channel.program()).await?;
        let handled = state
            .ingest
            .handle(&program, signal, metadata.clone(), received_at)
            .await?;
        tracing::debug!(?handled, "signal recorded");
    }
    if routed == 0 && !signals.is_empty() {
        return Err(ApiError::not_found(format!(
            "no program receives these {network} deliveries"
        )));
    }
    Ok(())
}

fn destination(signal: &Signal) -> Option<&str> {
    match signal {
        Signal::Activity(a) | Signal::Restoration(a) => Some(&a.destination),
        Signal::Edit(e) => Some(&e.activity.destination),
        Signal::Retraction(r) => Some(&r.destination),
        Signal::Membership(m) => Some(&m.destination),
        _ => None,
    }
}
