//! The seal over the log's order catches what per-stream hash chains cannot: a stream's tail or
//! a whole stream deleted, a chain rewritten with recomputed hashes, two events reordered.
//! Each tampering is done as the superuser past the triggers, and reported with the first bad
//! position; an anchor kept outside the database pins the history up to its block.

use crate::support::*;
use chrono::Duration;
use domain::ids::EntryId;
use domain::network::Network;
use projections::audit::{self, VerifyReport};
use projections::seal::{SealConfig, SealStep, Sealer};
use sqlx::PgPool;
use store::EventStore;

/// Three members, each registered and awarded four times, one commit per event (16 events
/// with the program), sealed in blocks of four; projections caught up.
async fn sealed_history(pool: &PgPool) -> World {
    let mut world = World::new(pool.clone()).await;
    for m in 1..=3 {
        world.append(vec![register(member(m), t0())]).await;
        for k in 0..4 {
            let entry = world.entry();
            let at = t0() + Duration::minutes(k);
            world
                .append(vec![award(entry, member(m), 10, Network::Vk, at)])
                .await;
        }
    }
    world.drain().await;
    seal(&world.store).await;
    world
}

async fn seal(store: &EventStore) -> u64 {
    let config = SealConfig {
        block_events: 4,
        ..SealConfig::default()
    };
    Sealer::new(store.clone(), config).drain().await.unwrap()
}

/// The audit with an anchor, in as many passes as it takes by default.
async fn verify_against(pool: &PgPool, anchor: &audit::Anchor) -> VerifyReport {
    audit::verify_with(
        pool,
        Some(anchor),
        &Default::default(),
        audit::MEMBERS_PER_PASS,
    )
    .await
    .unwrap()
}

