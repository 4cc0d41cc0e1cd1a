//! The admin panel end to end: sign-in, sessions, CSRF, roles, idempotency, manual changes
//! with the manager as actor, read models after draining the projections, exports, and the
//! pages in a real headless Chromium.

mod channels;

use crate::app::{IG_APP_SECRET, IG_BRAND, IG_VERIFY_TOKEN, TG_SECRET, TestApp};
use api::admin::{Role, UserError, create_user};
use api::{AppState, router};
use app::config::ServeConfig;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use clap::Parser;
use domain::ids::MemberId;
use domain::network::{ExternalIdentity, Network};
use projections::{Projection, Runner};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::Arc;
use tower::ServiceExt;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    config: ServeConfig,
}

fn config() -> ServeConfig {
    Args::parse_from([
        "test",
        "--instagram-app-secret",
        IG_APP_SECRET,
        "--instagram-verify-token",
        IG_VERIFY_TOKEN,
        "--telegram-webhook-secret",
        TG_SECRET,
    ])
    .config
}

/// The whole application plus an admin-panel browser: its cookie and CSRF token.
struct Panel {
    app: Arc<TestApp>,
    /// The in-memory leaderboards behind `router`, caught up by `drain`.
    boards: projections::live_boards::LiveBoards,
    router: Router,
    cookie: Option<String>,
    csrf: Option<String>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Panel {
    async fn new(pool: PgPool) -> Self {
        let app = TestApp::new(pool.clone()).await;
        // A router of our own over the same ledger: the harness's answers carry no headers,
        // and sign-in needs Set-Cookie.
        let state = AppState::new(app::AppContext::new(app.t.ledger.clone(), pool, config()));
        Self {
            app: Arc::new(app),
            boards: state.boards.clone(),
            router: router(state),
            cookie: None,
            csrf: None,
        }
    }

    /// Another browser on the same application, not signed in.
    fn browser(&self) -> Self {
        Self {
            app: self.app.clone(),
            boards: self.boards.clone(),
            router: self.router.clone(),
            cookie: None,
            csrf: None,
        }
    }

    fn program(&self) -> Uuid {
        self.app.t.program_id().0
    }

    fn path(&self, rest: &str) -> String {
        format!("/api/v1/admin/programs/{}{rest}", self.program())
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
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
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.request(Method::GET, path, None, &[]).await
    }

    /// A change as the panel sends it: CSRF token and a fresh Idempotency-Key.
    async fn change(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.change_keyed(method, path, body, &Uuid::new_v4().to_string())
            .await
    }

    async fn change_keyed(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: &str,
    ) -> Answer {
        let csrf = self.csrf.clone().unwrap_or_default();
        let headers = [("x-csrf-token", csrf.as_str()), ("idempotency-key", key)];
        self.request(method, path, body, &headers).await
    }

    async fn login(&mut self, username: &str, password: &str) -> Answer {
        let body = json!({ "username": username, "password": password });
        let answer = self
            .request(Method::POST, "/api/v1/admin/session", Some(body), &[])
            .await;
        if answer.status == StatusCode::OK {
            let set_cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
            self.cookie = Some(set_cookie.split(';').next().unwrap().to_string());
            self.csrf = Some(answer.json()["csrf_token"].as_str().unwrap().to_string());
        }
        answer
    }

    /// A sign-in from the client address `addr`, as `serve` records it (`ConnectInfo`).
    async fn login_from(&self, addr: [u8; 4], username: &str, password: &str) -> Answer {
        let body = json!({ "username": username, "password": password }).to_string();
        let mut request = Request::post("/api/v1/admin/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                addr, 40000,
            ))));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn signed_in(pool: PgPool, role: Role) -> Self {
        let mut panel = Self::new(pool).await;
        let name = role.as_str().to_string() + "1";
        create_user(&panel.app.pool, &name, PASSWORD, role)
            .await
            .unwrap();
        assert_eq!(panel.login(&name, PASSWORD).await.status, StatusCode::OK);
        panel
    }

    async fn drain(&self) {
        for projection in Projection::ALL {
            Runner::new(self.app.pool.clone(), projection)
                .drain()
                .await
                .unwrap();
        }
        self.boards.catch_up().await.unwrap();
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    async fn adjust(&self, member: MemberId, points: Value, reason: &str) -> Answer {
        let path = self.path(&format!("/members/{member}/adjustments"));
        self.change(
            Method::POST,
            &path,
            Some(json!({ "points": points, "reason": reason })),
        )
        .await
    }

    async fn card(&self, member: MemberId) -> Value {
        let answer = self.get(&self.path(&format!("/members/{member}"))).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.json()
    }
}

fn anna_ig() -> ExternalIdentity {
    ExternalIdentity::new(Network::Instagram, IG_BRAND, "1122334455667788")
}

/// Delivers the signed Instagram comment fixture (@anna.runs) and returns her member id.
/// The webhook path does not write `profiles` (yet): the row it would write is added here.
async fn anna_from_instagram(panel: &Panel, username: &str) -> MemberId {
    assert_eq!(
        panel.app.instagram_fixture("comment.json").await.status,
        StatusCode::OK
    );
    let member = panel
        .app
        .member_of(&anna_ig())
        .await
        .expect("the comment creates a member");
    let written = panel
        .count("SELECT count(*) FROM profiles WHERE external_id = '1122334455667788'")
        .await;
    if written == 0 || username != "anna.runs" {
        let profile = projections::identities::Profile {
            program_id: panel.program(),
            identity: anna_ig(),
            username: Some(username.to_string()),
            display_name: Some("Anna".to_string()),
            language_code: None,
        };
        projections::identities::upsert_profile(&panel.app.pool, &profile)
            .await
            .unwrap();
    }
    panel.drain().await;
    member
}

