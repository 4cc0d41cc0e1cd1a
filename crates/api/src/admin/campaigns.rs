//! Codeword campaigns: list, create, pause, resume, end, and who redeemed.

use super::auth::{Authorized, IdempotencyKey, Manage, Read};
use super::queries::{self, Label};
use super::support::{Body, CommandReply, campaign_in, denied, invalid, run};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use domain::campaign::{CampaignCommand, NewCampaign};
use domain::codeword::Codeword;
use domain::ids::{CampaignId, ProgramId};
use domain::network::Network;
use domain::points::Points;
use projections::campaigns::{CampaignRow, CodewordRedemptionRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignList {
    /// Newest window first, with redemptions so far and the cap left (`remaining`).
    #[schema(value_type = Vec<Object>)]
    pub campaigns: Vec<CampaignRow>,
}

/// Every campaign of the program with its status, redemptions and remaining cap.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/campaigns",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = CampaignList))
)]
pub async fn list(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<CampaignList>, ApiError> {
    let campaigns = projections::campaigns::campaigns(&state.pool, program_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(CampaignList { campaigns }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCampaignRequest {
    pub name: String,
    /// Matched forgiving case, spacing, punctuation and Latin/Cyrillic look-alikes.
    pub codeword: String,
    pub points: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Most members who may redeem it (none: no cap).
    pub total_cap: Option<u32>,
    /// `instagram`, `vk`, `telegram`.
    pub networks: Vec<String>,
    /// Only comments on this post count (the platform's post id).
    pub target_post: Option<String>,
    /// What the Mini App tells members about it (at most 500 characters; must not contain the
    /// codeword). It is kept in the log for good: no names of people.
    #[serde(default)]
    pub description: Option<String>,
}

/// Create a codeword campaign. Its id is derived from the Idempotency-Key.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/campaigns",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header)),
    request_body = NewCampaignRequest,
    responses((status = 200, body = CommandReply), (status = 422))
)]
pub async fn create(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(body): Body<NewCampaignRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let codeword = Codeword::parse(&body.codeword).map_err(denied)?;
    let points = Points::new(body.points).map_err(denied)?;
    let networks = body
        .networks
        .iter()
        .map(|n| {
            Network::parse(n)
                .ok_or_else(|| invalid("invalid_network", format!("unknown network {n:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let target_post = body
        .target_post
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let action = auth.action(&key);
    let campaign = NewCampaign {
        campaign_id: CampaignId(action.request_id),
        program_id: ProgramId(program_id),
        name: body.name,
        codeword,
        points,
        starts_at: body.starts_at.into(),
        ends_at: body.ends_at.into(),
        total_cap: body.total_cap,
        networks,
        target_post,
        description: body.description,
        by: action.manager.clone(),
        at: action.at,
    };
    state.ledger().program(ProgramId(program_id)).await?;
    let reply = run(
        &state,
        action.request_id,
        state.ledger().create_campaign(campaign),
    )
    .await?;
    Ok(Json(reply.created(action.request_id)))
}

/// What a manager does to a running campaign.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CampaignAction {
    Pause,
    Resume,
    End,
}

/// Pause, resume or end a campaign.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/campaigns/{campaign_id}/{action}",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("campaign_id" = Uuid, Path),
        ("action" = CampaignAction, Path, description = "pause, resume or end"),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    responses((status = 200, body = CommandReply), (status = 404), (status = 409))
)]
pub async fn change(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, campaign_id, what)): Path<(Uuid, Uuid, CampaignAction)>,
) -> Result<Json<CommandReply>, ApiError> {
    let (program, campaign) = (ProgramId(program_id), CampaignId(campaign_id));
    campaign_in(&state, program, campaign).await?;
    let action = auth.action(&key);
    let (by, at) = (action.manager.clone(), action.at);
    let command = state
        .ledger()
        .campaign_command(program, campaign, &action, || match what {
            CampaignAction::Pause => CampaignCommand::Pause { by: by.clone(), at },
            CampaignAction::Resume => CampaignCommand::Resume { by: by.clone(), at },
            CampaignAction::End => CampaignCommand::End { by: by.clone(), at },
        });
    Ok(Json(run(&state, action.request_id, command).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Redeemer {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub redemption: CodewordRedemptionRow,
    pub label: Option<Label>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedemptionList {
    #[schema(value_type = Object)]
    pub campaign: CampaignRow,
    /// In the order they redeemed.
    pub redeemed: Vec<Redeemer>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct Page {
    /// Only redemptions after this log position (paging).
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

/// Who redeemed a campaign's codeword, with the campaign's remaining cap.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/campaigns/{campaign_id}/redemptions",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("campaign_id" = Uuid, Path), Page),
    responses((status = 200, body = RedemptionList), (status = 404))
)]
pub async fn redemptions(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path((program_id, campaign_id)): Path<(Uuid, Uuid)>,
    Query(page): Query<Page>,
) -> Result<Json<RedemptionList>, ApiError> {
    let campaign = projections::campaigns::campaign(&state.pool, program_id, campaign_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such campaign in this program"))?;
    let rows = projections::campaigns::codeword_redemptions(
        &state.pool,
        program_id,
        campaign_id,
        page.after.unwrap_or(0),
        page.limit.unwrap_or(1_000),
    )
    .await
    .map_err(ApiError::internal)?;
    let members: Vec<Uuid> = rows.iter().map(|r| r.member_id).collect();
    let mut labels = queries::labels(&state.pool, program_id, &members).await?;
    let redeemed = rows
        .into_iter()
        .map(|r| Redeemer {
            label: labels.remove(&r.member_id),
            redemption: r,
        })
        .collect();
    Ok(Json(RedemptionList { campaign, redeemed }))
}
