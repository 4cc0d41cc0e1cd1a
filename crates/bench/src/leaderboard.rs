//! W4 leaderboard-query: a million members with Zipf-like scores loaded straight into the
//! leaderboard read model, then 64 tasks asking "top 100" and "my rank and my neighbours"
//! (all-time and this week) for random members; then, with awards arriving at a steady rate,
//! how soon an award moves its member's rank.
//!
//! `layer: read-model` asks this process's `LiveBoards` (what every serving process answers
//! from); `layer: http` asks `loyalty serve` over HTTP exactly as the Mini App does, each
//! request signed with its member's Telegram initData.

use super::{
    ServeChild, copy_accounts, copy_rows, fresh_database, latency_histogram, ms, round2,
    vacuum_analyze,
};
use anyhow::Context;
use api::mini_app::dev::sign_init_data;
use app::{Ledger, LedgerConfig, ManagerAction};
use bot::members::ensure_telegram_member;
use chrono::Utc;
use domain::Event;
use domain::folds::BoardKey;
use domain::ids::{EntryId, MemberId, ProgramId};
use domain::network::{ActivityKind, ActivityRef, Network};
use domain::program::Rules;
use hdrhistogram::Histogram;
use projections::leaderboards::board_key;
use projections::live_boards::LiveBoards;
use projections::ranking::{PeriodKind, current_board};
use projections::runner::{self, RunnerConfig};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use store::{Commit, EventStore, ExpectedVersion, Metadata, StreamAppend};
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Params {
    #[arg(long, default_value_t = 1_000_000)]
    pub members: usize,
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    #[arg(long, default_value_t = 200_000)]
    pub requests: usize,
    /// Awards appended per second in the background while staleness is measured.
    #[arg(long, default_value_t = 1_000)]
    pub award_rate: u32,
    #[arg(long, default_value_t = 300)]
    pub staleness_samples: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Ask `loyalty serve` over HTTP (the Mini App's API) instead of the read model.
    #[arg(long)]
    pub http: bool,
    /// Members with a Telegram account who call the API (with --http).
    #[arg(long, default_value_t = 10_000)]
    pub callers: usize,
}

const DATABASE: &str = "loyalty_bench_leaderboard";
const TZ: chrono_tz::Tz = chrono_tz::Europe::Moscow;
const BOT_TOKEN: &str = "123456:bench-bot-token";
/// Share of members who earned something this week.
const WEEK_SHARE: f64 = 0.4;
/// Neighbours asked for on each side in "my rank".
const NEIGHBOURS: i64 = 5;
/// How often staleness looks for an award in the answers (tokio's timer resolution): the
/// figure is at most this much late.
const STALENESS_POLL: Duration = Duration::from_millis(1);

/// Who is on which board, and who can call the API.
struct Population {
    program: Uuid,
    all: Vec<Uuid>,
    week: Vec<Uuid>,
    all_key: BoardKey,
    week_key: BoardKey,
    /// Members with a Telegram account: (member, signed initData).
    callers: Vec<(Uuid, String)>,
}

pub async fn run(database_url: &str, p: Params) -> anyhow::Result<serde_json::Value> {
    let pool = fresh_database(database_url, DATABASE).await?;
    let store = EventStore::new(pool.clone());
    let mut rng = StdRng::seed_from_u64(p.seed);
    let ledger = Ledger::new(store.clone(), LedgerConfig::default());
    let program = ProgramId(Uuid::from_u128(rng.r#gen()));
    let action = ManagerAction {
        manager: "bench".into(),
        request_id: Uuid::from_u128(rng.r#gen()),
        at: Utc::now().into(),
    };
    ledger
        .create_program(program, "Bench", TZ, Rules::standard(), &action)
        .await?;
    let callers = if p.http {
        telegram_callers(&ledger, program, p.callers).await?
    } else {
        Vec::new()
    };
    let population = Arc::new(load(&pool, &mut rng, program.0, p.members, callers).await?);

    let asker = if p.http {
        let program_text = program.0.to_string();
        let (server, base) = ServeChild::start(
            database_url,
            DATABASE,
            &[
                ("LOYALTY_PROGRAM", program_text.as_str()),
                ("LOYALTY_TELEGRAM_BOT_TOKEN", BOT_TOKEN),
            ],
        )
        .await?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(p.concurrency.max(1))
            .build()?;
        Asker::Http {
            client,
            base,
            _server: Arc::new(server),
        }
    } else {
        Asker::ReadModel(LiveBoards::new(pool.clone()))
    };
    // The first question of each board loads it; time that apart from the steady state.
    let loading = Instant::now();
    for board in [population.all_key, population.week_key] {
        asker.top(&population, board, 1).await?;
    }
    let load_ms = loading.elapsed().as_millis();

    let (top_hist, rank_hist, secs) = query_load(&asker, &population, &p).await?;
    let mut all_hist = latency_histogram();
    all_hist.add(&top_hist)?;
    all_hist.add(&rank_hist)?;
    let (stale, visible_p99_ms) = staleness(&store, &asker, &population, &p, &mut rng).await?;

    Ok(json!({
        "workload": "leaderboard",
        "members": p.members,
        "layer": if p.http { "http" } else { "read-model" },
        "concurrency": p.concurrency,
        "requests": all_hist.len(),
        "requests_per_s": round2(all_hist.len() as f64 / secs),
        "p50_ms": ms(all_hist.value_at_quantile(0.50)),
        "p99_ms": ms(all_hist.value_at_quantile(0.99)),
        "top_p99_ms": ms(top_hist.value_at_quantile(0.99)),
        "rank_p99_ms": ms(rank_hist.value_at_quantile(0.99)),
        "board_load_ms": load_ms,
        "staleness_p50_ms": ms(stale.value_at_quantile(0.50)),
        "staleness_p99_ms": ms(stale.value_at_quantile(0.99)),
        "projection_visible_p99_ms": visible_p99_ms,
    }))
}

/// Members who open the Mini App: registered through the same path as a first visit.
async fn telegram_callers(
    ledger: &Ledger,
    program: ProgramId,
    n: usize,
) -> anyhow::Result<Vec<(Uuid, String)>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    let accounts = app::accounts::Accounts::new(
        ledger.store().pool().clone(),
        app::config::dev_privacy_keys(),
    );
    for _ in 0..16 {
        let (ledger, next, accounts) = (ledger.clone(), next.clone(), accounts.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(out);
                }
                let user_id = 1_000_000 + i as i64;
                let member =
                    ensure_telegram_member(&ledger, &accounts, program, user_id, Utc::now())
                        .await?;
                out.push((member.0, init_data(user_id)));
            }
        }));
    }
    let mut callers = Vec::with_capacity(n);
    for task in tasks {
        callers.extend(task.await??);
    }
    Ok(callers)
}

