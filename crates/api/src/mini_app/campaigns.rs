//! `GET campaigns`: what a member can do to earn. Codeword campaigns show their name, points,
//! window, networks and places left, never the codeword; the program's rules say what every
//! kind of activity pays.

use super::auth::Member;
use super::texts;
use super::{ErrorEnvelope, queries};
use crate::AppState;
use crate::error::ApiError;
use app::Language;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::network::Network;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignsView {
    pub campaigns: Vec<CampaignView>,
    /// What the program's rules pay for, besides campaigns.
    pub ways_to_earn: Vec<WayToEarn>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignView {
    pub campaign_id: Uuid,
    pub name: String,
    pub points: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub networks: Vec<String>,
    /// Redemptions left before the cap; `None` without a cap.
    pub remaining: Option<i32>,
    /// What to do, in the member's language; never the codeword itself.
    pub how_to: String,
    /// The member already earned this campaign's points.
    pub done: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WayToEarn {
    pub network: String,
    /// `comment`, `mention`, `reaction`, `poll_vote`, `repost`, `message`, `subscription`.
    pub kind: String,
    pub points: i64,
    /// The kind in the member's language ("Комментарий").
    pub text: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/app/campaigns",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, description = "Open campaigns and the program's ways to earn", body = CampaignsView),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn campaigns(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<CampaignsView>, ApiError> {
    let program = member.program_id().0;
    let now = Utc::now();
    let rows = projections::campaigns::campaigns(&state.pool, program)
        .await
        .map_err(ApiError::internal)?;
    let done = queries::redeemed_campaigns(&state.pool, program, member.member_id.0).await?;
    let campaigns = rows
        .into_iter()
        .filter(|c| c.status == "active" && c.starts_at <= now && now < c.ends_at)
        .map(|c| {
            let networks: Vec<Network> = c
                .networks
                .iter()
                .filter_map(|n| Network::parse(n))
                .collect();
            CampaignView {
                how_to: texts::campaign_how_to(member.lang, &networks),
                done: done.contains(&c.campaign_id),
                campaign_id: c.campaign_id,
                name: c.name,
                points: c.points,
                starts_at: c.starts_at,
                ends_at: c.ends_at,
                networks: c.networks,
                remaining: c.remaining,
            }
        })
        .collect();
    Ok(Json(CampaignsView {
        campaigns,
        ways_to_earn: ways_to_earn(member.lang, &member.program.rules),
    }))
}

fn ways_to_earn(lang: Language, rules: &domain::program::Rules) -> Vec<WayToEarn> {
    rules
        .points
        .iter()
        .map(|r| WayToEarn {
            network: r.network.as_str().to_string(),
            kind: r.kind.as_str().to_string(),
            points: r.points,
            text: texts::kind_name(lang, r.kind).to_string(),
        })
        .collect()
}
