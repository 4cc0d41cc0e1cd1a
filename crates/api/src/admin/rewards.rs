//! The rewards catalog: list, create, change stock, delist, issued coupons, cancel a
//! redemption (points back, unit back to stock).

use super::auth::{Authorized, IdempotencyKey, Manage, Read};
use super::members::required_reason;
use super::queries::{self, Coupon};
use super::support::{Body, CommandReply, denied, invalid, reward_in, run};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use bytes::Bytes;
use domain::DomainError;
use domain::ids::{MemberId, ProgramId, RedemptionId, RewardId};
use domain::points::Points;
use domain::reward::{RewardCommand, RewardTerms};
use projections::rewards::RewardRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct RewardList {
    /// Listed rewards first, with stock left, issued and returned.
    #[schema(value_type = Vec<Object>)]
    pub rewards: Vec<RewardRow>,
}

/// The program's rewards catalog.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/rewards",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = RewardList))
)]
pub async fn list(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<RewardList>, ApiError> {
    let rewards = projections::rewards::rewards(&state.pool, program_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(RewardList { rewards }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRewardRequest {
    pub title: String,
    /// Price in points.
    pub cost: i64,
    /// Units available; leave out (0) for a coupon pool, whose stock is its uploaded codes.
    #[serde(default)]
    pub stock: u32,
    /// Coupons come from codes the brand uploads (`…/rewards/{id}/codes`), not generated ones.
    #[serde(default)]
    pub coupon_pool: bool,
    /// A cancelled redemption's code goes back to the pool (coupon pools only).
    #[serde(default)]
    pub return_codes: bool,
    /// Managers are alerted when a redemption leaves this many units or fewer.
    pub low_stock_alert: Option<u32>,
}

/// List a new reward. Its id is derived from the Idempotency-Key.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/rewards",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header)),
    request_body = NewRewardRequest,
    responses((status = 200, body = CommandReply), (status = 422))
)]
pub async fn create(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(body): Body<NewRewardRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let cost = Points::new(body.cost).map_err(denied)?;
    let program = ProgramId(program_id);
    state.ledger().program(program).await?;
    let action = auth.action(&key);
    let reward_id = RewardId(action.request_id);
    let (by, at) = (action.manager.clone(), action.at);
    let command = state
        .ledger()
        .reward_command(program, reward_id, &action, || RewardCommand::List {
            reward_id,
            program_id: program,
            title: body.title.clone(),
            cost,
            stock: body.stock,
            terms: RewardTerms {
                coupon_pool: body.coupon_pool,
                return_codes: body.return_codes,
                low_stock_alert: body.low_stock_alert,
            },
            by: by.clone(),
            at,
        });
    let reply = run(&state, action.request_id, command).await?;
    Ok(Json(reply.created(action.request_id)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StockRequest {
    /// Units to add (positive) or take away (negative); not zero.
    pub delta: i32,
}

/// Change a reward's stock.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/rewards/{reward_id}/stock",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("reward_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = StockRequest,
    responses((status = 200, body = CommandReply), (status = 409), (status = 422))
)]
pub async fn stock(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, reward_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<StockRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    if body.delta == 0 {
        return Err(denied(DomainError::InvalidAmount(0)));
    }
    let (program, reward) = (ProgramId(program_id), RewardId(reward_id));
    reward_in(&state, program, reward).await?;
    let action = auth.action(&key);
    let (by, at) = (action.manager.clone(), action.at);
    let command =
        state
            .ledger()
            .reward_command(program, reward, &action, || RewardCommand::ChangeStock {
                delta: body.delta,
                by: by.clone(),
                at,
            });
    Ok(Json(run(&state, action.request_id, command).await?))
}

/// Delist a reward: members can no longer redeem it; issued coupons stay valid.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/rewards/{reward_id}/delist",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("reward_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    responses((status = 200, body = CommandReply), (status = 404))
)]
pub async fn delist(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, reward_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<CommandReply>, ApiError> {
    let (program, reward) = (ProgramId(program_id), RewardId(reward_id));
    reward_in(&state, program, reward).await?;
    let action = auth.action(&key);
    let (by, at) = (action.manager.clone(), action.at);
    let command =
        state
            .ledger()
            .reward_command(program, reward, &action, || RewardCommand::Delist {
                by: by.clone(),
                at,
            });
    Ok(Json(run(&state, action.request_id, command).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponList {
    pub coupons: Vec<Coupon>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct Limit {
    pub limit: Option<i64>,
}

/// Coupons issued for a reward, newest first, cancelled ones included.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/rewards/{reward_id}/coupons",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("reward_id" = Uuid, Path), Limit),
    responses((status = 200, body = CouponList))
)]
pub async fn coupons(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path((program_id, reward_id)): Path<(Uuid, Uuid)>,
    Query(limit): Query<Limit>,
) -> Result<Json<CouponList>, ApiError> {
    let mut coupons = queries::coupons(
        &state.pool,
        program_id,
        reward_id,
        limit.limit.unwrap_or(200),
    )
    .await?;
    let members: Vec<Uuid> = coupons.iter().map(|c| c.member_id).collect();
    let names = state
        .names
        .names(program_id, &members)
        .await
        .map_err(ApiError::internal)?;
    for (coupon, name) in coupons.iter_mut().zip(names) {
        coupon.member_name = name;
    }
    Ok(Json(CouponList { coupons }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelRequest {
    pub reason: String,
}

/// Cancel a redemption: the member gets the points back and the unit returns to stock.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/redemptions/{redemption_id}/cancel",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("redemption_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = CancelRequest,
    responses((status = 200, body = CommandReply), (status = 404), (status = 422))
)]
pub async fn cancel(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, redemption_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<CancelRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let reason = required_reason(&body.reason)?;
    let (member, reward) = queries::redemption(&state.pool, program_id, redemption_id)
        .await?
        .ok_or_else(|| denied(DomainError::RedemptionNotFound))?;
    let action = auth.action(&key);
    let command = state.ledger().cancel_redemption(
        ProgramId(program_id),
        MemberId(member),
        RewardId(reward),
        RedemptionId(redemption_id),
        &reason,
        &action,
    );
    Ok(Json(run(&state, action.request_id, command).await?))
}

/// Upload codes to a coupon pool: the file as the body, one code per line or a CSV with a
/// `code` column (as tills and e-shops export them). Codes already in the pool are skipped, so
/// sending a file again adds nothing; a bad line refuses the whole file, naming the line.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/rewards/{reward_id}/codes",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("reward_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = app::coupons::Uploaded), (status = 404), (status = 409), (status = 422))
)]
pub async fn upload_codes(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, reward_id)): Path<(Uuid, Uuid)>,
    body: Bytes,
) -> Result<Json<app::coupons::Uploaded>, ApiError> {
    let (program, reward) = (ProgramId(program_id), RewardId(reward_id));
    let current = reward_in(&state, program, reward).await?;
    if current.pool.is_none() {
        return Err(denied(DomainError::NotACouponPool));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| invalid("invalid_codes_file", "save the file as UTF-8 text or CSV"))?;
    let codes = app::coupons::parse_codes(text)
        .map_err(|e| invalid("invalid_codes_file", e.to_string()))?;
    let action = auth.action(&key);
    let uploaded = state
        .ledger()
        .add_codes(program, reward, &codes, &action)
        .await?;
    Ok(Json(uploaded))
}

/// Mark a coupon used, as the shop does through its API key: for a shop with no till
/// connection. A used coupon cannot be used again or cancelled.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/redemptions/{redemption_id}/use",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("redemption_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    responses((status = 200, body = CommandReply), (status = 404), (status = 409))
)]
pub async fn use_coupon(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, redemption_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<CommandReply>, ApiError> {
    let (member, _) = queries::redemption(&state.pool, program_id, redemption_id)
        .await?
        .ok_or_else(|| denied(DomainError::RedemptionNotFound))?;
    let action = auth.action(&key);
    let command = state.ledger().use_coupon(
        ProgramId(program_id),
        MemberId(member),
        RedemptionId(redemption_id),
        action.request_id,
        &action.manager,
        action.at,
    );
    Ok(Json(run(&state, action.request_id, command).await?))
}
