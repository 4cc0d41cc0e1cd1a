//! Coupon pools in the panel, in a real headless Chromium: an admin lists a reward whose codes
//! come from the shop, uploads them from a file, marks an issued coupon used, and makes a shop
//! key whose token is shown once.

use super::browser::{as_admin, recorded, reopen, signed_in_at};
use crate::browser::Browser;
use crate::harness::admin::AdminClient;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::ids::{RedemptionId, RewardId};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

/// Waits until `css` reads `needle`; returns its text.
async fn see(browser: &Browser, css: &str, needle: &str) -> String {
    browser.wait_for_text(css, needle).await.unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_uploads_codes_marks_a_coupon_used_and_makes_a_shop_key(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    let app = panel.app.clone();

    // Codes from the shop: no stock to give, the pool's options instead.
    reopen(&browser, &api, "#/rewards").await;
    let title = "Gift card";
    browser.type_into("#reward-title", title).await.unwrap();
    browser.type_into("#reward-cost", "100").await.unwrap();
    browser.click("#reward-pool").await.unwrap();
    let stock_shown = "return document.getElementById('reward-stock').getClientRects().length;";
    assert_eq!(browser.execute(stock_shown, vec![]).await.unwrap(), 0);
    browser.click("#reward-return-codes").await.unwrap();
    browser.type_into("#reward-low-stock", "2").await.unwrap();
    browser.click("#reward-submit").await.unwrap();
    see(&browser, "#toast", "Saved").await;
    api.drain().await;
    let terms = "SELECT reward_id, coupon_pool, return_codes, low_stock_alert FROM rewards";
    let (reward, pooled, returns, alert): (Uuid, bool, bool, Option<i32>) =
        sqlx::query_as(terms).fetch_one(&app.pool).await.unwrap();
    assert_eq!((pooled, returns, alert), (true, true, Some(2)));
    let (reward, page) = (RewardId(reward), format!("#/rewards/{reward}"));

    // A CSV with a header, as a till exports it.
    reopen(&browser, &api, &page).await;
    let file = std::env::temp_dir().join(format!("codes-{}.csv", Uuid::new_v4()));
    let csv = "code,value\nGIFT-001,500 RUB\nGIFT-002,500 RUB\nGIFT-003,500 RUB\n";
    std::fs::write(&file, csv).unwrap();
    let path = file.to_str().unwrap();
    browser.send_file("#codes-file", path).await.unwrap();
    let result = "Added 3 codes, 0 already in the pool";
    see(&browser, "#codes-result", result).await;
    std::fs::remove_file(&file).unwrap();
    let summary = "3 unused codes of 3 uploaded · 0 issued";
    see(&browser, "#reward-summary", summary).await;
    api.drain().await;
    let counts = "SELECT stock, codes_uploaded FROM rewards WHERE reward_id = $1";
    let stored = sqlx::query_as(counts).bind(reward.0).fetch_one(&app.pool);
    assert_eq!(stored.await.ok(), Some((3_i64, 3_i64)));

    // A member redeems; the admin marks the coupon used at the counter.
    let (program, member) = (app.t.program_id(), app.t.member_with(500).await);
    let redemption = RedemptionId(Uuid::new_v4());
    let now = chrono::Utc::now().into();
    let ledger = &app.t.ledger;
    let redeemed = ledger.redeem_reward(program, member, reward, redemption, "-", now);
    redeemed.await.unwrap();
    reopen(&browser, &api, &page).await;
    see(&browser, ".coupon-row", "GIFT-001").await;
    let low = see(&browser, "#reward-summary", "2 unused codes").await;
    assert!(low.contains("Low stock"), "{low}");
    browser.click(".coupon-row .mark-used").await.unwrap();
    let asked = "can no longer be cancelled";
    see(&browser, "#confirm-consequence", asked).await;
    browser.click("#confirm-yes").await.unwrap();
    recorded(&api, "CouponUsed").await;
    reopen(&browser, &api, &page).await;
    see(&browser, ".coupon-row", "Used ").await;
    assert_eq!(browser.count(".coupon-row button").await.unwrap(), 0);
    let coupons = api.path(&format!("/rewards/{}/coupons", reward.0));
    let coupon = api.get(&coupons).await.json()["coupons"][0].clone();
    assert!(coupon["used_at"].is_string(), "{coupon}");
    assert_eq!(coupon["used_by"], "manager:admin");
    browser.screenshot("admin-coupon-pool").await.unwrap();

    // A pool's stock is its codes: no "Change stock". A shop key: its token once, with where
    // it goes; the list never shows it again.
    reopen(&browser, &api, "#/rewards").await;
    see(&browser, ".reward-row", "2 of 3 codes").await;
    assert_eq!(browser.count(".reward-row .stock-delta").await.unwrap(), 0);
    browser.type_into("#shop-key-name", "Till 1").await.unwrap();
    browser.click("#shop-key-submit").await.unwrap();
    let token = see(&browser, "#shop-key-token", "lsk_")
        .await
        .trim()
        .to_string();
    let hint = browser.text("#shop-key-new").await.unwrap().unwrap();
    assert!(hint.contains("Shown only now"), "{hint}");
    see(&browser, ".shop-key-row", "Till 1").await;
    browser.screenshot("admin-shop-key").await.unwrap();
    let keys: Value = api.get(&api.path("/shop-keys")).await.json();
    assert_eq!(keys["keys"][0]["name"], "Till 1", "{keys}");
    assert_eq!(
        keys["keys"][0]["scopes"],
        json!(["coupons:read", "coupons:use"])
    );
    let check = Request::get("/api/v1/shop/coupons/GIFT-001")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let checked = app.send(check).await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.body);
    assert_eq!(checked.json()["status"], "used");
    reopen(&browser, &api, "#/rewards").await;
    let page = browser.text("#view").await.unwrap().unwrap();
    assert!(page.contains("Till 1") && !page.contains(&token), "{page}");
    browser.quit().await;
}
