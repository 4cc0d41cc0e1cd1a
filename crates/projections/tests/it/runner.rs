//! The runner's guarantees: exactly once across a kill, one writer at a time, gap-safe order.

use crate::support::*;
use domain::Event;
use domain::network::Network;
use projections::{Projection, Runner, RunnerConfig, Step, audit, balances};
use sqlx::PgPool;
use store::Metadata;
use uuid::Uuid;

async fn balance(pool: &PgPool, n: u128) -> i64 {
    balances::balance(pool, PROGRAM, member(n).0)
        .await
        .unwrap()
        .map_or(0, |b| b.current)
}

async fn applied_events(pool: &PgPool, name: &str) -> i64 {
    sqlx::query_scalar("SELECT events FROM projection_checkpoints WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_runner_killed_mid_batch_resumes_without_loss_or_repeat(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    world.append(vec![register(member(1), t0())]).await;
    Runner::new(pool.clone(), Projection::Balances)
        .drain()
        .await
        .unwrap();
    for _ in 0..50 {
        let entry = world.entry();
        world
            .append(vec![award(entry, member(1), 3, Network::Vk, t0())])
            .await;
    }
    let balances_status = projections::status(&pool)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name == "balances")
        .unwrap();
    assert_eq!(balances_status.lag_events, 50);
    assert!(balances_status.lag_ms >= 0);
    // Hold the checkpoint row: the batch writes its rows, then blocks moving the checkpoint.
    let mut blocker = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM projection_checkpoints WHERE name = 'balances' FOR UPDATE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let runner_pool = pool.clone();
    let batch = tokio::spawn(async move {
        let mut runner = Runner::new(runner_pool, Projection::Balances);
        // Other tests' open transactions may hold the horizon back for a moment.
        loop {
            match runner.run_once().await {
                Ok(Step::HeldBack | Step::Busy) => tokio::task::yield_now().await,
                other => return other,
            }
        }
    });
    let pid: i32 = loop {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE 'UPDATE projection_checkpoints%'",
        )
        .fetch_optional(&pool)
        .await
        .unwrap();
        if let Some(pid) = pid {
            break pid;
        }
        assert!(
            !batch.is_finished(),
            "the batch ended before it could be killed: {:?}",
            batch.await
        );
        tokio::task::yield_now().await;
    };
    // Mid-batch: its balance rows are written but not visible.
    assert_eq!(balance(&pool, 1).await, 0);
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(killed);
    assert!(batch.await.unwrap().is_err());
    blocker.rollback().await.unwrap();

    let applied = Runner::new(pool.clone(), Projection::Balances)
        .drain()
        .await
        .unwrap();
    assert_eq!(applied, 50);
    assert_eq!(balance(&pool, 1).await, 150);
    assert_eq!(applied_events(&pool, "balances").await, 52);
    assert!(audit::verify(&pool).await.unwrap().is_clean());
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn two_runners_never_both_apply_a_batch(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    for n in 0..20 {
        world.append(vec![register(member(n), t0())]).await;
        for _ in 0..10 {
            let entry = world.entry();
            world
                .append(vec![award(entry, member(n), 1, Network::Telegram, t0())])
                .await;
        }
    }
    let total = 1 + 20 * 11;
    let small = RunnerConfig {
        batch_events: 7,
        ..RunnerConfig::default()
    };
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let mut runner =
                Runner::with_config(pool.clone(), Projection::Leaderboards, small.clone());
            tokio::spawn(async move { runner.drain().await.unwrap() })
        })
        .collect();
    let mut applied = 0;
    for t in tasks {
        applied += t.await.unwrap();
    }
    assert_eq!(applied, total);
    assert_eq!(applied_events(&pool, "leaderboards").await, total as i64);
    assert!(audit::verify(&pool).await.unwrap().is_clean());

    // While another holds the projection's lock, a runner does nothing.
    let entry = world.entry();
    world
        .append(vec![award(entry, member(1), 1, Network::Vk, t0())])
        .await;
    let mut holder = pool.begin().await.unwrap();
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtext('loyalty.projection'), hashtext('leaderboards'))",
    )
    .execute(&mut *holder)
    .await
    .unwrap();
    let mut runner = Runner::new(pool.clone(), Projection::Leaderboards);
    assert_eq!(runner.run_once().await.unwrap(), Step::Busy);
    holder.rollback().await.unwrap();
    // Any writing transaction of the cluster may hold the horizon back for a moment: drain.
    assert_eq!(runner.drain().await.unwrap(), 1);
}

