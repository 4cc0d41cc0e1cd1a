//! The Mini App: its API under /api/v1/app, authenticated by Telegram initData signed here with
//! the fixture bot token, and the page at /app in headless Chromium.

use crate::app::{IG_APP_SECRET, IG_BRAND, Reply, TestApp, sign};
use crate::browser::{Browser, TestServer};
use api::{AppState, router};
use app::ManagerAction;
use app::config::ServeConfig;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use chrono::Utc;
use clap::Parser;
use domain::StreamId;
use domain::event::LinkMethod;
use domain::ids::{MemberId, RewardId};
use domain::network::{ExternalIdentity, Network};
use domain::points::{Points, PointsDelta};
use domain::reward::{RewardCommand, RewardState};
use projections::identities::{Profile, upsert_profile};
use projections::{Projection, Runner};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use store::Metadata;
use tower::ServiceExt;
use uuid::Uuid;

/// The fixture bot token (tests/fixtures/platforms/README.md).
pub const BOT_TOKEN: &str = "7000000001:AAHf1xTuReS-0nLy_4_t3sTs_q9W2e4R6t8Y";
pub const ANNA: i64 = 5_000_000_001;
pub const XSS: &str = "<img src=x onerror=alert(1)>";

/// The fixtures' valid initData: correctly signed, but issued on 2026-01-01.
const FIXTURE_INIT_DATA: &str = "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A5000000001%2C%22first_name%22%3A%22%D0%90%D0%BD%D0%BD%D0%B0%22%2C%22last_name%22%3A%22%D0%A1%D0%BC%D0%B8%D1%80%D0%BD%D0%BE%D0%B2%D0%B0%22%2C%22username%22%3A%22anna_runs%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2Fanna.svg%22%7D&auth_date=1767268800&signature=KKgYIzZfzgAUNOjw0RdM8xnrL2GL6bf-GpLdiJ0nRTrEvKvY6omkIgvYRXLMJA-H96Sy8XtaEExXokCTP2fRBw&hash=ce8fd05b8ccd757e0edc4006c4a6445747982bab5241bd05cf8ab24068a6263d";

// ---------- initData, signed as Telegram signs it ----------

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

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    config: ServeConfig,
}

/// The fixtures' application (webhooks, channels) plus the Mini App's configuration: the bot
/// token and the program. Both routers share one ledger.
pub struct MiniApp {
    pub app: TestApp,
    pub state: AppState,
    router: Router,
}

impl MiniApp {
    pub async fn new(pool: PgPool) -> MiniApp {
        MiniApp::with_args(pool, &[]).await
    }

    pub async fn with_args(pool: PgPool, extra: &[&str]) -> MiniApp {
        let app = TestApp::new(pool.clone()).await;
        let program = app.t.program_id().to_string();
        let mut args = vec!["test", "--program", &program];
        if !extra.contains(&"--telegram-bot-token") {
            args.extend(["--telegram-bot-token", BOT_TOKEN]);
        }
        args.extend_from_slice(extra);
        let config = Args::parse_from(args).config;
        let state = AppState::new(app::AppContext::new(app.t.ledger.clone(), pool, config));
        let router = router(state.clone());
        MiniApp { app, state, router }
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
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
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
        for projection in Projection::ALL {
            Runner::new(self.state.pool.clone(), projection)
                .drain()
                .await
                .unwrap();
        }
        self.state.boards.catch_up().await.unwrap();
        self.state.names.refresh().await.unwrap();
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
        self.app
            .t
            .ledger
            .link_account(
                program,
                member,
                identity.clone(),
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
            identity,
            username: None,
            display_name: Some(display_name.into()),
            language_code: None,
        };
        upsert_profile(&self.state.pool, &profile).await.unwrap();
    }

    pub async fn events_of_type(&self, event_type: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
            .bind(event_type)
            .fetch_one(&self.state.pool)
            .await
            .unwrap()
    }
}

pub fn now_action() -> ManagerAction {
    ManagerAction {
        manager: "manager:olga".into(),
        request_id: Uuid::new_v4(),
        at: Utc::now().into(),
    }
}

