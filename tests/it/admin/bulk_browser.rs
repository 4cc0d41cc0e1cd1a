//! Bulk adjustments in the panel, in a real headless Chromium: a manager checks a file with a
//! bad row (named by its line, nothing applied), checks the fixed file, applies it, and
//! reverses it as a whole.

use super::browser::{as_admin, reopen, signed_in_at};
use crate::browser::Browser;
use crate::harness::admin::AdminClient;
use sqlx::PgPool;
use uuid::Uuid;

async fn adjustments(panel: &AdminClient) -> i64 {
    panel
        .count("SELECT count(*) FROM events WHERE event_type = 'PointsAdjusted'")
        .await
}

/// Writes `csv` to a temporary file and hands it to the page's file input.
async fn choose(browser: &Browser, csv: &str) {
    let file = std::env::temp_dir().join(format!("bulk-{}.csv", Uuid::new_v4()));
    std::fs::write(&file, csv).unwrap();
    browser
        .send_file("#bulk-file", file.to_str().unwrap())
        .await
        .unwrap();
    browser
        .wait_visible("#bulk-dry-run, #bulk-error")
        .await
        .unwrap();
    std::fs::remove_file(&file).unwrap();
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_manager_checks_applies_and_reverses_a_file(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    let anna = panel.app.t.member_with(50).await;
    let boris = panel.app.t.member_with(10).await;
    let before = adjustments(&panel).await;
    reopen(&browser, &api, "#/bulk").await;

    let bad = format!("member;points;reason\n{anna};20;prize\n{boris};-40;correction\n");
    choose(&browser, &bad).await;
    let listed = browser
        .wait_for_text(".bulk-bad tbody", "balance of 10")
        .await
        .unwrap();
    assert!(listed.starts_with('3'), "line 3 is named: {listed}");
    assert_eq!(browser.count("#bulk-apply").await.unwrap(), 0);
    assert_eq!(adjustments(&panel).await, before);

    let good =
        format!("member;points;reason;note\n{anna};20;prize;Well done\n{boris};-4;correction;\n");
    choose(&browser, &good).await;
    browser
        .wait_for_text("#bulk-summary", "2 rows for 2 members")
        .await
        .unwrap();
    browser.click("#bulk-apply").await.unwrap();
    browser.click("#confirm-yes").await.unwrap();
    browser
        .wait_for_text(".bulk-status", "Applied")
        .await
        .unwrap();
    assert_eq!(adjustments(&panel).await, before + 2);
    assert_eq!(panel.app.t.balance(anna).await, 70);
    assert_eq!(panel.app.t.balance(boris).await, 6);

    browser.click(".bulk-reverse").await.unwrap();
    browser
        .type_into("#reason-input", "sent to the wrong members")
        .await
        .unwrap();
    browser.click("#reason-confirm").await.unwrap();
    browser
        .wait_for_text(".bulk-status", "Reversed")
        .await
        .unwrap();
    assert_eq!(panel.app.t.balance(anna).await, 50);
    assert_eq!(panel.app.t.balance(boris).await, 10);
    assert_eq!(adjustments(&panel).await, before + 4);
}
