//! A large log to measure on: N events of the W3 mix (awards on every network, reversals,
//! adjustments, codewords, redemptions, links, held awards, tiers, expiry, seasons) over many
//! programs of long-tailed sizes (the k-th has 1/k of the largest's events), each with
//! long-tailed member activity, all in the same month (each program's last season ended at its
//! cutoff, as the season job ends one); programs are loaded one after another. Loaded with COPY
//! into the `events` table with its secondary indexes dropped and built after; then every read
//! model rebuilt and the whole log audited by the `loyalty` binary itself, as an operator runs
//! them (their time, rate and peak memory measured from outside). The database stays, for
//! `award-storm --on-log` and `webhook-ingest --on-log`.

use super::{fresh_database, peak_rss_mb, round2};
use crate::rebuild::{Generator, load, sizes};
use serde_json::json;
use sqlx::PgPool;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Params {
    #[arg(long, default_value_t = 10_000_000)]
    pub events: usize,
    /// Members in all (0: one for every 30 events).
    #[arg(long, default_value_t = 0)]
    pub members: usize,
    /// Programs; the k-th takes a share of the events proportional to 1/k.
    #[arg(long, default_value_t = 20)]
    pub programs: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The database it leaves behind (dropped and created afresh first).
    #[arg(long, default_value = "loyalty_bench_large_log")]
    pub database: String,
}

pub async fn run(database_url: &str, p: Params) -> anyhow::Result<serde_json::Value> {
    super::check_database_name("--database", &p.database)?;
    let pool = fresh_database(database_url, &p.database).await?;
    let seeded = seed(&pool, &p).await?;
    // An old log is vacuumed (visibility map, statistics): measure on one that is.
    let began = Instant::now();
    sqlx::query("VACUUM (ANALYZE) events")
        .execute(&pool)
        .await?;
    let vacuum_secs = began.elapsed().as_secs_f64();

    let (server, _) = database_url.rsplit_once('/').unwrap_or((database_url, ""));
    let url = format!("{server}/{}", p.database);
    let rebuild = timed_cli(&url, &["projections", "rebuild"]).await?;
    anyhow::ensure!(rebuild.success, "projections rebuild failed");
    let audit = timed_cli(&url, &["audit", "verify"]).await?;
    let sizes = sizes(&pool, seeded.events).await?;
    let events = seeded.events as f64;
    Ok(json!({
        "workload": "large-log",
        "database": p.database,
        "events": seeded.events,
        "programs": p.programs,
        "members": seeded.members,
        "load_secs": round2(seeded.load_secs),
        "load_events_per_s": round2(events / seeded.load_secs),
        "index_secs": round2(seeded.index_secs),
        "seal_secs": round2(seeded.seal_secs),
        "vacuum_secs": round2(vacuum_secs),
        "rebuild_secs": round2(rebuild.secs),
        "rebuild_events_per_s": round2(events / rebuild.secs),
        "rebuild_peak_rss_mb": rebuild.peak_rss_mb,
        "audit_secs": round2(audit.secs),
        "audit_events_per_s": round2(events / audit.secs),
        "audit_peak_rss_mb": audit.peak_rss_mb,
        "audit_clean": audit.success,
        "sizes": sizes,
    }))
}

/// What [`seed`] loaded and how long it took.
#[derive(Debug)]
pub struct Seeded {
    pub events: usize,
    pub members: usize,
    pub load_secs: f64,
    pub index_secs: f64,
    /// Sealing the log and placing the keepers at its head.
    pub seal_secs: f64,
}

/// Loads the log into `pool`'s empty, migrated database: secondary indexes of `events` dropped,
/// the programs' decisions copied in, the indexes built again.
pub async fn seed(pool: &PgPool, p: &Params) -> anyhow::Result<Seeded> {
    anyhow::ensure!(p.programs >= 1, "--programs must be at least 1");
    let members = if p.members == 0 {
        (p.events / 30).max(1)
    } else {
        p.members
    };
    let weights: Vec<f64> = (1..=p.programs).map(|k| 1.0 / k as f64).collect();
    let total: f64 = weights.iter().sum();
    let generators: Vec<Generator> = weights
        .iter()
        .enumerate()
        .map(|(k, w)| {
            let share = w / total;
            let events = ((p.events as f64) * share).ceil() as usize;
            let members = (((members as f64) * share).ceil() as usize).max(1);
            Generator::new(events, members, p.seed.wrapping_add(k as u64))
        })
        .collect();

    let began = Instant::now();
    let indexes = drop_secondary_indexes(pool).await?;
    let loaded = load(generators, pool).await?;
    let load_secs = began.elapsed().as_secs_f64();
    let began = Instant::now();
    build_indexes(pool, &indexes).await?;
    let index_secs = began.elapsed().as_secs_f64();
    let began = Instant::now();
    let sealed = followers_at_head(pool).await?;
    anyhow::ensure!(
        sealed == loaded.events as u64,
        "sealed {sealed} of {} events",
        loaded.events
    );
    Ok(Seeded {
        events: loaded.events,
        members: loaded.members,
        load_secs,
        index_secs,
        seal_secs: began.elapsed().as_secs_f64(),
    })
}

