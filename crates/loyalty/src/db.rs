//! Which database to use. `DATABASE_URL` wins; otherwise the local PostgreSQL on 127.0.0.1:5432
//! (database `loyalty`, created if missing); if no server answers there, a private cluster is
//! started from the installed PostgreSQL binaries under `.loyalty-pg/`, so a newcomer needs no
//! manual set-up.

use anyhow::{Context, bail};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

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
        ensure_database(url).await?;
        return Ok(url.to_string());
    }
    let local = format!("{DEFAULT_SERVER_URL}/{DEFAULT_DATABASE}");
    match ensure_database(&local).await {
        Ok(()) => return Ok(local),
        Err(DatabaseError::Unreachable { .. }) => {}
        Err(other) => return Err(other.into()),
    }
    let server = start_private_cluster()
        .context("no PostgreSQL is reachable and a private one could not be started")?;
    let private = format!("{server}/{DEFAULT_DATABASE}");
    ensure_database(&private).await?;
    Ok(private)
}

/// Why the database a URL names cannot be used. Messages name the server, never the password.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("DATABASE_URL is not a PostgreSQL URL: {0}")]
    BadUrl(sqlx::Error),
    #[error("cannot reach PostgreSQL at {server}: {source}")]
    Unreachable { server: String, source: sqlx::Error },
    #[error("PostgreSQL at {server} refused the connection: {source}")]
    Refused { server: String, source: sqlx::Error },
    #[error("cannot create database {database} on PostgreSQL at {server}: {source}")]
    Create {
        database: String,
        server: String,
        source: sqlx::Error,
    },
}

/// Makes sure the database `url` names exists: connects to it and, when the server answers that
/// it does not exist, creates it from the server's maintenance database (`postgres`, else
/// `template1`). Processes starting at once may all try: losing that race is success.
pub async fn ensure_database(url: &str) -> Result<(), DatabaseError> {
    let options = PgConnectOptions::from_str(url).map_err(DatabaseError::BadUrl)?;
    let server = server_name(&options);
    let failed = |source: sqlx::Error| match source {
        sqlx::Error::Database(_) => DatabaseError::Refused {
            server: server.clone(),
            source,
        },
        _ => DatabaseError::Unreachable {
            server: server.clone(),
            source,
        },
    };
    match PgConnection::connect_with(&options).await {
        Ok(conn) => {
            let _ = conn.close().await;
            Ok(())
        }
        Err(e) if has_code(&e, MISSING_DATABASE) => {
            let database = options
                .get_database()
                .unwrap_or(options.get_username())
                .to_string();
            let mut admin =
                match PgConnection::connect_with(&options.clone().database("postgres")).await {
                    Err(e) if has_code(&e, MISSING_DATABASE) => {
                        PgConnection::connect_with(&options.clone().database("template1")).await
                    }
                    other => other,
                }
                .map_err(failed)?;
            let created = sqlx::query(&format!(
                "CREATE DATABASE \"{}\"",
                database.replace('"', "\"\"")
            ))
            .execute(&mut admin)
            .await;
            let _ = admin.close().await;
            match created {
                Ok(_) => {
                    tracing::info!(%database, %server, "created the database");
                    Ok(())
                }
                // Another process created it first (a duplicate name, or the catalog's unique
                // index when both got that far).
                Err(e) if has_code(&e, DUPLICATE_DATABASE) || has_code(&e, UNIQUE_VIOLATION) => {
                    Ok(())
                }
                Err(source) => Err(DatabaseError::Create {
                    database,
                    server,
                    source,
                }),
            }
        }
        Err(e) => Err(failed(e)),
    }
}

/// SQLSTATE invalid_catalog_name: the database does not exist.
const MISSING_DATABASE: &str = "3D000";
const DUPLICATE_DATABASE: &str = "42P04";
const UNIQUE_VIOLATION: &str = "23505";

fn has_code(e: &sqlx::Error, code: &str) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some(code))
}

/// `host:port` (or the socket) of a server, for messages: never the user's password.
fn server_name(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
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
