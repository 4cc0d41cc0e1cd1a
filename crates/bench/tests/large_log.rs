//! `loyalty bench large-log`'s log is a valid ledger: loaded with the secondary indexes of
//! `events` dropped and built after, over several programs, it gets back every index it had,
//! is sealed with the keepers at its head, leaves no season due, rebuilds, and passes the audit
//! with no difference.

use bench::large_log::{Params, seed};
use sqlx::PgPool;

async fn events_indexes(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT pg_get_indexdef(indexrelid) FROM pg_index \
         WHERE indrelid = 'events'::regclass ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("pg_index readable")
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_seeded_log_over_several_programs_keeps_its_indexes_and_passes_the_audit(pool: PgPool) {
    let before = events_indexes(&pool).await;
    let params = Params {
        events: 30_000,
        members: 0,
        programs: 4,
        seed: 7,
        database: String::new(),
    };
    let seeded = seed(&pool, &params).await.expect("the log loads");

    assert_eq!(events_indexes(&pool).await, before);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored as usize, seeded.events);
    assert!(seeded.events >= 30_000 && seeded.events < 30_100);
    // One member for every 30 events, split by the programs' shares (rounded up).
    assert!((1_000..=1_004).contains(&seeded.members), "{seeded:?}");
    // Programs of long-tailed sizes: 1/k of the events each, so the first has the most.
    let per_program: Vec<i64> = sqlx::query_scalar(
        "SELECT count(*) FROM events GROUP BY program_id ORDER BY count(*) DESC",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(per_program.len(), 4);
    assert!(per_program[0] > 3 * per_program[3], "{per_program:?}");

    // What follows the log in `serve` starts at its head: every event sealed, and the tier
    // keeper and the expiry job find nothing to read.
    let sealed: i64 = sqlx::query_scalar("SELECT max(total) FROM log_seal")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sealed as usize, seeded.events);
    let ledger = app::ledger::Ledger::new(
        store::EventStore::new(pool.clone()),
        app::ledger::LedgerConfig::default(),
    );
    let now = domain::Timestamp::new(chrono::Utc::now());
    let tiers = app::tiers::keep_once(&ledger, &pool, now).await.unwrap();
    assert!(tiers.ran && tiers.events == 0, "{tiers:?}");
    let expiry = app::expiry::keep_once(&ledger, &pool, now).await.unwrap();
    assert!(
        expiry.ran && expiry.events == 0 && expiry.looked == 0,
        "{expiry:?}"
    );

    projections::rebuild(&pool, None).await.expect("rebuilt");
    // Every program's last season was ended with its month, as the season job ends one: the
    // first `serve` on the log finds none due.
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT status FROM seasons ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(statuses, vec!["settled".to_string()]);
    let seasons = app::seasons::keep_once(&ledger, &pool, now).await.unwrap();
    assert_eq!(
        seasons,
        app::seasons::Pass {
            ran: true,
            ..Default::default()
        }
    );
    let audit = projections::audit::verify(&pool).await.expect("audited");
    assert_eq!(audit.differences, vec![], "{audit:?}");
    assert!(audit.is_clean());
    assert_eq!(audit.events as usize, seeded.events);
}
