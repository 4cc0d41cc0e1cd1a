//! W2 webhook-ingest: signed Instagram comments and VK wall replies from 20,000 commenters
//! through a real `loyalty serve` child process: first at a fixed offered rate (measuring
//! response latency and append-to-visible latency in the balance read model), then as fast as
//! the server sustains. 2% of deliveries are exact duplicates and must create no events.
//!
//! With `--servers N`, N `serve` processes share the database and deliveries go to them in
//! turn; a delivery a server does not answer 2xx is sent to the next one, as a platform
//! retries. `--kill-one` SIGKILLs the first server a third of the way through the second
//! phase and starts it again half way: every delivery must still end with exactly one event.

use super::{ServeChild, latency_histogram, ms, round2, run_nonce, workload_database};
use app::ingest::{channels, observed_member_id};
use app::{Ledger, LedgerConfig, ManagerAction};
use chrono::Utc;
use domain::ids::ProgramId;
use domain::network::{ExternalIdentity, Network};
use domain::program::Rules;
use loyalty::simulate;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use store::EventStore;
use tokio::sync::Mutex;
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Params {
    #[arg(long, default_value_t = 20_000)]
    pub commenters: usize,
    /// Offered deliveries per second in the fixed-rate phase.
    #[arg(long = "rate", value_name = "RATE", default_value_t = 1_000)]
    pub fixed_rate: u64,
    #[arg(long, default_value_t = 10)]
    pub fixed_secs: u64,
    /// Deliveries sent as fast as possible in the second phase.
    #[arg(
        long = "deliveries",
        value_name = "DELIVERIES",
        default_value_t = 40_000
    )]
    pub max_deliveries: usize,
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// `serve` processes sharing the database.
    #[arg(long, default_value_t = 1)]
    pub servers: usize,
    /// Kill the first server (SIGKILL) during the second phase and start it again.
    #[arg(long)]
    pub kill_one: bool,
    /// Run a leaderboard season over the whole run (every comment counts on its board too).
    #[arg(long)]
    pub season: bool,
    /// Run on top of this large log (from `loyalty bench large-log`) instead of an empty one:
    /// a new program, accounts and comments each run.
    #[arg(long, value_name = "DATABASE")]
    pub on_log: Option<String>,
    /// Other programs, each with a Telegram bot of its own, served by the same processes
    /// (their workers follow the log beside the deliveries; their Bot API is unreachable and
    /// never needed, since none of their members acts).
    #[arg(long, default_value_t = 0)]
    pub program_bots: usize,
}

/// Attempts of one delivery across the servers before it counts as an error.
const ATTEMPTS: usize = 200;

/// The servers' base URLs; a restarted server's changes.
type Bases = Arc<Vec<std::sync::RwLock<String>>>;

fn base(bases: &Bases, n: usize) -> String {
    let slot = &bases[n % bases.len()];
    slot.read().map(|b| b.clone()).unwrap_or_default()
}

const DATABASE: &str = "loyalty_bench_webhook_ingest";
const APP_SECRET: &str = "bench-instagram-app-secret";
const BRAND: &str = "17841400000000001";
const VK_GROUP: i64 = 229871234;
const VK_SECRET: &str = "bench-vk-secret";
const POINTS: i64 = 10;
const VISIBLE_TIMEOUT: Duration = Duration::from_secs(5);

/// One delivery and who earns from it.
#[derive(Clone)]
struct Delivery {
    request: Arc<simulate::Delivery>,
    identity: ExternalIdentity,
    duplicate: bool,
}

