//! The Mini App's client: initData signed as Telegram signs it (with the fixture bot token,
//! through `api::mini_app::dev::sign_init_data`), and calls to /api/v1/app with it.

use super::{IG_BRAND, Reply, TestApp, json_of};
use api::AppState;
use app::ManagerAction;
use app::config::ServeConfig;
use app::ingest::profiles::{Profile, upsert_profile};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use domain::event::LinkMethod;
use domain::ids::{MemberId, RedemptionId, RewardId};
use domain::network::{ExternalIdentity, Network};
use domain::points::{Points, PointsDelta};
use domain::reward::RewardCommand;
use serde_json::{Value, json};
use sqlx::PgPool;
use store::Metadata;
use uuid::Uuid;

/// The fixture bot token (tests/fixtures/platforms/README.md).
pub const BOT_TOKEN: &str = "7000000001:AAHf1xTuReS-0nLy_4_t3sTs_q9W2e4R6t8Y";
pub const ANNA: i64 = 5_000_000_001;
pub const XSS: &str = "<img src=x onerror=alert(1)>";

// ---------- initData, signed as Telegram signs it ----------

/// initData for `user`, issued at `auth_date`, signed with `token` as Telegram does (the
/// signer is checked against an independent one in the adapters' tests).
pub fn init_data_signed(user: &Value, auth_date: i64, token: &str) -> String {
    let fields = [
        ("auth_date", auth_date.to_string()),
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc".to_string()),
        ("user", user.to_string()),
    ];
    api::mini_app::dev::sign_init_data(&fields, token)
}

pub fn user(id: i64, first_name: &str, username: &str, lang: &str) -> Value {
    json!({"id": id, "first_name": first_name, "username": username, "language_code": lang})
}

/// Fresh initData for a user, valid now.
pub fn init_data(user: &Value) -> String {
    init_data_signed(user, Utc::now().timestamp(), BOT_TOKEN)
}

pub fn anna() -> String {
    let mut anna = user(ANNA, "Анна", "anna_runs", "ru");
    anna["last_name"] = "Смирнова".into();
    init_data(&anna)
}

// ---------- the application with the Mini App configured ----------

/// The fixtures' application plus the Mini App's configuration: the bot token and the program.
pub struct MiniApp {
    pub app: TestApp,
    pub state: AppState,
}

impl MiniApp {
    pub async fn new(pool: PgPool) -> MiniApp {
        MiniApp::with_config(pool, |_| {}).await
    }

