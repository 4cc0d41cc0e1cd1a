//! W4 leaderboard-query at the read-model layer: a million members with Zipf-like scores loaded
//! straight into the leaderboard tables, then 64 tasks asking "top 100" and "my rank and my
//! neighbours" (all-time and this week); then, with the projection runners live and awards
//! arriving at a steady rate, how soon an award moves its member's rank.

use super::{fresh_database, latency_histogram, ms, round2};
use anyhow::Context;
use chrono::Utc;
use domain::Event;
use domain::ids::{EntryId, MemberId, ProgramId};
use domain::network::{ActivityKind, ActivityRef, Network};
use hdrhistogram::Histogram;
use projections::ranking::{PeriodKind, around, current_board_key, top};
use projections::runner::{self, RunnerConfig};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use store::{Commit, EventStore, ExpectedVersion, Metadata, StreamAppend};
use uuid::Uuid;

pub struct Params {
    pub members: usize,
    pub concurrency: usize,
    pub requests: usize,
    /// Awards appended per second in the background while staleness is measured.
    pub award_rate: u32,
    pub staleness_samples: usize,
    pub seed: u64,
}

const TZ: chrono_tz::Tz = chrono_tz::Europe::Moscow;
/// Share of members who earned something this week.
const WEEK_SHARE: f64 = 0.4;

struct Boards {
    program: Uuid,
    all: Vec<Uuid>,
    week: Vec<Uuid>,
    week_key: String,
}

