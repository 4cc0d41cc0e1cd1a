//! Tiers end to end: signed VK comments raise a member up the ladder the admin set, the tier
//! keeper records each move once (also when it is stopped before it notes its place, or two run
//! at once), the tier's multiplier prices the next comment, a changed or removed ladder moves
//! members, a rolling window lets a tier lapse, and the audit finds every tier row and move right.

use crate::harness::admin::AdminClient;
use crate::harness::anna_vk;
use crate::review::comment;
use api::admin::Role;
use app::tiers::keep_once;
use axum::http::StatusCode;
use chrono::Duration;
use domain::Timestamp;
use serde_json::{Value, json};
use sqlx::PgPool;

/// The admin puts a ladder in force (cooldowns off, so each comment earns its 10 points).
pub(crate) async fn put_tiers(admin: &AdminClient, tiers: Value) {
    crate::review::put_rules_with(admin, "tiers", tiers).await;
}

/// Silver from 20 points (×1.5), Gold from 50 (×2), over `window_days` (0 = lifetime).
pub(crate) fn silver_and_gold(window_days: u32) -> Value {
    json!({
        "window_days": window_days,
        "levels": [
            { "name": "Silver", "threshold": 20, "multiplier_percent": 150 },
            { "name": "Gold", "threshold": 50, "multiplier_percent": 200 },
        ],
    })
}

fn now() -> Timestamp {
    Timestamp::new(chrono::Utc::now())
}

/// One keeper pass at `at`, once the log readers see every event appended so far.
async fn keep(admin: &AdminClient, at: Timestamp) -> app::tiers::Pass {
    crate::harness::log_visible_to_readers(&admin.app.pool).await;
    keep_once(&admin.app.t.ledger, &admin.app.pool, at)
        .await
        .unwrap()
}

async fn tier_of_anna(admin: &AdminClient) -> Option<(String, i32, i64)> {
    admin.app.drain().await;
    let member = admin.app.member_of(&anna_vk()).await.unwrap();
    sqlx::query_as(
        "SELECT tier, multiplier_percent, qualifying_points FROM member_tiers WHERE member_id = $1",
    )
    .bind(member.0)
    .fetch_optional(&admin.app.pool)
    .await
    .unwrap()
}

