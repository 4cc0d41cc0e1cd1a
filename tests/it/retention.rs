//! The retention job: records kept only for operations go once past their retention, recent
//! ones stay, and the log, its seal, the read models and configuration are never touched.

use crate::harness::*;
use app::config::{RetentionConfig, ServeConfig, TelegramMode};
use app::retention::{PurgeError, purge_once};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

/// Every table the job purges, as the report names them.
const PURGED: [&str; 11] = [
    "bot_updates",
    "notification_deliveries",
    "deliveries_without_effect",
    "unrouted_destinations",
    "admin_login_failures",
    "admin_sessions",
    "link_codes",
    "vk_id_pending",
    "subscription_checks",
    "managers_digests",
    "managers_alerts",
];

/// One row in every purged table: `at` in each age column, `expires` in each expiry column.
/// `n` keeps the keys of several calls apart.
async fn seed(pool: &PgPool, program: Uuid, n: i64, at: DateTime<Utc>, expires: DateTime<Utc>) {
    let key = format!("r{n}");
    let member = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO bot_updates (update_id, body, received_at, handled_at) \
         VALUES ($1, '\\x7b7d', $2, $2)",
    )
    .bind(n)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO notification_deliveries (key, chat_id, outcome, settled_at) \
         VALUES ($1, 42, 'delivered', $2)",
    )
    .bind(&key)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO deliveries_without_effect (command_id, recorded_at) VALUES ($1, $2)")
        .bind(Uuid::new_v4())
        .bind(at)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO unrouted_destinations (network, destination, reason, first_seen, \
         last_seen) VALUES ('vk', $1, 'no_program', $2, $2)",
    )
    .bind(&key)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO admin_login_failures (username, client, failed_at) \
         VALUES ($1, '203.0.113.7', $2)",
    )
    .bind(&key)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO admin_users (username, password_hash, role) VALUES ($1, 'x', 'admin')",
    )
    .bind(&key)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO admin_sessions (token_sha256, username, csrf_token, created_at, \
         expires_at, client) VALUES (convert_to($1, 'UTF8'), $1, 'c', $2, $3, '203.0.113.7')",
    )
    .bind(&key)
    .bind(at)
    .bind(expires)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO link_codes (code, program_id, member_id, network, created_at, expires_at) \
         VALUES ($1, $2, $3, 'vk', $4, $5)",
    )
    .bind(&key)
    .bind(program)
    .bind(member)
    .bind(at)
    .bind(expires)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO vk_id_pending (state, program_id, member_id, code_verifier, created_at, \
         expires_at) VALUES ($1, $2, $3, 'v', $4, $5)",
    )
    .bind(&key)
    .bind(program)
    .bind(member)
    .bind(at)
    .bind(expires)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO subscription_checks (program_id, member_id, network, channel, status, \
         bonus, checked_at) VALUES ($1, $2, 'vk', $3, 'member', 'none', $4)",
    )
    .bind(program)
    .bind(member)
    .bind(&key)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO managers_digests (program_id, day, claimed_at, chat_id) \
         VALUES ($1, DATE '2026-01-01' + $2::int, $3, -100)",
    )
    .bind(program)
    .bind(n as i32)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO managers_alerts (program_id, key, opened_at, resolved_at, chat_id) \
         VALUES ($1, $2, $3, $3, -100)",
    )
    .bind(program)
    .bind(&key)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn counts(pool: &PgPool) -> Vec<(&'static str, i64)> {
    let mut all = Vec::new();
    for table in PURGED {
        all.push((table, count(pool, table).await));
    }
    all
}

/// What must never change: the log, its seal, the read models and configuration, as text.
async fn untouchable(pool: &PgPool) -> Vec<String> {
    let mut all = Vec::new();
    for (table, order) in [
        ("events", "position"),
        ("log_seal", "1"),
        ("balances", "member_id"),
        ("identities", "1"),
        ("profiles", "1"),
        ("channels", "1"),
        ("channel_moves", "id"),
        ("telegram_polls", "request_id"),
        ("bot_chats", "user_id"),
        ("admin_users", "username"),
        ("projection_checkpoints", "1"),
    ] {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT t::text FROM {table} AS t ORDER BY {order}, t::text"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        all.push(format!("{table}: {rows:?}"));
    }
    all
}

