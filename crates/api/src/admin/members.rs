//! Members: search, the member card (balance, accounts, full history from the member's
//! stream) and the manual changes a manager makes: add or remove points, reverse one entry,
//! block and unblock. Each change is one command with the manager as the event's actor.
//! Admins also erase and export a member's personal data for written requests.

use super::auth::{Administer, Authorized, IdempotencyKey, Manage, Read};
use super::queries::{self, MemberHit};
use super::support::{Body, CommandReply, denied, invalid, member_in, run};
use crate::AppState;
use crate::error::ApiError;
use app::reads::{Logged, MemberLine};
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use domain::DomainError;
use domain::Event;
use domain::ids::{EntryId, MemberId, ProgramId};
use domain::points::PointsDelta;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// One line of a member's history: an event of their stream and what it did to the balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub event_id: Uuid,
    pub stream_version: i64,
    pub position: i64,
    pub recorded_at: DateTime<Utc>,
    pub event_type: String,
    pub delta: i64,
    pub balance_after: i64,
    /// Who caused it: `manager:<username>`, `member:<id>`, or none for platform activity.
    pub actor: Option<String>,
    /// The ledger entry this event is (awards, adjustments, redemptions).
    pub entry_id: Option<Uuid>,
    /// A manager may still reverse this entry (an award or adjustment not yet compensated).
    pub reversible: bool,
    /// What took this entry back, if something did and was not undone since.
    pub reversed_by: Option<Reversal>,
    /// Why, for managers and auditors.
    pub reason: Option<String>,
    /// What the member was told (adjustments with a note).
    pub note: Option<String>,
    /// The event as recorded.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberCard {
    pub member_id: Uuid,
    pub program_id: Uuid,
    /// The member's best name (a Telegram name first), as lists and leaderboards show it.
    pub name: Option<String>,
    /// From the member's own stream: includes changes made a moment ago.
    pub balance: i64,
    pub earned: i64,
    pub spent: i64,
    /// Points that expired unspent.
    pub expired: i64,
    /// The next points to expire under the program's rules: (points, when); `None` when none will.
    pub next_expiry: Option<(i64, chrono::DateTime<chrono::Utc>)>,
    pub blocked: bool,
    /// The tier the member was last placed on (name and multiplier in percent).
    pub tier: Option<MemberTierView>,
    /// The member's personal data was erased: an anonymous member, history intact.
    pub erased: bool,
    pub accounts: Vec<MemberHit>,
    /// Newest first.
    pub history: Vec<HistoryEntry>,
    pub history_total: usize,
    /// The member's coupons, newest first.
    #[schema(value_type = Vec<Object>)]
    pub redemptions: Vec<projections::rewards::RedemptionRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberTierView {
    pub name: String,
    pub multiplier_percent: u32,
    /// When the member reached it.
    pub since: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CardQuery {
    /// Most history lines returned, newest first (default 500).
    pub limit: Option<usize>,
}

/// What took an entry back: a manager's compensating adjustment, or the platform (a deleted
/// comment, a left group).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reversal {
    pub event_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    /// `manager:<username>`, or `platform:<network>` when the platform's signal reversed it.
    pub actor: Option<String>,
    pub reason: Option<String>,
}

/// Each entry reversed and still reversed at the end of the stream, by what reversed it: a
/// restored award (its comment came back) is no longer reversed.
fn reversals_of(lines: &[MemberLine]) -> HashMap<EntryId, Reversal> {
    let mut reversed = HashMap::new();
    for line in lines {
        let event = &line.logged.event;
        let target = match event {
            Event::PointsReversed { award_entry_id, .. } => *award_entry_id,
            Event::PointsAdjusted {
                compensates: Some(target),
                ..
            } => *target,
            Event::AwardRestored { award_entry_id, .. } => {
                reversed.remove(award_entry_id);
                continue;
            }
            _ => continue,
        };
        let r = &line.logged.recorded;
        let reversal = Reversal {
            event_id: r.event_id,
            recorded_at: r.recorded_at,
            actor: line.actor.clone(),
            reason: reason_of(event),
        };
        reversed.insert(target, reversal);
    }
    reversed
}

