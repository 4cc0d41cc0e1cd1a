//! Two `loyalty serve` processes on one database, as a deployment with two instances behind a
//! load balancer runs them, one of them killed (SIGKILL) and started again in the middle of a
//! stream of webhook deliveries. Every delivery ends answered 2xx (the platform retries a
//! refused or unanswered one, on either server); each comment is paid exactly once; the read
//! models, built by both processes' projection workers, prove out in `audit verify`; and both
//! processes answer reads.

mod support;

use sqlx::PgPool;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use support::{database_url, start_serve as start, vk_comment};
use tokio::sync::Mutex;

const VK_SECRET: &str = "TwoServersSecret1";
const COMMENTS: i64 = 400;
const POINTS: i64 = 10;

fn comment(n: i64) -> String {
    vk_comment(VK_SECRET, n, 716_000_000 + n)
}

/// Sends one delivery, to `first` then the other server, until one answers `ok`, as VK
/// retries an unanswered delivery.
async fn deliver(
    client: &reqwest::Client,
    bases: &[Arc<Mutex<String>>; 2],
    first: usize,
    body: String,
) {
    for attempt in 0..200 {
        let base = bases[(first + attempt) % 2].lock().await.clone();
        let reply = client
            .post(format!("{base}/webhooks/vk"))
            .body(body.clone())
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        if let Ok(reply) = reply
            && reply.status().is_success()
            && reply.text().await.is_ok_and(|t| t == "ok")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("a delivery was never accepted");
}

async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn two_servers_one_killed_midway_pay_each_comment_once_and_prove_out(pool: PgPool) {
    let url = database_url(&pool);
    support::demo_program(&pool, VK_SECRET).await;
    let mut a = start(&url).await;
    let b = start(&url).await;
    let bases = Arc::new([
        Arc::new(Mutex::new(a.base.clone())),
        Arc::new(Mutex::new(b.base.clone())),
    ]);
    let client = reqwest::Client::new();

    // Every comment once to one server and, for one in five, again to the other (a platform's
    // retry after a lost answer), 16 at a time.
    let sends = |range: std::ops::Range<i64>| {
        let (bases, client) = (bases.clone(), client.clone());
        async move {
            let mut tasks = tokio::task::JoinSet::new();
            for n in range {
                let (bases, client) = (bases.clone(), client.clone());
                tasks.spawn(async move {
                    deliver(&client, &bases, (n % 2) as usize, comment(n)).await;
                    if n % 5 == 0 {
                        deliver(&client, &bases, ((n + 1) % 2) as usize, comment(n)).await;
                    }
                });
                while tasks.len() >= 16 {
                    tasks.join_next().await.unwrap().unwrap();
                }
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
        }
    };
    let half = COMMENTS / 2;
    let first_half = tokio::spawn(sends(0..half));
    // Killed while deliveries are in flight on it, then started again on a new port.
    let awards = "SELECT count(*) FROM events WHERE event_type = 'PointsAwarded'";
    while scalar(&pool, awards).await < 50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.child.start_kill().unwrap();
    a.child.wait().await.unwrap();
    first_half.await.unwrap();
    a = start(&url).await;
    *bases[0].lock().await = a.base.clone();
    sends(half..COMMENTS).await;

    assert_eq!(
        scalar(&pool, awards).await,
        COMMENTS,
        "each comment paid exactly once"
    );
    let distinct = "SELECT count(DISTINCT payload #>> '{activity,reference}') FROM events \
                    WHERE event_type = 'PointsAwarded'";
    assert_eq!(scalar(&pool, distinct).await, COMMENTS);

    // Both processes' projection workers catch up; the read models then equal the log's fold.
    support::wait_for_projections(&pool).await;
    let paid = scalar(
        &pool,
        "SELECT coalesce(sum(current), 0)::bigint FROM balances",
    )
    .await;
    assert_eq!(paid, COMMENTS * POINTS);
    let verify = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &url)
        .output()
        .await
        .unwrap();
    assert!(
        verify.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );

    // Both answer reads.
    for server in [&a, &b] {
        let ready = client
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .unwrap();
        assert!(ready.status().is_success(), "{}", server.base);
        let page = client
            .get(format!("{}/app", server.base))
            .send()
            .await
            .unwrap();
        assert!(page.status().is_success(), "{}", server.base);
    }
}