    /// The Mini App with its configuration changed by `configure`.
    pub async fn with_config(pool: PgPool, configure: impl FnOnce(&mut ServeConfig)) -> MiniApp {
        let app = TestApp::with_config(pool, |config, program| {
            config.program = Some(program.0);
            config.telegram.bot_token = BOT_TOKEN.to_string().into();
            configure(config);
        })
        .await;
        let state = app.state.clone();
        MiniApp { app, state }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        init_data: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(init_data) = init_data {
            request = request.header("authorization", format!("tma {init_data}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.app.send(request.body(body).unwrap()).await
    }

    /// A GET with initData; the body as JSON.
    pub async fn get(&self, path: &str, init_data: &str) -> (StatusCode, Value) {
        let reply = self.call("GET", path, Some(init_data), None, &[]).await;
        (reply.status, json_of(&reply))
    }

    /// Signs in (first visit registers) and returns the member.
    pub async fn sign_in(&self, init_data: &str) -> MemberId {
        let (status, me) = self.get("/api/v1/app/me", init_data).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        MemberId(me["member_id"].as_str().unwrap().parse().unwrap())
    }

    /// Folds everything appended so far into the read models, and refreshes the names of the
    /// programs whose name directory is loaded.
    pub async fn drain(&self) {
        self.app.drain().await;
    }

    pub async fn give(&self, member: MemberId, points: i64) {
        self.app
            .t
            .ledger
            .adjust_points(
                self.app.t.program_id(),
                member,
                PointsDelta::new(points).unwrap(),
                "welcome bonus",
                None,
                &now_action(),
            )
            .await
            .unwrap();
    }

    pub async fn list_reward(&self, title: &str, cost: i64, stock: u32) -> RewardId {
        let reward_id = RewardId(Uuid::new_v4());
        let program_id = self.app.t.program_id();
        self.app
            .t
            .ledger
            .reward_command(program_id, reward_id, &now_action(), || {
                RewardCommand::List {
                    reward_id,
                    program_id,
                    title: title.into(),
                    cost: Points::new(cost).unwrap(),
                    stock,
                    terms: Default::default(),
                    by: "manager:olga".into(),
                    at: Utc::now().into(),
                }
            })
            .await
            .unwrap();
        reward_id
    }

    /// Another member on the leaderboard, known by a profile of a linked Telegram account.
    pub async fn rival(&self, telegram_id: i64, name: &str, points: i64) -> MemberId {
        let member = self.app.t.member().await;
        let identity = ExternalIdentity::new(Network::Telegram, "", telegram_id.to_string());
        self.link_named(member, identity, Some(name)).await;
        self.give(member, points).await;
        member
    }

    /// Links another account to `member` (as a manager would) and writes its profile.
    pub async fn link_named(
        &self,
        member: MemberId,
        identity: ExternalIdentity,
        name: Option<&str>,
    ) {
        let program = self.app.t.program_id();
        let account = self.app.account(&identity).await;
        self.app
            .t
            .ledger
            .link_account(
                program,
                member,
                account,
                LinkMethod::Manager,
                Metadata::default(),
                Utc::now().into(),
            )
            .await
            .unwrap();
        if let Some(name) = name {
            self.write_profile(identity, name).await;
        }
    }

    /// Writes an account's profile, as a webhook or the bot does.
    pub async fn write_profile(&self, identity: ExternalIdentity, display_name: &str) {
        let profile = Profile {
            program_id: self.app.t.program_id().0,
            account: self.app.account(&identity).await.account,
            username: None,
            display_name: Some(display_name.into()),
            language_code: None,
        };
        upsert_profile(&self.state.pool, &profile).await.unwrap();
    }

    /// A manager cancels one of `member`'s redemptions, with `reason`.
    pub async fn cancel_redemption(
        &self,
        member: MemberId,
        reward: RewardId,
        redemption: Uuid,
        reason: &str,
    ) {
        self.app
            .t
            .ledger
            .cancel_redemption(
                self.app.t.program_id(),
                member,
                reward,
                RedemptionId(redemption),
                reason,
                &now_action(),
            )
            .await
            .unwrap();
    }

    /// A comment from the Instagram account `from`, delivered signed as Meta sends it.
    pub async fn comment_on_instagram(&self, from: &str, comment_id: &str, text: &str) -> Reply {
        let body = instagram_comment(from, "anna_runs", comment_id, text);
        let signature = super::sign(&body, super::IG_APP_SECRET);
        self.app.instagram(body, Some(&signature)).await
    }

    pub async fn events_of_type(&self, event_type: &str) -> i64 {
        self.app.events_of_type(event_type).await
    }
}

pub fn now_action() -> ManagerAction {
    ManagerAction {
        manager: "manager:olga".into(),
        request_id: Uuid::new_v4(),
        at: Utc::now().into(),
    }
}

pub fn instagram_comment(from_id: &str, username: &str, comment_id: &str, text: &str) -> Vec<u8> {
    json!({"object": "instagram", "entry": [{"id": IG_BRAND, "time": Utc::now().timestamp(),
        "changes": [{"field": "comments", "value": {
            "from": {"id": from_id, "username": username},
            "media": {"id": "18031234567890123", "media_product_type": "FEED"},
            "id": comment_id, "text": text}}]}]})
    .to_string()
    .into_bytes()
}
