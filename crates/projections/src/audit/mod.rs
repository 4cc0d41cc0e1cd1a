//! The auditor's tools: `verify` (every read model against a fold of the whole log through the
//! pure domain, and every stream's hash chain), `as_of` (a member as they stood at a moment)
//! and `export` (the log, filtered, as JSON lines or CSV).

mod as_of;
mod canonical;
mod chain;
mod compare_catalog;
mod compare_ledger;
mod expected;
mod export;
mod findings;
mod models;
mod seal;
mod slice;

pub use as_of::{AsOf, HistoryLine, SeasonAsOf, as_of, write_as_of};
pub use chain::BrokenChain;
pub use export::{ExportFilter, ExportFormat, export};
pub use findings::{
    Difference, DifferenceGroup, DifferenceKind, MAX_LISTED_PER_GROUP, PRINTED_PER_GROUP,
};
pub use seal::{Anchor, BrokenSeal, SealReport, anchor, read_anchor};

use crate::error::{ProjectionError, Result};
use crate::progress::Progress;
use crate::projection::Projection;
use crate::source::{Recorded, Zones};
use chain::ChainCheck;
use domain::Event;
use expected::Expected;
use findings::Findings;
use serde::Serialize;
use slice::Slice;
use sqlx::{PgConnection, PgPool};
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;
use store::{Checkpoint, LogCopy, LogRow};
use uuid::Uuid;

/// Where a projection stood in the snapshot the audit read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditedProjection {
    pub name: &'static str,
    pub tx_id: i64,
    pub position: i64,
    /// Events of the snapshot after its checkpoint (not yet applied, so not compared).
    pub behind: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    pub events: u64,
    pub streams: u64,
    pub secs: f64,
    pub projections: Vec<AuditedProjection>,
    /// Every difference found, hash chain breaks included.
    pub differences_total: u64,
    /// Every model and kind that has differences, with its exact count.
    pub groups: Vec<DifferenceGroup>,
    /// The first [`MAX_LISTED_PER_GROUP`] differences of each group.
    pub differences: Vec<Difference>,
    /// The first broken link of each stream whose chain does not hold.
    pub broken_chains: Vec<BrokenChain>,
    /// The seal's blocks against the events (and the anchor, if one was given).
    pub seal: SealReport,
}

impl VerifyReport {
    /// True when every model matches and every chain holds: the CLI exits non-zero otherwise.
    pub fn is_clean(&self) -> bool {
        self.differences_total == 0
    }

    /// The text report, printing at most [`PRINTED_PER_GROUP`] differences of each group.
    pub fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        self.write_text_limited(out, PRINTED_PER_GROUP)
    }

    /// The text report, printing at most `per_group` differences of each group; the counts
    /// are exact whatever the limit.
    pub fn write_text_limited(&self, out: &mut dyn Write, per_group: usize) -> std::io::Result<()> {
        writeln!(
            out,
            "events {}  streams {}  {:.2}s",
            self.events, self.streams, self.secs
        )?;
        for p in &self.projections {
            writeln!(
                out,
                "  {:<14} at position {:>12}, {} events behind",
                p.name, p.position, p.behind
            )?;
        }
        self.seal.write_text(out)?;
        for g in &self.groups {
            writeln!(out, "{} {}: {}", g.model, g.kind.as_str(), g.count)?;
            let listed = self
                .differences
                .iter()
                .filter(|d| d.model == g.model && d.kind == g.kind);
            let mut printed = 0u64;
            for d in listed.take(per_group) {
                writeln!(
                    out,
                    "DIFF {} {}: expected {}, found {}",
                    d.model, d.key, d.expected, d.actual
                )?;
                printed += 1;
            }
            if g.count > printed {
                writeln!(out, "  and {} more", g.count - printed)?;
            }
        }
        writeln!(out, "{} differences", self.differences_total)
    }
}

/// Rows handed to the fold and hash-chain threads at a time.
const BATCH_ROWS: usize = 4_096;

/// Seal blocks read ahead of the hash-chain thread (about 2 MB).
const BLOCKS_AHEAD: usize = 128;

type Batch = Arc<Vec<LogRow>>;

/// Members whose state one pass over the log holds (balances, open lots, tiers, leaderboard
/// scores, their streams' chain heads): about 1.7 KB a member, some 0.7 GB, beside what the
/// first pass holds for everything else (1.4 GB at 30 million events). A log with more members
/// is audited in more passes ([`slice`]).
pub const MEMBERS_PER_PASS: u64 = 400_000;

/// Folds the whole log and compares every read model with it, all in one snapshot of the
/// database (so it can run beside live projections), and checks every stream's hash chain.
/// Three things run side by side: the fold, the hash chains, and reading the models.
pub async fn verify(pool: &PgPool) -> Result<VerifyReport> {
    verify_with(pool, None, &Progress::default(), MEMBERS_PER_PASS).await
}

