//! Accounts and programs, managed by admins.

use crate::harness::admin::{AdminClient, PASSWORD};
use api::admin::Role;
use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn admins_manage_accounts_and_programs(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
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

/// Every change to an admin account is recorded with who made it, in the change's own
/// transaction: creation, role, disabling and enabling, a new password (never its text), the
/// programs it may see. An update that changes nothing records nothing; the record is
/// append-only; admins and auditors read it, managers may not.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn changes_to_admin_accounts_are_recorded_with_who_made_them(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let program = panel.program();
    let new_password = "a brand new password 42";
    let olga = |body: serde_json::Value| {
        let panel = &panel;
        async move {
            let reply = panel
                .change(Method::PUT, "/api/v1/admin/users/olga", Some(body))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
    };
    let created = panel
        .change(
            Method::POST,
            "/api/v1/admin/users",
            Some(json!({ "username": "olga", "password": PASSWORD, "role": "manager" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    olga(json!({ "role": "auditor" })).await;
    olga(json!({ "role": "auditor" })).await;
    olga(json!({ "disabled": true })).await;
    olga(json!({ "disabled": false })).await;
    olga(json!({ "password": new_password })).await;
    olga(json!({ "programs": [program] })).await;
    olga(json!({ "every_program": true })).await;

    let reply = panel.get("/api/v1/admin/users/changes").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        !reply.body.contains(new_password),
        "a password is never shown"
    );
    let changes = reply.json()["changes"].as_array().unwrap().clone();
    let lines: Vec<(String, String, String)> = changes
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap().to_string();
            (text("actor"), text("username"), text("change"))
        })
        .collect();
    let by_admin = |change: &str| {
        (
            "manager:admin1".to_string(),
            "olga".to_string(),
            change.to_string(),
        )
    };
    assert_eq!(
        lines[..7],
        [
            by_admin("programs"),
            by_admin("programs"),
            by_admin("password"),
            by_admin("enabled"),
            by_admin("disabled"),
            by_admin("role"),
            by_admin("created"),
        ],
        "newest first; the second role change to the same role recorded nothing"
    );
    assert_eq!(
        lines[7],
        ("test".into(), "admin1".into(), "created".into()),
        "the harness's own account, older"
    );
    assert_eq!(
        changes[5]["detail"],
        json!({ "from": "manager", "role": "auditor" })
    );
    assert_eq!(changes[6]["detail"], json!({ "role": "manager" }));
    assert_eq!(
        changes[1]["detail"],
        json!({ "from": null, "programs": [program] })
    );
    assert_eq!(
        changes[0]["detail"],
        json!({ "from": [program], "programs": null })
    );

    let rewrite = sqlx::query("UPDATE admin_user_changes SET actor = 'someone else'")
        .execute(&panel.app.pool)
        .await;
    assert!(rewrite.is_err(), "append-only");
    let erase = sqlx::query("DELETE FROM admin_user_changes")
        .execute(&panel.app.pool)
        .await;
    assert!(erase.is_err(), "append-only");

    let manager = AdminClient::signed_in(panel.app.pool.clone(), Role::Manager).await;
    let refused = manager.get("/api/v1/admin/users/changes").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let auditor = AdminClient::signed_in(panel.app.pool.clone(), Role::Auditor).await;
    let read = auditor.get("/api/v1/admin/users/changes").await;
    assert_eq!(read.status, StatusCode::OK);
}
