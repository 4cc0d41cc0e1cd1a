//! The development sign-in, the page and the OpenAPI document.

use crate::harness::json_of;
use crate::harness::mini_app::MiniApp;
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

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

    let on = MiniApp::with_config(pool, |config| config.mini_app.dev_sign_in = true).await;
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
    let response = m.call("GET", "/app", None, None, &[]).await;
    assert_eq!(response.status, StatusCode::OK);
    let csp = response.headers["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self' https://telegram.org"));
    let html = m.call("GET", "/app", None, None, &[]).await.body;
    // The script by its content-hashed URL (tests/it/assets.rs); the plain one still answers.
    assert!(html.contains("telegram-web-app.js") && html.contains("src=\"/app/app."));
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
