//! The shop's API: a till or e-shop checks a coupon a member shows and accepts it, with an API
//! key managers made for it (`Authorization: Bearer lsk_…`, scoped, revocable).
//!
//! Accepting is a command on the member's stream (`CouponUsed`), so a coupon is accepted once:
//! the same key repeating the call (a retry after a timeout) gets the same success, any other
//! attempt `409 coupon_already_used`. A code is known here once the rewards read model has it,
//! milliseconds after the redemption.

use crate::AppState;
use crate::error::ApiError;
use app::coupons::CouponStatus;
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use domain::DomainError;
use domain::ids::{MemberId, ProgramId, RedemptionId, derived_id};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ShopDoc::openapi())
        .routes(routes!(check))
        .routes(routes!(accept))
}

/// Declares the `shop_key` scheme the shop routes name in `security(...)`.
#[derive(OpenApi)]
#[openapi(
    modifiers(&ShopKeyScheme),
    tags((name = "shop", description = "A brand's till or e-shop checks and accepts coupons \
        with an API key managers made for it."))
)]
struct ShopDoc;

struct ShopKeyScheme;

impl Modify for ShopKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "shop_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`Bearer lsk_…`: a key made in the admin panel"))
                    .build(),
            ),
        );
    }
}

/// The key a request came with: its program, id and scopes.
pub struct ShopCaller {
    program: ProgramId,
    key_id: Uuid,
    scopes: Vec<String>,
}

impl ShopCaller {
    fn allow(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.iter().any(|s| s == scope) {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "this key lacks the `{scope}` scope"
        )))
    }
}

impl FromRequestParts<AppState> for ShopCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("send the shop's key as Authorization: Bearer <key>")
            })?;
        let found = app::coupons::authenticate_shop_key(&state.pool, token).await?;
        let (program, key_id, scopes) =
            found.ok_or_else(|| ApiError::unauthorized("unknown or revoked key"))?;
        Ok(ShopCaller {
            program,
            key_id,
            scopes,
        })
    }
}

fn unknown_code() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_coupon",
        "no coupon with this code in this program",
    )
}

/// Check a coupon: valid (`issued`), `used` or `cancelled`, and for which reward.
#[utoipa::path(
    get,
    path = "/api/v1/shop/coupons/{code}",
    tag = "shop",
    security(("shop_key" = [])),
    params(("code" = String, Path)),
    responses(
        (status = 200, body = CouponStatus),
        (status = 401, description = "No key, or an unknown or revoked one"),
        (status = 403, description = "The key lacks `coupons:read`"),
        (status = 404, description = "No coupon with this code"),
    )
)]
pub async fn check(
    caller: ShopCaller,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<CouponStatus>, ApiError> {
    caller.allow("coupons:read")?;
    let coupon = app::coupons::coupon_by_code(&state.pool, caller.program, &code)
        .await?
        .ok_or_else(unknown_code)?;
    Ok(Json(coupon))
}

/// Accept a coupon: it is marked used and cannot be used again or cancelled.
#[utoipa::path(
    post,
    path = "/api/v1/shop/coupons/{code}/use",
    tag = "shop",
    security(("shop_key" = [])),
    params(("code" = String, Path)),
    responses(
        (status = 200, body = CouponStatus),
        (status = 401, description = "No key, or an unknown or revoked one"),
        (status = 403, description = "The key lacks `coupons:use`"),
        (status = 404, description = "No coupon with this code"),
        (status = 409, description = "Used before (`coupon_already_used`) or cancelled (`coupon_cancelled`)"),
    )
)]
pub async fn accept(
    caller: ShopCaller,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<CouponStatus>, ApiError> {
    caller.allow("coupons:use")?;
    let mut coupon = app::coupons::coupon_by_code(&state.pool, caller.program, &code)
        .await?
        .ok_or_else(unknown_code)?;
    // One command per key and redemption: a retry by the same till is a duplicate, not a refusal.
    let command_id = derived_id(&format!(
        "shop/{}/use/{}",
        caller.key_id, coupon.redemption_id
    ));
    let at: domain::Timestamp = chrono::Utc::now().into();
    let outcome = state
        .ledger()
        .use_coupon(
            caller.program,
            MemberId(coupon.member_id),
            RedemptionId(coupon.redemption_id),
            command_id,
            &format!("shop:{}", caller.key_id),
            at,
        )
        .await;
    match outcome {
        Ok(_) => {}
        // Another till or a manager accepted it first.
        Err(app::AppError::Denied(DomainError::CouponAlreadyUsed(_)))
            if app::reads::command_recorded(state.ledger().store(), command_id).await? => {}
        Err(e) => return Err(e.into()),
    }
    coupon.status = "used".into();
    coupon.used_at = coupon.used_at.or(Some(at.get()));
    Ok(Json(coupon))
}
