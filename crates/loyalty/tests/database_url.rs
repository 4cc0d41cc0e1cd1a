//! `DATABASE_URL` as an operator uses it: a database it names that does not exist yet is
//! created (also when several processes start at once), and a server that cannot be reached is
//! one clear line on stderr, not a backtrace.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgPool};
use std::process::{Command, Output};

/// `loyalty ARGS` with only `DATABASE_URL` (and a backtrace request) in its environment.
fn loyalty(args: &[&str], database_url: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("RUST_BACKTRACE", "1")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("loyalty runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn database_exists(pool: &PgPool, name: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn migrate_creates_the_database_database_url_names_even_when_racing(pool: PgPool) {
    let name = format!("loyalty_created_{}", uuid::Uuid::new_v4().simple());
    let options: PgConnectOptions = pool.connect_options().as_ref().clone().database(&name);
    let url = options.to_url_lossy().to_string();
    assert!(!database_exists(&pool, &name).await);

    // Three processes that find it missing at the same moment.
    let children: Vec<_> = (0..3).map(|_| loyalty(&["migrate"], &url)).collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("loyalty ends"))
        .collect();

    for output in &outputs {
        assert!(output.status.success(), "{}", stderr(output));
    }
    assert!(database_exists(&pool, &name).await);
    let mut created = options.connect().await.unwrap();
    let migrated: bool = sqlx::query_scalar("SELECT to_regclass('events') IS NOT NULL")
        .fetch_one(&mut created)
        .await
        .unwrap();
    assert!(migrated, "the new database holds the event log");
    sqlx::Connection::close(created).await.unwrap();
    sqlx::query(&format!("DROP DATABASE \"{name}\""))
        .execute(&pool)
        .await
        .unwrap();
}

#[test]
fn an_unreachable_server_is_one_clear_line_without_a_backtrace() {
    // Port 1 on loopback: nothing listens there.
    let url = "postgres://postgres:not-printed@127.0.0.1:1/loyalty";
    for args in [&["migrate"][..], &["serve", "--listen", "127.0.0.1:0"][..]] {
        let output = loyalty(args, url).wait_with_output().expect("loyalty ends");
        assert!(!output.status.success(), "{args:?}");
        let stderr = stderr(&output);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
        assert!(
            lines[0].starts_with("loyalty: cannot reach PostgreSQL at 127.0.0.1:1: "),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("not-printed"), "no password: {stderr}");
    }
}
