//! Leaderboard seasons (`domain::season`): managers schedule and cancel them; the season job
//! ends each one once its cutoff has settled, freezing the standings folded from the program's
//! log since the season was scheduled, pays each prize once (its entry derives from season and
//! member) and closes the prizes.
//!
//! One job at a time across processes (a transaction-scoped advisory lock). Every step is
//! named by the season, so a job killed midway, or two at once, end a season once and pay each
//! prize once: the next pass finishes what is left.

use crate::commands::ManagerAction;
use crate::ledger::Ledger;
use crate::reads::decode;
use crate::{AppError, Outcome};
use chrono::Utc;
use domain::ids::{EntryId, ProgramId, SeasonId, derived_id};
use domain::member::MemberState;
use domain::season::{
    SeasonBoard, SeasonCommand, SeasonState, SeasonStatus, SeasonTerms, decide_prize, decide_season,
};
use domain::{DomainError, StreamId, Timestamp};
use sqlx::PgPool;
use store::Metadata;
use tokio::sync::watch;
use uuid::Uuid;

/// How far the database's clock (`recorded_at`) may stand from the clock that decided an
/// event, and how long after the cutoff the job waits so that every event decided before it
/// has committed.
pub const CLOCK_SLACK: std::time::Duration = std::time::Duration::from_secs(300);
/// What a season's board folds, as stored in `events.event_type`.
const COUNTED: [&str; 7] = [
    "PointsAwarded",
    "HeldAwardApproved",
    "PointsAdjusted",
    "PointsReversed",
    "AwardRestored",
    "PointsMovedIn",
    "PointsMovedOut",
];
/// How often the job runs.
const POLL: std::time::Duration = std::time::Duration::from_secs(10);

/// What one call of [`Ledger::keep_season`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeasonStep {
    /// This call froze the standings.
    pub ended: bool,
    /// Prizes this call paid.
    pub paid: usize,
    /// This call closed the prizes.
    pub settled: bool,
}

impl Ledger {
    /// Schedules a season whose id is the manager's request id.
    pub async fn schedule_season(
        &self,
        program_id: ProgramId,
        terms: SeasonTerms,
        action: &ManagerAction,
    ) -> Result<(SeasonId, Outcome), AppError> {
        let season_id = SeasonId(action.request_id);
        let outcome = self
            .execute::<SeasonState>(
                program_id.0,
                action.request_id,
                action.metadata(),
                &StreamId::Season(season_id),
                |s| {
                    decide_season(
                        s,
                        SeasonCommand::Schedule {
                            program_id,
                            season_id,
                            terms: terms.clone(),
                            by: action.manager.clone(),
                            at: action.at,
                        },
                    )
                },
            )
            .await?;
        Ok((season_id, outcome))
    }

    /// Calls a season of the program off before it ends.
    pub async fn cancel_season(
        &self,
        program_id: ProgramId,
        season_id: SeasonId,
        reason: &str,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        self.execute::<SeasonState>(
            program_id.0,
            action.request_id,
            action.metadata(),
            &StreamId::Season(season_id),
            |s| match s.program_id {
                Some(p) if p == program_id => decide_season(
                    s,
                    SeasonCommand::Cancel {
                        reason: reason.to_string(),
                        by: action.manager.clone(),
                        at: action.at,
                    },
                ),
                _ => Err(DomainError::NotFound),
            },
        )
        .await
    }

    /// Takes a season as far as `now` allows: freezes its standings once its cutoff has
    /// settled ([`CLOCK_SLACK`]), pays every prize not paid yet, then closes the prizes.
    pub async fn keep_season(
        &self,
        season_id: SeasonId,
        now: Timestamp,
    ) -> Result<SeasonStep, AppError> {
        let stream = StreamId::Season(season_id);
        let mut step = SeasonStep::default();
        let mut season = self.load::<SeasonState>(&stream).await?.state;
        let (Some(program_id), Some(terms)) = (season.program_id, season.terms.clone()) else {
            return Err(AppError::Denied(DomainError::NotFound));
        };
        if season.status == SeasonStatus::Scheduled {
            if now.get() < terms.cutoff().get() + CLOCK_SLACK {
                return Ok(step);
            }
            let board = Box::new(self.season_board(season_id, program_id, &terms).await?);
            let end = || SeasonCommand::End {
                board: board.clone(),
                at: now,
            };
            step.ended = self.season_step(program_id, season_id, "end", end).await?;
            season = self.load::<SeasonState>(&stream).await?.state;
        }
        if season.status != SeasonStatus::Ended {
            return Ok(step);
        }
        let (mut paid, mut withheld) = (0u32, Vec::new());
        for standing in season.standings.iter().filter(|s| s.prize > 0) {
            let member = standing.member_id;
            let command_id = derived_id(&format!("season-prize/{}/{}", season_id.0, member.0));
            // Paid before (perhaps before the member was blocked): paid, whatever they are now.
            if self
                .store()
                .contains_event(store::codec::event_id(command_id, 0))
                .await?
            {
                paid += 1;
                continue;
            }
            let decided = self
                .execute::<MemberState>(
                    program_id.0,
                    command_id,
                    Metadata::default(),
                    &StreamId::Member(member),
                    |m| decide_prize(&season, m, member, EntryId(command_id), now),
                )
                .await;
            match decided {
                Ok(outcome) => {
                    paid += 1;
                    step.paid += usize::from(matches!(outcome, Outcome::Recorded { .. }));
                }
                Err(AppError::Denied(
                    DomainError::MemberBlocked(_)
                    | DomainError::MemberErased
                    | DomainError::MemberNotRegistered,
                )) => withheld.push(member),
                Err(e) => return Err(e),
            }
        }
        let settle = || SeasonCommand::Settle {
            paid,
            withheld: withheld.clone(),
            at: now,
        };
        step.settled = self
            .season_step(program_id, season_id, "settle", settle)
            .await?;
        Ok(step)
    }

