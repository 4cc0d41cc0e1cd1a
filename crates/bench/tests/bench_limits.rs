//! `loyalty bench limits` measures on a scratch database of its own and leaves nothing behind.
//! (Its own test binary: `sqlx::test` loads `.env` into the process environment, which the
//! config tests of the library must not see.)

use bench::limits::measure;
use sqlx::PgPool;
use std::time::Duration;

#[sqlx::test(migrations = false)]
async fn measures_both_limits_and_drops_its_scratch_database(pool: PgPool) {
    let options = pool.connect_options();
    let url = format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().expect("a test database has a name"),
    );
    let scratch = format!("loyalty_limits_test_{}", std::process::id());

    let limits = measure(&url, &scratch, Duration::from_millis(300), 2_500)
        .await
        .expect("both limits measured");

    assert!(limits.inserted > 0 && limits.insert_per_s > 0.0);
    assert_eq!(limits.inserted, limits.rows_after_insert);
    assert_eq!(limits.rows_read, vec![2_500; 3]);
    assert!(limits.ordered_read_per_s > 0.0);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&scratch)
        .fetch_one(&pool)
        .await
        .expect("pg_database readable");
    assert_eq!(left, 0, "the scratch database is dropped");
}
