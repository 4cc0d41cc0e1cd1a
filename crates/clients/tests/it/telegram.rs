//! `getChatMember`, `sendMessage` and Bot API errors against a fake Bot API serving the
//! `telegram/api/` fixtures.

use std::time::Duration;

use clients::{ClientError, InlineButton, InlineKeyboard, MemberStatus, TelegramApi};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    ANNA_TG, BORIS_TG, BOT_TOKEN, CHANNEL, bot_path, closed_port_url, fast_retry, fixture_json,
    paused_retry, requests, telegram, telegram_answer,
};

pub const EXERCISED: &[&str] = &[
    "getChatMember_creator.json",
    "getChatMember_administrator.json",
    "getChatMember_member.json",
    "getChatMember_restricted_not_member.json",
    "getChatMember_left.json",
    "getChatMember_kicked.json",
    "error_chat_not_found.json",
    "error_too_many_requests.json",
];

async fn member_status(fixture: &str, user_id: i64) -> Result<MemberStatus, ClientError> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(bot_path("getChatMember")))
        .and(body_json(json!({ "chat_id": CHANNEL, "user_id": user_id })))
        .respond_with(telegram_answer(&format!("telegram/api/{fixture}")))
        .expect(1)
        .mount(&server)
        .await;
    telegram(&server, fast_retry())
        .get_chat_member(CHANNEL, user_id)
        .await
}

#[tokio::test]
async fn each_status_maps_to_membership() {
    let cases = [
        ("getChatMember_creator.json", MemberStatus::Creator, true),
        (
            "getChatMember_administrator.json",
            MemberStatus::Administrator,
            true,
        ),
        ("getChatMember_member.json", MemberStatus::Member, true),
        (
            "getChatMember_restricted_not_member.json",
            MemberStatus::Restricted { is_member: false },
            false,
        ),
        ("getChatMember_left.json", MemberStatus::Left, false),
        ("getChatMember_kicked.json", MemberStatus::Kicked, false),
    ];
    for (fixture, expected, is_member) in cases {
        let status = member_status(fixture, ANNA_TG).await;
        assert_eq!(status, Ok(expected), "{fixture}");
        assert_eq!(expected.is_member(), is_member, "{fixture}");
    }
}

#[tokio::test]
async fn restricted_but_present_is_a_member() {
    let mut answer = fixture_json("telegram/api/getChatMember_restricted_not_member.json");
    answer["result"]["is_member"] = json!(true);
    let server = MockServer::start().await;
    Mock::given(path(bot_path("getChatMember")))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    let status = telegram(&server, fast_retry())
        .get_chat_member(CHANNEL, BORIS_TG)
        .await;
    assert_eq!(status, Ok(MemberStatus::Restricted { is_member: true }));
    assert!(MemberStatus::Restricted { is_member: true }.is_member());
}

#[tokio::test]
async fn chat_not_found_is_typed_and_not_retried() {
    let status = member_status("error_chat_not_found.json", ANNA_TG).await;
    assert_eq!(status, Err(ClientError::ChatNotFound));
}

#[tokio::test(start_paused = true)]
async fn flood_control_waits_retry_after_then_retries() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("getChatMember")))
        .respond_with(telegram_answer("telegram/api/error_too_many_requests.json"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(bot_path("getChatMember")))
        .respond_with(telegram_answer("telegram/api/getChatMember_member.json"))
        .mount(&server)
        .await;
    let started = tokio::time::Instant::now();
    let status = telegram(&server, paused_retry())
        .get_chat_member(CHANNEL, ANNA_TG)
        .await;
    assert_eq!(status, Ok(MemberStatus::Member));
    assert!(
        started.elapsed() >= Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_returned_to_the_caller() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("getChatMember")))
        .respond_with(telegram_answer("telegram/api/error_too_many_requests.json"))
        .mount(&server)
        .await;
    let policy = clients::RetryPolicy {
        max_retry_after: Duration::from_secs(5),
        ..fast_retry()
    };
    let status = telegram(&server, policy)
        .get_chat_member(CHANNEL, ANNA_TG)
        .await;
    assert_eq!(
        status,
        Err(ClientError::TooManyRequests {
            retry_after: Duration::from_secs(7)
        })
    );
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn other_bot_api_errors_are_typed() {
    let cases = [
        (
            403,
            json!({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}),
            ClientError::Forbidden {
                description: "Forbidden: bot was blocked by the user".into(),
            },
        ),
        (
            400,
            json!({"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001999}}),
            ClientError::ChatMigrated {
                new_chat_id: -1_001_999,
            },
        ),
        (
            400,
            json!({"ok":false,"error_code":400,"description":"Bad Request: user not found"}),
            ClientError::Telegram {
                code: 400,
                description: "Bad Request: user not found".into(),
            },
        ),
    ];
    for (status, body, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(path(bot_path("getChatMember")))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        let result = telegram(&server, fast_retry())
            .get_chat_member(CHANNEL, ANNA_TG)
            .await;
        assert_eq!(result, Err(expected));
        assert_eq!(
            requests(&server).await.len(),
            1,
            "final errors are not retried"
        );
    }
}

#[tokio::test]
async fn send_message_with_a_mini_app_button() {
    let server = MockServer::start().await;
    let expected = json!({
        "chat_id": ANNA_TG,
        "text": "+10 points for your comment. Balance: 130",
        "reply_markup": {"inline_keyboard": [[
            {"text": "Open balance", "web_app": {"url": "https://points.example.com/app"}},
            {"text": "Rules", "url": "https://points.example.com/rules"}
        ]]}
    });
    Mock::given(method("POST"))
        .and(path(bot_path("sendMessage")))
        .and(body_json(expected))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent(42)))
        .expect(1)
        .mount(&server)
        .await;
    let keyboard = InlineKeyboard {
        inline_keyboard: vec![vec![
            InlineButton::web_app("Open balance", "https://points.example.com/app"),
            InlineButton::url("Rules", "https://points.example.com/rules"),
        ]],
    };
    let sent = telegram(&server, fast_retry())
        .send_message(
            ANNA_TG,
            "+10 points for your comment. Balance: 130",
            Some(&keyboard),
        )
        .await;
    assert_eq!(sent.map(|m| m.message_id), Ok(42));
}

