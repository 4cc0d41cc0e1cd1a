//! The event log against a real PostgreSQL: a fresh database per test.

use serde_json::json;
use sqlx::PgPool;
use store::{
    AppendOutcome, Checkpoint, Commit, EventStore, ExpectedVersion, IndexedType, Metadata,
    NewEvent, StoreError, StreamAppend,
};
use uuid::Uuid;

const PROGRAM: Uuid = Uuid::from_u128(1);

fn event(n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "Tested".into(),
        schema_version: 1,
        payload: json!({"type": "Tested", "n": n}),
        metadata: Metadata {
            actor: Some("test".into()),
            ..Metadata::default()
        },
    }
}

fn commit(stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> Commit {
    Commit {
        appends: vec![StreamAppend {
            program_id: PROGRAM,
            stream_id: stream.into(),
            expected,
            events,
        }],
    }
}

/// A transaction of another test that ends while a reader looks (between the horizon's snapshot
/// and its read of the lock table) holds that one look back for a moment. Looks again every
/// 10 ms until `done` holds of what `look` found, for up to 5 s, as a projection would; answers
/// what the last look found.
async fn settled<T>(mut look: impl AsyncFnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    for _ in 0..500 {
        let found = look().await;
        if done(&found) {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    look().await
}

/// The events after `after` once `n` are visible (or what is after 5 s).
async fn read_settled(
    store: &EventStore,
    after: Checkpoint,
    n: usize,
) -> Vec<store::RecordedEvent> {
    settled(
        async || store.read_all(after, 100).await.unwrap(),
        |rows| rows.len() >= n,
    )
    .await
}

/// The head once it reaches `expected` (or where it stands after 5 s).
async fn head_settled(store: &EventStore, expected: Checkpoint) -> Checkpoint {
    settled(
        async || store.head().await.unwrap(),
        |head| *head >= expected,
    )
    .await
}

async fn count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .unwrap()
}

fn typed(n: u64, event_type: &str) -> NewEvent {
    NewEvent {
        event_type: event_type.into(),
        ..event(n)
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn pages_a_stream_backwards_and_finds_events_by_id_and_rare_type(pool: PgPool) {
    let store = EventStore::new(pool);
    let events = vec![
        event(1),
        typed(2, "ProgramCreated"),
        event(3),
        typed(4, "Other"),
        event(5),
    ];
    let second_id = events[1].event_id;
    store
        .append(commit("s-1", ExpectedVersion::NoStream, events))
        .await
        .unwrap();
    store
        .append(commit("s-2", ExpectedVersion::NoStream, vec![event(6)]))
        .await
        .unwrap();

    let versions = |rows: Vec<store::RecordedEvent>| -> Vec<i64> {
        rows.iter().map(|r| r.stream_version).collect()
    };
    let newest = store.stream_page("s-1", i64::MAX, 2, None).await.unwrap();
    assert_eq!(versions(newest), [5, 4]);
    let older = store.stream_page("s-1", 4, 10, None).await.unwrap();
    assert_eq!(versions(older), [3, 2, 1]);
    let tested = store
        .stream_page("s-1", i64::MAX, 10, Some(&["Tested"]))
        .await
        .unwrap();
    assert_eq!(versions(tested), [5, 3, 1]);

    let found = store.event_by_id(second_id).await.unwrap().unwrap();
    assert_eq!(found.payload["n"], 2);
    assert!(store.contains_event(second_id).await.unwrap());
    assert!(store.event_by_id(Uuid::new_v4()).await.unwrap().is_none());
    assert!(!store.contains_event(Uuid::new_v4()).await.unwrap());

    let programs = store
        .events_of_type(IndexedType::ProgramCreated)
        .await
        .unwrap();
    assert_eq!(programs.len(), 1);
    assert_eq!(programs[0].event_id, second_id);
    assert!(
        store
            .events_of_type(IndexedType::CampaignCreated)
            .await
            .unwrap()
            .is_empty()
    );

    let last = store.last_committed().await.unwrap();
    let s2 = store.read_stream("s-2", 0).await.unwrap();
    assert_eq!(last, s2[0].checkpoint());
}

/// `program`'s stream `stream`: 20,000 ordinary events, then one creation of each id.
async fn program_with(store: &EventStore, program: Uuid, stream: &str, ids: &[Uuid]) {
    for block in 0..20 {
        let mut events: Vec<NewEvent> = (0..1_000).map(event).collect();
        if block == 19 {
            events.extend(ids.iter().map(|id| NewEvent {
                event_type: "CampaignCreated".into(),
                payload: json!({"type": "CampaignCreated", "campaign_id": id}),
                ..event(0)
            }));
        }
        let expected = match block {
            0 => ExpectedVersion::NoStream,
            _ => ExpectedVersion::Exact(block * 1_000),
        };
        let mut commit = commit(stream, expected, events);
        commit.appends[0].program_id = program;
        store.append(commit).await.unwrap();
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_new_programs_creations_are_found_by_the_rare_type_index_whatever_the_statistics(
    pool: PgPool,
) {
    let store = EventStore::new(pool.clone());
    let (known, new) = (Uuid::from_u128(10), Uuid::from_u128(11));
    let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    program_with(&store, known, "known", &[a]).await;
    sqlx::query("ANALYZE events").execute(&pool).await.unwrap();
    // Onboarded since the last ANALYZE: the statistics put it at one row, so a plan by
    // program alone looks as cheap as the rare-type index and reads all of its events.
    program_with(&store, new, "new", &[b, c]).await;

    assert_eq!(
        store
            .created_ids(new, IndexedType::CampaignCreated)
            .await
            .unwrap(),
        [b, c]
    );
    assert_eq!(
        store
            .created_ids(known, IndexedType::CampaignCreated)
            .await
            .unwrap(),
        [a]
    );
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN SELECT (payload->>'campaign_id')::uuid FROM events \
         WHERE event_type = 'CampaignCreated' AND program_id = '{new}' ORDER BY position"
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("events_rare_type_idx"), "{plan}");
    assert!(!plan.contains("Sort"), "{plan}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn appends_and_reads_back_a_stream(pool: PgPool) {
    let store = EventStore::new(pool);
    let outcome = store
        .append(commit(
            "s-1",
            ExpectedVersion::NoStream,
            vec![event(1), event(2)],
        ))
        .await
        .unwrap();
    assert!(matches!(outcome, AppendOutcome::Appended { ref positions } if positions.len() == 2));
    store
        .append(commit("s-1", ExpectedVersion::Exact(2), vec![event(3)]))
        .await
        .unwrap();

    let read = store.read_stream("s-1", 0).await.unwrap();
    let versions: Vec<i64> = read.iter().map(|e| e.stream_version).collect();
    let ns: Vec<i64> = read
        .iter()
        .map(|e| e.payload["n"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(ns, [1, 2, 3]);
    assert_eq!(read[0].metadata["actor"], "test");
    assert_eq!(store.read_stream("s-1", 2).await.unwrap().len(), 1);
    assert_eq!(store.stream_version("s-1").await.unwrap(), 3);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn wrong_expected_version_is_a_conflict_and_changes_nothing(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    store
        .append(commit("s-1", ExpectedVersion::NoStream, vec![event(1)]))
        .await
        .unwrap();

    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(2),
        ExpectedVersion::Exact(0),
    ] {
        let err = store
            .append(commit("s-1", expected, vec![event(9)]))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { ref stream_id, actual: 1, .. } if stream_id == "s-1"),
            "{expected}: {err}"
        );
    }
    store
        .append(commit("s-1", ExpectedVersion::Any, vec![event(2)]))
        .await
        .unwrap();
    assert_eq!(count(&pool).await, 2);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_multi_stream_commit_is_all_or_nothing(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    store
        .append(commit(
            "member-a",
            ExpectedVersion::NoStream,
            vec![event(1)],
        ))
        .await
        .unwrap();
    let both = |a: ExpectedVersion| Commit {
        appends: vec![
            StreamAppend {
                program_id: PROGRAM,
                stream_id: "member-a".into(),
                expected: a,
                events: vec![event(2)],
            },
            StreamAppend {
                program_id: PROGRAM,
                stream_id: "reward-r".into(),
                expected: ExpectedVersion::NoStream,
                events: vec![event(3)],
            },
        ],
    };
    assert!(
        store
            .append(both(ExpectedVersion::Exact(7)))
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(count(&pool).await, 1, "neither stream was written");
    store.append(both(ExpectedVersion::Exact(1))).await.unwrap();
    assert_eq!(store.stream_version("member-a").await.unwrap(), 2);
    assert_eq!(store.stream_version("reward-r").await.unwrap(), 1);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_seen_event_id_is_a_duplicate_and_changes_nothing(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let first = event(1);
    store
        .append(commit("s-1", ExpectedVersion::Any, vec![first.clone()]))
        .await
        .unwrap();
    let again = store
        .append(commit("s-1", ExpectedVersion::Any, vec![first.clone()]))
        .await
        .unwrap();
    assert_eq!(again, AppendOutcome::Duplicate);
    // Also when redelivered to another stream, or inside a batch beside a fresh commit.
    let results = store
        .append_batch(vec![
            commit("s-2", ExpectedVersion::Any, vec![first]),
            commit("s-3", ExpectedVersion::Any, vec![event(2)]),
        ])
        .await;
    assert_eq!(results[0].as_ref().unwrap(), &AppendOutcome::Duplicate);
    assert!(matches!(results[1], Ok(AppendOutcome::Appended { .. })));
    assert_eq!(count(&pool).await, 2);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_batch_checks_each_commit_against_the_ones_before_it(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let results = store
        .append_batch(vec![
            commit("s-1", ExpectedVersion::NoStream, vec![event(1)]),
            commit("s-1", ExpectedVersion::NoStream, vec![event(2)]),
            commit("s-1", ExpectedVersion::Exact(1), vec![event(3)]),
        ])
        .await;
    assert!(results[0].is_ok());
    assert!(results[1].as_ref().unwrap_err().is_conflict());
    assert!(results[2].is_ok());
    assert_eq!(store.stream_version("s-1").await.unwrap(), 2);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_batch_sees_the_events_and_heads_its_earlier_commits_will_write(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let repeated = event(4);
    let refused_first = event(6);
    let results = store
        .append_batch(vec![
            commit(
                "shared",
                ExpectedVersion::NoStream,
                vec![event(1), event(2)],
            ),
            Commit {
                appends: vec![
                    StreamAppend {
                        program_id: PROGRAM,
                        stream_id: "other".into(),
                        expected: ExpectedVersion::NoStream,
                        events: vec![event(3)],
                    },
                    StreamAppend {
                        program_id: PROGRAM,
                        stream_id: "shared".into(),
                        expected: ExpectedVersion::Exact(2),
                        events: vec![repeated.clone()],
                    },
                ],
            },
            // The same event id again, in a later commit of the same batch: a duplicate.
            commit("third", ExpectedVersion::NoStream, vec![repeated]),
            // Refused for its version, so its id is not taken by it...
            commit(
                "shared",
                ExpectedVersion::Exact(1),
                vec![refused_first.clone()],
            ),
            // ...and a later commit of the batch may still use it.
            commit(
                "shared",
                ExpectedVersion::Any,
                vec![event(5), refused_first],
            ),
        ])
        .await;
    let positions = |r: &Result<AppendOutcome, StoreError>| match r {
        Ok(AppendOutcome::Appended { positions }) => positions.clone(),
        other => panic!("expected an append, got {other:?}"),
    };
    let first = positions(&results[0]);
    let second = positions(&results[1]);
    assert_eq!(results[2].as_ref().unwrap(), &AppendOutcome::Duplicate);
    assert!(results[3].as_ref().unwrap_err().is_conflict());
    let last = positions(&results[4]);
    let all: Vec<i64> = [first, second, last].concat();
    assert_eq!(all.len(), 6);
    assert!(
        all.windows(2).all(|w| w[0] < w[1]),
        "positions follow the batch's order: {all:?}"
    );
    assert_eq!(store.stream_version("shared").await.unwrap(), 5);
    assert_eq!(store.stream_version("third").await.unwrap(), 0);
    assert_eq!(count(&pool).await, 6);
    let mut previous: Vec<u8> = Vec::new();
    let shared = store.read_stream("shared", 0).await.unwrap();
    let ns: Vec<i64> = shared
        .iter()
        .map(|e| e.payload["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, [1, 2, 4, 5, 6]);
    for e in shared {
        let digest =
            store::digest::content_digest(e.event_id, &e.event_type, e.schema_version, &e.payload);
        let expected = store::digest::chain_hash(&previous, e.stream_version, &digest);
        assert_eq!(e.hash, expected.to_vec(), "version {}", e.stream_version);
        previous = e.hash;
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn events_cannot_be_updated_deleted_or_truncated(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    store
        .append(commit("s-1", ExpectedVersion::Any, vec![event(1)]))
        .await
        .unwrap();
    for sql in [
        "UPDATE events SET payload = '{}'::jsonb",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(
            err.to_string().contains("events are immutable"),
            "{sql}: {err}"
        );
    }
    let read = store.read_stream("s-1", 0).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].payload["n"], 1);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn sixteen_racing_writers_lose_and_duplicate_nothing(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let mut tasks = Vec::new();
    for writer in 0..16u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for i in 0..20u64 {
                let n = writer * 100 + i;
                let e = event(n);
                loop {
                    let head = store.stream_version("hot").await.unwrap();
                    let c = commit("hot", ExpectedVersion::from_head(head), vec![e.clone()]);
                    match store.append(c).await {
                        Ok(_) => break,
                        Err(err) if err.is_conflict() => conflicts += 1,
                        Err(err) => panic!("{err}"),
                    }
                }
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for t in tasks {
        conflicts += t.await.unwrap();
    }
    let read = store.read_stream("hot", 0).await.unwrap();
    let versions: Vec<i64> = read.iter().map(|e| e.stream_version).collect();
    assert_eq!(
        versions,
        (1..=320).collect::<Vec<i64>>(),
        "gapless versions"
    );
    let mut ns: Vec<i64> = read
        .iter()
        .map(|e| e.payload["n"].as_i64().unwrap())
        .collect();
    ns.sort();
    ns.dedup();
    assert_eq!(ns.len(), 320, "every event exactly once");
    assert!(conflicts > 0, "the race was real");
}

/// A transaction that has appended event `n` to `stream` through `append_events` and stays
/// open until the caller commits it.
async fn open_append(
    pool: &PgPool,
    stream: &str,
    n: i64,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut held = pool.begin().await.unwrap();
    sqlx::query("SELECT * FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(vec![0i32])
        .bind(vec![PROGRAM])
        .bind(vec![stream.to_string()])
        .bind(vec![-1i64])
        .bind(vec![Uuid::new_v4()])
        .bind(vec!["Tested".to_string()])
        .bind(vec![1i16])
        .bind(vec![json!({"type": "Tested", "n": n})])
        .bind(vec![json!({})])
        .bind(vec![vec![0u8; 32]])
        .execute(&mut *held)
        .await
        .unwrap();
    held
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_log_is_read_in_commit_safe_order_and_never_skips_a_late_commit(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    store
        .append(commit("a", ExpectedVersion::Any, vec![event(1)]))
        .await
        .unwrap();
    let first = read_settled(&store, Checkpoint::default(), 1).await;
    assert_eq!(first.len(), 1);
    let seen = first[0].checkpoint();

    // Transaction T1 appends (takes the lower position) and stays open.
    let held = open_append(&pool, "slow", 2).await;
    // T2 appends later (higher position) and commits first.
    store
        .append(commit("fast", ExpectedVersion::Any, vec![event(3)]))
        .await
        .unwrap();
    assert!(
        store.read_all(seen, 100).await.unwrap().is_empty(),
        "nothing past the open transaction is visible yet"
    );

    held.commit().await.unwrap();
    let rest = read_settled(&store, seen, 2).await;
    let ns: Vec<i64> = rest
        .iter()
        .map(|e| e.payload["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, [2, 3], "the late commit is read, in transaction order");
    assert!(rest[0].position < rest[1].position);
}

/// A transaction that holds an id but can never append: one in another database, one here that
/// wrote only other tables. Neither may hold readers back (both used to freeze every reader).
async fn open_writer_elsewhere(pool: &PgPool, database: Option<&str>) -> sqlx::PgConnection {
    use sqlx::Connection;
    let mut options = pool.connect_options().as_ref().clone();
    if let Some(database) = database {
        options = options.database(database);
    }
    let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query("CREATE TEMP TABLE scratch (n int)")
        .execute(&mut conn)
        .await
        .unwrap();
    let xid: Option<i64> =
        sqlx::query_scalar("SELECT pg_current_xact_id_if_assigned()::text::bigint")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(xid.is_some(), "the open transaction holds an id");
    conn
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn open_transactions_that_cannot_append_do_not_hold_readers_back(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let mut other_database = open_writer_elsewhere(&pool, Some("postgres")).await;
    let mut same_database = open_writer_elsewhere(&pool, None).await;
    let mut read_only = pool.begin().await.unwrap();
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *read_only)
        .await
        .unwrap();
    let _: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *read_only)
        .await
        .unwrap();

    store
        .append(commit("a", ExpectedVersion::Any, vec![event(1), event(2)]))
        .await
        .unwrap();
    let read = read_settled(&store, Checkpoint::default(), 2).await;
    assert_eq!(read.len(), 2, "the open transactions held the reader back");
    assert_eq!(
        head_settled(&store, read[1].checkpoint()).await,
        read[1].checkpoint(),
        "the open transactions held the head back"
    );

    // What cannot append indeed cannot: a transaction that wrote something else first.
    let refused = sqlx::query(
        "INSERT INTO events (program_id, stream_id, stream_version, event_id, event_type, \
         schema_version, payload, hash) VALUES ($1, 'late', 1, $2, 'Tested', 1, '{}', '')",
    )
    .bind(PROGRAM)
    .bind(Uuid::new_v4())
    .execute(&mut same_database)
    .await
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("events must be the first thing a transaction writes"),
        "{refused}"
    );
    for conn in [&mut other_database, &mut same_database] {
        sqlx::query("ROLLBACK").execute(conn).await.unwrap();
    }
    read_only.rollback().await.unwrap();
    assert_eq!(count(&pool).await, 2);
}

/// Appenders, writers of other tables and a follower of the log all at once: the follower reads
/// every event exactly once, in (tx_id, position) order, whatever commits when. A horizon taken
/// while an appender is half-way through committing once let about one commit in a hundred
/// rounds of this slip behind the follower (migration `horizon_matches_by_pid`); the commits
/// here are many so that a return of such a window shows.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_follower_racing_appenders_and_other_writers_reads_every_event_once(pool: PgPool) {
    const APPENDERS: u64 = 6;
    const COMMITS: u64 = 150;
    // A connection for every task (the test pool has 5), so they really run at once.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let store = EventStore::new(pool.clone());
    sqlx::query("CREATE TABLE unrelated (n bigint)")
        .execute(&pool)
        .await
        .unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..APPENDERS {
        let pool = pool.clone();
        writers.push(tokio::spawn(async move {
            for c in 0..COMMITS {
                // Each commit stays open a little after appending, so commits land out of
                // transaction order.
                let n = (w * 1_000 + c) as i64;
                let mut tx = pool.begin().await.unwrap();
                sqlx::query("SELECT * FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(vec![0i32, 0])
                    .bind(vec![PROGRAM, PROGRAM])
                    .bind(vec![format!("s{w}"), format!("s{w}")])
                    .bind(vec![-1i64, -1])
                    .bind(vec![Uuid::new_v4(), Uuid::new_v4()])
                    .bind(vec!["Tested".to_string(), "Tested".to_string()])
                    .bind(vec![1i16, 1])
                    .bind(vec![json!({"n": n * 2}), json!({"n": n * 2 + 1})])
                    .bind(vec![json!({}), json!({})])
                    .bind(vec![vec![0u8; 32], vec![0u8; 32]])
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                let pause = (w * 7 + c * 3) % 5;
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                tx.commit().await.unwrap();
            }
        }));
    }
    let mut others = Vec::new();
    for _ in 0..2 {
        let pool = pool.clone();
        let done = done.clone();
        others.push(tokio::spawn(async move {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let mut tx = pool.begin().await.unwrap();
                sqlx::query("INSERT INTO unrelated VALUES (1)")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(3)).await;
                tx.commit().await.unwrap();
            }
        }));
    }
    let mut seen: Vec<store::RecordedEvent> = Vec::new();
    let mut at = Checkpoint::default();
    let total = (APPENDERS * COMMITS * 2) as usize;
    // A deadline in time, not in reads: a loaded host slows the writers, not the follower.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        let batch = store.read_all(at, 7).await.unwrap();
        if let Some(last) = batch.last() {
            at = last.checkpoint();
        }
        seen.extend(batch);
        if seen.len() >= total && writers.iter().all(|w| w.is_finished()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in writers.into_iter().chain(others) {
        task.await.unwrap();
    }
    // Every event the follower has not read must still lie ahead of it: one behind its
    // checkpoint was skipped for good.
    let read: std::collections::HashSet<Uuid> = seen.iter().map(|e| e.event_id).collect();
    let all: Vec<(i64, i64, Uuid, serde_json::Value)> =
        sqlx::query_as("SELECT tx_id, position, event_id, payload FROM events")
            .fetch_all(&pool)
            .await
            .unwrap();
    let unread: Vec<(Checkpoint, serde_json::Value)> = all
        .into_iter()
        .filter(|(_, _, event_id, _)| !read.contains(event_id))
        .map(|(tx_id, position, _, payload)| (Checkpoint { tx_id, position }, payload))
        .collect();
    assert!(
        unread.iter().all(|(checkpoint, _)| *checkpoint > at),
        "skipped, behind the follower's checkpoint {at:?}: {unread:?}"
    );
    let order: Vec<Checkpoint> = seen.iter().map(|e| e.checkpoint()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "read in order, once");
    let mut ns: Vec<i64> = seen
        .iter()
        .map(|e| e.payload["n"].as_i64().unwrap())
        .collect();
    ns.sort_unstable();
    let expected: Vec<i64> = (0..APPENDERS as i64)
        .flat_map(|w| (0..(COMMITS * 2) as i64).map(move |k| w * 2_000 + k))
        .collect();
    assert_eq!(ns, expected, "every event read exactly once");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_stored_hash_chain_matches_a_recomputation(pool: PgPool) {
    let store = EventStore::new(pool);
    store
        .append(commit("s", ExpectedVersion::Any, vec![event(1), event(2)]))
        .await
        .unwrap();
    store
        .append(commit("s", ExpectedVersion::Any, vec![event(3)]))
        .await
        .unwrap();
    let mut previous: Vec<u8> = Vec::new();
    for e in store.read_stream("s", 0).await.unwrap() {
        let digest =
            store::digest::content_digest(e.event_id, &e.event_type, e.schema_version, &e.payload);
        let expected = store::digest::chain_hash(&previous, e.stream_version, &digest);
        assert_eq!(e.hash, expected.to_vec(), "version {}", e.stream_version);
        previous = e.hash;
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn invalid_commits_are_refused_before_the_database(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let empty = store.append(Commit::default()).await.unwrap_err();
    assert!(matches!(empty, StoreError::InvalidAppend(_)));
    let twice = Commit {
        appends: vec![
            StreamAppend {
                program_id: PROGRAM,
                stream_id: "x".into(),
                expected: ExpectedVersion::Any,
                events: vec![event(1)],
            },
            StreamAppend {
                program_id: PROGRAM,
                stream_id: "x".into(),
                expected: ExpectedVersion::Any,
                events: vec![event(2)],
            },
        ],
    };
    assert!(matches!(
        store.append(twice).await.unwrap_err(),
        StoreError::InvalidAppend(_)
    ));
    assert_eq!(count(&pool).await, 0);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_appender_groups_concurrent_commits_and_wakes_subscribers(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let mut wake = store.wake().subscribe();
    let appender = store::Appender::spawn(store.clone(), 2, 64);
    let mut tasks = Vec::new();
    for i in 0..200u64 {
        let appender = appender.clone();
        tasks.push(tokio::spawn(async move {
            appender
                .append(commit(
                    &format!("m-{}", i % 50),
                    ExpectedVersion::Any,
                    vec![event(i)],
                ))
                .await
        }));
    }
    for t in tasks {
        assert!(matches!(
            t.await.unwrap(),
            Ok(AppendOutcome::Appended { .. })
        ));
    }
    assert!(wake.has_changed().unwrap());
    wake.mark_unchanged();
    let transactions: i64 = sqlx::query_scalar("SELECT count(DISTINCT tx_id) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count(&pool).await, 200);
    assert!(
        transactions < 200,
        "commits were grouped ({transactions} transactions)"
    );
}

/// Every column type `Fields` reads, as PostgreSQL sends it, NULLs included; 20,000 rows, so
/// rows straddle the COPY stream's chunks.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn binary_copy_reads_every_column_type_as_postgresql_sends_it(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    let mut copy = store::BinaryCopy::start(
        &mut conn,
        "SELECT n::bigint, (n % 300)::smallint, \
         ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid, \
         CASE WHEN n % 2 = 0 THEN 'é ' || n END, \
         jsonb_build_object('n', n, 's', 'a\"b'), \
         '2026-12-04T10:00:00.123456Z'::timestamptz + n * interval '1 second', \
         int8send(n) \
         FROM generate_series(1, 20000) n ORDER BY n",
    )
    .await
    .unwrap();
    let mut seen = 0i64;
    while let Some(mut row) = copy.next_row().await.unwrap() {
        seen += 1;
        let n = seen;
        assert_eq!(row.bigint().unwrap(), n);
        assert_eq!(i64::from(row.smallint().unwrap()), n % 300);
        assert_eq!(
            row.uuid().unwrap(),
            Uuid::parse_str(&format!("00000000-0000-0000-0000-{n:012}")).unwrap()
        );
        let text = row.next_field().unwrap();
        if n % 2 == 0 {
            assert_eq!(text, Some(format!("é {n}").as_bytes()));
        } else {
            assert_eq!(text, None, "NULL is a field of its own");
        }
        let json: serde_json::Value = serde_json::from_str(row.jsonb().unwrap()).unwrap();
        assert_eq!(json, json!({"n": n, "s": "a\"b"}));
        let expected_at = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00.123456Z")
            .unwrap()
            + chrono::TimeDelta::seconds(n);
        assert_eq!(row.timestamptz().unwrap(), expected_at);
        assert_eq!(row.bytea().unwrap(), n.to_be_bytes());
        assert!(row.next_field().is_err(), "there is no eighth column");
    }
    assert_eq!(seen, 20_000);
    drop(copy);
    // The connection is usable again once the COPY has been read to its end.
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
}

/// The audit's COPY read of the log returns what the ordinary read does, in the same order.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_log_by_copy_is_the_log_as_read(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    for stream in ["a", "b", "a", "c", "b"] {
        let version = store.stream_version(stream).await.unwrap();
        let expected = if version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(version)
        };
        store
            .append(commit(stream, expected, vec![event(1), event(2)]))
            .await
            .unwrap();
    }
    let read = read_settled(&store, Checkpoint::default(), 10).await;
    assert_eq!(read.len(), 10);
    let mut tx = pool.begin().await.unwrap();
    let mut log = store::LogCopy::start(&mut tx).await.unwrap();
    let mut row = store::LogRow::default();
    for expected in &read {
        assert!(log.next_into(&mut row).await.unwrap());
        assert_eq!(
            (
                row.tx_id,
                row.position,
                row.program_id,
                row.stream_id.as_str(),
                row.stream_version
            ),
            (
                expected.tx_id,
                expected.position,
                expected.program_id,
                expected.stream_id.as_str(),
                expected.stream_version
            )
        );
        assert_eq!(
            (
                row.event_id,
                row.event_type.as_str(),
                row.schema_version,
                row.recorded_at,
                &row.hash
            ),
            (
                expected.event_id,
                expected.event_type.as_str(),
                expected.schema_version,
                expected.recorded_at,
                &expected.hash
            )
        );
        let payload: serde_json::Value = serde_json::from_str(&row.payload).unwrap();
        assert_eq!(payload, expected.payload);
    }
    assert!(!log.next_into(&mut row).await.unwrap());
    drop(log);
    // In its transaction the read walks the order index, never a sort (which spills the whole
    // log to temporary files once the planner prefers it); the setting ends with it.
    let plan: Vec<String> =
        sqlx::query_scalar("EXPLAIN SELECT * FROM events ORDER BY tx_id, position")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    assert!(plan.iter().all(|line| !line.contains("Sort")), "{plan:?}");
    tx.commit().await.unwrap();
    let after: String = sqlx::query_scalar("SHOW enable_sort")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(after, "on");
}

/// A commit the database refuses (PostgreSQL cannot store U+0000 in jsonb) fails alone: the
/// good commits grouped with it, in one writer's batch, are appended.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_bad_commit_in_a_batch_fails_alone(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let mut bad = event(99);
    bad.payload = json!({"type": "Tested", "reason": "spam\u{0}"});
    let results = store
        .append_batch(vec![
            commit("s-1", ExpectedVersion::NoStream, vec![event(1)]),
            commit("s-2", ExpectedVersion::NoStream, vec![bad]),
            commit("s-3", ExpectedVersion::Any, vec![event(3)]),
            commit("s-1", ExpectedVersion::Exact(1), vec![event(4)]),
        ])
        .await;
    assert!(matches!(results[0], Ok(AppendOutcome::Appended { .. })));
    assert!(
        matches!(results[1], Err(StoreError::Database(_))),
        "{:?}",
        results[1]
    );
    assert!(matches!(results[2], Ok(AppendOutcome::Appended { .. })));
    assert!(matches!(results[3], Ok(AppendOutcome::Appended { .. })));
    assert_eq!(count(&pool).await, 3);
    assert_eq!(store.stream_version("s-1").await.unwrap(), 2);
    assert_eq!(store.stream_version("s-2").await.unwrap(), 0);

    // The same through the group-commit writer: one writer, so the commits share batches.
    let appender = store::Appender::spawn(store.clone(), 1, 64);
    let mut tasks = Vec::new();
    for i in 0..100u64 {
        let appender = appender.clone();
        tasks.push(tokio::spawn(async move {
            let mut e = event(i);
            if i % 10 == 3 {
                e.payload = json!({"type": "Tested", "reason": "\u{0}"});
            }
            (
                i,
                appender
                    .append(commit(&format!("w-{i}"), ExpectedVersion::Any, vec![e]))
                    .await,
            )
        }));
    }
    for t in tasks {
        let (i, result) = t.await.unwrap();
        if i % 10 == 3 {
            assert!(result.is_err(), "commit {i} carried a NUL");
        } else {
            assert!(
                matches!(result, Ok(AppendOutcome::Appended { .. })),
                "commit {i}: {result:?}"
            );
        }
    }
    assert_eq!(count(&pool).await, 3 + 90);
}

/// A log restored from another server (pg_restore) carries that server's transaction ids, here
/// a billion ahead of this one's. Until the clock catches up, readers see nothing of it; after
/// `catch_up_clock`, new appends sort after it, a late commit is still never skipped, and a
/// second catch-up (every command runs one) changes nothing.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn after_a_restore_from_a_server_ahead_the_clock_catches_up_and_appends_follow(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    assert_eq!(
        store::catch_up_clock(&pool).await.unwrap(),
        0,
        "an empty log"
    );
    store
        .append(commit("a", ExpectedVersion::Any, vec![event(1)]))
        .await
        .unwrap();
    assert_eq!(
        store::catch_up_clock(&pool).await.unwrap(),
        0,
        "a log written here"
    );

    // The restored row: as pg_restore's COPY writes it, with the source's tx_id.
    sqlx::query(
        "INSERT INTO events (tx_id, program_id, stream_id, stream_version, event_id, event_type, \
                             schema_version, payload, hash) \
         VALUES (pg_current_xact_id()::text::bigint + 1000000000, $1, 'restored', 1, $2, \
                 'Tested', 1, '{\"type\": \"Tested\", \"n\": 2}', '\\x00')",
    )
    .bind(PROGRAM)
    .bind(Uuid::new_v4())
    .execute(&pool)
    .await
    .unwrap();
    let seen = read_settled(&store, Checkpoint::default(), 1).await;
    assert_eq!(seen.len(), 1, "a row ahead of the clock is not final yet");

    let moved = store::catch_up_clock(&pool).await.unwrap();
    // By the row's lead less the transaction ids used since it was written.
    assert!((1..=1_000_000_000).contains(&moved), "moved by {moved}");
    assert_eq!(store::catch_up_clock(&pool).await.unwrap(), 0);
    let restored = read_settled(&store, seen[0].checkpoint(), 1).await;
    assert_eq!(restored.len(), 1);
    let after_restore = restored[0].checkpoint();

    // A late commit on the shifted clock, as in the test above.
    let held = open_append(&pool, "slow", 3).await;
    store
        .append(commit("fast", ExpectedVersion::Any, vec![event(4)]))
        .await
        .unwrap();
    assert!(
        store.read_all(after_restore, 100).await.unwrap().is_empty(),
        "nothing past the open transaction is visible yet"
    );
    held.commit().await.unwrap();
    let rest = read_settled(&store, after_restore, 2).await;
    let ns: Vec<i64> = rest
        .iter()
        .map(|e| e.payload["n"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ns,
        [3, 4],
        "appends follow the restored log, a late commit included"
    );
    assert_eq!(store::catch_up_clock(&pool).await.unwrap(), 0);
}

/// A follower of one program receives only its events, and learns how far its look reached, so
/// it moves past the other programs' events without receiving them.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_follower_of_one_program_reads_its_events_and_passes_the_others(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let other = Uuid::from_u128(2);
    // Interleaved: ours 0, theirs 1, ours 2, theirs 3, theirs 4.
    for n in 0..5u64 {
        let program = if n == 0 || n == 2 { PROGRAM } else { other };
        let mut c = commit(&format!("s-{n}"), ExpectedVersion::NoStream, vec![event(n)]);
        c.appends[0].program_id = program;
        store.append(c).await.unwrap();
    }
    let all = read_settled(&store, Checkpoint::default(), 5).await;
    assert_eq!(all.len(), 5);
    let at = |i: usize| Checkpoint {
        tx_id: all[i].tx_id,
        position: all[i].position,
    };
    let n_of = |e: &store::Envelope<serde_json::Value>| e.event["n"].as_u64().unwrap();

    // A look of three: ours 0 and 2, reaching the third event.
    let (ours, reached) = store
        .read_program_as::<serde_json::Value>(PROGRAM, Checkpoint::default(), 3)
        .await
        .unwrap();
    assert_eq!(ours.iter().map(n_of).collect::<Vec<_>>(), [0, 2]);
    assert!(ours.iter().all(|e| e.program_id == PROGRAM));
    assert_eq!(reached, at(2));
    // The rest is theirs: nothing for us, but the look moves to the end.
    let (ours, reached) = store
        .read_program_as::<serde_json::Value>(PROGRAM, reached, 3)
        .await
        .unwrap();
    assert!(ours.is_empty());
    assert_eq!(reached, at(4));
    // Nothing new: where it stood.
    let (ours, still) = store
        .read_program_as::<serde_json::Value>(PROGRAM, reached, 3)
        .await
        .unwrap();
    assert!(ours.is_empty());
    assert_eq!(still, reached);
    // The other program's follower sees its three.
    let (theirs, _) = store
        .read_program_as::<serde_json::Value>(other, Checkpoint::default(), 10)
        .await
        .unwrap();
    assert_eq!(theirs.iter().map(n_of).collect::<Vec<_>>(), [1, 3, 4]);
}

/// Appends event `n` to program `program` in a stream of its own.
async fn append_to(store: &EventStore, program: Uuid, n: u64) {
    let mut c = commit(&format!("t-{n}"), ExpectedVersion::NoStream, vec![event(n)]);
    c.appends[0].program_id = program;
    store.append(c).await.unwrap();
}

/// Reads `program`'s events through the tail until a look reaches nothing new.
async fn follow_tail(
    tail: &store::LogTail<serde_json::Value>,
    program: Uuid,
    after: &mut Checkpoint,
    seen: &mut Vec<u64>,
) {
    loop {
        let (ours, reached) = tail.read_program(program, *after, 3).await.unwrap();
        assert!(ours.iter().all(|e| e.program_id == program));
        assert!(
            ours.iter()
                .all(|e| e.checkpoint() > *after && e.checkpoint() <= reached)
        );
        seen.extend(ours.iter().map(|e| e.event["n"].as_u64().unwrap()));
        if reached == *after {
            return;
        }
        *after = reached;
    }
}

/// Followers sharing one tail receive exactly what reading the database gives each of them,
/// whether they keep up, lag behind what the tail still holds (it keeps only 8 events here),
/// or start late.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn followers_of_a_shared_tail_read_what_the_database_gives_them(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let programs = [PROGRAM, Uuid::from_u128(2), Uuid::from_u128(3)];
    let tail = store::LogTail::new(store.clone(), 8, std::time::Duration::ZERO);
    let mut places = [Checkpoint::default(); 3];
    let mut seen: [Vec<u64>; 3] = Default::default();
    let mut n = 0;
    for round in 0..6u64 {
        // Uneven rounds, mostly the third program's events, later rounds longer than the tail.
        for _ in 0..(3 + round * 2) {
            let program = programs[(n % 5).min(2) as usize];
            append_to(&store, program, n).await;
            n += 1;
        }
        read_settled(&store, Checkpoint::default(), n as usize).await;
        // The third follower looks only every other round, so it falls behind the tail.
        for f in 0..3 {
            if f < 2 || round % 2 == 1 {
                follow_tail(&tail, programs[f], &mut places[f], &mut seen[f]).await;
            }
        }
    }
    for (f, program) in programs.iter().enumerate() {
        let (expected, _) = store
            .read_program_as::<serde_json::Value>(*program, Checkpoint::default(), 1_000)
            .await
            .unwrap();
        let expected: Vec<u64> = expected
            .iter()
            .map(|e| e.event["n"].as_u64().unwrap())
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(seen[f], expected, "follower {f}");
    }
    // A follower starting from the beginning, long behind the tail, reads the database.
    let mut late = Vec::new();
    follow_tail(&tail, PROGRAM, &mut Checkpoint::default(), &mut late).await;
    assert_eq!(late, seen[0]);
}

/// However many followers look, the tail asks the database once per refresh.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn fifty_followers_of_a_shared_tail_cost_the_database_one_read(pool: PgPool) {
    let store = EventStore::new(pool.clone());
    let head = store.head().await.unwrap();
    let programs: Vec<Uuid> = (0..50u128).map(|p| Uuid::from_u128(100 + p)).collect();
    for (n, program) in programs.iter().enumerate() {
        append_to(&store, *program, n as u64).await;
    }
    read_settled(&store, head, 50).await;
    let tail: store::LogTail<serde_json::Value> =
        store::LogTail::new(store.clone(), 1_000, std::time::Duration::from_secs(3_600));
    for (n, program) in programs.iter().enumerate() {
        let (ours, reached) = tail.read_program(*program, head, 500).await.unwrap();
        let ns: Vec<u64> = ours
            .iter()
            .map(|e| e.event["n"].as_u64().unwrap())
            .collect();
        assert_eq!(ns, [n as u64], "follower {n}");
        assert!(reached > head);
    }
    assert_eq!(tail.log_reads(), 1);
}
