//! Provably fair raffles: the seed is drawn here (random, kept sealed in `raffle_seeds`), its
//! SHA-256 published when the raffle opens, and revealed by the draw (`domain::raffle`). An
//! activity raffle's entries are read from the program's log for its period at the draw and
//! appended to its stream before the draw itself, so the proof lists them like tickets.

use crate::commands::ManagerAction;
use crate::ledger::Ledger;
use crate::reads::decode;
use crate::secrets::{SecretBox, raffle_row};
use crate::{AppError, Outcome};
use domain::ids::{EntryId, MemberId, ProgramId, RaffleId, derived_id};
use domain::member::MemberState;
use domain::raffle::{
    ActivityRule, EntryRule, NewRaffle, RaffleState, activity_entries, commitment_of,
    decide_buy_ticket, decide_refund_ticket,
};
use domain::{Event, StreamId, Timestamp};
use rand::RngCore;
use sqlx::PgPool;
use store::Checkpoint;
use store::Metadata;

/// A raffle's terms as a manager gives them; the seed and its commitment are made here.
pub struct RaffleTerms {
    pub title: String,
    pub prize: String,
    pub entry_rule: EntryRule,
    /// Points per ticket; ignored by an activity rule.
    pub ticket_cost: domain::points::Points,
    pub max_tickets_per_member: u32,
    pub winners: u32,
    pub ends_at: Timestamp,
}

/// The raffle's seed, made and sealed the first time it is asked for; a retried request for
/// the same raffle gets the same seed, so its commitment does not change.
async fn seed_of(
    pool: &PgPool,
    secrets: &SecretBox,
    program: ProgramId,
    raffle: RaffleId,
) -> Result<Vec<u8>, AppError> {
    let mut fresh = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut fresh);
    let row = raffle_row(raffle.0);
    sqlx::query(
        "INSERT INTO raffle_seeds (raffle_id, program_id, seed) VALUES ($1, $2, $3) \
         ON CONFLICT (raffle_id) DO NOTHING",
    )
    .bind(raffle.0)
    .bind(program.0)
    .bind(secrets.seal(&hex::encode(fresh), &row))
    .execute(pool)
    .await?;
    stored_seed(pool, secrets, raffle)
        .await?
        .ok_or_else(|| AppError::Corrupt(format!("raffle {} has no seed", raffle.0)))
}

async fn stored_seed(
    pool: &PgPool,
    secrets: &SecretBox,
    raffle: RaffleId,
) -> Result<Option<Vec<u8>>, AppError> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT seed FROM raffle_seeds WHERE raffle_id = $1")
            .bind(raffle.0)
            .fetch_optional(pool)
            .await?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    let plain = secrets
        .open(&stored, &raffle_row(raffle.0))
        .map_err(|e| AppError::Corrupt(format!("raffle {} seed: {e}", raffle.0)))?;
    hex::decode(plain)
        .map(Some)
        .map_err(|e| AppError::Corrupt(format!("raffle {} seed: {e}", raffle.0)))
}

impl Ledger {
    /// Opens a raffle whose id is the manager's request id.
    pub async fn open_raffle(
        &self,
        pool: &PgPool,
        secrets: &SecretBox,
        program_id: ProgramId,
        terms: RaffleTerms,
        action: &ManagerAction,
    ) -> Result<(RaffleId, Outcome), AppError> {
        let raffle_id = RaffleId(action.request_id);
        let seed = seed_of(pool, secrets, program_id, raffle_id).await?;
        let new = NewRaffle {
            raffle_id,
            program_id,
            title: terms.title,
            prize: terms.prize,
            entry_rule: terms.entry_rule,
            ticket_cost: terms.ticket_cost,
            max_tickets_per_member: terms.max_tickets_per_member,
            winners: terms.winners,
            ends_at: terms.ends_at,
            commitment: commitment_of(&seed),
            by: action.manager.clone(),
            at: action.at,
        };
        let outcome = self
            .raffle_command(program_id, raffle_id, action, |s| s.open(new.clone()))
            .await?;
        Ok((raffle_id, outcome))
    }

