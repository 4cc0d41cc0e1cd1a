//! What a member can spend points on: `GET rewards` (the catalog and their coupons) and
//! `POST rewards/{id}/redeem`, where the redemption id derives from (member, idempotency key),
//! so a double tap or a retried request records one redemption and one coupon.

use super::ErrorEnvelope;
use super::auth::Member;
use super::qr::{Qr, qr};
use crate::AppState;
use crate::error::ApiError;
use app::{AppError, Outcome};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::ids::{RedemptionId, RewardId};
use domain::member::MemberState;
use domain::reward::RewardState;
use domain::{DomainError, Event, StreamId};
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The header a client may send instead of the body field.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
const MAX_KEY_BYTES: usize = 128;
/// Coupons a member sees on the rewards screen.
const COUPONS_SHOWN: i64 = 20;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RewardsView {
    pub rewards: Vec<RewardView>,
    /// The member's coupons, newest first.
    pub coupons: Vec<Coupon>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RewardView {
    pub reward_id: Uuid,
    pub title: String,
    pub cost: i64,
    /// Units left.
    pub stock: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Coupon {
    pub redemption_id: Uuid,
    pub reward_id: Uuid,
    pub title: String,
    pub cost: i64,
    pub coupon_code: String,
    pub redeemed_at: DateTime<Utc>,
    pub cancelled: bool,
    /// When the shop accepted it; a used coupon is kept for the record.
    pub used_at: Option<DateTime<Utc>>,
    /// The code as a QR code to show at the till; `None` once cancelled or used.
    pub qr: Option<Qr>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct RedeemRequest {
    /// Any string unique to this tap (e.g. a UUID); or send the `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Redemption {
    pub redemption_id: Uuid,
    pub reward_id: Uuid,
    pub title: String,
    pub cost: i64,
    pub coupon_code: String,
    /// The member's balance after the redemption.
    pub balance: i64,
    pub redeemed_at: DateTime<Utc>,
    /// True when this key was redeemed before: nothing new was recorded.
    pub repeated: bool,
    /// The code as a QR code to show at the till.
    pub qr: Option<Qr>,
}

#[utoipa::path(
    get,
    path = "/api/v1/app/rewards",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, description = "Rewards on offer and the member's coupons", body = RewardsView),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn rewards(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<RewardsView>, ApiError> {
    let program = member.program_id().0;
    // Stock and coupons from one snapshot: the page subtracts the coupons the model has not
    // folded yet from the stock, which is only right if both were read at the same moment.
    let mut tx = state.pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let catalog = projections::rewards::rewards(&mut *tx, program)
        .await
        .map_err(ApiError::internal)?;
    let mine =
        projections::rewards::redemptions_of(&mut *tx, program, member.member_id.0, COUPONS_SHOWN)
            .await
            .map_err(ApiError::internal)?;
    tx.commit().await?;
    let coupons = mine
        .into_iter()
        .map(|r| Coupon {
            qr: (r.cancelled_at.is_none() && r.used_at.is_none())
                .then(|| qr(&r.coupon_code))
                .flatten(),
            title: catalog
                .iter()
                .find(|c| c.reward_id == r.reward_id)
                .map_or_else(String::new, |c| c.title.clone()),
            redemption_id: r.redemption_id,
            reward_id: r.reward_id,
            cost: r.cost,
            coupon_code: r.coupon_code,
            redeemed_at: r.redeemed_at,
            cancelled: r.cancelled_at.is_some(),
            used_at: r.used_at,
        })
        .collect();
    let rewards = catalog
        .into_iter()
        .filter(|r| !r.delisted)
        .map(|r| RewardView {
            reward_id: r.reward_id,
            title: r.title,
            cost: r.cost,
            stock: r.stock,
        })
        .collect();
    Ok(Json(RewardsView { rewards, coupons }))
}

#[utoipa::path(
    post,
    path = "/api/v1/app/rewards/{reward_id}/redeem",
    tag = "mini-app",
    security(("tma" = [])),
    params(
        ("reward_id" = Uuid, Path, description = "The reward to redeem"),
        ("Idempotency-Key" = Option<String>, Header, description = "Unique per tap; or the body's idempotency_key"),
    ),
    request_body(content = RedeemRequest, description = "Optional when the header is sent"),
    responses(
        (status = 200, description = "The coupon and the new balance (also for a repeated key)", body = Redemption),
        (status = 400, description = "No idempotency key", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such reward", body = ErrorEnvelope),
        (status = 409, description = "Insufficient balance, out of stock, not available, blocked, or the key was used for another reward", body = ErrorEnvelope),
    )
)]
pub async fn redeem(
    State(state): State<AppState>,
    member: Member,
    Path(reward_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Redemption>, ApiError> {
    let reward_id = reward_id
        .parse()
        .map(RewardId)
        .map_err(|_| ApiError::bad_request("the reward id is not a UUID"))?;
    let key = idempotency_key(&headers, &body)?;
    let redemption_id = RedemptionId(domain::ids::derived_id(&format!(
        "mini-app/redeem/{}/{key}",
        member.member_id
    )));
    let coupon = coupon_code();
    let outcome = state
        .ledger()
        .redeem_reward(
            member.program_id(),
            member.member_id,
            reward_id,
            redemption_id,
            &coupon,
            Utc::now().into(),
        )
        .await;
    let repeated = match outcome {
        Ok(Outcome::Recorded { .. }) => false,
        // Recorded before (a double tap): answer with what was recorded then.
        Ok(Outcome::Duplicate) | Err(AppError::Denied(DomainError::AlreadyExists)) => true,
        Ok(Outcome::Unchanged) => return Err(ApiError::internal("a redemption decided nothing")),
        Err(e) => return Err(e.into()),
    };
    recorded(&state, &member, reward_id, redemption_id, repeated)
        .await
        .map(Json)
}

/// The redemption as the log has it, with the member's balance now.
async fn recorded(
    state: &AppState,
    member: &Member,
    reward_id: RewardId,
    redemption_id: RedemptionId,
    repeated: bool,
) -> Result<Redemption, ApiError> {
    // The command's first event is RewardRedeemed, and its id is the command id.
    let logged = app::reads::first_event_of(state.ledger().store(), redemption_id.0)
        .await?
        .ok_or_else(|| ApiError::internal("a recorded redemption has no event"))?;
    let Event::RewardRedeemed {
        member_id,
        reward_id: redeemed,
        cost,
        coupon_code,
        at,
        ..
    } = logged.event
    else {
        return Err(ApiError::internal("a redemption id names another event"));
    };
    if member_id != member.member_id {
        return Err(ApiError::internal(
            "a redemption id names another member's event",
        ));
    }
    if redeemed != reward_id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_reused",
            "this idempotency key was already used to redeem another reward",
        ));
    }
    let ledger = state.ledger();
    let title = ledger
        .load::<RewardState>(&StreamId::Reward(reward_id))
        .await?
        .state
        .title;
    let balance = ledger
        .load::<MemberState>(&StreamId::Member(member.member_id))
        .await?
        .state
        .balance;
    Ok(Redemption {
        qr: qr(&coupon_code),
        redemption_id: redemption_id.0,
        reward_id: reward_id.0,
        title,
        cost,
        coupon_code,
        balance,
        redeemed_at: at.get(),
        repeated,
    })
}

/// The key from the header, else from the JSON body.
pub(super) fn idempotency_key(headers: &HeaderMap, body: &Bytes) -> Result<String, ApiError> {
    let from_header = headers
        .get(IDEMPOTENCY_HEADER)
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be text"))
        })
        .transpose()?;
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<RedeemRequest>(body)
            .map_err(|e| ApiError::bad_request(format!("the body is not a redeem request: {e}")))?
            .idempotency_key
    };
    let key = from_header
        .or(from_body)
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                "an idempotency key is required: send the Idempotency-Key header or \
                 `idempotency_key` in the body",
            )
        })?;
    if key.len() > MAX_KEY_BYTES {
        return Err(ApiError::bad_request(format!(
            "the idempotency key is longer than {MAX_KEY_BYTES} bytes"
        )));
    }
    Ok(key)
}

