//! Live pages: the program's event stream says `ready`, then `projected` once the projection
//! workers folded a new change; it needs a session, and a shutting-down server ends it.

use crate::harness::admin::{AdminClient, PASSWORD};
use api::admin::Role;
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use std::time::Duration;

/// Reads the stream until `event: <name>` arrives; fails after `within`, or when the stream ends.
async fn next_event(stream: &mut reqwest::Response, name: &str, within: Duration) -> String {
    let wanted = format!("event: {name}");
    let mut seen = String::new();
    tokio::time::timeout(within, async {
        while !seen.contains(&wanted) {
            let chunk = stream.chunk().await.unwrap().expect("the stream ended");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no `{name}` within {within:?}; read {seen:?}"));
    seen
}

async fn open_stream(panel: &AdminClient, base_url: &str) -> reqwest::Response {
    let stream = reqwest::Client::new()
        .get(format!("{base_url}{}", panel.path("/live")))
        .header("cookie", panel.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), reqwest::StatusCode::OK);
    let kind = stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(kind, "text/event-stream");
    stream
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_live_stream_tells_a_page_when_a_change_was_projected(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    let server = panel.app.serve().await;
    let mut stream = open_stream(&panel, &server.base_url).await;
    next_event(&mut stream, "ready", Duration::from_secs(5)).await;

    let adjusted = panel.adjust(member, json!(40), "Contest prize").await;
    assert_eq!(adjusted.status, StatusCode::OK, "{}", adjusted.body);
    // Generous for a loaded test machine: the page's promise (about a second) is measured in
    // the browser test, which sees the number change.
    next_event(&mut stream, "projected", Duration::from_secs(10)).await;
    let card = panel.card(member).await;
    assert_eq!(
        card["balance"], 40,
        "what the page re-reads is there: {card}"
    );

    drop(server);
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while stream.chunk().await.ok().flatten().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "shutting the server down ends open streams");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_live_stream_needs_a_session_that_may_see_the_program(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Auditor).await;
    let stranger = panel.browser();
    assert_eq!(
        stranger.get(&panel.path("/live")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let other = panel.app.another_program().await;
    let limited = json!({ "programs": [other.0] });
    api::admin::create_user(&panel.app.pool, "test", "root", PASSWORD, Role::Admin)
        .await
        .unwrap();
    let mut admin = panel.browser();
    admin.login("root", PASSWORD).await;
    let limit = admin
        .change(
            axum::http::Method::PUT,
            "/api/v1/admin/users/auditor1",
            Some(limited),
        )
        .await;
    assert_eq!(limit.status, StatusCode::OK, "{}", limit.body);
    let mut auditor = panel.browser();
    auditor.login("auditor1", PASSWORD).await;
    assert_eq!(
        auditor.get(&panel.path("/live")).await.status,
        StatusCode::FORBIDDEN,
        "limited to another program"
    );
}
