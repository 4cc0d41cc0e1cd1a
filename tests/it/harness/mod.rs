//! A whole application in process, with the fixtures' secrets and channels, and one method per
//! endpoint.

use crate::helpers::{TestLedger, at};
use api::{AppState, router};
use app::config::ServeConfig;
use app::ingest::channels;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use clap::Parser;
use domain::StreamId;
use domain::campaign::NewCampaign;
use domain::codeword::Codeword;
use domain::ids::{CampaignId, MemberId};
use domain::member::MemberState;
use domain::network::{ExternalIdentity, Network};
use domain::points::Points;
use hmac::{Hmac, Mac};
use sha2::Sha256;
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

pub fn sign(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    config: ServeConfig,
}

pub struct TestApp {
    pub t: TestLedger,
    pub pool: PgPool,
    router: Router,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: String,
}

impl TestApp {
    pub async fn new(pool: PgPool) -> Self {
        let t = TestLedger::new(pool.clone()).await;
        let program = t.program_id();
        channels::bind(&pool, Network::Instagram, IG_BRAND, program, None, None)
            .await
            .unwrap();
        channels::bind(
            &pool,
            Network::Vk,
            VK_GROUP,
            program,
            Some(VK_SECRET),
            Some(VK_CONFIRMATION),
        )
        .await
        .unwrap();
        for chat in [TG_GROUP, TG_CHANNEL] {
            channels::bind(&pool, Network::Telegram, chat, program, None, None)
                .await
                .unwrap();
        }
        let config = Args::parse_from([
            "test",
            "--instagram-app-secret",
            IG_APP_SECRET,
            "--instagram-verify-token",
            IG_VERIFY_TOKEN,
            "--telegram-webhook-secret",
            TG_SECRET,
        ])
        .config;
        let state = AppState::new(app::AppContext::new(t.ledger.clone(), pool.clone(), config));
        Self {
            t,
            pool,
            router: router(state),
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
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

    pub async fn member_of(&self, identity: &ExternalIdentity) -> Option<MemberId> {
        self.t
            .ledger
            .identity_owner(self.t.program_id(), identity)
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