    /// Draws the raffle with its stored seed (revealed by the event).
    pub async fn draw_raffle(
        &self,
        pool: &PgPool,
        secrets: &SecretBox,
        program_id: ProgramId,
        raffle_id: RaffleId,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        let seed = stored_seed(pool, secrets, raffle_id)
            .await?
            .ok_or(AppError::Denied(domain::DomainError::NotFound))?;
        let raffle = raffle_in(self, program_id, raffle_id).await?;
        if let (EntryRule::Activity(rule), None, None, Some(end)) = (
            raffle.entry_rule,
            &raffle.drawn,
            &raffle.cancelled,
            raffle.ends_at,
        ) {
            self.enter_activity(program_id, raffle_id, &rule, end, action)
                .await?;
        }
        let by = action.manager.clone();
        self.raffle_command(program_id, raffle_id, action, |s| {
            s.draw(&seed, by.clone(), action.at)
        })
        .await
    }

    /// Appends an activity raffle's entries (the draw's first step), read from the log once its
    /// end is settled (`LedgerConfig::raffle_settle`), in
    /// chunks; each chunk's command id derives from the raffle and its first entry, and the
    /// domain leaves out entries already in the stream, so a retried draw appends each once.
    pub async fn enter_activity(
        &self,
        program_id: ProgramId,
        raffle_id: RaffleId,
        rule: &ActivityRule,
        ends_at: Timestamp,
        action: &ManagerAction,
    ) -> Result<(), AppError> {
        let settled = ends_at.get() + self.raffle_settle();
        if action.at.get() < settled {
            return Err(AppError::Denied(domain::DomainError::RaffleNotEnded));
        }
        let entries = entries_from_log(
            self.store(),
            program_id,
            rule,
            ends_at,
            self.raffle_settle(),
        )
        .await?;
        let stream = StreamId::Raffle(raffle_id);
        for chunk in entries.chunks(ENTRIES_PER_COMMIT) {
            let Some((first, _)) = chunk.first() else {
                continue;
            };
            let command = derived_id(&format!("raffle/{}/entries/{}", raffle_id.0, first.0));
            let _turn = self.turn_on(raffle_id.0).await;
            self.execute::<RaffleState>(program_id.0, command, action.metadata(), &stream, |s| {
                s.enter(chunk, action.at)
            })
            .await?;
        }
        Ok(())
    }

    /// Cancels the raffle, then refunds every ticket not refunded yet (each once: its refund's
    /// id derives from the ticket). Cancelling again finishes refunds an interruption left.
    /// Answers how many tickets this call refunded.
    pub async fn cancel_raffle(
        &self,
        program_id: ProgramId,
        raffle_id: RaffleId,
        reason: &str,
        action: &ManagerAction,
    ) -> Result<(Outcome, usize), AppError> {
        let by = action.manager.clone();
        let outcome = self
            .raffle_command(program_id, raffle_id, action, |s| {
                s.cancel(reason.to_string(), by.clone(), action.at)
            })
            .await?;
        let raffle = self
            .load::<RaffleState>(&StreamId::Raffle(raffle_id))
            .await?
            .state;
        let mut refunded = 0;
        // An activity raffle's entries cost nothing: there is nothing to refund.
        if !raffle.entry_rule.is_tickets() {
            return Ok((outcome, refunded));
        }
        for (ticket, member) in raffle.tickets {
            let command = derived_id(&format!("raffle/{}/refund/{}", raffle_id.0, ticket.0));
            let streams = (StreamId::Raffle(raffle_id), StreamId::Member(member));
            let metadata = Metadata {
                actor: Some(action.manager.clone()),
                ..Metadata::default()
            };
            let result = self
                .execute::<(RaffleState, MemberState)>(
                    program_id.0,
                    command,
                    metadata,
                    &streams,
                    |(raffle, member)| {
                        decide_refund_ticket(raffle, member, ticket, EntryId(command), action.at)
                    },
                )
                .await?;
            if matches!(result, Outcome::Recorded { .. }) {
                refunded += 1;
            }
        }
        Ok((outcome, refunded))
    }