/// Letters and digits nobody confuses when reading a coupon aloud at a till.
const COUPON_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// `CPN-XXXX-XXXX`: 40 random bits.
pub fn coupon_code() -> String {
    let mut rng = rand::thread_rng();
    let mut part = || -> String {
        (0..4)
            .map(|_| COUPON_ALPHABET[rng.gen_range(0..COUPON_ALPHABET.len())] as char)
            .collect()
    };
    format!("CPN-{}-{}", part(), part())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coupons_are_readable() {
        let code = coupon_code();
        assert_eq!(code.len(), 13);
        assert!(code.starts_with("CPN-"));
        assert!(
            code[4..]
                .bytes()
                .all(|b| b == b'-' || COUPON_ALPHABET.contains(&b))
        );
    }

    #[test]
    fn the_header_wins_and_a_key_is_required() {
        let mut headers = HeaderMap::new();
        let body = Bytes::from_static(br#"{"idempotency_key":"body"}"#);
        assert_eq!(idempotency_key(&headers, &body).unwrap(), "body");
        headers.insert(IDEMPOTENCY_HEADER, "header".parse().unwrap());
        assert_eq!(idempotency_key(&headers, &body).unwrap(), "header");
        assert!(idempotency_key(&HeaderMap::new(), &Bytes::new()).is_err());
        assert!(idempotency_key(&HeaderMap::new(), &Bytes::from_static(b"{}")).is_err());
    }
}