// ---------------------------------------------------------------- sign-in and sessions

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn signing_in_sets_a_strict_http_only_cookie_and_the_session_gives_a_csrf_token(
    pool: PgPool,
) {
    let mut panel = Panel::new(pool).await;
    create_user(&panel.app.pool, "Olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    let answer = panel.login("olga", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    for part in [
        "loyalty_admin=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(
        !cookie.contains("Secure"),
        "cookie_secure is off by default"
    );
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("loyalty_admin=");
    assert_eq!(token.len(), 64, "256 bits, hex");
    let stored: i64 = panel
        .count(&format!(
            "SELECT count(*) FROM admin_sessions WHERE token_sha256 = sha256('{token}'::bytea)"
        ))
        .await;
    assert_eq!(stored, 1, "only the token's hash is stored");
    let session = panel.get("/api/v1/admin/session").await;
    assert_eq!(session.status, StatusCode::OK);
    let session = session.json();
    assert_eq!(
        (session["username"].as_str(), session["role"].as_str()),
        (Some("olga"), Some("manager"))
    );
    assert_eq!(session["csrf_token"].as_str(), panel.csrf.as_deref());

    let logout = panel
        .change(Method::DELETE, "/api/v1/admin/session", None)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert!(
        logout.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        panel.get("/api/v1/admin/session").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(panel.count("SELECT count(*) FROM admin_sessions").await, 0);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_wrong_password_is_refused_with_401_and_changes_nothing(pool: PgPool) {
    let mut panel = Panel::new(pool).await;
    create_user(&panel.app.pool, "olga", PASSWORD, Role::Admin)
        .await
        .unwrap();
    let events = panel.app.event_count().await;
    for (user, password) in [
        ("olga", "wrong password!"),
        ("nobody", PASSWORD),
        ("olga", ""),
    ] {
        let answer = panel.login(user, password).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{user}");
        assert_eq!(answer.code(), "wrong_credentials");
        assert!(!answer.headers.contains_key(header::SET_COOKIE));
    }
    assert_eq!(panel.count("SELECT count(*) FROM admin_sessions").await, 0);
    assert_eq!(panel.app.event_count().await, events);
    assert_eq!(
        panel.get("/api/v1/admin/session").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn five_failed_sign_ins_throttle_the_sixth_even_with_the_right_password(pool: PgPool) {
    let mut panel = Panel::new(pool).await;
    create_user(&panel.app.pool, "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    create_user(&panel.app.pool, "ivan", PASSWORD, Role::Manager)
        .await
        .unwrap();
    for _ in 0..5 {
        assert_eq!(
            panel.login("olga", "not the password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let throttled = panel.login("olga", PASSWORD).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.code(), "too_many_attempts");
    assert_eq!(panel.count("SELECT count(*) FROM admin_sessions").await, 0);
    // Another username is not affected; a success forgives its own failures.
    assert_eq!(
        panel.login("ivan", "not the password").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(panel.login("ivan", PASSWORD).await.status, StatusCode::OK);
    let left: i64 = panel
        .count("SELECT count(*) FROM admin_login_failures WHERE username = 'ivan'")
        .await;
    assert_eq!(left, 0);
}

/// Random usernames from one address are throttled too: past 20 failures in the window the
/// address gets 429 whatever it types, even a right password; other addresses do not.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_address_is_throttled_whatever_usernames_it_types(pool: PgPool) {
    let panel = Panel::new(pool).await;
    create_user(&panel.app.pool, "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    let guesser = [203, 0, 113, 7];
    for i in 0..20 {
        let answer = panel
            .login_from(guesser, &format!("guess{i}"), "not the password")
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    for (user, password) in [("guess20", "not the password"), ("olga", PASSWORD)] {
        let throttled = panel.login_from(guesser, user, password).await;
        assert_eq!(
            (throttled.status, throttled.code().as_str()),
            (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            "{user}"
        );
        let retry_after: u64 = throttled.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    }
    assert_eq!(panel.count("SELECT count(*) FROM admin_sessions").await, 0);
    let elsewhere = panel.login_from([198, 51, 100, 1], "olga", PASSWORD).await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{}", elsewhere.body);
}

/// 32 concurrent attempts on one (username, address) are counted one at a time: exactly five
/// are let through to a password check. Twenty such keys at once, so that the attempts truly
/// overlap in the database.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_throttle_holds_under_concurrent_attempts(pool: PgPool) {
    use api::admin::auth::throttle::{Attempt, MAX_FAILURES, begin_attempt};
    let attempts = futures::future::join_all((0..32 * 20).map(|i| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let user = format!("user{}", i % 20);
            let client = format!("203.0.113.{}", i % 20);
            let attempt = begin_attempt(&pool, &user, &client).await.unwrap();
            (user, attempt)
        })
    }))
    .await;
    let mut counted = std::collections::BTreeMap::<String, i64>::new();
    for attempt in attempts {
        let (user, attempt) = attempt.unwrap();
        *counted.entry(user).or_default() += i64::from(attempt == Attempt::Counted);
    }
    assert_eq!(counted.len(), 20);
    for (user, n) in &counted {
        assert_eq!(*n, MAX_FAILURES, "{user}");
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM admin_login_failures")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 20 * MAX_FAILURES);
}

/// The process's peak and current resident memory, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/self/status"))
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// 500 sign-ins at once, each from its own address with a username that does not exist: at
/// most a few passwords are checked at a time (each check holds 19 MiB), the rest are answered
/// 429 `busy` with Retry-After, and the process's peak memory stays bounded.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_flood_of_sign_ins_checks_few_passwords_at_once(pool: PgPool) {
    use api::admin::auth::CONCURRENT_PASSWORD_CHECKS;
    let panel = Panel::new(pool).await;
    // The first check of an unknown username hashes a stand-in once; not part of the flood.
    panel.login_from([192, 0, 2, 1], "nobody", "warm up").await;
    let (peak_before, rss_before) = memory_kib();
    let answers = futures::future::join_all((0..500u32).map(|i| {
        let [_, _, a, b] = i.to_be_bytes();
        let panel = &panel;
        async move {
            panel
                .login_from([10, 9, a, b], &format!("flood{i}"), "not the password")
                .await
        }
    }))
    .await;
    let (peak_after, rss_after) = memory_kib();
    println!(
        "500 concurrent sign-ins: VmHWM {peak_before} -> {peak_after} KiB, \
         VmRSS {rss_before} -> {rss_after} KiB"
    );
    let mut checked = 0;
    for answer in &answers {
        match answer.status {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(answer.code(), "busy");
                assert_eq!(answer.headers[header::RETRY_AFTER], "1");
            }
            other => panic!("{other}: {}", answer.body),
        }
    }
    println!("{checked} of 500 had their password checked");
    assert!(checked >= CONCURRENT_PASSWORD_CHECKS, "{checked}");
    assert!(checked < 500, "the flood was not bounded");
    let throttled: i64 = panel
        .count("SELECT count(*) FROM admin_login_failures")
        .await;
    assert_eq!(throttled, 1 + checked as i64, "a busy answer costs no try");
    // Unbounded, 500 checks of 19 MiB each would need about 9.5 GB at once.
    let grown_mib = peak_after.saturating_sub(peak_before) / 1024;
    assert!(grown_mib < 256, "peak memory grew by {grown_mib} MiB");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn accounts_need_a_valid_username_and_a_password_of_ten_characters(pool: PgPool) {
    let weak = create_user(&pool, "olga", "short pw", Role::Manager).await;
    assert!(matches!(weak, Err(UserError::WeakPassword)), "{weak:?}");
    assert!(
        weak.unwrap_err()
            .to_string()
            .contains("at least 10 characters")
    );
    let bad_name = create_user(&pool, "<olga>", PASSWORD, Role::Manager).await;
    assert!(matches!(bad_name, Err(UserError::InvalidUsername)));
    let user = create_user(&pool, " Olga ", PASSWORD, Role::Auditor)
        .await
        .unwrap();
    assert_eq!((user.username.as_str(), user.role), ("olga", Role::Auditor));
    let again = create_user(&pool, "olga", PASSWORD, Role::Admin).await;
    assert!(matches!(again, Err(UserError::AlreadyExists(_))));
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM admin_users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

// ---------------------------------------------------------------- CSRF, roles, idempotency

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_change_without_the_csrf_token_is_403_and_appends_nothing(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    let events = panel.app.event_count().await;
    let path = panel.path(&format!("/members/{member}/adjustments"));
    let body = json!({ "points": 50, "reason": "gift" });
    for csrf in [None, Some("0".repeat(64)), Some(String::new())] {
        let mut headers = vec![("idempotency-key", "k1")];
        if let Some(csrf) = &csrf {
            headers.push(("x-csrf-token", csrf.as_str()));
        }
        let answer = panel
            .request(Method::POST, &path, Some(body.clone()), &headers)
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{csrf:?}");
        assert_eq!(answer.code(), "csrf_token_invalid");
    }
    assert_eq!(panel.app.event_count().await, events);
    assert_eq!(panel.app.t.balance(member).await, 0);
}

/// Every documented POST, PUT and DELETE under /api/v1/admin (but sign-in itself) refuses a
/// signed-in request that lacks the CSRF header, before anything else is looked at.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn every_admin_state_change_requires_the_csrf_token(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Admin).await;
    let events = panel.app.event_count().await;
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/admin") {
            continue;
        }
        for method in ["post", "put", "delete", "patch"] {
            if item.get(method).is_none() || (path == "/api/v1/admin/session" && method == "post") {
                continue;
            }
            let concrete = path
                .replace("{program_id}", &panel.program().to_string())
                .replace("{action}", "pause")
                .replace("{username}", "admin1");
            let concrete = regex_free_params(&concrete);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = panel
                .request(
                    method.clone(),
                    &concrete,
                    Some(json!({})),
                    &[("idempotency-key", "k")],
                )
                .await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{method} {concrete}: {}",
                answer.body
            );
            assert_eq!(answer.code(), "csrf_token_invalid", "{method} {concrete}");
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} state-changing routes found");
    assert_eq!(panel.app.event_count().await, events);
}

/// Replaces every remaining `{param}` with a random UUID.
fn regex_free_params(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') {
                Uuid::new_v4().to_string()
            } else {
                s.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn roles_are_enforced_an_auditor_cannot_adjust_a_manager_cannot_edit_rules(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Auditor).await;
    let member = panel.app.t.member().await;
    let events = panel.app.event_count().await;
    let answer = panel.adjust(member, json!(50), "gift").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.code(), "forbidden");
    assert_eq!(panel.app.event_count().await, events);
    // The auditor reads everything and has the auditor's tools.
    assert_eq!(
        panel
            .get(&panel.path(&format!("/members/{member}")))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        panel.get("/api/v1/admin/audit/events").await.status,
        StatusCode::OK
    );
    assert_eq!(
        panel.get("/api/v1/admin/users").await.status,
        StatusCode::FORBIDDEN
    );

    let mut manager = panel.browser();
    create_user(&manager.app.pool, "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    manager.login("olga", PASSWORD).await;
    let rules = manager.get(&manager.path("/rules")).await.json();
    let put = manager
        .change(
            Method::PUT,
            &manager.path("/rules"),
            Some(json!({ "rules": rules["rules"] })),
        )
        .await;
    assert_eq!(put.status, StatusCode::FORBIDDEN);
    assert_eq!(
        manager.get("/api/v1/admin/audit/events").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        manager.get("/api/v1/admin/users").await.status,
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_account_limited_to_one_program_sees_and_changes_only_that_program(pool: PgPool) {
    let admin = Panel::signed_in(pool, Role::Admin).await;
    let theirs = admin.program();
    let member = admin.app.t.member().await;
    let ours = domain::ids::ProgramId(Uuid::new_v4());
    admin
        .app
        .t
        .ledger
        .create_program(
            ours,
            "Second brand",
            chrono_tz::Europe::Moscow,
            domain::program::Rules::standard(),
            &crate::helpers::manager(),
        )
        .await
        .unwrap();
    // Limiting an admin is refused; a manager of the second brand is created by the API.
    let refused = admin
        .change(
            Method::POST,
            "/api/v1/admin/users",
            Some(
                json!({ "username": "boss", "password": PASSWORD, "role": "admin",
                         "programs": [ours.0] }),
            ),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.code(), "admin_unlimited");
    let created = admin
        .change(
            Method::POST,
            "/api/v1/admin/users",
            Some(
                json!({ "username": "vera", "password": PASSWORD, "role": "manager",
                         "programs": [ours.0] }),
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.json()["programs"], json!([ours.0]));

    let mut vera = admin.browser();
    assert_eq!(vera.login("vera", PASSWORD).await.status, StatusCode::OK);
    let listed = vera.get("/api/v1/admin/programs").await.json();
    let ids: Vec<&str> = listed["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["program_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![ours.0.to_string()]);
    // The first brand's members and points are out of reach, and nothing is appended.
    let events = vera.app.event_count().await;
    let card = vera.get(&vera.path(&format!("/members/{member}"))).await;
    assert_eq!(card.status, StatusCode::FORBIDDEN, "{}", card.body);
    let answer = vera.adjust(member, json!(50), "gift").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains(&theirs.to_string()), "{}", answer.body);
    assert_eq!(vera.app.event_count().await, events);
    let own = format!("/api/v1/admin/programs/{}/dashboard", ours.0);
    assert_eq!(vera.get(&own).await.status, StatusCode::OK);

    // An auditor limited to the second brand exports only it and cannot run the global check.
    let limited = admin
        .change(
            Method::POST,
            "/api/v1/admin/users",
            Some(
                json!({ "username": "ivan", "password": PASSWORD, "role": "auditor",
                         "programs": [ours.0] }),
            ),
        )
        .await;
    assert_eq!(limited.status, StatusCode::OK, "{}", limited.body);
    let mut ivan = admin.browser();
    assert_eq!(ivan.login("ivan", PASSWORD).await.status, StatusCode::OK);
    let everything = ivan.get("/api/v1/admin/audit/events").await;
    assert_eq!(everything.status, StatusCode::FORBIDDEN);
    let other = ivan
        .get(&format!("/api/v1/admin/audit/events?program={theirs}"))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let mine = ivan
        .get(&format!("/api/v1/admin/audit/events?program={}", ours.0))
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains("ProgramCreated"));
    assert!(!mine.body.contains(&theirs.to_string()));
    let as_of = ivan
        .get(&format!("/api/v1/admin/audit/members/{member}/as-of"))
        .await;
    assert_eq!(as_of.status, StatusCode::FORBIDDEN);
    let verify = ivan
        .change(Method::POST, "/api/v1/admin/audit/verify", None)
        .await;
    assert_eq!(verify.status, StatusCode::FORBIDDEN);

    // Lifting the limit gives the manager every program again.
    let lifted = admin
        .change(
            Method::PUT,
            "/api/v1/admin/users/vera",
            Some(json!({ "every_program": true })),
        )
        .await;
    assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.body);
    assert_eq!(lifted.json()["programs"], Value::Null);
    assert_eq!(vera.login("vera", PASSWORD).await.status, StatusCode::OK);
    let card = vera.get(&vera.path(&format!("/members/{member}"))).await;
    assert_eq!(card.status, StatusCode::OK);
}

/// PostgreSQL stores no U+0000: every text a manager or auditor sends (reasons, titles, names,
/// searches, export filters, path segments) is refused with 400 when it holds one, and nothing
/// changes; the same change without it is recorded.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn text_with_a_nul_character_is_400_and_changes_nothing(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Admin).await;
    let member = panel.app.t.member().await;
    let events = panel.app.event_count().await;
    let now = chrono::Utc::now();
    let refused_changes = [
        (
            panel.path(&format!("/members/{member}/adjustments")),
            json!({ "points": 5, "reason": "спам\u{0}" }),
        ),
        (
            panel.path("/campaigns"),
            json!({ "name": "Aut\u{0}umn", "codeword": "ОСЕНЬ", "points": 30,
                    "starts_at": now, "ends_at": now + chrono::Duration::days(1),
                    "networks": ["vk"] }),
        ),
        (
            panel.path("/rewards"),
            json!({ "title": "Mug\u{0}", "cost": 100, "stock": 3 }),
        ),
        (
            "/api/v1/admin/programs".to_string(),
            json!({ "name": "Brand\u{0}" }),
        ),
        (
            "/api/v1/admin/users".to_string(),
            json!({ "username": "olga", "password": "long enough\u{0}", "role": "manager" }),
        ),
    ];
    for (path, body) in refused_changes {
        let answer = panel.change(Method::POST, &path, Some(body)).await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (StatusCode::BAD_REQUEST, "nul_character"),
            "{path}: {}",
            answer.body
        );
    }
    let refused_reads = [
        panel.path("/members?q=anna%00"),
        panel.path(&format!("/members/{member}?cursor=%00")),
        "/api/v1/admin/audit/events?stream=member-%00&type=PointsAdjusted".to_string(),
        "/api/v1/admin/audit/events?program=%00".to_string(),
        "/api/v1/admin/users/ol%00ga".to_string(),
    ];
    for path in refused_reads {
        let answer = panel.get(&path).await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (StatusCode::BAD_REQUEST, "nul_character"),
            "{path}: {}",
            answer.body
        );
    }
    assert_eq!(
        panel.app.event_count().await,
        events,
        "nothing was recorded"
    );
    assert_eq!(panel.count("SELECT count(*) FROM admin_users").await, 1);

    let accepted = panel.adjust(member, json!(5), "спам").await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(panel.app.event_count().await, events + 1);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_double_submit_with_the_same_idempotency_key_changes_nothing_twice(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    let path = panel.path(&format!("/members/{member}/adjustments"));
    let body = json!({ "points": 50, "reason": "birthday gift" });
    let first = panel
        .change_keyed(Method::POST, &path, Some(body.clone()), "form-1")
        .await;
    assert_eq!(first.json()["outcome"], "recorded");
    let second = panel
        .change_keyed(Method::POST, &path, Some(body.clone()), "form-1")
        .await;
    assert_eq!(
        (second.status, second.json()["outcome"].clone()),
        (StatusCode::OK, json!("duplicate"))
    );
    assert_eq!(panel.app.t.balance(member).await, 50);
    // A new key is a new change.
    panel
        .change_keyed(Method::POST, &path, Some(body), "form-2")
        .await;
    assert_eq!(panel.app.t.balance(member).await, 100);
    let missing = panel
        .request(
            Method::POST,
            &path,
            Some(json!({ "points": 1, "reason": "x" })),
            &[("x-csrf-token", panel.csrf.as_deref().unwrap())],
        )
        .await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (StatusCode::BAD_REQUEST, "idempotency_key_required")
    );
}

// ---------------------------------------------------------------- manual changes

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn adding_points_records_the_manager_as_actor_and_reaches_balance_and_audit_log(
    pool: PgPool,
) {
    let panel = Panel::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    let answer = panel
        .adjust(member, json!(50), "Winner, photo contest")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let reply = answer.json();
    assert_eq!(reply["outcome"], "recorded");
    let event_id: Uuid = reply["event_ids"][0].as_str().unwrap().parse().unwrap();
    let (event_type, payload, metadata): (String, Value, Value) =
        sqlx::query_as("SELECT event_type, payload, metadata FROM events WHERE event_id = $1")
            .bind(event_id)
            .fetch_one(&panel.app.pool)
            .await
            .unwrap();
    assert_eq!(event_type, "PointsAdjusted");
    assert_eq!(metadata["actor"], "manager:manager1");
    assert_eq!(
        (payload["by"].as_str(), payload["delta"].as_i64()),
        (Some("manager:manager1"), Some(50))
    );
    assert_eq!(payload["reason"], "Winner, photo contest");

    panel.drain().await;
    let balance = projections::balances::balance(&panel.app.pool, panel.program(), member.0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(balance.current, 50);
    let log = panel.get(&panel.path("/audit-log")).await.json();
    let entry = &log["entries"][0];
    assert_eq!(entry["manager"], "manager:manager1");
    assert_eq!(entry["action"], "PointsAdjusted");
    assert_eq!(entry["reason"], "Winner, photo contest");
    assert_eq!(entry["points"], 50);
    assert_eq!(entry["subject"], format!("member-{member}"));

    let card = panel.card(member).await;
    assert_eq!(card["balance"], 50);
    let line = &card["history"][0];
    assert_eq!(
        (line["event_id"].as_str(), line["actor"].as_str()),
        (
            Some(event_id.to_string().as_str()),
            Some("manager:manager1")
        )
    );
    assert_eq!(line["reversible"], true);

    let removed = panel
        .adjust(member, json!(-20), "typo in the contest result")
        .await;
    assert_eq!(removed.json()["outcome"], "recorded");
    let too_much = panel
        .adjust(member, json!(-1000), "more than she has")
        .await;
    assert_eq!(
        (too_much.status, too_much.code().as_str()),
        (StatusCode::CONFLICT, "insufficient_balance")
    );
    assert_eq!(panel.app.t.balance(member).await, 30);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn invalid_amounts_and_missing_reasons_are_422_in_the_envelope_and_change_nothing(
    pool: PgPool,
) {
    let panel = Panel::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    let events = panel.app.event_count().await;
    for points in [
        json!(0),
        json!(1.5),
        json!("50"),
        json!(null),
        json!(2_000_000_000i64),
        json!(-1e300),
    ] {
        let answer = panel.adjust(member, points.clone(), "a reason").await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{points}: {}",
            answer.body
        );
        assert_eq!(answer.code(), "invalid_amount", "{points}");
        assert!(
            answer.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("invalid amount")
        );
    }
    // Numbers beyond i64 and beyond f64, as a client could type them.
    let path = panel.path(&format!("/members/{member}/adjustments"));
    for (raw, code) in [
        ("99999999999999999999", "invalid_amount"),
        ("1e400", "invalid_body"),
    ] {
        let request = Request::post(&path)
            .header(header::COOKIE, panel.cookie.as_deref().unwrap())
            .header("x-csrf-token", panel.csrf.as_deref().unwrap())
            .header("idempotency-key", raw)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(format!(
                r#"{{"points": {raw}, "reason": "overflow"}}"#
            )))
            .unwrap();
        let response = panel.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{raw}");
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], code, "{raw}");
    }
    for reason in ["", "   "] {
        let answer = panel.adjust(member, json!(10), reason).await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "reason_required")
        );
    }
    let no_reason = panel
        .change(Method::POST, &path, Some(json!({ "points": 10 })))
        .await;
    assert_eq!(
        (no_reason.status, no_reason.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );
    assert_eq!(panel.app.event_count().await, events);
}

