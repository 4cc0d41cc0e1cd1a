//! The tier keeper: follows the log and places members on their program's ladder
//! (`Ledger::evaluate_tier`) after anything that changes the points they qualify with, after a
//! manager changes the ladder (every member who may stand on it), and, for a ladder counted over
//! a rolling window, every hour for the members on it (their oldest points age out).
//!
//! One keeper at a time across processes (a transaction-scoped advisory lock, one transaction
//! per batch of the log); its place in the log (`tier_keeper`) moves only after the members of
//! the batch were placed, so a keeper killed in between reads them again, and since a placement records a move only when the member stands
//! elsewhere, nothing moves twice.

use crate::ledger::Ledger;
use crate::periodic::Batch;
use crate::{AppError, Outcome};
use chrono::{DateTime, Duration, Utc};
use domain::ids::{MemberId, ProgramId};
use domain::{Event, Timestamp};
use sqlx::PgPool;
use std::collections::BTreeSet;
use store::Checkpoint;
use tokio::sync::watch;
use uuid::Uuid;

/// Events read per batch.
const READ_BATCH: i64 = 1_000;
/// What the keeper reads of the log while some program has a ladder: the events that change
/// what a member earned (every `Event::balance_delta` but spending and refunds) and rules.
const EARNING_AND_RULES: [&str; 8] = [
    "PointsAwarded",
    "PointsReversed",
    "AwardRestored",
    "HeldAwardApproved",
    "PointsAdjusted",
    "PointsMovedOut",
    "PointsMovedIn",
    "RulesChanged",
];
/// ... and while none has: a ladder can only arrive with rules.
const RULES: [&str; 1] = ["RulesChanged"];
/// Batches per pass at most, so one pass cannot run for ever behind a busy log.
const MAX_BATCHES: usize = 50;
/// How often rolling-window ladders are swept.
const SWEEP_EVERY_MINUTES: i64 = 60;
/// How often the keeper looks at the log.
const POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// False when another process held the keeper's lock.
    pub ran: bool,
    /// Events read from the log.
    pub events: usize,
    /// Members asked where they stand.
    pub evaluated: usize,
    /// Tier moves recorded.
    pub moved: usize,
}

/// One pass at `now`: the log since the keeper's place, a batch at a time (a window sweep
/// with the first when one is due), until the head or [`MAX_BATCHES`].
pub async fn keep_once(ledger: &Ledger, pool: &PgPool, now: Timestamp) -> Result<Pass, AppError> {
    let mut pass = Pass::default();
    for _ in 0..MAX_BATCHES {
        match keep_batch(ledger, pool, now, &mut pass).await? {
            Batch::Locked | Batch::AtHead => break,
            Batch::More => {}
        }
    }
    Ok(pass)
}

