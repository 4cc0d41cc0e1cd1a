//! Tiers in the panel, in a real headless Chromium: an admin sets a ladder on the Rules page
//! (a wrong row is named before anything is sent), the change is said in words before saving,
//! the page then counts the members on each tier, and the member card shows the tier.

use super::browser::{as_admin, reopen, save_rules, signed_in_at, type_value};
use crate::browser::Browser;
use crate::harness::admin::AdminClient;
use crate::harness::anna_vk;
use crate::review::comment;
use sqlx::PgPool;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_sets_a_ladder_and_the_member_card_shows_the_tier(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    crate::tiers::put_tiers(&api, serde_json::json!({ "window_days": 0, "levels": [] })).await;
    for n in 1..=3 {
        panel.app.vk(comment(n, "wall_reply_new")).await;
    }

    reopen(&browser, &api, "#/rules").await;
    browser.wait_visible("#rules-tiers").await.unwrap();
    // A threshold without a name is refused beside the field.
    type_value(&browser, "tier-0-threshold", "20").await;
    let preview = browser.text("#rules-preview").await.unwrap().unwrap();
    assert!(
        preview.contains("Correct the fields marked above."),
        "{preview}"
    );
    assert_eq!(
        browser.text("#tier-0-name-error").await.unwrap().unwrap(),
        "Name the tier"
    );
    type_value(&browser, "tier-0-name", "Silver").await;
    type_value(&browser, "tier-0-multiplier", "150").await;
    type_value(&browser, "tier-1-name", "Gold").await;
    type_value(&browser, "tier-1-threshold", "50").await;
    type_value(&browser, "tier-1-multiplier", "200").await;
    let preview = browser.text("#rules-preview").await.unwrap().unwrap();
    assert!(
        preview.contains("Tiers: Silver from 20 (×1.5), Gold from 50 (×2) (were: none)"),
        "{preview}"
    );
    save_rules(&browser, 3).await;
    let rules = api.get(&api.path("/rules")).await.json();
    assert_eq!(
        rules["rules"]["tiers"]["levels"][1],
        serde_json::json!({ "name": "Gold", "threshold": 50, "multiplier_percent": 200 })
    );

    // The keeper places Anna (30 points) on Silver; the page counts her, her card names it.
    panel.app.drain().await;
    crate::harness::log_visible_to_readers(&panel.app.pool).await;
    let at = domain::Timestamp::new(chrono::Utc::now());
    let pass = app::tiers::keep_once(&panel.app.t.ledger, &panel.app.pool, at)
        .await
        .unwrap();
    assert_eq!(pass.moved, 1, "{pass:?}");
    panel.app.drain().await;
    reopen(&browser, &api, "#/rules").await;
    browser.wait_visible("#rules-tiers").await.unwrap();
    assert_eq!(browser.text("#tier-0-members").await.unwrap().unwrap(), "1");
    // The members list names the tier and finds the members on it.
    reopen(&browser, &api, "#/members?tier=1").await;
    browser.wait_visible("#filter-tier").await.unwrap();
    assert_eq!(browser.count(".member-row").await.unwrap(), 1);
    assert_eq!(
        browser
            .text(".member-row .member-tier")
            .await
            .unwrap()
            .unwrap(),
        "Silver"
    );
    reopen(&browser, &api, "#/members?tier=2").await;
    browser.wait_visible("#filter-tier").await.unwrap();
    assert_eq!(browser.count(".member-row").await.unwrap(), 0);
    let member = panel.app.member_of(&anna_vk()).await.unwrap();
    reopen(&browser, &api, &format!("#/members/{}", member.0)).await;
    browser.wait_visible("#member-tier").await.unwrap();
    assert_eq!(
        browser.text("#member-tier").await.unwrap().unwrap(),
        "Silver"
    );
    let history = browser.text("tr.history-row").await.unwrap().unwrap();
    assert!(
        history.contains("no tier → Silver at 30 points"),
        "{history}"
    );
    browser.quit().await;
}
