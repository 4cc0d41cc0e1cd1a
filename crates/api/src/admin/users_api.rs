//! Accounts of the admin panel, managed by admins. Keyed by username: creating the same
//! account twice is refused (409) and changes nothing, so these need no Idempotency-Key.

use super::auth::users::AccountChange;
use super::auth::users::{self, UserChange};
use super::auth::{AdminUser, Administer, Audit, Authorized, Role, UserError};
use super::support::Body;
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        let status = match &e {
            UserError::InvalidUsername | UserError::WeakPassword | UserError::LongPassword => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            UserError::AlreadyExists(_) | UserError::AdminUnlimited | UserError::TelegramTaken => {
                StatusCode::CONFLICT
            }
            UserError::NotFound(_) => StatusCode::NOT_FOUND,
            UserError::Hash(_) | UserError::Db(_) => return ApiError::internal(e),
        };
        let code = match &e {
            UserError::InvalidUsername => "invalid_username",
            UserError::WeakPassword => "weak_password",
            UserError::LongPassword => "long_password",
            UserError::AlreadyExists(_) => "already_exists",
            UserError::AdminUnlimited => "admin_unlimited",
            UserError::TelegramTaken => "telegram_taken",
            _ => "not_found",
        };
        ApiError::new(status, code, e.to_string())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<AdminUser>,
}

/// Every account of the admin panel.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "admin",
    responses((status = 200, body = UserList), (status = 403))
)]
pub async fn list(
    _auth: Authorized<Administer>,
    State(state): State<AppState>,
) -> Result<Json<UserList>, ApiError> {
    Ok(Json(UserList {
        users: users::list_users(&state.pool).await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserRequest {
    pub username: String,
    /// At least 10 characters.
    pub password: String,
    pub role: Role,
    /// Limit a manager or auditor to these programs; absent: every program.
    pub programs: Option<Vec<Uuid>>,
}

/// Create an account.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    tag = "admin",
    params(("X-CSRF-Token" = String, Header)),
    request_body = NewUserRequest,
    responses((status = 200, body = AdminUser), (status = 409), (status = 422))
)]
pub async fn create(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Body(body): Body<NewUserRequest>,
) -> Result<Json<AdminUser>, ApiError> {
    if body.role == Role::Admin && body.programs.is_some() {
        return Err(UserError::AdminUnlimited.into());
    }
    let actor = auth.session.actor();
    let user = users::create_user(
        &state.pool,
        &actor,
        &body.username,
        &body.password,
        body.role,
    )
    .await?;
    let user = match body.programs {
        Some(programs) => {
            let limit = UserChange {
                programs: Some(Some(programs)),
                ..UserChange::default()
            };
            users::update_user(&state.pool, &actor, &user.username, limit).await?
        }
        None => user,
    };
    Ok(Json(user))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserChangeRequest {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// A new password (at least 10 characters); ends the account's sessions.
    pub password: Option<String>,
    /// Limit the account to these programs (ends its sessions).
    pub programs: Option<Vec<Uuid>>,
    /// `true`: lift the limit, every program again (ends its sessions).
    pub every_program: Option<bool>,
    /// `true`: unlink the account's Telegram, so it signs in only with its password.
    pub unlink_telegram: Option<bool>,
}

/// Change an account's role, disable or enable it, set a new password or unlink its Telegram.
#[utoipa::path(
    put,
    path = "/api/v1/admin/users/{username}",
    tag = "admin",
    params(("username" = String, Path), ("X-CSRF-Token" = String, Header)),
    request_body = UserChangeRequest,
    responses((status = 200, body = AdminUser), (status = 404), (status = 409), (status = 422))
)]
pub async fn update(
    auth: Authorized<Administer>,
    State(state): State<AppState>,
    Path(username): Path<String>,
    Body(body): Body<UserChangeRequest>,
) -> Result<Json<AdminUser>, ApiError> {
    let own = users::normalize_username(&username)? == auth.session.username;
    if own && (body.disabled == Some(true) || body.role.is_some_and(|r| r != Role::Admin)) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "own_account",
            "you cannot disable or demote your own account; ask another admin",
        ));
    }
    let programs = match (body.programs, body.every_program) {
        (Some(_), Some(true)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "conflicting_programs",
                "give either programs or every_program, not both",
            ));
        }
        (Some(ids), _) => Some(Some(ids)),
        (None, Some(true)) => Some(None),
        (None, _) => None,
    };
    let change = UserChange {
        role: body.role,
        disabled: body.disabled,
        password: body.password,
        programs,
        unlink_telegram: body.unlink_telegram == Some(true),
    };
    Ok(Json(
        users::update_user(&state.pool, &auth.session.actor(), &username, change).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountChanges {
    /// Newest first.
    pub changes: Vec<AccountChange>,
}

/// Who created, changed, disabled or enabled which admin account, and when (the 500 latest).
#[utoipa::path(
    get,
    path = "/api/v1/admin/users/changes",
    tag = "admin",
    responses((status = 200, body = AccountChanges), (status = 401), (status = 403))
)]
pub async fn changes(
    _auth: Authorized<Audit>,
    State(state): State<AppState>,
) -> Result<Json<AccountChanges>, ApiError> {
    let changes = users::account_changes(&state.pool, 500).await?;
    Ok(Json(AccountChanges { changes }))
}