/// One batch in one transaction: the members it names are placed, then the keeper's place
/// moves past it. A transaction per batch, so a keeper far behind (a restored log, a long
/// outage) commits its progress as it goes and never holds one open for minutes.
async fn keep_batch(
    ledger: &Ledger,
    pool: &PgPool,
    now: Timestamp,
    pass: &mut Pass,
) -> Result<Batch, AppError> {
    let mut tx = pool.begin().await?;
    if !crate::periodic::try_lock(&mut tx, "loyalty.tiers").await? {
        return Ok(Batch::Locked);
    }
    pass.ran = true;
    sqlx::query("INSERT INTO tier_keeper (id) VALUES (true) ON CONFLICT DO NOTHING")
        .execute(&mut *tx)
        .await?;
    let (tx_id, position, swept_at): (i64, i64, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT tx_id, position, swept_at FROM tier_keeper")
            .fetch_one(&mut *tx)
            .await?;
    let mut read_upto = Checkpoint { tx_id, position };
    // Without a ladder anywhere, earning moves nobody: the log is only read for ladder changes.
    let any_ladder = ledger.any_program(|r| !r.tiers.is_off()).await?;
    let types: &[&str] = if any_ladder {
        &EARNING_AND_RULES
    } else {
        &RULES
    };
    let head = ledger.store().head().await?;
    let batch = ledger
        .store()
        .read_types_as::<Event>(read_upto, head, types, READ_BATCH)
        .await?;
    let mut next = Batch::after(batch.len(), READ_BATCH);
    let mut members = BTreeSet::new();
    let mut ladders_changed = BTreeSet::new();
    for envelope in &batch {
        read_upto = envelope.checkpoint();
        pass.events += 1;
        // The types read are earning events and rules: any balance change is a member's
        // qualifying points moving.
        if let Some((member, _)) = envelope.event.balance_delta() {
            members.insert(member);
        }
        if let Event::RulesChanged {
            program_id,
            version,
            rules,
            ..
        } = &envelope.event
        {
            // This process may hold the rules of before the change (another made it): the
            // placements below must use the new ladder, which this batch alone sweeps.
            ledger.forget_program(*program_id);
            if ladder_changed(ledger, *program_id, *version, rules).await? {
                ladders_changed.insert(*program_id);
                if !any_ladder {
                    // Only rules were read so far: what follows is read by the next batch,
                    // with the earning events a ladder needs.
                    next = Batch::More;
                    break;
                }
            }
        }
    }
    if matches!(next, Batch::AtHead) {
        read_upto = read_upto.max(head);
    }
    for program in &ladders_changed {
        members.extend(on_or_near_the_ladder(pool, ledger, *program).await?);
    }
    let sweep_due =
        swept_at.is_none_or(|at| now.get() - at >= Duration::minutes(SWEEP_EVERY_MINUTES));
    if sweep_due {
        members.extend(on_window_ladders(pool, ledger).await?);
    }
    for member in members {
        pass.evaluated += 1;
        match ledger.evaluate_tier(member, now).await {
            Ok(Outcome::Recorded { .. }) => pass.moved += 1,
            Ok(_) => {}
            // A member the domain will not place is no reason to hold everyone else back.
            Err(AppError::Denied(refusal)) => {
                tracing::warn!(member = %member.0, %refusal, "tiers: member not placed");
            }
            Err(failure) => return Err(failure),
        }
    }
    sqlx::query(
        "UPDATE tier_keeper SET tx_id = $1, position = $2, \
         swept_at = CASE WHEN $3 THEN $4 ELSE swept_at END",
    )
    .bind(read_upto.tx_id)
    .bind(read_upto.position)
    .bind(sweep_due)
    .bind(now.get())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Whether rules version `version` changed the ladder of the version before it.
async fn ladder_changed(
    ledger: &Ledger,
    program: ProgramId,
    version: u32,
    rules: &domain::program::Rules,
) -> Result<bool, AppError> {
    let before = crate::reads::rules_before(ledger.store(), program, version).await?;
    Ok(before.map(|r| r.tiers).unwrap_or_default() != rules.tiers)
}

/// Members a changed ladder may move: those on a tier now, and those whose lifetime points
/// reach the lowest threshold of the program's ladder (points in a window never exceed them).
async fn on_or_near_the_ladder(
    pool: &PgPool,
    ledger: &Ledger,
    program: ProgramId,
) -> Result<Vec<MemberId>, AppError> {
    let tiers = ledger.program(program).await?.rules.tiers;
    let lowest = tiers.levels.first().map_or(i64::MAX, |l| l.threshold);
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT member_id FROM member_tiers WHERE program_id = $1 \
         UNION SELECT member_id FROM balances WHERE program_id = $1 AND earned >= $2",
    )
    .bind(program.0)
    .bind(lowest)
    .fetch_all(pool)
    .await?;
    Ok(ids.into_iter().map(MemberId).collect())
}

/// Members on a tier of a program whose ladder counts a rolling window (their oldest points
/// may have aged out since the last sweep) or that has no ladder any more.
async fn on_window_ladders(pool: &PgPool, ledger: &Ledger) -> Result<Vec<MemberId>, AppError> {
    let programs: Vec<Uuid> = sqlx::query_scalar("SELECT DISTINCT program_id FROM member_tiers")
        .fetch_all(pool)
        .await?;
    let mut members = Vec::new();
    for program in programs {
        let tiers = ledger.program(ProgramId(program)).await?.rules.tiers;
        if tiers.window_days == 0 && !tiers.is_off() {
            continue;
        }
        let ids: Vec<Uuid> =
            sqlx::query_scalar("SELECT member_id FROM member_tiers WHERE program_id = $1")
                .bind(program)
                .fetch_all(pool)
                .await?;
        members.extend(ids.into_iter().map(MemberId));
    }
    Ok(members)
}

/// Passes every [`POLL`] until `shutdown`. Not woken by appends: a pass per append would cost
/// the database a few queries for each, and a tier may follow its points a moment later.
pub async fn run(ledger: Ledger, pool: PgPool, shutdown: watch::Receiver<bool>) {
    let (ledger, pool) = (&ledger, &pool);
    crate::periodic::every(POLL, shutdown, move || async move {
        match keep_once(ledger, pool, Timestamp::new(Utc::now())).await {
            Ok(pass) if pass.moved > 0 => {
                tracing::info!(
                    moved = pass.moved,
                    evaluated = pass.evaluated,
                    "tiers: members moved"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "tier keeper pass failed; trying again"),
        }
    })
    .await;
}

/// [`run`] on its own task.
pub fn spawn(
    ledger: Ledger,
    pool: PgPool,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(ledger, pool, shutdown))
}