pub async fn run(database_url: &str, p: Params) -> anyhow::Result<serde_json::Value> {
    let (pool, database) = workload_database(database_url, DATABASE, p.on_log.as_deref()).await?;
    let log_before: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    let program_id = seed_program(&pool, p.season).await?;
    anyhow::ensure!(p.servers >= 1, "--servers must be at least 1");
    anyhow::ensure!(
        !p.kill_one || p.servers >= 2,
        "--kill-one needs a second server to take the deliveries"
    );
    seed_program_bots(&pool, p.program_bots).await?;
    let serve_env = [
        ("LOYALTY_INSTAGRAM_APP_SECRET", APP_SECRET),
        // A closed port: a bot's worker that did call out would fail, not wait.
        ("LOYALTY_TELEGRAM_API_URL", "http://127.0.0.1:9"),
    ];
    let mut servers = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..p.servers {
        let (server, base) = ServeChild::start(database_url, &database, &serve_env).await?;
        servers.push(Some(server));
        urls.push(std::sync::RwLock::new(base));
    }
    let bases: Bases = Arc::new(urls);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;

    // Ids no earlier run on the same log used (accounts and comments are idempotent).
    let offset = match p.on_log {
        Some(_) => run_nonce() % 100_000 * 100_000_000,
        None => 0,
    };
    let mut generator = Generator::new(p.commenters, p.seed, offset);
    let fixed_count = (p.fixed_rate * p.fixed_secs) as usize;
    let fixed: Vec<Delivery> = (0..fixed_count).map(|_| generator.next()).collect();
    let fixed_unique = fixed.iter().filter(|d| !d.duplicate).count();
    let max: Vec<Delivery> = (0..p.max_deliveries).map(|_| generator.next()).collect();
    let expected = Arc::new(Mutex::new(HashMap::<String, i64>::new()));

    // Phase 1: a fixed offered rate, sampling append-to-visible latency.
    let response = Arc::new(Mutex::new(latency_histogram()));
    let visible = Arc::new(Mutex::new(latency_histogram()));
    let errors = Arc::new(AtomicUsize::new(0));
    let mut ticker =
        tokio::time::interval(Duration::from_nanos(1_000_000_000 / p.fixed_rate.max(1)));
    // Only to look up references the server issued; the key is not used for that.
    let accounts = app::accounts::Accounts::new(pool.clone(), app::config::dev_privacy_keys());
    let mut tasks = Vec::new();
    for (i, delivery) in fixed.into_iter().enumerate() {
        ticker.tick().await;
        let accounts = accounts.clone();
        let ctx = (
            client.clone(),
            base(&bases, i),
            response.clone(),
            visible.clone(),
            errors.clone(),
            expected.clone(),
            pool.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (client, base, response, visible, errors, expected, pool) = ctx;
            let account = delivery.identity.key();
            if !delivery.duplicate {
                *expected.lock().await.entry(account.clone()).or_default() += POINTS;
            }
            let t = Instant::now();
            if send(&client, &base, &delivery).await.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let _ = response.lock().await.record(t.elapsed().as_micros() as u64);
            if i % 5 == 0 && !delivery.duplicate {
                let target = expected
                    .lock()
                    .await
                    .get(&account)
                    .copied()
                    .unwrap_or(POINTS);
                // The account's reference was issued before the delivery was answered; nobody
                // claims the bench's accounts, so their activity goes to the observed member.
                let Ok(Some(account)) = accounts.find(program_id, &delivery.identity).await else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let member = observed_member_id(program_id, account).0;
                let answered = Instant::now();
                if wait_visible(&pool, program_id, member, target).await {
                    let _ = visible
                        .lock()
                        .await
                        .record(answered.elapsed().as_micros() as u64);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let fixed_response = response.lock().await.clone();
    let visible = visible.lock().await.clone();

    // Phase 2: as fast as the server sustains, closed loop.
    let unique = fixed_unique + max.iter().filter(|d| !d.duplicate).count();
    let max = Arc::new(max);
    let next = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..p.concurrency.max(1) {
        let (client, bases, max, next, errors, retries) = (
            client.clone(),
            bases.clone(),
            max.clone(),
            next.clone(),
            errors.clone(),
            retries.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut hist = latency_histogram();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(delivery) = max.get(k) else { break };
                let t = Instant::now();
                let mut answered = false;
                for attempt in 0..ATTEMPTS {
                    if send(&client, &base(&bases, k + attempt), delivery)
                        .await
                        .is_ok()
                    {
                        answered = true;
                        break;
                    }
                    retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if answered {
                    let _ = hist.record(t.elapsed().as_micros() as u64);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            hist
        }));
    }
    let mut restart_ms = None;
    if p.kill_one {
        let total = p.max_deliveries;
        while next.load(Ordering::Relaxed) < total / 3 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if let Some(server) = servers[0].take() {
            server.kill().await?;
        }
        while next.load(Ordering::Relaxed) < total / 2 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let restarting = Instant::now();
        let (server, url) = ServeChild::start(database_url, &database, &serve_env).await?;
        restart_ms = Some(restarting.elapsed().as_millis());
        servers[0] = Some(server);
        if let Ok(mut slot) = bases[0].write() {
            *slot = url;
        }
    }
    let mut hist = latency_histogram();
    for t in tasks {
        hist.add(t.await?)?;
    }
    let secs = began.elapsed().as_secs_f64();
    let serve_peak_rss_mb = servers
        .first()
        .and_then(|s| s.as_ref())
        .and_then(ServeChild::peak_rss_mb);
    drop(servers);

    let duplicate_events: i64 = sqlx::query_scalar(
        "SELECT count(*) - count(DISTINCT payload #>> '{activity,reference}') FROM events \
         WHERE program_id = $1 AND event_type = 'PointsAwarded'",
    )
    .bind(program_id.0)
    .fetch_one(&pool)
    .await?;
    let awards: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE program_id = $1 AND event_type = 'PointsAwarded'",
    )
    .bind(program_id.0)
    .fetch_one(&pool)
    .await?;
    let deliveries = fixed_count + p.max_deliveries;
    Ok(json!({
        "workload": "webhook-ingest",
        "log_events_before": log_before,
        "serve_peak_rss_mb": serve_peak_rss_mb,
        "deliveries": deliveries,
        "deliveries_per_s": round2(p.max_deliveries as f64 / secs),
        "p50_ms": ms(hist.value_at_quantile(0.5)),
        "p99_ms": ms(hist.value_at_quantile(0.99)),
        "fixed_rate_per_s": p.fixed_rate,
        "fixed_p50_ms": ms(fixed_response.value_at_quantile(0.5)),
        "fixed_p99_ms": ms(fixed_response.value_at_quantile(0.99)),
        "duplicate_events": duplicate_events,
        "missing_events": unique as i64 - awards + duplicate_events,
        "errors": errors.load(Ordering::Relaxed),
        "servers": p.servers,
        "killed_one": p.kill_one,
        "season": p.season,
        "program_bots": p.program_bots,
        "restart_ms": restart_ms,
        "retried_sends": retries.load(Ordering::Relaxed),
        "visible_samples": visible.len(),
        "visible_p50_ms": ms(visible.value_at_quantile(0.5)),
        "visible_p99_ms": ms(visible.value_at_quantile(0.99)),
    }))
}

/// `count` programs, each given a bot of its own (ids from 8,000,000,000 up, so a rerun on the
/// same database replaces nothing another run made).
async fn seed_program_bots(pool: &PgPool, count: usize) -> anyhow::Result<()> {
    if count == 0 {
        return Ok(());
    }
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let secrets = crate::served_secret_box()?;
    let first: i64 =
        sqlx::query_scalar("SELECT coalesce(max(bot_id), 7999999999) + 1 FROM program_bots")
            .fetch_one(pool)
            .await?;
    for n in 0..count as i64 {
        let program = ProgramId(Uuid::new_v4());
        let action = crate::bench_manager();
        ledger
            .create_program(
                program,
                "Bench brand with a bot",
                chrono_tz::UTC,
                Rules::standard(),
                &action,
            )
            .await?;
        let bot_id = first + n;
        let token = format!("{bot_id}:AABenchBotTokenNeverSentAnywhere_{n:06}");
        app::program_bots::save(
            pool,
            &secrets,
            program,
            bot_id,
            &format!("bench_{n}_bot"),
            &token,
            "bench",
        )
        .await?;
    }
    Ok(())
}

async fn seed_program(pool: &PgPool, season: bool) -> anyhow::Result<ProgramId> {
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let program_id = ProgramId(Uuid::new_v4());
    let mut rules = Rules::standard();
    // Measure the path, not the rules: no caps or cooldowns to deny repeat commenters.
    rules.daily_cap = None;
    rules.daily_cap_per_network = None;
    rules.min_comment_chars = 0;
    for rule in &mut rules.points {
        rule.cooldown_seconds = 0;
        if rule.kind == domain::network::ActivityKind::Comment {
            rule.points = POINTS;
        }
    }
    let action = crate::bench_manager();
    ledger
        .create_program(program_id, "Bench brand", chrono_tz::UTC, rules, &action)
        .await?;
    if season {
        let terms = domain::season::SeasonTerms {
            name: "Bench season".into(),
            starts_at: Utc::now().into(),
            ends_at: (Utc::now() + chrono::Duration::days(1)).into(),
            settle_minutes: 60,
            counts: domain::season::SeasonCounts::default(),
            prizes: Vec::new(),
        };
        let action = ManagerAction {
            request_id: Uuid::new_v4(),
            ..action.clone()
        };
        ledger.schedule_season(program_id, terms, &action).await?;
    }
    let secrets = crate::served_secret_box()?;
    channels::bind(
        pool,
        &secrets,
        Network::Instagram,
        BRAND,
        program_id,
        None,
        None,
    )
    .await?;
    channels::bind(
        pool,
        &secrets,
        Network::Vk,
        &VK_GROUP.to_string(),
        program_id,
        Some(VK_SECRET),
        Some("ok"),
    )
    .await?;
    Ok(program_id)
}

struct Generator {
    rng: StdRng,
    commenters: usize,
    sent: Vec<Delivery>,
    comment: u64,
    /// Added to every platform user and comment id.
    offset: u64,
}

impl Generator {
    fn new(commenters: usize, seed: u64, offset: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            commenters: commenters.max(2),
            sent: Vec::new(),
            comment: 0,
            offset,
        }
    }

    fn next(&mut self) -> Delivery {
        if !self.sent.is_empty() && self.rng.gen_bool(0.02) {
            let again = self.sent[self.rng.gen_range(0..self.sent.len())].clone();
            return Delivery {
                duplicate: true,
                ..again
            };
        }
        self.comment += 1;
        let who = self.rng.gen_range(0..self.commenters);
        let comment = self.offset + self.comment;
        let now = Utc::now().timestamp();
        let delivery = if who % 2 == 0 {
            let igsid = format!("{}", 9_000_000_000_000_000u64 + self.offset + who as u64);
            let request = simulate::instagram_comment(
                &simulate::InstagramComment {
                    brand_account: BRAND,
                    igsid: &igsid,
                    username: &format!("fan_{who}"),
                    comment_id: &format!("{}", 17_990_000_000_000_000u64 + comment),
                    media_id: "18031234567890123",
                    text: &format!("Great post, comment {}", self.comment),
                    unix_time: now,
                },
                APP_SECRET,
            );
            Delivery {
                request: Arc::new(request),
                identity: ExternalIdentity::new(Network::Instagram, BRAND, igsid),
                duplicate: false,
            }
        } else {
            let user = 700_000_000 + (self.offset + who as u64) as i64;
            let text = format!("Nice, comment {}", self.comment);
            let request =
                simulate::vk_wall_reply(VK_GROUP, VK_SECRET, user, comment as i64, &text, now);
            Delivery {
                request: Arc::new(request),
                identity: ExternalIdentity::new(Network::Vk, "", user.to_string()),
                duplicate: false,
            }
        };
        self.sent.push(delivery.clone());
        delivery
    }
}

async fn send(client: &reqwest::Client, base: &str, d: &Delivery) -> anyhow::Result<()> {
    let status = d.request.send(client, base).await?;
    anyhow::ensure!(status.is_success(), "status {status}");
    Ok(())
}

/// Polls the balance read model until it shows at least `target` points.
async fn wait_visible(pool: &PgPool, program_id: ProgramId, member: Uuid, target: i64) -> bool {
    let deadline = Instant::now() + VISIBLE_TIMEOUT;
    while Instant::now() < deadline {
        let current: Option<i64> = sqlx::query_scalar(
            "SELECT current FROM balances WHERE program_id = $1 AND member_id = $2",
        )
        .bind(program_id.0)
        .bind(member)
        .fetch_optional(pool)
        .await
        .ok()
        .flatten();
        if current.is_some_and(|c| c >= target) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    false
}
