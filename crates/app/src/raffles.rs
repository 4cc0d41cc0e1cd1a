//! Provably fair raffles: the seed is drawn here (random, kept sealed in `raffle_seeds`), its
//! SHA-256 published when the raffle opens, and revealed by the draw (`domain::raffle`).

use crate::commands::{Created, ManagerAction};
use crate::ledger::Ledger;
use crate::reads::decode;
use crate::secrets::{SecretBox, raffle_row};
use crate::{AppError, Outcome};
use domain::ids::{EntryId, MemberId, ProgramId, RaffleId, derived_id};
use domain::member::MemberState;
use domain::raffle::{
    NewRaffle, RaffleState, commitment_of, decide_buy_ticket, decide_refund_ticket,
};
use domain::{Event, StreamId, Timestamp};
use rand::RngCore;
use sqlx::PgPool;
use store::Metadata;

/// A raffle's terms as a manager gives them; the seed and its commitment are made here.
pub struct RaffleTerms {
    pub title: String,
    pub prize: String,
    pub ticket_cost: domain::points::Points,
    pub max_tickets_per_member: u32,
    pub winners: u32,
    pub ends_at: Timestamp,
}

fn db(e: sqlx::Error) -> AppError {
    AppError::Store(e.into())
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
    .await
    .map_err(db)?;
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
            .await
            .map_err(db)?;
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
        let by = action.manager.clone();
        self.raffle_command(program_id, raffle_id, action, |s| {
            s.draw(&seed, by.clone(), action.at)
        })
        .await
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

/// A program's raffles, newest first, with their states.
pub async fn raffles_of(
    ledger: &Ledger,
    program_id: ProgramId,
) -> Result<Vec<(RaffleId, RaffleState)>, AppError> {
    let ids = ledger.created_ids(program_id, Created::Raffle).await?;
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
    /// The seed's SHA-256 is the commitment and the recomputed winners are the recorded ones;
    /// `None` before the draw.
    pub verified: Option<bool>,
}

/// A raffle's proof recomputed from its stream as the log holds it (no cache), for
/// `loyalty audit raffle`; `None` when no such raffle was opened.
pub async fn audit(
    store: &store::EventStore,
    raffle: RaffleId,
) -> Result<Option<(RaffleState, RaffleProof)>, AppError> {
    let stream = StreamId::Raffle(raffle).to_string();
    let mut state = RaffleState::default();
    for r in store.read_stream(&stream, 0).await? {
        state = domain::Aggregate::apply(state, &decode(r)?.event);
    }
    if state.raffle_id.is_none() {
        return Ok(None);
    }
    let proof = proof(&state);
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
        verified: Some(verified),
    }
}
