//! Leaderboard seasons in the Mini App: the running season's board with the member's own
//! place, what counts and what the final ranks win; past seasons' frozen standings.
//! Rows carry a name and whether they are the caller; never another member's id.

use super::auth::Member;
use super::leaderboard::Standing;
use super::{ErrorEnvelope, QueryParams};
use crate::AppState;
use crate::admin::seasons::{PrizeView, activity_names};
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use projections::seasons::SeasonRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Seasons listed at most (the latest start first).
const LISTED: usize = 20;

/// A season as members see it, with their own place in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberSeason {
    pub season_id: Uuid,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `upcoming`, `running`, `settling` (ended, standings about to be final) or `final`.
    pub phase: String,
    /// The activities that count (`comment`, `codeword`, ...).
    pub activities: Vec<String>,
    /// Whether points a manager adds by hand count.
    pub adjustments: bool,
    pub prizes: Vec<PrizeView>,
    /// The member's rank, score and prize (prize only once final); `None` without points in it.
    pub my_rank: Option<i64>,
    pub my_score: i64,
    pub my_prize: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberSeasons {
    /// Cancelled seasons are left out.
    pub seasons: Vec<MemberSeason>,
}

/// The caller's place in a running season, as `projections::seasons::member_place` answers it.
type Place = Option<(i64, i64)>;

/// The season as the caller sees it; `place` when the caller has already read it.
async fn member_season(
    state: &AppState,
    member: &Member,
    row: SeasonRow,
    place: Option<Place>,
) -> Result<MemberSeason, ApiError> {
    let phase = app::seasons::phase(&row.status, &row.terms, Utc::now()).to_string();
    let frozen = row
        .standings
        .as_ref()
        .and_then(|s| s.iter().find(|s| s.member_id == member.member_id))
        .copied();
    let (my_rank, my_score, my_prize) = match frozen {
        Some(s) => (Some(i64::from(s.rank)), s.score, s.prize),
        None => {
            let place = match place {
                Some(place) => place,
                None => {
                    projections::seasons::member_place(
                        &state.pool,
                        row.season_id,
                        member.member_id.0,
                    )
                    .await
                    .map_err(ApiError::internal)?
                    .0
                }
            };
            (place.map(|p| p.0), place.map_or(0, |p| p.1), 0)
        }
    };
    let t = row.terms;
    Ok(MemberSeason {
        season_id: row.season_id,
        name: row.name,
        starts_at: t.starts_at.get(),
        ends_at: t.ends_at.get(),
        phase,
        activities: activity_names(&t),
        adjustments: t.counts.adjustments,
        prizes: t.prizes.iter().map(PrizeView::from).collect(),
        my_rank,
        my_score,
        my_prize,
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/app/seasons",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, description = "The program's seasons with the member's place in each", body = MemberSeasons),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn seasons(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<MemberSeasons>, ApiError> {
    let rows = projections::seasons::seasons_of(&state.pool, member.program_id().0)
        .await
        .map_err(ApiError::internal)?;
    let mut seasons = Vec::new();
    for row in rows
        .into_iter()
        .filter(|r| r.status != "cancelled")
        .take(LISTED)
    {
        seasons.push(member_season(&state, &member, row, None).await?);
    }
    Ok(Json(MemberSeasons { seasons }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SeasonBoardQuery {
    /// Top N: 1 to 100 (default 20).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeasonBoard {
    pub season: MemberSeason,
    /// True once the standings are final (frozen in the log).
    pub frozen: bool,
    pub entries: Vec<Standing>,
    /// The caller's own place, also when outside the top; `None` without points in it.
    pub me: Option<Standing>,
    /// Members with points in it.
    pub participants: i64,
}

#[utoipa::path(
    get,
    path = "/api/v1/app/seasons/{season_id}",
    tag = "mini-app",
    security(("tma" = [])),
    params(("season_id" = Uuid, Path), SeasonBoardQuery),
    responses(
        (status = 200, description = "A season's board", body = SeasonBoard),
        (status = 400, description = "Bad limit", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such season in this program", body = ErrorEnvelope),
    )
)]
pub async fn board(
    State(state): State<AppState>,
    member: Member,
    Path(season_id): Path<Uuid>,
    QueryParams(query): QueryParams<SeasonBoardQuery>,
) -> Result<Json<SeasonBoard>, ApiError> {
    let limit = query.limit.unwrap_or(super::leaderboard::DEFAULT_TOP);
    if !(1..=super::leaderboard::MAX_TOP).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {}",
            super::leaderboard::MAX_TOP
        )));
    }
    let program = member.program_id().0;
    let row = projections::seasons::season(&state.pool, program, season_id)
        .await
        .map_err(ApiError::internal)?
        .filter(|r| r.status != "cancelled")
        .ok_or_else(|| ApiError::not_found("no such season"))?;
    let (frozen, participants, ranked, place) = match &row.standings {
        Some(standings) => (
            true,
            i64::from(row.participants.unwrap_or(0)),
            standings
                .iter()
                .take(limit as usize)
                .map(|s| (i64::from(s.rank), s.member_id.0, s.score))
                .collect::<Vec<(i64, Uuid, i64)>>(),
            None,
        ),
        None => {
            let (place, participants) =
                projections::seasons::member_place(&state.pool, season_id, member.member_id.0)
                    .await
                    .map_err(ApiError::internal)?;
            let top = projections::seasons::standings(&state.pool, season_id, 0, limit)
                .await
                .map_err(ApiError::internal)?;
            (false, participants, top, Some(place))
        }
    };
    let season = member_season(&state, &member, row, place).await?;
    let mine = season
        .my_rank
        .map(|rank| (rank, member.member_id.0, season.my_score));
    // The caller's own row last, named in the same read as the others.
    let ids: Vec<Uuid> = ranked.iter().chain(mine.iter()).map(|r| r.1).collect();
    let names = state
        .names
        .names(program, &ids)
        .await
        .map_err(ApiError::internal)?;
    let mut entries: Vec<Standing> = ranked
        .iter()
        .chain(mine.iter())
        .zip(names)
        .map(|((rank, id, score), name)| Standing {
            rank: *rank,
            score: *score,
            name,
            me: *id == member.member_id.0,
        })
        .collect();
    let me = mine.and_then(|_| entries.pop());
    Ok(Json(SeasonBoard {
        season,
        frozen,
        entries,
        me,
        participants,
    }))
}
