//! The auditor's checks catch tampering, and show the past and the log as they were.

use crate::support::*;
use chrono::Duration;
use domain::network::Network;
use projections::audit::{self, DifferenceKind, ExportFilter, ExportFormat};
use sqlx::PgPool;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn verify_catches_a_tampered_read_model_row(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    busy_history(&mut world, 6).await;
    world.drain().await;
    let progress = projections::Progress::default();
    let clean = audit::verify_with(&pool, None, &progress, audit::MEMBERS_PER_PASS)
        .await
        .unwrap();
    assert!(clean.is_clean());
    // Every event read is counted; the estimate is the log's head (positions a rolled-back
    // append took are never used, so it may be higher, never lower).
    assert_eq!(progress.done(), clean.events);
    assert!(progress.expected() >= clean.events);

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
    // A row missing, a score changed, a row the log never made: each reported as what it is.
    let boards: Vec<(&str, DifferenceKind)> = report
        .differences
        .iter()
        .filter(|d| d.model == "leaderboard")
        .map(|d| (d.key.as_str(), d.kind))
        .collect();
    assert_eq!(boards.len(), 3, "{boards:?}");
    for (board, m, kind) in [
        ("all", 3, DifferenceKind::Missing),
        ("all", 4, DifferenceKind::Changed),
        ("w1999-01", 5, DifferenceKind::Unexpected),
    ] {
        let suffix = format!("/{board}/{}", member(m).0);
        assert!(
            boards
                .iter()
                .any(|(k, found)| k.ends_with(&suffix) && *found == kind),
            "{suffix} {kind:?} in {boards:?}"
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
async fn verify_reports_every_differing_row_counted_by_model_and_kind(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    busy_history(&mut world, 6).await;
    world.drain().await;
    assert!(audit::verify(&pool).await.unwrap().is_clean());

    // Two redemptions of one campaign (its second and third, after the first matches) and two
    // balances.
    for m in [1, 2] {
        sqlx::query("UPDATE codeword_redemptions SET points = points * 100 WHERE member_id = $1")
            .bind(member(m).0)
            .execute(&pool)
            .await
            .unwrap();
    }
    for m in [2, 3] {
        sqlx::query("UPDATE balances SET current = current + 1 WHERE member_id = $1")
            .bind(member(m).0)
            .execute(&pool)
            .await
            .unwrap();
    }
    let report = audit::verify(&pool).await.unwrap();
    let groups: Vec<(&str, DifferenceKind, u64)> = report
        .groups
        .iter()
        .map(|g| (g.model, g.kind, g.count))
        .collect();
    assert_eq!(
        groups,
        vec![
            ("balances", DifferenceKind::Changed, 2),
            ("codeword_redemptions", DifferenceKind::Changed, 2),
        ]
    );
    assert_eq!(report.differences_total, 4);
    let keys = |model: &str| -> Vec<String> {
        report
            .differences
            .iter()
            .filter(|d| d.model == model)
            .map(|d| d.key.clone())
            .collect()
    };
    let c = uuid::Uuid::from_u128(0xC1);
    assert_eq!(
        keys("codeword_redemptions"),
        vec![
            format!("{c} (redemption #2)"),
            format!("{c} (redemption #3)")
        ]
    );
    let balances = keys("balances");
    assert_eq!(balances.len(), 2, "{balances:?}");
    for m in [2, 3] {
        let m = member(m).0.to_string();
        assert!(
            balances.iter().any(|k| k.ends_with(&m)),
            "{m} in {balances:?}"
        );
    }

    // One printed per group: the rest is counted, not printed.
    let mut text = Vec::new();
    report.write_text_limited(&mut text, 1).unwrap();
    let text = String::from_utf8(text).unwrap();
    for model in ["balances", "codeword_redemptions"] {
        let printed = text
            .lines()
            .filter(|l| l.starts_with(&format!("DIFF {model} ")))
            .count();
        assert_eq!(printed, 1, "{text}");
        assert!(
            text.contains(&format!("{model} changed: 2\nDIFF {model} ")),
            "{text}"
        );
    }
    assert_eq!(text.matches("  and 1 more\n").count(), 2, "{text}");
    assert!(text.ends_with("4 differences\n"), "{text}");
    // Within the limit every row is printed.
    let mut text = Vec::new();
    report.write_text(&mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("DIFF ")).count(), 4);
    assert!(!text.contains("more"), "{text}");
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

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn verify_counts_active_members_across_the_window_like_the_projection(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    let day = |n: i64| t0() + Duration::days(n);
    world
        .append((0..3).map(|n| register(member(n), t0())).collect())
        .await;
    for d in 0..10 {
        let first = world.entry();
        let second = world.entry();
        world
            .append(vec![
                award(first, member(0), 10, Network::Instagram, day(d)),
                award(second, member(1), 10, Network::Vk, day(d)),
            ])
            .await;
    }
    world.drain().await;
    // Late awards after day 9: days 7 and 8 are inside the active window, days 5 and 2 not
    // (they count in their day's points only).
    for (m, network, d) in [
        (2, Network::Instagram, 7),
        (0, Network::Vk, 8),
        (1, Network::Vk, 2),
        (2, Network::Instagram, 5),
    ] {
        let entry = world.entry();
        world
            .append(vec![award(entry, member(m), 10, network, day(d))])
            .await;
    }
    world.drain().await;

    let first = day(0)
        .with_timezone(&chrono_tz::Europe::Moscow)
        .date_naive();
    let rows =
        projections::daily_stats::daily_stats(&pool, PROGRAM, first, first + Duration::days(9))
            .await
            .unwrap();
    let counters = |d: i64, network: &str| {
        rows.iter()
            .find(|r| r.day == first + Duration::days(d) && r.network == network)
            .map(|r| (r.counters.points_awarded, r.counters.active_members))
            .unwrap()
    };
    assert_eq!(counters(7, "all"), (30, 3));
    assert_eq!(counters(7, "instagram"), (20, 2));
    assert_eq!(counters(8, "all"), (30, 2));
    assert_eq!(counters(8, "vk"), (20, 2));
    assert_eq!(counters(2, "all"), (30, 2));
    assert_eq!(counters(2, "vk"), (20, 1));
    assert_eq!(counters(5, "all"), (30, 2));
    assert_eq!(counters(5, "instagram"), (20, 1));

    let report = audit::verify(&pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");

    // The audit's own count, not a copy of the model: a changed count is a difference.
    sqlx::query(
        "UPDATE daily_stats SET active_members = active_members + 1 \
         WHERE program_id = $1 AND day = $2 AND network = 'all'",
    )
    .bind(PROGRAM)
    .bind(first + Duration::days(2))
    .execute(&pool)
    .await
    .unwrap();
    let report = audit::verify(&pool).await.unwrap();
    assert_eq!(
        report
            .differences
            .iter()
            .map(|d| d.model)
            .collect::<Vec<_>>(),
        vec!["daily_stats"],
        "{report:?}"
    );
}

/// Times as platforms and clocks hand them over, to the nanosecond: the ledger keeps them to
/// the microsecond, so PostgreSQL stores exactly what the event and the fold hold.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn nanosecond_times_reach_the_read_models_as_the_fold_holds_them(pool: PgPool) {
    use domain::Timestamp;
    use domain::ids::CampaignId;
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;

    let instants = (0i64..7_258_118_400, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| chrono::DateTime::from_timestamp(secs, nanos).expect("in range"));
    let mut runner = TestRunner::deterministic();
    let mut world = World::new(pool.clone()).await;
    let c = CampaignId(uuid::Uuid::from_u128(0xC1));
    world.append(vec![campaign(c, None, t0())]).await;
    for n in 0..64 {
        let at = Timestamp::new(instants.new_tree(&mut runner).unwrap().current());
        // What PostgreSQL stores, bound as a parameter and parsed from the event's JSON.
        let (bound, parsed): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
            sqlx::query_as("SELECT $1::timestamptz, ($2::jsonb #>> '{}')::timestamptz")
                .bind(at.get())
                .bind(serde_json::to_value(at).unwrap())
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!((bound, parsed), (at.get(), at.get()));
        let m = member(n);
        let mut events = vec![register(m, at)];
        events.extend(redeem_codeword(c, world.entry(), m, at));
        world.append(events).await;
    }
    world.drain().await;
    let report = audit::verify(&pool).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.differences);
}

/// A log with more members than one pass holds is audited in slices of them, one pass over the
/// log each: the report is the one-pass report, clean or not, and what was tampered with is
/// found once, in whichever slice holds the member or the stream.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_audit_in_several_passes_reports_what_one_pass_reports(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    busy_history(&mut world, 12).await;
    world.drain().await;
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM balances")
        .fetch_one(&pool)
        .await
        .unwrap();
    let passes = u64::try_from(members).unwrap().div_ceil(3);
    assert!(passes >= 4, "{members} members");
    let progress = projections::Progress::default();
    let sliced = audit::verify_with(&pool, None, &progress, 3).await.unwrap();
    let whole = audit::verify(&pool).await.unwrap();
    assert!(whole.is_clean() && sliced.is_clean(), "{sliced:?}");
    assert_eq!(
        (
            sliced.events,
            sliced.streams,
            &sliced.projections,
            &sliced.seal
        ),
        (whole.events, whole.streams, &whole.projections, &whole.seal)
    );
    assert_eq!(progress.done(), whole.events * passes);

    // Every member's balance, every member's all-time row, a row the log never made, and one
    // member's event changed past the immutability triggers.
    sqlx::query("UPDATE balances SET current = current + 1")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM leaderboard WHERE board_key = 'all'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO leaderboard (program_id, board_key, member_id, score) \
         SELECT program_id, 'w1999-01', member_id, 7 FROM balances WHERE member_id = $1",
    )
    .bind(member(5).0)
    .execute(&pool)
    .await
    .unwrap();
    past_the_triggers(
        &pool,
        &[format!(
            "UPDATE events SET payload = jsonb_set(payload, '{{points}}', '1000') \
             WHERE stream_id = 'member-{}' AND event_type = 'PointsAwarded'",
            member(7)
        )],
    )
    .await;

    let sliced = audit::verify_with(&pool, None, &Default::default(), 3)
        .await
        .unwrap();
    let whole = audit::verify(&pool).await.unwrap();
    let found = |r: &audit::VerifyReport| {
        let mut found: Vec<(String, String, DifferenceKind)> = r
            .differences
            .iter()
            .map(|d| (d.model.to_string(), d.key.clone(), d.kind))
            .collect();
        found.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        found
    };
    assert_eq!(found(&sliced), found(&whole));
    assert_eq!(sliced.groups, whole.groups);
    assert_eq!(sliced.broken_chains, whole.broken_chains);
    let count = |model: &str, kind: DifferenceKind| {
        whole
            .differences
            .iter()
            .filter(|d| d.model == model && d.kind == kind)
            .count()
    };
    assert_eq!(count("balances", DifferenceKind::Changed), members as usize);
    assert_eq!(
        count("leaderboard", DifferenceKind::Missing),
        members as usize
    );
    assert_eq!(count("leaderboard", DifferenceKind::Unexpected), 1);
    assert_eq!(whole.broken_chains.len(), 1, "{:?}", whole.broken_chains);
}
