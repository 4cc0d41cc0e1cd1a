//! API keys a brand gives its till or e-shop to check and accept coupons
//! (`/api/v1/shop/...`): made, listed and revoked by managers; the key is shown once.

use super::auth::{Authorized, Manage, Read};
use super::support::{Body, invalid};
use crate::AppState;
use crate::error::ApiError;
use app::coupons::{NewShopKey, ShopKey, ShopKeyError};
use axum::Json;
use axum::extract::{Path, State};
use domain::ids::ProgramId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

impl From<ShopKeyError> for ApiError {
    fn from(e: ShopKeyError) -> Self {
        match e {
            ShopKeyError::Invalid(why) => invalid("invalid_shop_key", why),
            ShopKeyError::Database(e) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopKeyList {
    /// Newest first, revoked ones included; never the key itself.
    pub keys: Vec<ShopKey>,
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/shop-keys",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = ShopKeyList))
)]
pub async fn list(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<ShopKeyList>, ApiError> {
    let keys = app::coupons::shop_keys(&state.pool, ProgramId(program_id)).await?;
    Ok(Json(ShopKeyList { keys }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewShopKeyRequest {
    /// Which till or shop it goes to, for managers.
    pub name: String,
    /// `coupons:read` (check a code), `coupons:use` (accept it).
    pub scopes: Vec<String>,
}

/// Make a key. The answer carries the key once; only its hash is kept.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/shop-keys",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    request_body = NewShopKeyRequest,
    responses((status = 200, body = NewShopKey), (status = 404), (status = 422))
)]
pub async fn create(
    auth: Authorized<Manage>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(body): Body<NewShopKeyRequest>,
) -> Result<Json<NewShopKey>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let key = app::coupons::create_shop_key(
        &state.pool,
        program.program_id,
        &body.name,
        &body.scopes,
        &auth.session.actor(),
    )
    .await?;
    Ok(Json(key))
}

/// Revoke a key: the shop's next call with it is refused.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/shop-keys/{key_id}/revoke",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("key_id" = Uuid, Path), ("X-CSRF-Token" = String, Header)),
    responses((status = 200, body = ShopKeyList), (status = 404))
)]
pub async fn revoke(
    auth: Authorized<Manage>,
    State(state): State<AppState>,
    Path((program_id, key_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<ShopKeyList>, ApiError> {
    let program = ProgramId(program_id);
    if !app::coupons::revoke_shop_key(&state.pool, program, key_id, &auth.session.actor()).await? {
        return Err(ApiError::not_found("no such key in this program"));
    }
    let keys = app::coupons::shop_keys(&state.pool, program).await?;
    Ok(Json(ShopKeyList { keys }))
}
