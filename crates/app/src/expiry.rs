//! The expiry job: follows the log to keep `expiry_queue` (every member holding credits that
//! may expire, and when to look at them next), and at each pass asks `Ledger::keep_expiry` for
//! the members whose time has come: it expires their due lots and warns them of what expires
//! soon, then notes when to look again (or drops the member when nothing is left to expire).
//!
//! One job at a time across processes (a transaction-scoped advisory lock, one transaction per
//! batch of the log and per program's due members). Its place in the log and the queue's rows
//! move in the transaction that holds the lock, so a job killed midway reads and looks again; what it appended stays, and is not appended twice: each lot expires
//! under a command named by the lot, and a second warning within a week decides nothing.

use crate::ledger::Ledger;
use crate::periodic::Batch;
use crate::{AppError, ExpiryLook};
use chrono::{DateTime, Utc};
use domain::ids::{MemberId, ProgramId};
use domain::{Event, Timestamp};
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, BTreeSet};
use store::Checkpoint;
use tokio::sync::watch;
use uuid::Uuid;

/// Events read per batch.
const READ_BATCH: i64 = 1_000;
/// What the job reads while no program's points expire: expiry can only arrive with rules.
const RULES: [&str; 1] = ["RulesChanged"];
/// Credits as stored in `events.event_type` (a `PointsAdjusted` only when it adds): each opens a
/// lot, so the job reads them (and rules) while some program's points expire.
const CREDITS: [&str; 7] = [
    "PointsAwarded",
    "AwardRestored",
    "HeldAwardApproved",
    "PointsAdjusted",
    "PointsMovedIn",
    "RedemptionCancelled",
    "RaffleTicketRefunded",
];
/// Batches per pass at most, so one pass cannot run for ever behind a busy log.
const MAX_BATCHES: usize = 50;
/// Members looked at per program per pass at most; the rest wait for the next pass.
const MAX_MEMBERS: i64 = 1_000;
/// How often the job runs: expiry is due to the day, not the second.
const POLL: std::time::Duration = std::time::Duration::from_secs(10);

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// False when another process held the job's lock.
    pub ran: bool,
    /// Events read from the log.
    pub events: usize,
    /// Members looked at.
    pub looked: usize,
    /// Lots expired.
    pub expired: usize,
    /// Warnings given.
    pub warned: usize,
}

/// One pass at `now`: the log since the job's place, a batch at a time up to the head (or
/// [`MAX_BATCHES`]), then the members due by `now`, a program at a time.
pub async fn keep_once(ledger: &Ledger, pool: &PgPool, now: Timestamp) -> Result<Pass, AppError> {
    let mut pass = Pass::default();
    for _ in 0..MAX_BATCHES {
        match follow_batch(ledger, pool, &mut pass).await? {
            Batch::Locked => return Ok(pass),
            Batch::AtHead => break,
            Batch::More => {}
        }
    }
    for program in crate::reads::programs(ledger.store()).await? {
        let program = ProgramId(program.program_id);
        if ledger.program(program).await?.rules.expiry.is_off() {
            continue;
        }
        if !look_at_due(ledger, pool, program, now, &mut pass).await? {
            break;
        }
    }
    Ok(pass)
}