    /// A member buys one ticket; `entry_id` (from the member's tap) makes a double tap one.
    pub async fn buy_raffle_ticket(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        raffle_id: RaffleId,
        entry_id: EntryId,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        let streams = (StreamId::Raffle(raffle_id), StreamId::Member(member_id));
        let _turn = self.turn_on(raffle_id.0).await;
        self.execute::<(RaffleState, MemberState)>(
            program_id.0,
            entry_id.0,
            Metadata {
                actor: Some(format!("member:{member_id}")),
                ..Metadata::default()
            },
            &streams,
            |(raffle, member)| decide_buy_ticket(raffle, member, entry_id, at),
        )
        .await
    }

    async fn raffle_command(
        &self,
        program_id: ProgramId,
        raffle_id: RaffleId,
        action: &ManagerAction,
        decide: impl Fn(&RaffleState) -> Result<Vec<Event>, domain::DomainError>,
    ) -> Result<Outcome, AppError> {
        let _turn = self.turn_on(raffle_id.0).await;
        self.execute::<RaffleState>(
            program_id.0,
            action.request_id,
            action.metadata(),
            &StreamId::Raffle(raffle_id),
            |s| match s.program_id {
                Some(p) if p != program_id => Err(domain::DomainError::NotFound),
                _ => decide(s),
            },
        )
        .await
    }
}

/// Entries appended per commit when an activity raffle is drawn.
const ENTRIES_PER_COMMIT: usize = 250;

/// How far the database's clock (`recorded_at`) may stand from the clock that decided an event
/// (`at`): the log is read this much beyond the period on both sides.
const CLOCK_SLACK: std::time::Duration = std::time::Duration::from_secs(300);

/// An activity raffle's entries as the program's log gives them ([`activity_entries`]): the
/// awards, reversals and restorations recorded from the period's start (less the slack) to
/// its settled end (plus the slack), in log order. The draw and `loyalty audit raffle` both
/// read them here, so they see the same rows.
pub async fn entries_from_log(
    store: &store::EventStore,
    program_id: ProgramId,
    rule: &ActivityRule,
    ends_at: Timestamp,
    settle: std::time::Duration,
) -> Result<Vec<(EntryId, MemberId)>, AppError> {
    const TYPES: [&str; 3] = ["PointsAwarded", "PointsReversed", "AwardRestored"];
    let from = rule.from.get() - CLOCK_SLACK;
    let until = ends_at.get() + settle + CLOCK_SLACK;
    let mut events = Vec::new();
    store
        .each_program_event(
            program_id.0,
            (from, until),
            &TYPES,
            Checkpoint::default(),
            |recorded| {
                events.push(decode(recorded)?.event);
                Ok::<_, AppError>(())
            },
        )
        .await?;
    Ok(activity_entries(rule, ends_at, &events))
}

/// Whether the member is in an activity raffle so far: their own stream holds a matching award
/// in its period they still keep (what the draw will count, as far as the log shows now).
pub async fn entered_by_activity(
    store: &store::EventStore,
    member_id: MemberId,
    rule: &ActivityRule,
    ends_at: Timestamp,
) -> Result<bool, AppError> {
    let stream = StreamId::Member(member_id).to_string();
    let mut events = Vec::new();
    for recorded in store.read_stream(&stream, 0).await? {
        events.push(decode(recorded)?.event);
    }
    Ok(!activity_entries(rule, ends_at, &events).is_empty())
}

/// A program's raffles, newest first, with their states.
pub async fn raffles_of(
    ledger: &Ledger,
    program_id: ProgramId,
) -> Result<Vec<(RaffleId, RaffleState)>, AppError> {
    let ids = ledger
        .store()
        .created_ids(program_id.0, store::IndexedType::RaffleOpened)
        .await?;
    let mut raffles = Vec::with_capacity(ids.len());
    for id in ids.into_iter().rev().map(RaffleId) {
        let state = ledger
            .load::<RaffleState>(&StreamId::Raffle(id))
            .await?
            .state;
        raffles.push((id, state));
    }
    Ok(raffles)
}

