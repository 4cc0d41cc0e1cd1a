//! Leaderboard seasons in the panel: schedule one (what counts, when, what the final ranks
//! win), watch its board, cancel it before it ends, and browse past seasons' frozen standings.

use super::auth::{Authorized, IdempotencyKey, Manage, Read};
use super::members::required_reason;
use super::support::{Body, CommandReply, denied, invalid};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use domain::ids::{ProgramId, SeasonId};
use domain::network::ActivityKind;
use domain::season::{SeasonCounts, SeasonPrize, SeasonTerms};
use projections::seasons::SeasonRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A prize band: every rank from `from_rank` to `to_rank` wins `points`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct PrizeView {
    pub from_rank: u32,
    pub to_rank: u32,
    pub points: i64,
}

/// A season as managers see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeasonView {
    pub season_id: Uuid,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Minutes after the end during which late deliveries of activity inside it still count.
    pub settle_minutes: u32,
    /// The activities whose awards count (`comment`, `codeword`, ...).
    pub activities: Vec<String>,
    /// Whether manual adjustments count.
    pub adjustments: bool,
    pub prizes: Vec<PrizeView>,
    /// `upcoming`, `running`, `settling`, `final` or `cancelled`.
    pub phase: String,
    /// Prizes are all paid or withheld.
    pub settled: bool,
    pub scheduled_by: String,
    pub scheduled_at: DateTime<Utc>,
    pub cancel_reason: Option<String>,
    /// Members with points in it: as frozen once final, as it stands before.
    pub participants: Option<i32>,
    pub prizes_paid: Option<i32>,
    pub prizes_withheld: Option<i32>,
}

impl From<&SeasonPrize> for PrizeView {
    fn from(p: &SeasonPrize) -> Self {
        PrizeView {
            from_rank: p.from_rank,
            to_rank: p.to_rank,
            points: p.points,
        }
    }
}

impl From<&PrizeView> for SeasonPrize {
    fn from(p: &PrizeView) -> Self {
        SeasonPrize {
            from_rank: p.from_rank,
            to_rank: p.to_rank,
            points: p.points,
        }
    }
}

/// The activities a season counts, by their API names.
pub fn activity_names(terms: &SeasonTerms) -> Vec<String> {
    let kinds = terms.counts.activities.iter();
    kinds.map(|k| k.as_str().to_string()).collect()
}

