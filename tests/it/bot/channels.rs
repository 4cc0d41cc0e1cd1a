//! The bot and the panel's channels: a chat where the bot is made an administrator is offered
//! for connecting; a check asks a fake Bot API whether the bot still is one, and the channel
//! list shows the answer.

use super::support::*;
use crate::harness::admin::{AdminClient, PASSWORD};
use api::admin::{Role, create_user};
use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgPool;
use wiremock::Mock;
use wiremock::matchers::{body_partial_json, method, path};

const CHAT: i64 = -1_007_770_000_042;
/// The chat id as channels and the panel write it.
const CHAT_ID: &str = "-1007770000042";

fn bot_role_changed(update_id: i64, status: &str) -> Value {
    let bot_user = json!({"id": 7000000001_i64, "is_bot": true, "first_name": "Brand Points"});
    json!({"update_id": update_id, "my_chat_member": {
        "chat": {"id": CHAT, "type": "supergroup", "title": "Brand club"},
        "from": {"id": ANNA, "is_bot": false, "first_name": "Анна"},
        "date": Utc::now().timestamp(),
        "old_chat_member": {"user": bot_user, "status": "left"},
        "new_chat_member": {"user": bot_user, "status": status}
    }})
}

/// A panel account of `role` on the bot's application, signed in.
async fn signed_in(bot: &BotApp, name: &str, role: Role) -> AdminClient {
    let mut client = AdminClient::on(bot.app.clone());
    create_user(&bot.app.pool, "test", name, PASSWORD, role)
        .await
        .unwrap();
    assert_eq!(client.login(name, PASSWORD).await.status, StatusCode::OK);
    client
}

async fn offered(admin: &AdminClient) -> Vec<Value> {
    let reply = admin.get("/api/v1/admin/telegram/offered-chats").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["chats"].as_array().unwrap().clone()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_chat_the_bot_administers_is_offered_and_a_check_asks_telegram(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let admin = signed_in(&bot, "admin1", Role::Admin).await;
    assert!(offered(&admin).await.is_empty());

    assert_eq!(
        bot.webhook(bot_role_changed(920_000_001, "administrator"))
            .await,
        StatusCode::OK
    );
    let chats = offered(&admin).await;
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0]["chat_id"], CHAT_ID);
    assert_eq!(chats[0]["title"], "Brand club");
    assert_eq!(chats[0]["chat_type"], "supergroup");

    let connect = json!({"network": "telegram", "destination": CHAT_ID});
    let reply = admin
        .change(Method::POST, &admin.path("/channels"), Some(connect))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        offered(&admin).await.is_empty(),
        "connected chats are no longer offered"
    );

    // Telegram now says the bot is a plain member there.
    Mock::given(method("POST"))
        .and(path(bot_path("getChatMember")))
        .and(body_partial_json(
            json!({"chat_id": CHAT, "user_id": 7000000001_i64}),
        ))
        .respond_with(ok(json!({"status": "member",
            "user": {"id": 7000000001_i64, "is_bot": true, "first_name": "Brand Points"}})))
        .with_priority(1)
        .mount(&bot.telegram)
        .await;
    let check_path = admin.path(&format!("/channels/telegram/{CHAT}/check"));
    let check = admin.change(Method::POST, &check_path, None).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    let check = check.json();
    assert_eq!(check["bot_role"], "member");
    let problems = check["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("not an administrator")),
        "{problems:?}"
    );
    let list = admin.get(&admin.path("/channels")).await.json();
    let channel = &list["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["destination"] == CHAT_ID)
        .unwrap()
        .clone();
    assert_eq!(channel["bot_role"], "member");
    assert_eq!(channel["title"], "Brand club");

    // Removed from the chat: the list shows it without a check.
    assert_eq!(
        bot.webhook(bot_role_changed(920_000_002, "left")).await,
        StatusCode::OK
    );
    let list = admin.get(&admin.path("/channels")).await.json();
    assert!(
        list["channels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["bot_role"] == "removed")
    );

    // A channel of no program cannot be checked through this one.
    let elsewhere = admin.path("/channels/telegram/-1009999999999/check");
    assert_eq!(
        admin.change(Method::POST, &elsewhere, None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_panel_shows_the_bots_webhook_and_sets_it_again(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let admin = signed_in(&bot, "admin1", Role::Admin).await;
    // Telegram still sends to an old address and has an error to report.
    Mock::given(method("POST"))
        .and(path(bot_path("getWebhookInfo")))
        .respond_with(ok(json!({"url": "https://old.example/hook", "pending_update_count": 42,
            "last_error_date": 1767268800, "last_error_message": "Wrong response from the webhook: 502 Bad Gateway",
            "allowed_updates": ["message"]})))
        .up_to_n_times(1)
        .mount(&bot.telegram)
        .await;
    let status = admin.get("/api/v1/admin/telegram/webhook").await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let status = status.json();
    assert_eq!(status["ready"], false);
    assert_eq!(status["url"], "https://old.example/hook");
    assert_eq!(
        status["expected_url"],
        format!("{PUBLIC_URL}/webhooks/telegram")
    );
    assert_eq!(status["pending_update_count"], 42);
    assert_eq!(status["last_error_at"], "2026-01-01T12:00:00Z");
    assert!(
        status["missing_updates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "chat_member")
    );

    // Set again: Telegram takes this server's address and every update kind.
    Mock::given(method("POST"))
        .and(path(bot_path("setWebhook")))
        .respond_with(ok(json!(true)))
        .mount(&bot.telegram)
        .await;
    Mock::given(method("POST"))
        .and(path(bot_path("setChatMenuButton")))
        .respond_with(ok(json!(true)))
        .mount(&bot.telegram)
        .await;
    Mock::given(method("POST"))
        .and(path(bot_path("getWebhookInfo")))
        .respond_with(ok(json!({"url": format!("{PUBLIC_URL}/webhooks/telegram"),
            "pending_update_count": 0, "allowed_updates": clients::telegram::ALLOWED_UPDATES})))
        .mount(&bot.telegram)
        .await;
    let set = admin
        .change(Method::POST, "/api/v1/admin/telegram/webhook", None)
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.json()["ready"], true);
    let sent = bot.bodies("setWebhook").await;
    assert_eq!(sent[0]["secret_token"], crate::harness::TG_SECRET);

    // Managers do not see or set the bot's webhook.
    let manager = signed_in(&bot, "manager1", Role::Manager).await;
    assert_eq!(
        manager.get("/api/v1/admin/telegram/webhook").await.status,
        StatusCode::FORBIDDEN
    );
}
