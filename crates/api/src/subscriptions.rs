//! The Mini App's "check my subscriptions" button: asks VK and Telegram whether the member is
//! in the program's groups and channels, and settles the one-time subscription bonus.

use super::AppState;
use super::error::ApiError;
use super::mini_app::ErrorEnvelope;
use super::mini_app::auth::Member;
use axum::Json;
use axum::extract::State;
use bot::subscriptions::{self, ChannelStatus};
use bot::{BotError, chats};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A member's checks closer together than this get the previous answer, without asking VK
/// or Telegram again.
pub const MIN_INTERVAL_SECS: i64 = 15;

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionCheck {
    pub checked_at: DateTime<Utc>,
    /// True when this is the member's previous answer (asked again within 15 seconds).
    pub cached: bool,
    /// One entry per VK group and Telegram chat of the program, and one for Instagram.
    pub channels: Vec<ChannelStatus>,
}

/// Check the member's subscriptions now and pay (or take back) the subscription bonus.
#[utoipa::path(
    post,
    path = "/api/v1/app/subscriptions/check",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, body = SubscriptionCheck),
        (status = 401, body = ErrorEnvelope, description = "missing or invalid initData"),
        (status = 503, body = ErrorEnvelope, description = "the Mini App is not configured")
    )
)]
pub async fn check(
    member: Member,
    State(state): State<AppState>,
) -> Result<Json<SubscriptionCheck>, ApiError> {
    let now = Utc::now();
    if let Some(code) = member.user.language_code.as_deref()
        && let Err(e) =
            chats::remember_language(&state.pool, member.bot, member.user.id, code, now).await
    {
        tracing::warn!(error = %e, "could not record the member's language");
    }
    let recent =
        subscriptions::recent(&state, &member.program, member.member_id, MIN_INTERVAL_SECS).await?;
    if let Some((checked_at, channels)) = recent {
        return Ok(Json(SubscriptionCheck {
            checked_at,
            cached: true,
            channels,
        }));
    }
    let channels = subscriptions::check_member(&state, member.member_id)
        .await
        .map_err(|e| match e {
            BotError::App(e) => ApiError::from(e),
            other => ApiError::internal(other),
        })?;
    subscriptions::save(&state, &member.program, member.member_id, &channels, now).await?;
    Ok(Json(SubscriptionCheck {
        checked_at: now,
        cached: false,
        channels,
    }))
}

/// Merged into the API router beside the other Mini App routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check))
}
