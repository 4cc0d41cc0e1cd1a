//! Raffles in the panel: open one (its commitment published), draw it after its end (its seed
//! revealed), or cancel it (every ticket refunded).

use super::auth::{Authorized, IdempotencyKey, Manage, Read};
use super::members::required_reason;
use super::support::{Body, CommandReply, denied, run};
use crate::AppState;
use crate::error::ApiError;
use crate::raffle_proof::EntryRuleView;
use app::raffles::RaffleTerms;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use domain::ids::{ProgramId, RaffleId};
use domain::points::Points;
use domain::raffle::{EntryRule, RaffleState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A raffle as managers see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RaffleView {
    pub raffle_id: Uuid,
    pub title: String,
    pub prize: String,
    pub entry_rule: EntryRuleView,
    /// Points per ticket; 0 for an activity rule.
    pub ticket_cost: i64,
    pub max_tickets_per_member: u32,
    /// How many members win.
    pub winners: u32,
    pub ends_at: Option<DateTime<Utc>>,
    /// Hex SHA-256 of the seed, published when the raffle opened.
    pub commitment: String,
    /// `open`, `ended` (entries closed, not drawn), `drawn` or `cancelled`.
    pub status: String,
    /// Entries: tickets, or an activity raffle's members once drawn.
    pub tickets: usize,
    /// Distinct members holding tickets.
    pub members: usize,
    /// The revealed seed, hex; `null` until drawn.
    pub seed: Option<String>,
    pub drawn_at: Option<DateTime<Utc>>,
    pub winning_tickets: Vec<WinningTicket>,
    pub cancel_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WinningTicket {
    pub entry_id: Uuid,
    pub member_id: Uuid,
    pub member_name: Option<String>,
}

/// `open`, `ended`, `drawn` or `cancelled`, now.
pub fn status(raffle: &RaffleState, now: DateTime<Utc>) -> &'static str {
    if raffle.cancelled.is_some() {
        "cancelled"
    } else if raffle.drawn.is_some() {
        "drawn"
    } else if raffle.ends_at.is_some_and(|end| now >= end.get()) {
        "ended"
    } else {
        "open"
    }
}

async fn view(
    state: &AppState,
    program: ProgramId,
    id: RaffleId,
    r: RaffleState,
) -> Result<RaffleView, ApiError> {
    let members: std::collections::HashSet<_> = r.tickets.iter().map(|t| t.1).collect();
    let winning: Vec<(Uuid, Uuid)> = match &r.drawn {
        Some((_, won)) => won
            .iter()
            .filter_map(|w| r.tickets.iter().find(|t| t.0 == *w).map(|t| (w.0, t.1.0)))
            .collect(),
        None => Vec::new(),
    };
    let ids: Vec<Uuid> = winning.iter().map(|w| w.1).collect();
    let names = state
        .names
        .names(program.0, &ids)
        .await
        .map_err(ApiError::internal)?;
    Ok(RaffleView {
        raffle_id: id.0,
        status: status(&r, Utc::now()).to_string(),
        tickets: r.tickets.len(),
        members: members.len(),
        seed: r.drawn.as_ref().map(|d| d.0.clone()),
        drawn_at: r.drawn_at.map(|t| t.get()),
        winning_tickets: winning
            .into_iter()
            .zip(names)
            .map(|((entry_id, member_id), member_name)| WinningTicket {
                entry_id,
                member_id,
                member_name,
            })
            .collect(),
        ends_at: r.ends_at.map(|t| t.get()),
        title: r.title,
        prize: r.prize,
        entry_rule: r.entry_rule.into(),
        ticket_cost: r.ticket_cost,
        max_tickets_per_member: r.max_tickets_per_member,
        winners: r.winners,
        commitment: r.commitment,
        cancel_reason: r.cancelled,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RaffleList {
    /// Newest first.
    pub raffles: Vec<RaffleView>,
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/raffles",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = RaffleList))
)]
pub async fn list(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<RaffleList>, ApiError> {
    let program = ProgramId(program_id);
    let mut raffles = Vec::new();
    for (id, raffle) in app::raffles::raffles_of(state.ledger(), program).await? {
        raffles.push(view(&state, program, id, raffle).await?);
    }
    Ok(Json(RaffleList { raffles }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRaffleRequest {
    pub title: String,
    /// What the winners get.
    pub prize: String,
    /// How members enter; tickets when absent.
    #[serde(default)]
    pub entry_rule: Option<EntryRuleView>,
    /// Points per ticket (tickets only).
    #[serde(default)]
    pub ticket_cost: i64,
    /// Tickets only.
    #[serde(default)]
    pub max_tickets_per_member: u32,
    /// How many members win.
    pub winners: u32,
    /// When entries end (RFC 3339); the draw comes after.
    pub ends_at: DateTime<Utc>,
}

/// Open a raffle: its id derives from the Idempotency-Key; the answer's `created_id` is it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/raffles",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header)),
    request_body = NewRaffleRequest,
    responses((status = 200, body = CommandReply), (status = 422))
)]
pub async fn create(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(body): Body<NewRaffleRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let entry_rule = match body.entry_rule {
        Some(view) => EntryRule::try_from(view).map_err(denied)?,
        None => EntryRule::Tickets,
    };
    // An activity rule records no ticket terms; any valid price stands in for the unused one.
    let cost = match entry_rule {
        EntryRule::Tickets => body.ticket_cost,
        EntryRule::Activity(_) => body.ticket_cost.max(1),
    };
    let ticket_cost = Points::new(cost).map_err(denied)?;
    let action = auth.action(&key);
    let terms = RaffleTerms {
        title: body.title,
        prize: body.prize,
        entry_rule,
        ticket_cost,
        max_tickets_per_member: body.max_tickets_per_member,
        winners: body.winners,
        ends_at: body.ends_at.into(),
    };
    let (raffle, outcome) = state
        .ledger()
        .open_raffle(
            &state.pool,
            state.secrets(),
            program.program_id,
            terms,
            &action,
        )
        .await?;
    Ok(Json(
        CommandReply::from_outcome(outcome, action.request_id).created(raffle.0),
    ))
}

/// Draw the winners with the seed committed to when the raffle opened; the seed is revealed.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/raffles/{raffle_id}/draw",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("raffle_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    responses((status = 200, body = CommandReply), (status = 404), (status = 409))
)]
pub async fn draw(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, raffle_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<CommandReply>, ApiError> {
    let (program, raffle) = (ProgramId(program_id), RaffleId(raffle_id));
    app::raffles::raffle_in(state.ledger(), program, raffle).await?;
    let action = auth.action(&key);
    let command =
        state
            .ledger()
            .draw_raffle(&state.pool, state.secrets(), program, raffle, &action);
    Ok(Json(run(&state, action.request_id, command).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelRaffleRequest {
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CancelRaffleReply {
    #[serde(flatten)]
    pub reply: CommandReply,
    /// Tickets this call refunded (a repeated cancel finishes refunds left unfinished).
    pub refunded: usize,
}

/// Cancel a raffle not drawn yet: every ticket is refunded, once.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/raffles/{raffle_id}/cancel",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("raffle_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = CancelRaffleRequest,
    responses((status = 200, body = CancelRaffleReply), (status = 404), (status = 409), (status = 422))
)]
pub async fn cancel(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, raffle_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<CancelRaffleRequest>,
) -> Result<Json<CancelRaffleReply>, ApiError> {
    let reason = required_reason(&body.reason)?;
    let (program, raffle) = (ProgramId(program_id), RaffleId(raffle_id));
    app::raffles::raffle_in(state.ledger(), program, raffle).await?;
    let action = auth.action(&key);
    let (outcome, refunded) = state
        .ledger()
        .cancel_raffle(program, raffle, &reason, &action)
        .await?;
    Ok(Json(CancelRaffleReply {
        reply: CommandReply::from_outcome(outcome, action.request_id),
        refunded,
    }))
}
