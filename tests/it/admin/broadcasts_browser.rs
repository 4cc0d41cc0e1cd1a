//! Broadcasts in the panel, in a real headless Chromium, over the bot with a fake Bot API: a
//! manager composes one (the reach follows the filters, a refused field says why beside it),
//! confirms "Send to N members?", and the list shows it; once the sender ran, the page shows it
//! done with each outcome counted, and its recipients by outcome. A scheduled one is stopped
//! from the list. An auditor reads the list without the form or Stop.

use crate::bot::support::{ANNA, BotApp, bot_path, private};
use crate::browser::Browser;
use crate::harness::TestServer;
use crate::harness::admin::{AdminClient, PASSWORD};
use api::admin::{Role, create_user};
use axum::http::{Method, StatusCode};
use bot::broadcasts::BroadcastSender;
use clients::RateLimiter;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const BORIS: i64 = 5_000_000_002;
const VERA: i64 = 5_000_000_003;
/// Markup in the text is the manager's words, shown as typed, never as HTML.
const TEXT: &str =
    "Weekend <b>sale</b>: <img src=x onerror=alert(1)> double points on every comment!";

async fn see(browser: &Browser, css: &str, needle: &str) -> String {
    browser.wait_for_text(css, needle).await.unwrap()
}

async fn count(browser: &Browser, css: &str) -> u64 {
    browser.count(css).await.unwrap()
}

/// The bot with Anna, Boris and Vera having started it (Boris blocks it before any broadcast),
/// and the panel served on the same application.
async fn setup(pool: PgPool) -> (BotApp, AdminClient, TestServer) {
    let bot = BotApp::new(pool).await;
    for (n, user) in [ANNA, BORIS, VERA].into_iter().enumerate() {
        let status = bot
            .webhook(private(100 + n as i64, user, "/start", "en"))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    bot.answer().await;
    bot.project().await;
    Mock::given(method("POST"))
        .and(path(bot_path("sendMessage")))
        .and(body_partial_json(json!({"chat_id": BORIS})))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "ok": false, "error_code": 403,
            "description": "Forbidden: bot was blocked by the user"})))
        .with_priority(1)
        .mount(&bot.telegram)
        .await;
    let panel = AdminClient::on(bot.app.clone());
    let server = panel.app.serve().await;
    (bot, panel, server)
}

/// Signs `username` in through the login page at 1280 pixels and waits for the menu.
async fn sign_in(browser: &Browser, server: &TestServer, username: &str) {
    browser.set_window_size(1280, 1000).await.unwrap();
    browser.goto(&server.url("/admin")).await.unwrap();
    // The panel in English, whatever the machine's language (the button switches it).
    let english = "localStorage.setItem('admin.lang', 'en');";
    browser.execute(english, vec![]).await.unwrap();
    browser.type_into("#username", username).await.unwrap();
    browser.type_into("#password", PASSWORD).await.unwrap();
    browser.click("#login-submit").await.unwrap();
    see(browser, "#whoami", username).await;
    browser.wait_visible("#nav").await.unwrap();
}

/// The API as `username` (of `role`, created here) sees it.
async fn account(panel: &AdminClient, username: &str, role: Role) -> AdminClient {
    create_user(&panel.app.pool, "test", username, PASSWORD, role)
        .await
        .unwrap();
    let mut api = panel.browser();
    assert_eq!(api.login(username, PASSWORD).await.status, StatusCode::OK);
    api
}

/// Opens `hash` and waits until the panel drew it.
async fn open(browser: &Browser, hash: &str) {
    let target = serde_json::to_string(hash).unwrap();
    let go = format!("location.hash = {target};");
    browser.execute(&go, vec![]).await.unwrap();
    let drawn = format!("document.body.dataset.ready === {target}");
    browser.wait_for(&drawn).await.unwrap();
}

