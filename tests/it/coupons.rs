//! Coupons a shop accepts: a pool of uploaded codes, issued once each under a crowd, checked
//! and accepted through a shop's API key or by a manager, returned or retired on cancel.

use crate::harness::admin::AdminClient;
use crate::harness::{Reply, TestApp, json_of};
use api::admin::Role;
use app::{AppError, Outcome};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use domain::DomainError;
use domain::ids::{MemberId, RedemptionId, RewardId};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::HashSet;
use uuid::Uuid;

/// Lists a coupon-pool reward through the panel; returns its id.
async fn pool_reward(panel: &AdminClient, return_codes: bool, alert: Option<u32>) -> RewardId {
    let body = json!({"title": "−15% online", "cost": 100, "coupon_pool": true,
        "return_codes": return_codes, "low_stock_alert": alert});
    let reply = panel
        .change(Method::POST, &panel.path("/rewards"), Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    RewardId(
        json_of(&reply)["created_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    )
}

/// Sends a codes file as the panel does.
async fn upload(panel: &AdminClient, reward: RewardId, file: &str) -> Reply {
    let request = Request::post(panel.path(&format!("/rewards/{}/codes", reward.0)))
        .header(header::COOKIE, panel.cookie.clone().unwrap())
        .header("x-csrf-token", panel.csrf.clone().unwrap())
        .header("idempotency-key", Uuid::new_v4().to_string())
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(file.to_string()))
        .unwrap();
    panel.app.send(request).await
}

async fn redeem(app: &TestApp, member: MemberId, reward: RewardId) -> Result<Outcome, AppError> {
    let program = app.t.program_id();
    let redemption = RedemptionId(Uuid::new_v4());
    let at = chrono::Utc::now().into();
    app.t
        .ledger
        .redeem_reward(program, member, reward, redemption, "GENERATED", at)
        .await
}

async fn stock(app: &TestApp, reward: RewardId) -> i64 {
    sqlx::query_scalar("SELECT stock FROM rewards WHERE reward_id = $1")
        .bind(reward.0)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn verify(app: &TestApp) {
    app.drain().await;
    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_thousand_concurrent_redemptions_never_issue_a_code_twice(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let app = panel.app.clone();
    let reward = pool_reward(&panel, false, None).await;
    let file: String = (0..600).map(|n| format!("SHOP-{n:04}\n")).collect();
    let reply = upload(&panel, reward, &file).await;
    assert_eq!(json_of(&reply), json!({"added": 600, "skipped": 0}));
    let mut members = Vec::new();
    for _ in 0..1_000 {
        members.push(app.t.member_with(100).await);
    }
    let attempts = members.iter().map(|&member| {
        let app = app.clone();
        tokio::spawn(async move { redeem(&app, member, reward).await })
    });
    let results = futures::future::join_all(attempts).await;
    let won = results
        .iter()
        .filter(|r| matches!(r, Ok(Ok(Outcome::Recorded { .. }))))
        .count();
    let out_of_stock = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(AppError::Denied(DomainError::RewardOutOfStock)))))
        .count();
    assert_eq!(
        (won, out_of_stock),
        (600, 400),
        "every attempt is answered, none is busy"
    );
    app.drain().await;
    let codes: Vec<String> = sqlx::query_scalar("SELECT coupon_code FROM reward_redemptions")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let distinct: HashSet<&String> = codes.iter().collect();
    assert_eq!((codes.len(), distinct.len()), (600, 600), "no code twice");
    assert!(
        codes.iter().all(|c| c.starts_with("SHOP-")),
        "only uploaded codes"
    );
    assert_eq!(stock(&app, reward).await, 0);
    verify(&app).await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_upload_skips_known_codes_and_a_bad_line_refuses_the_file(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let reward = pool_reward(&panel, false, None).await;
    let till = "discount;промокод\n15%;A-1\n15%;A-2\n";
    assert_eq!(
        json_of(&upload(&panel, reward, till).await),
        json!({"added": 2, "skipped": 0})
    );
    let again = upload(&panel, reward, "A-2\nA-3\nA-3\n").await;
    assert_eq!(json_of(&again), json!({"added": 1, "skipped": 2}));
    let before = panel.app.event_count().await;
    let bad = upload(&panel, reward, "B-1\nB 2\n").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.code(), "invalid_codes_file");
    assert!(bad.body.contains("line 2"), "{}", bad.body);
    assert_eq!(
        panel.app.event_count().await,
        before,
        "nothing from a bad file"
    );
    panel.drain().await;
    assert_eq!(stock(&panel.app, reward).await, 3);
    let stock_change = panel
        .change(
            Method::POST,
            &panel.path(&format!("/rewards/{}/stock", reward.0)),
            Some(json!({"delta": 5})),
        )
        .await;
    assert_eq!(stock_change.code(), "coupon_pool_stock");
    let plain = panel
        .change(
            Method::POST,
            &panel.path("/rewards"),
            Some(json!({"title": "Mug", "cost": 10, "stock": 3})),
        )
        .await;
    let plain = RewardId(
        json_of(&plain)["created_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    );
    assert_eq!(
        upload(&panel, plain, "X1\n").await.code(),
        "not_a_coupon_pool"
    );
    let logged: Vec<Value> = sqlx::query_scalar(
        "SELECT details FROM manager_actions WHERE action = 'RewardCodesAdded' ORDER BY position",
    )
    .fetch_all(&panel.app.pool)
    .await
    .unwrap();
    let counts: Vec<&Value> = logged.iter().map(|d| &d["codes_added"]).collect();
    assert_eq!(counts, [&json!(2), &json!(1)]);
    assert!(
        logged.iter().all(|d| d.get("codes").is_none()),
        "the audit log holds no codes"
    );
    verify(&panel.app).await;
}

/// A shop key with `scopes`, made through the panel.
async fn shop_key(panel: &AdminClient, scopes: &[&str]) -> (Uuid, String) {
    let body = json!({"name": "Till 1", "scopes": scopes});
    let reply = panel
        .change(Method::POST, &panel.path("/shop-keys"), Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let key = json_of(&reply);
    (
        key["key_id"].as_str().unwrap().parse().unwrap(),
        key["token"].as_str().unwrap().to_string(),
    )
}

async fn shop(app: &TestApp, method: Method, code: &str, token: &str) -> Reply {
    let path = match method {
        Method::GET => format!("/api/v1/shop/coupons/{code}"),
        _ => format!("/api/v1/shop/coupons/{code}/use"),
    };
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_shop_checks_and_accepts_a_coupon_once_with_its_key(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let app = panel.app.clone();
    let reward = pool_reward(&panel, false, None).await;
    upload(&panel, reward, "CODE-1\nCODE-2\n").await;
    let member = app.t.member_with(300).await;
    redeem(&app, member, reward).await.unwrap();
    app.drain().await;
    let (key_id, token) = shop_key(&panel, &["coupons:read", "coupons:use"]).await;
    assert!(token.starts_with("lsk_") && token.len() == 68, "{token}");

    let checked = json_of(&shop(&app, Method::GET, "CODE-1", &token).await);
    assert_eq!(
        (checked["status"].as_str(), checked["reward_title"].as_str()),
        (Some("issued"), Some("−15% online"))
    );
    let used = shop(&app, Method::POST, "CODE-1", &token).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    assert_eq!(json_of(&used)["status"], "used");
    let retry = shop(&app, Method::POST, "CODE-1", &token).await;
    assert_eq!(
        retry.status,
        StatusCode::OK,
        "the same till retrying succeeds: {}",
        retry.body
    );
    assert_eq!(app.events_of_type("CouponUsed").await, 1, "accepted once");
    let (_, other_till) = shop_key(&panel, &["coupons:use"]).await;
    let second = shop(&app, Method::POST, "CODE-1", &other_till).await;
    assert_eq!(
        (second.status, second.code().as_str()),
        (StatusCode::CONFLICT, "coupon_already_used")
    );
    app.drain().await;
    let checked = json_of(&shop(&app, Method::GET, "CODE-1", &token).await);
    assert_eq!(checked["status"], "used");
    let used_by: String = sqlx::query_scalar("SELECT used_by FROM reward_redemptions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(used_by, format!("shop:{key_id}"));

    // A used coupon is not cancelled (the shop gave the discount).
    let redemption: Uuid = sqlx::query_scalar("SELECT redemption_id FROM reward_redemptions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let cancel = panel
        .change(
            Method::POST,
            &panel.path(&format!("/redemptions/{redemption}/cancel")),
            Some(json!({"reason": "late"})),
        )
        .await;
    assert_eq!(cancel.code(), "coupon_already_used");

    // Refusals change nothing.
    assert_eq!(
        shop(&app, Method::GET, "NO-SUCH", &token).await.code(),
        "unknown_coupon"
    );
    assert_eq!(
        shop(&app, Method::GET, "CODE-1", &other_till).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        shop(&app, Method::GET, "CODE-1", "lsk_forged").await.status,
        StatusCode::UNAUTHORIZED
    );
    let bare = Request::get("/api/v1/shop/coupons/CODE-1")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(bare).await.status, StatusCode::UNAUTHORIZED);
    let revoke = panel
        .change(
            Method::POST,
            &panel.path(&format!("/shop-keys/{key_id}/revoke")),
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::OK, "{}", revoke.body);
    assert_eq!(
        shop(&app, Method::GET, "CODE-1", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let keys = json_of(&panel.get(&panel.path("/shop-keys")).await);
    let listed: Vec<&Value> = keys["keys"].as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 2);
    assert!(
        !keys.to_string().contains(&token),
        "the key is never shown again"
    );
    let export = app::personal_data::export(&app.t.ledger, &app.pool, app.t.program_id(), member)
        .await
        .unwrap();
    assert!(
        export.redemptions[0].used_at.is_some(),
        "the member's copy says when it was used"
    );
    verify(&app).await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_manager_marks_a_coupon_used_and_a_cancelled_code_returns_by_the_rewards_setting(
    pool: PgPool,
) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let app = panel.app.clone();
    let returning = pool_reward(&panel, true, Some(1)).await;
    upload(&panel, returning, "R-1\nR-2\n").await;
    let member = app.t.member_with(1_000).await;
    redeem(&app, member, returning).await.unwrap();
    app.drain().await;
    assert_eq!(
        app.events_of_type("RewardStockLow").await,
        1,
        "one code left: the alert fired"
    );
    let first: Uuid = sqlx::query_scalar(
        "SELECT redemption_id FROM reward_redemptions WHERE coupon_code = 'R-1'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let cancel = panel
        .change(
            Method::POST,
            &panel.path(&format!("/redemptions/{first}/cancel")),
            Some(json!({"reason": "wrong size"})),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
    // R-2 is next, then R-1 again, back in the pool.
    redeem(&app, member, returning).await.unwrap();
    redeem(&app, member, returning).await.unwrap();
    app.drain().await;
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT coupon_code FROM reward_redemptions WHERE cancelled_at IS NULL ORDER BY redeemed_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(codes, ["R-2", "R-1"]);
    let (redemption,): (Uuid,) =
        sqlx::query_as("SELECT redemption_id FROM reward_redemptions WHERE coupon_code = 'R-2'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let path = panel.path(&format!("/redemptions/{redemption}/use"));
    let used = panel
        .change_keyed(Method::POST, &path, None, "use-once")
        .await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    let again = panel
        .change_keyed(Method::POST, &path, None, "use-once")
        .await;
    assert_eq!(json_of(&again)["outcome"], "duplicate");
    let twice = panel.change(Method::POST, &path, None).await;
    assert_eq!(twice.code(), "coupon_already_used");
    app.drain().await;
    let coupons = json_of(
        &panel
            .get(&panel.path(&format!("/rewards/{}/coupons", returning.0)))
            .await,
    );
    let row = coupons["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["coupon_code"] == "R-2")
        .unwrap();
    assert_eq!(row["used_by"], "manager:manager1");
    verify(&app).await;
}
