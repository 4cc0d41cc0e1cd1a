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
