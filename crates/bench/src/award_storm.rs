//! W1 award-storm: the command path. Load a member's state, decide (idempotency and a daily
//! cap), append with optimistic concurrency; then replay every member from the log.

use super::{latency_histogram, ms, round2, run_nonce, workload_database};
use app::{Ledger, LedgerConfig, ManagerAction, Outcome};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::ids::{EntryId, MemberId, ProgramId};
use domain::member::{Award, AwardLimits, MemberCommand, MemberState};
use domain::network::{ActivityKind, ActivityRef, Network};
use domain::points::Points;
use domain::program::Rules;
use domain::{Aggregate, Event, StreamId};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use store::{EventStore, LogCopy, LogRow, Metadata};
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Params {
    #[arg(long, default_value_t = 10_000)]
    pub members: usize,
    #[arg(long, default_value_t = 100_000)]
    pub commands: usize,
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Run on top of this large log (from `loyalty bench large-log`) instead of an empty one:
    /// a new program each run, and no replay of the whole log at the end.
    #[arg(long, value_name = "DATABASE")]
    pub on_log: Option<String>,
}

const POINTS_PER_AWARD: i64 = 10;
const DAILY_CAP: i64 = 100_000;

pub async fn run(database_url: &str, p: Params) -> anyhow::Result<serde_json::Value> {
    let (pool, _) = workload_database(
        database_url,
        "loyalty_bench_award_storm",
        p.on_log.as_deref(),
    )
    .await?;
    let log_before: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    let store = EventStore::new(pool);
    let ledger = Ledger::new(store.clone(), LedgerConfig::default());
    let seed = match p.on_log {
        Some(_) => p.seed ^ run_nonce(),
        None => p.seed,
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let program_id = Uuid::from_u128(rng.r#gen());
    let members: Vec<MemberId> = (0..p.members)
        .map(|_| MemberId(Uuid::from_u128(rng.r#gen())))
        .collect();
    let start: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 11, 2, 6, 0, 0)
        .single()
        .unwrap_or_default();

    // The program first, as in any installation: the log stays a ledger the jobs of `serve`
    // can follow (the expiry job looks up the rules of every program it sees credited).
    let action = ManagerAction {
        manager: "bench".into(),
        request_id: domain::ids::derived_id(&format!("bench-program-{program_id}")),
        at: start.into(),
    };
    ledger
        .create_program(
            ProgramId(program_id),
            "Bench",
            chrono_tz::UTC,
            Rules::standard(),
            &action,
        )
        .await?;
    register_all(&ledger, program_id, &members, start, p.concurrency).await?;

    let commands: Arc<Vec<(MemberId, Award)>> = Arc::new(
        (0..p.commands)
            .map(|i| {
                let member = members[rng.gen_range(0..members.len())];
                let at = start + Duration::milliseconds(i as i64);
                (member, award(program_id, i, at))
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..p.concurrency.max(1) {
        let (ledger, commands, next) = (ledger.clone(), commands.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = latency_histogram();
            let mut retries = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((member, award)) = commands.get(i) else {
                    break;
                };
                let t = Instant::now();
                let outcome = ledger
                    .execute::<MemberState>(
                        program_id,
                        award.entry_id.0,
                        Metadata::default(),
                        &StreamId::Member(*member),
                        |state| state.decide(MemberCommand::Award(award.clone())),
                    )
                    .await?;
                let _ = hist.record(t.elapsed().as_micros() as u64);
                if !matches!(outcome, Outcome::Recorded { .. }) {
                    anyhow::bail!("award {i} was not recorded: {outcome:?}");
                }
                retries += u64::from(outcome.retries());
            }
            Ok::<_, anyhow::Error>((hist, retries))
        }));
    }
    let mut hist = latency_histogram();
    let mut retries = 0;
    for task in tasks {
        let (h, r) = task.await??;
        hist.add(h)?;
        retries += r;
    }
    let secs = began.elapsed().as_secs_f64();

    // Every command recorded once: on an empty log by replaying it all; on a large log (where
    // that replay is W3's measure) by counting this run's awards.
    let expected = POINTS_PER_AWARD * p.commands as i64;
    let (replayed, replay_per_s) = if p.on_log.is_none() {
        let (replayed, replay_secs, total_balance) = replay(&store).await?;
        anyhow::ensure!(
            total_balance == expected,
            "replayed balances sum to {total_balance}, expected {expected}"
        );
        (Some(replayed), Some(round2(replayed as f64 / replay_secs)))
    } else {
        let awarded: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum((payload->>'points')::bigint), 0)::bigint FROM events \
             WHERE program_id = $1 AND event_type = 'PointsAwarded'",
        )
        .bind(program_id)
        .fetch_one(store.pool())
        .await?;
        anyhow::ensure!(
            awarded == expected,
            "awarded {awarded} points, expected {expected}"
        );
        (None, None)
    };

    Ok(json!({
        "workload": "award-storm",
        "log_events_before": log_before,
        "commands": p.commands,
        "secs": round2(secs),
        "cmds_per_s": round2(p.commands as f64 / secs),
        "p50_ms": ms(hist.value_at_quantile(0.50)),
        "p99_ms": ms(hist.value_at_quantile(0.99)),
        "retries": retries,
        "replay_events": replayed,
        "replay_events_per_s": replay_per_s,
    }))
}

fn award(program_id: Uuid, i: usize, occurred_at: DateTime<Utc>) -> Award {
    Award {
        entry_id: EntryId(domain::ids::derived_id(&format!(
            "bench-award-{program_id}-{i}"
        ))),
        activity: ActivityRef {
            network: Network::ALL[i % 3],
            kind: ActivityKind::Comment,
            reference: format!("comment-{i}"),
        },
        points: Points::new(POINTS_PER_AWARD).expect("a valid constant"),
        rule_version: 1,
        campaign_id: None,
        occurred_at: occurred_at.into(),
        limits: AwardLimits {
            time_zone: chrono_tz::UTC,
            daily_cap: Some(DAILY_CAP),
            daily_cap_per_network: None,
            cooldown_seconds: 0,
            review: Default::default(),
        },
        at: occurred_at.into(),
    }
}

async fn register_all(
    ledger: &Ledger,
    program_id: Uuid,
    members: &[MemberId],
    at: DateTime<Utc>,
    concurrency: usize,
) -> anyhow::Result<()> {
    let members = Arc::new(members.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (ledger, members, next) = (ledger.clone(), members.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            while let Some(&member_id) = members.get(next.fetch_add(1, Ordering::Relaxed)) {
                ledger
                    .execute::<MemberState>(
                        program_id,
                        member_id.0,
                        Metadata::default(),
                        &StreamId::Member(member_id),
                        |s| {
                            s.decide(MemberCommand::Register {
                                member_id,
                                program_id: domain::ids::ProgramId(program_id),
                                at: at.into(),
                            })
                        },
                    )
                    .await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// Rebuilds every member's state from the whole log, sequentially, read the way the auditor
/// reads it (`store::LogCopy`: binary COPY in log order, rows written over one reused row).
async fn replay(store: &EventStore) -> anyhow::Result<(usize, f64, i64)> {
    let began = Instant::now();
    let mut states: HashMap<MemberId, MemberState> = HashMap::new();
    let mut tx = store.pool().begin().await?;
    let mut log = LogCopy::start(&mut tx).await?;
    let mut row = LogRow::default();
    let mut count = 0;
    while log.next_into(&mut row).await? {
        let event: Event = serde_json::from_str(&row.payload)?;
        if let StreamId::Member(member) = event.stream() {
            let state = states.entry(member).or_default();
            *state = std::mem::take(state).apply(&event);
        }
        count += 1;
    }
    drop(log);
    tx.rollback().await?;
    let secs = began.elapsed().as_secs_f64();
    Ok((count, secs, states.values().map(|s| s.balance).sum()))
}
