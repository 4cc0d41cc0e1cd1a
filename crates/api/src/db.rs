//! Which database to use. `DATABASE_URL` wins; otherwise the local PostgreSQL on 127.0.0.1:5432
//! (database `loyalty`, created if missing); if no server answers there, a private cluster is
//! started from the installed PostgreSQL binaries under `.loyalty-pg/`, so a newcomer needs no
//! manual set-up.

use anyhow::{Context, bail};
use sqlx::{Connection, PgConnection};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432";
pub const DEFAULT_DATABASE: &str = "loyalty";
const PRIVATE_PORT: u16 = 54329;

pub async fn resolve_database_url() -> anyhow::Result<String> {
    resolve_configured_database_url(std::env::var("DATABASE_URL").ok().as_deref()).await
}

/// As `resolve_database_url`, with the URL configured for `serve` (its flag, `DATABASE_URL` or
/// the config file) in place of the environment variable alone.
pub async fn resolve_configured_database_url(configured: Option<&str>) -> anyhow::Result<String> {
    if let Some(url) = configured {
        return Ok(url.to_string());
    }
    if let Some(url) = ensure_database(DEFAULT_SERVER_URL).await? {
        return Ok(url);
    }
    let server = start_private_cluster()
        .context("no PostgreSQL is reachable and a private one could not be started")?;
    ensure_database(&server)
        .await?
        .context("the private PostgreSQL cluster started but does not accept connections")
}

/// Connects to the server's `postgres` database and creates `loyalty` if missing.
async fn ensure_database(server_url: &str) -> anyhow::Result<Option<String>> {
    let Ok(mut conn) = PgConnection::connect(&format!("{server_url}/postgres")).await else {
        return Ok(None);
    };
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DEFAULT_DATABASE)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE {DEFAULT_DATABASE}"))
            .execute(&mut conn)
            .await?;
    }
    Ok(Some(format!("{server_url}/{DEFAULT_DATABASE}")))
}

fn postgres_bin_dir() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context(
            "PostgreSQL is not installed (no /usr/lib/postgresql); install it or set DATABASE_URL",
        )?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .context("no initdb found under /usr/lib/postgresql")
}

/// initdb + pg_ctl start in `.loyalty-pg/`, trust auth on 127.0.0.1 only. As root (PostgreSQL
/// refuses to run as root) the cluster belongs to the `postgres` user.
fn start_private_cluster() -> anyhow::Result<String> {
    let bin = postgres_bin_dir()?;
    let data = std::env::current_dir()?.join(".loyalty-pg");
    let as_root = is_root();
    if !data.join("PG_VERSION").exists() {
        std::fs::create_dir_all(&data)?;
        if as_root {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&data))?;
        }
        run(pg_command(&bin.join("initdb"), as_root)
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data))?;
    }
    let opts = format!(
        "-p {PRIVATE_PORT} -c listen_addresses=127.0.0.1 -k {}",
        data.display()
    );
    let status = pg_command(&bin.join("pg_ctl"), as_root)
        .arg("-D")
        .arg(&data)
        .arg("status")
        .status()?;
    if !status.success() {
        run(pg_command(&bin.join("pg_ctl"), as_root)
            .args(["-w", "-l"])
            .arg(data.join("server.log"))
            .args(["-o", &opts, "-D"])
            .arg(&data)
            .arg("start"))?;
    }
    eprintln!(
        "started a private PostgreSQL in {} on port {PRIVATE_PORT}",
        data.display()
    );
    Ok(format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}"))
}

fn pg_command(program: &Path, as_root: bool) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("could not run {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}
