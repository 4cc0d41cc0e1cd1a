//! Accounts of the admin panel: who may sign in, with which role. Managed by admins through the
//! API and by `loyalty admin create-user` through [`create_user`].

use super::password;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;
use uuid::Uuid;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in bytes: hashing cost must not be driven by the caller.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What an account may do. Admins may do everything; managers change points, campaigns,
/// rewards and blocks; auditors only read, export and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_lowercase())
            .ok_or_else(|| format!("unknown role {s:?}: use admin, manager or auditor"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(
        "invalid username: 1 to 64 characters, lower-case Latin letters, digits, '.', '_' or '-', \
         starting with a letter or digit"
    )]
    InvalidUsername,
    #[error("password too weak: use at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("password too long: at most {MAX_PASSWORD_BYTES} bytes")]
    LongPassword,
    #[error("user {0} already exists")]
    AlreadyExists(String),
    #[error("user {0} not found")]
    NotFound(String),
    #[error("admin accounts manage every program and cannot be limited to some")]
    AdminUnlimited,
    #[error("this Telegram account is linked to another admin account")]
    TelegramTaken,
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// An account as the API shows it (never its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct AdminUser {
    pub username: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// The programs this account may see and change; `None`: every program.
    pub programs: Option<Vec<Uuid>>,
    /// Whether a Telegram account is linked for signing in with Telegram.
    pub telegram_linked: bool,
    /// The linked Telegram account's username, when it has one.
    pub telegram_username: Option<String>,
}

/// The columns of [`AdminUser`], for every query that returns accounts.
const USER_COLUMNS: &str = "username, role, created_at, disabled_at, programs, \
                            telegram_id IS NOT NULL AS telegram_linked, telegram_username";

impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// Usernames are compared lower-cased and trimmed, as typed on a login form.
pub fn normalize_username(raw: &str) -> Result<String, UserError> {
    let name = raw.trim().to_lowercase();
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !first_ok || !rest_ok || name.len() > 64 {
        return Err(UserError::InvalidUsername);
    }
    Ok(name)
}

pub fn check_password(password: &str) -> Result<(), UserError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(UserError::LongPassword);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(UserError::WeakPassword);
    }
    Ok(())
}

/// Hashes on a blocking thread: Argon2 takes tens of milliseconds of CPU by design.
pub async fn hash_password(password: &str) -> Result<String, UserError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| UserError::Hash(e.to_string()))?
        .map_err(UserError::Hash)
}

/// Creates an admin panel account, recorded as created by `actor`. Refuses an invalid username,
/// a password shorter than [`MIN_PASSWORD_CHARS`] characters, and a username that exists.
pub async fn create_user(
    pool: &PgPool,
    actor: &str,
    username: &str,
    password: &str,
    role: Role,
) -> Result<AdminUser, UserError> {
    let username = normalize_username(username)?;
    check_password(password)?;
    let hash = hash_password(password).await?;
    let mut tx = pool.begin().await?;
    let created: Option<AdminUser> = sqlx::query_as(&format!(
        "INSERT INTO admin_users (username, password_hash, role) VALUES ($1, $2, $3) \
         ON CONFLICT (username) DO NOTHING RETURNING {USER_COLUMNS}"
    ))
    .bind(&username)
    .bind(&hash)
    .bind(role.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let created = created.ok_or(UserError::AlreadyExists(username))?;
    let detail = serde_json::json!({ "role": role.as_str() });
    record_change(&mut tx, actor, &created.username, "created", detail).await?;
    tx.commit().await?;
    Ok(created)
}

/// One line of an account's history, in the transaction of the change.
async fn record_change(
    tx: &mut sqlx::PgConnection,
    actor: &str,
    username: &str,
    change: &str,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO admin_user_changes (actor, username, change, detail) VALUES ($1, $2, $3, $4)",
    )
    .bind(actor)
    .bind(username)
    .bind(change)
    .bind(detail)
    .execute(tx)
    .await?;
    Ok(())
}

/// A change made to an admin account.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AccountChange {
    pub at: DateTime<Utc>,
    /// Who made it: `manager:<username>` (the panel), `cli`, `demo`.
    pub actor: String,
    pub username: String,
    /// `created`, `role`, `disabled`, `enabled`, `password`, `programs` or `telegram`.
    pub change: String,
    /// What it became (`role`, `programs`) and what it was (`from`); nothing of a password.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// The newest changes to admin accounts first, at most `limit`.
pub async fn account_changes(pool: &PgPool, limit: i64) -> Result<Vec<AccountChange>, UserError> {
    Ok(sqlx::query_as(
        "SELECT at, actor, username, change, detail FROM admin_user_changes \
         ORDER BY id DESC LIMIT $1",
    )
    .bind(limit.clamp(1, 1_000))
    .fetch_all(pool)
    .await?)
}

/// The database refuses to limit an admin account (constraint
/// `admin_users_admins_see_everything`): that is the rule, and this names it.
fn limit_refused(e: sqlx::Error) -> UserError {
    match &e {
        sqlx::Error::Database(db)
            if db.constraint() == Some("admin_users_admins_see_everything") =>
        {
            UserError::AdminUnlimited
        }
        _ => e.into(),
    }
}

pub async fn list_users(pool: &PgPool) -> Result<Vec<AdminUser>, UserError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM admin_users ORDER BY username"
    ))
    .fetch_all(pool)
    .await?)
}

/// One account, if it exists.
pub async fn find_user(pool: &PgPool, username: &str) -> Result<Option<AdminUser>, UserError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM admin_users WHERE username = $1"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await?)
}