/// One batch of the log in one transaction: the queue rows it changes and the job's place
/// move together. A transaction per batch, so a job far behind (a restored log, a long
/// outage) commits its progress as it goes and never holds one open for minutes.
async fn follow_batch(ledger: &Ledger, pool: &PgPool, pass: &mut Pass) -> Result<Batch, AppError> {
    let mut tx = pool.begin().await?;
    if !crate::periodic::try_lock(&mut tx, "loyalty.expiry").await? {
        return Ok(Batch::Locked);
    }
    pass.ran = true;
    sqlx::query("INSERT INTO expiry_keeper (id) VALUES (true) ON CONFLICT DO NOTHING")
        .execute(&mut *tx)
        .await?;
    let (tx_id, position): (i64, i64) = sqlx::query_as("SELECT tx_id, position FROM expiry_keeper")
        .fetch_one(&mut *tx)
        .await?;
    let mut read_upto = Checkpoint { tx_id, position };
    let head = ledger.store().head().await?;
    // While no program's points expire, credits are not read at all: a program that turns
    // expiry on has its members found in the log once, then.
    let any_on = ledger.any_program(|r| !r.expiry.is_off()).await?;
    let types: Vec<&str> = match any_on {
        true => CREDITS.iter().chain(&RULES).copied().collect(),
        false => RULES.to_vec(),
    };
    let batch = ledger
        .store()
        .read_types_as::<Event>(read_upto, head, &types, READ_BATCH)
        .await?;
    let mut next = Batch::after(batch.len(), READ_BATCH);
    // The earliest credit read per member: a lower bound of their oldest unspent one.
    let mut credits: BTreeMap<(Uuid, MemberId), Timestamp> = BTreeMap::new();
    let mut rules_changed = BTreeSet::new();
    let mut turned_on = BTreeSet::new();
    for envelope in &batch {
        read_upto = envelope.checkpoint();
        pass.events += 1;
        match &envelope.event {
            Event::RulesChanged {
                program_id,
                version,
                rules,
                ..
            } => {
                // This process may hold the rules of before the change (another made it).
                ledger.forget_program(*program_id);
                rules_changed.insert(*program_id);
                if turns_expiry_on(ledger, *program_id, *version, rules).await? {
                    turned_on.insert(*program_id);
                    if !any_on {
                        // Only rules were read so far: the next batch reads on from here with
                        // the credits.
                        next = Batch::More;
                        break;
                    }
                }
            }
            credit => {
                if let Some((member, delta)) = credit.balance_delta()
                    && delta > 0
                {
                    let at = credit.at();
                    let earliest = credits.entry((envelope.program_id, member)).or_insert(at);
                    *earliest = (*earliest).min(at);
                }
            }
        }
    }
    if matches!(next, Batch::AtHead) {
        read_upto = read_upto.max(head);
    }
    note_credits(ledger, &mut tx, &credits).await?;
    for program in turned_on {
        find_credited(&mut tx, program, head).await?;
    }
    for program in rules_changed {
        look_again(ledger, &mut tx, program).await?;
    }
    sqlx::query("UPDATE expiry_keeper SET tx_id = $1, position = $2")
        .bind(read_upto.tx_id)
        .bind(read_upto.position)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(next)
}