/// Brings what follows the log in `serve` to the head, as in an installation that kept them
/// running while the log grew: the log is sealed (the sealer's own work, so it is timed), and
/// the tier keeper and the expiry job start after the last event, since the generator's
/// deciders already placed members on tiers and expired what was due. The expiry queue stays
/// empty: the loaded log is dated October, so every credit it would hold is long due, a
/// backlog of weeks that no running installation has. Projections are brought to the head by
/// `projections rebuild`; notifications start at the head on their own. Returns the events
/// sealed.
async fn followers_at_head(pool: &PgPool) -> anyhow::Result<u64> {
    let store = store::EventStore::new(pool.clone());
    let sealed = projections::seal::Sealer::new(store.clone(), Default::default())
        .drain()
        .await?;
    let head = store.head().await?;
    for keeper in ["tier_keeper", "expiry_keeper"] {
        sqlx::query(&format!(
            "INSERT INTO {keeper} (id, tx_id, position) VALUES (true, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET tx_id = $1, position = $2"
        ))
        .bind(head.tx_id)
        .bind(head.position)
        .execute(pool)
        .await?;
    }
    Ok(sealed)
}

/// An index of `events` taken away for the load: its name, its definition, and whether it
/// backs a constraint (then it comes back as that constraint).
struct DroppedIndex {
    name: String,
    definition: String,
    constraint: bool,
}

/// Drops every index of `events` but its primary key (the log's order, which the load must
/// keep); answers how to build them again.
async fn drop_secondary_indexes(pool: &PgPool) -> anyhow::Result<Vec<DroppedIndex>> {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT i.indexrelid::regclass::text, \
                coalesce(pg_get_constraintdef(c.oid), pg_get_indexdef(i.indexrelid)), \
                c.conname::text \
         FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid \
         WHERE i.indrelid = 'events'::regclass AND NOT i.indisprimary",
    )
    .fetch_all(pool)
    .await?;
    let mut dropped = Vec::new();
    for (name, definition, constraint) in rows {
        let statement = match &constraint {
            Some(c) => format!("ALTER TABLE events DROP CONSTRAINT {c}"),
            None => format!("DROP INDEX {name}"),
        };
        sqlx::query(&statement).execute(pool).await?;
        dropped.push(DroppedIndex {
            name,
            definition,
            constraint: constraint.is_some(),
        });
    }
    Ok(dropped)
}

async fn build_indexes(pool: &PgPool, indexes: &[DroppedIndex]) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SET maintenance_work_mem = '1GB'")
        .execute(&mut *conn)
        .await?;
    for index in indexes {
        let statement = if index.constraint {
            format!(
                "ALTER TABLE events ADD CONSTRAINT {} {}",
                index.name, index.definition
            )
        } else {
            index.definition.clone()
        };
        sqlx::query(&statement).execute(&mut *conn).await?;
    }
    Ok(())
}

struct Timed {
    secs: f64,
    peak_rss_mb: f64,
    success: bool,
}

/// Runs `loyalty <args>` on `url` with its progress lines every 30 s on stderr, measuring its
/// time and peak memory (sampled every 50 ms while it runs).
async fn timed_cli(url: &str, args: &[&str]) -> anyhow::Result<Timed> {
    let began = Instant::now();
    let mut child = tokio::process::Command::new(loyalty::sibling_binary("loyalty", "loyalty")?)
        .args(args)
        .args(["--progress-every", "30"])
        .env("DATABASE_URL", url)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id();
    let mut peak = 0.0f64;
    let status = loop {
        if let Some(rss) = pid.and_then(peak_rss_mb) {
            peak = peak.max(rss);
        }
        tokio::select! {
            status = child.wait() => break status?,
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    };
    Ok(Timed {
        secs: began.elapsed().as_secs_f64(),
        peak_rss_mb: peak,
        success: status.success(),
    })
}
