//! Point expiry end to end: signed VK comments earn points, the admin sets an expiry period,
//! and the expiry job warns the member once and expires each lot once (also when its place is
//! reset, when two jobs run at once, and when two processes race on one member); a period set
//! later reaches points already earned; the audit proves every expiry and refuses a forged one.

use crate::harness::admin::AdminClient;
use crate::harness::anna_vk;
use crate::review::{comment, put_rules_with};
use api::admin::Role;
use app::expiry::{Pass, keep_once};
use axum::http::StatusCode;
use chrono::Duration;
use domain::Timestamp;
use serde_json::json;
use sqlx::PgPool;

fn now() -> Timestamp {
    Timestamp::new(chrono::Utc::now())
}

fn days(n: i64) -> Timestamp {
    now() + Duration::days(n)
}

/// Points expire 30 days after their credit; members are warned 7 days ahead.
async fn thirty_days(admin: &AdminClient) {
    put_rules_with(admin, "expiry", json!({ "after_days": 30, "warn_days": 7 })).await;
}

/// One job pass at `at`, once the log readers see every event appended so far.
async fn keep(admin: &AdminClient, at: Timestamp) -> Pass {
    crate::harness::log_visible_to_readers(&admin.app.pool).await;
    keep_once(&admin.app.t.ledger, &admin.app.pool, at)
        .await
        .unwrap()
}