fn entry_of(event: &Event) -> Option<EntryId> {
    match event {
        Event::PointsAwarded { entry_id, .. }
        | Event::AwardHeld { entry_id, .. }
        | Event::PointsReversed { entry_id, .. }
        | Event::AwardRestored { entry_id, .. }
        | Event::PointsAdjusted { entry_id, .. }
        | Event::RewardRedeemed { entry_id, .. }
        | Event::RedemptionCancelled { entry_id, .. } => Some(*entry_id),
        _ => None,
    }
}

fn reason_of(event: &Event) -> Option<String> {
    match event {
        Event::PointsAdjusted { reason, .. }
        | Event::RedemptionCancelled { reason, .. }
        | Event::MemberBlocked { reason, .. } => Some(reason.clone()),
        Event::PointsReversed { reason, .. } => serde_json::to_value(reason)
            .ok()?
            .as_str()
            .map(str::to_string),
        Event::AwardHeld { hold, .. } => Some(hold.as_str().to_string()),
        Event::HeldAwardRejected { .. } => projections::admin_log::decision_of(event)
            .and_then(|(_, _, reason)| reason.map(str::to_string)),
        _ => None,
    }
}

/// The member card: balance, linked accounts, full history with event ids, coupons.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("member_id" = Uuid, Path), CardQuery),
    responses((status = 200, body = MemberCard), (status = 404))
)]
pub async fn card(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path((program_id, member_id)): Path<(Uuid, Uuid)>,
    Query(query): Query<CardQuery>,
) -> Result<Json<MemberCard>, ApiError> {
    member_in(&state, ProgramId(program_id), MemberId(member_id)).await?;
    let (lines, folded) =
        app::reads::member_lines(state.ledger().store(), MemberId(member_id)).await?;
    let history_total = lines.len();
    let reversals = reversals_of(&lines);
    let limit = query.limit.unwrap_or(500).clamp(1, 5_000);
    let history = lines
        .into_iter()
        .rev()
        .take(limit)
        .map(|line| {
            let MemberLine {
                logged: Logged { recorded: r, event },
                balance_after,
                actor,
            } = line;
            let entry = entry_of(&event);
            HistoryEntry {
                event_id: r.event_id,
                stream_version: r.stream_version,
                position: r.position,
                recorded_at: r.recorded_at,
                delta: event.balance_delta().map_or(0, |(_, d)| d),
                balance_after,
                actor,
                entry_id: entry.map(|e| e.0),
                reversible: entry
                    .is_some_and(|e| matches!(folded.compensable.get(&e), Some(Some(_)))),
                reversed_by: entry.and_then(|e| reversals.get(&e).cloned()),
                reason: reason_of(&event),
                note: match &event {
                    Event::PointsAdjusted { note, .. } => note.clone(),
                    _ => None,
                },
                event_type: r.event_type,
                event: r.payload,
            }
        })
        .collect();
    let accounts = queries::member_accounts(&state.pool, program_id, member_id).await?;
    let name = state
        .names
        .names(program_id, &[member_id])
        .await
        .map_err(ApiError::internal)?
        .pop()
        .flatten();
    let redemptions = projections::rewards::redemptions_of(&state.pool, program_id, member_id, 100)
        .await
        .map_err(ApiError::internal)?;
    let expiry = state
        .ledger()
        .program(ProgramId(program_id))
        .await?
        .rules
        .expiry;
    let next_expiry = folded
        .lots
        .schedule(&expiry)
        .first()
        .map(|(at, points)| (*points, at.get()));
    Ok(Json(MemberCard {
        member_id,
        program_id,
        name,
        balance: folded.balance,
        earned: folded.earned,
        spent: folded.spent,
        expired: folded.expired,
        next_expiry,
        blocked: folded.blocked,
        tier: folded.tier.as_ref().map(|t| MemberTierView {
            name: t.name.clone(),
            multiplier_percent: t.multiplier_percent,
            since: t.since.get(),
        }),
        erased: folded.erased,
        accounts,
        history,
        history_total,
        redemptions,
    }))
}

/// A note to the member: as long as a reason may be; blank is none (the domain trims it).
fn member_note(note: Option<&str>) -> Result<Option<&str>, ApiError> {
    match note {
        Some(n) if n.chars().count() > MAX_REASON_CHARS => Err(invalid(
            "note_too_long",
            format!("a note to the member is at most {MAX_REASON_CHARS} characters"),
        )),
        other => Ok(other),
    }
}