/// What an admin may change about an account; `None` leaves it as it is.
#[derive(Debug, Default, Clone)]
pub struct UserChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
    /// `Some(Some(ids))`: limit to these programs; `Some(None)`: every program; `None`: keep.
    /// Becoming an admin lifts any limit; limiting an admin is refused (`AdminUnlimited`).
    pub programs: Option<Option<Vec<Uuid>>>,
    /// Unlink the account's Telegram: it can no longer sign in with Telegram.
    pub unlink_telegram: bool,
}

/// Changes role, disabled flag, password or programs, recording each change as made by
/// `actor`. Disabling, a new password, a new role or new programs end the account's sessions.
pub async fn update_user(
    pool: &PgPool,
    actor: &str,
    username: &str,
    change: UserChange,
) -> Result<AdminUser, UserError> {
    let username = normalize_username(username)?;
    let hash = match &change.password {
        Some(p) => {
            check_password(p)?;
            Some(hash_password(p).await?)
        }
        None => None,
    };
    let mut tx = pool.begin().await?;
    let before: Option<AdminUser> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM admin_users WHERE username = $1 FOR UPDATE"
    ))
    .bind(&username)
    .fetch_optional(&mut *tx)
    .await?;
    let before = before.ok_or_else(|| UserError::NotFound(username.clone()))?;
    let updated: AdminUser = sqlx::query_as(&format!(
        "UPDATE admin_users SET role = coalesce($2, role), \
           password_hash = coalesce($3, password_hash), \
           disabled_at = CASE WHEN $4::bool IS NULL THEN disabled_at \
                              WHEN $4 THEN coalesce(disabled_at, now()) ELSE NULL END, \
           programs = CASE WHEN $5 THEN $6 WHEN coalesce($2, role) = 'admin' THEN NULL \
                           ELSE programs END, \
           telegram_id = CASE WHEN $7 THEN NULL ELSE telegram_id END, \
           telegram_username = CASE WHEN $7 THEN NULL ELSE telegram_username END \
         WHERE username = $1 RETURNING {USER_COLUMNS}"
    ))
    .bind(&username)
    .bind(change.role.map(Role::as_str))
    .bind(&hash)
    .bind(change.disabled)
    .bind(change.programs.is_some())
    .bind(change.programs.clone().flatten())
    .bind(change.unlink_telegram)
    .fetch_one(&mut *tx)
    .await
    .map_err(limit_refused)?;
    for (what, detail) in differences(&before, &updated, hash.is_some()) {
        record_change(&mut tx, actor, &username, what, detail).await?;
    }
    if change.disabled == Some(true)
        || hash.is_some()
        || change.role.is_some()
        || change.programs.is_some()
    {
        super::session::end_all_of(&mut tx, &username).await?;
    }
    tx.commit().await?;
    Ok(updated)
}

/// What an update changed, as history lines: only what is different afterwards (and a new
/// password, which cannot be compared).
fn differences(
    before: &AdminUser,
    after: &AdminUser,
    new_password: bool,
) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    let mut lines = Vec::new();
    if before.role != after.role {
        lines.push((
            "role",
            json!({ "from": before.role.as_str(), "role": after.role.as_str() }),
        ));
    }
    match (before.disabled_at.is_some(), after.disabled_at.is_some()) {
        (false, true) => lines.push(("disabled", json!({}))),
        (true, false) => lines.push(("enabled", json!({}))),
        _ => {}
    }
    if new_password {
        lines.push(("password", json!({})));
    }
    if before.telegram_linked != after.telegram_linked {
        lines.push(("telegram", telegram_detail(after.telegram_linked)));
    }
    if before.programs != after.programs {
        lines.push((
            "programs",
            json!({ "from": before.programs, "programs": after.programs }),
        ));
    }
    lines
}

/// A `telegram` history line's detail. Never the Telegram id: unlinking leaves no trace of
/// which Telegram user it was.
fn telegram_detail(linked: bool) -> serde_json::Value {
    serde_json::json!({ "linked": linked })
}

/// Links the Telegram user the Login Widget proved to `username` (the signed-in account
/// itself), replacing any earlier link. Refused when another account holds that user.
pub async fn link_telegram(
    pool: &PgPool,
    username: &str,
    telegram_id: i64,
    telegram_username: Option<&str>,
) -> Result<AdminUser, UserError> {
    let mut tx = pool.begin().await?;
    let linked: Option<AdminUser> = sqlx::query_as(&format!(
        "UPDATE admin_users SET telegram_id = $2, telegram_username = $3 \
         WHERE username = $1 RETURNING {USER_COLUMNS}"
    ))
    .bind(username)
    .bind(telegram_id)
    .bind(telegram_username)
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("admin_users_telegram_id_key") => {
            UserError::TelegramTaken
        }
        _ => e.into(),
    })?;
    let linked = linked.ok_or_else(|| UserError::NotFound(username.to_string()))?;
    let actor = format!("manager:{username}");
    record_change(&mut tx, &actor, username, "telegram", telegram_detail(true)).await?;
    tx.commit().await?;
    Ok(linked)
}

/// The enabled account a Telegram user signs in as, with its role.
pub async fn telegram_account(
    pool: &PgPool,
    telegram_id: i64,
) -> Result<Option<(String, Role)>, sqlx::Error> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT username, role FROM admin_users WHERE telegram_id = $1 AND disabled_at IS NULL",
    )
    .bind(telegram_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(name, role)| role.parse().ok().map(|role| (name, role))))
}

/// The stored hash and role of an enabled account, for signing in.
pub(super) async fn credentials(
    pool: &PgPool,
    username: &str,
) -> Result<Option<(String, Role)>, sqlx::Error> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT password_hash, role FROM admin_users WHERE username = $1 AND disabled_at IS NULL",
    )
    .bind(username)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(hash, role)| role.parse().ok().map(|role| (hash, role))))
}
