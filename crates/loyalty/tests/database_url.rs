//! `DATABASE_URL` as an operator uses it: a database it names that does not exist yet is
//! created (also when several processes start at once), and a server that cannot be reached is
//! one clear line on stderr, not a backtrace.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgPool};
use std::process::{Command, Output};

const PRIVACY_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// `loyalty ARGS` with only `DATABASE_URL`, a privacy key (and a backtrace request) in its
/// environment.
fn loyalty(args: &[&str], database_url: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("LOYALTY_PRIVACY_KEY", PRIVACY_KEY)
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

/// In production a forgotten `DATABASE_URL` must not quietly start the ledger on some local or
/// private database: `serve` refuses, in one line that says what to set; `--dev` (and `demo`)
/// keep the newcomer's fallback.
#[test]
fn serve_without_a_database_url_refuses_to_start() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .env_clear()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("loyalty runs");
    // A `serve` that found some database would keep running: give it ten seconds, then fail.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().expect("loyalty waits").is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().expect("loyalty killed");
            panic!("serve started without a database URL");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("loyalty ends");
    assert!(!output.status.success());
    let stderr = stderr(&output);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("loyalty: no database configured: set DATABASE_URL"),
        "{stderr}"
    );
    assert!(lines[0].contains("loyalty serve --dev"), "{stderr}");
}

/// Without the privacy key, `serve` could not keep platform ids and texts out of the log under a
/// key that survives restarts: it refuses, in one line that says what to set.
#[test]
fn serve_without_a_privacy_key_refuses_to_start() {
    for key in [None, Some("not-hex")] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_loyalty"));
        command
            .env_clear()
            .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/loyalty")
            .args(["serve", "--listen", "127.0.0.1:0"]);
        if let Some(key) = key {
            command.env("LOYALTY_PRIVACY_KEY", key);
        }
        let output = command.output().expect("loyalty runs");
        assert!(!output.status.success());
        let stderr = stderr(&output);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].contains("privacy"), "{stderr}");
        assert!(
            !stderr.contains("cannot reach PostgreSQL"),
            "checked first: {stderr}"
        );
    }
}
