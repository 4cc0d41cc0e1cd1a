//! The dashboard and the leaderboards: numbers the read models already keep.

use super::auth::{Authorized, Read};
use super::queries::{self, Label};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{Duration, NaiveDate, Utc};
use domain::network::Network;
use projections::daily_stats::DailyStatsRow;
use projections::ranking::{self, PeriodKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
pub struct DashboardQuery {
    /// Days back from today in the program's time zone (default 30, at most 366).
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub program_id: Uuid,
    pub time_zone: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Members with a balance.
    pub members: i64,
    /// Points held by all members.
    pub points_outstanding: i64,
    /// Per day and network (`all` is the whole program): events, points awarded and
    /// reversed, active members and new members.
    #[schema(value_type = Vec<Object>)]
    pub days: Vec<DailyStatsRow>,
}

/// Points per day, active and new members per day, by network.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/dashboard",
    tag = "admin",
    params(("program_id" = Uuid, Path), DashboardQuery),
    responses((status = 200, body = Dashboard))
)]
pub async fn dashboard(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Query(query): Query<DashboardQuery>,
) -> Result<Json<Dashboard>, ApiError> {
    let tz = ranking::program_time_zone(&state.pool, program_id)
        .await
        .map_err(ApiError::internal)?;
    let to = Utc::now().with_timezone(&tz).date_naive();
    let from = to - Duration::days(query.days.unwrap_or(30).clamp(1, 366) - 1);
    let days = projections::daily_stats::daily_stats(&state.pool, program_id, from, to)
        .await
        .map_err(ApiError::internal)?;
    let (members, points_outstanding) = queries::program_totals(&state.pool, program_id).await?;
    Ok(Json(Dashboard {
        program_id,
        time_zone: tz.name().to_string(),
        from,
        to,
        members,
        points_outstanding,
        days,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BoardQuery {
    /// `all` (default), `week` or `month`, in the program's time zone.
    pub period: Option<String>,
    /// One network's board (`instagram`, `vk`, `telegram`); none: the whole program.
    pub network: Option<String>,
    /// How many from the top (default 50, at most 1,000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardEntry {
    pub rank: i64,
    pub member_id: Uuid,
    pub score: i64,
    pub label: Option<Label>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Board {
    pub board_key: String,
    pub entries: Vec<BoardEntry>,
}

/// The top of a leaderboard: all time, this week or this month, overall or per network.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/leaderboards",
    tag = "admin",
    params(("program_id" = Uuid, Path), BoardQuery),
    responses((status = 200, body = Board), (status = 422))
)]
pub async fn leaderboard(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Query(query): Query<BoardQuery>,
) -> Result<Json<Board>, ApiError> {
    let kind = match query.period.as_deref().unwrap_or("all") {
        "all" => PeriodKind::AllTime,
        "week" => PeriodKind::Week,
        "month" => PeriodKind::Month,
        other => {
            return Err(super::support::invalid(
                "invalid_period",
                format!("unknown period {other:?}: use all, week or month"),
            ));
        }
    };
    let network = match query.network.as_deref().filter(|n| !n.is_empty()) {
        None => None,
        Some(n) => Some(Network::parse(n).ok_or_else(|| {
            super::support::invalid("invalid_network", format!("unknown network {n:?}"))
        })?),
    };
    let tz = ranking::program_time_zone(&state.pool, program_id)
        .await
        .map_err(ApiError::internal)?;
    let board = ranking::current_board(kind, network, tz, Utc::now());
    let top = state
        .boards
        .top(program_id, board, query.limit.unwrap_or(50))
        .await
        .map_err(ApiError::internal)?;
    let members: Vec<Uuid> = top.iter().map(|r| r.member_id).collect();
    let mut labels = queries::labels(&state.pool, program_id, &members).await?;
    let entries = top
        .into_iter()
        .map(|r| BoardEntry {
            rank: r.rank,
            member_id: r.member_id,
            score: r.score,
            label: labels.remove(&r.member_id),
        })
        .collect();
    let board_key = projections::leaderboards::board_key(&board);
    Ok(Json(Board { board_key, entries }))
}
