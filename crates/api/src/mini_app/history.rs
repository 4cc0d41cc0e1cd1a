//! `GET history`: the member's own stream, newest first. No read model copies it: the stream
//! is the history. The cursor is a stream version (exclusive), so pages never shift when new
//! events arrive.

use super::auth::Member;
use super::texts::{self, Names};
use super::{ErrorEnvelope, QueryParams, queries};
use crate::AppState;
use crate::error::ApiError;
use app::reads::Logged;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::Event;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// `next_cursor` of the previous page; absent for the newest page.
    pub cursor: Option<i64>,
    /// Entries per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    /// Pass as `cursor` for older entries; `None` on the last page.
    pub next_cursor: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub event_id: Uuid,
    /// The event's version in the member's stream.
    pub version: i64,
    /// The event type, e.g. `PointsAwarded`, `RewardRedeemed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Change to the balance (negative for spending and reversals, 0 if none).
    pub points: i64,
    /// What happened, in the member's language.
    pub text: String,
    /// The network involved, if any.
    pub network: Option<String>,
    pub at: DateTime<Utc>,
}

#[utoipa::path(
    get,
    path = "/api/v1/app/history",
    tag = "mini-app",
    security(("tma" = [])),
    params(HistoryQuery),
    responses(
        (status = 200, description = "A page of the member's history, newest first", body = HistoryPage),
        (status = 400, description = "Bad cursor or limit", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    member: Member,
    QueryParams(query): QueryParams<HistoryQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let before = match query.cursor {
        Some(c) if c < 1 => return Err(ApiError::bad_request("cursor must be positive")),
        Some(c) => c,
        None => i64::MAX,
    };
    page(&state, &member, before, limit).await.map(Json)
}

/// Up to `limit` entries of the member's history older than stream version `before`.
pub async fn page(
    state: &AppState,
    member: &Member,
    before: i64,
    limit: i64,
) -> Result<HistoryPage, ApiError> {
    // One more than asked tells whether an older page exists.
    let mut events =
        app::reads::member_page(state.ledger().store(), member.member_id, before, limit + 1)
            .await?;
    let more = events.len() as i64 > limit;
    events.truncate(limit as usize);
    let names = names(state, member, events.iter().map(|l| &l.event)).await?;
    let entries = events
        .iter()
        .map(
            |Logged {
                 recorded: row,
                 event,
             }| HistoryEntry {
                event_id: row.event_id,
                version: row.stream_version,
                event_type: row.event_type.clone(),
                points: event.balance_delta().map_or(0, |(_, delta)| delta),
                text: texts::history_line(member.lang, event, &names),
                network: network_of(event).map(str::to_string),
                at: row.recorded_at,
            },
        )
        .collect();
    let next_cursor = more
        .then(|| events.last().map(|l| l.recorded.stream_version))
        .flatten();
    Ok(HistoryPage {
        entries,
        next_cursor,
    })
}

/// Campaign names and reward titles the page's events refer to.
async fn names<'a>(
    state: &AppState,
    member: &Member,
    events: impl Iterator<Item = &'a Event>,
) -> Result<Names, ApiError> {
    let (mut campaigns, mut rewards) = (Vec::new(), Vec::new());
    for event in events {
        match event {
            Event::PointsAwarded {
                campaign_id: Some(c),
                ..
            } => campaigns.push(c.0),
            Event::RewardRedeemed { reward_id, .. }
            | Event::RedemptionCancelled { reward_id, .. }
            | Event::CouponUsed { reward_id, .. } => rewards.push(reward_id.0),
            _ => {}
        }
    }
    let program = member.program_id().0;
    Ok(Names {
        campaigns: queries::campaign_names(&state.pool, program, &campaigns).await?,
        rewards: queries::reward_titles(&state.pool, program, &rewards).await?,
    })
}

fn network_of(event: &Event) -> Option<&'static str> {
    match event {
        Event::PointsAwarded { activity, .. }
        | Event::AwardHeld { activity, .. }
        | Event::HeldAwardApproved { activity, .. } => Some(activity.network.as_str()),
        Event::PointsReversed { network, .. } | Event::AwardRestored { network, .. } => {
            Some(network.as_str())
        }
        Event::AccountLinked { account, .. } | Event::AccountUnlinked { account, .. } => {
            Some(account.network.as_str())
        }
        _ => None,
    }
}
