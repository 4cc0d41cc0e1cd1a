//! The dashboard and the leaderboards: numbers the read models already keep.

use super::auth::{Authorized, Read};
use super::csv_file::{CsvFile, CsvOptions};
use super::queries::{self, Label};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, Utc};
use domain::folds::{BoardKey, Period};
use domain::network::Network;
use projections::daily_stats::DailyStatsRow;
use projections::ranking::{self, PeriodKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The longest period the dashboard shows, in days.
pub const MAX_DASHBOARD_DAYS: i64 = 366;

#[derive(Debug, Deserialize, IntoParams)]
pub struct DashboardQuery {
    /// Days back from today in the program's time zone (default 30, at most 366).
    pub days: Option<i64>,
    /// A custom period instead: its first and last day (both, `YYYY-MM-DD`, at most 366 days).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DashboardQuery {
    /// The days shown, first and last, given today in the program's zone.
    fn period(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), ApiError> {
        match (self.from, self.to) {
            (None, None) => {
                let days = self.days.unwrap_or(30).clamp(1, MAX_DASHBOARD_DAYS);
                Ok((today - Duration::days(days - 1), today))
            }
            (Some(from), Some(to)) if from <= to && (to - from).num_days() < MAX_DASHBOARD_DAYS => {
                Ok((from, to))
            }
            _ => Err(super::support::invalid(
                "invalid_period",
                format!(
                    "give both from and to, from not after to, at most {MAX_DASHBOARD_DAYS} days"
                ),
            )),
        }
    }
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
    /// The period's manual adjustments and reversals, codewords and coupons.
    pub totals: queries::PeriodCounts,
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
    let (from, to) = query.period(Utc::now().with_timezone(&tz).date_naive())?;
    let days = projections::daily_stats::daily_stats(&state.pool, program_id, from, to)
        .await
        .map_err(ApiError::internal)?;
    let (members, points_outstanding) = queries::program_totals(&state.pool, program_id).await?;
    // The period as instants: from the first day's start up to the start of the day after
    // the last. A day whose midnight a clock change skips starts at its first hour that exists.
    let start = |day: NaiveDate| {
        (0..3)
            .filter_map(|hour| day.and_hms_opt(hour, 0, 0))
            .find_map(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| ApiError::internal(format!("no start of {day} in {tz}")))
    };
    let totals = queries::period_counts(
        &state.pool,
        program_id,
        start(from)?,
        start(to.succ_opt().unwrap_or(to))?,
    )
    .await?;
    Ok(Json(Dashboard {
        program_id,
        time_zone: tz.name().to_string(),
        from,
        to,
        members,
        points_outstanding,
        days,
        totals,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BoardQuery {
    /// `all` (default), `week` or `month` (the current one, in the program's time zone), or a
    /// past period as stored: `w2026-47`, `m2026-11` (see `/leaderboards/periods`).
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
    /// The member's best name, as the members list and cards show it.
    pub name: Option<String>,
    pub label: Option<Label>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Board {
    pub board_key: String,
    pub entries: Vec<BoardEntry>,
}

impl BoardQuery {
    /// The board asked for: a current period by name, or a stored one by its key.
    async fn board(&self, state: &AppState, program_id: Uuid) -> Result<BoardKey, ApiError> {
        let network = match self.network.as_deref().filter(|n| !n.is_empty()) {
            None => None,
            Some(n) => Some(Network::parse(n).ok_or_else(|| {
                super::support::invalid("invalid_network", format!("unknown network {n:?}"))
            })?),
        };
        let kind = match self.period.as_deref().unwrap_or("all") {
            "all" => PeriodKind::AllTime,
            "week" => PeriodKind::Week,
            "month" => PeriodKind::Month,
            stored => {
                let board = projections::leaderboards::parse_board_key(stored)
                    .filter(|b| b.network.is_none())
                    .ok_or_else(|| {
                        super::support::invalid(
                            "invalid_period",
                            format!(
                                "unknown period {stored:?}: use all, week, month, or a past \
                                 week or month as w2026-47 or m2026-11"
                            ),
                        )
                    })?;
                return Ok(BoardKey { network, ..board });
            }
        };
        let tz = ranking::program_time_zone(&state.pool, program_id)
            .await
            .map_err(ApiError::internal)?;
        Ok(ranking::current_board(kind, network, tz, Utc::now()))
    }
}

/// The top of a board, each member with their label.
async fn top_of(
    state: &AppState,
    program_id: Uuid,
    board: BoardKey,
    limit: i64,
) -> Result<Vec<BoardEntry>, ApiError> {
    let top = state
        .boards
        .top(program_id, board, limit)
        .await
        .map_err(ApiError::internal)?;
    let members: Vec<Uuid> = top.iter().map(|r| r.member_id).collect();
    let mut labels = queries::labels(&state.pool, program_id, &members).await?;
    let names = state
        .names
        .names(program_id, &members)
        .await
        .map_err(ApiError::internal)?;
    Ok(top
        .into_iter()
        .zip(names)
        .map(|(r, name)| BoardEntry {
            rank: r.rank,
            member_id: r.member_id,
            score: r.score,
            name,
            label: labels.remove(&r.member_id),
        })
        .collect())
}

/// The top of a leaderboard: all time, this week or month, or a past week or month; overall or
/// per network.
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
    let board = query.board(&state, program_id).await?;
    let entries = top_of(&state, program_id, board, query.limit.unwrap_or(50)).await?;
    let board_key = projections::leaderboards::board_key(&board);
    Ok(Json(Board { board_key, entries }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardPeriods {
    /// Every ISO week with a stored board, newest first (`w2026-47`).
    pub weeks: Vec<String>,
    /// Every month with a stored board, newest first (`m2026-11`).
    pub months: Vec<String>,
}

/// The weeks and months whose boards are stored, to browse past standings.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/leaderboards/periods",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = BoardPeriods))
)]
pub async fn periods(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<BoardPeriods>, ApiError> {
    let keys = projections::leaderboards::stored_boards(&state.pool, program_id)
        .await
        .map_err(ApiError::internal)?;
    let (mut weeks, mut months) = (Vec::new(), Vec::new());
    for board in keys
        .iter()
        .filter_map(|k| projections::leaderboards::parse_board_key(k))
        .filter(|b| b.network.is_none())
    {
        match board.period {
            Period::Week { .. } => weeks.push(board.period.to_string()),
            Period::Month { .. } => months.push(board.period.to_string()),
            Period::AllTime => {}
        }
    }
    // The keys are zero-padded: newest first is the reverse of their text order.
    weeks.sort_unstable_by(|a, b| b.cmp(a));
    months.sort_unstable_by(|a, b| b.cmp(a));
    Ok(Json(BoardPeriods { weeks, months }))
}

/// A board's standings as a CSV file (ranked, with each member's account and name).
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/leaderboards.csv",
    tag = "admin",
    params(("program_id" = Uuid, Path), BoardQuery, CsvOptions),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422))
)]
pub async fn leaderboard_csv(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Query(query): Query<BoardQuery>,
    Query(options): Query<CsvOptions>,
) -> Result<Response, ApiError> {
    let board = query.board(&state, program_id).await?;
    let key = projections::leaderboards::board_key(&board).replace(':', "-");
    let limit = query.limit.unwrap_or(1_000);
    let entries = top_of(&state, program_id, board, limit).await?;
    let mut file = CsvFile::new(&state, program_id, &format!("leaderboard-{key}"), options).await?;
    file.header_row(&[
        ("rank", "Место"),
        ("member_id", "ID участника"),
        ("network", "Сеть"),
        ("username", "Имя пользователя"),
        ("name", "Имя"),
        ("points", "Баллы"),
    ])?;
    for e in entries {
        let label = e.label.unwrap_or_default();
        file.row(&[
            e.rank.to_string(),
            e.member_id.to_string(),
            label.network,
            label.username.unwrap_or_default(),
            e.name.or(label.display_name).unwrap_or_default(),
            e.score.to_string(),
        ])?;
    }
    Ok((file.headers(), file.take()?).into_response())
}
