//! What the tests that run the `loyalty` binary share. Each test binary includes this module and
//! uses part of it.
#![allow(dead_code)]

use sqlx::PgPool;
use std::process::{Command, Output};
use std::time::Duration;
use tokio::process::Child;

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
pub const PRIVACY_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The keys a child with [`PRIVACY_KEY`] seals and opens channel secrets with.
pub fn secret_box() -> app::secrets::SecretBox {
    let privacy = app::config::PrivacyConfig {
        key: PRIVACY_KEY.to_string().into(),
        secrets_keys: Default::default(),
    };
    privacy.secret_box(false).unwrap()
}

/// A `loyalty serve` child on a free loopback port, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

/// Starts `loyalty serve` on the database `url` (Telegram off) and waits until `/healthz`
/// answers.
pub async fn start_serve(url: &str) -> Server {
    start_serve_with(url, &[]).await
}

/// [`start_serve`] with `env` on top.
pub async fn start_serve_with(url: &str, env: &[(&str, &str)]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("LOYALTY_LISTEN", format!("127.0.0.1:{port}"))
        .env("LOYALTY_PRIVACY_KEY", PRIVACY_KEY)
        .env("LOYALTY_TELEGRAM_MODE", "off")
        .env("RUST_LOG", "warn")
        .env_remove("LOYALTY_CONFIG")
        .env_remove("LOYALTY_SECRETS_KEYS")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("loyalty serve starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if let Ok(reply) = client.get(format!("{base}/healthz")).send().await
            && reply.status().is_success()
        {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("loyalty serve did not answer /healthz");
}

/// A VK `wall_reply_new` delivery: comment `n` under the demo group's post, by `from`.
pub fn vk_comment(secret: &str, n: i64, from: i64) -> String {
    serde_json::json!({"type": "wall_reply_new", "group_id": loyalty::demo::VK_GROUP,
        "event_id": format!("comment-{n}"), "secret": secret,
        "object": {"id": 90_000 + n, "from_id": from, "post_id": 1,
        "owner_id": -loyalty::demo::VK_GROUP, "date": 1767268800,
        "text": format!("Комментарий под постом номер {n}")}})
    .to_string()
}

/// `loyalty ARGS` on the database `url`, to its end.
pub async fn run_loyalty(url: &str, args: &[&str]) -> Output {
    tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")))
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("LOYALTY_CONFIG")
        .output()
        .await
        .expect("loyalty runs")
}

/// Panics with both outputs unless `output` is a success.
pub fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({:?}):\n{}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until every projection's checkpoint is at the head of the log, in the log's order
/// (`tx_id`, then `position`): the log's last event need not hold its highest position, since
/// concurrent appends interleave their positions. Up to 30 s: on a loaded two-core runner a
/// second process's projections take over one lock at a time.
pub async fn wait_for_projections(pool: &PgPool) {
    let behind = "SELECT count(*) FROM projection_checkpoints p, \
                    (SELECT tx_id, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1) h \
                  WHERE (p.tx_id, p.position) < (h.tx_id, h.position)";
    for _ in 0..1500 {
        let n: i64 = sqlx::query_scalar(behind).fetch_one(pool).await.unwrap();
        if n == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "projections did not reach the head of the log:\n{}",
        why_behind(pool).await
    );
}

/// What holds projections back: each checkpoint, the first events after the lowest one in the
/// log's order, the read horizon, and every open transaction on the database.
async fn why_behind(pool: &PgPool) -> String {
    let lines: Vec<String> = sqlx::query_scalar(
        "SELECT format('checkpoint %s at (%s, %s)', name, tx_id, position) \
           FROM projection_checkpoints \
         UNION ALL (SELECT format('event %s at (%s, %s), recorded %s', e.event_type, e.tx_id, \
                                  e.position, e.recorded_at) \
              FROM events e, \
                   (SELECT tx_id, position FROM projection_checkpoints \
                     ORDER BY tx_id, position LIMIT 1) c \
             WHERE (e.tx_id, e.position) > (c.tx_id, c.position) \
             ORDER BY e.tx_id, e.position LIMIT 20) \
         UNION ALL SELECT format('read horizon %s, snapshot %s', events_read_horizon(), \
                                 pg_current_snapshot()) \
         UNION ALL SELECT format('backend %s %s, xid %s, since %s: %s', pid, state, backend_xid, \
                                 xact_start, left(query, 120)) \
           FROM pg_stat_activity \
          WHERE datname = current_database() AND xact_start IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_else(|e| vec![format!("(could not read why: {e})")]);
    lines.join("\n")
}

/// The demo program, its VK group taking deliveries signed with `vk_secret`.
pub async fn demo_program(pool: &PgPool, vk_secret: &str) -> domain::ids::ProgramId {
    let program = loyalty::demo::seed(pool, &secret_box()).await.unwrap();
    app::ingest::channels::bind(
        pool,
        &secret_box(),
        domain::network::Network::Vk,
        &loyalty::demo::VK_GROUP.to_string(),
        program,
        Some(vk_secret),
        Some("ok2"),
    )
    .await
    .unwrap();
    program
}
