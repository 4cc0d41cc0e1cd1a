#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
//! The HTTP surface: webhooks, the Mini App, the admin panel and the auditor's API. Handlers
//! are thin: parse, call one application service, map the error. Routes are collected with
//! their OpenAPI descriptions (utoipa), so /api/openapi.json is generated from the code.

pub mod admin;
pub mod assets;
pub mod client_address;
pub mod error;
pub mod live;
pub mod mini_app;
pub mod observability;
pub mod raffle_proof;
pub mod request_limits;
pub mod shop;
pub mod subscriptions;
pub mod text_guard;
pub mod webhooks;

use app::AppContext;
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The HTTP surface's state, behind one `Arc`: axum clones the state for every request (and
/// `State` once more), and a clone of the fields themselves was dozens of atomic counts.
#[derive(Clone)]
pub struct AppState(Arc<HttpContext>);

/// The shared application context, and what only HTTP needs.
pub struct HttpContext {
    pub app: AppContext,
    pub mini_app: mini_app::cache::MiniAppCache,
    /// `/readyz`: the workers `serve` runs, and the last answer.
    pub readiness: observability::Readiness,
    /// Bounds the admin sign-in password checks running at once.
    pub password_checks: admin::auth::PasswordChecks,
    /// Live updates of the admin pages and the Mini App; closed when the server shuts down.
    pub live: live::LiveFeed,
}

impl AppState {
    pub fn new(app: AppContext) -> Self {
        Self(Arc::new(HttpContext {
            app,
            mini_app: Default::default(),
            readiness: Default::default(),
            password_checks: Default::default(),
            live: Default::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = HttpContext;

    fn deref(&self) -> &HttpContext {
        &self.0
    }
}

/// Handlers read the shared context's fields (`state.ingest`, `state.config`) directly.
impl std::ops::Deref for HttpContext {
    type Target = AppContext;

    fn deref(&self) -> &AppContext {
        &self.app
    }
}

#[derive(OpenApi)]
#[openapi(info(
    title = "loyalty",
    description = "Event-sourced loyalty ledger: Mini App, admin panel and auditor API."
))]
struct ApiDoc;

/// The OpenAPI document of every documented route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(mini_app::routes())
        .merge(subscriptions::routes())
        .merge(admin::routes())
        .merge(shop::routes())
        .merge(raffle_proof::routes())
}

/// `/metrics` alone, for the listener `metrics_listen` names.
pub fn metrics_router(state: AppState) -> Router {
    observability::prometheus();
    Router::new()
        .route("/metrics", get(observability::metrics_text))
        .with_state(state)
}

pub fn router(state: AppState) -> Router {
    let (api, doc) = api_routes().split_for_parts();
    observability::prometheus();
    let mut routes = Router::new()
        .merge(api.layer(axum::middleware::from_fn(text_guard::refuse_nul)))
        .route("/api/openapi.json", get(move || async move { Json(doc) }))
        .route("/healthz", get(observability::healthz))
        .route("/readyz", get(observability::readyz));
    // With a listener of their own (`metrics_listen`), metrics are not on the public one.
    if state.config.http.metrics_listen.is_none() {
        routes = routes.route("/metrics", get(observability::metrics_text));
    }
    routes
        .route(
            "/webhooks/instagram",
            get(webhooks::instagram_verify).post(webhooks::instagram_receive),
        )
        .route("/webhooks/vk", post(webhooks::vk_receive))
        .route("/webhooks/telegram", post(webhooks::telegram_receive))
        .route(
            "/webhooks/telegram/{bot_id}",
            post(webhooks::telegram_receive_for_bot),
        )
        .layer(axum::middleware::from_fn_with_state(
            request_limits::RequestLimits::from_config(&state.config.http),
            request_limits::apply,
        ))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            Arc::from(state.config.http.trusted_proxies.as_slice()),
            observability::observe,
        ))
        .with_state(state)
}