#[tokio::test]
async fn send_message_without_keyboard_sends_no_markup() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("sendMessage")))
        .and(body_json(
            json!({"chat_id": "@brand_channel", "text": "Новый конкурс"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent(7)))
        .expect(1)
        .mount(&server)
        .await;
    let sent = telegram(&server, fast_retry())
        .send_message("@brand_channel", "Новый конкурс", None)
        .await;
    assert_eq!(sent.map(|m| m.message_id), Ok(7));
}

#[tokio::test]
async fn send_message_refuses_empty_or_oversized_text_locally() {
    let server = MockServer::start().await;
    let api = telegram(&server, fast_retry());
    for text in [String::new(), "x".repeat(4097), "😀".repeat(2049)] {
        let result = api.send_message(ANNA_TG, &text, None).await;
        assert!(
            matches!(result, Err(ClientError::InvalidInput(_))),
            "{} chars",
            text.len()
        );
    }
    assert!(
        api.send_message(ANNA_TG, &"😀".repeat(2048), None)
            .await
            .is_err()
    );
    assert_eq!(
        requests(&server).await.len(),
        1,
        "only the 4096-unit text was sent"
    );
}

#[tokio::test]
async fn menu_button_opens_the_mini_app() {
    let server = MockServer::start().await;
    let expected = json!({
        "chat_id": ANNA_TG,
        "menu_button": {"type": "web_app", "text": "Points", "web_app": {"url": "https://points.example.com/app"}}
    });
    Mock::given(path(bot_path("setChatMenuButton")))
        .and(body_json(expected))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": true})))
        .expect(1)
        .mount(&server)
        .await;
    let result = telegram(&server, fast_retry())
        .set_chat_menu_button(Some(ANNA_TG), "Points", "https://points.example.com/app")
        .await;
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn the_token_never_shows_in_debug_or_errors() {
    let api = TelegramApi::new(BOT_TOKEN)
        .expect("token")
        .with_base_url(closed_port_url())
        .with_retry(fast_retry().once());
    let secret_part = BOT_TOKEN
        .split_once(':')
        .map(|(_, key)| key)
        .unwrap_or(BOT_TOKEN);
    assert!(!format!("{api:?}").contains(secret_part));
    let error = api
        .get_chat_member(CHANNEL, ANNA_TG)
        .await
        .expect_err("nothing listens");
    assert!(matches!(error, ClientError::Network(_)), "{error:?}");
    assert!(!error.to_string().contains(secret_part), "{error}");
    assert!(!format!("{error:?}").contains(secret_part), "{error:?}");
}

#[test]
fn tokens_that_would_bend_the_url_are_refused() {
    for token in ["", "123", "abc:def", "123:", "123:abc/../x", "123:abc?x=1"] {
        assert!(TelegramApi::new(token).is_err(), "{token}");
    }
}

fn sent(message_id: i64) -> serde_json::Value {
    json!({"ok": true, "result": {
        "message_id": message_id,
        "from": {"id": 7000000001_i64, "is_bot": true, "first_name": "Points"},
        "chat": {"id": ANNA_TG, "type": "private", "first_name": "Анна"},
        "date": 1767000000,
        "text": "…"
    }})
}

#[tokio::test]
async fn debug_output_never_shows_a_token() {
    let server = MockServer::start().await;
    let telegram = format!("{:?}", telegram(&server, fast_retry()));
    let vk = format!("{:?}", crate::support::vk(&server, fast_retry()));
    assert!(!telegram.contains(BOT_TOKEN), "{telegram}");
    assert!(!vk.contains(crate::support::VK_TOKEN), "{vk}");
    assert!(telegram.contains("REDACTED") && vk.contains("REDACTED"));
}