/// [`verify`], counting the events read into `progress`; with an `anchor`, the log's seal
/// recomputed up to the anchor's block must reach its digest. Members past `members_per_pass`
/// take another pass over the log each.
pub async fn verify_with(
    pool: &PgPool,
    anchor: Option<&Anchor>,
    progress: &Progress,
    members_per_pass: u64,
) -> Result<VerifyReport> {
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await?;
    progress.expect_log(&mut tx).await?;
    let mut models_tx = in_snapshot(pool, &snapshot).await?;
    let stored: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT name, tx_id, position FROM projection_checkpoints")
            .fetch_all(&mut *tx)
            .await?;
    let mut checkpoints = [Checkpoint::default(); Projection::ALL.len()];
    for p in Projection::ALL {
        if let Some((_, tx_id, position)) = stored.iter().find(|(n, ..)| n == p.name()) {
            checkpoints[p.index()] = Checkpoint {
                tx_id: *tx_id,
                position: *position,
            };
        }
    }
    let zone_rows: Vec<(Uuid, Option<String>)> = sqlx::query_as(
        "SELECT program_id, payload->>'time_zone' FROM events WHERE event_type = 'ProgramCreated' ORDER BY position DESC",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut zones = Zones::default();
    for (program, zone) in zone_rows {
        if let Some(tz) = zone.and_then(|z| z.parse().ok()) {
            zones.insert(program, tz);
        }
    }
    // The members the balances model counts: a wrong count costs memory or time, never a
    // finding, since every pass compares its own slice of the members.
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM balances")
        .fetch_one(&mut *models_tx)
        .await?;
    let passes = Slice::count_for(u64::try_from(members).unwrap_or_default(), members_per_pass);
    let mut findings = Findings::default();
    let mut first = None;
    let mut streams = 0;
    let mut broken_chains = Vec::new();
    for index in 0..passes {
        let slice = Slice {
            index,
            count: passes,
        };
        let exp = Expected::new(checkpoints, zones.clone(), slice);
        let pass = fold_pass(&mut tx, models_tx, anchor, exp, findings, progress).await?;
        let mut exp = pass.exp;
        findings = pass.findings;
        models_tx = pass.models_tx;
        compare_models(&mut models_tx, &mut exp, &mut findings).await?;
        drop(exp);
        let (checked, broken, seal) = pass
            .chains
            .await
            .map_err(|e| ProjectionError::Invalid(format!("the hash chain check failed: {e}")))?;
        streams += checked;
        broken_chains.extend(broken);
        if slice.is_first() {
            first = Some((pass.behind, pass.events, seal));
            progress.expect_more(pass.events * u64::from(passes - 1));
        }
    }
    tx.rollback().await?;
    models_tx.rollback().await?;
    let Some((behind, events, Some(seal))) = first else {
        return Err(ProjectionError::Invalid(
            "the first pass checked no seal".into(),
        ));
    };
    broken_chains.sort_by(|a, b| {
        a.position
            .cmp(&b.position)
            .then(a.stream_id.cmp(&b.stream_id))
    });
    for b in &broken_chains {
        let found = format!(
            "broken at position {} (version {}): {}",
            b.position, b.stream_version, b.reason
        );
        findings.push(
            "hash_chain",
            DifferenceKind::Changed,
            &b.stream_id,
            "an unbroken chain",
            found,
        );
    }
    for b in &seal.broken {
        let found = format!("position {}: {}", b.position, b.reason);
        findings.push(
            "log_seal",
            DifferenceKind::Changed,
            format!("block {}", b.block),
            "the sealed events",
            found,
        );
    }
    Ok(VerifyReport {
        events,
        streams,
        secs: started.elapsed().as_secs_f64(),
        projections: Projection::ALL
            .into_iter()
            .map(|p| {
                let at = checkpoints[p.index()];
                AuditedProjection {
                    name: p.name(),
                    tx_id: at.tx_id,
                    position: at.position,
                    behind: behind[p.index()],
                }
            })
            .collect(),
        differences_total: findings.total,
        groups: findings.groups(),
        differences: findings.list,
        broken_chains,
        seal,
    })
}

type ModelsTx = sqlx::Transaction<'static, sqlx::Postgres>;

/// The models' connection during a pass: lent to the task reading the seal, or kept idle.
enum ModelsConn {
    Lent(tokio::task::JoinHandle<Result<ModelsTx>>),
    Kept(ModelsTx),
}

/// What one pass over the log leaves: the fold of its slice, and the hash-chain thread, which
/// may still be finishing while the models are compared.
struct Pass {
    exp: Expected,
    findings: Findings,
    behind: [u64; Projection::ALL.len()],
    events: u64,
    models_tx: ModelsTx,
    chains: tokio::task::JoinHandle<(u64, Vec<BrokenChain>, Option<SealReport>)>,
}

/// One pass over the log for `exp`'s slice: this task reads rows; one thread folds them, one
/// checks the hash chains (and, in the first pass, the seal). Batches come back here to be
/// written over: no allocation per row.
async fn fold_pass(
    log: &mut PgConnection,
    models_tx: ModelsTx,
    anchor: Option<&Anchor>,
    exp: Expected,
    findings: Findings,
    progress: &Progress,
) -> Result<Pass> {
    let slice = exp.slice;
    // Async senders: a full channel yields to the task reading the seal's blocks, which the
    // chain thread may be waiting for (a blocking send could stall a one-thread runtime).
    let (chain_tx, chain_rx) = tokio::sync::mpsc::channel::<Batch>(4);
    let (fold_tx, fold_rx) = tokio::sync::mpsc::channel::<Batch>(4);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Batch>();
    // The first pass reads the seal's blocks beside the log a page at a time, on the models'
    // connection (idle until the fold is done), which comes back when every block is sent.
    let (models, block_rx) = if slice.is_first() {
        let (block_tx, block_rx) = tokio::sync::mpsc::channel(BLOCKS_AHEAD);
        let task = tokio::spawn(seal::read_blocks(models_tx, block_tx));
        (ModelsConn::Lent(task), Some(block_rx))
    } else {
        (ModelsConn::Kept(models_tx), None)
    };
    let chains = tokio::task::spawn_blocking({
        let done = done_tx.clone();
        let anchor = anchor.cloned();
        move || {
            let seal = block_rx.map(|blocks| seal::SealCheck::new(blocks, anchor));
            check_chains(chain_rx, done, seal, slice)
        }
    });
    let fold = tokio::task::spawn_blocking(move || fold_rows(exp, findings, fold_rx, done_tx));
    {
        let mut log = LogCopy::start(log).await?;
        let mut spare: Vec<Vec<LogRow>> = Vec::new();
        loop {
            let mut batch = spare.pop().unwrap_or_default();
            let mut filled = 0;
            while filled < BATCH_ROWS {
                if filled == batch.len() {
                    batch.push(LogRow::default());
                }
                if !log.next_into(&mut batch[filled]).await? {
                    break;
                }
                filled += 1;
            }
            batch.truncate(filled);
            if batch.is_empty() {
                break;
            }
            progress.advance(batch.len() as u64);
            let full = Arc::new(batch);
            if fold_tx.send(full.clone()).await.is_err() || chain_tx.send(full).await.is_err() {
                break;
            }
            while let Ok(checked) = done_rx.try_recv() {
                if let Ok(rows) = Arc::try_unwrap(checked) {
                    spare.push(rows);
                }
            }
        }
    }
    drop((chain_tx, fold_tx));
    let (exp, findings, behind, events) = fold
        .await
        .map_err(|e| ProjectionError::Invalid(format!("the fold failed: {e}")))?;
    let models_tx = match models {
        ModelsConn::Lent(task) => task
            .await
            .map_err(|e| ProjectionError::Invalid(format!("reading the seal failed: {e}")))??,
        ModelsConn::Kept(tx) => tx,
    };
    Ok(Pass {
        exp,
        findings,
        behind,
        events,
        models_tx,
        chains,
    })
}

async fn in_snapshot(
    pool: &PgPool,
    snapshot: &str,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "SET TRANSACTION SNAPSHOT '{}'",
        snapshot.replace('\'', "")
    ))
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}