pub(super) fn required_reason(reason: &str) -> Result<String, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(denied(DomainError::ReasonRequired));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(invalid(
            "reason_too_long",
            format!("a reason is at most {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(reason.to_string())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AdjustRequest {
    /// Points to add (positive) or remove (negative): a whole number, not zero, at most
    /// 1,000,000,000 either way.
    #[schema(value_type = i64)]
    pub points: serde_json::Value,
    /// Why, for managers and auditors: mandatory, kept in the event and shown in the audit
    /// log; never shown to the member.
    pub reason: String,
    /// What the member is told (Mini App history, bot /history, notification); none if absent
    /// or blank, and then the member sees only that the team changed their points.
    pub note: Option<String>,
    /// Required (`true`) when the adjustment moves more points than the server's
    /// `large_adjustment_points`: the second confirmation of a big change.
    #[serde(default)]
    pub confirm_large: bool,
}

/// Whole points only: a fraction, a string or an out-of-range number is refused here with the
/// domain's own error, before any command exists.
fn points_delta(value: &serde_json::Value) -> Result<PointsDelta, ApiError> {
    let whole = value.as_i64().ok_or_else(|| {
        invalid(
            "invalid_amount",
            format!("invalid amount of points: {value} (must be a whole number, not zero, at most 1,000,000,000 in size)"),
        )
    })?;
    PointsDelta::new(whole).map_err(denied)
}

/// Add or remove points by hand, with a mandatory reason (internal) and an optional note (the
/// member's).
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}/adjustments",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("member_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = AdjustRequest,
    responses(
        (status = 200, body = CommandReply),
        (status = 409, description = "Refused, e.g. the balance would go below zero"),
        (status = 422, description = "Invalid amount or missing reason"),
    )
)]
pub async fn adjust(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, member_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<AdjustRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let delta = points_delta(&body.points)?;
    let threshold = state.config.admin.large_adjustment_points;
    if delta.get().unsigned_abs() > threshold.unsigned_abs() && !body.confirm_large {
        return Err(invalid(
            "large_adjustment_unconfirmed",
            format!(
                "{} points is more than {threshold} at once: confirm it (confirm_large: true)",
                delta.get()
            ),
        ));
    }
    let reason = required_reason(&body.reason)?;
    let note = member_note(body.note.as_deref())?;
    let (program, member) = (ProgramId(program_id), MemberId(member_id));
    member_in(&state, program, member).await?;
    let action = auth.action(&key);
    let ledger = state.ledger();
    let command = ledger.adjust_points(program, member, delta, &reason, note, &action);
    Ok(Json(run(&state, action.request_id, command).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReverseRequest {
    /// The award or adjustment to net to zero (`entry_id` of a history line).
    pub entry_id: Uuid,
    /// Why, for managers and auditors only.
    pub reason: String,
    /// What the member is told, if anything (as for adjustments).
    pub note: Option<String>,
}

/// Reverse one specific award or adjustment: a compensating adjustment that nets it to zero.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}/reversals",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("member_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = ReverseRequest,
    responses(
        (status = 200, body = CommandReply),
        (status = 404, description = "No such entry"),
        (status = 409, description = "Already reversed"),
    )
)]
pub async fn reverse(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, member_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<ReverseRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let reason = required_reason(&body.reason)?;
    let note = member_note(body.note.as_deref())?;
    let (program, member) = (ProgramId(program_id), MemberId(member_id));
    member_in(&state, program, member).await?;
    let action = auth.action(&key);
    let target = EntryId(body.entry_id);
    let command = state
        .ledger()
        .compensate_entry(program, member, target, &reason, note, &action);
    Ok(Json(run(&state, action.request_id, command).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReverseAwardsRequest {
    /// The first instant of the range (RFC 3339): awards whose activity happened from then.
    pub from: DateTime<Utc>,
    /// The first instant after the range.
    pub until: DateTime<Utc>,
    /// Why, for managers and auditors only; kept on every compensation.
    pub reason: String,
    /// What the member is told, if anything.
    pub note: Option<String>,
}

/// Reverse every award of a member whose activity happened in a time range, with one reason:
/// one compensating adjustment per award still standing. An award already reversed or
/// compensated is left alone, so running it twice reverses each award once.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}/award-reversals",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("member_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = ReverseAwardsRequest,
    responses(
        (status = 200, body = CommandReply, description = "`unchanged` when no award in the range was left"),
        (status = 404, description = "No such member"),
        (status = 422, description = "No reason, or the range ends before it starts"),
    )
)]
pub async fn reverse_awards(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, member_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<ReverseAwardsRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let reason = required_reason(&body.reason)?;
    let note = member_note(body.note.as_deref())?;
    let (program, member) = (ProgramId(program_id), MemberId(member_id));
    member_in(&state, program, member).await?;
    let action = auth.action(&key);
    let (from, until) = (body.from.into(), body.until.into());
    let command = state
        .ledger()
        .compensate_awards(program, member, from, until, &reason, note, &action);
    Ok(Json(run(&state, action.request_id, command).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BlockRequest {
    pub reason: String,
}

/// Block a member: no awards, codewords or redemptions until unblocked.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}/block",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("member_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = BlockRequest,
    responses((status = 200, body = CommandReply), (status = 422))
)]
pub async fn block(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, member_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<BlockRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let reason = required_reason(&body.reason)?;
    let (program, member) = (ProgramId(program_id), MemberId(member_id));
    member_in(&state, program, member).await?;
    let action = auth.action(&key);
    let command = state
        .ledger()
        .block_member(program, member, &reason, &action);
    Ok(Json(run(&state, action.request_id, command).await?))
}

/// Unblock a member.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}/unblock",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("member_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    responses((status = 200, body = CommandReply))
)]
pub async fn unblock(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, member_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<CommandReply>, ApiError> {
    let (program, member) = (ProgramId(program_id), MemberId(member_id));
    member_in(&state, program, member).await?;
    let action = auth.action(&key);
    let command = state.ledger().unblock_member(program, member, &action);
    Ok(Json(run(&state, action.request_id, command).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EraseRequest {
    /// The ground, from a closed list (no free text enters the log): `manager_request` (the
    /// member asked the brand in writing), `legal_order` or `other`.
    pub reason: String,
}

/// Erase a member's personal data for a written request (admins only): accounts, names, chats
/// and notification records are deleted, one `MemberErased` event is appended, and the points
/// history stays as an anonymous member's. Erasing again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}/erasure",
    tag = "admin",
    params(
        ("program_id" = Uuid, Path), ("member_id" = Uuid, Path),
        ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header),
    ),
    request_body = EraseRequest,
    responses((status = 200, body = app::personal_data::Erased), (status = 403), (status = 422))
)]
pub async fn erase(
    auth: Authorized<Administer>,
    _key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, member_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<EraseRequest>,
) -> Result<Json<app::personal_data::Erased>, ApiError> {
    let reason = domain::event::ErasureReason::parse(body.reason.trim())
        .filter(|r| *r != domain::event::ErasureReason::MemberRequest)
        .ok_or_else(|| {
            invalid(
                "invalid_reason",
                "reason must be one of manager_request, legal_order, other",
            )
        })?;
    let (program, member) = (ProgramId(program_id), MemberId(member_id));
    member_in(&state, program, member).await?;
    let by = domain::event::Eraser::Manager {
        by: auth.session.actor(),
    };
    Ok(Json(state.erase_member(program, member, by, reason).await?))
}

/// Everything the program holds about a member, for a written request (admins only).
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}/export",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("member_id" = Uuid, Path)),
    responses((status = 200, body = app::personal_data::MemberExport), (status = 403), (status = 404))
)]
pub async fn export(
    _auth: Authorized<Administer>,
    State(state): State<AppState>,
    Path((program_id, member_id)): Path<(Uuid, Uuid)>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let (program, member) = (ProgramId(program_id), MemberId(member_id));
    member_in(&state, program, member).await?;
    let export = state.export_member(program, member).await?;
    let file = format!("attachment; filename=\"member-{member_id}.json\"");
    Ok((
        [(axum::http::header::CONTENT_DISPOSITION, file)],
        Json(export),
    )
        .into_response())
}