/// initData as Telegram signs it; valid for the server's configured age (a day by default).
fn init_data(user_id: i64) -> String {
    let user = json!({"id": user_id, "first_name": "Bench", "language_code": "ru"});
    let fields = [
        ("auth_date", Utc::now().timestamp().to_string()),
        ("query_id", format!("bench-{user_id}")),
        ("user", user.to_string()),
    ];
    sign_init_data(&fields, BOT_TOKEN)
}

/// Scores by rank r: about 1,000,000 / r^0.8 with ±10% noise, so ties are common low down.
fn score(rank: usize, rng: &mut StdRng) -> i64 {
    let base = 1_000_000.0 / ((rank + 1) as f64).powf(0.8);
    (base * rng.gen_range(0.9..1.1)).round() as i64
}

/// Writes the boards straight into the read model with COPY (a million awards through the
/// projection would measure the projection, not the queries). Callers take random places.
async fn load(
    pool: &PgPool,
    rng: &mut StdRng,
    program: Uuid,
    members: usize,
    callers: Vec<(Uuid, String)>,
) -> anyhow::Result<Population> {
    let now = Utc::now();
    let mut population = Population {
        program,
        all: Vec::with_capacity(members),
        week: Vec::new(),
        all_key: current_board(PeriodKind::AllTime, None, TZ, now),
        week_key: current_board(PeriodKind::Week, None, TZ, now),
        callers,
    };
    let mut ids: Vec<Uuid> = (0..members.max(population.callers.len()))
        .map(|i| match population.callers.get(i) {
            Some((member, _)) => *member,
            None => Uuid::from_u128(rng.r#gen()),
        })
        .collect();
    ids.shuffle(rng);
    let (all_key, week_key) = (
        board_key(&population.all_key),
        board_key(&population.week_key),
    );
    let callers: std::collections::HashSet<Uuid> =
        population.callers.iter().map(|(m, _)| *m).collect();
    let mut rows = Vec::with_capacity(members * 60);
    // Every other member has a linked account with a name (callers got theirs on their first
    // visit), so the names beside every rank are real ones to serve.
    let written = crate::profiles_written();
    let (mut accounts, mut identities, mut profiles) = (Vec::new(), Vec::new(), Vec::new());
    for (rank, member) in ids.into_iter().enumerate() {
        if !callers.contains(&member) {
            let account = Uuid::from_u128(rng.r#gen());
            accounts.extend_from_slice(format!("{account}\t{program}\tvk\t\t{rank}\n").as_bytes());
            identities.extend_from_slice(
                format!("{program}\tvk\t{account}\t{member}\tcode\t{now}\n").as_bytes(),
            );
            profiles.extend_from_slice(
                format!("{account}\t{program}\tfan_{rank}\tFan Number {rank}\t{written}\n")
                    .as_bytes(),
            );
        }
        let all = score(rank, rng);
        push_row(&mut rows, program, &all_key, member, all);
        population.all.push(member);
        if rng.gen_bool(WEEK_SHARE) {
            push_row(&mut rows, program, &week_key, member, (all / 20).max(1));
            population.week.push(member);
        }
    }
    let mut conn = pool.acquire().await?;
    copy_rows(
        &mut conn,
        "COPY leaderboard (program_id, board_key, member_id, score) FROM STDIN",
        &rows,
    )
    .await?;
    copy_accounts(&mut conn, &accounts, &identities, &profiles).await?;
    vacuum_analyze(
        &mut conn,
        &["leaderboard", "external_accounts", "identities", "profiles"],
    )
    .await?;
    Ok(population)
}

fn push_row(out: &mut Vec<u8>, program: Uuid, board: &str, member: Uuid, score: i64) {
    out.extend_from_slice(format!("{program}\t{board}\t{member}\t{score}\n").as_bytes());
}

/// Where questions go: the in-process read model, or a server over HTTP.
#[derive(Clone)]
enum Asker {
    ReadModel(LiveBoards),
    Http {
        client: reqwest::Client,
        base: String,
        _server: Arc<ServeChild>,
    },
}

impl Asker {
    /// Top `limit` of a board; returns how many rows came back.
    async fn top(&self, pop: &Population, board: BoardKey, limit: i64) -> anyhow::Result<usize> {
        match self {
            Asker::ReadModel(boards) => Ok(boards.top(pop.program, board, limit).await?.len()),
            Asker::Http { .. } => {
                let caller = &pop.callers[0].1;
                let body: Listed = self.get(pop, board, "leaderboard", limit, caller).await?;
                Ok(body.entries.len())
            }
        }
    }

    /// A member's score on a board, with neighbours; `None` if not on it.
    async fn my_score(
        &self,
        pop: &Population,
        board: BoardKey,
        member: Uuid,
        init_data: &str,
    ) -> anyhow::Result<Option<i64>> {
        match self {
            Asker::ReadModel(boards) => Ok(boards
                .around(pop.program, board, member, NEIGHBOURS)
                .await?
                .map(|a| a.me.score)),
            Asker::Http { .. } => {
                let body: Placed = self
                    .get(pop, board, "leaderboard/around-me", NEIGHBOURS, init_data)
                    .await?;
                Ok(body.me.map(|me| me.score))
            }
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        pop: &Population,
        board: BoardKey,
        path: &str,
        limit: i64,
        init_data: &str,
    ) -> anyhow::Result<T> {
        let Asker::Http { client, base, .. } = self else {
            anyhow::bail!("not over HTTP");
        };
        let period = if board == pop.week_key { "week" } else { "all" };
        let response = client
            .get(format!(
                "{base}/api/v1/app/{path}?period={period}&limit={limit}"
            ))
            .header("Authorization", format!("tma {init_data}"))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "GET {path} answered {}",
            response.status()
        );
        Ok(response.json().await?)
    }
}

/// What the generator reads of the answers: as little as proves them right, so that parsing
/// does not take the server's share of the cores.
#[derive(serde::Deserialize)]
struct Listed {
    entries: Vec<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct Placed {
    me: Option<Score>,
}

#[derive(serde::Deserialize)]
struct Score {
    score: i64,
}

/// `concurrency` tasks share `requests` questions: half "top 100", half "my rank and 5 either
/// side", each half all-time or this week, for random members.
async fn query_load(
    asker: &Asker,
    pop: &Arc<Population>,
    p: &Params,
) -> anyhow::Result<(Histogram<u64>, Histogram<u64>, f64)> {
    let next = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let asker = Arc::new(asker.clone());
    let mut tasks = Vec::new();
    for t in 0..p.concurrency.max(1) {
        let (asker, pop, next, total) = (asker.clone(), pop.clone(), next.clone(), p.requests);
        let mut rng = StdRng::seed_from_u64(p.seed ^ (t as u64 + 1));
        let http = p.http;
        tasks.push(tokio::spawn(async move {
            let (mut top_hist, mut rank_hist) = (latency_histogram(), latency_histogram());
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let board = if rng.gen_bool(0.5) {
                    pop.week_key
                } else {
                    pop.all_key
                };
                let started = Instant::now();
                if rng.gen_bool(0.5) {
                    let listed = asker.top(&pop, board, 100).await?;
                    anyhow::ensure!(listed == 100, "top 100 returned {listed}");
                    top_hist.record(started.elapsed().as_micros() as u64)?;
                } else if http {
                    let (member, init) = &pop.callers[rng.gen_range(0..pop.callers.len())];
                    asker.my_score(&pop, board, *member, init).await?;
                    rank_hist.record(started.elapsed().as_micros() as u64)?;
                } else {
                    let members = if board == pop.week_key {
                        &pop.week
                    } else {
                        &pop.all
                    };
                    let member = members[rng.gen_range(0..members.len())];
                    let mine = asker.my_score(&pop, board, member, "").await?;
                    anyhow::ensure!(mine.is_some(), "member {member} is not on the board");
                    rank_hist.record(started.elapsed().as_micros() as u64)?;
                }
            }
            Ok::<_, anyhow::Error>((top_hist, rank_hist))
        }));
    }
    let (mut top_hist, mut rank_hist) = (latency_histogram(), latency_histogram());
    for task in tasks {
        let (t, r) = task.await??;
        top_hist.add(t)?;
        rank_hist.add(r)?;
    }
    Ok((top_hist, rank_hist, began.elapsed().as_secs_f64()))
}

fn award_event(member: Uuid, points: i64, rng: &mut StdRng) -> Event {
    let now = Utc::now();
    let entry = EntryId(Uuid::from_u128(rng.r#gen()));
    Event::PointsAwarded {
        member_id: MemberId(member),
        entry_id: entry,
        activity: ActivityRef {
            network: Network::Vk,
            kind: ActivityKind::Comment,
            reference: entry.to_string(),
        },
        points,
        rule_version: 1,
        campaign_id: None,
        occurred_at: now.into(),
        at: now.into(),
        text_fingerprint: None,
    }
}

async fn append(store: &EventStore, program: Uuid, event: Event) -> anyhow::Result<()> {
    let encoded = store::codec::encode(&event, Uuid::new_v4(), Metadata::default())?;
    let append = StreamAppend {
        program_id: program,
        stream_id: event.stream().to_string(),
        expected: ExpectedVersion::Any,
        events: vec![encoded],
    };
    store
        .append(Commit {
            appends: vec![append],
        })
        .await?;
    Ok(())
}

/// With the projections live and awards arriving at `award_rate` per second, appends awards
/// to random members (callers, over HTTP) and times until their all-time score shows them.
async fn staleness(
    store: &EventStore,
    asker: &Asker,
    pop: &Arc<Population>,
    p: &Params,
    rng: &mut StdRng,
) -> anyhow::Result<(Histogram<u64>, Option<u64>)> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // In-process: this process runs the projections and follows the log. Over HTTP the server
    // does both, woken by a NOTIFY for the appends made here.
    let (running, follower, relay) = match asker {
        Asker::ReadModel(boards) => {
            let running = runner::spawn(store, RunnerConfig::default(), stop_rx.clone());
            let follower = tokio::spawn(boards.clone().follow(
                store.wake().subscribe(),
                Duration::from_secs(1),
                Duration::from_secs(3600),
                stop_rx.clone(),
            ));
            (Some(running), Some(follower), None)
        }
        Asker::Http { .. } => {
            let relay = store
                .wake()
                .spawn_notify_relay(store.pool().clone(), Duration::from_millis(5));
            (None, None, Some(relay))
        }
    };
    let writers = 8u32;
    let mut background = Vec::new();
    for w in 0..writers {
        let (store, pop, mut stop) = (store.clone(), pop.clone(), stop_rx.clone());
        let mut rng = StdRng::seed_from_u64(p.seed ^ (0xB0 + u64::from(w)));
        let period = Duration::from_secs_f64(f64::from(writers) / f64::from(p.award_rate.max(1)));
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            while !*stop.borrow() {
                tokio::select! { _ = tick.tick() => {}, _ = stop.changed() => break }
                let member = pop.all[rng.gen_range(0..pop.all.len())];
                append(&store, pop.program, award_event(member, 10, &mut rng)).await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    let mut stale = latency_histogram();
    for _ in 0..p.staleness_samples {
        let (member, init) = match pop.callers.is_empty() {
            true => (pop.all[rng.gen_range(0..pop.all.len())], ""),
            false => {
                let (m, i) = &pop.callers[rng.gen_range(0..pop.callers.len())];
                (*m, i.as_str())
            }
        };
        let before = asker
            .my_score(pop, pop.all_key, member, init)
            .await?
            .context("member missing")?;
        let started = Instant::now();
        append(store, pop.program, award_event(member, 5_000, rng)).await?;
        loop {
            let now = asker
                .my_score(pop, pop.all_key, member, init)
                .await?
                .context("member missing")?;
            if now >= before + 5_000 {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(10),
                "an award did not show within 10 s"
            );
            // Not a spin: on 2 cores a spinning prober takes a core from what it measures.
            tokio::time::sleep(STALENESS_POLL).await;
        }
        stale.record(started.elapsed().as_micros() as u64)?;
    }
    let _ = stop_tx.send(true);
    for task in background {
        task.await??;
    }
    if let Some(follower) = follower {
        follower.await?;
    }
    if let Some(relay) = relay {
        relay.abort();
    }
    let visible_p99_ms = match running {
        Some(running) => {
            for handle in running.handles {
                handle.await?;
            }
            Some(running.stats.snapshot().visible_p99_ms)
        }
        None => None,
    };
    Ok((stale, visible_p99_ms))
}
