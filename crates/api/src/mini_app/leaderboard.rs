//! `GET leaderboard` (top N) and `GET leaderboard/around-me` (the member's neighbours), for
//! all time or the current week or month in the program's time zone, overall or per network.
//! Rows carry a name and whether they are the caller; never another member's id.

use super::auth::Member;
use super::{ErrorEnvelope, QueryParams};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use domain::folds::BoardKey;
use domain::network::Network;
use projections::ranking::{self, PeriodKind, Ranked};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub const DEFAULT_TOP: i64 = 20;
pub const MAX_TOP: i64 = 100;
pub const DEFAULT_NEIGHBOURS: i64 = 3;
pub const MAX_NEIGHBOURS: i64 = 20;

#[derive(Debug, Deserialize, IntoParams)]
pub struct BoardQuery {
    /// `all` (default), `week` or `month` (the current one), `last_week` or `last_month` (the
    /// final standings of the one before).
    pub period: Option<String>,
    /// `instagram`, `vk` or `telegram`; absent for all networks.
    pub network: Option<String>,
    /// Top N: 1 to 100 (default 20). Around me: neighbours on each side, 0 to 20 (default 3).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Standing {
    pub rank: i64,
    pub score: i64,
    /// Display name or `@username`; `None` if the member has no profile.
    pub name: Option<String>,
    /// This row is the caller.
    pub me: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Leaderboard {
    pub period: String,
    pub network: Option<String>,
    pub entries: Vec<Standing>,
    /// The caller's own place, also when outside the top; `None` with no points there yet.
    pub me: Option<Standing>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AroundMe {
    pub period: String,
    pub network: Option<String>,
    /// Members just above, best first.
    pub above: Vec<Standing>,
    pub me: Option<Standing>,
    /// Members just below, closest first.
    pub below: Vec<Standing>,
}

#[utoipa::path(
    get,
    path = "/api/v1/app/leaderboard",
    tag = "mini-app",
    security(("tma" = [])),
    params(BoardQuery),
    responses(
        (status = 200, description = "The best members of a board", body = Leaderboard),
        (status = 400, description = "Unknown period or network, or bad limit", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 503, description = "The program's names could not be loaded; try again", body = ErrorEnvelope),
    )
)]
pub async fn leaderboard(
    State(state): State<AppState>,
    member: Member,
    QueryParams(query): QueryParams<BoardQuery>,
) -> Result<Json<Leaderboard>, ApiError> {
    let board = Board::parse(&query, &member)?;
    let limit = query.limit.unwrap_or(DEFAULT_TOP);
    if !(1..=MAX_TOP).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_TOP}"
        )));
    }
    let program = member.program_id().0;
    let top = state
        .boards
        .top(program, board.key, limit)
        .await
        .map_err(ApiError::internal)?;
    let place = state
        .boards
        .around(program, board.key, member.member_id.0, 0)
        .await
        .map_err(ApiError::internal)?;
    // The caller's own row last, named in the same read as the others.
    let ranked: Vec<&Ranked> = top.iter().chain(place.as_ref().map(|p| &p.me)).collect();
    let mut entries = standings(&state, &member, &ranked).await?;
    let me = place.and_then(|_| entries.pop());
    Ok(Json(Leaderboard {
        period: board.period,
        network: board.network,
        entries,
        me,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/app/leaderboard/around-me",
    tag = "mini-app",
    security(("tma" = [])),
    params(BoardQuery),
    responses(
        (status = 200, description = "The caller's place with neighbours", body = AroundMe),
        (status = 400, description = "Unknown period or network, or bad limit", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 503, description = "The program's names could not be loaded; try again", body = ErrorEnvelope),
    )
)]
pub async fn around_me(
    State(state): State<AppState>,
    member: Member,
    QueryParams(query): QueryParams<BoardQuery>,
) -> Result<Json<AroundMe>, ApiError> {
    let board = Board::parse(&query, &member)?;
    let neighbours = query.limit.unwrap_or(DEFAULT_NEIGHBOURS);
    if !(0..=MAX_NEIGHBOURS).contains(&neighbours) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 0 and {MAX_NEIGHBOURS}"
        )));
    }
    let program = member.program_id().0;
    let place = state
        .boards
        .around(program, board.key, member.member_id.0, neighbours)
        .await
        .map_err(ApiError::internal)?;
    let Some(place) = place else {
        return Ok(Json(AroundMe {
            period: board.period,
            network: board.network,
            above: vec![],
            me: None,
            below: vec![],
        }));
    };
    let ranked: Vec<&Ranked> = place
        .above
        .iter()
        .chain([&place.me])
        .chain(&place.below)
        .collect();
    let mut above = standings(&state, &member, &ranked).await?;
    let below = above.split_off(place.above.len() + 1);
    let me = above.pop();
    Ok(Json(AroundMe {
        period: board.period,
        network: board.network,
        above,
        me,
        below,
    }))
}

/// The board for the period containing now, in the program's zone.
struct Board {
    key: BoardKey,
    period: String,
    network: Option<String>,
}

impl Board {
    fn parse(query: &BoardQuery, member: &Member) -> Result<Board, ApiError> {
        let period = query.period.as_deref().unwrap_or("all");
        let (kind, earlier) = match period {
            "all" => (PeriodKind::AllTime, false),
            "week" => (PeriodKind::Week, false),
            "month" => (PeriodKind::Month, false),
            "last_week" => (PeriodKind::Week, true),
            "last_month" => (PeriodKind::Month, true),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown period `{other}`: use all, week, month, last_week or last_month"
                )));
            }
        };
        let network = match query.network.as_deref().filter(|n| !n.is_empty()) {
            None => None,
            Some(name) => Some(Network::parse(name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown network `{name}`: use instagram, vk or telegram"
                ))
            })?),
        };
        let tz = member.program.time_zone;
        let mut key = ranking::current_board(kind, network, tz, Utc::now());
        if earlier {
            key.period = key.period.previous();
        }
        Ok(Board {
            key,
            period: period.to_string(),
            network: network.map(|n| n.as_str().to_string()),
        })
    }
}

/// Rows as shown, in the order given, each named from the program's name directory.
async fn standings(
    state: &AppState,
    member: &Member,
    ranked: &[&Ranked],
) -> Result<Vec<Standing>, ApiError> {
    let ids: Vec<Uuid> = ranked.iter().map(|r| r.member_id).collect();
    let names = state
        .names
        .names(member.program_id().0, &ids)
        .await
        .map_err(names_unavailable)?;
    Ok(ranked
        .iter()
        .zip(names)
        .map(|(r, name)| Standing {
            rank: r.rank,
            score: r.score,
            name,
            me: r.member_id == member.member_id.0,
        })
        .collect())
}

/// The program's names are read once, on its first leaderboard question; if that fails, the
/// app can try again (the next question loads anew).
fn names_unavailable(cause: sqlx::Error) -> ApiError {
    tracing::error!(%cause, "the name directory could not load");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "names_unavailable",
        "the leaderboard's names could not be loaded; try again",
    )
}
