//! The leaderboard with the member highlighted.

use crate::harness::mini_app::{MiniApp, anna};
use axum::http::StatusCode;
use sqlx::PgPool;

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
