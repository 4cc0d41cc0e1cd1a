//! `loyalty audit anchor` and `loyalty audit verify --anchor FILE` as an auditor runs them: the
//! anchor is a JSON document kept outside the database; verifying with it passes while the log
//! only grows, and fails (exit 1, the first bad position named) once history before it changes.

mod support;

use sqlx::PgPool;
use std::process::{Command, Output};
use store::{Commit, EventStore, ExpectedVersion, Metadata, NewEvent, StreamAppend};
use support::database_url;
use uuid::Uuid;

async fn loyalty(url: &str, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")));
    command.env("DATABASE_URL", url).args(args);
    command.output().await.expect("loyalty runs")
}

/// Another program, created like the demo's (its ProgramCreated payload under a new id).
async fn another_program(pool: &PgPool) {
    let (event_type, schema_version, mut payload): (String, i16, serde_json::Value) =
        sqlx::query_as(
            "SELECT event_type, schema_version, payload FROM events \
             WHERE event_type = 'ProgramCreated' ORDER BY position LIMIT 1",
        )
        .fetch_one(pool)
        .await
        .unwrap();
    let program = Uuid::new_v4();
    payload["program_id"] = serde_json::json!(program);
    let event = NewEvent {
        event_id: Uuid::new_v4(),
        event_type,
        schema_version,
        payload,
        metadata: Metadata::default(),
    };
    let commit = Commit {
        appends: vec![StreamAppend {
            program_id: program,
            stream_id: format!("program-{program}"),
            expected: ExpectedVersion::NoStream,
            events: vec![event],
        }],
    };
    EventStore::new(pool.clone()).append(commit).await.unwrap();
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn verify_with_an_anchor_passes_as_the_log_grows_and_fails_on_an_older_change(pool: PgPool) {
    loyalty::demo::seed(&pool, &support::secret_box())
        .await
        .unwrap();
    // Sealed up to the end first: `audit anchor` seals only what no open transaction (of any
    // database of the server) holds back.
    let store = EventStore::new(pool.clone());
    projections::seal::Sealer::new(store, projections::seal::SealConfig::default())
        .drain()
        .await
        .unwrap();
    let url = database_url(&pool);
    let anchored = loyalty(&url, &["audit", "anchor"]).await;
    assert!(
        anchored.status.success(),
        "{}",
        String::from_utf8_lossy(&anchored.stderr)
    );
    let anchor: serde_json::Value = serde_json::from_slice(&anchored.stdout).unwrap();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(anchor["events"], events);
    assert_eq!(anchor["digest"].as_str().map(str::len), Some(64));
    let file = std::env::temp_dir().join(format!("loyalty-anchor-{}.json", Uuid::new_v4()));
    std::fs::write(&file, &anchored.stdout).unwrap();
    let file_arg = file.to_string_lossy().into_owned();

    for _ in 0..3 {
        another_program(&pool).await;
    }
    let verified = loyalty(&url, &["audit", "verify", "--anchor", &file_arg]).await;
    let text = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert!(verified.status.success(), "{text}");
    assert!(text.contains("the anchor (block"), "{text}");
    assert!(text.contains(") holds"), "{text}");

    let first: i64 = sqlx::query_scalar("SELECT min(position) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("DELETE FROM events WHERE position = $1")
        .bind(first)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let verified = loyalty(&url, &["audit", "verify", "--anchor", &file_arg]).await;
    let text = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert_eq!(verified.status.code(), Some(1), "{text}");
    assert!(text.contains("does NOT hold"), "{text}");
    assert!(
        text.contains(&format!("position {first}: the sealed event is missing")),
        "{text}"
    );
    let _ = std::fs::remove_file(&file);
}
