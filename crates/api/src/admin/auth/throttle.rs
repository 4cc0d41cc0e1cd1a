//! Login throttling over a sliding [`WINDOW_MINUTES`]-minute window: at most [`MAX_FAILURES`]
//! failed sign-ins per (username, client address), and at most [`MAX_FAILURES_PER_ADDRESS`]
//! per address whatever usernames it types. Past either, the login answers 429 without
//! checking the password, so guessing is slowed to a handful of tries per quarter hour.
//!
//! An attempt is counted as a failure before its password is checked and forgiven when it
//! succeeds. Attempts from one address take turns on a transaction-scoped advisory lock, so
//! the count and the insert after it are one step and concurrent guesses cannot all slip in
//! under the limit.

use sqlx::PgPool;

pub const MAX_FAILURES: i64 = 5;
/// Several managers may sign in from one office address, so this is looser than per username.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const WINDOW_MINUTES: i64 = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Counted as a failure until it succeeds: go on and check the password.
    Counted,
    /// At a limit: try again after this many seconds, when the oldest failure counted leaves
    /// the window.
    Throttled { retry_after_secs: u64 },
}

/// Records an attempt unless its username or its address is already at the limit.
pub async fn begin_attempt(
    pool: &PgPool,
    username: &str,
    client: &str,
) -> Result<Attempt, sqlx::Error> {
    sqlx::query(
        "DELETE FROM admin_login_failures WHERE failed_at < now() - make_interval(mins => $1)",
    )
    .bind(WINDOW_MINUTES as i32)
    .execute(pool)
    .await?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('loyalty.login'), hashtext($1))")
        .bind(client)
        .execute(&mut *tx)
        .await?;
    // Seconds until the oldest failure of each key leaves the window.
    let (per_key, per_address, key_free_in, address_free_in): (i64, i64, f64, f64) =
        sqlx::query_as(
            "SELECT count(*) FILTER (WHERE username = $1), count(*), \
                    coalesce(extract(epoch FROM min(failed_at) FILTER (WHERE username = $1) \
                        + make_interval(mins => $3) - now())::float8, 0), \
                    coalesce(extract(epoch FROM min(failed_at) \
                        + make_interval(mins => $3) - now())::float8, 0) \
             FROM admin_login_failures \
             WHERE client = $2 AND failed_at >= now() - make_interval(mins => $3)",
        )
        .bind(username)
        .bind(client)
        .bind(WINDOW_MINUTES as i32)
        .fetch_one(&mut *tx)
        .await?;
    let wait = match (
        per_key >= MAX_FAILURES,
        per_address >= MAX_FAILURES_PER_ADDRESS,
    ) {
        (false, false) => None,
        (true, false) => Some(key_free_in),
        (false, true) => Some(address_free_in),
        (true, true) => Some(key_free_in.max(address_free_in)),
    };
    if let Some(secs) = wait {
        tx.rollback().await?;
        return Ok(Attempt::Throttled {
            retry_after_secs: secs.ceil().max(1.0) as u64,
        });
    }
    sqlx::query("INSERT INTO admin_login_failures (username, client) VALUES ($1, $2)")
        .bind(username)
        .bind(client)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Attempt::Counted)
}

/// A successful sign-in forgives the key's failures.
pub async fn succeeded(pool: &PgPool, username: &str, client: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM admin_login_failures WHERE username = $1 AND client = $2")
        .bind(username)
        .bind(client)
        .execute(pool)
        .await?;
    Ok(())
}
