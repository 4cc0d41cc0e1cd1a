//! Broadcasts end to end: the panel's API schedules one, the sender delivers it through a fake
//! Bot API, and each chat gets it once, whatever the answers, stops and restarts.

use super::support::{ANNA, BOT_TOKEN, BotApp, PUBLIC_URL, bot_path, ok, private};
use crate::harness::admin::{AdminClient, PASSWORD};
use crate::harness::mini_app::{init_data_signed, user};
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
const GLEB: i64 = 5_000_000_004;
const TEXT: &str = "Новое кодовое слово недели — ЗЕРНО. Напишите его в комментариях!";

/// The bot with members who started it (each by one private message), and a manager
/// signed in to the panel on the same application.
async fn setup(pool: PgPool, users: &[i64]) -> (BotApp, AdminClient) {
    let bot = BotApp::new(pool).await;
    for (n, user) in users.iter().enumerate() {
        let status = bot
            .webhook(private(100 + n as i64, *user, "/start", "ru"))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    bot.answer().await;
    bot.project().await;
    let mut panel = AdminClient::on(bot.app.clone());
    create_user(&bot.app.pool, "test", "manager1", PASSWORD, Role::Manager)
        .await
        .unwrap();
    assert_eq!(
        panel.login("manager1", PASSWORD).await.status,
        StatusCode::OK
    );
    (bot, panel)
}

async fn sender(bot: &BotApp) -> BroadcastSender {
    let limit = Arc::new(RateLimiter::new(1000, Duration::from_secs(1)));
    BroadcastSender::start(bot.bot.clone(), limit)
        .await
        .unwrap()
}

async fn schedule(panel: &AdminClient, body: Value) -> Value {
    let reply = panel
        .change(Method::POST, &panel.path("/broadcasts"), Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
    reply.json()
}

/// How many chats `audience` reaches now, as the panel asks.
async fn reach(panel: &AdminClient, audience: Value) -> i64 {
    let reply = panel
        .change(
            Method::POST,
            &panel.path("/broadcasts/audience"),
            Some(audience),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
    reply.json()["recipients"].as_i64().unwrap()
}

async fn broadcast(panel: &AdminClient, id: &str) -> Value {
    let reply = panel.get(&panel.path(&format!("/broadcasts/{id}"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()
}

/// The broadcast's messages the fake received (`sendMessage` or `sendPhoto`), by chat.
async fn delivered(bot: &BotApp, text: &str) -> Vec<i64> {
    let mut chats = Vec::new();
    for name in ["sendMessage", "sendPhoto"] {
        for body in bot.bodies(name).await {
            let said = body["text"].as_str().or(body["caption"].as_str());
            if said.is_some_and(|s| s.starts_with(text)) {
                chats.push(body["chat_id"].as_i64().unwrap());
            }
        }
    }
    chats.sort_unstable();
    chats
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_broadcast_goes_once_to_each_member_the_bot_can_reach(pool: PgPool) {
    let (bot, panel) = setup(pool, &[ANNA, BORIS, VERA, GLEB]).await;
    // Vera asks for no broadcasts; Gleb blocked the bot.
    let status = bot.webhook(private(200, VERA, "/stop", "ru")).await;
    assert_eq!(status, StatusCode::OK);
    bot.answer().await;
    let stop_reply = bot.sent().await.last().cloned().unwrap();
    assert!(stop_reply["text"].as_str().unwrap().contains("/resume"));
    bot::chats::mark_unreachable(&bot.app.pool, 0, GLEB, chrono::Utc::now())
        .await
        .unwrap();

    assert_eq!(reach(&panel, json!({})).await, 2);

    let created = schedule(
        &panel,
        json!({"text": TEXT, "button_label": "Открыть приложение"}),
    )
    .await;
    assert_eq!(created["status"], "scheduled");
    let id = created["broadcast_id"].as_str().unwrap().to_string();

    let mut first = sender(&bot).await;
    first.drain().await.unwrap();
    assert_eq!(delivered(&bot, TEXT).await, vec![ANNA, BORIS]);
    let message = bot
        .sent()
        .await
        .into_iter()
        .find(|b| b["text"] == TEXT)
        .unwrap();
    assert_eq!(
        message["reply_markup"]["inline_keyboard"][0][0],
        json!({"text": "Открыть приложение", "web_app": {"url": format!("{PUBLIC_URL}/app")}})
    );

    let done = broadcast(&panel, &id).await;
    assert_eq!(done["status"], "done");
    assert_eq!(
        done["progress"],
        json!({"recipients": 2, "pending": 0, "sent": 2, "blocked": 0, "failed": 0, "unknown": 0})
    );
    // Another sender, a repeated submit: nobody hears it twice.
    first.drain().await.unwrap();
    sender(&bot).await.drain().await.unwrap();
    assert_eq!(delivered(&bot, TEXT).await, vec![ANNA, BORIS]);

    // /resume brings Vera back.
    let status = bot.webhook(private(201, VERA, "/resume", "ru")).await;
    assert_eq!(status, StatusCode::OK);
    bot.answer().await;
    assert_eq!(reach(&panel, json!({})).await, 3);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn blocked_and_flood_controlled_chats_are_settled_and_nobody_hears_it_twice(pool: PgPool) {
    let (bot, panel) = setup(pool, &[ANNA, BORIS, VERA]).await;
    // Boris blocked the bot; Vera's first request meets flood control.
    Mock::given(method("POST"))
        .and(path(bot_path("sendPhoto")))
        .and(body_partial_json(json!({"chat_id": BORIS})))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "ok": false, "error_code": 403,
            "description": "Forbidden: bot was blocked by the user"})))
        .with_priority(1)
        .mount(&bot.telegram)
        .await;
    Mock::given(method("POST"))
        .and(path(bot_path("sendPhoto")))
        .and(body_partial_json(json!({"chat_id": VERA})))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "ok": false, "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1}})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&bot.telegram)
        .await;
    Mock::given(method("POST"))
        .and(path(bot_path("sendPhoto")))
        .respond_with(ok(json!({"message_id": 77, "date": 1767000000,
                               "chat": {"id": 1, "type": "private"}})))
        .with_priority(2)
        .mount(&bot.telegram)
        .await;

    let created = schedule(
        &panel,
        json!({"text": TEXT, "image_url": "https://cdn.example/poster.jpg"}),
    )
    .await;
    let id = created["broadcast_id"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    sender(&bot).await.drain().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the 429's retry_after was honoured"
    );

    let photos = bot.bodies("sendPhoto").await;
    let to = |chat: i64| photos.iter().filter(|b| b["chat_id"] == chat).count();
    assert_eq!((to(ANNA), to(BORIS), to(VERA)), (1, 1, 2));
    assert_eq!(photos[0]["photo"], "https://cdn.example/poster.jpg");
    assert_eq!(photos[0]["caption"], TEXT);
    let done = broadcast(&panel, &id).await;
    assert_eq!(
        done["progress"],
        json!({"recipients": 3, "pending": 0, "sent": 2, "blocked": 1, "failed": 0, "unknown": 0})
    );
    // The blocked chat is marked, so the next audience leaves Boris out.
    assert_eq!(reach(&panel, json!({})).await, 2);
    let blocked = panel
        .get(&panel.path(&format!("/broadcasts/{id}/recipients?status=blocked")))
        .await
        .json();
    assert_eq!(blocked["recipients"].as_array().unwrap().len(), 1);
    assert!(
        blocked["recipients"][0]["error"]
            .as_str()
            .unwrap()
            .contains("blocked")
    );
    let wrong = panel
        .get(&panel.path(&format!("/broadcasts/{id}/recipients?status=lost")))
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_scheduled_broadcast_waits_for_its_time_and_a_stopped_one_sends_nothing(pool: PgPool) {
    let (bot, panel) = setup(pool, &[ANNA, BORIS]).await;
    let at = chrono::Utc::now() + chrono::Duration::hours(2);
    let later = schedule(&panel, json!({"text": TEXT, "send_at": at})).await;
    let later_id = later["broadcast_id"].as_str().unwrap().to_string();
    let stopped = schedule(
        &panel,
        json!({"text": "Отменённая рассылка", "send_at": at}),
    )
    .await;
    let stopped_id = stopped["broadcast_id"].as_str().unwrap().to_string();

    let mut early = sender(&bot).await;
    early.drain().await.unwrap();
    assert!(
        delivered(&bot, TEXT).await.is_empty(),
        "not before its time"
    );

    let reply = panel
        .change(
            Method::POST,
            &panel.path(&format!("/broadcasts/{stopped_id}/stop")),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["status"], "stopped");
    assert_eq!(reply.json()["stopped_by"], "manager:manager1");

    // Two hours pass.
    sqlx::query("UPDATE broadcasts SET send_at = now() - interval '1 second'")
        .execute(&bot.app.pool)
        .await
        .unwrap();
    early.drain().await.unwrap();
    assert_eq!(delivered(&bot, TEXT).await, vec![ANNA, BORIS]);
    assert!(delivered(&bot, "Отменённая").await.is_empty());
    assert_eq!(broadcast(&panel, &later_id).await["status"], "done");

    // A finished broadcast cannot be stopped; a stopped one stays stopped.
    let reply = panel
        .change(
            Method::POST,
            &panel.path(&format!("/broadcasts/{later_id}/stop")),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.code(), "broadcast_finished");
    let list = panel.get(&panel.path("/broadcasts")).await.json();
    assert_eq!(list["broadcasts"].as_array().unwrap().len(), 2);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_sender_that_died_mid_request_never_sends_that_chat_again(pool: PgPool) {
    let (bot, panel) = setup(pool, &[ANNA, BORIS, VERA]).await;
    let created = schedule(&panel, json!({"text": TEXT})).await;
    let id: uuid::Uuid = created["broadcast_id"].as_str().unwrap().parse().unwrap();
    // A sender started it and claimed Boris's chat, then its process died.
    let now = chrono::Utc::now();
    app::broadcasts::start_due(&bot.app.pool, now)
        .await
        .unwrap();
    let claimed = app::broadcasts::claim(&bot.app.pool, id, BORIS, now)
        .await
        .unwrap();
    assert_eq!(claimed, Some(1));

    sender(&bot).await.drain().await.unwrap();
    assert_eq!(delivered(&bot, TEXT).await, vec![ANNA, VERA]);
    let done = broadcast(&panel, &id.to_string()).await;
    assert_eq!(done["status"], "done");
    assert_eq!(done["progress"]["unknown"], 1);
    assert_eq!(done["progress"]["sent"], 2);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn audiences_narrow_by_network_points_and_campaign(pool: PgPool) {
    let (bot, panel) = setup(pool, &[ANNA, BORIS]).await;
    let anna = bot::members::telegram_member(
        bot.state.ledger(),
        bot.state.accounts(),
        bot.app.t.program_id(),
        ANNA,
    )
    .await
    .unwrap()
    .unwrap();
    let reply = panel.adjust(anna, json!(300), "welcome bonus").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
    bot.project().await;

    assert_eq!(reach(&panel, json!({})).await, 2);
    assert_eq!(reach(&panel, json!({"min_balance": 100})).await, 1);
    assert_eq!(reach(&panel, json!({"min_lifetime": 301})).await, 0);
    assert_eq!(reach(&panel, json!({"active_days": 7})).await, 2);
    assert_eq!(reach(&panel, json!({"network": "telegram"})).await, 2);
    assert_eq!(reach(&panel, json!({"network": "vk"})).await, 0);
    let campaign = uuid::Uuid::new_v4();
    assert_eq!(reach(&panel, json!({"campaign_id": campaign})).await, 0);
    let unknown = panel
        .change(
            Method::POST,
            &panel.path("/broadcasts/audience"),
            Some(json!({"tier": "gold"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Only Anna, with 300 points, gets this one.
    schedule(
        &panel,
        json!({"text": TEXT, "audience": {"min_balance": 100}}),
    )
    .await;
    sender(&bot).await.drain().await.unwrap();
    assert_eq!(delivered(&bot, TEXT).await, vec![ANNA]);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn bad_drafts_and_roles_are_refused_and_change_nothing(pool: PgPool) {
    let (bot, panel) = setup(pool, &[ANNA]).await;
    for (body, field) in [
        (json!({"text": "  "}), "text"),
        (json!({"text": "я".repeat(4097)}), "text"),
        (
            json!({"text": "a".repeat(1025), "image_url": "https://cdn.example/a.jpg"}),
            "text",
        ),
        (
            json!({"text": "hi", "image_url": "javascript:alert(1)"}),
            "image_url",
        ),
        (
            json!({"text": "hi", "send_at": "2020-01-01T00:00:00Z"}),
            "send_at",
        ),
    ] {
        let reply = panel
            .change(Method::POST, &panel.path("/broadcasts"), Some(body))
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.code(), "invalid_broadcast");
        assert!(
            reply.json()["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field)
        );
    }
    create_user(&bot.app.pool, "test", "auditor1", PASSWORD, Role::Auditor)
        .await
        .unwrap();
    let mut viewer = panel.browser();
    assert_eq!(
        viewer.login("auditor1", PASSWORD).await.status,
        StatusCode::OK
    );
    let reply = viewer
        .change(
            Method::POST,
            &viewer.path("/broadcasts"),
            Some(json!({"text": TEXT})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM broadcasts")
        .fetch_one(&bot.app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    // The same submit twice is one broadcast.
    for _ in 0..2 {
        let reply = panel
            .change_keyed(
                Method::POST,
                &panel.path("/broadcasts"),
                Some(json!({"text": TEXT})),
                "same-submit",
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM broadcasts")
        .fetch_one(&bot.app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_mini_app_switch_erasure_and_retention_keep_to_their_promises(pool: PgPool) {
    let (bot, panel) = setup(pool, &[ANNA, BORIS]).await;
    let init = init_data_signed(
        &user(ANNA, "Анна", "anna_runs", "ru"),
        chrono::Utc::now().timestamp(),
        BOT_TOKEN,
    );
    let call = |method: &'static str, body: Option<Value>| {
        let init = init.clone();
        let bot = &bot;
        async move {
            let mut request = axum::http::Request::builder()
                .method(method)
                .uri("/api/v1/app/me/broadcasts")
                .header("authorization", format!("tma {init}"));
            if body.is_some() {
                request = request.header("content-type", "application/json");
            }
            let body = body.map_or(String::new(), |b| b.to_string());
            let reply = bot
                .app
                .send(request.body(axum::body::Body::from(body)).unwrap())
                .await;
            assert_eq!(reply.status, StatusCode::OK);
            reply.json()
        }
    };
    assert_eq!(call("GET", None).await, json!({"subscribed": true}));
    call("PUT", Some(json!({"subscribed": false}))).await;
    assert_eq!(call("GET", None).await, json!({"subscribed": false}));
    schedule(&panel, json!({"text": TEXT})).await;
    sender(&bot).await.drain().await.unwrap();
    assert_eq!(delivered(&bot, TEXT).await, vec![BORIS]);

    // Boris asks to be forgotten: his delivery record goes with his chat.
    let status = bot.webhook(private(300, BORIS, "/forget yes", "ru")).await;
    assert_eq!(status, StatusCode::OK);
    bot.answer().await;
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM broadcast_recipients WHERE chat_id = $1")
            .bind(BORIS)
            .fetch_one(&bot.app.pool)
            .await
            .unwrap();
    assert_eq!(left, 0);

    // A second broadcast; after the retention period its recipients go, its counts stay.
    call("PUT", Some(json!({"subscribed": true}))).await;
    let second = schedule(&panel, json!({"text": "Вторая рассылка"})).await;
    let id = second["broadcast_id"].as_str().unwrap().to_string();
    sender(&bot).await.drain().await.unwrap();
    let settings = bot.app.state.config.retention.clone();
    let later = chrono::Utc::now() + chrono::Duration::days(settings.days + 1);
    let report = app::retention::purge_once(&bot.app.pool, &settings, later)
        .await
        .unwrap();
    assert_eq!(report.deleted("broadcast_recipients"), 1);
    // (The purge ran a retention period ahead, so the panel's session expired with it.)
    let kept = app::broadcasts::get(&bot.app.pool, bot.app.t.program_id(), id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((kept.progress.sent, kept.progress.recipients), (1, 1));
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM broadcast_recipients")
        .fetch_one(&bot.app.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}
