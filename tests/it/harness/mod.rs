//! The one test harness: [`TestApp`] is the whole application over a fresh database (the one
//! `#[sqlx::test]` creates), with the fixtures' secrets and channels. Requests go through its
//! router in process; [`TestApp::serve`] puts the same application on a loopback port (port 0)
//! for clients that need a socket (the browser, `reqwest`). The clients built on it: signed
//! platform deliveries (here), the admin panel ([`admin`]) and the Mini App ([`mini_app`]).

pub mod admin;
pub mod mini_app;
mod server;

pub use server::TestServer;

use crate::helpers::{TestLedger, at};
use api::{AppState, router};
use app::config::ServeConfig;
use app::ingest::channels;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use domain::StreamId;
use domain::campaign::NewCampaign;
use domain::codeword::Codeword;
use domain::ids::{CampaignId, MemberId, ProgramId};
use domain::member::MemberState;
use domain::network::{ExternalIdentity, LinkedAccount, Network};
use domain::points::Points;
use loyalty::simulate::Delivery;
use projections::{Projection, Runner};
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

pub const IG_APP_SECRET: &str = "6c3f1b2a9d8e7f60a1b2c3d4e5f60718";
pub const IG_VERIFY_TOKEN: &str = "fixture-verify-token";
pub const IG_BRAND: &str = "17841400000000001";
pub const VK_GROUP: &str = "229871234";
pub const VK_SECRET: &str = "vk-fixture-secret-7Hq2";
pub const VK_CONFIRMATION: &str = "a1b2c3d4";
pub const TG_SECRET: &str = "tg-fixture-secret_9xQ-2";
pub const TG_GROUP: &str = "-1002233445566";
pub const TG_CHANNEL: &str = "-1001122334455";

pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/fixtures/platforms/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// `application/x-www-form-urlencoded` for a value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `sha256=` + hex HMAC-SHA256 of the body, as Meta signs Instagram webhooks.
pub fn sign(body: &[u8], secret: &str) -> String {
    loyalty::simulate::instagram_signature(body, secret)
}

/// The configuration the fixtures were signed for: every default, plus the fixtures' webhook
/// secrets.
pub fn fixture_config() -> ServeConfig {
    let mut config = ServeConfig::for_tests();
    config.instagram.app_secret = IG_APP_SECRET.to_string().into();
    config.instagram.verify_token = IG_VERIFY_TOKEN.to_string().into();
    config.telegram.webhook_secret = TG_SECRET.to_string().into();
    config
}

pub struct TestApp {
    pub t: TestLedger,
    pub pool: PgPool,
    pub state: AppState,
    router: Router,
}

/// An answer from the application.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The error envelope's code (empty when there is none).
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// A reply's body as JSON, `Null` when it is not JSON.
pub fn json_of(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or(Value::Null)
}

impl TestApp {
    pub async fn new(pool: PgPool) -> Self {
        Self::with_config(pool, |_, _| {}).await
    }

    /// The application with [`fixture_config`] changed by `configure`, which also gets the
    /// fixtures' program.
    pub async fn with_config(
        pool: PgPool,
        configure: impl FnOnce(&mut ServeConfig, ProgramId),
    ) -> Self {
        let t = TestLedger::new(pool.clone()).await;
        let program = t.program_id();
        // The fixture configuration's privacy key is the development one.
        let secrets = app::config::dev_secret_box();
        channels::bind(
            &pool,
            &secrets,
            Network::Instagram,
            IG_BRAND,
            program,
            None,
            None,
        )
        .await
        .unwrap();
        channels::bind(
            &pool,
            &secrets,
            Network::Vk,
            VK_GROUP,
            program,
            Some(VK_SECRET),
            Some(VK_CONFIRMATION),
        )
        .await
        .unwrap();
        for chat in [TG_GROUP, TG_CHANNEL] {
            channels::bind(
                &pool,
                &secrets,
                Network::Telegram,
                chat,
                program,
                None,
                None,
            )
            .await
            .unwrap();
        }
        let mut config = fixture_config();
        configure(&mut config, program);
        let context = app::AppContext::new(t.ledger.clone(), pool.clone(), config).unwrap();
        let state = AppState::new(context);
        Self {
            t,
            pool,
            router: router(state.clone()),
            state,
        }
    }

    /// Another program in the same database, with no channels.
    pub async fn another_program(&self) -> ProgramId {
        let program_id = ProgramId(Uuid::new_v4());
        self.t
            .ledger
            .create_program(
                program_id,
                "Other brand",
                chrono_tz::Europe::Moscow,
                domain::program::Rules::standard(),
                &crate::helpers::manager(),
            )
            .await
            .unwrap();
        program_id
    }

    /// A second process serving the same program from the same database: its own ledger,
    /// caches and account references in memory, as a second `serve` would have.
    pub async fn another_process(&self) -> TestApp {
        let ledger = app::Ledger::new(
            store::EventStore::new(self.pool.clone()),
            app::LedgerConfig::default(),
        );
        let program = ledger.program(self.t.program_id()).await.unwrap();
        let accounts =
            app::accounts::Accounts::new(self.pool.clone(), app::config::dev_privacy_keys());
        let context =
            app::AppContext::new(ledger.clone(), self.pool.clone(), fixture_config()).unwrap();
        let state = AppState::new(context);
        TestApp {
            t: TestLedger {
                ledger,
                program,
                accounts,
            },
            pool: self.pool.clone(),
            router: router(state.clone()),
            state,
        }
    }

