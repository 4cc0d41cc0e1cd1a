//! `loyalty retention run` as an operator runs it: one purge now, the rows deleted per table
//! on standard output; settings from flags, variables or `serve`'s config file.

mod support;

use sqlx::PgPool;
use std::process::{Command, Output};
use support::database_url;

async fn loyalty(url: &str, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")));
    command
        .env("DATABASE_URL", url)
        .env_remove("LOYALTY_CONFIG")
        .env_remove("LOYALTY_RETENTION_DAYS")
        .env_remove("LOYALTY_RAW_UPDATE_RETENTION_HOURS")
        .args(args);
    command.output().await.expect("loyalty runs")
}

/// Settled notifications and sign-in failures `days` old.
async fn old_rows(pool: &PgPool, days: i32) {
    sqlx::query(
        "INSERT INTO notification_deliveries (key, chat_id, outcome, settled_at) \
         VALUES ('entry:' || gen_random_uuid(), 1, 'delivered', now() - make_interval(days => $1))",
    )
    .bind(days)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO admin_login_failures (username, client, failed_at) \
         VALUES ('mallory', '198.51.100.9', now() - make_interval(days => $1))",
    )
    .bind(days)
    .execute(pool)
    .await
    .unwrap();
}

async fn left(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM notification_deliveries), \
                (SELECT count(*) FROM admin_login_failures)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

fn line_of<'a>(stdout: &'a str, table: &str) -> Option<&'a str> {
    stdout.lines().find(|l| l.split('\t').next() == Some(table))
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn retention_run_deletes_what_is_old_and_prints_the_counts(pool: PgPool) {
    let url = database_url(&pool);
    old_rows(&pool, 40).await;
    old_rows(&pool, 6).await;

    let ran = loyalty(&url, &["retention", "run"]).await;
    let stdout = String::from_utf8_lossy(&ran.stdout).into_owned();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert_eq!(
        line_of(&stdout, "notification_deliveries"),
        Some("notification_deliveries\t1"),
        "{stdout}"
    );
    assert_eq!(
        line_of(&stdout, "admin_login_failures"),
        Some("admin_login_failures\t1"),
        "{stdout}"
    );
    assert_eq!(
        line_of(&stdout, "bot_updates"),
        Some("bot_updates\t0"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().count(),
        12,
        "one line per purged table: {stdout}"
    );
    assert_eq!(
        left(&pool).await,
        (1, 1),
        "30 days by default: the 6-day-old rows stay"
    );

    // The config file's key applies; a flag beats it.
    let file =
        std::env::temp_dir().join(format!("loyalty-retention-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&file, "retention_days = 5\nlisten = \"127.0.0.1:1\"\n").unwrap();
    let file_arg = file.to_string_lossy().into_owned();
    let ran = loyalty(
        &url,
        &[
            "retention",
            "run",
            "--config",
            &file_arg,
            "--retention-days",
            "7",
        ],
    )
    .await;
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert_eq!(left(&pool).await, (1, 1), "7 days from the flag");
    let ran = loyalty(&url, &["retention", "run", "--config", &file_arg]).await;
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let stdout = String::from_utf8_lossy(&ran.stdout).into_owned();
    assert_eq!(
        line_of(&stdout, "admin_login_failures"),
        Some("admin_login_failures\t1"),
        "{stdout}"
    );
    assert_eq!(left(&pool).await, (0, 0), "5 days from the file");
    let _ = std::fs::remove_file(&file);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn retention_run_refuses_a_retention_of_zero(pool: PgPool) {
    let url = database_url(&pool);
    old_rows(&pool, 40).await;
    let ran = loyalty(&url, &["retention", "run", "--retention-days", "0"]).await;
    assert!(!ran.status.success());
    let stderr = String::from_utf8_lossy(&ran.stderr).into_owned();
    assert!(stderr.contains("retention-days"), "{stderr}");

    let file =
        std::env::temp_dir().join(format!("loyalty-retention-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&file, "raw_update_retention_hours = 0\n").unwrap();
    let ran = loyalty(
        &url,
        &["retention", "run", "--config", &file.to_string_lossy()],
    )
    .await;
    let _ = std::fs::remove_file(&file);
    assert!(!ran.status.success());
    let stderr = String::from_utf8_lossy(&ran.stderr).into_owned();
    assert!(
        stderr.contains("raw_update_retention_hours = 0: allowed range is 1..=8760"),
        "{stderr}"
    );
    assert_eq!(left(&pool).await, (1, 1), "nothing deleted");
}
