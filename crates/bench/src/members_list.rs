//! Members list: a million members loaded straight into the read models (balances with a
//! long-tailed spread of points, join dates over two years, last activity mostly recent;
//! one or two network accounts each, with profiles), then managers paging through the admin
//! panel's list over HTTP with every sort and filter, a few pages deep each time.

use super::{
    ServeChild, copy_accounts, copy_rows, fresh_database, latency_histogram, ms, round2,
    vacuum_analyze,
};
use anyhow::Context;
use app::{Ledger, LedgerConfig, ManagerAction};
use chrono::{Duration as TimeDelta, Utc};
use domain::ids::ProgramId;
use domain::program::Rules;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use store::EventStore;
use tokio::sync::Mutex;
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Params {
    #[arg(long, default_value_t = 1_000_000)]
    pub members: usize,
    /// Managers paging at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Pages asked in all.
    #[arg(long, default_value_t = 5_000)]
    pub requests: usize,
    /// Most further pages a manager follows after the first.
    #[arg(long, default_value_t = 5)]
    pub max_depth: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Drop the sort indexes of `balances` first: what the list costs without them.
    #[arg(long)]
    pub without_sort_indexes: bool,
}

/// The indexes made for the list's sorts (migration `20261210000000_members_list.sql`).
const SORT_INDEXES: &str = "balances_current_idx, balances_earned_idx, balances_updated_idx, \
                            balances_registered_idx, balances_blocked_idx";

const DATABASE: &str = "loyalty_bench_members";
const ADMIN: &str = "bench";
const PASSWORD: &str = "bench-password-not-a-secret";
/// Members with a second account on another network.
const LINKED_SHARE: f64 = 0.2;
const BLOCKED_SHARE: f64 = 0.001;

/// What managers ask: a name for the figures and the list's query.
const VIEWS: [(&str, &str); 11] = [
    ("last_activity", "sort=last_activity"),
    ("balance", "sort=balance"),
    ("earned_asc", "sort=earned&order=asc"),
    ("joined", "sort=joined"),
    ("instagram_by_balance", "network=instagram&sort=balance"),
    ("blocked", "blocked=true&sort=balance"),
    ("active_7d_by_balance", "active_days=7&sort=balance"),
    ("balance_100_200", "min_balance=100&max_balance=200"),
    ("linked_by_earned", "linked=true&sort=earned"),
    (
        "vk_active_30d_by_joined",
        "network=vk&active_days=30&sort=joined",
    ),
    ("search", "q=fan_"),
];

