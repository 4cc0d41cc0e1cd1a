//! The brand an admin sets for the Mini App: name, colour, links (checked and made canonical,
//! a wrong one refused by field, changing nothing), and the logo (typed by its bytes, served
//! publicly under its hash, cached for ever).

use crate::harness::admin::AdminClient;
use crate::harness::json_of;
use crate::harness::mini_app::{MiniApp, anna};
use api::admin::Role;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// An 8×8 PNG.
const LOGO_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGOQz3+NFTEMLQkAoOReQWgyRl8AAAAASUVORK5CYII=";

async fn upload(panel: &AdminClient, bytes: Vec<u8>, content_type: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(Method::PUT)
        .uri(panel.path("/brand/logo"))
        .header("cookie", panel.cookie.clone().unwrap())
        .header("x-csrf-token", panel.csrf.clone().unwrap())
        .header("content-type", content_type)
        .body(Body::from(bytes))
        .unwrap();
    let reply = panel.app.send(request).await;
    (reply.status, json_of(&reply))
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_sets_the_brand_and_a_wrong_link_changes_nothing(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let empty = json_of(&panel.get(&panel.path("/brand")).await);
    assert_eq!(empty["display_name"], Value::Null);
    assert_eq!(empty["updated_by"], Value::Null);

    let body = json!({"display_name": " Кофейня «Зерно» ", "accent_color": "#1F6FEB",
        "vk": "vk.com/zerno_coffee", "telegram": "@zerno_news", "instagram": "zerno.coffee"});
    let reply = panel
        .change(Method::PUT, &panel.path("/brand"), Some(body))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let error = json_of(&reply)["error"].clone();
    assert_eq!(error["code"], "invalid_brand");
    assert!(
        error["message"].as_str().unwrap().starts_with("instagram:"),
        "{error}"
    );
    assert_eq!(json_of(&panel.get(&panel.path("/brand")).await), empty);

    let body = json!({"display_name": " Кофейня «Зерно» ", "accent_color": "#1F6FEB",
        "vk": "vk.com/zerno_coffee", "telegram": "@zerno_news", "instagram": "@zerno.coffee"});
    let reply = panel
        .change(Method::PUT, &panel.path("/brand"), Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let brand = json_of(&panel.get(&panel.path("/brand")).await);
    assert_eq!(brand["display_name"], "Кофейня «Зерно»");
    assert_eq!(brand["accent_color"], "#1f6feb");
    assert_eq!(
        brand["links"],
        json!({"vk": "https://vk.com/zerno_coffee", "telegram": "https://t.me/zerno_news",
               "instagram": "https://www.instagram.com/zerno.coffee/"})
    );
    assert_eq!(brand["updated_by"], "manager:admin1");

    let mut manager = panel.browser();
    api::admin::create_user(
        &panel.app.pool,
        "test",
        "olga",
        crate::harness::admin::PASSWORD,
        Role::Manager,
    )
    .await
    .unwrap();
    manager.login("olga", crate::harness::admin::PASSWORD).await;
    assert_eq!(
        manager.get(&manager.path("/brand")).await.status,
        StatusCode::OK
    );
    let refused = manager
        .change(Method::PUT, &manager.path("/brand"), Some(json!({})))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(json_of(&panel.get(&panel.path("/brand")).await), brand);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_logo_is_served_by_its_hash_and_an_svg_is_refused(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let png = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, LOGO_PNG).unwrap();
    let (status, refused) =
        upload(&panel, b"<svg onload=alert(1)/>".to_vec(), "image/svg+xml").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    // Text may not carry a NUL byte; an image may.
    let (status, _) = upload(&panel, png.clone(), "text/plain").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The declared type is not what decides: the bytes are.
    let (status, uploaded) = upload(&panel, png.clone(), "application/octet-stream").await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    let hash = uploaded["logo_hash"].as_str().unwrap().to_string();
    assert_eq!(hash, hex::encode(Sha256::digest(&png)));

    let server = panel.app.serve().await;
    let url = server.url(&format!("/app/brand/{}/logo/{hash}", panel.program()));
    let logo = reqwest::get(&url).await.unwrap();
    assert_eq!(logo.status(), reqwest::StatusCode::OK);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(
        logo.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(logo.bytes().await.unwrap().to_vec(), png);
    let other = server.url(&format!("/app/brand/{}/logo/{hash}", uuid::Uuid::new_v4()));
    assert_eq!(
        reqwest::get(&other).await.unwrap().status(),
        reqwest::StatusCode::NOT_FOUND
    );

    let removed = panel
        .change(Method::DELETE, &panel.path("/brand/logo"), None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        reqwest::get(&url).await.unwrap().status(),
        reqwest::StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn members_see_the_brand_in_the_mini_app(pool: PgPool) {
    let m = MiniApp::new(pool.clone()).await;
    let program = m.app.t.program_id();
    let valid = app::brand::validate(&app::brand::BrandRequest {
        display_name: Some("Зерно".into()),
        telegram: Some("https://t.me/+AbCdEfGhIjK".into()),
        ..Default::default()
    })
    .unwrap();
    app::brand::save(&m.state.pool, program, &valid, "manager:olga")
        .await
        .unwrap();
    let png = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, LOGO_PNG).unwrap();
    let hash = app::brand::set_logo(&m.state.pool, program, &png, "manager:olga")
        .await
        .unwrap();
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(
        me["brand"],
        json!({"name": "Зерно", "accent_color": null,
               "logo_url": format!("/app/brand/{}/logo/{hash}", program.0),
               "links": {"vk": null, "telegram": "https://t.me/+AbCdEfGhIjK", "instagram": null}})
    );
}
