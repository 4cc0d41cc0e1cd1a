//! Raffles in the Mini App: buy a ticket with points, see the commitment before and the seed
//! and whether you won after.

use super::ErrorEnvelope;
use super::auth::Member;
use super::rewards::idempotency_key;
use crate::AppState;
use crate::admin::raffles::status;
use crate::error::ApiError;
use crate::raffle_proof::EntryRuleView;
use app::{AppError, Outcome};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::ids::{EntryId, RaffleId};
use domain::member::MemberState;
use domain::raffle::EntryRule;
use domain::{DomainError, StreamId};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Drawn and cancelled raffles shown after the open ones.
const PAST_SHOWN: usize = 5;

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberRaffle {
    pub raffle_id: Uuid,
    pub title: String,
    pub prize: String,
    /// How members enter: with an activity rule there is nothing to buy.
    pub entry_rule: EntryRuleView,
    pub ticket_cost: i64,
    pub max_tickets_per_member: u32,
    pub ends_at: Option<DateTime<Utc>>,
    /// Hex SHA-256 of the seed the draw will use.
    pub commitment: String,
    /// `open`, `ended`, `drawn` or `cancelled`.
    pub status: String,
    /// Tickets sold.
    pub tickets: usize,
    pub my_tickets: usize,
    /// For an activity raffle: the member is in (a matching award in the period so far, or
    /// an entry once drawn).
    pub entered: bool,
    /// How many members win.
    pub winners: u32,
    /// The revealed seed, once drawn.
    pub seed: Option<String>,
    pub i_won: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberRaffles {
    /// Open raffles first, then the latest drawn or cancelled ones.
    pub raffles: Vec<MemberRaffle>,
}

#[utoipa::path(
    get,
    path = "/api/v1/app/raffles",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, description = "The program's raffles and the member's tickets", body = MemberRaffles),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn raffles(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<MemberRaffles>, ApiError> {
    let now = Utc::now();
    let all = app::raffles::raffles_of(state.ledger(), member.program_id()).await?;
    let (mut live, past): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(_, r)| r.drawn.is_none() && r.cancelled.is_none());
    live.extend(past.into_iter().take(PAST_SHOWN));
    let me = member.member_id;
    let mut raffles = Vec::with_capacity(live.len());
    for (id, r) in live {
        let mut entered = r.tickets.iter().any(|t| t.1 == me);
        let undecided = r.drawn.is_none() && r.cancelled.is_none();
        if let (EntryRule::Activity(rule), Some(end), true) = (r.entry_rule, r.ends_at, undecided) {
            entered =
                app::raffles::entered_by_activity(state.ledger().store(), me, &rule, end).await?;
        }
        raffles.push({
            let mine: Vec<EntryId> = r
                .tickets
                .iter()
                .filter(|t| t.1 == me)
                .map(|t| t.0)
                .collect();
            let i_won = r
                .drawn
                .as_ref()
                .is_some_and(|(_, won)| won.iter().any(|w| mine.contains(w)));
            MemberRaffle {
                raffle_id: id.0,
                status: status(&r, now).to_string(),
                tickets: r.tickets.len(),
                my_tickets: if r.cancelled.is_some() || !r.entry_rule.is_tickets() {
                    0
                } else {
                    mine.len()
                },
                entered,
                seed: r.drawn.as_ref().map(|d| d.0.clone()),
                i_won,
                ends_at: r.ends_at.map(|t| t.get()),
                title: r.title,
                prize: r.prize,
                entry_rule: r.entry_rule.into(),
                ticket_cost: r.ticket_cost,
                max_tickets_per_member: r.max_tickets_per_member,
                commitment: r.commitment,
                winners: r.winners,
            }
        });
    }
    Ok(Json(MemberRaffles { raffles }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketBought {
    /// The ticket: its purchase's entry in the member's history.
    pub entry_id: Uuid,
    pub my_tickets: u32,
    /// The balance after the purchase.
    pub balance: i64,
}

#[utoipa::path(
    post,
    path = "/api/v1/app/raffles/{raffle_id}/tickets",
    tag = "mini-app",
    security(("tma" = [])),
    params(
        ("raffle_id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Unique per tap; or the body's idempotency_key"),
    ),
    request_body(content = super::rewards::RedeemRequest, description = "Optional when the header is sent"),
    responses(
        (status = 200, description = "The ticket (also for a repeated key)", body = TicketBought),
        (status = 400, description = "No idempotency key", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such raffle", body = ErrorEnvelope),
        (status = 409, description = "Closed, cancelled, entered by activity (no tickets), the limit reached or not enough points", body = ErrorEnvelope),
    )
)]
pub async fn buy(
    State(state): State<AppState>,
    member: Member,
    Path(raffle_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TicketBought>, ApiError> {
    let raffle = raffle_id
        .parse()
        .map(RaffleId)
        .map_err(|_| ApiError::bad_request("the raffle id is not a UUID"))?;
    app::raffles::raffle_in(state.ledger(), member.program_id(), raffle).await?;
    let key = idempotency_key(&headers, &body)?;
    let entry = EntryId(domain::ids::derived_id(&format!(
        "mini-app/raffle/{}/{}/{key}",
        member.member_id, raffle.0
    )));
    let outcome = state
        .ledger()
        .buy_raffle_ticket(
            member.program_id(),
            member.member_id,
            raffle,
            entry,
            Utc::now().into(),
        )
        .await;
    match outcome {
        Ok(Outcome::Recorded { .. } | Outcome::Duplicate)
        | Err(AppError::Denied(DomainError::AlreadyExists)) => {}
        Ok(Outcome::Unchanged) => return Err(ApiError::internal("a ticket decided nothing")),
        Err(e) => return Err(e.into()),
    }
    let me = state
        .ledger()
        .load::<MemberState>(&StreamId::Member(member.member_id))
        .await?
        .state;
    Ok(Json(TicketBought {
        entry_id: entry.0,
        my_tickets: me.tickets_in(raffle),
        balance: me.balance,
    }))
}
