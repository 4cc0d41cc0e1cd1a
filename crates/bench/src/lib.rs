//! `loyalty bench` (the `loyalty-bench` binary): the fixed workloads W1–W4 of BENCHMARKS.md and PostgreSQL's own limits
//! (`limits`) their figures are compared with, the members list and the Mini App's paint in a
//! headless browser (`mini-app-paint`), each printing one JSON line.

pub mod award_storm;
pub mod broadcast;
pub mod bulk_adjust;
pub mod large_log;
pub mod leaderboard;
pub mod limits;
pub mod members_list;
pub mod mini_app_paint;
pub mod rebuild;
pub mod webdriver;
pub mod webhook_ingest;

use anyhow::Context;
use hdrhistogram::Histogram;
use sqlx::{Connection, PgConnection, PgPool};

/// A fresh database for one workload on the same server as `base_url`, so a bench never
/// touches real data and always starts from the same empty state.
pub async fn fresh_database(base_url: &str, name: &str) -> anyhow::Result<PgPool> {
    let (server, _) = base_url
        .rsplit_once('/')
        .context("DATABASE_URL has no database name")?;
    let mut admin = PgConnection::connect(&format!("{server}/postgres")).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let pool = store::connect(&format!("{server}/{name}"), 24, 0).await?;
    store::MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// The workload's database: a fresh one named `fresh`, or, with `on_log`, that existing
/// database as `bench large-log` left it (migrated, nothing dropped), to measure on top of a
/// large log. Answers the pool and the database's name.
pub async fn workload_database(
    base_url: &str,
    fresh: &str,
    on_log: Option<&str>,
) -> anyhow::Result<(PgPool, String)> {
    let Some(name) = on_log else {
        return Ok((fresh_database(base_url, fresh).await?, fresh.to_string()));
    };
    check_database_name("--on-log", name)?;
    let (server, _) = base_url
        .rsplit_once('/')
        .context("DATABASE_URL has no database name")?;
    let pool = store::connect(&format!("{server}/{name}"), 24, 0)
        .await
        .with_context(|| format!("cannot open {name}: run `loyalty bench large-log` first"))?;
    store::MIGRATOR.run(&pool).await?;
    Ok((pool, name.to_string()))
}

/// A number that differs from run to run (microseconds of the clock), so runs on one large
/// log name new accounts and comments instead of repeating the last run's.
pub fn run_nonce() -> u64 {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    (micros % 1_000_000_007) as u64
}

/// Peak resident memory (VmHWM) of a running process, in MB; `None` once it has exited.
pub fn peak_rss_mb(pid: u32) -> Option<f64> {
    status_mb(&pid.to_string(), "VmHWM:")
}

/// A memory figure of `/proc/<process>/status` (`VmHWM:` the peak RSS, `VmRSS:` now), in MB;
/// `process` is a pid or `self`.
pub fn status_mb(process: &str, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(round2(kb / 1024.0))
}

/// Refuses a database name that would need quoting in SQL (the benches put it in statements).
pub fn check_database_name(flag: &str, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "{flag} takes a database name of letters, digits and underscores"
    );
    Ok(())
}

/// Latencies in microseconds, up to a minute.
/// Loads `rows`, in COPY's text format, with `statement` (`COPY … FROM STDIN`).
pub async fn copy_rows(
    conn: &mut PgConnection,
    statement: &str,
    rows: &[u8],
) -> anyhow::Result<()> {
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(rows).await?;
    copy.finish()
        .await
        .with_context(|| format!("{statement} failed"))?;
    Ok(())
}

