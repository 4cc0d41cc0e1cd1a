//! `loyalty bench`: the fixed workloads of WORKLOADS.md, each printing one JSON line.

pub mod award_storm;
pub mod leaderboard;
pub mod rebuild;
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
    let pool = store::connect(&format!("{server}/{name}"), 24).await?;
    store::MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// Latencies in microseconds, up to a minute.
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
