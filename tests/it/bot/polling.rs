//! Long polling: the fixtures served by a fake `getUpdates`, handled like webhook deliveries,
//! with the offset persisted so a restart neither skips nor repeats.

use super::support::*;
use crate::harness::anna_tg;
use app::config::TelegramMode;
use bot::polling;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::path::Path;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

/// Every fixture update, plus one private /start from Anna, sorted by update id.
fn fixture_updates() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/platforms/telegram");
    let mut updates: Vec<Value> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            if path.extension()? != "json" {
                return None;
            }
            let value: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
            value.get("update_id")?;
            Some(value)
        })
        .collect();
    updates.push(private(900_000_121, ANNA, "/start", "ru"));
    updates.sort_by_key(|u| u["update_id"].as_i64());
    updates
}

/// `getUpdates` as Telegram answers it: the updates at or after the requested offset.
struct GetUpdates(Vec<Value>);

impl Respond for GetUpdates {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let offset = body["offset"].as_i64().unwrap_or(0);
        let result: Vec<&Value> = self
            .0
            .iter()
            .filter(|u| u["update_id"].as_i64().unwrap_or(0) >= offset)
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": result}))
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn polling_handles_the_fixtures_and_persists_the_offset(pool: PgPool) {
    let bot = BotApp::with_mode(pool.clone(), TelegramMode::Polling).await;
    let updates = fixture_updates();
    assert!(updates.len() >= 20, "{} fixture updates", updates.len());
    let last = updates.last().unwrap()["update_id"].as_i64().unwrap();
    Mock::given(method("POST"))
        .and(path(bot_path("getUpdates")))
        .respond_with(GetUpdates(updates.clone()))
        .mount(&bot.telegram)
        .await;

    let taken = polling::poll_once(&bot.bot, 0).await.unwrap();
    assert_eq!(taken, updates.len());
    let bot_id = bot.bot.bot_id().to_string();
    assert_eq!(
        polling::offset(&pool, &bot_id).await.unwrap(),
        Some(last + 1)
    );
    // The group comment paid Anna; her /start waits in the inbox and is answered.
    assert_eq!(bot.app.balance_of(&anna_tg()).await, 10);
    assert_eq!(bot.answer().await, 1);
    let reply = bot.sent().await;
    assert_eq!(reply.len(), 1);
    assert_eq!(reply[0]["chat_id"], ANNA);

    let asked = bot.bodies("getUpdates").await;
    let first = &asked[0];
    assert!(
        first.get("offset").is_none(),
        "the first call has no offset"
    );
    let kinds: Vec<&str> = first["allowed_updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for kind in [
        "message",
        "message_reaction",
        "chat_member",
        "my_chat_member",
    ] {
        assert!(kinds.contains(&kind), "allowed_updates names {kind}");
    }

    // A restart (a new bot over the same database) asks from the stored offset: nothing new.
    let events = bot.app.event_count().await;
    let restarted = bot::Bot::from_state(&bot.state).unwrap();
    assert_eq!(polling::poll_once(&restarted, 0).await.unwrap(), 0);
    assert_eq!(
        bot.bodies("getUpdates").await.last().unwrap()["offset"],
        last + 1
    );

    // A crash after the last update was recorded but before its offset was saved: it comes
    // again, and changes nothing.
    sqlx::query("UPDATE bot_polling SET next_offset = $1")
        .bind(last)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(polling::poll_once(&restarted, 0).await.unwrap(), 1);
    assert_eq!(bot.app.event_count().await, events);
    assert_eq!(bot.answer().await, 0, "the /start is not answered twice");
    assert_eq!(
        polling::offset(&pool, &bot_id).await.unwrap(),
        Some(last + 1)
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_startup_check_sets_the_webhook_with_every_update_kind(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    Mock::given(path(bot_path("setWebhook")))
        .respond_with(ok(json!(true)))
        .mount(&bot.telegram)
        .await;
    Mock::given(path(bot_path("setChatMenuButton")))
        .respond_with(ok(json!(true)))
        .mount(&bot.telegram)
        .await;
    // Telegram still has the old default list: reactions and chat_member are missing.
    Mock::given(path(bot_path("getWebhookInfo")))
        .respond_with(ok(json!({"url": format!("{PUBLIC_URL}/webhooks/telegram"),
            "pending_update_count": 0, "allowed_updates": ["message", "edited_message"]})))
        .mount(&bot.telegram)
        .await;

    let check = bot::webhook::ensure_webhook(&bot.bot).await.unwrap();

    let set = bot.bodies("setWebhook").await;
    assert_eq!(set.len(), 1);
    assert_eq!(set[0]["url"], format!("{PUBLIC_URL}/webhooks/telegram"));
    assert_eq!(set[0]["secret_token"], crate::harness::TG_SECRET);
    assert_eq!(set[0]["allowed_updates"].as_array().unwrap().len(), 10);
    match check {
        bot::webhook::WebhookCheck::Mismatch {
            missing_updates, ..
        } => {
            assert!(missing_updates.contains(&"chat_member".to_owned()));
            assert!(missing_updates.contains(&"message_reaction".to_owned()));
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}
