//! Upgrading: a binary older than the database's schema refuses to work on it with one line
//! saying so, and changes nothing (it used to start when no migration of its own was pending).

mod support;

use sqlx::PgPool;
use support::{PRIVACY_KEY, database_url, run_loyalty};

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_older_binary_refuses_a_database_a_newer_build_migrated(pool: PgPool) {
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (29991231000000, 'a newer build', true, '\\x00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let url = database_url(&pool);
    let tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'";
    let before: i64 = sqlx::query_scalar(tables).fetch_one(&pool).await.unwrap();

    for args in [
        &["migrate"][..],
        &["audit", "verify"],
        &["projections", "status"],
    ] {
        let output = run_loyalty(&url, args).await;
        assert!(!output.status.success(), "{args:?} ran on a newer schema");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
        assert!(
            lines[0].contains("migrated by a newer build of loyalty (migration 29991231000000"),
            "{args:?}: {stderr}"
        );
    }
    let serve = tokio::process::Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .env("LOYALTY_PRIVACY_KEY", PRIVACY_KEY)
        .env_remove("LOYALTY_CONFIG")
        .output()
        .await
        .unwrap();
    assert!(!serve.status.success(), "serve started on a newer schema");
    assert!(String::from_utf8_lossy(&serve.stderr).contains("migrated by a newer build"));
    let after: i64 = sqlx::query_scalar(tables).fetch_one(&pool).await.unwrap();
    assert_eq!(before, after);

    // Without the newer build's mark, the same binary works on it.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 29991231000000")
        .execute(&pool)
        .await
        .unwrap();
    let output = run_loyalty(&url, &["projections", "status"]).await;
    support::assert_success("projections status", &output);
}
