//! The HTTP surface. Handlers are thin: parse, call one application service, map the error.

pub mod error;
pub mod webhooks;

use crate::config::ServeConfig;
use crate::ingest::Ingest;
use axum::Router;
use axum::routing::{get, post};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

#[derive(Clone)]
pub struct AppState {
    pub ingest: Ingest,
    pub pool: PgPool,
    pub config: Arc<ServeConfig>,
}

pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let timeout = Duration::from_millis(state.config.request_timeout_ms);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/webhooks/instagram",
            get(webhooks::instagram_verify).post(webhooks::instagram_receive),
        )
        .route("/webhooks/vk", post(webhooks::vk_receive))
        .route("/webhooks/telegram", post(webhooks::telegram_receive))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .with_state(state)
}