async fn comments(admin: &AdminClient, numbers: std::ops::RangeInclusive<u32>) {
    for n in numbers {
        let reply = admin.app.vk(comment(n, "wall_reply_new")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn members_climb_the_ladder_once_per_move_and_earn_its_multiplier(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    put_tiers(&admin, silver_and_gold(0)).await;
    comments(&admin, 1..=2).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 20);
    let pass = keep(&admin, now()).await;
    assert!(pass.ran && pass.moved == 1, "{pass:?}");
    assert_eq!(tier_of_anna(&admin).await, Some(("Silver".into(), 150, 20)));

    // Silver pays 10 × 1.5.
    comments(&admin, 3..=3).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 35);

    // A keeper stopped after placing members but before noting its place reads the same
    // events again: nobody moves twice.
    sqlx::query("UPDATE tier_keeper SET tx_id = 0, position = 0")
        .execute(&app.pool)
        .await
        .unwrap();
    let again = keep(&admin, now()).await;
    assert!(again.evaluated >= 1 && again.moved == 0, "{again:?}");
    assert_eq!(app.events_of_type("TierChanged").await, 1);

    // 35 + 15 = 50: Gold. While another process holds the keeper's lock a pass does nothing;
    // two keepers at once record one move.
    comments(&admin, 4..=4).await;
    let held = crate::harness::hold_job_lock(&app.pool, "loyalty.tiers").await;
    assert!(!keep(&admin, now()).await.ran);
    held.rollback().await.unwrap();
    let (a, b) = tokio::join!(keep(&admin, now()), keep(&admin, now()));
    assert_eq!(a.moved + b.moved, 1, "{a:?} {b:?}");
    assert_eq!(app.events_of_type("TierChanged").await, 2);
    assert_eq!(tier_of_anna(&admin).await, Some(("Gold".into(), 200, 50)));
    // Managers find members by tier; the list and its CSV name it.
    let listed = |query: &'static str| {
        let admin = &admin;
        async move {
            let page = admin.get(&admin.path(&format!("/members?{query}"))).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            page.json()["members"].as_array().unwrap().clone()
        }
    };
    let gold = listed("tier=2").await;
    assert_eq!(gold.len(), 1);
    assert_eq!(gold[0]["tier"], "Gold");
    assert!(listed("tier=1").await.is_empty());
    assert!(listed("tier=0").await.is_empty());
    let csv = admin.get(&admin.path("/members.csv")).await;
    assert!(csv.body.contains(";Gold;"), "{}", csv.body);
    comments(&admin, 5..=5).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 70, "Gold pays 10 × 2");

    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
    // A tier row edited behind the log's back is found.
    sqlx::query("UPDATE member_tiers SET tier = 'Platinum'")
        .execute(&app.pool)
        .await
        .unwrap();
    let report = projections::audit::verify(&app.pool).await.unwrap();
    let models: Vec<&str> = report.differences.iter().map(|d| d.model).collect();
    assert_eq!(models, vec!["member_tiers"], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_changed_ladder_moves_members_and_a_removed_one_takes_tiers_away(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    let no_ladder = json!({ "window_days": 0, "levels": [] });
    put_tiers(&admin, no_ladder.clone()).await;
    comments(&admin, 1..=3).await;
    // Nothing to place while the program has no ladder.
    let idle = keep(&admin, now()).await;
    assert_eq!(idle.evaluated, 0, "{idle:?}");
    app.drain().await;

    // A ladder set after the points were earned places the members who already reach it.
    put_tiers(&admin, silver_and_gold(0)).await;
    app.drain().await;
    let placed = keep(&admin, now()).await;
    assert_eq!(placed.moved, 1, "{placed:?}");
    assert_eq!(tier_of_anna(&admin).await, Some(("Silver".into(), 150, 30)));

    // Gold lowered to 30: the same points now reach it.
    let mut lower = silver_and_gold(0);
    lower["levels"][1]["threshold"] = json!(30);
    put_tiers(&admin, lower).await;
    app.drain().await;
    assert_eq!(keep(&admin, now()).await.moved, 1);
    assert_eq!(tier_of_anna(&admin).await, Some(("Gold".into(), 200, 30)));

    // No ladder: tiers are taken away, and activity pays the rules' points again.
    put_tiers(&admin, no_ladder).await;
    app.drain().await;
    assert_eq!(keep(&admin, now()).await.moved, 1);
    assert_eq!(tier_of_anna(&admin).await, None);
    comments(&admin, 4..=4).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 40);

    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_tier_counted_over_a_rolling_window_lapses_when_its_points_age_out(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    put_tiers(&admin, silver_and_gold(30)).await;
    comments(&admin, 1..=2).await;
    let start = now();
    assert_eq!(keep(&admin, start).await.moved, 1);
    app.drain().await;

    // A sweep at most once an hour; a month on, the window holds none of the points.
    let later = |days: i64, minutes: i64| {
        Timestamp::new(start.get() + Duration::days(days) + Duration::minutes(minutes))
    };
    assert_eq!(keep(&admin, later(0, 30)).await.evaluated, 0);
    let inside = keep(&admin, later(29, 0)).await;
    assert!(
        inside.evaluated == 1 && inside.moved == 0,
        "29 days on, still Silver: {inside:?}"
    );
    assert_eq!(
        keep(&admin, later(29, 30)).await.evaluated,
        0,
        "swept once an hour"
    );
    let lapsed = keep(&admin, later(31, 0)).await;
    assert_eq!(lapsed.moved, 1, "{lapsed:?}");
    assert_eq!(tier_of_anna(&admin).await, None);

    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn sixteen_placements_racing_in_two_processes_record_one_move(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    put_tiers(&admin, silver_and_gold(0)).await;
    comments(&admin, 1..=2).await;
    let member = app.member_of(&anna_vk()).await.unwrap();
    let other = app.another_process().await;
    let at = now();
    let tasks = (0..16).map(|i| {
        let ledger = if i % 2 == 0 {
            app.t.ledger.clone()
        } else {
            other.t.ledger.clone()
        };
        tokio::spawn(async move { ledger.evaluate_tier(member, at).await.unwrap() })
    });
    let outcomes = futures::future::join_all(tasks).await;
    let recorded = outcomes
        .into_iter()
        .filter(|o| matches!(o.as_ref().unwrap(), app::Outcome::Recorded { .. }))
        .count();
    assert_eq!(recorded, 1);
    assert_eq!(app.events_of_type("TierChanged").await, 1);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_audit_refuses_a_tier_move_its_ladder_does_not_justify(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    put_tiers(&admin, silver_and_gold(0)).await;
    comments(&admin, 1..=2).await;
    let member = app.member_of(&anna_vk()).await.unwrap();
    let version = app
        .t
        .ledger
        .program(app.t.program_id())
        .await
        .unwrap()
        .rules_version;
    // Gold for 20 points: a move no keeper would record, appended straight to the stream.
    let forged = domain::Event::TierChanged {
        member_id: member,
        from: None,
        from_level: 0,
        to: Some("Gold".into()),
        level: 2,
        multiplier_percent: 200,
        qualifying_points: 20,
        rule_version: version,
        at: now(),
    };
    app.append_undecided(member, forged).await;
    app.drain().await;
    let report = projections::audit::verify(&app.pool).await.unwrap();
    let models: Vec<&str> = report.differences.iter().map(|d| d.model).collect();
    assert_eq!(models, vec!["tier_moves"], "{report:?}");
}

/// The fixtures' program with Silver (20, ×1.5) and Gold (50, ×2) over lifetime points.
pub(crate) async fn mini_app_with_a_ladder(m: &crate::harness::mini_app::MiniApp) {
    let ledger = &m.app.t.ledger;
    let program = m.app.t.program_id();
    let mut rules = ledger.program(program).await.unwrap().rules;
    rules.tiers = serde_json::from_value(silver_and_gold(0)).unwrap();
    ledger
        .change_rules(program, rules, &crate::harness::mini_app::now_action())
        .await
        .unwrap();
}

/// Anna with 40 points, placed on Silver by the keeper.
pub(crate) async fn anna_on_silver(m: &crate::harness::mini_app::MiniApp) {
    mini_app_with_a_ladder(m).await;
    let member = m.sign_in(&crate::harness::mini_app::anna()).await;
    m.give(member, 40).await;
    crate::harness::log_visible_to_readers(&m.app.pool).await;
    let pass = keep_once(&m.app.t.ledger, &m.app.pool, now())
        .await
        .unwrap();
    assert_eq!(pass.moved, 1, "{pass:?}");
    m.drain().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_mini_app_shows_the_tier_the_way_to_the_next_and_the_move_in_history(pool: PgPool) {
    use crate::harness::mini_app::{MiniApp, anna};
    let m = MiniApp::new(pool).await;
    anna_on_silver(&m).await;
    let (status, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        me["tier"],
        json!({
            "current": { "name": "Silver", "multiplier_percent": 150, "points_missing": 0 },
            "next": { "name": "Gold", "multiplier_percent": 200, "points_missing": 10 },
            "qualifying_points": 40,
            "window_days": 0,
        })
    );
    let texts: Vec<&str> = me["recent"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts[0], "Новый уровень: Silver", "{texts:?}");

    // A program without a ladder says nothing about tiers.
    let plain = MiniApp::new(m.app.pool.clone()).await;
    let (_, other) = plain
        .get(
            "/api/v1/app/me",
            &crate::harness::mini_app::init_data(&crate::harness::mini_app::user(
                7001, "Пётр", "petr", "ru",
            )),
        )
        .await;
    assert_eq!(other["tier"], Value::Null, "{other}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_ladder_set_through_another_process_reaches_the_keepers_process(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    comments(&admin, 1..=1).await;
    let member = app.member_of(&anna_vk()).await.unwrap();
    let delta = domain::points::PointsDelta::new(20).unwrap();
    let action = crate::harness::mini_app::now_action();
    app.t
        .ledger
        .adjust_points(app.t.program_id(), member, delta, "welcome", None, &action)
        .await
        .unwrap();
    // The keeper's process holds the program's rules, without a ladder.
    assert!(keep(&admin, now()).await.ran);
    let other = app.another_process().await;
    let mut rules = other
        .t
        .ledger
        .program(app.t.program_id())
        .await
        .unwrap()
        .rules;
    rules.tiers = serde_json::from_value(silver_and_gold(0)).unwrap();
    other
        .t
        .ledger
        .change_rules(
            app.t.program_id(),
            rules,
            &crate::harness::mini_app::now_action(),
        )
        .await
        .unwrap();
    app.drain().await;
    let pass = keep(&admin, now()).await;
    assert_eq!(pass.moved, 1, "{pass:?}");
    assert_eq!(tier_of_anna(&admin).await, Some(("Silver".into(), 150, 30)));
}
