//! Rebuilding beside the live tables while appends go on.

use crate::support::*;
use chrono::Duration;
use domain::network::Network;
use projections::rebuild::{RebuildOptions, rebuild_with};
use projections::{Projection, audit, rebuild, status};
use sqlx::PgPool;

async fn index_names(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' \
         AND tablename IN ('balances', 'leaderboard', 'daily_active') ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Tables with storage parameters (fillfactor), with those parameters.
async fn storage_options(pool: &PgPool) -> Vec<(String, Vec<String>)> {
    sqlx::query_as(
        "SELECT relname::text, reloptions FROM pg_class WHERE relkind = 'r' \
         AND relnamespace = 'public'::regnamespace AND reloptions IS NOT NULL ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn rebuild_while_appending_ends_equal_to_a_fresh_fold(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    busy_history(&mut world, 12).await;
    world.drain().await;
    let names_before = index_names(&pool).await;
    let options_before = storage_options(&pool).await;
    assert!(
        options_before.contains(&("leaderboard".into(), vec!["fillfactor=85".into()])),
        "{options_before:?}"
    );
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();

    // A writer keeps appending awards while every model is rebuilt.
    let writer_store = world.store.clone();
    let writer = tokio::spawn(async move {
        let mut w = World::detached(writer_store, 10_000);
        for k in 0..150 {
            let entry = w.entry();
            let at = t0() + Duration::minutes(k);
            w.append(vec![award(
                entry,
                member((k % 12) as u128),
                1 + k % 5,
                Network::Vk,
                at,
            )])
            .await;
        }
    });
    // Small pages and a small memory limit exercise every path of the rebuild.
    let options = RebuildOptions {
        page_events: 50,
        max_rows_in_memory: 100,
        final_tail_events: 10,
        progress: Default::default(),
    };
    let report = rebuild_with(&pool, &Projection::ALL, &options)
        .await
        .unwrap();
    assert!(report.events >= logged as u64);
    // With 100 rows in memory the log is read in several passes, each counted as it is read.
    let progress = &options.progress;
    assert!(progress.done() > report.events, "{progress:?} {report:?}");
    writer.await.unwrap();
    world.drain().await;

    let verified = audit::verify(&pool).await.unwrap();
    assert_eq!(verified.differences, vec![], "{verified:?}");
    assert!(verified.projections.iter().all(|p| p.behind == 0));
    assert_eq!(index_names(&pool).await, names_before);
    let statuses = status(&pool).await.unwrap();
    assert!(statuses.iter().all(|s| s.lag_events == 0 && s.lag_ms == 0));

    // A plain rebuild of one projection, then of all, on a quiet log.
    rebuild(&pool, Some("leaderboards")).await.unwrap();
    let report = rebuild(&pool, None).await.unwrap();
    assert_eq!(report.projections.len(), Projection::ALL.len());
    assert!(audit::verify(&pool).await.unwrap().is_clean());
    assert_eq!(index_names(&pool).await, names_before);
    assert_eq!(storage_options(&pool).await, options_before);
    assert!(rebuild(&pool, Some("nonsense")).await.is_err());
}
