//! No response body makes a client panic: every odd answer is a typed error.

use clients::telegram::ALLOWED_UPDATES;
use clients::{ClientError, PendingLink, VkIdCallback, VkIdOAuth, WebhookConfig};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{ANNA_TG, ANNA_VK, CHANNEL, VK_GROUP, fast_retry, telegram, vk};

fn bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = [
        "",
        "not json",
        "null",
        "0",
        "\"ok\"",
        "[]",
        "{}",
        "{\"ok\":true}",
        "{\"ok\":true,\"result\":null}",
        "{\"ok\":true,\"result\":{\"status\":\"owner\"}}",
        "{\"ok\":true,\"result\":{\"status\":7}}",
        "{\"ok\":\"yes\"}",
        "{\"ok\":false}",
        "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":-5}}",
        "{\"ok\":false,\"error_code\":400,\"parameters\":{\"migrate_to_chat_id\":\"x\"}}",
        "{\"response\":null}",
        "{\"response\":2}",
        "{\"response\":{\"member\":\"yes\"}}",
        "{\"response\":[{\"user_id\":\"x\",\"member\":1}]}",
        "{\"error\":{}}",
        "{\"error\":{\"error_code\":\"6\"}}",
        "{\"access_token\":\"\",\"user_id\":1}",
        "{\"access_token\":\"t\",\"user_id\":-5}",
        "{\"access_token\":\"t\",\"user_id\":1e999}",
        "{\"error\":7}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    bodies.push(b"\xff\xfe{\"ok\":true}".to_vec());
    bodies.push("[".repeat(100_000).into_bytes());
    bodies.push(format!("{{\"ok\":true,\"result\":\"{}\"}}", "x".repeat(9 << 20)).into_bytes());
    bodies.extend(noise());
    bodies
}

/// Deterministic pseudo-random byte strings (a fixed LCG: the same cases every run).
fn noise() -> Vec<Vec<u8>> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..20)
        .map(|i| {
            (0..(i * 13 + 1))
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    (state >> 56) as u8
                })
                .collect()
        })
        .collect()
}

/// Calls every client method against a server that answers `body` to everything.
async fn every_call_survives(status: u16, body: Vec<u8>) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_raw(body.clone(), "application/json"))
        .mount(&server)
        .await;
    let retry = fast_retry().once();
    let tg = telegram(&server, retry.clone());
    let vk = vk(&server, retry);
    let label = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
    let config = WebhookConfig::new("https://points.example.com/tg", "secret").expect("config");
    let results: Vec<Result<(), ClientError>> = vec![
        tg.get_chat_member(CHANNEL, ANNA_TG).await.map(drop),
        tg.send_message(ANNA_TG, "hi", None).await.map(drop),
        tg.set_webhook(&config).await,
        tg.get_webhook_info().await.map(drop),
        tg.get_updates(None, 0, &ALLOWED_UPDATES).await.map(drop),
        tg.set_chat_menu_button(None, "Points", "https://x").await,
        vk.is_member(VK_GROUP, ANNA_VK).await.map(drop),
        vk.membership(VK_GROUP, ANNA_VK).await.map(drop),
        vk.are_members(VK_GROUP, &[ANNA_VK]).await.map(drop),
        vk_id_exchange(&server).await,
    ];
    for (call, result) in results.iter().enumerate() {
        assert!(
            result.is_err(),
            "call {call} accepted {status} {label:?}: {result:?}"
        );
    }
}

async fn vk_id_exchange(server: &MockServer) -> Result<(), ClientError> {
    let pending = PendingLink::generate()?;
    let oauth = VkIdOAuth::new("1", "https://points.example.com/cb")?
        .with_endpoints(server.uri(), server.uri());
    let callback = VkIdCallback {
        code: "c".into(),
        state: pending.state().to_owned(),
        device_id: "d".into(),
    };
    oauth.exchange_code(&pending, &callback).await.map(drop)
}

#[tokio::test]
async fn odd_bodies_are_errors_not_panics() {
    for body in bodies() {
        every_call_survives(200, body).await;
    }
}

#[tokio::test]
async fn odd_bodies_with_error_statuses_are_errors_not_panics() {
    for status in [400, 429, 500, 503] {
        for body in bodies().into_iter().take(8) {
            every_call_survives(status, body).await;
        }
    }
}

#[tokio::test]
async fn an_absurd_retry_after_is_capped_not_overflowed() {
    let server = MockServer::start().await;
    let body = r#"{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":18446744073709551615}}"#;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).set_body_string(body))
        .mount(&server)
        .await;
    let result = telegram(&server, fast_retry())
        .get_chat_member(CHANNEL, ANNA_TG)
        .await;
    assert_eq!(
        result,
        Err(ClientError::TooManyRequests {
            retry_after: std::time::Duration::from_secs(86_400)
        })
    );
}