async fn comments(admin: &AdminClient, numbers: std::ops::RangeInclusive<u32>) {
    for n in numbers {
        let reply = admin.app.vk(comment(n, "wall_reply_new")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
}

async fn queued(admin: &AdminClient) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM expiry_queue")
        .fetch_one(&admin.app.pool)
        .await
        .unwrap()
}

async fn expired_column(admin: &AdminClient) -> i64 {
    admin.app.drain().await;
    let member = admin.app.member_of(&anna_vk()).await.unwrap();
    sqlx::query_scalar("SELECT expired FROM balances WHERE member_id = $1")
        .bind(member.0)
        .fetch_one(&admin.app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn points_expire_once_after_one_warning_and_the_audit_proves_it(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    thirty_days(&admin).await;
    comments(&admin, 1..=3).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 30);

    let today = keep(&admin, now()).await;
    assert!(today.ran && today.events >= 3, "{today:?}");
    assert_eq!((today.expired, today.warned), (0, 0), "{today:?}");
    assert_eq!(queued(&admin).await, 1);

    // Seven days' notice and the week a warning looks further: warned from day 16.
    let warned = keep(&admin, days(17)).await;
    assert_eq!((warned.looked, warned.warned, warned.expired), (1, 1, 0));
    assert_eq!(
        keep(&admin, days(18)).await.looked,
        0,
        "not due again before day 30"
    );

    let expired = keep(&admin, days(31)).await;
    assert_eq!((expired.looked, expired.expired), (1, 3), "{expired:?}");
    assert_eq!(app.balance_of(&anna_vk()).await, 0);
    assert_eq!(expired_column(&admin).await, 30);
    assert_eq!(queued(&admin).await, 0, "nothing left to expire");

    // A job that lost its place and its queue reads and looks again: nothing expires twice.
    sqlx::query("UPDATE expiry_keeper SET tx_id = 0, position = 0")
        .execute(&app.pool)
        .await
        .unwrap();
    let again = keep(&admin, days(32)).await;
    assert!(again.looked == 1 && again.expired == 0, "{again:?}");
    assert_eq!(app.events_of_type("PointsExpired").await, 3);
    assert_eq!(app.events_of_type("ExpiryWarned").await, 1);

    // New points after the expiry are the member's, with a period of their own.
    comments(&admin, 4..=4).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 10);
    assert_eq!(keep(&admin, days(29)).await.expired, 0);

    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_job_locked_elsewhere_waits_and_racing_jobs_expire_each_lot_once(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    thirty_days(&admin).await;
    comments(&admin, 1..=2).await;
    let held = crate::harness::hold_job_lock(&app.pool, "loyalty.expiry").await;
    assert!(
        !keep(&admin, days(31)).await.ran,
        "another process holds the job"
    );
    held.rollback().await.unwrap();
    let (a, b) = tokio::join!(keep(&admin, days(31)), keep(&admin, days(31)));
    assert_eq!(a.expired + b.expired, 2, "{a:?} {b:?}");

    // Sixteen looks at one member in two processes, each at its own instant.
    comments(&admin, 3..=5).await;
    let member = app.member_of(&anna_vk()).await.unwrap();
    let other = app.another_process().await;
    let tasks = (0..16).map(|i| {
        let ledger = if i % 2 == 0 {
            app.t.ledger.clone()
        } else {
            other.t.ledger.clone()
        };
        let at = days(31) + Duration::seconds(i);
        tokio::spawn(async move { ledger.keep_expiry(member, at).await.unwrap() })
    });
    let looks = futures::future::join_all(tasks).await;
    let expired: usize = looks.into_iter().map(|l| l.unwrap().expired).sum();
    assert_eq!(expired, 3);
    assert_eq!(app.events_of_type("PointsExpired").await, 5);
    assert_eq!(app.balance_of(&anna_vk()).await, 0);
    app.drain().await;
    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_period_set_after_the_points_were_earned_reaches_them(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    // The rules without expiry (and without cooldowns, so each comment earns).
    put_rules_with(&admin, "expiry", json!({ "after_days": 0, "warn_days": 0 })).await;
    comments(&admin, 1..=2).await;
    let off = keep(&admin, days(400)).await;
    assert_eq!(
        (off.looked, off.expired),
        (0, 0),
        "points never expire by default"
    );
    let rules = app.events_of_type("RulesChanged").await as usize;
    assert_eq!(
        off.events, rules,
        "only rules are read while nothing expires"
    );
    assert_eq!(queued(&admin).await, 0);

    // Turned on, the program's log is searched once for the members it credited.
    thirty_days(&admin).await;
    let found = keep(&admin, now()).await;
    assert_eq!((found.looked, found.expired), (1, 0), "{found:?}");
    assert_eq!(queued(&admin).await, 1);
    let on = keep(&admin, days(31)).await;
    assert_eq!((on.looked, on.expired), (1, 2), "{on:?}");

    // Turned off again, the points earned since never expire.
    comments(&admin, 3..=3).await;
    put_rules_with(&admin, "expiry", json!({ "after_days": 0, "warn_days": 0 })).await;
    assert_eq!(keep(&admin, days(400)).await.expired, 0);
    assert_eq!(app.balance_of(&anna_vk()).await, 10);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_audit_refuses_an_expiry_the_lots_do_not_justify(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    thirty_days(&admin).await;
    comments(&admin, 1..=1).await;
    let member = app.member_of(&anna_vk()).await.unwrap();
    let state = app
        .t
        .ledger
        .load::<domain::member::MemberState>(&domain::StreamId::Member(member))
        .await
        .unwrap()
        .state;
    let lot = *state.lots.open().next().unwrap();
    let version = app
        .t
        .ledger
        .program(app.t.program_id())
        .await
        .unwrap()
        .rules_version;
    // The lot is a day old, not thirty: an expiry no job would record, appended straight on.
    let forged = domain::Event::PointsExpired {
        member_id: member,
        entry_id: domain::expiry::expiry_entry(lot.entry_id),
        lot_entry_id: lot.entry_id,
        earned_at: lot.earned_at,
        points: lot.remaining,
        rule_version: version,
        at: days(1),
    };
    app.append_undecided(member, forged).await;
    app.drain().await;
    let report = projections::audit::verify(&app.pool).await.unwrap();
    let models: Vec<&str> = report.differences.iter().map(|d| d.model).collect();
    assert_eq!(models, vec!["expiries"], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_mini_app_says_when_points_expire_and_shows_the_expiry_in_history(pool: PgPool) {
    use crate::harness::mini_app::{MiniApp, anna};
    let m = MiniApp::new(pool).await;
    anna_with_expiring_points(&m).await;
    let (status, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let expiring = &me["expiring"];
    assert_eq!(expiring["points"], 40, "{me}");
    assert_eq!(expiring["later"], 0, "{me}");
    let at: chrono::DateTime<chrono::Utc> = serde_json::from_value(expiring["at"].clone()).unwrap();
    assert!((at - days(30).get()).num_minutes().abs() < 5, "{at}");

    let member = m.sign_in(&anna()).await;
    let look = m.app.t.ledger.keep_expiry(member, days(31)).await.unwrap();
    assert_eq!(look.expired, 1);
    m.drain().await;
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(me["expiring"], serde_json::Value::Null, "{me}");
    assert_eq!(me["balance"]["current"], 0);
    assert_eq!(me["balance"]["expired"], 40);
    let first = &me["recent"]["entries"][0];
    assert_eq!(first["points"], -40, "{me}");
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .starts_with("Сгорели баллы, начисленные "),
        "{me}"
    );
}

/// The fixtures' program with points expiring 30 days after they were earned, and Anna with
/// 40 of them.
pub(crate) async fn anna_with_expiring_points(m: &crate::harness::mini_app::MiniApp) {
    let ledger = &m.app.t.ledger;
    let program = m.app.t.program_id();
    let mut rules = ledger.program(program).await.unwrap().rules;
    rules.expiry = domain::expiry::ExpiryRules {
        after_days: 30,
        warn_days: 7,
    };
    ledger
        .change_rules(program, rules, &crate::harness::mini_app::now_action())
        .await
        .unwrap();
    let member = m.sign_in(&crate::harness::mini_app::anna()).await;
    m.give(member, 40).await;
    m.drain().await;
}
