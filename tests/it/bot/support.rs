//! A bot over a fresh database, with a fake Telegram Bot API and a fake VK API (wiremock).

use crate::harness::{TestApp, VK_GROUP, json_of};
use api::AppState;
use app::config::TelegramMode;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use bot::Bot;
use clients::{Jitter, NotifierConfig, RetryPolicy};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request as Received, Respond, ResponseTemplate};

/// Made up, in the shape BotFather issues.
pub const BOT_TOKEN: &str = "7000000001:AAFakeBotTokenForTests_only-42";
pub const VK_TOKEN: &str = "vk1.a.fake-community-token";
pub const PUBLIC_URL: &str = "https://loyalty.example";
/// Anna of the fixtures: Telegram user 5000000001, VK user 715002001.
pub const ANNA: i64 = 5_000_000_001;

pub struct BotApp {
    pub app: Arc<TestApp>,
    pub state: AppState,
    pub bot: Bot,
    pub telegram: MockServer,
    /// What the fake `groups.isMember` answers.
    pub vk_member: Arc<AtomicBool>,
}

impl BotApp {
    pub async fn new(pool: PgPool) -> Self {
        Self::with_mode(pool, TelegramMode::Webhook).await
    }

    pub async fn with_mode(pool: PgPool, mode: TelegramMode) -> Self {
        let telegram = MockServer::start().await;
        let vk_member = Arc::new(AtomicBool::new(true));
        mount_defaults(&telegram, vk_member.clone()).await;
        let uri = telegram.uri();
        let app = TestApp::with_config(pool, |config, program| {
            config.telegram.bot_token = BOT_TOKEN.to_string().into();
            config.program = Some(program.0);
            config.http.public_url = PUBLIC_URL.into();
            config.telegram.mode = mode;
            config.telegram.api_url = uri.clone();
            config.vk.api_token = VK_TOKEN.to_string().into();
            config.vk.api_url = format!("{uri}/method");
        })
        .await;
        let state = app.state.clone();
        let bot = Bot::from_state(&state)
            .expect("bot configured")
            .with_retry(fast_retry());
        BotApp {
            app: Arc::new(app),
            state,
            bot,
            telegram,
            vk_member,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let reply = self.app.send(request).await;
        (reply.status, json_of(&reply))
    }

    /// Posts an update to the webhook route, as Telegram does.
    pub async fn webhook(&self, update: Value) -> StatusCode {
        let request = Request::post("/webhooks/telegram")
            .header("X-Telegram-Bot-Api-Secret-Token", crate::harness::TG_SECRET)
            .body(Body::from(update.to_string()))
            .unwrap();
        self.send(request).await.0
    }

    /// Answers every stored private message.
    pub async fn answer(&self) -> usize {
        bot::inbox::drain(&self.bot).await.unwrap()
    }

    /// A private message from Anna, through the webhook, answered.
    pub async fn say(&self, update_id: i64, text: &str) -> Value {
        let before = self.sent().await.len();
        let status = self.webhook(private(update_id, ANNA, text, "ru")).await;
        assert_eq!(status, StatusCode::OK);
        self.answer().await;
        let sent = self.sent().await;
        assert_eq!(sent.len(), before + 1, "one reply to {text:?}");
        sent.last().cloned().unwrap()
    }

    /// Bodies of every `sendMessage` the fake received, in order.
    pub async fn sent(&self) -> Vec<Value> {
        self.bodies("sendMessage").await
    }

    pub async fn bodies(&self, method_name: &str) -> Vec<Value> {
        self.bodies_at(&format!("/bot{BOT_TOKEN}/{method_name}"))
            .await
    }

    /// Bodies of every request the fake received at `path` (any bot's), in order.
    pub async fn bodies_at(&self, path: &str) -> Vec<Value> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| r.url.path() == path)
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }

    pub async fn requests(&self) -> Vec<Received> {
        self.telegram.received_requests().await.unwrap_or_default()
    }

    pub async fn balance(&self, user_id: i64) -> i64 {
        let identity = bot::members::telegram_identity(user_id);
        self.app.balance_of(&identity).await
    }

    /// Folds everything appended so far into the read models (/top reads the leaderboard) and
    /// refreshes the names it shows.
    pub async fn project(&self) {
        self.app.drain().await;
    }

    pub fn notifier_config(&self) -> NotifierConfig {
        NotifierConfig {
            coalesce_window: Duration::from_millis(300),
            ..NotifierConfig::default()
        }
    }
}

/// Short, exact delays and a real timeout.
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

/// A private text message from a user to the bot.
pub fn private(update_id: i64, user_id: i64, text: &str, language: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id % 100_000,
            "from": {"id": user_id, "is_bot": false, "first_name": "Анна",
                     "username": "anna_runs", "language_code": language},
            "chat": {"id": user_id, "type": "private", "first_name": "Анна"},
            "date": chrono::Utc::now().timestamp(),
            "text": text
        }
    })
}

pub fn bot_path(method_name: &str) -> String {
    format!("/bot{BOT_TOKEN}/{method_name}")
}

pub fn ok(result: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": result}))
}

/// `sendMessage` answers with message ids 1, 2, 3…
pub struct Sent(pub AtomicI64);

impl Respond for Sent {
    fn respond(&self, request: &Received) -> ResponseTemplate {
        let id = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        ok(json!({"message_id": id, "date": 1767000000,
                  "chat": {"id": body["chat_id"], "type": "private"}}))
    }
}

/// `groups.isMember` answers 1 or 0 from the flag.
struct IsMember(Arc<AtomicBool>);

impl Respond for IsMember {
    fn respond(&self, _: &Received) -> ResponseTemplate {
        let member = u8::from(self.0.load(Ordering::SeqCst));
        ResponseTemplate::new(200).set_body_json(json!({"response": member}))
    }
}

async fn mount_defaults(server: &MockServer, vk_member: Arc<AtomicBool>) {
    Mock::given(method("POST"))
        .and(path(bot_path("sendMessage")))
        .respond_with(Sent(AtomicI64::new(0)))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(bot_path("getChatMember")))
        .respond_with(ok(
            json!({"status": "left", "user": {"id": ANNA, "is_bot": false,
            "first_name": "Анна"}}),
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/method/groups.isMember"))
        .respond_with(IsMember(vk_member))
        .mount(server)
        .await;
    assert!(!VK_GROUP.is_empty());
}
