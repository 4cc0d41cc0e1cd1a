//! Secrets the database holds (a VK group's Callback API secret key) are encrypted with a key
//! from the environment, and the key rotates as docs/deploy.md says: put the new key in front of
//! `LOYALTY_SECRETS_KEYS`, run `loyalty secrets rotate` (or restart `serve`), drop the old key.
//! Deliveries keep being checked against the right secret throughout; a server without the key
//! a secret needs refuses to start and says which.

mod support;

use app::secrets::SecretBox;
use sqlx::PgPool;
use std::time::Duration;
use support::{
    PRIVACY_KEY, assert_success, database_url, start_serve_with, vk_comment, wait_for_projections,
};

const KEY_A: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const KEY_B: &str = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
const SECRET: &str = "AtRestSecret7";
const GROUP: &str = "229871234";

fn key_id(hex_key: &str) -> String {
    let mut key = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut key).unwrap();
    SecretBox::new(&key, &[]).current_key_id().to_string()
}

/// `loyalty ARGS` with the privacy key, `keys` as LOYALTY_SECRETS_KEYS and `env`.
async fn loyalty(
    url: &str,
    keys: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("LOYALTY_PRIVACY_KEY", PRIVACY_KEY)
        .env("LOYALTY_SECRETS_KEYS", keys)
        .env("LOYALTY_TELEGRAM_MODE", "off")
        .env_remove("LOYALTY_CONFIG")
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap()
}

async fn stored_secret(pool: &PgPool) -> String {
    sqlx::query_scalar("SELECT secret FROM channels WHERE network = 'vk' AND destination = $1")
        .bind(GROUP)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn awards(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'PointsAwarded'")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Starts `serve` with `keys`, sends comment `n` signed with `secret`, and returns the answer
/// after the projections caught up.
async fn comment_through_serve(pool: &PgPool, keys: &str, n: i64, secret: &str) {
    let url = database_url(pool);
    let server = start_serve_with(&url, &[("LOYALTY_SECRETS_KEYS", keys)]).await;
    let reply = reqwest::Client::new()
        .post(format!("{}/webhooks/vk", server.base))
        .body(vk_comment(secret, n, 716_900_000 + n))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.text().await.unwrap(), "ok");
    wait_for_projections(pool).await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn secrets_are_encrypted_at_rest_and_the_key_rotates_without_losing_a_delivery(pool: PgPool) {
    let url = database_url(&pool);
    let program = loyalty::demo::seed(&pool, &support::secret_box())
        .await
        .unwrap();
    let add = [
        "channels",
        "add",
        "--program",
        &program.0.to_string(),
        "--network",
        "vk",
        "--destination",
        GROUP,
        "--confirmation",
        "c0nfirm",
    ];
    let added = loyalty(&url, KEY_A, &add, &[("LOYALTY_CHANNEL_SECRET", SECRET)]).await;
    assert_success("channels add", &added);

    // Sealed with key A: neither the secret nor anything like it is in the database.
    let sealed_a = stored_secret(&pool).await;
    assert!(
        sealed_a.starts_with(&format!("enc:v1:{}:", key_id(KEY_A))),
        "{sealed_a}"
    );
    assert!(!sealed_a.contains(SECRET));
    let dumped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM channels c, channel_changes h \
         WHERE c::text LIKE '%' || $1 || '%' OR h::text LIKE '%' || $1 || '%'",
    )
    .bind(SECRET)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        dumped, 0,
        "the plaintext is nowhere in channels or their changes"
    );

    // Served with key A: the right secret pays, a wrong one does not.
    comment_through_serve(&pool, KEY_A, 1, SECRET).await;
    assert_eq!(awards(&pool).await, 1);
    comment_through_serve(&pool, KEY_A, 2, "NotTheSecret1").await;
    assert_eq!(awards(&pool).await, 1, "a wrong secret earns nothing");

    // Rotation: B in front, A still known; rotate seals with B.
    let rotated = loyalty(
        &url,
        &format!("{KEY_B},{KEY_A}"),
        &["secrets", "rotate"],
        &[],
    )
    .await;
    assert_success("secrets rotate", &rotated);
    let report: serde_json::Value = serde_json::from_slice(&rotated.stdout).unwrap();
    // The channel's secret and the demo raffle's seed.
    assert_eq!(report["resealed"], 2, "{report}");
    assert_eq!(report["key"], key_id(KEY_B));
    let seed: String = sqlx::query_scalar("SELECT seed FROM raffle_seeds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        seed.starts_with(&format!("enc:v1:{}:", key_id(KEY_B))),
        "{seed}"
    );
    let sealed_b = stored_secret(&pool).await;
    assert!(
        sealed_b.starts_with(&format!("enc:v1:{}:", key_id(KEY_B))),
        "{sealed_b}"
    );
    let again = loyalty(
        &url,
        &format!("{KEY_B},{KEY_A}"),
        &["secrets", "rotate"],
        &[],
    )
    .await;
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["resealed"], 0, "nothing left to rotate");

    // A dropped: B alone serves.
    comment_through_serve(&pool, KEY_B, 3, SECRET).await;
    assert_eq!(awards(&pool).await, 2);

    // A server with only the old key refuses to start and names the key it lacks.
    let refused = loyalty(&url, KEY_A, &["serve", "--listen", "127.0.0.1:0"], &[]).await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("cannot open") && stderr.contains(&key_id(KEY_B)),
        "{stderr}"
    );

    // A plaintext written before encryption is sealed when `serve` starts, and still checked.
    sqlx::query("UPDATE channels SET secret = 'LegacyPlain9' WHERE destination = $1")
        .bind(GROUP)
        .execute(&pool)
        .await
        .unwrap();
    comment_through_serve(&pool, KEY_B, 4, "LegacyPlain9").await;
    assert_eq!(awards(&pool).await, 3);
    let resealed = stored_secret(&pool).await;
    assert!(
        resealed.starts_with(&format!("enc:v1:{}:", key_id(KEY_B))),
        "{resealed}"
    );
}
