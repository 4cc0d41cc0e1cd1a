//! Extractors that run before every admin handler: a live session (401), the CSRF token on
//! every state change (403), the role the endpoint needs (403), and the idempotency key that
//! makes a double submit a no-op. A handler that takes `Authorized<P>` cannot forget any of
//! the first three.

use super::session::{self, Session};
use super::users::Role;
use crate::AppState;
use crate::error::ApiError;
use app::ManagerAction;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use std::marker::PhantomData;

/// The header that must carry the session's CSRF token on POST, PUT, PATCH and DELETE.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The header that names one intended change; repeating it changes nothing twice.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The roles an endpoint admits.
pub trait Permission: Send + Sync + 'static {
    const ROLES: &'static [Role];
    const WHAT: &'static str;
}

/// Everyone signed in: dashboards, members, campaigns, rewards, leaderboards, the audit log.
pub struct Read;
/// Changes to points, campaigns, rewards and blocks.
pub struct Manage;
/// Posting to the program's Telegram chats (polls) and members' chats (broadcasts): the
/// roles that manage.
pub struct Publish;
/// Accounts, programs and rules.
pub struct Administer;
/// Event export, as-of views and verification.
pub struct Audit;

impl Permission for Read {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Manager, Role::Auditor];
    const WHAT: &'static str = "read";
}
impl Permission for Manage {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Manager];
    const WHAT: &'static str = "change points, campaigns, rewards or blocks";
}
impl Permission for Publish {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Manager];
    const WHAT: &'static str = "publish polls or broadcasts";
}
impl Permission for Administer {
    const ROLES: &'static [Role] = &[Role::Admin];
    const WHAT: &'static str = "manage accounts, programs or rules";
}
impl Permission for Audit {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Auditor];
    const WHAT: &'static str = "use the auditor's tools";
}

/// A request from a live session whose role holds permission `P`.
pub struct Authorized<P> {
    pub session: Session,
    _permission: PhantomData<P>,
}

pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The session of a request, checking the CSRF header if the request changes state.
pub async fn session_of(parts: &Parts, state: &AppState) -> Result<Session, ApiError> {
    let unauthorized = || ApiError::unauthorized("sign in to the admin panel first");
    let token = session::token_from(&parts.headers).ok_or_else(unauthorized)?;
    let session = session::find(&state.pool, &token)
        .await?
        .ok_or_else(unauthorized)?;
    if changes_state(&parts.method) {
        let presented = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !session.csrf_matches(presented) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_token_invalid",
                "missing or wrong X-CSRF-Token header; reload the page",
            ));
        }
    }
    Ok(session)
}

impl<P: Permission> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = session_of(parts, state).await?;
        if !P::ROLES.contains(&session.role) {
            return Err(ApiError::forbidden(format!(
                "the {} role may not {}",
                session.role,
                P::WHAT
            )));
        }
        // Every program-scoped route lives under /programs/{id}: one check covers them all.
        if let Some(program) = program_in_path(parts.uri.path())
            && !session.may_access(program)
        {
            return Err(ApiError::forbidden(format!(
                "this account does not manage program {program}"
            )));
        }
        Ok(Self {
            session,
            _permission: PhantomData,
        })
    }
}

/// The program a `/api/v1/admin/programs/{id}/...` path names. A path segment that is not a
/// program id names no program (and routing answers it).
fn program_in_path(path: &str) -> Option<uuid::Uuid> {
    let rest = path.strip_prefix("/api/v1/admin/programs/")?;
    rest.split('/').next()?.parse().ok()
}

/// The `Idempotency-Key` header: 1 to 128 visible ASCII characters, chosen by the client once
/// per intended change (the panel makes one per form display).
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let key = parts
            .headers
            .get(IDEMPOTENCY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "idempotency_key_required",
                    "every change needs an Idempotency-Key header (1-128 visible ASCII characters)",
                )
            })?;
        Ok(Self(key.to_string()))
    }
}

impl<P> Authorized<P> {
    /// The command-layer action for this change: the account as actor, and a request id
    /// derived from (account, key), so the same submit always produces the same event ids.
    pub fn action(&self, key: &IdempotencyKey) -> ManagerAction {
        ManagerAction {
            manager: self.session.actor(),
            request_id: domain::ids::derived_id(&format!(
                "admin/{}/{}",
                self.session.username, key.0
            )),
            at: chrono::Utc::now().into(),
        }
    }
}