pub async fn run(database_url: &str, p: Params) -> anyhow::Result<serde_json::Value> {
    let pool = fresh_database(database_url, "loyalty_bench_leaderboard").await?;
    let store = EventStore::new(pool.clone());
    let mut rng = StdRng::seed_from_u64(p.seed);
    let program = Uuid::from_u128(rng.r#gen());
    append(
        &store,
        program,
        Event::ProgramCreated {
            program_id: ProgramId(program),
            name: "Bench".into(),
            time_zone: TZ,
            at: Utc::now(),
        },
    )
    .await?;
    let boards = Arc::new(load(&pool, &mut rng, program, p.members).await?);

    let (top_hist, rank_hist, secs) = query_load(&pool, &boards, &p).await?;
    let mut all_hist = latency_histogram();
    all_hist.add(&top_hist)?;
    all_hist.add(&rank_hist)?;
    let (stale, visible_p99_ms) = staleness(&store, &boards, &p, &mut rng).await?;

    Ok(json!({
        "workload": "leaderboard",
        "members": p.members,
        "layer": "read-model",
        "requests": all_hist.len(),
        "requests_per_s": round2(all_hist.len() as f64 / secs),
        "p50_ms": ms(all_hist.value_at_quantile(0.50)),
        "p99_ms": ms(all_hist.value_at_quantile(0.99)),
        "top_p99_ms": ms(top_hist.value_at_quantile(0.99)),
        "rank_p99_ms": ms(rank_hist.value_at_quantile(0.99)),
        "staleness_p50_ms": ms(stale.value_at_quantile(0.50)),
        "staleness_p99_ms": ms(stale.value_at_quantile(0.99)),
        "visible_p99_ms": visible_p99_ms,
    }))
}

/// Scores by rank r: about 1,000,000 / r^0.8 with ±10% noise, so ties are common low down.
fn score(rank: usize, rng: &mut StdRng) -> i64 {
    let base = 1_000_000.0 / ((rank + 1) as f64).powf(0.8);
    (base * rng.gen_range(0.9..1.1)).round() as i64
}

async fn load(
    pool: &PgPool,
    rng: &mut StdRng,
    program: Uuid,
    members: usize,
) -> anyhow::Result<Boards> {
    let week_key = current_board_key(PeriodKind::Week, None, TZ, Utc::now());
    let mut boards = Boards {
        program,
        all: Vec::with_capacity(members),
        week: Vec::new(),
        week_key,
    };
    let mut rows = Vec::with_capacity(members * 60);
    let mut histogram: HashMap<(&str, i64), i64> = HashMap::new();
    for rank in 0..members {
        let member = Uuid::from_u128(rng.r#gen());
        let all = score(rank, rng);
        push_row(&mut rows, program, "all", member, all);
        *histogram.entry(("all", all)).or_default() += 1;
        boards.all.push(member);
        if rng.gen_bool(WEEK_SHARE) {
            let week = (all / 20).max(1);
            push_row(&mut rows, program, &boards.week_key, member, week);
            *histogram
                .entry((boards.week_key.as_str(), week))
                .or_default() += 1;
            boards.week.push(member);
        }
    }
    let mut conn = pool.acquire().await?;
    copy(
        &mut conn,
        "COPY leaderboard (program_id, board_key, member_id, score) FROM STDIN",
        &rows,
    )
    .await?;
    rows.clear();
    for ((board, score), members) in &histogram {
        rows.extend_from_slice(format!("{program}\t{board}\t{score}\t{members}\n").as_bytes());
    }
    copy(
        &mut conn,
        "COPY leaderboard_histogram (program_id, board_key, score, members) FROM STDIN",
        &rows,
    )
    .await?;
    // As autovacuum would leave them: statistics, and a visibility map for index-only scans.
    sqlx::query("VACUUM (ANALYZE) leaderboard")
        .execute(&mut *conn)
        .await?;
    sqlx::query("VACUUM (ANALYZE) leaderboard_histogram")
        .execute(&mut *conn)
        .await?;
    Ok(boards)
}

fn push_row(out: &mut Vec<u8>, program: Uuid, board: &str, member: Uuid, score: i64) {
    out.extend_from_slice(format!("{program}\t{board}\t{member}\t{score}\n").as_bytes());
}

async fn copy(conn: &mut sqlx::PgConnection, statement: &str, rows: &[u8]) -> anyhow::Result<()> {
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(rows).await?;
    copy.finish()
        .await
        .context("COPY into the leaderboard failed")?;
    Ok(())
}

/// `concurrency` tasks share `requests` queries: half "top 100", half "my rank and 5 either
/// side", each half all-time or this week, for random members.
async fn query_load(
    pool: &PgPool,
    boards: &Arc<Boards>,
    p: &Params,
) -> anyhow::Result<(Histogram<u64>, Histogram<u64>, f64)> {
    let next = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..p.concurrency.max(1) {
        let (pool, boards, next, total) = (pool.clone(), boards.clone(), next.clone(), p.requests);
        let mut rng = StdRng::seed_from_u64(p.seed ^ (t as u64 + 1));
        tasks.push(tokio::spawn(async move {
            let (mut top_hist, mut rank_hist) = (latency_histogram(), latency_histogram());
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let week = rng.gen_bool(0.5);
                let (board, members) = if week {
                    (boards.week_key.as_str(), &boards.week)
                } else {
                    ("all", &boards.all)
                };
                let started = Instant::now();
                if rng.gen_bool(0.5) {
                    let listed = top(&pool, boards.program, board, 100).await?;
                    anyhow::ensure!(listed.len() == 100, "top 100 returned {}", listed.len());
                    top_hist.record(started.elapsed().as_micros() as u64)?;
                } else {
                    let member = members[rng.gen_range(0..members.len())];
                    let mine = around(&pool, boards.program, board, member, 5).await?;
                    anyhow::ensure!(mine.is_some(), "member {member} is not on board {board}");
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
        occurred_at: now,
        at: now,
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

/// With every projection runner live and awards arriving at `award_rate` per second, appends
/// awards to random members and times until their all-time rank shows the new score.
async fn staleness(
    store: &EventStore,
    boards: &Arc<Boards>,
    p: &Params,
    rng: &mut StdRng,
) -> anyhow::Result<(Histogram<u64>, u64)> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let running = runner::spawn(store, RunnerConfig::default(), stop_rx.clone());
    // Background awards: several writers, each paced to its share of the rate.
    let writers = 8u32;
    let mut background = Vec::new();
    for w in 0..writers {
        let (store, boards, mut stop) = (store.clone(), boards.clone(), stop_rx.clone());
        let mut rng = StdRng::seed_from_u64(p.seed ^ (0xB0 + u64::from(w)));
        let period = Duration::from_secs_f64(f64::from(writers) / f64::from(p.award_rate.max(1)));
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            while !*stop.borrow() {
                tokio::select! { _ = tick.tick() => {}, _ = stop.changed() => break }
                let member = boards.all[rng.gen_range(0..boards.all.len())];
                append(&store, boards.program, award_event(member, 10, &mut rng)).await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    let mut stale = latency_histogram();
    for _ in 0..p.staleness_samples {
        let member = boards.all[rng.gen_range(0..boards.all.len())];
        let before = around(store.pool(), boards.program, "all", member, 0)
            .await?
            .context("member missing")?;
        let started = Instant::now();
        append(store, boards.program, award_event(member, 5_000, rng)).await?;
        loop {
            let now = around(store.pool(), boards.program, "all", member, 0)
                .await?
                .context("member missing")?;
            if now.me.score >= before.me.score + 5_000 {
                break;
            }
            tokio::task::yield_now().await;
        }
        stale.record(started.elapsed().as_micros() as u64)?;
    }
    let _ = stop_tx.send(true);
    for task in background {
        task.await??;
    }
    for handle in running.handles {
        handle.await?;
    }
    let visible_p99_ms = running.stats.snapshot().visible_p99_ms;
    Ok((stale, visible_p99_ms))
}