/// Reads each model and compares it with the fold, one after another and row by row as the rows
/// arrive: each row takes what it matched out of the expected models, so the audit holds the
/// fold's expectations and of the models' rows only one campaign's codeword redemptions. (Read
/// beside the fold instead, every model and its expectation were held at once: 2.5 GB at 10
/// million events.)
async fn compare_models(
    conn: &mut PgConnection,
    exp: &mut Expected,
    out: &mut Findings,
) -> Result<()> {
    use compare_catalog as catalog;
    use compare_ledger as ledger;
    use models::*;
    each_row(conn, BALANCES, |row| ledger::balance(exp, out, row)).await?;
    ledger::balances_left(exp, out);
    each_row(conn, TIERS, |row| ledger::tier(exp, out, row)).await?;
    ledger::tiers_left(exp, out);
    ledger::expiries(exp, out);
    let mut boards = ledger::BoardCheck::default();
    each_board_row(conn, |program, key, member, score| {
        boards.row(exp, out, (program, key, member, score));
    })
    .await?;
    ledger::BoardCheck::finish(exp, out);
    if !exp.slice.is_first() {
        return Ok(());
    }
    each_row(conn, SEASONS, |row| ledger::season(exp, out, row)).await?;
    each_row(conn, SEASON_SCORES, |row| {
        ledger::season_score(exp, out, row)
    })
    .await?;
    ledger::seasons_left(exp, out);
    each_row(conn, CAMPAIGNS, |row| catalog::campaign(exp, out, row)).await?;
    catalog::campaigns_left(exp, out);
    let mut codewords = catalog::Codewords::default();
    each_row(conn, CODEWORDS, |row| codewords.row(exp, out, row)).await?;
    codewords.finish(exp, out);
    each_row(conn, REWARDS, |row| catalog::reward(exp, out, row)).await?;
    catalog::rewards_left(exp, out);
    each_row(conn, REDEMPTIONS, |row| catalog::redemption(exp, out, row)).await?;
    catalog::redemptions_left(exp, out);
    each_row(conn, IDENTITIES, |row| catalog::identity(exp, out, row)).await?;
    catalog::identities_left(exp, out);
    each_row(conn, ADJUSTMENTS, |row| catalog::adjustment(exp, out, row)).await?;
    catalog::adjustments_left(exp, out);
    each_row(conn, ACTIONS, |row| catalog::action(exp, out, row)).await?;
    catalog::actions_left(exp, out);
    each_row(conn, HELD, |row| catalog::held(exp, out, row)).await?;
    catalog::held_left(exp, out);
    each_row(conn, DAILY, |row| catalog::day(exp, out, row)).await?;
    catalog::daily_stats_left(exp, out);
    Ok(())
}

