//! The Mini App: its JSON API under /api/v1/app (authenticated by Telegram initData, see
//! [`auth`]) and the page itself at /app.
//!
//! Invariants: every route but `config`, `dev-sign-in`, the VK ID callback and the page needs a
//! valid `Authorization: tma <initData>`; a member only ever sees or changes their own data;
//! names and usernames go to `profiles`, never into events.

pub mod auth;
mod brand;
mod broadcasts;
pub mod cache;
mod campaigns;
pub mod dev;
mod history;
mod leaderboard;
mod links;
mod live;
mod me;
mod page;
mod pending;
mod personal_data;
mod qr;
mod queries;
mod raffles;
mod rewards;
mod seasons;
mod texts;
mod vk_id;

use super::AppState;
use super::error::ApiError;
use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Where the Mini App API lives.
pub const API_PREFIX: &str = "/api/v1/app";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(MiniAppDoc::openapi())
        .routes(routes!(dev::config))
        .routes(routes!(dev::dev_sign_in))
        .routes(routes!(me::me))
        .routes(routes!(live::live))
        .routes(routes!(personal_data::export))
        .routes(routes!(personal_data::erase))
        .routes(routes!(broadcasts::setting, broadcasts::set))
        .routes(routes!(history::history))
        .routes(routes!(leaderboard::leaderboard))
        .routes(routes!(leaderboard::around_me))
        .routes(routes!(seasons::seasons))
        .routes(routes!(seasons::board))
        .routes(routes!(campaigns::campaigns))
        .routes(routes!(rewards::rewards))
        .routes(routes!(rewards::redeem))
        .routes(routes!(raffles::raffles))
        .routes(routes!(raffles::buy))
        .routes(routes!(links::create_link))
        .routes(routes!(links::link_status, links::cancel_link))
        .routes(routes!(links::unlink))
        .routes(routes!(vk_id::start))
        .routes(routes!(vk_id::callback))
        .route(
            "/app/brand/{program_id}/logo/{hash}",
            axum::routing::get(brand::logo),
        )
        .merge(page::routes())
}

/// Declares the `tma` scheme the Mini App routes name in `security(...)`.
#[derive(OpenApi)]
#[openapi(
    modifiers(&TmaScheme),
    tags((name = "mini-app", description = "The Telegram Mini App: a member's own balance, \
        history, rank, campaigns, rewards and linked accounts."))
)]
struct MiniAppDoc;

struct TmaScheme;

impl Modify for TmaScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "tma",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`tma <initData>`: Telegram.WebApp.initData exactly as Telegram signed it",
            ))),
        );
    }
}

/// The JSON error envelope every failure answers with (see `http::error`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `unauthorized`, `insufficient_balance`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

/// A JSON body whose rejection (wrong content type, bad JSON) answers with the envelope.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(ApiError::new(
                rejection.status(),
                "bad_request",
                rejection.body_text(),
            )),
        }
    }
}

/// A query string whose rejection answers with the envelope.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}
