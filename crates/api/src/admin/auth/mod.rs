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
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Password checks that may run at once in this process. Each holds 19 MiB and a core for tens
/// of milliseconds; without a bound, a flood of sign-ins runs them all and exhausts memory.
pub const CONCURRENT_PASSWORD_CHECKS: usize = 2;

/// The process's permits to check a password; an attempt that finds none waiting is refused at
/// once (429), not queued, so a flood costs neither memory nor waiting connections.
#[derive(Clone)]
pub struct PasswordChecks(Arc<Semaphore>);

impl Default for PasswordChecks {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(CONCURRENT_PASSWORD_CHECKS)))
    }
}

impl PasswordChecks {
    fn try_begin(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("wrong username or password")]
    Refused,
    #[error("too many failed sign-ins; try again in {} minutes", retry_after_secs.div_ceil(60))]
    Throttled { retry_after_secs: u64 },
    #[error("too many sign-ins at once; try again in a second")]
    Busy,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Checks a username and password and opens a session: returns the cookie token and the
/// session. A refusal changes nothing but the throttle's count.
pub async fn sign_in(
    pool: &PgPool,
    checks: &PasswordChecks,
    username: &str,
    password: &str,
    client: &str,
    ttl_hours: i64,
) -> Result<(String, Session), SignInError> {
    // Taken before the attempt is counted, so an attempt refused as busy costs no try.
    let permit = checks.try_begin().ok_or(SignInError::Busy)?;
    // Whatever was typed is the throttle key, so unknown usernames are throttled alike.
    let key: String = username.trim().to_lowercase().chars().take(64).collect();
    if let throttle::Attempt::Throttled { retry_after_secs } =
        throttle::begin_attempt(pool, &key, client).await?
    {
        return Err(SignInError::Throttled { retry_after_secs });
    }
    let found = match users::normalize_username(username) {
        Ok(name) => users::credentials(pool, &name).await?.map(|c| (name, c)),
        Err(_) => None,
    };
    let password = password.to_string();
    // The permit goes with the check: it is released when the hashing ends, even if the
    // request was abandoned meanwhile.
    let matched = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match found {
            Some((name, (hash, role))) if password.len() <= users::MAX_PASSWORD_BYTES => {
                password::verify(&password, &hash).then_some((name, role))
            }
            _ => {
                password::verify_nobody(&password);
                None
            }
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