/// The positions of a member's stream, by version.
async fn positions_of(pool: &PgPool, m: u128) -> Vec<i64> {
    sqlx::query_scalar("SELECT position FROM events WHERE stream_id = $1 ORDER BY stream_version")
        .bind(format!("member-{}", member(m)))
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The first bad position the seal reports, and its reason.
fn first_bad(report: &VerifyReport) -> (i64, String) {
    let first = report
        .seal
        .broken
        .iter()
        .min_by_key(|b| b.position)
        .expect("the seal reports the tampering");
    (first.position, first.reason.clone())
}

async fn verified_clean(pool: &PgPool) {
    let report = audit::verify(pool).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.differences);
    assert_eq!(
        (report.seal.blocks, report.seal.sealed_events),
        (4, 16),
        "{:?}",
        report.seal
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_deleted_stream_tail_is_reported_at_its_first_missing_event(pool: PgPool) {
    sealed_history(&pool).await;
    verified_clean(&pool).await;
    let member_2 = positions_of(&pool, 2).await;
    past_the_triggers(
        &pool,
        &[format!(
            "DELETE FROM events WHERE position IN ({}, {})",
            member_2[3], member_2[4]
        )],
    )
    .await;

    let report = audit::verify(&pool).await.unwrap();
    // The stream's chain still holds: a shorter chain is a valid chain.
    assert!(
        report.broken_chains.is_empty(),
        "{:?}",
        report.broken_chains
    );
    assert!(!report.is_clean());
    let (position, reason) = first_bad(&report);
    assert_eq!(position, member_2[3]);
    assert!(reason.contains("missing"), "{reason}");
    assert!(report.differences.iter().any(|d| d.model == "log_seal"));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_deleted_stream_is_reported_at_its_first_event(pool: PgPool) {
    sealed_history(&pool).await;
    verified_clean(&pool).await;
    let member_3 = positions_of(&pool, 3).await;
    past_the_triggers(
        &pool,
        &[format!(
            "DELETE FROM events WHERE stream_id = 'member-{}'",
            member(3)
        )],
    )
    .await;

    let report = audit::verify(&pool).await.unwrap();
    assert!(
        report.broken_chains.is_empty(),
        "{:?}",
        report.broken_chains
    );
    let (position, reason) = first_bad(&report);
    assert_eq!(position, member_3[0]);
    assert!(reason.contains("missing"), "{reason}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_chain_rewritten_with_recomputed_hashes_is_reported_at_the_first_rewrite(pool: PgPool) {
    sealed_history(&pool).await;
    verified_clean(&pool).await;
    type Row = (
        i64,
        i64,
        uuid::Uuid,
        String,
        i16,
        serde_json::Value,
        Vec<u8>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT position, stream_version, event_id, event_type, schema_version, payload, hash \
         FROM events WHERE stream_id = $1 ORDER BY stream_version",
    )
    .bind(format!("member-{}", member(1)))
    .fetch_all(&pool)
    .await
    .unwrap();
    // Version 3 pays 1,000 points; it and every later link get the hash the chain expects.
    let mut previous = rows[1].6.clone();
    let mut rewrites = Vec::new();
    for (position, version, event_id, event_type, schema, payload, _) in &rows[2..] {
        let mut payload = payload.clone();
        if *version == 3 {
            payload["points"] = serde_json::json!(1000);
        }
        let digest = store::digest::content_digest(*event_id, event_type, *schema, &payload);
        let hash = store::digest::chain_hash(&previous, *version, &digest);
        rewrites.push(format!(
            "UPDATE events SET payload = '{}'::jsonb, hash = '\\x{}'::bytea WHERE position = {position}",
            payload,
            hex::encode(hash)
        ));
        previous = hash.to_vec();
    }
    past_the_triggers(&pool, &rewrites).await;

    let report = audit::verify(&pool).await.unwrap();
    // Every link holds: the per-stream chains alone would call this log sound.
    assert!(
        report.broken_chains.is_empty(),
        "{:?}",
        report.broken_chains
    );
    let (position, reason) = first_bad(&report);
    assert_eq!(position, rows[2].0);
    assert!(reason.contains("differs"), "{reason}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn two_events_reordered_are_reported_at_the_earlier_one(pool: PgPool) {
    sealed_history(&pool).await;
    verified_clean(&pool).await;
    // Two neighbours in the log (one commit each): swapping their transactions swaps the
    // order every reader sees, while positions, contents and hashes stay as they were.
    let m1 = positions_of(&pool, 1).await;
    let m2 = positions_of(&pool, 2).await;
    let (earlier, later) = (m1[4], m2[0]);
    past_the_triggers(
        &pool,
        &[format!(
            "UPDATE events e SET tx_id = o.tx_id FROM events o \
             WHERE (e.position, o.position) IN (({earlier}, {later}), ({later}, {earlier}))"
        )],
    )
    .await;

    let report = audit::verify(&pool).await.unwrap();
    assert!(
        report.broken_chains.is_empty(),
        "{:?}",
        report.broken_chains
    );
    let (position, _) = first_bad(&report);
    assert_eq!(position, earlier);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_anchor_holds_as_the_log_grows_and_fails_when_history_before_it_changes(pool: PgPool) {
    let mut world = sealed_history(&pool).await;
    let anchor = audit::anchor(&world.store).await.unwrap().unwrap();
    assert_eq!((anchor.block, anchor.events), (4, 16));
    let written = serde_json::to_string(&anchor).unwrap();
    let anchor = audit::read_anchor(&written).unwrap();

    world.append(vec![register(member(4), t0())]).await;
    for k in 0..5 {
        let entry = world.entry();
        let at = t0() + Duration::minutes(k);
        world
            .append(vec![award(entry, member(4), 5, Network::Vk, at)])
            .await;
    }
    world.drain().await;
    seal(&world.store).await;
    let report = verify_against(&pool, &anchor).await;
    assert!(report.is_clean(), "{:?}", report.differences);
    assert_eq!(report.seal.sealed_events, 22);
    assert_eq!(report.seal.anchor, Some((anchor.block, true)));

    // A superuser deletes an event before the anchor and hides it: the seal is dropped and
    // made again from the changed log, so the stored blocks match the events once more.
    let member_1 = positions_of(&pool, 1).await;
    past_the_triggers(
        &pool,
        &[
            format!("DELETE FROM events WHERE position = {}", member_1[4]),
            "DELETE FROM log_seal".to_string(),
        ],
    )
    .await;
    seal(&world.store).await;
    let unanchored = audit::verify(&pool).await.unwrap();
    assert!(unanchored.seal.broken.is_empty(), "{:?}", unanchored.seal);
    let report = verify_against(&pool, &anchor).await;
    assert!(!report.is_clean());
    assert_eq!(report.seal.anchor, Some((anchor.block, false)));
    assert!(
        report.seal.broken.iter().any(|b| b.block == anchor.block),
        "{:?}",
        report.seal
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_anchor_reports_the_first_bad_position_of_a_change_before_it(pool: PgPool) {
    let world = sealed_history(&pool).await;
    let anchor = audit::anchor(&world.store).await.unwrap().unwrap();
    let member_2 = positions_of(&pool, 2).await;
    past_the_triggers(
        &pool,
        &[format!(
            "DELETE FROM events WHERE position = {}",
            member_2[4]
        )],
    )
    .await;

    let report = verify_against(&pool, &anchor).await;
    let at_anchor = report
        .seal
        .broken
        .iter()
        .find(|b| b.block == anchor.block && b.reason.contains("anchor"))
        .expect("the anchor's digest is not reached");
    assert_eq!(at_anchor.position, member_2[4]);
    assert_eq!(first_bad(&report).0, member_2[4]);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_service_role_can_append_and_seal_but_not_change_the_log(pool: PgPool) {
    let service = store::connect_as_service(&pool.connect_options(), 2, 0)
        .await
        .unwrap();
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&service)
        .await
        .unwrap();
    assert_eq!(role, store::SERVICE_ROLE);
    // The ledger's path works as the service: append, project, seal, verify.
    let world = World::new(service.clone()).await;
    world.append(vec![register(member(1), t0())]).await;
    world.drain().await;
    assert_eq!(seal(&world.store).await, 2);
    assert!(audit::verify(&service).await.unwrap().is_clean());

    for refused in [
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "ALTER TABLE events DISABLE TRIGGER events_no_update",
        "ALTER TABLE log_seal DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "UPDATE events SET payload = payload",
        "DELETE FROM events",
        "TRUNCATE events",
        "UPDATE log_seal SET sealed_at = now()",
        "DELETE FROM log_seal",
        "TRUNCATE log_seal",
        "RESET ROLE",
    ] {
        let mut conn = service.acquire().await.unwrap();
        let error = sqlx::query(refused).execute(&mut *conn).await;
        if refused == "RESET ROLE" {
            // A superuser's session can switch back: the role guards against the service's own
            // statements, not against whoever holds a superuser's credentials.
            assert!(error.is_ok());
            conn.close().await.unwrap();
            continue;
        }
        let message = error.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{refused}: {message}"
        );
    }
    // Inserting is the sealer's path; a block that does not extend the chain is refused.
    let forged = sqlx::query(
        "INSERT INTO log_seal (block, first_tx_id, first_position, last_tx_id, last_position, \
         count, total, positions, leaf_prefixes, events_digest, prev_block_digest, block_digest) \
         VALUES (2, 1, 1, 1, 1, 1, 3, '{1}', '\\x0000000000000000', '', '', '')",
    )
    .execute(&service)
    .await;
    let message = forged.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("does not extend the chain"), "{message}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 2);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_seal_block_changed_or_removed_is_reported(pool: PgPool) {
    sealed_history(&pool).await;
    verified_clean(&pool).await;
    let (block_2_first, block_3_first): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT first_position FROM log_seal WHERE block = 2), \
                (SELECT first_position FROM log_seal WHERE block = 3)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    past_the_triggers(
        &pool,
        &[
            "DELETE FROM log_seal WHERE block = 2".to_string(),
            "UPDATE log_seal SET events_digest = sha256(events_digest) WHERE block = 4".to_string(),
        ],
    )
    .await;

    let report = audit::verify(&pool).await.unwrap();
    let reasons: Vec<(i64, i64, &str)> = report
        .seal
        .broken
        .iter()
        .map(|b| (b.block, b.position, b.reason.as_str()))
        .collect();
    // Block 3 is now the second stored block: its number and link are wrong, and the events
    // block 2 sealed fall into its range unsealed.
    assert!(
        reasons.contains(&(3, block_3_first, "stored block: block 2 is missing")),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&(3, block_2_first, "an event the block did not seal")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(block, _, reason)| *block == 4 && reason.contains("digest does not match")),
        "{reasons:?}"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_append_committed_late_is_sealed_never_skipped(pool: PgPool) {
    let world = World::new(pool.clone()).await;
    world.append(vec![register(member(1), t0())]).await;
    let sealer = Sealer::new(world.store.clone(), SealConfig::default());
    assert_eq!(sealer.drain().await.unwrap(), 2);

    // The first append stays open (lower transaction id) while a later one commits: sealing
    // the later one now would leave the first behind the seal for ever.
    let mut held = pool.begin().await.unwrap();
    let entry = EntryId(uuid::Uuid::from_u128(0xE1));
    crate::runner::append_in(&mut held, &award(entry, member(1), 7, Network::Vk, t0())).await;
    world.append(vec![register(member(2), t0())]).await;
    assert_eq!(sealer.seal_once().await.unwrap(), SealStep::HeldBack);

    held.commit().await.unwrap();
    assert_eq!(sealer.drain().await.unwrap(), 2);
    let report = audit::verify(&pool).await.unwrap();
    assert!(report.seal.broken.is_empty(), "{:?}", report.seal);
    assert_eq!(
        (report.seal.sealed_events, report.seal.unsealed_events),
        (4, 0)
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn two_sealers_never_seal_the_same_events(pool: PgPool) {
    let world = World::new(pool.clone()).await;
    for m in 1..=30 {
        world.append(vec![register(member(m), t0())]).await;
    }
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('loyalty.seal'), 0)")
        .execute(&mut *holder)
        .await
        .unwrap();
    let sealer = Sealer::new(world.store.clone(), SealConfig::default());
    assert_eq!(sealer.seal_once().await.unwrap(), SealStep::Busy);
    holder.rollback().await.unwrap();

    let small = SealConfig {
        block_events: 3,
        ..SealConfig::default()
    };
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let sealer = Sealer::new(world.store.clone(), small.clone());
            tokio::spawn(async move { sealer.drain().await.unwrap() })
        })
        .collect();
    let mut sealed = 0;
    for t in tasks {
        sealed += t.await.unwrap();
    }
    assert_eq!(sealed, 31);
    let report = audit::verify(&pool).await.unwrap();
    assert!(report.seal.broken.is_empty(), "{:?}", report.seal);
    assert_eq!((report.seal.blocks, report.seal.sealed_events), (11, 31));
}

/// The audit reads the seal a page of blocks at a time beside the log: with more blocks than a
/// page and the read-ahead hold, every block is still checked, and a change in a late one is
/// found at its event.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_seal_of_many_blocks_is_checked_to_its_last_block(pool: PgPool) {
    let mut world = World::new(pool.clone()).await;
    world.append(vec![register(member(1), t0())]).await;
    for k in 0..150 {
        let entry = world.entry();
        let at = t0() + Duration::minutes(k);
        world
            .append(vec![award(entry, member(1), 10, Network::Vk, at)])
            .await;
    }
    world.drain().await;
    let config = SealConfig {
        block_events: 1,
        ..SealConfig::default()
    };
    Sealer::new(world.store.clone(), config)
        .drain()
        .await
        .unwrap();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(events > 150, "{events}");
    let report = audit::verify(&pool).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.differences);
    assert_eq!(
        (report.seal.blocks, report.seal.sealed_events),
        (events as u64, events as u64)
    );

    let late: i64 = sqlx::query_scalar("SELECT first_position FROM log_seal WHERE block = $1")
        .bind(events - 3)
        .fetch_one(&pool)
        .await
        .unwrap();
    past_the_triggers(
        &pool,
        &[format!(
            "UPDATE events SET recorded_at = recorded_at + interval '1 second' WHERE position = {late}"
        )],
    )
    .await;
    let report = audit::verify(&pool).await.unwrap();
    assert_eq!(report.seal.blocks, events as u64);
    let (position, reason) = first_bad(&report);
    assert_eq!(position, late);
    assert!(reason.contains("differs"), "{reason}");
}