/// Looks at up to [`MAX_MEMBERS`] members of `program` due by `now`, in one transaction that
/// holds the job's lock (false when another process holds it).
async fn look_at_due(
    ledger: &Ledger,
    pool: &PgPool,
    program: ProgramId,
    now: Timestamp,
    pass: &mut Pass,
) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    if !crate::periodic::try_lock(&mut tx, "loyalty.expiry").await? {
        return Ok(false);
    }
    pass.ran = true;
    let due: Vec<Uuid> = sqlx::query_scalar(
        "SELECT member_id FROM expiry_queue WHERE program_id = $1 AND look_at <= $2 \
         ORDER BY look_at LIMIT $3",
    )
    .bind(program.0)
    .bind(now.get())
    .bind(MAX_MEMBERS)
    .fetch_all(&mut *tx)
    .await?;
    for member in due {
        pass.looked += 1;
        let look = match ledger.keep_expiry(MemberId(member), now).await {
            Ok(look) => look,
            // A member the domain refuses is no reason to hold everyone else back; they are
            // looked at again on the next pass.
            Err(AppError::Denied(refusal)) => {
                tracing::warn!(%member, %refusal, "expiry: member not looked at");
                continue;
            }
            Err(failure) => return Err(failure),
        };
        pass.expired += look.expired;
        pass.warned += usize::from(look.warned);
        note_look(&mut tx, program, MemberId(member), look).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// `expiry_queue` rows as columns: program, member, oldest credit, when to look.
#[derive(Default)]
struct QueueRows(
    Vec<Uuid>,
    Vec<Uuid>,
    Vec<DateTime<Utc>>,
    Vec<Option<DateTime<Utc>>>,
);

/// Whether rules version `version` makes points expire where the version before did not.
async fn turns_expiry_on(
    ledger: &Ledger,
    program: ProgramId,
    version: u32,
    rules: &domain::program::Rules,
) -> Result<bool, AppError> {
    if rules.expiry.is_off() {
        return Ok(false);
    }
    let before = crate::reads::rules_before(ledger.store(), program, version).await?;
    Ok(before.is_none_or(|r| r.expiry.is_off()))
}

/// Puts every member the program ever credited (up to `upto`) in the queue with their first
/// credit, to be looked at now: one scan of the program's log when it turns expiry on, since
/// credits are not followed while no program's points expire.
async fn find_credited(
    tx: &mut PgConnection,
    program: ProgramId,
    upto: Checkpoint,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO expiry_queue AS q (program_id, member_id, oldest_lot_at, look_at) \
         SELECT $1, (payload->>'member_id')::uuid, min((payload->>'at')::timestamptz), \
                min((payload->>'at')::timestamptz) \
         FROM events WHERE program_id = $1 AND event_type = ANY($2) \
           AND (event_type <> 'PointsAdjusted' OR (payload->>'delta')::bigint > 0) \
           AND (tx_id, position) <= ($3, $4) \
         GROUP BY 2 \
         ON CONFLICT (program_id, member_id) DO UPDATE SET \
         oldest_lot_at = LEAST(q.oldest_lot_at, EXCLUDED.oldest_lot_at), \
         look_at = LEAST(q.look_at, EXCLUDED.look_at)",
    )
    .bind(program.0)
    .bind(&CREDITS[..])
    .bind(upto.tx_id)
    .bind(upto.position)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Adds the members who were credited to the queue, or moves their look earlier when a credit
/// is older than what the queue holds (rows that need no change are not written).
async fn note_credits(
    ledger: &Ledger,
    tx: &mut PgConnection,
    credits: &BTreeMap<(Uuid, MemberId), Timestamp>,
) -> Result<(), AppError> {
    if credits.is_empty() {
        return Ok(());
    }
    let mut rows = QueueRows::default();
    for ((program, member), earned_at) in credits {
        let rules = ledger.program(ProgramId(*program)).await?.rules.expiry;
        rows.0.push(*program);
        rows.1.push(member.0);
        rows.2.push(earned_at.get());
        rows.3
            .push(rules.first_look(*earned_at).map(Timestamp::get));
    }
    sqlx::query(
        "INSERT INTO expiry_queue AS q (program_id, member_id, oldest_lot_at, look_at) \
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[]) \
         ON CONFLICT (program_id, member_id) DO UPDATE SET \
         oldest_lot_at = LEAST(q.oldest_lot_at, EXCLUDED.oldest_lot_at), \
         look_at = LEAST(q.look_at, EXCLUDED.look_at) \
         WHERE EXCLUDED.oldest_lot_at < q.oldest_lot_at \
         OR EXCLUDED.look_at < q.look_at OR (q.look_at IS NULL AND EXCLUDED.look_at IS NOT NULL)",
    )
    .bind(&rows.0)
    .bind(&rows.1)
    .bind(&rows.2)
    .bind(&rows.3)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// After a program's rules changed: every member of it is looked at again from their oldest
/// credit (a shorter period may have made points due), or never while points do not expire.
async fn look_again(
    ledger: &Ledger,
    tx: &mut PgConnection,
    program: ProgramId,
) -> Result<(), AppError> {
    let off = ledger.program(program).await?.rules.expiry.is_off();
    sqlx::query(
        "UPDATE expiry_queue SET look_at = CASE WHEN $2 THEN NULL ELSE oldest_lot_at END \
         WHERE program_id = $1",
    )
    .bind(program.0)
    .bind(off)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Notes what looking at a member found: when to look next, or nothing left to expire.
async fn note_look(
    tx: &mut PgConnection,
    program: ProgramId,
    member: MemberId,
    look: ExpiryLook,
) -> Result<(), AppError> {
    match look.oldest_lot_at {
        Some(oldest) => {
            sqlx::query(
                "UPDATE expiry_queue SET oldest_lot_at = $3, look_at = $4 \
                 WHERE program_id = $1 AND member_id = $2",
            )
            .bind(program.0)
            .bind(member.0)
            .bind(oldest.get())
            .bind(look.look_at.map(Timestamp::get))
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM expiry_queue WHERE program_id = $1 AND member_id = $2")
                .bind(program.0)
                .bind(member.0)
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(())
}

/// Passes every [`POLL`] until `shutdown`.
pub async fn run(ledger: Ledger, pool: PgPool, shutdown: watch::Receiver<bool>) {
    let (ledger, pool) = (&ledger, &pool);
    crate::periodic::every(POLL, shutdown, move || async move {
        match keep_once(ledger, pool, Timestamp::new(Utc::now())).await {
            Ok(pass) if pass.expired + pass.warned > 0 => {
                tracing::info!(
                    expired = pass.expired,
                    warned = pass.warned,
                    looked = pass.looked,
                    "expiry: points expired or members warned"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expiry pass failed; trying again"),
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