/// One raffle of the program, or `NotFound`.
pub async fn raffle_in(
    ledger: &Ledger,
    program_id: ProgramId,
    raffle_id: RaffleId,
) -> Result<RaffleState, AppError> {
    let state = ledger
        .load::<RaffleState>(&StreamId::Raffle(raffle_id))
        .await?
        .state;
    match state.program_id {
        Some(p) if p == program_id => Ok(state),
        _ => Err(AppError::Denied(domain::DomainError::NotFound)),
    }
}

/// What an auditor checks of a drawn raffle, recomputed from its stream alone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RaffleProof {
    pub commitment: String,
    /// The revealed seed, hex; `None` before the draw.
    pub seed: Option<String>,
    /// The tickets in log order (their entry ids).
    pub tickets: Vec<EntryId>,
    /// Each ticket's holder as a number (0 for the first member to buy, 1 for the next, …):
    /// enough to apply "a member wins once" without naming anybody.
    pub holders: Vec<u32>,
    /// The winning tickets the log records.
    pub recorded_winners: Vec<EntryId>,
    /// The winning tickets recomputed from the seed and the tickets.
    pub recomputed_winners: Vec<EntryId>,
    /// How members entered.
    pub entry_rule: EntryRule,
    /// For a drawn activity raffle, whether its entries are those the log gives for its
    /// period (checked by [`audit`] only; `None` otherwise).
    pub entries_match_log: Option<bool>,
    /// The seed's SHA-256 is the commitment and the recomputed winners are the recorded ones;
    /// `None` before the draw.
    pub verified: Option<bool>,
}

/// A raffle's proof recomputed from its stream as the log holds it (no cache), for
/// `loyalty audit raffle`, with an activity raffle's entries recomputed from the program's log
/// (read with the draw's `settle`); `None` when no such raffle was opened.
pub async fn audit(
    store: &store::EventStore,
    raffle: RaffleId,
    settle: std::time::Duration,
) -> Result<Option<(RaffleState, RaffleProof)>, AppError> {
    let stream = StreamId::Raffle(raffle).to_string();
    let mut state = RaffleState::default();
    for r in store.read_stream(&stream, 0).await? {
        state = domain::Aggregate::apply(state, &decode(r)?.event);
    }
    let (Some(program_id), Some(ends_at)) = (state.program_id, state.ends_at) else {
        return Ok(None);
    };
    let mut proof = proof(&state);
    if let (EntryRule::Activity(rule), Some(_)) = (state.entry_rule, &state.drawn) {
        let from_log = entries_from_log(store, program_id, &rule, ends_at, settle).await?;
        proof.entries_match_log = Some(from_log == state.tickets);
    }
    Ok(Some((state, proof)))
}

/// Recomputes a raffle's draw from its state.
pub fn proof(raffle: &RaffleState) -> RaffleProof {
    let tickets: Vec<EntryId> = raffle.tickets.iter().map(|t| t.0).collect();
    let mut seen: Vec<domain::ids::MemberId> = Vec::new();
    let holders = raffle
        .tickets
        .iter()
        .map(|(_, member)| match seen.iter().position(|m| m == member) {
            Some(n) => n as u32,
            None => {
                seen.push(*member);
                (seen.len() - 1) as u32
            }
        })
        .collect();
    let Some((seed_hex, recorded)) = &raffle.drawn else {
        return RaffleProof {
            commitment: raffle.commitment.clone(),
            seed: None,
            tickets,
            holders,
            recorded_winners: Vec::new(),
            recomputed_winners: Vec::new(),
            entry_rule: raffle.entry_rule,
            entries_match_log: None,
            verified: None,
        };
    };
    let seed = hex::decode(seed_hex).unwrap_or_default();
    let recomputed = domain::raffle::draw_winners(&seed, &raffle.tickets, raffle.winners);
    let verified = commitment_of(&seed) == raffle.commitment && &recomputed == recorded;
    RaffleProof {
        commitment: raffle.commitment.clone(),
        seed: Some(seed_hex.clone()),
        tickets,
        holders,
        recorded_winners: recorded.clone(),
        recomputed_winners: recomputed,
        entry_rule: raffle.entry_rule,
        entries_match_log: None,
        verified: Some(verified),
    }
}
