//! The program's own bot on the Rules page, in a real headless Chromium, against a fake Bot
//! API: an admin pastes the brand's token, sees the bot with its webhook and Mini App URLs
//! (never the token), and removes it after confirming.

use super::browser::{as_admin, reopen, signed_in_at};
use crate::browser::Browser;
use crate::harness::TestApp;
use crate::harness::admin::AdminClient;
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "7000000002:AAProgramBotB_ForTests_only-0042";

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_gives_the_program_its_own_bot_from_the_rules_page(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let telegram = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("/getMe$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true,
            "result": {"id": 7000000002_i64, "is_bot": true, "first_name": "Brand",
                       "username": "brand_b_bot"}})))
        .mount(&telegram)
        .await;
    let uri = telegram.uri();
    let app = TestApp::with_config(pool, |config, _| config.telegram.api_url = uri).await;
    let panel = AdminClient::on(Arc::new(app));
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;

    reopen(&browser, &api, "#/rules").await;
    browser
        .execute(
            "if (I18n.lang !== 'en') document.getElementById('lang-switch').click();",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for_text("#program-bot-none", "no bot of its own")
        .await
        .unwrap();
    browser
        .type_into("#program-bot-token", TOKEN)
        .await
        .unwrap();
    browser
        .click("#program-bot-form button[type=submit]")
        .await
        .unwrap();
    let shown = browser
        .wait_for_text("#program-bot", "@brand_b_bot (7000000002)")
        .await
        .unwrap();
    assert!(
        shown.contains("/webhooks/telegram/7000000002") && shown.contains("/app?bot=7000000002"),
        "{shown}"
    );
    assert!(!shown.contains("ProgramBotB"), "the token is never shown");
    browser
        .execute(
            "document.getElementById('program-bot').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    browser.screenshot("admin-program-bot").await.unwrap();
    let value = browser
        .execute(
            "return document.getElementById('program-bot-token').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(value, json!(""), "the field does not keep the token");

    browser
        .execute("window.confirm = () => true;", vec![])
        .await
        .unwrap();
    browser.click("#program-bot-remove").await.unwrap();
    browser
        .wait_for_text("#program-bot-none", "no bot of its own")
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM program_bots")
        .fetch_one(&panel.app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