    /// One of the job's own steps of a season, under a command named by the season and the
    /// step, so a step repeated is a duplicate; true when this call recorded it.
    async fn season_step(
        &self,
        program_id: ProgramId,
        season_id: SeasonId,
        step: &str,
        command: impl Fn() -> SeasonCommand,
    ) -> Result<bool, AppError> {
        let command_id = derived_id(&format!("season-{step}/{}", season_id.0));
        let outcome = self
            .execute::<SeasonState>(
                program_id.0,
                command_id,
                Metadata::default(),
                &StreamId::Season(season_id),
                |s| decide_season(s, command()),
            )
            .await?;
        Ok(matches!(outcome, Outcome::Recorded { .. }))
    }

    /// The season's board folded from its program's log, from its scheduling on: what the
    /// projection and the audit fold too.
    pub async fn season_board(
        &self,
        season_id: SeasonId,
        program_id: ProgramId,
        terms: &SeasonTerms,
    ) -> Result<SeasonBoard, AppError> {
        let store = self.store();
        let scheduled = store
            .read_stream(&StreamId::Season(season_id).to_string(), 0)
            .await?;
        let Some(first) = scheduled.first() else {
            return Err(AppError::Denied(DomainError::NotFound));
        };
        let from = first.recorded_at - CLOCK_SLACK;
        let until = terms.cutoff().get() + CLOCK_SLACK;
        let mut board = SeasonBoard::new(season_id, terms.clone());
        store
            .each_program_event(
                program_id.0,
                (from, until),
                &COUNTED,
                first.checkpoint(),
                |recorded| {
                    board.apply(&decode(recorded)?.event);
                    Ok::<_, AppError>(())
                },
            )
            .await?;
        Ok(board)
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// False when another process held the job's lock.
    pub ran: bool,
    /// Seasons ended.
    pub ended: usize,
    /// Prizes paid.
    pub paid: usize,
    /// Seasons whose prizes were closed.
    pub settled: usize,
}

/// One pass at `now`: every season of the read model that is due to end or has prizes left.
pub async fn keep_once(ledger: &Ledger, pool: &PgPool, now: Timestamp) -> Result<Pass, AppError> {
    let mut tx = pool.begin().await?;
    if !crate::periodic::try_lock(&mut tx, "loyalty.seasons").await? {
        return Ok(Pass::default());
    }
    let slack = chrono::Duration::from_std(CLOCK_SLACK).unwrap_or_default();
    let due: Vec<Uuid> = sqlx::query_scalar(
        "SELECT season_id FROM seasons \
         WHERE (status = 'scheduled' AND cutoff <= $1) OR status = 'ended' \
         ORDER BY cutoff, season_id",
    )
    .bind(now.get() - slack)
    .fetch_all(&mut *tx)
    .await?;
    let mut pass = Pass {
        ran: true,
        ..Pass::default()
    };
    for season in due {
        let step = ledger.keep_season(SeasonId(season), now).await?;
        pass.ended += usize::from(step.ended);
        pass.paid += step.paid;
        pass.settled += usize::from(step.settled);
    }
    tx.commit().await?;
    Ok(pass)
}

/// Passes every [`POLL`] until `shutdown`.
pub async fn run(ledger: Ledger, pool: PgPool, shutdown: watch::Receiver<bool>) {
    let (ledger, pool) = (&ledger, &pool);
    crate::periodic::every(POLL, shutdown, move || async move {
        match keep_once(ledger, pool, Timestamp::new(Utc::now())).await {
            Ok(pass) if pass.ended + pass.paid + pass.settled > 0 => {
                tracing::info!(
                    ended = pass.ended,
                    paid = pass.paid,
                    settled = pass.settled,
                    "seasons: standings frozen or prizes paid"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "season pass failed; trying again"),
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

/// Where a season stands at `now`, as members and managers are told: `upcoming`, `running`,
/// `settling` (ended; late deliveries still count until the cutoff, then the job freezes the
/// standings), `final` (standings frozen) or `cancelled`. `status` is the read model's.
pub fn phase(status: &str, terms: &SeasonTerms, now: chrono::DateTime<Utc>) -> &'static str {
    match status {
        "cancelled" => "cancelled",
        "ended" | "settled" => "final",
        _ if now < terms.starts_at.get() => "upcoming",
        _ if now < terms.ends_at.get() => "running",
        _ => "settling",
    }
}
