//! One person, one member: a manager links an account to the member who is the same person
//! (an account that earned on its own moves with its points), unlinks one, with a reason each
//! time, and sees suggestions: members with the same handle on another network.

use super::auth::{Authorized, IdempotencyKey, Manage, Read};
use super::members::required_reason;
use super::queries::{self, MemberHit};
use super::support::{Body, CommandReply, member_in, run};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use domain::ids::{AccountRef, MemberId, ProgramId};
use domain::network::{LinkedAccount, Network};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkRequest {
    /// The account to link (`account_ref` of a member's account).
    pub account: Uuid,
    /// Why: kept in the ledger for managers and auditors.
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UnlinkRequest {
    pub reason: String,
}

/// The account as the program knows it: its network, or 404.
async fn known_account(
    state: &AppState,
    program: ProgramId,
    account: Uuid,
) -> Result<LinkedAccount, ApiError> {
    let network: Option<String> = sqlx::query_scalar(
        "SELECT network FROM external_accounts WHERE program_id = $1 AND account_ref = $2",
    )
    .bind(program.0)
    .bind(account)
    .fetch_optional(&state.pool)
    .await?;
    let network = network
        .as_deref()
        .and_then(Network::parse)
        .ok_or_else(|| ApiError::not_found("no such account in this program"))?;
    Ok(LinkedAccount {
        network,
        account: AccountRef(account),
    })
}

/// Link an account to this member, who is the same person. An account that so far earned as
/// a member of its own moves here with its points; 409 `identity_already_claimed` when a member
/// who joined by themselves holds it (unlink it there first: their points stay theirs).
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}/accounts",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("member_id" = Uuid, Path), ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header)),
    request_body = LinkRequest,
    responses((status = 200, body = CommandReply), (status = 404), (status = 409), (status = 422))
)]
pub async fn link(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, member_id)): Path<(Uuid, Uuid)>,
    Body(body): Body<LinkRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let reason = required_reason(&body.reason)?;
    let (program, member) = (ProgramId(program_id), MemberId(member_id));
    member_in(&state, program, member).await?;
    let account = known_account(&state, program, body.account).await?;
    let action = auth.action(&key);
    let command = state
        .ledger()
        .manager_link_account(program, member, account, &reason, &action);
    Ok(Json(run(&state, action.request_id, command).await?))
}

/// Unlink an account from this member: it earns for nobody until someone links it again.
/// 409 `identity_not_linked` when it is not this member's.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}/accounts/{account}/unlink",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("member_id" = Uuid, Path), ("account" = Uuid, Path), ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header)),
    request_body = UnlinkRequest,
    responses((status = 200, body = CommandReply), (status = 404), (status = 409), (status = 422))
)]
pub async fn unlink(
    auth: Authorized<Manage>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path((program_id, member_id, account)): Path<(Uuid, Uuid, Uuid)>,
    Body(body): Body<UnlinkRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let reason = required_reason(&body.reason)?;
    let (program, member) = (ProgramId(program_id), MemberId(member_id));
    member_in(&state, program, member).await?;
    let account = known_account(&state, program, account).await?;
    let action = auth.action(&key);
    let command = state
        .ledger()
        .manager_unlink_account(program, member, account, &reason, &action);
    Ok(Json(run(&state, action.request_id, command).await?))
}

/// Another member who may be the same person.
#[derive(Debug, Serialize, ToSchema)]
pub struct SamePerson {
    pub member_id: Uuid,
    /// The handle both have, lower-cased.
    pub handle: String,
    /// The other member's accounts, to link here.
    pub accounts: Vec<MemberHit>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SamePersonList {
    pub suggestions: Vec<SamePerson>,
}

/// Members who may be this member: another member with the same username (case aside) on an
/// account of another network. At most 20.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/members/{member_id}/same-person",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("member_id" = Uuid, Path)),
    responses((status = 200, body = SamePersonList), (status = 404))
)]
pub async fn suggestions(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path((program_id, member_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<SamePersonList>, ApiError> {
    member_in(&state, ProgramId(program_id), MemberId(member_id)).await?;
    let found: Vec<(Uuid, String)> = sqlx::query_as(
        "WITH mine AS ( \
           SELECT DISTINCT i.network, lower(p.username) AS handle FROM identities i \
           JOIN profiles p ON p.account_ref = i.account_ref \
           WHERE i.program_id = $1 AND i.member_id = $2 AND p.username IS NOT NULL) \
         SELECT DISTINCT i.member_id, lower(p.username) FROM profiles p \
         JOIN identities i ON i.account_ref = p.account_ref AND i.program_id = $1 \
         WHERE p.program_id = $1 AND lower(p.username) IN (SELECT handle FROM mine) \
           AND i.member_id <> $2 \
           AND NOT EXISTS (SELECT 1 FROM mine m WHERE m.network = i.network \
                           AND m.handle = lower(p.username)) \
         ORDER BY 1 LIMIT 20",
    )
    .bind(program_id)
    .bind(member_id)
    .fetch_all(&state.pool)
    .await?;
    let mut suggestions = Vec::with_capacity(found.len());
    for (other, handle) in found {
        let accounts = queries::member_accounts(&state.pool, program_id, other).await?;
        suggestions.push(SamePerson {
            member_id: other,
            handle,
            accounts,
        });
    }
    Ok(Json(SamePersonList { suggestions }))
}
