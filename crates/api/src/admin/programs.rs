//! Programs and their rules: admins create programs and edit rules (validated by the domain
//! and recorded as a new rules version); everyone signed in may read them.

use super::auth::{Administer, Authorized, IdempotencyKey, Read};
use super::queries::ProgramRow;
use super::support::{Body, CommandReply, invalid, run};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use domain::ids::ProgramId;
use domain::program::Rules;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramList {
    pub programs: Vec<ProgramRow>,
    /// The program this server is configured for (LOYALTY_PROGRAM), shown first by the panel.
    pub default_program: Option<Uuid>,
}

/// Every program, and the configured default.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs",
    tag = "admin",
    responses((status = 200, body = ProgramList))
)]
pub async fn list(
    auth: Authorized<Read>,
    State(state): State<AppState>,
) -> Result<Json<ProgramList>, ApiError> {
    let programs = app::reads::programs(state.ledger().store())
        .await?
        .into_iter()
        .filter(|p| auth.session.may_access(p.program_id))
        .map(ProgramRow::from)
        .collect();
    Ok(Json(ProgramList {
        programs,
        default_program: state.config.program.filter(|p| auth.session.may_access(*p)),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewProgramRequest {
    pub name: String,
    /// An IANA zone, e.g. `Europe/Moscow`: days, weeks and months are counted in it.
    pub time_zone: String,
}

/// Create a program with the standard rules. Its id is derived from the Idempotency-Key.
#[utoipa::path(
    post,
    path = "/api/v1/admin/programs",
    tag = "admin",
    params(("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header)),
    request_body = NewProgramRequest,
    responses((status = 200, body = CommandReply), (status = 422))
)]
pub async fn create(
    auth: Authorized<Administer>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Body(body): Body<NewProgramRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let name = body.name.trim().to_string();
    if name.is_empty() {
        return Err(invalid("invalid_name", "a program needs a name"));
    }
    let time_zone: chrono_tz::Tz = body.time_zone.trim().parse().map_err(|_| {
        invalid(
            "invalid_time_zone",
            format!("unknown time zone {:?}", body.time_zone),
        )
    })?;
    let action = auth.action(&key);
    let program = ProgramId(action.request_id);
    let command =
        state
            .ledger()
            .create_program(program, &name, time_zone, Rules::standard(), &action);
    let reply = run(&state, action.request_id, command).await?;
    Ok(Json(reply.created(action.request_id)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RulesReply {
    pub program_id: Uuid,
    pub time_zone: String,
    /// The rules version in force (each change makes the next).
    pub version: u32,
    /// Points per network and activity, caps, cooldowns, minimum comment length, repeated
    /// texts (`refuse_repeated_text`, `repeated_text_window_days`), own accounts, the relink
    /// cooldown (`relink_cooldown_days`), what is held for review (`review`), the tier ladder
    /// (`tiers`: `window_days`, 0 for lifetime points, and `levels` of `name`, `threshold`,
    /// `multiplier_percent`).
    #[schema(value_type = Object)]
    pub rules: Rules,
    /// How many members stand on each tier now, lowest first.
    pub tier_members: Vec<TierMembers>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierMembers {
    /// The place on the ladder, from 1.
    pub level: i32,
    pub tier: String,
    pub members: i64,
}

/// The program's rules in force, as JSON.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/rules",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = RulesReply), (status = 404))
)]
pub async fn rules(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<RulesReply>, ApiError> {
    let program = state.ledger().program(ProgramId(program_id)).await?;
    let counts = projections::balances::tier_counts(&state.pool, program_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(RulesReply {
        program_id,
        time_zone: program.time_zone.name().to_string(),
        version: program.rules_version,
        rules: program.rules,
        tier_members: counts
            .into_iter()
            .map(|(level, tier, members)| TierMembers {
                level,
                tier,
                members,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RulesRequest {
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
}

/// Replace the program's rules. The domain validates them; awards already made keep the
/// rules version that priced them.
#[utoipa::path(
    put,
    path = "/api/v1/admin/programs/{program_id}/rules",
    tag = "admin",
    params(("program_id" = Uuid, Path), ("Idempotency-Key" = String, Header), ("X-CSRF-Token" = String, Header)),
    request_body = RulesRequest,
    responses((status = 200, body = CommandReply), (status = 404), (status = 422))
)]
pub async fn change_rules(
    auth: Authorized<Administer>,
    key: IdempotencyKey,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Body(body): Body<RulesRequest>,
) -> Result<Json<CommandReply>, ApiError> {
    let rules: Rules = serde_json::from_value(body.rules)
        .map_err(|e| invalid("invalid_rules", format!("invalid rules: {e}")))?;
    let action = auth.action(&key);
    let command = state
        .ledger()
        .change_rules(ProgramId(program_id), rules, &action);
    Ok(Json(run(&state, action.request_id, command).await?))
}

/// One version of the rules, as the history lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesVersionReply {
    pub version: u32,
    /// Who set them (`manager:<username>`, or whoever created the program for version 1).
    pub by: String,
    pub at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = Object)]
    pub rules: Rules,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RulesHistory {
    /// Newest first.
    pub versions: Vec<RulesVersionReply>,
}

/// Every version of the program's rules, newest first, with who set it and when; the panel
/// shows what each changed from the one before.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/rules/history",
    tag = "admin",
    params(("program_id" = Uuid, Path)),
    responses((status = 200, body = RulesHistory), (status = 404))
)]
pub async fn rules_history(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
) -> Result<Json<RulesHistory>, ApiError> {
    let history = app::reads::rules_history(state.ledger().store(), ProgramId(program_id)).await?;
    if history.is_empty() {
        return Err(ApiError::not_found("no such program"));
    }
    let versions = history
        .into_iter()
        .rev()
        .map(|v| RulesVersionReply {
            version: v.version,
            by: v.by,
            at: v.at,
            rules: v.rules,
        })
        .collect();
    Ok(Json(RulesHistory { versions }))
}