/// A transaction that has written but cannot append (here: in the server's `postgres` database,
/// and one in this database that wrote another table) does not hold a projection back.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn open_transactions_that_cannot_append_do_not_hold_a_projection_back(pool: PgPool) {
    use sqlx::Connection;
    let mut world = World::new(pool.clone()).await;
    let mut open = Vec::new();
    for database in [Some("postgres"), None] {
        let mut options = pool.connect_options().as_ref().clone();
        if let Some(database) = database {
            options = options.database(database);
        }
        let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
        sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
        sqlx::query("CREATE TEMP TABLE scratch (n int)")
            .execute(&mut conn)
            .await
            .unwrap();
        open.push(conn);
    }
    world.append(vec![register(member(1), t0())]).await;
    let entry = world.entry();
    world
        .append(vec![award(entry, member(1), 7, Network::Vk, t0())])
        .await;

    let mut runner = Runner::new(pool.clone(), Projection::Balances);
    let mut caught_up = false;
    // Other tests' transactions on the server may hold it back for moments, never for long.
    for _ in 0..500 {
        match runner.run_once().await.unwrap() {
            Step::Progressed { .. } => {}
            Step::CaughtUp => {
                caught_up = true;
                break;
            }
            Step::HeldBack | Step::Busy => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await
            }
        }
    }
    assert!(caught_up, "the open transactions held the projection back");
    assert_eq!(balance(&pool, 1).await, 7);
    for mut conn in open {
        sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_append_committed_late_is_still_applied(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    world
        .append(vec![register(member(1), t0()), register(member(2), t0())])
        .await;
    let mut runner = Runner::new(pool.clone(), Projection::Balances);
    runner.drain().await.unwrap();

    // The first append stays open (lower transaction id) while a later one commits.
    let first = world.entry();
    let held_event = award(first, member(1), 7, Network::Vk, t0());
    let mut held = pool.begin().await.unwrap();
    append_in(&mut held, &held_event).await;
    let second = world.entry();
    world
        .append(vec![award(second, member(2), 5, Network::Vk, t0())])
        .await;

    assert_eq!(runner.run_once().await.unwrap(), Step::HeldBack);
    assert_eq!(runner.run_once().await.unwrap(), Step::HeldBack);
    assert_eq!(balance(&pool, 2).await, 0);

    held.commit().await.unwrap();
    assert_eq!(runner.drain().await.unwrap(), 2);
    assert_eq!((balance(&pool, 1).await, balance(&pool, 2).await), (7, 5));
    assert_eq!(runner.run_once().await.unwrap(), Step::CaughtUp);
}

/// Concurrent appends interleave their positions: the log's last event (in its order, by
/// transaction) may hold a lower position than an earlier transaction's. A projection there is
/// caught up, and its lag is 0, not the difference of positions.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_projection_at_the_last_event_lags_nothing_when_an_earlier_append_holds_a_higher_position(
    pool: PgPool,
) {
    let mut world = World::new(pool.clone()).await;
    world
        .append(vec![register(member(1), t0()), register(member(2), t0())])
        .await;
    world.drain().await;
    // The earlier transaction appends before and after a later one commits in between.
    let mut earlier = pool.begin().await.unwrap();
    let entry = world.entry();
    append_in(&mut earlier, &award(entry, member(1), 7, Network::Vk, t0())).await;
    let entry = world.entry();
    world
        .append(vec![award(entry, member(2), 5, Network::Vk, t0())])
        .await;
    let entry = world.entry();
    append_in(&mut earlier, &award(entry, member(1), 3, Network::Vk, t0())).await;
    earlier.commit().await.unwrap();
    let (last, highest): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1), \
                (SELECT max(position) FROM events)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(last + 1, highest, "the later transaction's event is last");

    let lags = projections::status::position_lags(&pool).await.unwrap();
    assert_eq!(lags.len(), Projection::ALL.len());
    assert!(lags.iter().all(|(_, lag)| *lag >= 1), "{lags:?}");

    world.drain().await;
    assert_eq!((balance(&pool, 1).await, balance(&pool, 2).await), (10, 5));
    let lags = projections::status::position_lags(&pool).await.unwrap();
    assert!(lags.iter().all(|(_, lag)| *lag == 0), "{lags:?}");
    let statuses = projections::status(&pool).await.unwrap();
    assert!(statuses.iter().all(|s| s.lag_events == 0), "{statuses:?}");
}

/// Appends one event inside the caller's open transaction, as the store's append does.
pub async fn append_in(conn: &mut sqlx::PgConnection, event: &Event) {
    let new = store::codec::encode(event, Uuid::new_v4(), Metadata::default()).unwrap();
    let digest = store::digest::content_digest(
        new.event_id,
        &new.event_type,
        new.schema_version,
        &new.payload,
    );
    let status: String = sqlx::query_scalar(
        "SELECT status FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(vec![0i32])
    .bind(vec![PROGRAM])
    .bind(vec![event.stream().to_string()])
    .bind(vec![-1i64])
    .bind(vec![new.event_id])
    .bind(vec![new.event_type.clone()])
    .bind(vec![new.schema_version])
    .bind(vec![new.payload.clone()])
    .bind(vec![serde_json::json!({})])
    .bind(vec![digest.to_vec()])
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(status, "ok");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_group_runner_catches_up_projections_standing_at_different_places(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    busy_history(&mut world, 6).await;
    // Balances runs ahead alone; then one runner takes all of them from where each stands.
    Runner::new(pool.clone(), Projection::Balances)
        .drain()
        .await
        .unwrap();
    let before = balance(&pool, 1).await;
    let entry = world.entry();
    world
        .append(vec![award(entry, member(1), 9, Network::Instagram, t0())])
        .await;
    let small = RunnerConfig {
        batch_events: 5,
        ..RunnerConfig::default()
    };
    Runner::group(pool.clone(), &Projection::ALL, small)
        .drain()
        .await
        .unwrap();
    assert_eq!(balance(&pool, 1).await, before + 9);
    let report = audit::verify(&pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
    assert!(report.projections.iter().all(|p| p.behind == 0));
}
