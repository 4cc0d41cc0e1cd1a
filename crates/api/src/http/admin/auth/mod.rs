//! Who is asking: accounts (argon2 hashes), server-side sessions, CSRF tokens, login
//! throttling, and the extractors that check all of them before a handler runs.

pub mod guard;
pub mod password;
pub mod session;
pub mod throttle;
pub mod users;

pub use guard::{Administer, Audit, Authorized, IdempotencyKey, Manage, Publish, Read};
pub use session::Session;
pub use users::{AdminUser, Role, UserError, create_user};

use sqlx::PgPool;

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("wrong username or password")]
    Refused,
    #[error(
        "too many failed sign-ins; try again in {} minutes",
        throttle::WINDOW_MINUTES
    )]
    Throttled,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Checks a username and password and opens a session: returns the cookie token and the
/// session. A refusal changes nothing but the throttle's count.
pub async fn sign_in(
    pool: &PgPool,
    username: &str,
    password: &str,
    client: &str,
    ttl_hours: i64,
) -> Result<(String, Session), SignInError> {
    // Whatever was typed is the throttle key, so unknown usernames are throttled alike.
    let key: String = username.trim().to_lowercase().chars().take(64).collect();
    if throttle::begin_attempt(pool, &key, client).await?.is_none() {
        return Err(SignInError::Throttled);
    }
    let found = match users::normalize_username(username) {
        Ok(name) => users::credentials(pool, &name).await?.map(|c| (name, c)),
        Err(_) => None,
    };
    let password = password.to_string();
    let matched = tokio::task::spawn_blocking(move || match found {
        Some((name, (hash, role))) if password.len() <= users::MAX_PASSWORD_BYTES => {
            password::verify(&password, &hash).then_some((name, role))
        }
        _ => {
            password::verify_nobody(&password);
            None
        }
    })
    .await
    .ok()
    .flatten();
    let Some((name, role)) = matched else {
        return Err(SignInError::Refused);
    };
    throttle::succeeded(pool, &key, client).await?;
    Ok(session::start(pool, &name, role, ttl_hours, client).await?)
}
