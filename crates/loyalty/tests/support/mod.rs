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

/// A privacy key for a `loyalty serve` child (`serve` refuses to start without one).
#[allow(dead_code)] // only the test binaries that start `serve` use it
pub const PRIVACY_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
