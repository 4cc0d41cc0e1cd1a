//! Signing in: the session cookie, wrong passwords, throttling by account and by address,
//! and the rules for new accounts.

use crate::harness::TestApp;
use crate::harness::admin::{AdminClient, PASSWORD};
use api::admin::{Role, UserError, create_user};
use axum::http::{Method, StatusCode, header};
use sqlx::PgPool;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn signing_in_sets_a_strict_http_only_cookie_and_the_session_gives_a_csrf_token(
    pool: PgPool,
) {
    let mut panel = AdminClient::new(pool).await;
    create_user(&panel.app.pool, "test", "Olga", PASSWORD, Role::Manager)
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
    let mut panel = AdminClient::new(pool).await;
    create_user(&panel.app.pool, "test", "olga", PASSWORD, Role::Admin)
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
    let mut panel = AdminClient::new(pool).await;
    create_user(&panel.app.pool, "test", "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    create_user(&panel.app.pool, "test", "ivan", PASSWORD, Role::Manager)
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
    let panel = AdminClient::new(pool).await;
    create_user(&panel.app.pool, "test", "olga", PASSWORD, Role::Manager)
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
    let panel = AdminClient::new(pool).await;
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
    let weak = create_user(&pool, "test", "olga", "short pw", Role::Manager).await;
    assert!(matches!(weak, Err(UserError::WeakPassword)), "{weak:?}");
    assert!(
        weak.unwrap_err()
            .to_string()
            .contains("at least 10 characters")
    );
    let bad_name = create_user(&pool, "test", "<olga>", PASSWORD, Role::Manager).await;
    assert!(matches!(bad_name, Err(UserError::InvalidUsername)));
    let user = create_user(&pool, "test", " Olga ", PASSWORD, Role::Auditor)
        .await
        .unwrap();
    assert_eq!((user.username.as_str(), user.role), ("olga", Role::Auditor));
    let again = create_user(&pool, "test", "olga", PASSWORD, Role::Admin).await;
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

/// Behind a trusted reverse proxy every sign-in arrives from the proxy's address; the address
/// the proxy forwards is the one throttled, so one guesser does not lock everyone out.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn behind_a_trusted_proxy_the_forwarded_client_is_throttled_not_the_proxy(pool: PgPool) {
    let app = TestApp::with_config(pool, |config, _| {
        config.http.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let panel = AdminClient::on(std::sync::Arc::new(app));
    create_user(&panel.app.pool, "test", "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    let proxy = [10, 0, 0, 2];
    // The guesser also forges an address on the left, which the proxy passes on.
    let guesser = Some("192.0.2.1, 203.0.113.7");
    for i in 0..20 {
        let answer = panel
            .login_forwarded(proxy, guesser, &format!("guess{i}"), "not the password")
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let throttled = panel
        .login_forwarded(proxy, guesser, "olga", PASSWORD)
        .await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    let recorded: i64 = panel
        .count("SELECT count(*) FROM admin_login_failures WHERE client = '203.0.113.7'")
        .await;
    assert!(
        recorded > 0,
        "failures are recorded for the forwarded address"
    );
    let colleague = panel
        .login_forwarded(proxy, Some("198.51.100.1"), "olga", PASSWORD)
        .await;
    assert_eq!(colleague.status, StatusCode::OK, "{}", colleague.body);
}

/// A client that is not a trusted proxy cannot pick its address with the header: with no
/// proxy trusted, forged `X-Forwarded-For` values all count against its own address.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing(pool: PgPool) {
    let panel = AdminClient::new(pool).await;
    create_user(&panel.app.pool, "test", "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    let guesser = [203, 0, 113, 7];
    for i in 0..20 {
        let forged = format!("198.51.100.{i}");
        let answer = panel
            .login_forwarded(guesser, Some(&forged), &format!("guess{i}"), "wrong")
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let throttled = panel
        .login_forwarded(guesser, Some("198.51.100.99"), "olga", PASSWORD)
        .await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
}

/// Behind an https public URL the session cookie is Secure without being asked.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_https_public_url_makes_session_cookies_secure(pool: PgPool) {
    let app = TestApp::with_config(pool, |config, _| {
        config.http.public_url = "https://loyalty.example.com".into();
    })
    .await;
    let mut panel = AdminClient::on(std::sync::Arc::new(app));
    create_user(&panel.app.pool, "test", "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    let answer = panel.login("olga", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let out = panel
        .change(Method::DELETE, "/api/v1/admin/session", None)
        .await;
    let cleared = out.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("; Secure"), "{cleared}");
}
