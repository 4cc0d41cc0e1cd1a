//! What the tests that run the `loyalty` binary share.

use sqlx::PgPool;

/// The URL of the test's own database, for a `loyalty` child process.
pub fn database_url(pool: &PgPool) -> String {
    let options = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    )
}