pub fn json_of(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or(Value::Null)
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

// ---------- authentication ----------

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn valid_init_data_signs_the_member_in_and_shows_the_balance(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let (status, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["first_name"], "Анна");
    assert_eq!(me["language"], "ru");
    assert_eq!(me["balance"]["current"], 0);
    assert_eq!(me["accounts"][0]["network"], "telegram");
    assert_eq!(me["accounts"][0]["external_id"], ANNA.to_string());
    assert_eq!(me["accounts"][0]["can_unlink"], false);
    let member = MemberId(me["member_id"].as_str().unwrap().parse().unwrap());
    let telegram = ExternalIdentity::new(Network::Telegram, "", ANNA.to_string());
    assert_eq!(m.app.member_of(&telegram).await, Some(member));

    m.give(member, 120).await;
    m.drain().await;
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(me["balance"]["current"], 120);
    assert_eq!(me["balance"]["earned"], 120);
    assert_eq!(me["rank"]["all_time"]["rank"], 1);
    assert_eq!(me["rank"]["week"]["score"], 120);
    let instagram = &me["subscriptions"][0];
    assert_eq!(
        (instagram["network"].as_str(), instagram["status"].as_str()),
        (Some("instagram"), Some("unverifiable"))
    );
    assert!(
        instagram["note"]
            .as_str()
            .unwrap()
            .contains("кодовое слово")
    );

    // The second visit is the same member; names went to profiles, never into events.
    assert_eq!(m.sign_in(&anna()).await, member);
    let names: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE payload::text LIKE '%Анна%' OR payload::text LIKE '%anna_runs%'")
        .fetch_one(&m.state.pool)
        .await
        .unwrap();
    assert_eq!(names, 0);
    let profile: (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT display_name, username FROM profiles WHERE network = 'telegram' AND external_id = $1",
    )
    .bind(ANNA.to_string())
    .fetch_one(&m.state.pool)
    .await
    .unwrap();
    assert_eq!(
        profile,
        (Some("Анна Смирнова".into()), Some("anna_runs".into()))
    );
}

/// The largest `init_data_max_age_secs` the configuration accepts works: initData almost that
/// old signs in, older is refused, nothing panics (above about 9.2e15 every request used to).
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_largest_init_data_max_age_accepted_signs_in_and_refuses_older(pool: PgPool) {
    let largest = app::config::limits::INIT_DATA_MAX_AGE_SECS
        .end()
        .to_string();
    let m = MiniApp::with_args(pool, &["--init-data-max-age-secs", &largest]).await;
    let anna = user(ANNA, "Анна", "anna_runs", "ru");
    let now = Utc::now().timestamp();
    let max_age = *app::config::limits::INIT_DATA_MAX_AGE_SECS.end();
    m.sign_in(&init_data_signed(&anna, now - max_age + 60, BOT_TOKEN))
        .await;
    let older = init_data_signed(&anna, now - max_age - 60, BOT_TOKEN);
    let reply = m
        .call("GET", "/api/v1/app/me", Some(&older), None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert!(reply.body.contains("expired"), "{}", reply.body);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn forged_expired_or_missing_init_data_is_refused_and_changes_nothing(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let reward = m.list_reward("Coffee", 10, 5).await;
    let events = m.app.event_count().await;
    let now = Utc::now().timestamp();
    let anna = user(ANNA, "Анна", "anna_runs", "ru");
    let tampered = anna_init_data_with_other_user();
    let cases = [
        (None, "missing Authorization"),
        (Some(String::new()), "must be `tma <initData>`"),
        (
            Some(init_data_signed(&anna, now, "7000000001:wrong-token")),
            "signature is invalid",
        ),
        (Some(tampered), "signature is invalid"),
        (Some(FIXTURE_INIT_DATA.to_string()), "expired"),
        (
            Some(init_data_signed(&anna, now - 86_400 - 60, BOT_TOKEN)),
            "expired",
        ),
        (
            Some(init_data_signed(&anna, now + 3_600, BOT_TOKEN)),
            "in the future",
        ),
        (Some("user=%7B%7D&auth_date=1".to_string()), "no hash"),
    ];
    for (init_data, why) in &cases {
        for (method, path) in [
            ("GET", "/api/v1/app/me".to_string()),
            ("POST", format!("/api/v1/app/rewards/{}/redeem", reward.0)),
            ("POST", "/api/v1/app/links".to_string()),
        ] {
            let body = (method == "POST").then(|| json!({"network": "vk"}));
            let headers = [("Idempotency-Key", "k")];
            let reply = m
                .call(method, &path, init_data.as_deref(), body, &headers)
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{why}: {}",
                reply.body
            );
            let error = json_of(&reply);
            assert_eq!(error["error"]["code"], "unauthorized");
            let message = error["error"]["message"].as_str().unwrap();
            assert!(message.contains(why), "{message} should say {why}");
        }
    }
    // A wrong scheme is refused the same way.
    let bearer = m
        .call(
            "GET",
            "/api/v1/app/me",
            None,
            None,
            &[("authorization", "Bearer x")],
        )
        .await;
    assert_eq!(bearer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(m.app.event_count().await, events);
    let written: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM profiles) + (SELECT count(*) FROM link_codes)",
    )
    .fetch_one(&m.state.pool)
    .await
    .unwrap();
    assert_eq!(written, 0);
}

/// Valid initData whose `user` was edited after signing.
fn anna_init_data_with_other_user() -> String {
    let signed = anna();
    let forged = encode(&user(ANNA + 1, "Анна", "anna_runs", "ru").to_string());
    let start = signed.find("user=").unwrap() + "user=".len();
    let end = signed[start..]
        .find('&')
        .map_or(signed.len(), |i| start + i);
    format!("{}{forged}{}", &signed[..start], &signed[end..])
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn without_a_bot_token_the_mini_app_is_off(pool: PgPool) {
    let m = MiniApp::with_args(pool, &["--telegram-bot-token", ""]).await;
    // initData "signed" with an empty token must not pass: the API refuses to run at all.
    let forged = init_data_signed(&user(ANNA, "A", "a", "en"), Utc::now().timestamp(), "");
    let (status, body) = m.get("/api/v1/app/me", &forged).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "not_configured");
    let (_, config) = m.get("/api/v1/app/config", "").await;
    assert_eq!(config["configured"], false);
}

// ---------- rewards ----------

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn redeeming_is_atomic_and_a_repeated_key_pays_once(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 150).await;
    let coffee = m.list_reward("Coffee", 100, 5).await;
    let mug = m.list_reward("Mug", 10, 5).await;
    let path = format!("/api/v1/app/rewards/{}/redeem", coffee.0);
    let signed_in = anna();
    let tap = || {
        m.call(
            "POST",
            &path,
            Some(&signed_in),
            None,
            &[("Idempotency-Key", "tap-1")],
        )
    };

    // A double tap: two requests at once with one key.
    let (first, second) = futures::join!(tap(), tap());
    assert_eq!(
        (first.status, second.status),
        (StatusCode::OK, StatusCode::OK),
        "{}",
        second.body
    );
    let (first, second) = (json_of(&first), json_of(&second));
    let code = first["coupon_code"].as_str().unwrap();
    assert!(code.starts_with("CPN-") && code.len() == 13, "{code}");
    assert_eq!(second["coupon_code"], code);
    assert_eq!(second["redemption_id"], first["redemption_id"]);
    assert_eq!(first["balance"], 50);
    assert_eq!(second["balance"], 50);
    assert_eq!(first["title"], "Coffee");
    assert!(first["repeated"] != second["repeated"]);
    // Later retries of the key, by header or body, get the same coupon.
    let again = m
        .call(
            "POST",
            &path,
            Some(&anna()),
            Some(json!({"idempotency_key": "tap-1"})),
            &[],
        )
        .await;
    assert_eq!(json_of(&again)["coupon_code"], code);
    assert_eq!(json_of(&again)["repeated"], true);
    assert_eq!(m.events_of_type("RewardRedeemed").await, 1);
    assert_eq!(m.events_of_type("RewardIssued").await, 1);
    assert_eq!(m.app.t.balance(member).await, 50);
    let stock = m
        .app
        .t
        .ledger
        .load::<RewardState>(&StreamId::Reward(coffee))
        .await
        .unwrap();
    assert_eq!(stock.state.stock, 4);

    // Not enough points: 409 in the envelope, and nothing recorded.
    let events = m.app.event_count().await;
    let poor = m
        .call(
            "POST",
            &path,
            Some(&anna()),
            None,
            &[("Idempotency-Key", "tap-2")],
        )
        .await;
    assert_eq!(poor.status, StatusCode::CONFLICT, "{}", poor.body);
    assert_eq!(json_of(&poor)["error"]["code"], "insufficient_balance");
    assert!(
        json_of(&poor)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("50 points")
    );
    assert_eq!(m.app.event_count().await, events);

    // A key names one redemption: reusing it for another reward is refused.
    let mug_path = format!("/api/v1/app/rewards/{}/redeem", mug.0);
    let reused = m
        .call(
            "POST",
            &mug_path,
            Some(&anna()),
            None,
            &[("Idempotency-Key", "tap-1")],
        )
        .await;
    assert_eq!(reused.status, StatusCode::CONFLICT);
    assert_eq!(json_of(&reused)["error"]["code"], "idempotency_key_reused");
    let keyless = m.call("POST", &mug_path, Some(&anna()), None, &[]).await;
    assert_eq!(keyless.status, StatusCode::BAD_REQUEST);
    let unknown = format!("/api/v1/app/rewards/{}/redeem", Uuid::new_v4());
    let missing = m
        .call(
            "POST",
            &unknown,
            Some(&anna()),
            None,
            &[("Idempotency-Key", "x")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // The read models show the coupon and the stock.
    m.drain().await;
    let (_, rewards) = m.get("/api/v1/app/rewards", &anna()).await;
    assert_eq!(rewards["coupons"][0]["coupon_code"], code);
    assert_eq!(rewards["coupons"][0]["title"], "Coffee");
    let listed = rewards["rewards"].as_array().unwrap();
    let coffee_row = listed.iter().find(|r| r["title"] == "Coffee").unwrap();
    assert_eq!(coffee_row["stock"], 4);
    assert_eq!(coffee_row["cost"], 100);
}

// ---------- linking ----------

/// A NUL (U+0000) in a Mini App path, query or body is 400 and changes nothing.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn text_with_a_nul_character_is_400_and_changes_nothing(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    m.sign_in(&anna()).await;
    let events = m.app.event_count().await;
    let idempotency = [("idempotency-key", "k-1")];
    let refused = [
        ("GET", "/api/v1/app/links/LINK-%00".to_string(), None),
        ("DELETE", "/api/v1/app/links/LINK-%00".to_string(), None),
        (
            "DELETE",
            "/api/v1/app/accounts/instagram/1%00".to_string(),
            None,
        ),
        (
            "POST",
            format!("/api/v1/app/rewards/{}%00/redeem", Uuid::nil()),
            None,
        ),
        ("GET", "/api/v1/app/history?cursor=%00".to_string(), None),
        (
            "POST",
            "/api/v1/app/links".to_string(),
            Some(json!({"network": "instagram\u{0}"})),
        ),
    ];
    for (method, path, body) in refused {
        let reply = m
            .call(method, &path, Some(&anna()), body, &idempotency)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{method} {path}: {}",
            reply.body
        );
        assert_eq!(json_of(&reply)["error"]["code"], "nul_character", "{path}");
    }
    assert_eq!(m.app.event_count().await, events, "nothing was recorded");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_link_code_posted_from_instagram_links_that_account(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    let created = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"network": "instagram"})),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let link = json_of(&created);
    let code = link["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("LINK-"));
    assert_eq!(link["status"], "pending");
    assert!(
        link["instructions"]["ru"][1]
            .as_str()
            .unwrap()
            .contains(&code)
    );
    assert!(
        link["instructions"]["en"][1]
            .as_str()
            .unwrap()
            .contains(&code)
    );

    let body = instagram_comment(
        "9988776655",
        "anna_insta",
        "17990000000000777",
        &format!("мой код {code}"),
    );
    let signature = sign(&body, IG_APP_SECRET);
    assert_eq!(
        m.app.instagram(body, Some(&signature)).await.status,
        StatusCode::OK
    );

    let (_, status) = m.get(&format!("/api/v1/app/links/{code}"), &anna()).await;
    assert_eq!(status["status"], "used");
    let account = ExternalIdentity::new(Network::Instagram, IG_BRAND, "9988776655");
    assert_eq!(m.app.member_of(&account).await, Some(member));
    m.drain().await;
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    let accounts = me["accounts"].as_array().unwrap();
    let instagram = accounts
        .iter()
        .find(|a| a["network"] == "instagram")
        .unwrap();
    assert_eq!(instagram["external_id"], "9988776655");
    assert_eq!(instagram["method"], "code");
    assert_eq!(instagram["can_unlink"], true);

    // A used code cannot be cancelled; another member cannot see it.
    let used = m
        .call(
            "DELETE",
            &format!("/api/v1/app/links/{code}"),
            Some(&anna()),
            None,
            &[],
        )
        .await;
    assert_eq!(used.status, StatusCode::CONFLICT);
    let boris = init_data(&user(5_000_000_002, "Boris", "boris", "en"));
    let (status, _) = m.get(&format!("/api/v1/app/links/{code}"), &boris).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Unlinking: the account goes, the Telegram account one is signed in with stays.
    let unlink = m
        .call(
            "DELETE",
            "/api/v1/app/accounts/instagram/9988776655",
            Some(&anna()),
            None,
            &[],
        )
        .await;
    assert_eq!(unlink.status, StatusCode::NO_CONTENT, "{}", unlink.body);
    assert_eq!(m.app.member_of(&account).await, None);
    let own = format!("/api/v1/app/accounts/telegram/{ANNA}");
    let refused = m.call("DELETE", &own, Some(&anna()), None, &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(me["accounts"].as_array().unwrap().len(), 1);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_cancelled_link_code_links_nothing(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    let created = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"network": "instagram"})),
            &[],
        )
        .await;
    let code = json_of(&created)["code"].as_str().unwrap().to_string();
    let cancelled = m
        .call(
            "DELETE",
            &format!("/api/v1/app/links/{code}"),
            Some(&anna()),
            None,
            &[],
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert_eq!(json_of(&cancelled)["status"], "cancelled");
    let twice = m
        .call(
            "DELETE",
            &format!("/api/v1/app/links/{code}"),
            Some(&anna()),
            None,
            &[],
        )
        .await;
    assert_eq!(json_of(&twice)["status"], "cancelled");

    let body = instagram_comment("9988776655", "anna_insta", "17990000000000778", &code);
    let signature = sign(&body, IG_APP_SECRET);
    assert_eq!(
        m.app.instagram(body, Some(&signature)).await.status,
        StatusCode::OK
    );
    let account = ExternalIdentity::new(Network::Instagram, IG_BRAND, "9988776655");
    assert_ne!(m.app.member_of(&account).await, Some(member));

    let telegram = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"network": "telegram"})),
            &[],
        )
        .await;
    assert_eq!(telegram.status, StatusCode::BAD_REQUEST);
    let bad_json = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"net": 1})),
            &[],
        )
        .await;
    assert_eq!(bad_json.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(&bad_json)["error"]["code"], "bad_request");
    for _ in 0..5 {
        m.call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"network": "vk"})),
            &[],
        )
        .await;
    }
    let flood = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"network": "vk"})),
            &[],
        )
        .await;
    assert_eq!(flood.status, StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn vk_id_links_the_account_the_provider_names(pool: PgPool) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/auth"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "vk-access", "refresh_token": "vk-refresh", "expires_in": 3600,
            "user_id": 715002999, "token_type": "Bearer"})))
        .mount(&provider)
        .await;
    let token_url = format!("{}/oauth2/auth", provider.uri());
    let authorize_url = format!("{}/authorize", provider.uri());
    let m = MiniApp::with_args(
        pool,
        &[
            "--vk-id-client-id",
            "54000001",
            "--vk-id-token-url",
            &token_url,
            "--vk-id-authorize-url",
            &authorize_url,
            "--public-url",
            "https://loyalty.example",
        ],
    )
    .await;
    let member = m.sign_in(&anna()).await;
    let (status, start) = m.get("/api/v1/app/links/vk-id/start", &anna()).await;
    assert_eq!(status, StatusCode::OK, "{start}");
    let url = reqwest::Url::parse(start["authorize_url"].as_str().unwrap()).unwrap();
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], "54000001");
    assert_eq!(
        query["redirect_uri"],
        "https://loyalty.example/api/v1/app/links/vk-id/callback"
    );
    assert_eq!(query["code_challenge_method"], "S256");
    let state = &query["state"];

    let callback =
        format!("/api/v1/app/links/vk-id/callback?code=c0de&state={state}&device_id=dev-1");
    let linked = m.call("GET", &callback, None, None, &[]).await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    assert!(linked.body.contains("VK account is linked"));
    let vk = ExternalIdentity::new(Network::Vk, "", "715002999");
    assert_eq!(m.app.member_of(&vk).await, Some(member));

    // The provider got the PKCE verifier whose S256 is the challenge sent to VK ID.
    let requests = provider.received_requests().await.unwrap();
    let body = String::from_utf8(requests[0].body.clone()).unwrap();
    let form: std::collections::HashMap<String, String> =
        reqwest::Url::parse(&format!("http://provider/?{body}"))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(form["code_verifier"].as_bytes()));
    assert_eq!(challenge, query["code_challenge"]);
    assert_eq!(form["device_id"], "dev-1");

    // A state works once; a made-up one never.
    let replay = m.call("GET", &callback, None, None, &[]).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    let forged = m
        .call(
            "GET",
            "/api/v1/app/links/vk-id/callback?code=c&state=nope&device_id=d",
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    m.drain().await;
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    let accounts = me["accounts"].as_array().unwrap();
    let vk_row = accounts.iter().find(|a| a["network"] == "vk").unwrap();
    assert_eq!(vk_row["method"], "oauth");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn vk_id_is_a_404_when_not_configured(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let (status, body) = m.get("/api/v1/app/links/vk-id/start", &anna()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

// ---------- reading: leaderboard, history, campaigns ----------

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_leaderboard_shows_the_member_highlighted(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 100).await;
    m.rival(5_000_000_099, "Борис Петров", 200).await;
    m.rival(5_000_000_098, "Olga", 50).await;
    m.drain().await;
    for period in ["all", "week", "month"] {
        let (status, board) = m
            .get(&format!("/api/v1/app/leaderboard?period={period}"), &anna())
            .await;
        assert_eq!(status, StatusCode::OK, "{board}");
        let entries = board["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 3, "{period}: {board}");
        assert_eq!(entries[0]["name"], "Борис П.");
        assert_eq!(entries[0]["me"], false);
        assert_eq!(entries[1]["me"], true);
        assert_eq!(entries[1]["rank"], 2);
        assert_eq!(entries[1]["name"], "Анна С.");
        assert_eq!(board["me"]["rank"], 2);
        assert!(entries[0].get("member_id").is_none());
    }
    let (_, top1) = m.get("/api/v1/app/leaderboard?limit=1", &anna()).await;
    assert_eq!(top1["entries"].as_array().unwrap().len(), 1);
    assert_eq!(top1["me"]["rank"], 2);
    let (_, around) = m
        .get("/api/v1/app/leaderboard/around-me?limit=1", &anna())
        .await;
    assert_eq!(around["me"]["score"], 100);
    assert_eq!(around["above"][0]["score"], 200);
    assert_eq!(around["below"][0]["score"], 50);
    let (_, vk) = m.get("/api/v1/app/leaderboard?network=vk", &anna()).await;
    assert_eq!(vk["entries"].as_array().unwrap().len(), 0);
    let (status, bad) = m.get("/api/v1/app/leaderboard?period=year", &anna()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["code"], "bad_request");
    let (status, _) = m.get("/api/v1/app/leaderboard?limit=abc", &anna()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The member's history shows a manager's note, never the manager's internal reason; an
/// adjustment without a note says only who changed the points.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn history_shows_the_note_to_the_member_never_the_reason(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    let ledger = &m.app.t.ledger;
    let program = m.app.t.program_id();
    for (points, reason, note) in [
        (30, "Спам: комментарий не по теме", Some("Бонус за отзыв")),
        (5, "internal: ticket 4521", None),
    ] {
        let delta = PointsDelta::new(points).unwrap();
        ledger
            .adjust_points(program, member, delta, reason, note, &now_action())
            .await
            .unwrap();
    }
    let reply = m
        .call("GET", "/api/v1/app/history", Some(&anna()), None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        !reply.body.contains("Спам") && !reply.body.contains("4521"),
        "{}",
        reply.body
    );
    let page = json_of(&reply);
    let texts: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts[..2],
        ["От команды бренда", "От команды бренда: Бонус за отзыв"]
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_cancelled_redemption_tells_the_member_the_outcome_never_the_reason(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 40).await;
    let reward = m.list_reward("Кофе", 25, 3).await;
    let path = format!("/api/v1/app/rewards/{}/redeem", reward.0);
    let redeemed = m
        .call(
            "POST",
            &path,
            Some(&anna()),
            None,
            &[("Idempotency-Key", "c")],
        )
        .await;
    assert_eq!(redeemed.status, StatusCode::OK, "{}", redeemed.body);
    let redemption = json_of(&redeemed)["redemption_id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    m.app
        .t
        .ledger
        .cancel_redemption(
            m.app.t.program_id(),
            member,
            reward,
            domain::ids::RedemptionId(redemption),
            "Мошенничество: заявка 4521",
            &now_action(),
        )
        .await
        .unwrap();
    m.drain().await;
    let reply = m
        .call("GET", "/api/v1/app/history", Some(&anna()), None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        !reply.body.contains("Мошенничество") && !reply.body.contains("4521"),
        "{}",
        reply.body
    );
    let page = json_of(&reply);
    assert_eq!(page["entries"][0]["points"], 25);
    assert_eq!(
        page["entries"][0]["text"],
        "Награда «Кофе» отменена, баллы возвращены"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn history_pages_through_the_members_stream_newest_first(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    for points in [10, 20, 30, 40] {
        m.give(member, points).await;
    }
    let reward = m.list_reward("Кофе", 25, 3).await;
    let path = format!("/api/v1/app/rewards/{}/redeem", reward.0);
    m.call(
        "POST",
        &path,
        Some(&anna()),
        None,
        &[("Idempotency-Key", "h")],
    )
    .await;
    m.drain().await;
    let mut cursor = String::new();
    let mut seen = Vec::new();
    loop {
        let (status, page) = m
            .get(&format!("/api/v1/app/history?limit=2{cursor}"), &anna())
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["entries"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_i64() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    // Registered, Telegram linked, four adjustments, one redemption.
    let versions: Vec<i64> = seen
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![7, 6, 5, 4, 3, 2, 1]);
    let types: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[0], "RewardRedeemed");
    assert_eq!(types[6], "MemberRegistered");
    assert_eq!(seen[0]["points"], -25);
    assert!(seen[0]["text"].as_str().unwrap().contains("Кофе"));
    assert_eq!(seen[1]["points"], 40);
    let total: i64 = seen.iter().map(|e| e["points"].as_i64().unwrap()).sum();
    assert_eq!(total, m.app.t.balance(member).await);
    assert!(seen.iter().all(|e| !e["text"].as_str().unwrap().is_empty()));
    let english = m
        .call(
            "GET",
            "/api/v1/app/history?limit=1",
            Some(&anna()),
            None,
            &[("accept-language", "en-US,en;q=0.9")],
        )
        .await;
    assert!(
        json_of(&english)["entries"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Reward “Кофе”")
    );
    let (status, _) = m.get("/api/v1/app/history?limit=1000", &anna()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_language_follows_the_bots_rule_and_the_page_choice_wins(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let language_of = |code: Option<&str>, id: i64| {
        let mut member = user(id, "Тест", "test_user", "");
        match code {
            Some(code) => member["language_code"] = code.into(),
            None => {
                member.as_object_mut().unwrap().remove("language_code");
            }
        }
        init_data(&member)
    };
    for (code, expected) in [
        (None, "ru"),
        (Some("uk"), "ru"),
        (Some("kk-KZ"), "ru"),
        (Some("en-US"), "en"),
        (Some("de"), "en"),
    ] {
        let (status, me) = m.get("/api/v1/app/me", &language_of(code, ANNA)).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["language"], expected, "language_code {code:?}");
    }
    let chosen = m
        .call(
            "GET",
            "/api/v1/app/me",
            Some(&language_of(Some("de"), ANNA)),
            None,
            &[("accept-language", "ru")],
        )
        .await;
    assert_eq!(json_of(&chosen)["language"], "ru");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn campaigns_tell_what_to_do_but_not_the_codeword(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    m.app.codeword_campaign().await;
    m.drain().await;
    let reply = m
        .call("GET", "/api/v1/app/campaigns", Some(&anna()), None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        !reply.body.to_uppercase().contains("СЕКРЕТ"),
        "{}",
        reply.body
    );
    let view = json_of(&reply);
    let campaign = &view["campaigns"][0];
    assert_eq!(campaign["name"], "Secret word");
    assert_eq!(campaign["points"], 50);
    assert_eq!(campaign["remaining"], 100);
    assert_eq!(campaign["done"], false);
    assert_eq!(campaign["networks"].as_array().unwrap().len(), 3);
    assert!(
        campaign["how_to"]
            .as_str()
            .unwrap()
            .contains("кодовое слово")
    );
    assert!(
        view["ways_to_earn"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["kind"] == "comment")
    );
}

// ---------- development sign-in, the page, the document ----------

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn dev_sign_in_exists_only_when_enabled(pool: PgPool) {
    let off = MiniApp::new(pool.clone()).await;
    let request = json!({"telegram_user_id": 42, "first_name": "Dev"});
    let reply = off
        .call(
            "POST",
            "/api/v1/app/dev-sign-in",
            None,
            Some(request.clone()),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        json_of(&off.call("GET", "/api/v1/app/config", None, None, &[]).await)["dev_sign_in"],
        false
    );

    let on = MiniApp::with_args(pool, &["--dev-sign-in", "true"]).await;
    let reply = on
        .call("POST", "/api/v1/app/dev-sign-in", None, Some(request), &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let init_data = json_of(&reply)["init_data"].as_str().unwrap().to_string();
    let (status, me) = on.get("/api/v1/app/me", &init_data).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["first_name"], "Dev");
    let config = json_of(&on.call("GET", "/api/v1/app/config", None, None, &[]).await);
    assert_eq!(config["dev_sign_in"], true);
    assert_eq!(config["configured"], true);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_page_and_the_openapi_document_are_served(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let response = m
        .router
        .clone()
        .oneshot(Request::get("/app").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self' https://telegram.org"));
    let html = m.call("GET", "/app", None, None, &[]).await.body;
    assert!(html.contains("telegram-web-app.js") && html.contains("/app/app.js"));
    let js = m.call("GET", "/app/app.js", None, None, &[]).await.body;
    assert!(!js.contains("innerHTML ="), "the page never assigns markup");
    let doc = json_of(&m.call("GET", "/api/openapi.json", None, None, &[]).await);
    for path in [
        "/api/v1/app/me",
        "/api/v1/app/history",
        "/api/v1/app/leaderboard",
        "/api/v1/app/leaderboard/around-me",
        "/api/v1/app/campaigns",
        "/api/v1/app/rewards",
        "/api/v1/app/rewards/{reward_id}/redeem",
        "/api/v1/app/links",
        "/api/v1/app/links/{code}",
        "/api/v1/app/accounts/{network}/{external_id}",
        "/api/v1/app/links/vk-id/start",
        "/api/v1/app/links/vk-id/callback",
        "/api/v1/app/dev-sign-in",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    assert_eq!(doc["paths"]["/api/v1/app/me"]["get"]["tags"][0], "mini-app");
    assert!(doc["components"]["securitySchemes"]["tma"].is_object());
}

// ---------- in a real browser ----------

/// The page as Telegram opens it: initData in the URL's hash.
fn page_url(server: &TestServer, init_data: &str) -> String {
    server.url(&format!(
        "/app#tgWebAppData={}&tgWebAppVersion=8.0&tgWebAppPlatform=web",
        encode(init_data)
    ))
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_shows_balance_rank_and_redeems_a_reward(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 150).await;
    m.rival(5_000_000_099, "Борис Петров", 300).await;
    m.rival(5_000_000_098, "Ольга", 40).await;
    m.list_reward("Капучино", 100, 10).await;
    m.list_reward("Фирменная кружка", 400, 3).await;
    m.app.codeword_campaign().await;
    m.drain().await;
    let server = TestServer::start(m.state.clone()).await;

    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser.wait_visible("#main").await.unwrap();
    assert_eq!(browser.text("#balance").await.unwrap().unwrap(), "150");
    assert_eq!(
        browser.text("#hello").await.unwrap().unwrap(),
        "Привет, Анна!"
    );
    assert_eq!(browser.text("#rank-all").await.unwrap().unwrap(), "#2");
    browser
        .wait_for("document.querySelectorAll('#history li').length >= 3")
        .await
        .unwrap();
    browser.screenshot("mini-app-home").await.unwrap();

    browser.click("#tabs button[data-tab=top]").await.unwrap();
    let mine = browser
        .wait_for_text("#leaderboard li.me", "Анна")
        .await
        .unwrap();
    assert!(mine.contains("#2") && mine.contains("150"), "{mine}");
    assert_eq!(browser.count("#leaderboard li").await.unwrap(), 3);
    assert_eq!(browser.count("#leaderboard li.me").await.unwrap(), 1);
    browser.screenshot("mini-app-leaderboard").await.unwrap();

    browser.click("#tabs button[data-tab=earn]").await.unwrap();
    browser
        .wait_for_text("#campaigns", "Secret word")
        .await
        .unwrap();
    browser.screenshot("mini-app-earn").await.unwrap();

    browser
        .click("#tabs button[data-tab=rewards]")
        .await
        .unwrap();
    browser.wait_for_text("#rewards", "Капучино").await.unwrap();
    let cappuccino = "#rewards li:first-child";
    browser
        .click(&format!("{cappuccino} button.redeem"))
        .await
        .unwrap();
    browser
        .click(&format!("{cappuccino} button.confirm-yes"))
        .await
        .unwrap();
    let coupon = browser.wait_for_text("#coupon-code", "CPN-").await.unwrap();
    assert_eq!(coupon.len(), 13, "{coupon}");
    assert_eq!(browser.text("#balance").await.unwrap().unwrap(), "50");
    browser.wait_for_text("#coupons", &coupon).await.unwrap();
    browser
        .wait_for_text(cappuccino, "в наличии: 9")
        .await
        .unwrap();
    browser.screenshot("mini-app-rewards").await.unwrap();
    assert_eq!(m.events_of_type("RewardRedeemed").await, 1);
    assert_eq!(m.app.t.balance(member).await, 50);

    browser
        .click("#tabs button[data-tab=accounts]")
        .await
        .unwrap();
    browser.click("#link-instagram").await.unwrap();
    let code = browser
        .wait_for_text("#link-code-value", "LINK-")
        .await
        .unwrap();
    let steps = browser.text("#link-steps").await.unwrap().unwrap();
    assert!(steps.contains(&code), "{steps}");
    browser.screenshot("mini-app-accounts").await.unwrap();
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_shows_an_error_for_forged_init_data(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let events = m.app.event_count().await;
    let server = TestServer::start(m.state.clone()).await;
    let forged = init_data_signed(
        &user(ANNA, "Анна", "anna_runs", "ru"),
        Utc::now().timestamp(),
        "1:forged",
    );
    browser.goto(&page_url(&server, &forged)).await.unwrap();
    browser.wait_visible("#error").await.unwrap();
    let text = browser.text("#error-text").await.unwrap().unwrap();
    assert!(text.contains("данные входа от Telegram неверны"), "{text}");
    let detail = browser.text("#error-detail").await.unwrap().unwrap();
    assert!(detail.contains("signature is invalid"), "{detail}");
    assert_eq!(browser.count("#main:not([hidden])").await.unwrap(), 0);
    browser.screenshot("mini-app-error").await.unwrap();
    assert_eq!(m.app.event_count().await, events);
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_renders_markup_in_names_as_text(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let mallory = init_data(&user(5_000_000_066, XSS, XSS, "en"));
    let member = m.sign_in(&mallory).await;
    m.give(member, 30).await;
    m.rival(5_000_000_067, "<b>Bold</b><script>alert(2)</script>", 60)
        .await;
    m.drain().await;
    let server = TestServer::start(m.state.clone()).await;

    browser.goto(&page_url(&server, &mallory)).await.unwrap();
    browser.wait_visible("#main").await.unwrap();
    assert_eq!(
        browser.text("#hello").await.unwrap().unwrap(),
        format!("Hi, {XSS}!")
    );
    browser.click("#tabs button[data-tab=top]").await.unwrap();
    let mine = browser
        .wait_for_text("#leaderboard li.me", "<img")
        .await
        .unwrap();
    assert!(mine.contains("<img"), "{mine}");
    browser
        .wait_for_text("#leaderboard", "<b>Bold</b><script>")
        .await
        .unwrap();
    browser.screenshot("mini-app-names-as-text").await.unwrap();
    browser
        .click("#tabs button[data-tab=accounts]")
        .await
        .unwrap();
    browser
        .wait_for_text("#accounts", &format!("@{XSS}"))
        .await
        .unwrap();
    // Text, not elements: no image, no bold, no script was created from the names.
    assert_eq!(browser.count("img").await.unwrap(), 0);
    assert_eq!(browser.count("b").await.unwrap(), 0);
    assert_eq!(browser.count("main script").await.unwrap(), 0);
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_offers_the_dev_sign_in_only_when_enabled(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let off = MiniApp::new(pool.clone()).await;
    let server = TestServer::start(off.state.clone()).await;
    browser.goto(&server.url("/app")).await.unwrap();
    browser.wait_visible("#error").await.unwrap();
    assert_eq!(browser.count("#dev:not([hidden])").await.unwrap(), 0);
    drop(server);

    let on = MiniApp::with_args(pool, &["--dev-sign-in", "true"]).await;
    let server = TestServer::start(on.state.clone()).await;
    browser.goto(&server.url("/app")).await.unwrap();
    browser.wait_visible("#dev-form").await.unwrap();
    browser
        .type_into("#dev-first-name", "Тестер")
        .await
        .unwrap();
    browser.screenshot("mini-app-dev-sign-in").await.unwrap();
    browser.click("#dev-submit").await.unwrap();
    browser.wait_visible("#main").await.unwrap();
    browser.wait_for_text("#hello", "Тестер").await.unwrap();
    browser.quit().await;
}