fn view(row: SeasonRow, now: DateTime<Utc>) -> SeasonView {
    let phase = app::seasons::phase(&row.status, &row.terms, now).to_string();
    let t = row.terms;
    SeasonView {
        season_id: row.season_id,
        name: row.name,
        starts_at: t.starts_at.get(),
        ends_at: t.ends_at.get(),
        settle_minutes: t.settle_minutes,
        activities: activity_names(&t),
        adjustments: t.counts.adjustments,
        prizes: t.prizes.iter().map(PrizeView::from).collect(),
        phase,
        settled: row.status == "settled",
        scheduled_by: row.scheduled_by,
        scheduled_at: row.scheduled_at,
        cancel_reason: row.cancel_reason,
        participants: row.participants,
        prizes_paid: row.prizes_paid,
        prizes_withheld: row.prizes_withheld,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeasonList {
    /// The latest start first.
    pub seasons: Vec<SeasonView>,
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/seasons",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = SeasonList))
)]
pub async fn list(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<SeasonList>, ApiError> {
    let now = Utc::now();
    let rows = projections::seasons::seasons_of(&state.pool, program_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(SeasonList {
        seasons: rows.into_iter().map(|r| view(r, now)).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSeasonRequest {
    pub name: String,
    /// When activity starts counting (RFC 3339); a past start means now.
    pub starts_at: DateTime<Utc>,
    /// When activity stops counting.
    pub ends_at: DateTime<Utc>,
    /// Minutes late deliveries of activity inside the season still count after its end (0 to
    /// 1440; 60 when absent).
    #[serde(default = "default_settle")]
    pub settle_minutes: u32,
    /// The activities that count; every activity when absent.
    #[serde(default)]
    pub activities: Option<Vec<String>>,
    /// Whether manual adjustments count (a goodwill credit moves nobody up by default).
    #[serde(default)]
    pub adjustments: bool,
    /// What the final ranks win.
    #[serde(default)]
    pub prizes: Vec<PrizeView>,
}

fn default_settle() -> u32 {
    60
}

/// Schedule a season: its id derives from the Idempotency-Key; the answer's `created_id` is it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/seasons",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header)),
    request_body = NewSeasonRequest,
    responses((status = 200, body = CommandReply), (status = 422))
)]
pub async fn create(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(body): Body<NewSeasonRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let activities = match body.activities {
        None => ActivityKind::ALL.to_vec(),
        Some(names) => names
            .iter()
            .map(|n| {
                ActivityKind::parse(n)
                    .ok_or_else(|| invalid("invalid_season", format!("unknown activity `{n}`")))
            })
            .collect::<Result<_, _>>()?,
    };
    let terms = SeasonTerms {
        name: body.name,
        starts_at: body.starts_at.into(),
        ends_at: body.ends_at.into(),
        settle_minutes: body.settle_minutes,
        counts: SeasonCounts {
            activities,
            adjustments: body.adjustments,
        },
        prizes: body.prizes.iter().map(SeasonPrize::from).collect(),
    };
    let action = auth.action(&key);
    let (season, outcome) = state
        .ledger()
        .schedule_season(program.program_id, terms, &action)
        .await?;
    Ok(Json(
        CommandReply::from_outcome(outcome, action.request_id).created(season.0),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelSeasonRequest {
    pub reason: String,
}

/// Cancel a season before it ends: no standings are frozen and no prizes paid.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/seasons/{season_id}/cancel",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("season_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = CancelSeasonRequest,
    responses((status = 200, body = CommandReply), (status = 404), (status = 409), (status = 422))
)]
pub async fn cancel(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, season_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<CancelSeasonRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let reason = required_reason(&body.reason)?;
    let action = auth.action(&key);
    let command =
        state
            .ledger()
            .cancel_season(ProgramId(program_id), SeasonId(season_id), &reason, &action);
    Ok(Json(
        super::support::run(&state, action.request_id, command).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StandingsQuery {
    /// Rows, 1 to 1000 (default 100).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StandingRow {
    pub rank: i64,
    pub member_id: Uuid,
    pub name: Option<String>,
    pub score: i64,
    /// Points the rank wins (0 for none); for a season still running, what it would win now.
    pub prize: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeasonStandings {
    pub season: SeasonView,
    /// True once the standings are frozen in the log.
    pub frozen: bool,
    pub entries: Vec<StandingRow>,
}

/// A season's board: the frozen final standings once it ended, the live board before.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/seasons/{season_id}",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("season_id" = Uuid, Path), StandingsQuery),
    responses((status = 200, body = SeasonStandings), (status = 404))
)]
pub async fn standings(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path((program_id, season_id)): Path<(Uuid, Uuid)>,
    Query(query): Query<StandingsQuery>,
) -> Result<Json<SeasonStandings>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    let row = projections::seasons::season(&state.pool, program_id, season_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| denied(domain::DomainError::NotFound))?;
    let terms = row.terms.clone();
    let (frozen, ranked): (bool, Vec<(i64, Uuid, i64, i64)>) = match &row.standings {
        Some(standings) => (
            true,
            standings
                .iter()
                .take(limit as usize)
                .map(|s| (i64::from(s.rank), s.member_id.0, s.score, s.prize))
                .collect(),
        ),
        None => (
            false,
            projections::seasons::standings(&state.pool, season_id, 0, limit)
                .await
                .map_err(ApiError::internal)?
                .into_iter()
                .map(|(rank, member, score)| {
                    let prize = terms.prize_for(u32::try_from(rank).unwrap_or(u32::MAX));
                    (rank, member, score, prize)
                })
                .collect(),
        ),
    };
    let ids: Vec<Uuid> = ranked.iter().map(|r| r.1).collect();
    let names = state
        .names
        .names(program_id, &ids)
        .await
        .map_err(ApiError::internal)?;
    let entries = ranked
        .into_iter()
        .zip(names)
        .map(|((rank, member_id, score, prize), name)| StandingRow {
            rank,
            member_id,
            name,
            score,
            prize,
        })
        .collect();
    Ok(Json(SeasonStandings {
        season: view(row, Utc::now()),
        frozen,
        entries,
    }))
}
