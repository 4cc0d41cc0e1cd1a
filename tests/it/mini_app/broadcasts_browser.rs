//! The broadcasts switch in the Mini App, in headless Chromium at a phone's width: it shows the
//! member's setting as the server holds it (the bot's /stop flips the same one), and a tap turns
//! the brand's broadcasts off or on again on the server.

use crate::browser::Browser;
use crate::harness::TestServer;
use crate::harness::encode;
use crate::harness::mini_app::{MiniApp, anna};
use serde_json::json;
use sqlx::PgPool;

fn page_url(server: &TestServer, init_data: &str) -> String {
    let data = encode(init_data);
    server.url(&format!(
        "/app#tgWebAppData={data}&tgWebAppVersion=8.0&tgWebAppPlatform=android"
    ))
}

/// Waits until the switch shows the setting the server confirmed (`on` or `off`).
async fn shows(browser: &Browser, setting: &str) {
    let settled = format!(
        "(() => {{ const s = document.querySelector('#broadcasts-switch'); \
           return s && !s.disabled && s.dataset.saved === '{setting}' \
             && s.checked === {}; }})()",
        setting == "on"
    );
    browser.wait_for(&settled).await.unwrap();
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_member_turns_the_brands_broadcasts_off_and_on_again(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    let program = m.app.t.program_id();
    let server = m.app.serve().await;
    let pool = &m.app.pool;
    let opted_out = || app::broadcasts::opted_out(pool, program, member);
    assert!(!opted_out().await.unwrap());

    let phone = json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true});
    let metrics = "Emulation.setDeviceMetricsOverride";
    browser.cdp(metrics, phone).await.unwrap();
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser
        .click("#tabs button[data-tab=accounts]")
        .await
        .unwrap();
    shows(&browser, "on").await;
    let label = "label[for=broadcasts-switch]";
    browser
        .wait_for_text(label, "Рассылки бренда в боте")
        .await
        .unwrap();
    let hint = browser.text("label[for=broadcasts-switch] + .hint");
    assert!(hint.await.unwrap().unwrap().contains("/stop"));

    // A tap turns them off, on the server.
    browser.click("#broadcasts-switch").await.unwrap();
    shows(&browser, "off").await;
    assert!(opted_out().await.unwrap());
    browser
        .execute(
            "document.querySelector('#broadcasts-switch').scrollIntoView({block: 'center'});",
            vec![],
        )
        .await
        .unwrap();
    browser.screenshot("mini-app-broadcasts-ru").await.unwrap();

    // The page reads the server's setting: /resume in the bot (here, its effect) shows on.
    let now = chrono::Utc::now();
    app::broadcasts::set_opted_out(pool, program, member, false, now)
        .await
        .unwrap();
    browser.goto("about:blank").await.unwrap();
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser
        .click("#tabs button[data-tab=accounts]")
        .await
        .unwrap();
    shows(&browser, "on").await;

    // In English; off and on again.
    browser
        .click("#languages button[data-lang=en]")
        .await
        .unwrap();
    browser
        .wait_for_text(label, "News from the brand in the bot")
        .await
        .unwrap();
    browser.click("#broadcasts-switch").await.unwrap();
    shows(&browser, "off").await;
    assert!(opted_out().await.unwrap());
    browser.click("#broadcasts-switch").await.unwrap();
    shows(&browser, "on").await;
    assert!(!opted_out().await.unwrap());
    browser.screenshot("mini-app-broadcasts").await.unwrap();
    browser.quit().await;
}
