//! Receiving updates: `setWebhook` (fixture request), `getWebhookInfo`, `getUpdates`.

use clients::telegram::{ALLOWED_UPDATES, next_offset};
use clients::{ClientError, WebhookConfig};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{bot_path, fast_retry, fixture_json, requests, telegram};

pub const EXERCISED: &[&str] = &["setWebhook_request.json"];

const SECRET: &str = "tg-fixture-secret_9xQ-2";

fn ok(result: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": result}))
}

#[tokio::test]
async fn set_webhook_sends_exactly_the_fixture_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(bot_path("setWebhook")))
        .and(body_json(fixture_json(
            "telegram/api/setWebhook_request.json",
        )))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"ok": true, "result": true, "description": "Webhook was set"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let config =
        WebhookConfig::new("https://points.example.com/webhooks/telegram", SECRET).expect("valid");
    assert!(
        !format!("{config:?}").contains(SECRET),
        "secret never printed"
    );
    assert_eq!(
        telegram(&server, fast_retry()).set_webhook(&config).await,
        Ok(())
    );
}

#[tokio::test]
async fn set_webhook_refuses_an_empty_update_list_and_bad_secrets() {
    let server = MockServer::start().await;
    let mut config =
        WebhookConfig::new("https://points.example.com/webhooks/telegram", SECRET).expect("valid");
    config.allowed_updates.clear();
    let result = telegram(&server, fast_retry()).set_webhook(&config).await;
    assert!(matches!(result, Err(ClientError::InvalidInput(_))));
    assert!(requests(&server).await.is_empty());
    for secret in ["", "has space", "ünïcode", &"x".repeat(257)] {
        assert!(WebhookConfig::new("https://x", secret).is_err(), "{secret}");
    }
}

#[tokio::test]
async fn webhook_info_tells_which_updates_will_not_arrive() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("getWebhookInfo")))
        .respond_with(ok(json!({
            "url": "https://points.example.com/webhooks/telegram",
            "has_custom_certificate": false,
            "pending_update_count": 3,
            "last_error_date": 1767000000,
            "last_error_message": "Wrong response from the webhook: 500 Internal Server Error",
            "max_connections": 40,
            "allowed_updates": ["message", "edited_message", "poll_answer"]
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(bot_path("getWebhookInfo")))
        .respond_with(ok(
            json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}),
        ))
        .mount(&server)
        .await;
    let api = telegram(&server, fast_retry());
    let info = api.get_webhook_info().await.expect("info");
    assert_eq!(info.pending_update_count, 3);
    assert_eq!(
        info.missing_updates(&ALLOWED_UPDATES),
        [
            "channel_post",
            "message_reaction",
            "message_reaction_count",
            "chat_member",
            "my_chat_member",
            "chat_join_request",
            "callback_query"
        ]
    );
    // No list set: Telegram's default leaves out exactly the opt-in kinds.
    let info = api.get_webhook_info().await.expect("info");
    assert_eq!(info.allowed_updates, None);
    assert_eq!(
        info.missing_updates(&ALLOWED_UPDATES),
        ["message_reaction", "message_reaction_count", "chat_member"]
    );
}

#[tokio::test]
async fn long_polling_hands_back_raw_updates_for_the_inbound_parser() {
    let server = MockServer::start().await;
    let message = fixture_json("telegram/message_group.json");
    let joined = fixture_json("telegram/chat_member_joined.json");
    Mock::given(path(bot_path("getUpdates")))
        .and(body_json(json!({
            "offset": 100,
            "limit": 100,
            "timeout": 30,
            "allowed_updates": ALLOWED_UPDATES
        })))
        .respond_with(ok(json!([message, {"no_update_id": true}, joined])))
        .expect(1)
        .mount(&server)
        .await;
    let updates = telegram(&server, fast_retry())
        .get_updates(Some(100), 30, &ALLOWED_UPDATES)
        .await
        .expect("updates");
    assert_eq!(
        updates.len(),
        2,
        "the element without update_id is left out"
    );
    for update in &updates {
        let parsed = adapters::telegram::parse(update.bytes()).expect("parses like a webhook");
        assert_eq!(parsed.update_id, update.update_id);
    }
    let last = updates
        .iter()
        .map(|u| u.update_id)
        .max()
        .unwrap_or_default();
    assert_eq!(next_offset(&updates), Some(last + 1));
    assert_eq!(next_offset(&[]), None);
}

#[tokio::test]
async fn long_polling_while_a_webhook_is_set_is_a_typed_conflict() {
    let server = MockServer::start().await;
    let conflict = json!({"ok": false, "error_code": 409,
        "description": "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"});
    Mock::given(path(bot_path("getUpdates")))
        .respond_with(ResponseTemplate::new(409).set_body_json(conflict))
        .mount(&server)
        .await;
    let result = telegram(&server, fast_retry())
        .get_updates(None, 0, &ALLOWED_UPDATES)
        .await;
    assert!(
        matches!(result, Err(ClientError::Telegram { code: 409, .. })),
        "{result:?}"
    );
    let sent: serde_json::Value =
        serde_json::from_slice(&requests(&server).await[0].body).unwrap_or_default();
    assert!(sent.get("offset").is_none(), "no offset on the first poll");
}
