//! The review queue in the panel, in a real headless Chromium: held awards are listed with why
//! they were held, a manager approves one (the member is paid) and rejects the other with a
//! reason; the Rules page edits the review settings.

use super::browser::{as_admin, recorded, reopen, save_rules, signed_in_at, type_value};
use crate::browser::Browser;
use crate::harness::admin::AdminClient;
use crate::harness::anna_vk;
use crate::review::{comment, one_award_a_minute};
use sqlx::PgPool;

/// Waits (up to 10 s) until Anna's balance is `points`: the page's request commits (which
/// `recorded` sees) a moment before its task puts the new state in the shared stream cache.
async fn balance_becomes(panel: &AdminClient, points: i64) {
    for _ in 0..200 {
        if panel.app.balance_of(&anna_vk()).await == points {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(panel.app.balance_of(&anna_vk()).await, points);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_manager_approves_one_held_award_and_rejects_another(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    one_award_a_minute(&api).await;
    for n in 1..=3 {
        panel.app.vk(comment(n, "wall_reply_new")).await;
    }
    assert_eq!(panel.app.balance_of(&anna_vk()).await, 10);
    reopen(&browser, &api, "#/review").await;
    assert_eq!(browser.count(".review-row").await.unwrap(), 2);
    let why = browser
        .text(".review-row .review-hold")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(why, "Too many awards in a minute");

    browser.click(".review-row .review-approve").await.unwrap();
    recorded(&panel, "HeldAwardApproved").await;
    balance_becomes(&panel, 20).await;
    reopen(&browser, &api, "#/review").await;
    assert_eq!(browser.count(".review-row").await.unwrap(), 1);

    browser.click(".review-row .review-reject").await.unwrap();
    let warned = browser.text("#reason-consequence").await.unwrap().unwrap();
    assert!(warned.contains("cannot be approved later"), "{warned}");
    browser
        .type_into("#reason-input", "one script, many comments")
        .await
        .unwrap();
    browser.click("#reason-confirm").await.unwrap();
    recorded(&panel, "HeldAwardRejected").await;
    assert_eq!(panel.app.balance_of(&anna_vk()).await, 20);
    reopen(&browser, &api, "#/review").await;
    browser.wait_visible("#review-empty").await.unwrap();

    // Two more held awards, rejected together: tick all, one reason.
    for n in 4..=6 {
        panel.app.vk(comment(n, "wall_reply_new")).await;
    }
    reopen(&browser, &api, "#/review").await;
    assert_eq!(browser.count(".review-row").await.unwrap(), 3);
    browser.click("#review-pick-all").await.unwrap();
    let button = browser
        .text("#review-reject-picked")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(button, "Reject chosen (3)");
    browser.click("#review-reject-picked").await.unwrap();
    browser
        .type_into("#reason-input", "the same farm")
        .await
        .unwrap();
    browser.click("#reason-confirm").await.unwrap();
    browser.wait_visible("#review-empty").await.unwrap();
    assert_eq!(panel.app.events_of_type("HeldAwardRejected").await, 4);
    assert_eq!(panel.app.balance_of(&anna_vk()).await, 20);

    reopen(&browser, &api, "#/review?status=all").await;
    let statuses = browser.text("#review-table tbody").await.unwrap().unwrap();
    assert!(
        statuses.contains("Approved") && statuses.contains("Rejected"),
        "{statuses}"
    );
    assert!(statuses.contains("one script, many comments"), "{statuses}");

    // The Rules page shows the review settings and saves a change to one of them.
    reopen(&browser, &api, "#/rules").await;
    let per_minute = browser
        .execute(
            "return document.getElementById('rules-review-per_minute').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(per_minute, "1");
    type_value(&browser, "rules-review-per_hour", "30").await;
    let preview = browser.text("#rules-preview").await.unwrap().unwrap();
    assert!(
        preview.contains("this many awards an hour: 30 instead of none"),
        "{preview}"
    );
    save_rules(&browser, 3).await;
    let rules = api.get(&api.path("/rules")).await.json();
    assert_eq!(rules["rules"]["review"]["per_hour"], 30);
    assert_eq!(rules["rules"]["review"]["per_minute"], 1, "kept");
}
