//! The README's promise, end to end: `loyalty demo` runs its live traffic (signed Instagram, VK
//! and Telegram deliveries through the real HTTP endpoints), then `loyalty audit verify` over the
//! same database finds no difference. Times reach the server to the nanosecond (the clock), so
//! this is the run that showed an event and its read model disagreeing below the microsecond.

mod support;

use sqlx::PgPool;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::database_url;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// (deliveries that earned points, codeword redemptions from VK comments) in the log.
async fn recorded(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE event_type = 'PointsAwarded'), \
                count(*) FILTER (WHERE event_type = 'CodewordRedeemed' \
                                   AND payload->>'network' = 'vk') \
           FROM events",
    )
    .fetch_one(pool)
    .await
    .expect("count events")
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_demos_own_traffic_passes_audit_verify(pool: PgPool) {
    let url = database_url(&pool);
    let mut demo = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")));
    demo.arg("demo")
        .env("DATABASE_URL", &url)
        .env("LOYALTY_LISTEN", format!("127.0.0.1:{}", free_port()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut demo = demo.spawn().expect("loyalty demo starts");

    // Enough traffic to include VK codeword redemptions (one delivery every 0.7 s, a third
    // of them VK, two texts in seven carry the codeword).
    let deadline = Instant::now() + Duration::from_secs(150);
    let mut seen = (0, 0);
    while Instant::now() < deadline {
        if let Some(status) = demo.try_wait().expect("demo status") {
            panic!("loyalty demo exited early: {status}");
        }
        seen = recorded(&pool).await;
        if seen.0 >= 40 && seen.1 >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        seen.0 >= 40 && seen.1 >= 2,
        "the demo recorded too little traffic in time: {seen:?}"
    );
    // Let the projections catch up with what was recorded, then stop the demo.
    tokio::time::sleep(Duration::from_secs(2)).await;
    demo.kill().await.expect("stop the demo");

    let verify = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &url)
        .output()
        .await
        .expect("loyalty audit verify runs");
    assert!(
        verify.status.success(),
        "audit verify found differences after the demo ({:?}):\n{}\n{}",
        verify.status.code(),
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
