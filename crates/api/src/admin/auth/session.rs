//! Server-side sessions. The browser holds a random 256-bit token in an HttpOnly,
//! SameSite=Strict cookie; the database holds only its SHA-256, the account and a per-session
//! CSRF token, so a session ends the moment its row is deleted or its account disabled.

use super::users::Role;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// The session cookie's name.
pub const COOKIE: &str = "loyalty_admin";

/// A live session, as a request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub role: Role,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    /// The programs the account may see and change; `None`: every program.
    pub programs: Option<Vec<Uuid>>,
}

impl Session {
    /// Whether the account may see and change this program.
    pub fn may_access(&self, program: Uuid) -> bool {
        self.programs
            .as_ref()
            .is_none_or(|programs| programs.contains(&program))
    }

    /// The event actor for this account's changes (`manager:<username>` for every role: the
    /// prefix names the admin panel's accounts, the role may change later).
    pub fn actor(&self) -> String {
        format!("manager:{}", self.username)
    }

    /// Constant-time comparison, so response timing does not reveal a token prefix.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        let expected = self.csrf_token.as_bytes();
        expected.len() == presented.len() && bool::from(expected.ct_eq(presented.as_bytes()))
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Opens a session for `username`; returns the cookie token (shown once, never stored).
pub async fn start(
    pool: &PgPool,
    username: &str,
    role: Role,
    ttl_hours: i64,
    client: &str,
) -> Result<(String, Session), sqlx::Error> {
    let token = random_hex();
    let mut session = Session {
        username: username.to_string(),
        role,
        csrf_token: random_hex(),
        expires_at: Utc::now() + Duration::hours(ttl_hours.clamp(1, 24 * 30)),
        programs: None,
    };
    // Expired rows are swept as new sessions open, so the table stays small without a job.
    sqlx::query("DELETE FROM admin_sessions WHERE expires_at < now()")
        .execute(pool)
        .await?;
    session.programs = sqlx::query_scalar(
        "INSERT INTO admin_sessions (token_sha256, username, csrf_token, expires_at, client) \
         VALUES ($1, $2, $3, $4, $5) \
         RETURNING (SELECT programs FROM admin_users WHERE username = $2)",
    )
    .bind(digest(&token))
    .bind(username)
    .bind(&session.csrf_token)
    .bind(session.expires_at)
    .bind(client)
    .fetch_one(pool)
    .await?;
    Ok((token, session))
}

/// The live session a cookie token belongs to: unexpired, and its account enabled.
pub async fn find(pool: &PgPool, token: &str) -> Result<Option<Session>, sqlx::Error> {
    type Row = (String, String, String, DateTime<Utc>, Option<Vec<Uuid>>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT s.username, u.role, s.csrf_token, s.expires_at, u.programs FROM admin_sessions s \
         JOIN admin_users u USING (username) \
         WHERE s.token_sha256 = $1 AND s.expires_at > now() AND u.disabled_at IS NULL",
    )
    .bind(digest(token))
    .fetch_optional(pool)
    .await?;
    Ok(
        row.and_then(|(username, role, csrf_token, expires_at, programs)| {
            Some(Session {
                username,
                role: role.parse().ok()?,
                csrf_token,
                expires_at,
                programs,
            })
        }),
    )
}

pub async fn end(pool: &PgPool, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM admin_sessions WHERE token_sha256 = $1")
        .bind(digest(token))
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends every session of an account, inside the transaction that changes the account, so no
/// request runs on with the old role, programs or password.
pub async fn end_all_of(conn: &mut sqlx::PgConnection, username: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM admin_sessions WHERE username = $1")
        .bind(username)
        .execute(conn)
        .await?;
    Ok(())
}

/// The session token from the request's Cookie headers, if it looks like one.
pub fn token_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The Set-Cookie value that stores `token` for `ttl_hours`.
pub fn cookie(token: &str, ttl_hours: i64, secure: bool) -> HeaderValue {
    let max_age = ttl_hours.clamp(1, 24 * 30) * 3600;
    let secure = if secure { "; Secure" } else { "" };
    let value =
        format!("{COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The Set-Cookie value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}
