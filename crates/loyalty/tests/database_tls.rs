//! PostgreSQL over TLS: a database URL with `sslmode=require` gets an encrypted connection, and
//! one with `sslmode=verify-full` connects only to a server whose certificate comes from the
//! authority in `sslrootcert` and carries the host's name; otherwise `loyalty` stops with one
//! line. The test server's own certificate is the one PostgreSQL serves (`ssl_cert_file`).

use sqlx::{Connection, PgConnection, PgPool};
use std::path::PathBuf;
use std::process::{Command, Output};

/// The certificate the test server presents, self-signed for `localhost` on Debian's
/// PostgreSQL. TLS must be on: a test server without it fails here, it does not pass.
async fn server_certificate(pool: &PgPool) -> PathBuf {
    let ssl: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(ssl, "on", "the test PostgreSQL must have TLS on (ssl = on)");
    let file: String = sqlx::query_scalar("SHOW ssl_cert_file")
        .fetch_one(pool)
        .await
        .unwrap();
    let data: String = sqlx::query_scalar("SHOW data_directory")
        .fetch_one(pool)
        .await
        .unwrap();
    PathBuf::from(data).join(file)
}

async fn migrate(url: &str) -> Output {
    let mut command = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")));
    command.env("DATABASE_URL", url).arg("migrate");
    command.output().await.expect("loyalty runs")
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn database_urls_require_tls_and_verify_the_servers_certificate(pool: PgPool) {
    let options = pool.connect_options();
    let (port, database) = (
        options.get_port(),
        options.get_database().unwrap().to_string(),
    );
    let certificate = server_certificate(&pool).await;
    let url =
        |host: &str, query: &str| format!("postgres://postgres@{host}:{port}/{database}?{query}");

    let mut required = PgConnection::connect(&url("127.0.0.1", "sslmode=require"))
        .await
        .unwrap();
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut required)
            .await
            .unwrap();
    assert!(encrypted, "sslmode=require gives an encrypted connection");

    let trusted = format!("sslmode=verify-full&sslrootcert={}", certificate.display());
    let verified = migrate(&url("localhost", &trusted)).await;
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );

    // An authority the server's certificate is not from: refused, in one line.
    let stranger = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = std::env::temp_dir().join(format!("loyalty-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let other_ca = dir.join("other-ca.pem");
    std::fs::write(&other_ca, stranger.cert.pem()).unwrap();
    let untrusted = format!("sslmode=verify-full&sslrootcert={}", other_ca.display());
    let refused = migrate(&url("localhost", &untrusted)).await;
    let said = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success());
    assert!(said.to_lowercase().contains("certificate"), "{said}");
    assert_eq!(said.trim().lines().count(), 1, "{said}");

    // The right authority but another name than the certificate carries: refused too.
    let wrong_name = migrate(&url("127.0.0.1", &trusted)).await;
    assert!(!wrong_name.status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}
