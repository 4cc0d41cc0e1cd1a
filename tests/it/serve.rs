//! `loyalty serve` as users run it: the real server on a port, with its workers. A webhook's
//! points must reach the balance read model without anyone draining projections by hand.

use crate::app::{VK_CONFIRMATION, VK_GROUP, VK_SECRET, anna_vk, fixture};
use crate::helpers::TestLedger;
use api::config::ServeConfig;
use api::ingest::channels;
use clap::Parser;
use domain::network::Network;
use sqlx::PgPool;
use std::time::Duration;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    config: ServeConfig,
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn serve_runs_the_projections_so_points_become_visible(pool: PgPool) {
    let t = TestLedger::new(pool.clone()).await;
    channels::bind(
        &pool,
        Network::Vk,
        VK_GROUP,
        t.program_id(),
        Some(VK_SECRET),
        Some(VK_CONFIRMATION),
    )
    .await
    .unwrap();
    let config = Args::parse_from(["test", "--telegram-mode", "off"]).config;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::server::serve(listener, pool.clone(), config, async {
        let _ = stopped.await;
    }));

    let reply = reqwest::Client::new()
        .post(format!("{base}/webhooks/vk"))
        .body(fixture("vk/wall_reply_new.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.text().await.unwrap(), "ok");
    let member = t
        .ledger
        .identity_owner(t.program_id(), &anna_vk())
        .await
        .unwrap()
        .unwrap();

    // The runner wakes on the append; allow a generous bound for a loaded CI machine. The
    // member's row can show before the award does (registering and awarding are two commits).
    let mut visible = None;
    for _ in 0..500 {
        visible = projections::balances::balance(&pool, t.program_id().0, member.0)
            .await
            .unwrap()
            .map(|b| b.current);
        if visible == Some(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(visible, Some(10));

    // The sealer runs beside the projections: the whole log is sealed within seconds.
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut sealed = 0;
    for _ in 0..500 {
        sealed = sqlx::query_scalar("SELECT coalesce(max(total), 0) FROM log_seal")
            .fetch_one(&pool)
            .await
            .unwrap();
        if sealed == events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sealed, events);

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