    /// The same application serving HTTP on a free loopback port, with its projection workers,
    /// until the server is dropped.
    pub async fn serve(&self) -> TestServer {
        TestServer::start(self.state.clone()).await
    }

    /// One request through the application's router.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A platform delivery built by `loyalty::simulate`, signed as the platform signs it.
    pub async fn deliver(&self, delivery: &Delivery) -> Reply {
        let mut request = Request::post(delivery.path);
        for (name, value) in &delivery.headers {
            request = request.header(*name, value);
        }
        self.send(request.body(Body::from(delivery.body.clone())).unwrap())
            .await
    }

    /// Folds everything appended so far into the read models, and refreshes the leaderboards
    /// and the names of the programs whose name directory is loaded.
    pub async fn drain(&self) {
        for projection in Projection::ALL {
            Runner::new(self.pool.clone(), projection)
                .drain()
                .await
                .unwrap();
        }
        self.state.boards.catch_up_to_read_model().await.unwrap();
        self.state.names.refresh().await.unwrap();
    }

    pub async fn instagram(&self, body: Vec<u8>, signature: Option<&str>) -> Reply {
        let mut request =
            Request::post("/webhooks/instagram").header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    pub async fn instagram_fixture(&self, name: &str) -> Reply {
        let body = fixture(&format!("instagram/{name}"));
        let signature = sign(&body, IG_APP_SECRET);
        self.instagram(body, Some(&signature)).await
    }

    pub async fn vk(&self, body: Vec<u8>) -> Reply {
        self.send(
            Request::post("/webhooks/vk")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    pub async fn vk_fixture(&self, name: &str) -> Reply {
        self.vk(fixture(&format!("vk/{name}"))).await
    }

    pub async fn telegram(&self, body: Vec<u8>, secret: Option<&str>) -> Reply {
        let mut request = Request::post("/webhooks/telegram");
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    pub async fn telegram_fixture(&self, name: &str) -> Reply {
        self.telegram(fixture(&format!("telegram/{name}")), Some(TG_SECRET))
            .await
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Appends `event` to the member's stream as it is, past every decider: what a forger with
    /// database access could write, for the audit to find.
    pub async fn append_undecided(&self, member: domain::ids::MemberId, event: domain::Event) {
        self.t
            .ledger
            .execute::<domain::member::MemberState>(
                self.t.program_id().0,
                uuid::Uuid::new_v4(),
                store::Metadata::default(),
                &domain::StreamId::Member(member),
                |_| Ok(vec![event.clone()]),
            )
            .await
            .unwrap();
    }

    pub async fn events_of_type(&self, event_type: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
            .bind(event_type)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// The account's reference in the test program, issued now if it is new.
    pub async fn account(&self, identity: &ExternalIdentity) -> LinkedAccount {
        self.state
            .accounts()
            .resolve(self.t.program_id(), identity)
            .await
            .unwrap()
    }

    pub async fn member_of(&self, identity: &ExternalIdentity) -> Option<MemberId> {
        let program = self.t.program_id();
        let account = self
            .state
            .accounts()
            .find(program, identity)
            .await
            .unwrap()?;
        self.t
            .ledger
            .identity_owner(program, &account)
            .await
            .unwrap()
    }

    /// Balance of the member owning an account (0 if nobody does).
    pub async fn balance_of(&self, identity: &ExternalIdentity) -> i64 {
        match self.member_of(identity).await {
            Some(m) => {
                self.t
                    .ledger
                    .load::<MemberState>(&StreamId::Member(m))
                    .await
                    .unwrap()
                    .state
                    .balance
            }
            None => 0,
        }
    }

    /// The fixtures' codeword campaign (СЕКРЕТ, 50 points, all of 2026).
    pub async fn codeword_campaign(&self) -> CampaignId {
        let campaign_id = CampaignId(Uuid::new_v4());
        self.t
            .ledger
            .create_campaign(NewCampaign {
                campaign_id,
                program_id: self.t.program_id(),
                name: "Secret word".into(),
                codeword: Codeword::parse("СЕКРЕТ").unwrap(),
                points: Points::new(50).unwrap(),
                starts_at: at(0) - chrono::Duration::days(365),
                ends_at: at(0) + chrono::Duration::days(365),
                total_cap: Some(100),
                networks: Network::ALL.to_vec(),
                target_post: None,
                description: Some("Найдите слово в наших постах".into()),
                by: "manager:olga".into(),
                at: at(0),
            })
            .await
            .unwrap();
        campaign_id
    }
}

pub fn anna_vk() -> ExternalIdentity {
    ExternalIdentity::new(Network::Vk, "", "715002001")
}

pub fn boris_ig() -> ExternalIdentity {
    ExternalIdentity::new(Network::Instagram, IG_BRAND, "2233445566778899")
}

pub fn anna_tg() -> ExternalIdentity {
    ExternalIdentity::new(Network::Telegram, "", "5000000001")
}

/// Waits (up to 10 s) until log readers see every appended event: they read below the oldest
/// transaction that may still append (in this cluster), so an append still committing, here or
/// in another test's database, could otherwise show a follower the log in two parts.
/// A transaction holding the advisory lock of the background job `name`, as another process
/// running it would; roll it back to let go.
pub async fn hold_job_lock(
    pool: &PgPool,
    name: &str,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1), 0)")
        .bind(name)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

pub async fn log_visible_to_readers(pool: &PgPool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let visible: bool = sqlx::query_scalar(
            "SELECT coalesce(max(tx_id), 0) < (SELECT events_read_horizon()) FROM events",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if visible {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the log's horizon did not pass its last event"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
