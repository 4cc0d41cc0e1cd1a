//! The managers' chat on the Rules page, in a real headless Chromium: an admin picks the group
//! the bot is in, sets the digest time, language and a threshold, sees it connected (in
//! English and in Russian), and disconnects it after confirming.

use super::browser::{as_admin, reopen, signed_in_at};
use crate::browser::Browser;
use app::managers_chat;
use sqlx::PgPool;

const STAFF_CHAT: &str = "-1009876543210";

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_connects_and_disconnects_the_managers_chat_from_the_rules_page(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = crate::harness::admin::AdminClient::new(pool).await;
    app::channels::record_bot_chat(
        &panel.app.pool,
        0,
        STAFF_CHAT,
        Some("supergroup"),
        Some("Staff room"),
        "member",
    )
    .await
    .unwrap();
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    let program = panel.app.t.program_id();

    reopen(&browser, &api, "#/rules").await;
    browser
        .execute(
            "if (I18n.lang !== 'en') document.getElementById('lang-switch').click();",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for_text("#managers-chat-state", "No managers' chat is connected.")
        .await
        .unwrap();
    let option = browser
        .text("#managers-chat-group option")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(option, format!("Staff room · {STAFF_CHAT}"));
    browser
        .execute(
            "document.getElementById('managers-chat-time').value = '08:30';\
             document.getElementById('managers-chat-language').value = 'en';",
            vec![],
        )
        .await
        .unwrap();
    let large = "#managers-chat-large-award-points";
    browser
        .execute(
            "document.querySelector(arguments[0]).value = '';",
            vec![serde_json::json!(large)],
        )
        .await
        .unwrap();
    browser.type_into(large, "250").await.unwrap();
    browser.click("#managers-chat-submit").await.unwrap();
    let state = browser
        .wait_for_text("#managers-chat-state", "Connected")
        .await
        .unwrap();
    assert!(
        state.contains("Staff room · -1009876543210")
            && state.contains("08:30 (Europe/Moscow)")
            && state.contains("English"),
        "{state}"
    );
    let chat = managers_chat::get(&panel.app.pool, program)
        .await
        .unwrap()
        .expect("connected");
    assert_eq!(chat.chat_id.to_string(), STAFF_CHAT);
    assert_eq!(chat.digest_time.format("%H:%M").to_string(), "08:30");
    assert_eq!(chat.thresholds.large_award_points, 250);
    assert_eq!(chat.updated_by, "manager:admin");
    browser
        .wait_for_text(".managers-change-row", "manager:admin")
        .await
        .unwrap();

    // In Russian.
    browser
        .execute("document.getElementById('lang-switch').click();", vec![])
        .await
        .unwrap();
    reopen(&browser, &api, "#/rules").await;
    browser
        .wait_for_text("#managers-chat h2", "Чат менеджеров")
        .await
        .unwrap();
    browser
        .wait_for_text("#managers-chat-state", "Подключён: Staff room")
        .await
        .unwrap();

    browser.click("#managers-chat-disconnect").await.unwrap();
    browser.wait_visible("#confirm-yes").await.unwrap();
    browser.click("#confirm-yes").await.unwrap();
    browser
        .wait_for_text("#managers-chat-state", "Чат менеджеров не подключён.")
        .await
        .unwrap();
    assert!(
        managers_chat::get(&panel.app.pool, program)
            .await
            .unwrap()
            .is_none()
    );
}
