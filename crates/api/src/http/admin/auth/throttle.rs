//! Login throttling: at most [`MAX_FAILURES`] failed sign-ins per (username, client address)
//! in any [`WINDOW_MINUTES`]-minute window; after that the login answers 429 without checking
//! the password, so guessing is slowed to a handful of tries per quarter hour.
//!
//! An attempt is counted as a failure before its password is checked and forgiven when it
//! succeeds, so concurrent guesses cannot all slip in under the limit.

use sqlx::PgPool;

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_MINUTES: i64 = 15;

/// Records an attempt unless the key is already at the limit; `None` means throttled.
pub async fn begin_attempt(
    pool: &PgPool,
    username: &str,
    client: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query(
        "DELETE FROM admin_login_failures WHERE failed_at < now() - make_interval(mins => $1)",
    )
    .bind(WINDOW_MINUTES as i32)
    .execute(pool)
    .await?;
    sqlx::query_scalar(
        "INSERT INTO admin_login_failures (username, client) SELECT $1, $2 \
         WHERE (SELECT count(*) FROM admin_login_failures \
                WHERE username = $1 AND client = $2 \
                  AND failed_at >= now() - make_interval(mins => $4)) < $3 \
         RETURNING 1::int8",
    )
    .bind(username)
    .bind(client)
    .bind(MAX_FAILURES)
    .bind(WINDOW_MINUTES as i32)
    .fetch_optional(pool)
    .await
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
