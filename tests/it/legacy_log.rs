//! A log started before event schema version 2 (platform ids in accounts, unkeyed text
//! fingerprints): its payloads are never rewritten, they are read through the store's upcaster,
//! so projections and `audit verify` agree on it; `serve` refuses to continue it.

use crate::harness::TestApp;
use serde_json::json;
use sqlx::PgPool;
use store::{Commit, ExpectedVersion, Metadata, NewEvent, StreamAppend};
use uuid::Uuid;

fn v1(event_type: &str, payload: serde_json::Value) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: event_type.into(),
        schema_version: 1,
        payload,
        metadata: Metadata::default(),
    }
}

async fn append(store: &store::EventStore, program: Uuid, stream: String, events: Vec<NewEvent>) {
    let commit = Commit {
        appends: vec![StreamAppend {
            program_id: program,
            stream_id: stream,
            expected: ExpectedVersion::Any,
            events,
        }],
    };
    store.append(commit).await.unwrap();
}

/// A version 1 member with a linked VK account (by platform id) and an award with an unkeyed
/// fingerprint, appended as a version 1 build wrote them.
async fn version_1_log(pool: &PgPool) -> Uuid {
    let store = store::EventStore::new(pool.clone());
    let (program, member) = (Uuid::new_v4(), Uuid::new_v4());
    let at = "2026-01-01T12:00:00Z";
    let identity = json!({"network": "vk", "scope": "", "external_id": "715002001"});
    append(
        &store,
        program,
        format!("program-{program}"),
        vec![v1(
            "ProgramCreated",
            json!({
        "type": "ProgramCreated", "program_id": program, "name": "Old brand", "time_zone": "UTC",
        "at": at}),
        )],
    )
    .await;
    append(
        &store,
        program,
        format!("member-{member}"),
        vec![
            v1(
                "MemberRegistered",
                json!({"type": "MemberRegistered", "member_id": member,
            "program_id": program, "at": at}),
            ),
            v1(
                "AccountLinked",
                json!({"type": "AccountLinked", "member_id": member,
            "identity": identity, "method": "code", "at": at}),
            ),
            v1(
                "PointsAwarded",
                json!({"type": "PointsAwarded", "member_id": member,
            "entry_id": Uuid::new_v4(), "activity": {"network": "vk", "kind": "comment",
            "reference": "-1_2_3"}, "points": 5, "rule_version": 1, "campaign_id": null,
            "occurred_at": at, "at": at, "text_fingerprint": "0cd381b9bfe829f6"}),
            ),
        ],
    )
    .await;
    append(
        &store,
        program,
        format!("identity-{program}-vk::715002001"),
        vec![v1(
            "IdentityClaimed",
            json!({"type": "IdentityClaimed", "program_id": program, "identity": identity,
            "member_id": member, "at": at}),
        )],
    )
    .await;
    program
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_version_1_log_reads_through_the_upcaster_and_audits_clean(pool: PgPool) {
    version_1_log(&pool).await;
    assert!(store::upcast::is_legacy_log(&pool).await.unwrap());
    for projection in projections::Projection::ALL {
        projections::Runner::new(pool.clone(), projection)
            .drain()
            .await
            .unwrap();
    }
    let linked: i64 = sqlx::query_scalar("SELECT count(*) FROM identities")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(linked, 1, "the version 1 link reads as a reference");
    let balance: i64 = sqlx::query_scalar("SELECT current FROM balances")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(balance, 5);
    let report = projections::audit::verify(&pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
    assert!(report.broken_chains.is_empty(), "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn serve_refuses_to_continue_a_version_1_log(pool: PgPool) {
    version_1_log(&pool).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = crate::harness::fixture_config();
    let served = loyalty::server::serve(listener, pool, config, async {}).await;
    let error = served.expect_err("a version 1 log is refused").to_string();
    assert!(error.contains("schema version 2"), "{error}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_new_log_is_not_legacy(pool: PgPool) {
    assert!(!store::upcast::is_legacy_log(&pool).await.unwrap());
    TestApp::new(pool.clone()).await;
    assert!(!store::upcast::is_legacy_log(&pool).await.unwrap());
}
