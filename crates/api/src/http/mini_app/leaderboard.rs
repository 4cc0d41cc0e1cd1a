//! `GET leaderboard` (top N) and `GET leaderboard/around-me` (the member's neighbours), for
//! all time or the current week or month in the program's time zone, overall or per network.
//! Rows carry a name and whether they are the caller; never another member's id.

use super::auth::Member;
use super::{ErrorEnvelope, QueryParams, queries};
use crate::http::AppState;
use crate::http::error::ApiError;
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use domain::folds::BoardKey;
use domain::network::Network;
use projections::ranking::{self, PeriodKind, Ranked};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub const DEFAULT_TOP: i64 = 20;
pub const MAX_TOP: i64 = 100;
pub const DEFAULT_NEIGHBOURS: i64 = 3;
pub const MAX_NEIGHBOURS: i64 = 20;

#[derive(Debug, Deserialize, IntoParams)]
pub struct BoardQuery {
    /// `all` (default), `week` or `month`.
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
    let mut members: Vec<Uuid> = top.iter().map(|r| r.member_id).collect();
    members.push(member.member_id.0);
    let names = Names::load(&state, program, &members).await?;
    Ok(Json(Leaderboard {
        period: board.period,
        network: board.network,
        entries: top.iter().map(|r| names.standing(r, &member)).collect(),
        me: place.map(|p| names.standing(&p.me, &member)),
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
    let members: Vec<Uuid> = place
        .above
        .iter()
        .chain(&place.below)
        .chain([&place.me])
        .map(|r| r.member_id)
        .collect();
    let names = Names::load(&state, program, &members).await?;
    Ok(Json(AroundMe {
        period: board.period,
        network: board.network,
        above: place
            .above
            .iter()
            .map(|r| names.standing(r, &member))
            .collect(),
        me: Some(names.standing(&place.me, &member)),
        below: place
            .below
            .iter()
            .map(|r| names.standing(r, &member))
            .collect(),
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
        let kind = match period {
            "all" => PeriodKind::AllTime,
            "week" => PeriodKind::Week,
            "month" => PeriodKind::Month,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown period `{other}`: use all, week or month"
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
        Ok(Board {
            key: ranking::current_board(kind, network, tz, Utc::now()),
            period: period.to_string(),
            network: network.map(|n| n.as_str().to_string()),
        })
    }
}

/// The names shown beside ranks, from the cache and, for the rest, one query.
struct Names(std::collections::HashMap<Uuid, Option<Arc<str>>>);

impl Names {
    async fn load(state: &AppState, program: Uuid, members: &[Uuid]) -> Result<Names, ApiError> {
        let cache = &state.mini_app;
        let mut names = std::collections::HashMap::with_capacity(members.len());
        let mut missing = Vec::new();
        let now = std::time::Instant::now();
        for member in members {
            match cache.name(program, *member, now) {
                Some(name) => {
                    names.insert(*member, name);
                }
                None => missing.push(*member),
            }
        }
        // The caller is often in the list too: ask for each member once.
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let mut found = queries::display_names(&state.pool, program, &missing).await?;
            for member in missing {
                let name = found.remove(&member).and_then(|(display, username)| {
                    display
                        .as_deref()
                        .filter(|d| !d.is_empty())
                        .map(short_name)
                        .or_else(|| username.map(|u| format!("@{u}")))
                        .map(Arc::from)
                });
                cache.remember_name(program, member, name.clone());
                names.insert(member, name);
            }
        }
        Ok(Names(names))
    }

    fn standing(&self, ranked: &Ranked, member: &Member) -> Standing {
        Standing {
            rank: ranked.rank,
            score: ranked.score,
            name: self
                .0
                .get(&ranked.member_id)
                .cloned()
                .flatten()
                .map(|n| n.to_string()),
            me: ranked.member_id == member.member_id.0,
        }
    }
}

/// "Анна Смирнова" → "Анна С.": enough to recognise oneself, less to expose others.
fn short_name(full: &str) -> String {
    let mut words = full.split_whitespace();
    let first = words.next().unwrap_or_default();
    match words.next().and_then(|w| w.chars().next()) {
        Some(initial) => format!("{first} {initial}."),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn shortens_the_last_name_to_an_initial() {
        assert_eq!(short_name("Анна Смирнова"), "Анна С.");
        assert_eq!(short_name("Boris"), "Boris");
        assert_eq!(short_name("  Olga  Ivanova Petrovna "), "Olga I.");
    }
}
