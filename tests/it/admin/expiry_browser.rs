//! Expiry in the panel, in a real headless Chromium: an admin sets the expiry period and the
//! warning on the Rules page (a period past ten years is refused beside the field), the change
//! is said in words before saving, and the member card tells when the member's points expire
//! and, once they have, how many did.

use super::browser::{as_admin, reopen, save_rules, signed_in_at, type_value};
use crate::browser::Browser;
use crate::harness::admin::AdminClient;
use crate::harness::anna_vk;
use crate::review::comment;
use chrono::Duration;
use sqlx::PgPool;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_sets_expiry_and_the_member_card_tells_when_points_expire(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    panel.app.vk(comment(1, "wall_reply_new")).await;

    reopen(&browser, &api, "#/rules").await;
    browser
        .wait_visible("#rules-expiry-after_days")
        .await
        .unwrap();
    type_value(&browser, "rules-expiry-after_days", "4000").await;
    let preview = browser.text("#rules-preview").await.unwrap().unwrap();
    assert!(
        preview.contains("Correct the fields marked above."),
        "{preview}"
    );
    type_value(&browser, "rules-expiry-after_days", "30").await;
    type_value(&browser, "rules-expiry-warn_days", "7").await;
    let preview = browser.text("#rules-preview").await.unwrap().unwrap();
    assert!(
        preview.contains("Points expire this long after they were earned: 30"),
        "{preview}"
    );
    save_rules(&browser, 2).await;
    let rules = api.get(&api.path("/rules")).await.json();
    assert_eq!(
        rules["rules"]["expiry"],
        serde_json::json!({ "after_days": 30, "warn_days": 7 })
    );

    let member = panel.app.member_of(&anna_vk()).await.unwrap();
    reopen(&browser, &api, &format!("#/members/{}", member.0)).await;
    browser.wait_visible("#member-next-expiry").await.unwrap();
    let next = browser.text("#member-next-expiry").await.unwrap().unwrap();
    assert!(next.starts_with("next: 10 on "), "{next}");

    // A month on, the job expires them: the card counts them, and the history says so.
    let at = domain::Timestamp::new(chrono::Utc::now() + Duration::days(31));
    let look = panel.app.t.ledger.keep_expiry(member, at).await.unwrap();
    assert_eq!(look.expired, 1);
    reopen(&browser, &api, &format!("#/members/{}", member.0)).await;
    browser.wait_visible("#member-expired").await.unwrap();
    assert_eq!(
        browser.text("#member-expired").await.unwrap().unwrap(),
        "10"
    );
    let history = browser.text("tr.history-row").await.unwrap().unwrap();
    assert!(history.contains("Points expired"), "{history}");
    browser.quit().await;
}
