//! Fixtures, fake servers and client set-ups shared by the client tests.

use std::time::Duration;

use clients::{Jitter, RetryPolicy, TelegramApi, VkApi};
use wiremock::MockServer;

pub const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/platforms/"
);

/// Made up, in the shape BotFather issues.
pub const BOT_TOKEN: &str = "7000000001:AAFakeBotTokenForTests_only-42";
pub const VK_TOKEN: &str = "vk1.a.fake-community-token";

/// Brand and members from the fixtures' shared cast.
pub const VK_GROUP: i64 = 229_871_234;
pub const ANNA_VK: i64 = 715_002_001;
pub const BORIS_VK: i64 = 715_002_002;
pub const CHANNEL: i64 = -1_001_122_334_455;
pub const ANNA_TG: i64 = 5_000_000_001;
pub const BORIS_TG: i64 = 5_000_000_002;

pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{path}"))
        .unwrap_or_else(|e| panic!("fixture {path} unreadable: {e}"))
}

pub fn fixture_json(path: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// Real-clock tests: short exact delays, a real timeout.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(60),
        request_timeout: Some(Duration::from_secs(5)),
        jitter: Jitter::fixed(1.0),
    }
}

/// Paused-clock tests: no request timeout, because tokio advances a paused clock while a
/// socket is waited on and the timeout would fire at once.
pub fn paused_retry() -> RetryPolicy {
    RetryPolicy {
        request_timeout: None,
        ..fast_retry()
    }
}

pub fn telegram(server: &MockServer, retry: RetryPolicy) -> TelegramApi {
    TelegramApi::new(BOT_TOKEN)
        .expect("valid token")
        .with_base_url(server.uri())
        .with_retry(retry)
}

pub fn vk(server: &MockServer, retry: RetryPolicy) -> VkApi {
    VkApi::new(VK_TOKEN)
        .expect("valid token")
        .with_base_url(format!("{}/method", server.uri()))
        .with_retry(retry)
}

/// Telegram method path on the fake server.
pub fn bot_path(method: &str) -> String {
    format!("/bot{BOT_TOKEN}/{method}")
}

pub fn json_body(path: &str) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_raw(fixture(path), "application/json")
}

/// A Bot API answer with the HTTP status Telegram uses for its `error_code`.
pub fn telegram_answer(path: &str) -> wiremock::ResponseTemplate {
    let status = fixture_json(path)["error_code"].as_u64().unwrap_or(200) as u16;
    wiremock::ResponseTemplate::new(status).set_body_raw(fixture(path), "application/json")
}

/// A loopback address nothing listens on.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

pub async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}