pub async fn run(database_url: &str, p: Params) -> anyhow::Result<serde_json::Value> {
    let pool = fresh_database(database_url, DATABASE).await?;
    let mut rng = StdRng::seed_from_u64(p.seed);
    let program = ProgramId(Uuid::from_u128(rng.r#gen()));
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let action = ManagerAction {
        manager: "bench".into(),
        request_id: Uuid::from_u128(rng.r#gen()),
        at: Utc::now().into(),
    };
    let tz = chrono_tz::Europe::Moscow;
    ledger
        .create_program(program, "Bench", tz, Rules::standard(), &action)
        .await?;
    let loading = Instant::now();
    load(&pool, &mut rng, program.0, p.members).await?;
    if p.without_sort_indexes {
        sqlx::query(&format!("DROP INDEX {SORT_INDEXES}"))
            .execute(&pool)
            .await?;
    }
    let load_secs = loading.elapsed().as_secs_f64();
    api::admin::create_user(&pool, "bench", ADMIN, PASSWORD, api::admin::Role::Auditor)
        .await
        .map_err(|e| anyhow::anyhow!("create the bench's admin: {e}"))?;

    let (_server, base) = ServeChild::start(database_url, DATABASE, &[]).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(p.concurrency.max(1))
        .build()?;
    let cookie = crate::sign_in(&client, &base, ADMIN, PASSWORD).await?;
    let list = format!("{base}/api/v1/admin/programs/{}/members", program.0);
    // The first page loads the program's names into the serving process: timed apart.
    let warming = Instant::now();
    let _ = page(&client, &cookie, &list, "sort=balance", None).await?;
    let first_page_ms = warming.elapsed().as_millis();

    let asked = Arc::new(AtomicUsize::new(0));
    let histograms: Arc<Mutex<BTreeMap<&str, View>>> = Arc::default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..p.concurrency.max(1) {
        let (client, cookie, list) = (client.clone(), cookie.clone(), list.clone());
        let (asked, histograms) = (asked.clone(), histograms.clone());
        let mut rng = StdRng::seed_from_u64(p.seed + 1 + task as u64);
        let (requests, max_depth, members) = (p.requests, p.max_depth, p.members);
        tasks.push(tokio::spawn(async move {
            let mut own: BTreeMap<&str, View> = BTreeMap::new();
            'visits: loop {
                let (name, query) = VIEWS[rng.gen_range(0..VIEWS.len())];
                let query = if name == "search" {
                    format!("{query}{}", rng.gen_range(0..members))
                } else {
                    query.to_string()
                };
                let mut after = None;
                for _ in 0..=rng.gen_range(0..=max_depth) {
                    if asked.fetch_add(1, Ordering::Relaxed) >= requests {
                        break 'visits;
                    }
                    let sent = Instant::now();
                    let next = page(&client, &cookie, &list, &query, after.as_deref()).await?;
                    let us = sent.elapsed().as_micros() as u64;
                    let view = own.entry(name).or_insert_with(View::new);
                    view.latency.record(us.max(1))?;
                    match next {
                        Page::Next(next) => after = Some(next),
                        Page::Last => break,
                        Page::TimedOut => {
                            view.timed_out += 1;
                            break;
                        }
                    }
                }
            }
            let mut all = histograms.lock().await;
            for (name, view) in own {
                let total = all.entry(name).or_insert_with(View::new);
                total.latency.add(&view.latency)?;
                total.timed_out += view.timed_out;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let histograms = histograms.lock().await;
    let mut overall = latency_histogram();
    let mut views = serde_json::Map::new();
    let mut timed_out = 0;
    for (name, view) in histograms.iter() {
        let h = &view.latency;
        overall.add(h)?;
        timed_out += view.timed_out;
        views.insert(
            name.to_string(),
            json!({
                "pages": h.len(),
                "p50_ms": ms(h.value_at_quantile(0.5)),
                "p99_ms": ms(h.value_at_quantile(0.99)),
                "timed_out": view.timed_out,
            }),
        );
    }
    Ok(json!({
        "workload": "members-list",
        "members": p.members,
        "load_secs": round2(load_secs),
        "concurrency": p.concurrency,
        "sort_indexes": !p.without_sort_indexes,
        "pages": overall.len(),
        "pages_per_s": round2(overall.len() as f64 / secs),
        "first_page_ms": first_page_ms,
        "p50_ms": ms(overall.value_at_quantile(0.5)),
        "p99_ms": ms(overall.value_at_quantile(0.99)),
        "max_ms": ms(overall.max()),
        "timed_out": timed_out,
        "views": views,
    }))
}

/// The pages of one view and how many the server gave up on (its request timeout, 10 s).
struct View {
    latency: Histogram<u64>,
    timed_out: u64,
}

impl View {
    fn new() -> Self {
        View {
            latency: latency_histogram(),
            timed_out: 0,
        }
    }
}

enum Page {
    Next(String),
    Last,
    TimedOut,
}

/// One page of the list.
async fn page(
    client: &reqwest::Client,
    cookie: &str,
    list: &str,
    query: &str,
    after: Option<&str>,
) -> anyhow::Result<Page> {
    let mut url = format!("{list}?{query}");
    if let Some(after) = after {
        url.push_str("&after=");
        url.push_str(after);
    }
    let reply = client
        .get(&url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await?;
    if reply.status() == reqwest::StatusCode::REQUEST_TIMEOUT {
        return Ok(Page::TimedOut);
    }
    let reply: serde_json::Value = reply
        .error_for_status()
        .with_context(|| format!("GET {url}"))?
        .json()
        .await?;
    anyhow::ensure!(reply["members"].is_array(), "not a page: {reply}");
    Ok(match reply["next"].as_str() {
        Some(next) => Page::Next(next.to_string()),
        None => Page::Last,
    })
}

/// Writes `members` members of `program` into balances, external_accounts, identities and
/// profiles with COPY, then analyses the tables as autovacuum would.
async fn load(
    pool: &PgPool,
    rng: &mut StdRng,
    program: Uuid,
    members: usize,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let written = crate::profiles_written();
    let (mut balances, mut accounts, mut identities, mut profiles) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..members {
        let member = Uuid::from_u128(rng.r#gen());
        // Points: long-tailed, most members hold little and a few hold a lot.
        let earned = (10.0 * (rng.r#gen::<f64>() * 8.0).exp()).floor() as i64;
        let current = (earned as f64 * rng.gen_range(0.2..=1.0)).floor() as i64;
        let joined = now - TimeDelta::seconds(rng.gen_range(0..730 * 86_400));
        let quiet = ((now - joined).num_seconds() as f64 * rng.r#gen::<f64>().powi(3)) as i64;
        let last = now - TimeDelta::seconds(quiet);
        let blocked = rng.gen_bool(BLOCKED_SHARE);
        balances.extend_from_slice(
            format!(
                "{program}\t{member}\t{current}\t{earned}\t{}\t{blocked}\t{}\t{}\n",
                earned - current,
                joined.to_rfc3339(),
                last.to_rfc3339()
            )
            .as_bytes(),
        );
        let first = match rng.gen_range(0..100) {
            0..40 => "instagram",
            40..75 => "vk",
            _ => "telegram",
        };
        let mut networks = vec![first];
        if rng.gen_bool(LINKED_SHARE) {
            networks.push(if first == "telegram" {
                "vk"
            } else {
                "telegram"
            });
        }
        for network in networks {
            let account = Uuid::from_u128(rng.r#gen());
            let scope = if network == "instagram" {
                "17841400000000000"
            } else {
                ""
            };
            accounts.extend_from_slice(
                format!("{account}\t{program}\t{network}\t{scope}\t{network}{i}\n").as_bytes(),
            );
            identities.extend_from_slice(
                format!(
                    "{program}\t{network}\t{account}\t{member}\tcode\t{}\n",
                    joined.to_rfc3339()
                )
                .as_bytes(),
            );
            let name = if network == "telegram" {
                format!("Fan Number {i}")
            } else {
                "\\N".to_string()
            };
            profiles.extend_from_slice(
                format!("{account}\t{program}\tfan_{i}\t{name}\t{written}\n").as_bytes(),
            );
        }
    }
    let mut conn = pool.acquire().await?;
    copy_rows(
        &mut conn,
        "COPY balances (program_id, member_id, current, earned, spent, blocked, \
         registered_at, updated_at) FROM STDIN",
        &balances,
    )
    .await?;
    copy_accounts(&mut conn, &accounts, &identities, &profiles).await?;
    vacuum_analyze(
        &mut conn,
        &["balances", "external_accounts", "identities", "profiles"],
    )
    .await?;
    Ok(())
}
