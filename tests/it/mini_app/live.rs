//! What the phone screens read: the live stream (points arriving while the app is open), the
//! first screen in one answer, coupons with their QR code, ways to earn with today's caps, and
//! last week's final standings.

use crate::harness::json_of;
use crate::harness::mini_app::{MiniApp, anna, init_data, user};
use axum::http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use std::time::Duration;

/// Reads the stream until `event: <name>` arrives; answers that event's data.
async fn next_event(stream: &mut reqwest::Response, name: &str, seen: &mut String) -> String {
    let wanted = format!("event: {name}\ndata: ");
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(at) = seen.find(&wanted) {
                let rest = &seen[at + wanted.len()..];
                if let Some(end) = rest.find('\n') {
                    let data = rest[..end].to_string();
                    *seen = rest[end..].to_string();
                    return data;
                }
            }
            let chunk = stream.chunk().await.unwrap().expect("the stream ended");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no `{name}` within 10 s; read {seen:?}"))
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_live_stream_sends_the_members_balance_when_it_changes(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 150).await;
    m.drain().await;
    let server = m.app.serve().await;
    let url = server.url("/api/v1/app/live");
    let http = reqwest::Client::new();

    let refused = http.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    let forged = format!("{}0", anna());
    let refused = http
        .get(&url)
        .header("authorization", format!("tma {forged}"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);

    let mut stream = http
        .get(&url)
        .header("authorization", format!("tma {}", anna()))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), reqwest::StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    let ready: Value =
        serde_json::from_str(&next_event(&mut stream, "ready", &mut seen).await).unwrap();
    assert_eq!(ready["current"], 150);

    // Someone else's points move the boards (a `projected`), not Anna's balance.
    let boris = m.rival(5_000_000_099, "Борис", 70).await;
    next_event(&mut stream, "projected", &mut seen).await;
    assert!(!seen.contains("event: balance"), "{seen}");
    m.give(member, 40).await;
    let balance: Value =
        serde_json::from_str(&next_event(&mut stream, "balance", &mut seen).await).unwrap();
    assert_eq!(balance["current"], 190);
    assert_eq!(balance["earned"], 190);
    assert_eq!(m.app.t.balance(boris).await, 70);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_first_screen_is_one_answer_and_coupons_carry_a_qr_code(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 150).await;
    let coffee = m.list_reward("Капучино", 100, 5).await;
    m.drain().await;
    let (status, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, history) = m.get("/api/v1/app/history", &anna()).await;
    assert_eq!(
        me["recent"], history,
        "`me` carries the newest history page"
    );
    assert_eq!(
        me["brand"]["name"], "Brand",
        "no brand set: the program's name"
    );
    assert_eq!(me["brand"]["logo_url"], Value::Null);

    let reply = m
        .call(
            "POST",
            &format!("/api/v1/app/rewards/{}/redeem", coffee.0),
            Some(&anna()),
            None,
            &[("Idempotency-Key", "tap")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let redeemed = json_of(&reply);
    let qr = &redeemed["qr"];
    assert_eq!(qr["size"], 29, "a version 2 symbol and its border: {qr}");
    assert!(
        qr["path"].as_str().unwrap().starts_with("M4 4h7v1h-7z"),
        "{qr}"
    );
    m.drain().await;
    let (_, rewards) = m.get("/api/v1/app/rewards", &anna()).await;
    assert_eq!(
        rewards["coupons"][0]["qr"], *qr,
        "the same code draws the same symbol"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn ways_to_earn_count_down_todays_caps(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    let instagram = domain::network::ExternalIdentity::new(
        domain::network::Network::Instagram,
        crate::harness::IG_BRAND,
        "2233445566778899",
    );
    m.link_named(member, instagram, None).await;
    let reply = m
        .comment_on_instagram("2233445566778899", "17900000000000001", "Лучший капучино!")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (status, view) = m.get("/api/v1/app/campaigns", &anna()).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        view["daily_cap"],
        serde_json::json!({"cap": 500, "earned_today": 10, "left_today": 490})
    );
    let instagram_cap = view["network_caps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["network"] == "instagram")
        .unwrap();
    assert_eq!(instagram_cap["left_today"], 290);
    let comment = view["ways_to_earn"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["network"] == "instagram")
        .unwrap();
    assert_eq!(comment["kind"], "comment");
    assert_eq!(comment["cooldown_seconds"], 60);
    assert!(
        comment["how_to"]
            .as_str()
            .unwrap()
            .contains("«Brand» в Instagram"),
        "{comment}"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn last_weeks_board_is_its_final_standings_not_this_weeks(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 150).await;
    m.drain().await;
    let (status, this_week) = m.get("/api/v1/app/leaderboard?period=week", &anna()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(this_week["entries"].as_array().unwrap().len(), 1);
    let (status, last_week) = m
        .get("/api/v1/app/leaderboard?period=last_week", &anna())
        .await;
    assert_eq!(status, StatusCode::OK, "{last_week}");
    assert_eq!(last_week["period"], "last_week");
    assert_eq!(last_week["entries"], serde_json::json!([]));
    assert_eq!(last_week["me"], Value::Null);
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(me["rank"]["week"]["rank"], 1);
    assert_eq!(me["rank"]["last_week"], Value::Null);
    let (status, _) = m
        .get("/api/v1/app/leaderboard?period=yesterday", &anna())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let stranger = init_data(&user(5_000_000_050, "Вера", "vera", "ru"));
    let (status, _) = m
        .get("/api/v1/app/leaderboard?period=last_month", &stranger)
        .await;
    assert_eq!(status, StatusCode::OK);
}