/// Loads accounts, their identities and their profiles, each as COPY text rows in the column
/// order named here.
/// When the loaded profiles were written: a day ago, as an existing community's were (a
/// profile written in the last half minute is one the name directory's refresh reads again).
pub fn profiles_written() -> String {
    (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339()
}

/// Loads accounts, their identities and their profiles (rows end with [`profiles_written`]).
pub async fn copy_accounts(
    conn: &mut PgConnection,
    accounts: &[u8],
    identities: &[u8],
    profiles: &[u8],
) -> anyhow::Result<()> {
    for (statement, rows) in [
        (
            "COPY external_accounts (account_ref, program_id, network, scope, platform_id) FROM STDIN",
            accounts,
        ),
        (
            "COPY identities (program_id, network, account_ref, member_id, method, linked_at) FROM STDIN",
            identities,
        ),
        (
            "COPY profiles (account_ref, program_id, username, display_name, updated_at) FROM STDIN",
            profiles,
        ),
    ] {
        copy_rows(conn, statement, rows).await?;
    }
    Ok(())
}

/// Leaves `tables` as autovacuum would: statistics, and a visibility map for index-only scans.
pub async fn vacuum_analyze(conn: &mut PgConnection, tables: &[&str]) -> anyhow::Result<()> {
    for table in tables {
        sqlx::query(&format!("VACUUM (ANALYZE) {table}"))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant bounds are valid")
}

/// Microseconds to milliseconds with three decimals.
pub fn ms(us: u64) -> f64 {
    (us as f64).round() / 1000.0
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `loyalty serve` as users run it, in a child process on a free loopback port, over the
/// bench's database; killed when dropped.
pub struct ServeChild {
    child: tokio::process::Child,
}

/// The served child's privacy key (`serve` refuses to start without one).
const BENCH_PRIVACY_KEY: &str = "62656e63682d707269766163792d6b65792d6e6f742d6120736563726574212e";

/// A manager command of a bench run's setup, made now with a fresh request id.
pub fn bench_manager() -> app::ManagerAction {
    app::ManagerAction {
        manager: "bench".into(),
        request_id: uuid::Uuid::new_v4(),
        at: chrono::Utc::now().into(),
    }
}

/// The keys the served child seals and opens channel secrets with (derived from its privacy
/// key), for channels the bench connects.
pub fn served_secret_box() -> anyhow::Result<app::secrets::SecretBox> {
    let privacy = app::config::PrivacyConfig {
        key: BENCH_PRIVACY_KEY.to_string().into(),
        secrets_keys: Default::default(),
    };
    privacy.secret_box(false).map_err(anyhow::Error::msg)
}

impl ServeChild {
    /// Its peak resident memory so far, in MB.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        peak_rss_mb(self.child.id()?)
    }

    /// SIGKILL, as a crashed or OOM-killed process ends: no graceful shutdown.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }

    /// Starts the server with `env` on top of its defaults and waits until /healthz answers;
    /// returns it with its base URL.
    pub async fn start(
        database_url: &str,
        database: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<(ServeChild, String)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let (server, _) = database_url
            .rsplit_once('/')
            .context("DATABASE_URL has no database name")?;
        let child = tokio::process::Command::new(loyalty::sibling_binary("loyalty", "loyalty")?)
            .arg("serve")
            .env("DATABASE_URL", format!("{server}/{database}"))
            .env("LOYALTY_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .env("LOYALTY_PRIVACY_KEY", BENCH_PRIVACY_KEY)
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start loyalty serve")?;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let mut child = child;
        // On a large log, loading the in-memory boards takes a while.
        for _ in 0..2_400 {
            let ready = client.get(format!("{base}/healthz")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok((ServeChild { child }, base));
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("loyalty serve exited before it was ready: {status}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        anyhow::bail!("loyalty serve did not become ready")
    }
}

/// Signs in to the admin panel of a served child; answers the session cookie (`name=value`).
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let reply = client
        .post(format!("{base}/api/v1/admin/session"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await?
        .error_for_status()
        .context("sign-in refused")?;
    let cookie = reply
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .context("no session cookie")?
        .to_str()?;
    Ok(cookie.split(';').next().unwrap_or_default().to_string())
}