async fn broadcasts(api: &AdminClient) -> Vec<Value> {
    let list = api.get(&api.path("/broadcasts")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.json()["broadcasts"].as_array().unwrap().clone()
}

/// Waits for the reach figure to say `n` members (it is read 400 ms after the last change).
async fn reach(browser: &Browser, n: u32) {
    let settled = format!(
        "(() => {{ const r = document.querySelector('#broadcast-reach'); \
           return r && !r.classList.contains('stale') && r.dataset.recipients === '{n}'; }})()"
    );
    browser.wait_for(&settled).await.unwrap();
}

/// Scrolls the list into view (below the form), for a screenshot of it.
async fn show_list(browser: &Browser) {
    let script = "document.querySelector('#broadcast-list').scrollIntoView({block: 'start'});";
    browser.execute(script, vec![]).await.unwrap();
}

/// Sets a field's value as typing would, firing `event` (`input` or `change`).
async fn set(browser: &Browser, css: &str, value: &str, event: &str) {
    let script = "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
                  e.dispatchEvent(new Event(arguments[2], { bubbles: true }));";
    let args = vec![json!(css), json!(value), json!(event)];
    browser.execute(script, args).await.unwrap();
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_manager_composes_a_broadcast_and_follows_it_until_done(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let (bot, panel, server) = setup(pool).await;
    let api = account(&panel, "manager1", Role::Manager).await;
    sign_in(&browser, &server, "manager1").await;
    see(&browser, "#nav", "Broadcasts").await;
    browser.click("#nav a[data-page=broadcasts]").await.unwrap();
    browser
        .wait_for("document.body.dataset.ready === '#/broadcasts'")
        .await
        .unwrap();
    see(&browser, "#broadcast-list", "No broadcasts yet.").await;

    // The reach: all three can be written to; nobody has a VK account; all three again.
    reach(&browser, 3).await;
    see(&browser, "#broadcast-reach", "Will reach 3 members").await;
    set(&browser, "#broadcast-network", "vk", "change").await;
    reach(&browser, 0).await;
    set(&browser, "#broadcast-network", "", "change").await;
    set(&browser, "#broadcast-active-days", "30", "input").await;
    reach(&browser, 3).await;

    // The counter: 4,096 for a message, 1,024 once an image makes the text a caption.
    browser.type_into("#broadcast-text", TEXT).await.unwrap();
    let length = TEXT.encode_utf16().count();
    see(&browser, "#broadcast-count", &format!("{length} / 4,096")).await;
    let image = "http://cdn.example/poster.jpg";
    browser.type_into("#broadcast-image", image).await.unwrap();
    see(&browser, "#broadcast-count", &format!("{length} / 1,024")).await;
    let label = browser.execute(
        "return document.querySelector('#broadcast-button-label').value;",
        vec![],
    );
    assert_eq!(label.await.unwrap(), "Open the app");

    // Asked first with the reach; the server refuses the plain-http image, said beside it.
    browser.click("#broadcast-submit").await.unwrap();
    see(&browser, "#confirm-dialog h2", "Send to 3 members?").await;
    browser.click("#confirm-yes").await.unwrap();
    let refused = "An image must be a public https:// address.";
    see(&browser, "#broadcast-image-error", refused).await;
    assert_eq!(
        count(&browser, "#broadcast-image[aria-invalid=true]").await,
        1
    );
    assert!(broadcasts(&api).await.is_empty());

    // Without the image: asked again, and "no" sends nothing.
    set(&browser, "#broadcast-image", "", "input").await;
    see(&browser, "#broadcast-count", &format!("{length} / 4,096")).await;
    browser.click("#broadcast-submit").await.unwrap();
    see(&browser, "#confirm-dialog h2", "Send to 3 members?").await;
    browser.click("#confirm-no").await.unwrap();
    assert!(broadcasts(&api).await.is_empty());
    browser.click("#broadcast-submit").await.unwrap();
    see(&browser, "#confirm-dialog h2", "Send to 3 members?").await;
    browser.click("#confirm-yes").await.unwrap();

    // Listed at once, due, with the text as typed (no markup made of it).
    see(
        &browser,
        "#broadcast-list",
        "double points on every comment!",
    )
    .await;
    let list = broadcasts(&api).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let sent = &list[0];
    assert_eq!(sent["text"], TEXT);
    assert_eq!(sent["button_label"], "Open the app");
    assert_eq!(sent["audience"], json!({"active_days": 30}));
    assert_eq!(sent["created_by"], "manager:manager1");
    let id = sent["broadcast_id"].as_str().unwrap().to_string();
    let card = format!(".broadcast[data-broadcast-id='{id}']");
    see(&browser, &format!("{card} .broadcast-text"), TEXT).await;
    let markup = format!("{card} .broadcast-text *");
    assert_eq!(count(&browser, &markup).await, 0);
    see(&browser, &format!("{card} .broadcast-audience"), "30 days").await;
    assert_eq!(count(&browser, &format!("{card} .broadcast-stop")).await, 1);

    // The sender delivers it; the page, reading every 2 s, shows it done with the outcomes.
    let limit = Arc::new(RateLimiter::new(1000, Duration::from_secs(1)));
    let mut sender = BroadcastSender::start(bot.bot.clone(), limit)
        .await
        .unwrap();
    sender.drain().await.unwrap();
    let done = format!("{card}[data-status=done]");
    browser.wait_visible(&done).await.unwrap();
    see(&browser, &format!("{card} .broadcast-status"), "done").await;
    let outcome = |o: &str| format!("{card} .broadcast-count[data-outcome={o}] strong");
    for (o, n) in [
        ("sent", "2"),
        ("blocked", "1"),
        ("failed", "0"),
        ("pending", "0"),
    ] {
        assert_eq!(browser.text(&outcome(o)).await.unwrap().unwrap(), n, "{o}");
    }
    see(
        &browser,
        &format!("{card} .broadcast-counts"),
        "of 3 recipients",
    )
    .await;
    assert_eq!(
        count(&browser, &format!("{card} .broadcast-bar .seg")).await,
        2
    );
    assert_eq!(count(&browser, &format!("{card} .broadcast-stop")).await, 0);
    let listed = broadcasts(&api).await;
    assert_eq!(
        listed[0]["progress"],
        json!({"recipients": 3, "pending": 0, "sent": 2, "blocked": 1, "failed": 0, "unknown": 0})
    );
    show_list(&browser).await;
    browser.screenshot("admin-broadcasts").await.unwrap();

    // Its recipients, by outcome: Boris blocked the bot.
    browser
        .click(&format!("{card} a.broadcast-details"))
        .await
        .unwrap();
    let details = format!("#/broadcasts/{id}");
    browser
        .wait_for(&format!("document.body.dataset.ready === '{details}'"))
        .await
        .unwrap();
    see(&browser, "#broadcast-summary", "double points").await;
    assert_eq!(count(&browser, "tr.broadcast-recipient").await, 3);
    browser
        .click("#broadcast-filter a[data-status=blocked]")
        .await
        .unwrap();
    browser
        .wait_for(&format!(
            "document.body.dataset.ready === '{details}?status=blocked'"
        ))
        .await
        .unwrap();
    assert_eq!(count(&browser, "tr.broadcast-recipient").await, 1);
    let boris = bot::members::telegram_identity(BORIS);
    let boris = panel.app.member_of(&boris).await.unwrap();
    let row = format!("tr.broadcast-recipient a[href='#/members/{}']", boris.0);
    assert_eq!(count(&browser, &row).await, 1);
    see(&browser, "tr.broadcast-recipient", "Bot blocked").await;
    open(&browser, &format!("{details}?status=sent")).await;
    assert_eq!(count(&browser, "tr.broadcast-recipient").await, 2);
    browser
        .screenshot("admin-broadcast-recipients")
        .await
        .unwrap();

    // One for tomorrow's morning, scheduled through the form, then stopped from the list.
    open(&browser, "#/broadcasts").await;
    browser
        .type_into("#broadcast-text", "See you tomorrow")
        .await
        .unwrap();
    browser.click("#broadcast-later").await.unwrap();
    see(&browser, "#broadcast-submit", "Schedule").await;
    browser.click("#broadcast-submit").await.unwrap();
    see(&browser, "#confirm-dialog h2", "Schedule for 2 members?").await;
    browser.click("#confirm-yes").await.unwrap();
    see(&browser, "#broadcast-list", "See you tomorrow").await;
    let later = broadcasts(&api).await;
    assert_eq!(later.len(), 2);
    let (later_id, at) = (
        later[0]["broadcast_id"].as_str().unwrap().to_string(),
        later[0]["send_at"].as_str().unwrap().to_string(),
    );
    let at = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
    let ahead = at.signed_duration_since(chrono::Utc::now());
    assert!(
        ahead > chrono::Duration::minutes(50) && ahead < chrono::Duration::minutes(61),
        "an hour ahead by default: {at}"
    );
    let card = format!(".broadcast[data-broadcast-id='{later_id}']");
    see(
        &browser,
        &format!("{card} .broadcast-status"),
        "scheduled for",
    )
    .await;
    show_list(&browser).await;
    browser
        .screenshot("admin-broadcasts-scheduled")
        .await
        .unwrap();
    browser
        .click(&format!("{card} .broadcast-stop"))
        .await
        .unwrap();
    see(
        &browser,
        "#confirm-consequence",
        "Nothing has been sent yet",
    )
    .await;
    browser.click("#confirm-yes").await.unwrap();
    see(&browser, &format!("{card} .broadcast-status"), "stopped").await;
    see(&browser, &format!("{card} .broadcast-facts"), "by manager1").await;
    let never = "Stopped before sending: nobody got it.";
    see(&browser, &format!("{card} .broadcast-progress"), never).await;
    assert_eq!(broadcasts(&api).await[0]["status"], "stopped");
    // A finished one cannot be stopped (the panel offers no Stop for it).
    let late = api.path(&format!("/broadcasts/{id}/stop"));
    let late = api.change(Method::POST, &late, None).await;
    assert_eq!(late.code(), "broadcast_finished");

    // The same page in Russian.
    browser.click("#lang-switch").await.unwrap();
    see(&browser, "#nav", "Рассылки").await;
    see(&browser, "#broadcast-reach", "Получат участников: 2").await;
    see(&browser, "#broadcast-list", "завершена").await;
    see(&browser, "#broadcast-list", "Отправлено: 2").await;
    show_list(&browser).await;
    browser.screenshot("admin-broadcasts-ru").await.unwrap();
    browser.quit().await;
}

/// An auditor reads the broadcasts and their recipients, but neither composes nor stops one.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_auditor_sees_the_broadcasts_without_the_form_or_stop(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let (_bot, panel, server) = setup(pool).await;
    let manager = account(&panel, "manager1", Role::Manager).await;
    let at = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let body = json!({"text": "Quiet evening", "audience": {}, "send_at": at});
    let path = manager.path("/broadcasts");
    let created = manager.change(Method::POST, &path, Some(body)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    account(&panel, "olga", Role::Auditor).await;
    sign_in(&browser, &server, "olga").await;
    open(&browser, "#/broadcasts").await;
    see(&browser, "#broadcast-list", "Quiet evening").await;
    assert_eq!(count(&browser, ".broadcast").await, 1);
    assert_eq!(count(&browser, "#broadcast-compose").await, 0);
    assert_eq!(count(&browser, "#broadcast-form").await, 0);
    assert_eq!(count(&browser, ".broadcast button").await, 0);
    browser
        .click(".broadcast a.broadcast-details")
        .await
        .unwrap();
    see(&browser, "#broadcast-summary", "Quiet evening").await;
    assert_eq!(count(&browser, "#broadcast-summary button").await, 0);
    browser.quit().await;
}
