//! Campaigns as the member sees them.

use crate::harness::json_of;
use crate::harness::mini_app::{MiniApp, anna};
use axum::http::StatusCode;
use sqlx::PgPool;

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
    assert_eq!(campaign["description"], "Найдите слово в наших постах");
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
