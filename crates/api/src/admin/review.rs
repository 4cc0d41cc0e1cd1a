//! The review queue: awards the rules held for review (velocity, a member's first hours, a
//! large codeword bonus), and a manager's approval or rejection of each, decided once.

use super::auth::{Authorized, IdempotencyKey, Manage, Read};
use super::members::required_reason;
use super::support::{Body, CommandReply, invalid, run};
use crate::AppState;
use crate::error::ApiError;
use app::commands::ManagerAction;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use domain::ids::{EntryId, MemberId, ProgramId, derived_id};
use domain::review::ReviewDecision;
use projections::admin_log::{HeldAwardRow, held_award_members, held_awards};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const PAGE: i64 = 1_000;
/// Most held awards one bulk decision names (a page of the queue is at most this).
pub const MAX_BULK_DECISIONS: usize = 1_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct HeldAward {
    /// The held award's ledger entry: what approve and reject name.
    pub entry_id: Uuid,
    pub member_id: Uuid,
    /// The member's name, when known.
    pub member_name: Option<String>,
    /// `instagram`, `vk` or `telegram`.
    pub network: String,
    /// The activity: `comment`, `reaction`, `codeword`, …
    pub kind: String,
    /// Points it pays if approved.
    pub points: i64,
    /// Which rule held it: `velocity_minute`, `velocity_hour`, `large_codeword`, `new_member`.
    pub hold: String,
    pub campaign_id: Option<Uuid>,
    /// When the activity happened on the platform.
    pub occurred_at: DateTime<Utc>,
    /// When it was held.
    pub held_at: DateTime<Utc>,
    /// Log position: pass the last as `after` for the next page.
    pub position: i64,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// The manager who decided; none while pending or when the activity was undone.
    pub decided_by: Option<String>,
    /// A manager's reason for rejecting, or what undid the activity (`deleted`, `withdrawn`,
    /// `left`).
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<HeldAwardRow> for HeldAward {
    fn from(row: HeldAwardRow) -> Self {
        Self {
            entry_id: row.entry_id,
            member_id: row.member_id,
            member_name: None,
            network: row.network,
            kind: row.kind,
            points: row.points,
            hold: row.hold,
            campaign_id: row.campaign_id,
            occurred_at: row.occurred_at,
            held_at: row.held_at,
            position: row.position,
            status: row.status,
            decided_by: row.decided_by,
            decision_reason: row.decision_reason,
            decided_at: row.decided_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeldPage {
    /// Oldest first: the queue is worked from its head.
    pub items: Vec<HeldAward>,
    /// Pass as `after` for the next page; none at the end.
    pub next_after: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HeldQuery {
    /// `pending` (the default), `approved`, `rejected` or `all`.
    pub status: Option<String>,
    /// Only this member's held awards.
    pub member_id: Option<Uuid>,
    /// Only held awards after this log position.
    pub after: Option<i64>,
    /// Page size (default 100, at most 1,000).
    pub limit: Option<i64>,
}

/// The awards the rules held for review, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/held-awards",
    tag = "admin",
    params(("program_id" = Uuid, Path), HeldQuery),
    responses((status = 200, body = HeldPage), (status = 422, description = "Unknown status"))
)]
pub async fn list(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Query(query): Query<HeldQuery>,
) -> Result<Json<HeldPage>, ApiError> {
    let status = match query.status.as_deref().unwrap_or("pending") {
        "all" => None,
        s @ ("pending" | "approved" | "rejected") => Some(s),
        other => {
            return Err(invalid(
                "invalid_status",
                format!("unknown status {other:?}: pending, approved, rejected or all"),
            ));
        }
    };
    let limit = query.limit.unwrap_or(100).clamp(1, PAGE);
    let rows = held_awards(
        &state.pool,
        program_id,
        status,
        query.member_id,
        query.after,
        limit,
    )
    .await
    .map_err(ApiError::internal)?;
    let next_after = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.position))
        .flatten();
    let mut items: Vec<HeldAward> = rows.into_iter().map(HeldAward::from).collect();
    let members: Vec<Uuid> = items.iter().map(|i| i.member_id).collect();
    let names = state
        .names
        .names(program_id, &members)
        .await
        .map_err(ApiError::internal)?;
    for (item, name) in items.iter_mut().zip(names) {
        item.member_name = name;
    }
    Ok(Json(HeldPage { items, next_after }))
}

/// Approve a held award: it pays now, once. Approving again changes nothing (`unchanged`);
/// approving a rejected award is refused (409 `already_reviewed`).
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/held-awards/{entry_id}/approve",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("entry_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    responses(
        (status = 200, body = CommandReply),
        (status = 404, description = "No such held award in this program"),
        (status = 409, description = "Already rejected, or the member is blocked or erased"),
    )
)]
pub async fn approve(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, entry_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<CommandReply>, ApiError> {
    decide(
        auth,
        key,
        state,
        program_id,
        entry_id,
        ReviewDecision::Approve,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectRequest {
    /// Why, for managers and auditors (kept in the ledger for good).
    pub reason: String,
}

/// Reject a held award: it never pays. Rejecting again changes nothing (`unchanged`);
/// rejecting an approved award is refused (409 `already_reviewed`): compensate it instead.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/held-awards/{entry_id}/reject",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("entry_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = RejectRequest,
    responses(
        (status = 200, body = CommandReply),
        (status = 404, description = "No such held award in this program"),
        (status = 409, description = "Already approved"),
        (status = 422, description = "No reason"),
    )
)]
pub async fn reject(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, entry_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<RejectRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let reason = required_reason(&body.reason)?;
    let decision = ReviewDecision::Reject { reason };
    decide(auth, key, state, program_id, entry_id, decision).await
}

/// Decides `entries` (held awards of the program) one by one, each its own command named by
/// `request_id_of(entry)`; their members are read in one query.
async fn decide_each(
    state: &AppState,
    program_id: Uuid,
    entries: &[Uuid],
    decision: &ReviewDecision,
    action: &ManagerAction,
    request_id_of: impl Fn(Uuid) -> Uuid,
) -> Result<Vec<(Uuid, Result<CommandReply, ApiError>)>, ApiError> {
    let members: HashMap<Uuid, Uuid> = held_award_members(&state.pool, program_id, entries)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .collect();
    let mut replies = Vec::with_capacity(entries.len());
    for &entry_id in entries {
        let Some(member) = members.get(&entry_id) else {
            let missing = ApiError::not_found("no such held award in this program");
            replies.push((entry_id, Err(missing)));
            continue;
        };
        let one = ManagerAction {
            request_id: request_id_of(entry_id),
            ..action.clone()
        };
        let command = state.ledger().review_held(
            ProgramId(program_id),
            MemberId(*member),
            EntryId(entry_id),
            decision.clone(),
            &one,
        );
        replies.push((entry_id, run(state, one.request_id, command).await));
    }
    Ok(replies)
}

/// One held award decided, as the single-award routes answer it.
async fn decide(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    state: AppState,
    program_id: Uuid,
    entry_id: Uuid,
    decision: ReviewDecision,
) -> Result<Json<CommandReply>, ApiError> {
    let action = auth.action(&key);
    let request_id = action.request_id;
    let mut replies = decide_each(&state, program_id, &[entry_id], &decision, &action, |_| {
        request_id
    })
    .await?;
    let (_, reply) = replies.remove(0);
    Ok(Json(reply?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkDecisionRequest {
    /// The held awards' entries, 1 to 1,000.
    pub entries: Vec<Uuid>,
    /// `approve` or `reject`.
    pub decision: String,
    /// Why, for a rejection (required then; kept in the ledger for good).
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkDecisionReply {
    /// Decided now.
    pub recorded: usize,
    /// Already decided this way (or this request was sent before): nothing changed.
    pub unchanged: usize,
    /// Refused, each with why (e.g. `already_reviewed`, `member_blocked`, `not_found`).
    pub refused: Vec<BulkRefusal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkRefusal {
    pub entry_id: Uuid,
    pub code: &'static str,
    pub message: String,
}

/// Approve or reject many held awards with one request (a page of the queue, or one member's
/// farm). Each is decided as alone would be: once, and a refusal of one leaves the others.
/// Repeating the request (same Idempotency-Key) changes nothing more.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/held-awards/decisions",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = BulkDecisionRequest,
    responses(
        (status = 200, body = BulkDecisionReply),
        (status = 422, description = "No entries, too many, an unknown decision, or a rejection without a reason"),
    )
)]
pub async fn decide_many(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(body): Body<BulkDecisionRequest>,
) -> Result<Json<BulkDecisionReply>, ApiError> {
    if body.entries.is_empty() || body.entries.len() > MAX_BULK_DECISIONS {
        return Err(invalid(
            "invalid_entries",
            format!("name 1 to {MAX_BULK_DECISIONS} held awards"),
        ));
    }
    let decision = match body.decision.as_str() {
        "approve" => ReviewDecision::Approve,
        "reject" => ReviewDecision::Reject {
            reason: required_reason(body.reason.as_deref().unwrap_or(""))?,
        },
        other => {
            return Err(invalid(
                "invalid_decision",
                format!("unknown decision {other:?}: approve or reject"),
            ));
        }
    };
    let action = auth.action(&key);
    let mut reply = BulkDecisionReply {
        recorded: 0,
        unchanged: 0,
        refused: Vec::new(),
    };
    // Each entry its own command, named by the request and the entry.
    let request_id_of = |entry: Uuid| derived_id(&format!("{}/{entry}", action.request_id));
    let decided = decide_each(
        &state,
        program_id,
        &body.entries,
        &decision,
        &action,
        request_id_of,
    );
    for (entry_id, decided) in decided.await? {
        match decided {
            Ok(r) if r.outcome == "recorded" => reply.recorded += 1,
            Ok(_) => reply.unchanged += 1,
            Err(e) if e.status.is_client_error() => reply.refused.push(BulkRefusal {
                entry_id,
                code: e.code,
                message: e.message,
            }),
            Err(e) => return Err(e),
        }
    }
    Ok(Json(reply))
}