/// An adjustment keeps the manager's reason (required, internal) apart from the optional note
/// to the member; the card shows both, labelled; a blank note is none.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_adjustment_records_an_internal_reason_and_an_optional_note(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    let path = panel.path(&format!("/members/{member}/adjustments"));
    let noted = json!({ "points": 20, "reason": "Спам: не по теме", "note": "Бонус за отзыв" });
    let blank = json!({ "points": 5, "reason": "goodwill", "note": "   " });
    for body in [noted, blank] {
        let answer = panel.change(Method::POST, &path, Some(body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let too_long = json!({ "points": 5, "reason": "goodwill", "note": "я".repeat(501) });
    let refused = panel.change(Method::POST, &path, Some(too_long)).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "note_too_long")
    );
    let card = panel.card(member).await;
    let lines: Vec<(&str, &Value)> = card["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["event_type"] == "PointsAdjusted")
        .map(|l| (l["reason"].as_str().unwrap(), &l["note"]))
        .collect();
    assert_eq!(
        lines,
        [
            ("goodwill", &Value::Null),
            ("Спам: не по теме", &json!("Бонус за отзыв"))
        ]
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn reversing_an_award_nets_it_to_zero_once(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Manager).await;
    let anna = anna_from_instagram(&panel, "anna.runs").await;
    let card = panel.card(anna).await;
    assert_eq!(card["balance"], 10);
    let award = card["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["event_type"] == "PointsAwarded")
        .expect("the comment's award")
        .clone();
    assert_eq!(award["reversible"], true);
    let path = panel.path(&format!("/members/{anna}/reversals"));
    let body = json!({ "entry_id": award["entry_id"], "reason": "spam comment" });
    let answer = panel.change(Method::POST, &path, Some(body.clone())).await;
    assert_eq!(answer.json()["outcome"], "recorded", "{}", answer.body);
    let again = panel.change(Method::POST, &path, Some(body)).await;
    assert_eq!(
        (again.status, again.code().as_str()),
        (StatusCode::CONFLICT, "already_compensated")
    );
    panel.drain().await;
    let card = panel.card(anna).await;
    assert_eq!(
        (card["balance"].as_i64(), card["earned"].as_i64()),
        (Some(0), Some(0))
    );
    let compensation = &card["history"][0];
    assert_eq!(compensation["event"]["compensates"], award["entry_id"]);
    assert_eq!(compensation["delta"], -10);
    assert!(
        card["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["reversible"] == false)
    );
    let balance = projections::balances::balance(&panel.app.pool, panel.program(), anna.0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(balance.current, 0);
    let unknown = json!({ "entry_id": Uuid::new_v4(), "reason": "no such entry" });
    assert_eq!(
        panel
            .change(Method::POST, &path, Some(unknown))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn blocking_and_a_member_of_another_program(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member_with(30).await;
    let block = panel.path(&format!("/members/{member}/block"));
    let no_reason = panel
        .change(Method::POST, &block, Some(json!({ "reason": " " })))
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        panel
            .change(Method::POST, &block, Some(json!({ "reason": "bot farm" })))
            .await
            .json()["outcome"],
        "recorded"
    );
    assert_eq!(panel.card(member).await["blocked"], true);
    let unblock = panel.path(&format!("/members/{member}/unblock"));
    assert_eq!(
        panel.change(Method::POST, &unblock, None).await.json()["outcome"],
        "recorded"
    );
    assert_eq!(panel.card(member).await["blocked"], false);
    // The program in the path must be the member's own.
    let other = format!(
        "/api/v1/admin/programs/{}/members/{member}/adjustments",
        Uuid::new_v4()
    );
    let answer = panel
        .change(
            Method::POST,
            &other,
            Some(json!({ "points": 5, "reason": "x" })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(panel.app.t.balance(member).await, 30);
}

// ---------------------------------------------------------------- reads and exports

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn members_are_found_by_instagram_username_id_and_name(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Auditor).await;
    let anna = anna_from_instagram(&panel, "anna.runs").await;
    for q in [
        "anna.runs",
        "@Anna.Runs",
        "ANNA",
        "1122334455667788",
        &anna.to_string(),
    ] {
        let hits = panel
            .get(&panel.path(&format!("/members?q={}", urlencode(q))))
            .await
            .json();
        let hit = &hits["hits"][0];
        assert_eq!(hit["member_id"], anna.to_string(), "{q}: {hits}");
        assert_eq!(hit["network"], "instagram", "{q}");
    }
    let none = panel.get(&panel.path("/members?q=%25")).await.json();
    assert_eq!(none["hits"], json!([]), "LIKE wildcards are escaped");
    let card = panel.card(anna).await;
    assert_eq!(card["accounts"][0]["username"], "anna.runs");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_audit_log_exports_as_csv(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    panel
        .adjust(member, json!(50), "Winner, \"best photo\"")
        .await;
    panel.adjust(member, json!(-5), "=HYPERLINK(\"x\")").await;
    panel.drain().await;
    let csv = panel.get(&panel.path("/audit-log.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "position,at,manager,action,subject,points,reason,details"
    );
    // Newest first: the removal, then the award (plus the program's own RulesChanged).
    assert!(
        lines[1].contains(",manager:manager1,PointsAdjusted,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(",-5,\"'=HYPERLINK(\"\"x\"\")\","),
        "formula neutralised: {}",
        lines[1]
    );
    assert!(
        lines[2].contains(&format!(
            ",member-{member},50,\"Winner, \"\"best photo\"\"\","
        )),
        "{}",
        lines[2]
    );
    assert_eq!(lines.len(), 4, "{}", csv.body);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn auditors_export_events_see_a_member_as_of_and_verify(pool: PgPool) {
    let mut panel = Panel::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    panel.adjust(member, json!(50), "gift").await;
    let between = chrono::Utc::now();
    panel.adjust(member, json!(25), "second gift").await;
    panel.drain().await;
    create_user(&panel.app.pool, "alla", PASSWORD, Role::Auditor)
        .await
        .unwrap();
    panel.login("alla", PASSWORD).await;

    let stream = format!("member-{member}");
    let jsonl = panel
        .get(&format!(
            "/api/v1/admin/audit/events?stream={stream}&type=PointsAdjusted"
        ))
        .await;
    assert_eq!(jsonl.status, StatusCode::OK);
    assert_eq!(jsonl.headers[header::CONTENT_TYPE], "application/x-ndjson");
    let lines: Vec<Value> = jsonl
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["payload"]["reason"], "gift");
    assert_eq!(lines[0]["metadata"]["actor"], "manager:manager1");
    let csv = panel
        .get(&format!(
            "/api/v1/admin/audit/events?format=csv&program={}&type=PointsAdjusted",
            panel.program()
        ))
        .await;
    let rows: Vec<&str> = csv.body.lines().collect();
    assert!(rows[0].starts_with("position,tx_id,program_id,stream_id"));
    assert_eq!(rows.len(), 3, "{}", csv.body);
    assert!(rows[2].contains("second gift"));
    let bad = panel.get("/api/v1/admin/audit/events?format=xml").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let at = urlencode(&between.to_rfc3339());
    let as_of = panel
        .get(&format!(
            "/api/v1/admin/audit/members/{member}/as-of?at={at}"
        ))
        .await
        .json();
    assert_eq!(as_of["balance"], 50);
    let verify = panel
        .change(Method::POST, "/api/v1/admin/audit/verify", None)
        .await;
    assert_eq!(verify.status, StatusCode::OK, "{}", verify.body);
    assert_eq!(verify.json()["differences_total"], 0, "{}", verify.body);
}

/// A campaign whose codeword another campaign not ended holds on an overlapping window and
/// network is 409 `codeword_taken` (the panel words it from the code), and nothing changes.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_campaign_with_a_codeword_another_holds_is_409(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Manager).await;
    let now = chrono::Utc::now();
    let autumn = json!({
        "name": "Autumn", "codeword": "ОСЕНЬ", "points": 30,
        "starts_at": now - chrono::Duration::hours(1), "ends_at": now + chrono::Duration::days(7),
        "networks": ["instagram", "vk"],
    });
    let created = panel
        .change(Method::POST, &panel.path("/campaigns"), Some(autumn))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let campaign_id = created.json()["created_id"].as_str().unwrap().to_string();
    // The same codeword as matched (Latin look-alikes, other case) on an overlapping window
    // and network: one comment would pay both, so it is refused and nothing is recorded.
    let events = panel.app.event_count().await;
    let same_word = json!({
        "name": "Lookalike", "codeword": "oceнь", "points": 10,
        "starts_at": now + chrono::Duration::days(6), "ends_at": now + chrono::Duration::days(9),
        "networks": ["vk", "telegram"],
    });
    let taken = panel
        .change(Method::POST, &panel.path("/campaigns"), Some(same_word))
        .await;
    assert_eq!(
        (taken.status, taken.code().as_str()),
        (StatusCode::CONFLICT, "codeword_taken"),
        "{}",
        taken.body
    );
    assert!(
        taken.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&campaign_id)
    );
    assert_eq!(panel.app.event_count().await, events);
    // After its window, or on another network, the codeword is free.
    for (from, to, networks) in [(7, 9, json!(["vk"])), (0, 3, json!(["telegram"]))] {
        let apart = json!({
            "name": "Later", "codeword": "ОСЕНЬ", "points": 10,
            "starts_at": now + chrono::Duration::days(from),
            "ends_at": now + chrono::Duration::days(to), "networks": networks,
        });
        let answer = panel
            .change(Method::POST, &panel.path("/campaigns"), Some(apart))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    // Paused, it still holds the codeword (it may resume); ended, it does not.
    let pause = panel
        .change(
            Method::POST,
            &panel.path(&format!("/campaigns/{campaign_id}/pause")),
            None,
        )
        .await;
    assert_eq!(pause.json()["outcome"], "recorded");
    let again = json!({
        "name": "Again", "codeword": "осень", "points": 10,
        "starts_at": now, "ends_at": now + chrono::Duration::days(1), "networks": ["vk"],
    });
    let taken = panel
        .change(Method::POST, &panel.path("/campaigns"), Some(again.clone()))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    let end = panel
        .change(
            Method::POST,
            &panel.path(&format!("/campaigns/{campaign_id}/end")),
            None,
        )
        .await;
    assert_eq!(end.json()["outcome"], "recorded");
    let free = panel
        .change(Method::POST, &panel.path("/campaigns"), Some(again))
        .await;
    assert_eq!(free.status, StatusCode::OK, "{}", free.body);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn campaigns_rewards_rules_and_dashboard(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Admin).await;
    let now = chrono::Utc::now();
    let campaign = json!({
        "name": "Autumn", "codeword": "ОСЕНЬ", "points": 30,
        "starts_at": now - chrono::Duration::hours(1), "ends_at": now + chrono::Duration::days(7),
        "total_cap": 2, "networks": ["instagram", "vk"], "target_post": null,
    });
    let created = panel
        .change_keyed(
            Method::POST,
            &panel.path("/campaigns"),
            Some(campaign.clone()),
            "camp-1",
        )
        .await
        .json();
    let campaign_id = created["created_id"].as_str().unwrap().to_string();
    let twice = panel
        .change_keyed(
            Method::POST,
            &panel.path("/campaigns"),
            Some(campaign),
            "camp-1",
        )
        .await
        .json();
    assert_eq!(
        (twice["outcome"].as_str(), twice["created_id"].as_str()),
        (Some("duplicate"), Some(campaign_id.as_str()))
    );
    let pause = panel
        .change(
            Method::POST,
            &panel.path(&format!("/campaigns/{campaign_id}/pause")),
            None,
        )
        .await;
    assert_eq!(pause.json()["outcome"], "recorded");
    let bad_word = json!({ "name": "x", "codeword": "!!", "points": 5, "starts_at": now, "ends_at": now, "networks": ["vk"] });
    let refused = panel
        .change(Method::POST, &panel.path("/campaigns"), Some(bad_word))
        .await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_codeword")
    );

    let reward = panel
        .change(
            Method::POST,
            &panel.path("/rewards"),
            Some(json!({ "title": "Mug", "cost": 100, "stock": 3 })),
        )
        .await
        .json();
    let reward_id = reward["created_id"].as_str().unwrap().to_string();
    let stock = panel
        .change(
            Method::POST,
            &panel.path(&format!("/rewards/{reward_id}/stock")),
            Some(json!({ "delta": 2 })),
        )
        .await;
    assert_eq!(stock.json()["outcome"], "recorded");
    let zero = panel
        .change(
            Method::POST,
            &panel.path(&format!("/rewards/{reward_id}/stock")),
            Some(json!({ "delta": 0 })),
        )
        .await;
    assert_eq!(zero.status, StatusCode::UNPROCESSABLE_ENTITY);

    let rules = panel.get(&panel.path("/rules")).await.json();
    assert_eq!(rules["version"], 1);
    let mut changed = rules["rules"].clone();
    changed["daily_cap"] = json!(900);
    let put = panel
        .change(
            Method::PUT,
            &panel.path("/rules"),
            Some(json!({ "rules": changed })),
        )
        .await;
    assert_eq!(put.json()["outcome"], "recorded", "{}", put.body);
    let invalid =
        json!({ "rules": { "points": [], "daily_cap": -1, "daily_cap_per_network": null } });
    let refused = panel
        .change(Method::PUT, &panel.path("/rules"), Some(invalid))
        .await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_rules")
    );
    assert_eq!(panel.get(&panel.path("/rules")).await.json()["version"], 2);

    panel.drain().await;
    let campaigns = panel.get(&panel.path("/campaigns")).await.json();
    assert_eq!(campaigns["campaigns"][0]["status"], "paused");
    assert_eq!(campaigns["campaigns"][0]["remaining"], 2);
    let redemptions = panel
        .get(&panel.path(&format!("/campaigns/{campaign_id}/redemptions")))
        .await
        .json();
    assert_eq!(redemptions["redeemed"], json!([]));
    let rewards = panel.get(&panel.path("/rewards")).await.json();
    assert_eq!(
        (
            rewards["rewards"][0]["title"].as_str(),
            rewards["rewards"][0]["stock"].as_i64()
        ),
        (Some("Mug"), Some(5))
    );
    let dashboard = panel.get(&panel.path("/dashboard?days=7")).await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    let board = panel.get(&panel.path("/leaderboards?period=week")).await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    let log = panel.get(&panel.path("/audit-log")).await.json();
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "CampaignCreated",
        "CampaignPaused",
        "RewardListed",
        "RewardStockChanged",
        "RulesChanged",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn admins_manage_accounts_and_programs(pool: PgPool) {
    let panel = Panel::signed_in(pool, Role::Admin).await;
    let create = |username: &str, password: &str| json!({ "username": username, "password": password, "role": "manager" });
    let weak = panel
        .change(
            Method::POST,
            "/api/v1/admin/users",
            Some(create("olga", "short")),
        )
        .await;
    assert_eq!(
        (weak.status, weak.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "weak_password")
    );
    let ok = panel
        .change(
            Method::POST,
            "/api/v1/admin/users",
            Some(create("olga", PASSWORD)),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let dup = panel
        .change(
            Method::POST,
            "/api/v1/admin/users",
            Some(create("olga", PASSWORD)),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let mut olga = panel.browser();
    assert_eq!(olga.login("olga", PASSWORD).await.status, StatusCode::OK);
    let disable = panel
        .change(
            Method::PUT,
            "/api/v1/admin/users/olga",
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(disable.status, StatusCode::OK, "{}", disable.body);
    assert_eq!(
        olga.get("/api/v1/admin/session").await.status,
        StatusCode::UNAUTHORIZED,
        "sessions end"
    );
    assert_eq!(
        olga.login("olga", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let own = panel
        .change(
            Method::PUT,
            "/api/v1/admin/users/admin1",
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(own.status, StatusCode::CONFLICT);

    let program = panel
        .change(
            Method::POST,
            "/api/v1/admin/programs",
            Some(json!({ "name": "Second brand", "time_zone": "Asia/Almaty" })),
        )
        .await
        .json();
    let id = program["created_id"].as_str().unwrap();
    let list = panel.get("/api/v1/admin/programs").await.json();
    let names: Vec<&str> = list["programs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["Brand", "Second brand"]);
    let rules = panel
        .get(&format!("/api/v1/admin/programs/{id}/rules"))
        .await
        .json();
    assert_eq!(rules["time_zone"], "Asia/Almaty");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_panel_page_is_the_login_page_until_signed_in(pool: PgPool) {
    let mut panel = Panel::new(pool).await;
    let login = panel.get("/admin").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("id=\"login-form\""));
    let csp = login.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(login.headers[header::X_FRAME_OPTIONS], "DENY");
    create_user(&panel.app.pool, "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    panel.login("olga", PASSWORD).await;
    let app = panel.get("/admin").await;
    assert!(app.body.contains("id=\"nav\""));
    for asset in [
        "admin.css",
        "i18n.js",
        "common.js",
        "login.js",
        "charts.js",
        "views.js",
        "manage.js",
        "polls.js",
        "channels.js",
        "app.js",
    ] {
        let answer = panel.get(&format!("/admin/assets/{asset}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{asset}");
        assert!(!answer.body.is_empty(), "{asset}");
        assert!(
            !answer.body.contains("innerHTML"),
            "{asset} must insert text only"
        );
    }
    assert_eq!(
        panel.get("/admin/assets/nope.js").await.status,
        StatusCode::NOT_FOUND
    );
}

// ---------------------------------------------------------------- in a real browser

mod browser_tests {
    use super::*;
    use crate::browser::{Browser, TestServer};
    use domain::network::{ActivityKind, ActivityRef};
    use domain::points::PointsDelta;
    use domain::reward::RewardCommand;

    /// The panel served on a loopback port with projection workers, and an admin account.
    async fn serve(panel: &Panel) -> TestServer {
        create_user(&panel.app.pool, "admin", PASSWORD, Role::Admin)
            .await
            .unwrap();
        let state = AppState::new(app::AppContext::new(
            panel.app.t.ledger.clone(),
            panel.app.pool.clone(),
            config(),
        ));
        TestServer::start(state).await
    }

    async fn sign_in(browser: &Browser, server: &TestServer, password: &str) {
        browser.goto(&server.url("/admin")).await.unwrap();
        browser.type_into("#username", "admin").await.unwrap();
        browser.type_into("#password", password).await.unwrap();
        browser.click("#login-submit").await.unwrap();
    }

    /// Waits until the panel finished rendering `hash`.
    async fn open(browser: &Browser, hash: &str) {
        let target = serde_json::to_string(hash).unwrap();
        browser
            .execute(&format!("location.hash = {target};"), vec![])
            .await
            .unwrap();
        browser
            .wait_for(&format!("document.body.dataset.ready === {target}"))
            .await
            .unwrap();
    }

    /// A fortnight of activity for the screenshots: awards dated on each of the last 14 days,
    /// a campaign and a reward.
    async fn seed(panel: &Panel) {
        let ledger = &panel.app.t.ledger;
        let program = &panel.app.t.program;
        let now = chrono::Utc::now();
        for m in 0..6u32 {
            let member = panel.app.t.member().await;
            let network = Network::ALL[m as usize % 3];
            let identity = ExternalIdentity::new(network, "", format!("70000{m}"));
            let method = domain::event::LinkMethod::Code;
            let metadata = store::Metadata::default();
            ledger
                .link_account(
                    program.program_id,
                    member,
                    identity.clone(),
                    method,
                    metadata,
                    now.into(),
                )
                .await
                .unwrap();
            let profile = projections::identities::Profile {
                program_id: panel.program(),
                identity,
                username: Some(
                    ["maria.k", "petr_v", "sveta", "oleg.fit", "nina", "dmitry"][m as usize].into(),
                ),
                display_name: Some(
                    ["Мария", "Пётр", "Света", "Олег", "Нина", "Дмитрий"][m as usize].into(),
                ),
                language_code: None,
            };
            projections::identities::upsert_profile(&panel.app.pool, &profile)
                .await
                .unwrap();
            // Oldest first, so each day is the newest when folded and counts its active members.
            for day in (0..14i64).rev() {
                if (day + i64::from(m)) % 3 == 0 {
                    continue;
                }
                let at = domain::Timestamp::new(
                    now - chrono::Duration::days(day) - chrono::Duration::minutes(i64::from(m)),
                );
                let kind = [
                    ActivityKind::Comment,
                    ActivityKind::Reaction,
                    ActivityKind::Repost,
                ][(day % 3) as usize];
                let activity = ActivityRef {
                    network,
                    kind,
                    reference: format!("seed-{m}-{day}"),
                };
                let metadata = store::Metadata::default();
                ledger
                    .award_activity(program, member, activity, None, at, metadata, at)
                    .await
                    .unwrap();
            }
        }
        let member = panel.app.t.member().await;
        let delta = PointsDelta::new(120).unwrap();
        ledger
            .adjust_points(
                program.program_id,
                member,
                delta,
                "Photo contest: 1st place",
                None,
                &crate::helpers::manager(),
            )
            .await
            .unwrap();
        panel.app.codeword_campaign().await;
        for (title, cost, stock) in [("Branded mug", 300, 20), ("Coffee", 100, 50)] {
            let reward_id = domain::ids::RewardId(Uuid::new_v4());
            let action = crate::helpers::manager();
            let (by, at) = (action.manager.clone(), action.at);
            ledger
                .reward_command(program.program_id, reward_id, &action, || {
                    RewardCommand::List {
                        reward_id,
                        program_id: program.program_id,
                        title: title.to_string(),
                        cost: domain::points::Points::new(cost).unwrap(),
                        stock,
                        by: by.clone(),
                        at,
                    }
                })
                .await
                .unwrap();
        }
    }

    #[sqlx::test(migrator = "store::MIGRATOR")]
    async fn an_admin_finds_an_instagram_member_adds_50_points_and_sees_the_audit_entry(
        pool: PgPool,
    ) {
        let Some(browser) = Browser::launch().await else {
            return;
        };
        let panel = Panel::new(pool).await;
        let anna = anna_from_instagram(&panel, "anna.runs").await;
        seed(&panel).await;
        let server = serve(&panel).await;
        browser.set_window_size(1280, 900).await.unwrap();

        // A wrong password is refused and signs nobody in.
        sign_in(&browser, &server, "not the password").await;
        let refused = browser
            .wait_for_text("#login-error", "Wrong username or password")
            .await
            .unwrap();
        assert!(!refused.is_empty());
        browser.screenshot("admin-login").await.unwrap();
        assert_eq!(panel.count("SELECT count(*) FROM admin_sessions").await, 0);

        sign_in(&browser, &server, PASSWORD).await;
        browser.wait_visible("#nav").await.unwrap();
        browser
            .wait_for("document.body.dataset.ready === '#/dashboard'")
            .await
            .unwrap();
        browser.wait_visible("svg.chart").await.unwrap();
        browser.screenshot("admin-dashboard").await.unwrap();

        open(&browser, "#/members").await;
        browser
            .type_into("#member-search", "anna.runs")
            .await
            .unwrap();
        browser
            .click("#member-search-form button[type=submit]")
            .await
            .unwrap();
        browser
            .wait_for_text("#member-results", "@anna.runs")
            .await
            .unwrap();
        browser.screenshot("admin-members").await.unwrap();
        browser.click("a.member-link").await.unwrap();
        browser
            .wait_for_text("#member-balance", "10")
            .await
            .unwrap();
        assert!(
            browser
                .text("h1")
                .await
                .unwrap()
                .unwrap()
                .contains(&anna.to_string())
        );

        browser.type_into("#adjust-points", "50").await.unwrap();
        browser
            .type_into("#adjust-reason", "Photo contest winner")
            .await
            .unwrap();
        browser
            .type_into("#adjust-note", "Congratulations on the contest!")
            .await
            .unwrap();
        browser.click("#adjust-submit").await.unwrap();
        browser
            .wait_for_text("#member-balance", "60")
            .await
            .unwrap();
        let row = browser
            .wait_for_text(".history-row", "Photo contest winner")
            .await
            .unwrap();
        assert!(row.contains("Congratulations on the contest!"), "{row}");
        browser.screenshot("admin-member-card").await.unwrap();
        assert_eq!(panel.app.t.balance(anna).await, 60);

        // The audit log is a read model: let the server's workers catch up, then look.
        panel.drain().await;
        open(&browser, "#/audit-log").await;
        let row = browser
            .wait_for_text(".audit-row", "Photo contest winner")
            .await
            .unwrap();
        assert!(row.contains("manager:admin"), "{row}");
        browser.screenshot("admin-audit-log").await.unwrap();

        for (hash, name) in [
            ("#/campaigns", "admin-campaigns"),
            ("#/rewards", "admin-rewards"),
            ("#/leaderboards", "admin-leaderboards"),
            ("#/rules", "admin-rules"),
            ("#/auditor", "admin-auditor"),
            ("#/users", "admin-users"),
        ] {
            open(&browser, hash).await;
            assert_eq!(browser.count("#view-error").await.unwrap(), 0, "{hash}");
            if hash == "#/rules" {
                // The program's channels, and destinations of no program, under the rules.
                assert_eq!(browser.count("#channels .channel-row").await.unwrap(), 4);
                assert_eq!(browser.count("#unrouted").await.unwrap(), 1);
            }
            if hash == "#/auditor" {
                browser.click("#verify-run").await.unwrap();
                browser
                    .wait_for_text("#verify-verdict", "Clean")
                    .await
                    .unwrap();
                // A balance changed behind the projection's back is shown in words, by model
                // and kind, never in Rust's debug notation; then put back.
                let tamper = "UPDATE balances SET current = current + $1 WHERE member_id = $2";
                for delta in [1_000_i64, -1_000] {
                    sqlx::query(tamper)
                        .bind(delta)
                        .bind(anna.0)
                        .execute(&panel.app.pool)
                        .await
                        .unwrap();
                    if delta > 0 {
                        browser.click("#verify-run").await.unwrap();
                        browser
                            .wait_for_text("#verify-verdict", "1 differences")
                            .await
                            .unwrap();
                        let found = browser
                            .text("#verify-result")
                            .await
                            .unwrap()
                            .unwrap_or_default();
                        assert!(found.contains("Balances"), "{found}");
                        assert!(found.contains("values differ"), "{found}");
                        assert!(!found.contains("Some("), "{found}");
                    }
                }
            }
            if hash == "#/users" {
                // A manager limited to this program, created from the page.
                browser.type_into("#user-name", "vera").await.unwrap();
                browser.type_into("#user-password", PASSWORD).await.unwrap();
                let program = panel.program().to_string();
                browser
                    .execute(
                        "document.getElementById('user-program').value = arguments[0];",
                        vec![json!(program)],
                    )
                    .await
                    .unwrap();
                browser.click("#user-submit").await.unwrap();
                let table = browser.wait_for_text("tbody", "vera").await.unwrap();
                assert!(table.contains("veramanagerBrand"), "{table}");
                let rows: Vec<(String, Option<Vec<Uuid>>)> =
                    sqlx::query_as("SELECT username, programs FROM admin_users ORDER BY username")
                        .fetch_all(&panel.app.pool)
                        .await
                        .unwrap();
                assert!(
                    rows.contains(&("vera".into(), Some(vec![panel.program()]))),
                    "{rows:?}"
                );
                // Lifting the limit from the row's program selector.
                browser
                    .execute(
                        "const s = document.querySelector('tr.user-row:nth-child(2) .user-scope'); \
                         s.value = ''; s.dispatchEvent(new Event('change'));",
                        vec![],
                    )
                    .await
                    .unwrap();
                browser
                    .wait_for_text("tbody", "veramanagerAll programs")
                    .await
                    .unwrap();
                let vera: Option<Vec<Uuid>> =
                    sqlx::query_scalar("SELECT programs FROM admin_users WHERE username = 'vera'")
                        .fetch_one(&panel.app.pool)
                        .await
                        .unwrap();
                assert_eq!(vera, None);
            }
            browser.screenshot(name).await.unwrap();
        }
        // Russian is complete: switch and look at the member card again.
        browser.click("#lang-switch").await.unwrap();
        open(&browser, &format!("#/members/{anna}")).await;
        browser
            .wait_for_text("h2", "Привязанные аккаунты")
            .await
            .unwrap();
        browser.screenshot("admin-member-card-ru").await.unwrap();
        browser.quit().await;
    }

    #[sqlx::test(migrator = "store::MIGRATOR")]
    async fn a_username_with_a_script_tag_renders_as_text(pool: PgPool) {
        let Some(browser) = Browser::launch().await else {
            return;
        };
        let panel = Panel::new(pool).await;
        let evil = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">";
        let anna = anna_from_instagram(&panel, evil).await;
        let server = serve(&panel).await;
        browser.set_window_size(1280, 900).await.unwrap();
        sign_in(&browser, &server, PASSWORD).await;
        browser.wait_visible("#nav").await.unwrap();

        open(&browser, "#/members?q=script").await;
        let shown = browser
            .wait_for_text("#member-results", "<script>")
            .await
            .unwrap();
        assert!(shown.contains(evil), "{shown}");
        open(&browser, &format!("#/members/{anna}")).await;
        browser
            .wait_for_text(".account-row", "<script>")
            .await
            .unwrap();
        open(&browser, "#/leaderboards").await;
        browser
            .wait_for_text(".board-row", "<script>")
            .await
            .unwrap();
        let injected = browser
            .execute("return [document.querySelectorAll('#view script, #view img').length, window.__xss === undefined];", vec![])
            .await
            .unwrap();
        assert_eq!(
            injected,
            json!([0, true]),
            "markup from a username must never become elements"
        );
        browser.quit().await;
    }
}