/// The expected models, folded from the rows in log order; with the decoding failures, how
/// many events each projection has yet to apply, and the number of events.
fn fold_rows(
    mut exp: Expected,
    mut findings: Findings,
    mut rows: tokio::sync::mpsc::Receiver<Batch>,
    done: std::sync::mpsc::Sender<Batch>,
) -> (Expected, Findings, [u64; Projection::ALL.len()], u64) {
    let slice = exp.slice;
    let checkpoints = exp.checkpoints();
    let mut behind = [0u64; Projection::ALL.len()];
    let mut events = 0u64;
    while let Some(batch) = rows.blocking_recv() {
        for row in batch.iter() {
            // Later passes skip, undecoded, what their slice does not fold.
            if !slice.folds_row(&row.stream_id, &row.event_type) {
                continue;
            }
            if slice.is_first() {
                events += 1;
            }
            let decoded =
                store::upcast::decode_str(row.schema_version, row.program_id, &row.payload);
            let event: Event = match decoded {
                Ok(event) => event,
                Err(e) => {
                    if slice.is_first() {
                        findings.push(
                            "events.payload",
                            DifferenceKind::Changed,
                            format!("position {}", row.position),
                            "a known event",
                            e.to_string(),
                        );
                    }
                    continue;
                }
            };
            let r = Recorded {
                tx_id: row.tx_id,
                position: row.position,
                program_id: row.program_id,
                recorded_at: row.recorded_at,
                event,
            };
            if slice.is_first() {
                for (n, at) in behind.iter_mut().zip(&checkpoints) {
                    if r.checkpoint() > *at {
                        *n += 1;
                    }
                }
            }
            exp.apply(&r);
        }
        let _ = done.send(batch);
    }
    (exp, findings, behind, events)
}

/// The hash chains of the slice's streams, and the seal (first pass only) over every row.
fn check_chains(
    mut rows: tokio::sync::mpsc::Receiver<Batch>,
    done: std::sync::mpsc::Sender<Batch>,
    mut seal: Option<seal::SealCheck>,
    slice: Slice,
) -> (u64, Vec<BrokenChain>, Option<SealReport>) {
    let mut chain = ChainCheck::default();
    let mut scratch = canonical::Scratch::default();
    while let Some(batch) = rows.blocking_recv() {
        for row in batch.iter() {
            if let Some(seal) = &mut seal {
                seal.check(row);
            }
            if !slice.holds_stream(&row.stream_id) {
                continue;
            }
            // A payload that is not JSON cannot match its digest: a zero digest breaks the link.
            let digest = canonical::content_digest(
                row.event_id,
                &row.event_type,
                row.schema_version,
                &row.payload,
                &mut scratch,
            )
            .unwrap_or_default();
            chain.check(
                &row.stream_id,
                row.stream_version,
                row.position,
                digest,
                &row.hash,
            );
        }
        let _ = done.send(batch);
    }
    (
        chain.streams() as u64,
        chain.finish(),
        seal.map(seal::SealCheck::finish),
    )
}