fn settings(days: i64, hours: i64) -> RetentionConfig {
    RetentionConfig {
        days,
        raw_update_hours: hours,
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn old_operational_rows_go_and_recent_ones_stay(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let program = app.t.program_id().0;
    let now = Utc::now();
    seed(
        &app.pool,
        program,
        1,
        now - Duration::days(40),
        now - Duration::days(40),
    )
    .await;
    seed(
        &app.pool,
        program,
        2,
        now - Duration::minutes(5),
        now + Duration::minutes(10),
    )
    .await;
    // A message not handled yet is work, however old.
    sqlx::query(
        "INSERT INTO bot_updates (update_id, body, received_at) \
         VALUES (3, '\\x7b7d', now() - interval '40 days')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let report = purge_once(&app.pool, &RetentionConfig::default(), now)
        .await
        .unwrap();
    assert!(report.ran);
    for table in PURGED {
        assert_eq!(report.deleted(table), 1, "{table}: {report}");
    }
    assert_eq!(report.total(), PURGED.len() as u64);
    let left = counts(&app.pool).await;
    let expected: Vec<(&str, i64)> = PURGED
        .iter()
        .map(|t| (*t, if *t == "bot_updates" { 2 } else { 1 }))
        .collect();
    assert_eq!(left, expected);
    let recent: Vec<String> = sqlx::query_scalar("SELECT key FROM notification_deliveries")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(recent, ["r2"], "the recent row is the one kept");

    // Again at once: nothing is old any more.
    let again = purge_once(&app.pool, &RetentionConfig::default(), now)
        .await
        .unwrap();
    assert_eq!(again.total(), 0, "{again}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_log_read_models_and_configuration_are_never_touched(pool: PgPool) {
    let app = TestApp::new(pool).await;
    assert_eq!(app.vk_fixture("wall_reply_new.json").await.body, "ok");
    assert_eq!(app.vk_fixture("like_add.json").await.body, "ok");
    assert_eq!(app.vk_fixture("like_remove.json").await.body, "ok");
    app.drain().await;
    projections::seal::Sealer::new(
        store::EventStore::new(app.pool.clone()),
        projections::seal::SealConfig::default(),
    )
    .drain()
    .await
    .unwrap();
    let balance = app.balance_of(&anna_vk()).await;
    assert!(balance > 0, "the comment paid");
    seed(&app.pool, app.t.program_id().0, 1, Utc::now(), Utc::now()).await;
    let before = untouchable(&app.pool).await;
    assert!(app.event_count().await > 0);

    // A purge a year from now finds every operational row old and nothing else to delete.
    let report = purge_once(
        &app.pool,
        &RetentionConfig::default(),
        Utc::now() + Duration::days(365),
    )
    .await
    .unwrap();
    assert!(report.deleted("bot_updates") >= 1, "{report}");
    for (table, rows) in counts(&app.pool).await {
        assert_eq!(rows, 0, "{table}");
    }
    assert_eq!(untouchable(&app.pool).await, before);
    assert_eq!(app.balance_of(&anna_vk()).await, balance);
    app.drain().await;
    assert_eq!(untouchable(&app.pool).await, before);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_settings_decide_what_is_old(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let now = Utc::now();
    seed(
        &app.pool,
        app.t.program_id().0,
        1,
        now - Duration::days(2),
        now - Duration::days(2),
    )
    .await;
    let kept = purge_once(&app.pool, &settings(30, 72), now).await.unwrap();
    assert_eq!(
        kept.total(),
        2,
        "only the expired session and VK ID: {kept}"
    );
    assert_eq!(kept.deleted("admin_sessions"), 1);
    assert_eq!(kept.deleted("vk_id_pending"), 1);

    let raw_only = purge_once(&app.pool, &settings(30, 24), now).await.unwrap();
    assert_eq!(raw_only.deleted("bot_updates"), 1, "{raw_only}");
    assert_eq!(raw_only.total(), 1, "{raw_only}");

    let rest = purge_once(&app.pool, &settings(1, 24), now).await.unwrap();
    for table in PURGED {
        let expected =
            u64::from(!["bot_updates", "admin_sessions", "vk_id_pending"].contains(&table));
        assert_eq!(rest.deleted(table), expected, "{table}: {rest}");
    }
    for (table, rows) in counts(&app.pool).await {
        assert_eq!(rows, 0, "{table}");
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn settings_out_of_range_delete_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let now = Utc::now();
    seed(&app.pool, app.t.program_id().0, 1, now, now).await;
    for bad in [
        settings(0, 48),
        settings(-5, 48),
        settings(30, 0),
        settings(i64::MAX, 48),
    ] {
        let error = purge_once(&app.pool, &bad, now + Duration::days(400))
            .await
            .unwrap_err();
        assert!(matches!(error, PurgeError::Settings(_)), "{error}");
        let text = error.to_string();
        assert!(
            text.contains("retention_days") || text.contains("raw_update_retention_hours"),
            "{text}"
        );
    }
    for (table, rows) in counts(&app.pool).await {
        assert_eq!(rows, 1, "{table}");
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn one_purge_at_a_time(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let now = Utc::now();
    seed(
        &app.pool,
        app.t.program_id().0,
        1,
        now - Duration::days(40),
        now - Duration::days(40),
    )
    .await;
    let mut other = app.pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('loyalty.retention'), 0)")
        .execute(&mut *other)
        .await
        .unwrap();
    let report = purge_once(&app.pool, &RetentionConfig::default(), now)
        .await
        .unwrap();
    assert!(!report.ran);
    assert_eq!(report.total(), 0);
    assert_eq!(count(&app.pool, "notification_deliveries").await, 1);
    other.rollback().await.unwrap();
    let report = purge_once(&app.pool, &RetentionConfig::default(), now)
        .await
        .unwrap();
    assert!(report.ran);
    assert_eq!(report.total(), PURGED.len() as u64, "{report}");
}

/// A delivery that changed nothing is remembered for `retention_days`; coming again after
/// that (no platform redelivers that late), it is decided afresh. It can then at most restore
/// the one award of its activity: nothing is ever paid twice.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_redelivery_after_the_purge_never_pays_twice(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let like: Value = serde_json::from_slice(&fixture("vk/like_add.json")).unwrap();
    let mut liked_again = like.clone();
    liked_again["event_id"] = json!("like-again");
    for delivery in [&like, &liked_again] {
        assert_eq!(
            app.vk(serde_json::to_vec(delivery).unwrap()).await.body,
            "ok"
        );
    }
    let paid = app.balance_of(&anna_vk()).await;
    assert!(paid > 0);
    assert_eq!(count(&app.pool, "deliveries_without_effect").await, 1);
    assert_eq!(app.vk_fixture("like_remove.json").await.body, "ok");
    assert_eq!(app.balance_of(&anna_vk()).await, 0);

    let report = purge_once(
        &app.pool,
        &RetentionConfig::default(),
        Utc::now() + Duration::days(31),
    )
    .await
    .unwrap();
    assert_eq!(report.deleted("deliveries_without_effect"), 1, "{report}");
    for _ in 0..3 {
        for delivery in [&like, &liked_again] {
            assert_eq!(
                app.vk(serde_json::to_vec(delivery).unwrap()).await.body,
                "ok"
            );
            let balance = app.balance_of(&anna_vk()).await;
            assert!(balance <= paid, "{balance} > {paid}");
        }
    }
    let awards: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'PointsAwarded'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(awards, 1);
}

/// `loyalty serve` purges on start (and every hour after).
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn serve_runs_the_retention_job(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let now = Utc::now();
    seed(
        &pool,
        app.t.program_id().0,
        1,
        now - Duration::days(40),
        now - Duration::days(40),
    )
    .await;
    seed(
        &pool,
        app.t.program_id().0,
        2,
        now,
        now + Duration::hours(1),
    )
    .await;
    let mut config = ServeConfig::for_tests();
    config.telegram.mode = TelegramMode::Off;
    config.projections = false;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(loyalty::server::serve(
        listener,
        pool.clone(),
        config,
        async {
            let _ = stopped.await;
        },
    ));
    let mut left = Vec::new();
    for _ in 0..500 {
        left = counts(&pool).await;
        if left.iter().all(|(_, rows)| *rows == 1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    assert!(left.iter().all(|(_, rows)| *rows == 1), "{left:?}");
}
