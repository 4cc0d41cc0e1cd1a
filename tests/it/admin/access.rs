//! Who may change what: the CSRF token on every change, roles, accounts limited to one
//! program, text the database cannot store, and idempotent resubmits.

use crate::harness::admin::{AdminClient, PASSWORD};
use api::admin::{Role, create_user};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_change_without_the_csrf_token_is_403_and_appends_nothing(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
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
/// Signing in (with a password or Telegram) opens the session, so it has no token yet.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn every_admin_state_change_requires_the_csrf_token(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let events = panel.app.event_count().await;
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/admin") {
            continue;
        }
        for method in ["post", "put", "delete", "patch"] {
            let signs_in = method == "post"
                && ["/api/v1/admin/session", "/api/v1/admin/session/telegram"]
                    .contains(&path.as_str());
            if item.get(method).is_none() || signs_in {
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
    let panel = AdminClient::signed_in(pool, Role::Auditor).await;
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
    create_user(&manager.app.pool, "test", "olga", PASSWORD, Role::Manager)
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
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
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
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
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
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
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
