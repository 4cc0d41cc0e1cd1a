//! The auditor's checks catch tampering, and show the past and the log as they were.

use crate::support::*;
use chrono::Duration;
use domain::network::Network;
use projections::audit::{self, ExportFilter, ExportFormat};
use sqlx::PgPool;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn verify_catches_a_tampered_read_model_row(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    busy_history(&mut world, 6).await;
    world.drain().await;
    assert!(audit::verify(&pool).await.unwrap().is_clean());

    sqlx::query("UPDATE balances SET current = current + 1 WHERE member_id = $1")
        .bind(member(2).0)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM leaderboard WHERE member_id = $1 AND board_key = 'all'")
        .bind(member(3).0)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE leaderboard SET score = score + 5 WHERE member_id = $1 AND board_key = 'all'",
    )
    .bind(member(4).0)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO leaderboard (program_id, board_key, member_id, score) \
         SELECT program_id, 'w1999-01', member_id, 7 FROM leaderboard \
         WHERE member_id = $1 AND board_key = 'all'",
    )
    .bind(member(5).0)
    .execute(&pool)
    .await
    .unwrap();
    let report = audit::verify(&pool).await.unwrap();
    assert!(!report.is_clean());
    let models: Vec<&str> = report.differences.iter().map(|d| d.model).collect();
    assert!(models.contains(&"balances"), "{models:?}");
    // A row missing, a score changed, a row the log never made: each reported.
    let board_keys: Vec<&str> = report
        .differences
        .iter()
        .filter(|d| d.model == "leaderboard")
        .map(|d| d.key.as_str())
        .collect();
    assert_eq!(board_keys.len(), 3, "{board_keys:?}");
    for (board, m) in [("all", 3), ("all", 4), ("w1999-01", 5)] {
        let suffix = format!("/{board}/{}", member(m).0);
        assert!(
            board_keys.iter().any(|k| k.ends_with(&suffix)),
            "{suffix} in {board_keys:?}"
        );
    }
    let balance = report
        .differences
        .iter()
        .find(|d| d.model == "balances")
        .unwrap();
    assert!(balance.key.contains(&member(2).0.to_string()));
    assert!(report.broken_chains.is_empty());
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn verify_reports_the_first_broken_link_of_a_tampered_stream(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    world.append(vec![register(member(1), t0())]).await;
    for k in 0..5 {
        let entry = world.entry();
        world
            .append(vec![award(
                entry,
                member(1),
                10,
                Network::Vk,
                t0() + Duration::minutes(k),
            )])
            .await;
    }
    world.drain().await;
    assert!(audit::verify(&pool).await.unwrap().is_clean());
    let stream = format!("member-{}", member(1));
    let positions: Vec<i64> = sqlx::query_scalar(
        "SELECT position FROM events WHERE stream_id = $1 ORDER BY stream_version",
    )
    .bind(&stream)
    .fetch_all(&pool)
    .await
    .unwrap();

    // As the superuser, past the immutability triggers: versions 3 and 5 get more points.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE events DISABLE TRIGGER USER")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE events SET payload = jsonb_set(payload, '{points}', '1000') WHERE position = ANY($1)")
        .bind(vec![positions[2], positions[4]])
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE events ENABLE TRIGGER USER")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let report = audit::verify(&pool).await.unwrap();
    assert_eq!(report.broken_chains.len(), 1, "{:?}", report.broken_chains);
    let broken = &report.broken_chains[0];
    assert_eq!(
        (
            broken.stream_id.as_str(),
            broken.position,
            broken.stream_version
        ),
        (stream.as_str(), positions[2], 3)
    );
    // The read model was folded from the original events, so it now disagrees as well.
    assert!(report.differences.iter().any(|d| d.model == "balances"));
    assert!(report.differences.iter().any(|d| d.model == "hash_chain"));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn as_of_and_export_show_the_log_as_it_was(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    world.append(vec![register(member(1), t0())]).await;
    let entry = world.entry();
    world
        .append(vec![award(entry, member(1), 10, Network::Vk, t0())])
        .await;
    let between: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let entry = world.entry();
    world
        .append(vec![award(entry, member(1), 5, Network::Vk, t0())])
        .await;

    let then = audit::as_of(&world.store, member(1).0, between)
        .await
        .unwrap();
    assert_eq!((then.balance, then.history.len()), (10, 2));
    let now = audit::as_of(&world.store, member(1).0, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        (now.balance, now.history.last().map(|h| h.balance_after)),
        (15, Some(15))
    );
    let mut text = Vec::new();
    audit::write_as_of(&now, &mut text).unwrap();
    assert!(String::from_utf8(text).unwrap().contains("PointsAwarded"));

    let mut lines = Vec::new();
    let filter = ExportFilter {
        event_type: Some("PointsAwarded".into()),
        ..Default::default()
    };
    assert_eq!(
        audit::export(&pool, &filter, ExportFormat::JsonLines, &mut lines)
            .await
            .unwrap(),
        2
    );
    let first: serde_json::Value =
        serde_json::from_slice(lines.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["payload"]["points"], 10);
    assert_eq!(first["hash"].as_str().map(str::len), Some(64));

    let mut csv = Vec::new();
    let filter = ExportFilter {
        stream: Some(format!("member-{}", member(1))),
        ..Default::default()
    };
    assert_eq!(
        audit::export(&pool, &filter, ExportFormat::Csv, &mut csv)
            .await
            .unwrap(),
        3
    );
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("position,tx_id,"));
    assert_eq!(csv.lines().count(), 4);
    assert!(
        csv.contains("\"{\"\"at\"\""),
        "payload JSON is quoted: {csv}"
    );
}
