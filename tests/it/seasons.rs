//! Leaderboard seasons end to end: scheduled through the admin API, counted by the projection
//! across batches (a reversal in a later batch counts against the season, a manual credit does
//! not count), ended once by the season job with frozen standings, each prize paid once (also
//! after a job that died midway, with the job locked elsewhere, and with two jobs racing), a
//! blocked winner's prize withheld, the counted entries let go once it ends, and `audit verify`
//! proving all of it.

use crate::harness::admin::AdminClient;
use crate::harness::{TestApp, json_of};
use api::admin::Role;
use app::seasons::keep_once;
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use domain::Timestamp;
use domain::ids::{EntryId, MemberId, SeasonId, derived_id};
use domain::member::MemberState;
use domain::network::{ActivityKind, ActivityRef, Network};
use domain::season::{SeasonCommand, SeasonState, decide_prize, decide_season};
use domain::{Event, StreamId};
use serde_json::{Value, json};
use sqlx::PgPool;
use store::Metadata;
use uuid::Uuid;

fn now() -> Timestamp {
    Timestamp::new(Utc::now())
}

/// After the season's cutoff and the job's slack: when the job may end it.
fn after_the_end() -> Timestamp {
    now() + Duration::hours(3)
}

fn comment(reference: &str) -> ActivityRef {
    ActivityRef {
        network: Network::Vk,
        kind: ActivityKind::Comment,
        reference: reference.into(),
    }
}

/// Turns activity cooldowns off (each test comment earns), then schedules a season running for
/// the next hour, settling for 60 minutes, with prizes of 100 for first place and 40 for
/// second; answers its id.
async fn schedule(admin: &AdminClient, extra: Value) -> SeasonId {
    crate::review::put_rules_with(admin, "relink_cooldown_days", json!(0)).await;
    let mut body = json!({
        "name": "Winter cup",
        "starts_at": Utc::now() - Duration::minutes(1),
        "ends_at": Utc::now() + Duration::hours(1),
        "prizes": [
            {"from_rank": 1, "to_rank": 1, "points": 100},
            {"from_rank": 2, "to_rank": 2, "points": 40},
        ],
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let reply = admin
        .change(Method::POST, &admin.path("/seasons"), Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    SeasonId(
        reply.json()["created_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    )
}

/// A comment's points, under the rules in force now (the schedule turned cooldowns off).
async fn earn(app: &TestApp, member: MemberId, reference: &str) {
    let t = &app.t;
    let program = t.ledger.program(t.program_id()).await.unwrap();
    t.ledger
        .award_activity(
            &program,
            member,
            comment(reference),
            None,
            now(),
            Metadata::default(),
            now(),
        )
        .await
        .unwrap();
}

async fn board(admin: &AdminClient, season: SeasonId) -> Value {
    admin.drain().await;
    let reply = admin
        .get(&admin.path(&format!("/seasons/{}", season.0)))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

/// (rank, member, score, prize) of each row of a board.
fn rows(board: &Value) -> Vec<(i64, MemberId, i64, i64)> {
    board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let member = MemberId(r["member_id"].as_str().unwrap().parse().unwrap());
            let n = |f: &str| r[f].as_i64().unwrap();
            (n("rank"), member, n("score"), n("prize"))
        })
        .collect()
}

async fn keep(app: &TestApp, at: Timestamp) -> app::seasons::Pass {
    app.drain().await;
    crate::harness::log_visible_to_readers(&app.pool).await;
    keep_once(&app.t.ledger, &app.pool, at).await.unwrap()
}

/// Rows of `season_entries` the seasons projection holds for the season.
async fn entries_of(app: &TestApp, season: SeasonId) -> i64 {
    app.drain().await;
    sqlx::query_scalar("SELECT count(*) FROM season_entries WHERE season_id = $1")
        .bind(season.0)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn audit_is_clean(app: &TestApp) {
    app.drain().await;
    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_season_ends_once_with_frozen_standings_and_pays_each_prize_once(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    let season = schedule(&admin, json!({})).await;
    let (anna, boris, vera) = (
        app.t.member().await,
        app.t.member().await,
        app.t.member().await,
    );
    earn(app, anna, "a1").await;
    earn(app, anna, "a2").await;
    earn(app, boris, "b1").await;
    earn(app, vera, "v1").await;
    earn(app, vera, "v2").await;
    // A goodwill credit does not move Boris up the board by default.
    assert_eq!(
        admin.adjust(boris, json!(500), "goodwill").await.status,
        StatusCode::OK
    );
    // One batch later, Vera's comment is deleted: the season takes it back too.
    app.drain().await;
    app.t
        .ledger
        .reverse_activity(
            app.t.program_id(),
            vera,
            comment("v2"),
            domain::event::ReversalReason::Deleted,
            Metadata::default(),
            now(),
        )
        .await
        .unwrap();
    let live = board(&admin, season).await;
    assert_eq!(live["frozen"], json!(false));
    assert_eq!(live["season"]["phase"], json!("running"));
    let scores: Vec<(i64, MemberId, i64)> = rows(&live).iter().map(|r| (r.0, r.1, r.2)).collect();
    let (first, tied) = (
        (1, anna, 20),
        if boris < vera {
            [boris, vera]
        } else {
            [vera, boris]
        },
    );
    assert_eq!(scores, vec![first, (2, tied[0], 10), (2, tied[1], 10)]);

    assert_eq!(keep(app, now()).await.ended, 0, "still running");
    // The five comments are the entries it counted (Vera's deleted one marked undone)...
    assert_eq!(entries_of(app, season).await, 5);
    let before_the_end = Utc::now();
    let pass = keep(app, after_the_end()).await;
    assert_eq!((pass.ended, pass.paid, pass.settled), (1, 3, 1), "{pass:?}");
    // ...which nothing counts against once it has ended: they are let go, and a rebuild
    // (which never writes them) ends with the same tables.
    assert_eq!(entries_of(app, season).await, 0);
    let frozen_before_rebuild = rows(&board(&admin, season).await);
    projections::rebuild::rebuild(&app.pool, Some("seasons"))
        .await
        .unwrap();
    assert_eq!(entries_of(app, season).await, 0);
    assert_eq!(rows(&board(&admin, season).await), frozen_before_rebuild);
    let frozen = board(&admin, season).await;
    assert_eq!(frozen["frozen"], json!(true));
    assert_eq!(frozen["season"]["phase"], json!("final"));
    assert_eq!(frozen["season"]["prizes_paid"], json!(3));
    assert_eq!(
        rows(&frozen),
        vec![
            (1, anna, 20, 100),
            (2, tied[0], 10, 40),
            (2, tied[1], 10, 40)
        ]
    );
    assert_eq!(app.t.balance(anna).await, 20 + 100);
    assert_eq!(app.t.balance(boris).await, 10 + 500 + 40);

    // Activity decided after the freeze moves nothing; a second pass does nothing.
    earn(app, boris, "b2").await;
    let again = keep(app, after_the_end() + Duration::hours(1)).await;
    assert_eq!((again.ended, again.paid, again.settled), (0, 0, 0));
    assert_eq!(rows(&board(&admin, season).await), rows(&frozen));
    assert_eq!(app.events_of_type("SeasonPrizeAwarded").await, 3);
    assert_eq!(app.events_of_type("SeasonEnded").await, 1);
    audit_is_clean(app).await;

    // As of any instant: Anna's score then, and her frozen place once the season had ended.
    let store = app.t.ledger.store();
    let place = |a: projections::audit::AsOf| {
        let s = &a.seasons[0];
        (s.status.clone(), s.score, s.rank, s.prize)
    };
    let then = projections::audit::as_of(store, anna.0, before_the_end)
        .await
        .unwrap();
    assert_eq!(place(then), ("scheduled".into(), 20, None, None));
    let now = projections::audit::as_of(store, anna.0, Utc::now())
        .await
        .unwrap();
    assert_eq!(place(now), ("settled".into(), 20, Some(1), Some(100)));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_job_that_died_after_one_prize_pays_the_rest_once_and_withholds_a_blocked_winners(
    pool: PgPool,
) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    let season = schedule(&admin, json!({"settle_minutes": 0})).await;
    let (anna, boris) = (app.t.member().await, app.t.member().await);
    earn(app, anna, "a1").await;
    earn(app, anna, "a2").await;
    earn(app, boris, "b1").await;
    let block = admin
        .change(
            Method::POST,
            &admin.path(&format!("/members/{}/block", boris.0)),
            Some(json!({ "reason": "farm" })),
        )
        .await;
    assert_eq!(block.status, StatusCode::OK, "{}", block.body);

    // What a job killed after its first prize left: the standings frozen, Anna paid.
    app.drain().await;
    crate::harness::log_visible_to_readers(&app.pool).await;
    let ledger = &app.t.ledger;
    let program = app.t.program_id();
    let stream = StreamId::Season(season);
    let state = ledger.load::<SeasonState>(&stream).await.unwrap().state;
    let terms = state.terms.clone().unwrap();
    let folded = Box::new(ledger.season_board(season, program, &terms).await.unwrap());
    let at = after_the_end();
    let end = derived_id(&format!("season-end/{}", season.0));
    ledger
        .execute::<SeasonState>(program.0, end, Metadata::default(), &stream, |s| {
            decide_season(
                s,
                SeasonCommand::End {
                    board: folded.clone(),
                    at,
                },
            )
        })
        .await
        .unwrap();
    let ended = ledger.load::<SeasonState>(&stream).await.unwrap().state;
    let prize = derived_id(&format!("season-prize/{}/{}", season.0, anna.0));
    ledger
        .execute::<MemberState>(
            program.0,
            prize,
            Metadata::default(),
            &StreamId::Member(anna),
            |m| decide_prize(&ended, m, anna, EntryId(prize), at),
        )
        .await
        .unwrap();

    // Locked elsewhere: this pass waits. Then two jobs at once finish it once.
    let held = crate::harness::hold_job_lock(&app.pool, "loyalty.seasons").await;
    assert!(!keep(app, at).await.ran);
    held.rollback().await.unwrap();
    let other = app.another_process().await;
    let (a, b) = tokio::join!(
        keep_once(&app.t.ledger, &app.pool, at),
        keep_once(&other.t.ledger, &other.pool, at)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.ended + b.ended, 0, "ended before");
    assert_eq!(a.paid + b.paid, 0, "Anna was paid; Boris is blocked");
    assert_eq!(a.settled + b.settled, 1, "{a:?} {b:?}");
    assert_eq!(app.events_of_type("SeasonPrizeAwarded").await, 1);
    assert_eq!(app.t.balance(anna).await, 20 + 100);
    assert_eq!(app.t.balance(boris).await, 10);
    let settled = board(&admin, season).await;
    assert_eq!(settled["season"]["settled"], json!(true));
    assert_eq!(
        (
            &settled["season"]["prizes_paid"],
            &settled["season"]["prizes_withheld"]
        ),
        (&json!(1), &json!(1))
    );
    audit_is_clean(app).await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn bad_terms_are_refused_a_reader_cannot_schedule_and_a_cancelled_season_never_ends(
    pool: PgPool,
) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    let before = app.event_count().await;
    let backwards = json!({
        "name": "Oops",
        "starts_at": Utc::now() + Duration::hours(2),
        "ends_at": Utc::now() + Duration::hours(1),
    });
    let refused = admin
        .change(Method::POST, &admin.path("/seasons"), Some(backwards))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "invalid_season");
    let unknown = json!({
        "name": "Oops",
        "starts_at": Utc::now(),
        "ends_at": Utc::now() + Duration::hours(1),
        "activities": ["comment", "dancing"],
    });
    let refused = admin
        .change(Method::POST, &admin.path("/seasons"), Some(unknown))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(app.event_count().await, before, "nothing recorded");

    let mut reader = crate::harness::admin::AdminClient::on(app.clone());
    api::admin::create_user(
        &app.pool,
        "test",
        "auditor9",
        crate::harness::admin::PASSWORD,
        Role::Auditor,
    )
    .await
    .unwrap();
    reader
        .login("auditor9", crate::harness::admin::PASSWORD)
        .await;
    let forbidden = reader
        .change(
            Method::POST,
            &reader.path("/seasons"),
            Some(json!({"name": "x", "starts_at": Utc::now(), "ends_at": Utc::now() + Duration::hours(1)})),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(app.event_count().await, before, "nothing recorded");

    let season = schedule(&admin, json!({})).await;
    let member = app.t.member().await;
    earn(app, member, "a1").await;
    let cancel_path = admin.path(&format!("/seasons/{}/cancel", season.0));
    let cancel = |reason: &'static str| {
        admin.change(
            Method::POST,
            &cancel_path,
            Some(json!({ "reason": reason })),
        )
    };
    assert_eq!(cancel(" ").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(cancel("wrong dates").await.status, StatusCode::OK);
    let again = cancel("twice").await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "season_closed".to_string())
    );
    let pass = keep(app, after_the_end()).await;
    assert_eq!((pass.ended, pass.paid), (0, 0));
    let listed = admin.get(&admin.path("/seasons")).await;
    assert_eq!(json_of(&listed)["seasons"][0]["phase"], json!("cancelled"));
    assert_eq!(app.events_of_type("SeasonEnded").await, 0);
    // Not in this program: another program's manager path finds nothing.
    let elsewhere = admin
        .get(&format!(
            "/api/v1/admin/programs/{}/seasons/{}",
            Uuid::new_v4(),
            season.0
        ))
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    audit_is_clean(app).await;
}

/// An event written around the deciders (a forged prize) is what the audit exists to catch.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_audit_refuses_a_prize_the_standings_do_not_give(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    let season = schedule(&admin, json!({"settle_minutes": 0})).await;
    let (anna, boris) = (app.t.member().await, app.t.member().await);
    earn(app, anna, "a1").await;
    earn(app, anna, "a2").await;
    earn(app, boris, "b1").await;
    keep(app, after_the_end()).await;
    app.append_undecided(
        boris,
        Event::SeasonPrizeAwarded {
            member_id: boris,
            entry_id: EntryId(Uuid::new_v4()),
            season_id: season,
            rank: 1,
            points: 100,
            at: after_the_end(),
        },
    )
    .await;
    app.drain().await;
    let report = projections::audit::verify(&app.pool).await.unwrap();
    let models: Vec<&str> = report.differences.iter().map(|d| d.model).collect();
    assert_eq!(models, vec!["season_events"], "{report:?}");
}

/// The season scores are compared row by row as the audit reads them: a changed score, a
/// missing row, a row set to 0 (as good as none) and a row the log never made are each found.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_audit_finds_every_season_score_the_model_gets_wrong(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    let season = schedule(&admin, json!({})).await;
    let (anna, boris, vera) = (
        app.t.member().await,
        app.t.member().await,
        app.t.member().await,
    );
    earn(app, anna, "a1").await;
    earn(app, boris, "b1").await;
    earn(app, vera, "v1").await;
    audit_is_clean(app).await;

    for (sql, member) in [
        (
            "UPDATE season_scores SET score = score + 5 WHERE season_id = $1 AND member_id = $2",
            anna.0,
        ),
        (
            "DELETE FROM season_scores WHERE season_id = $1 AND member_id = $2",
            boris.0,
        ),
        (
            "UPDATE season_scores SET score = 0 WHERE season_id = $1 AND member_id = $2",
            vera.0,
        ),
        (
            "INSERT INTO season_scores (season_id, member_id, score) VALUES ($1, $2, 7)",
            Uuid::new_v4(),
        ),
    ] {
        let changed = sqlx::query(sql)
            .bind(season.0)
            .bind(member)
            .execute(&app.pool)
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(changed, 1, "{sql}");
    }
    let report = projections::audit::verify(&app.pool).await.unwrap();
    let groups: Vec<_> = report
        .groups
        .iter()
        .map(|g| (g.model, g.kind.as_str(), g.count))
        .collect();
    assert_eq!(
        groups,
        vec![
            ("season_scores", "changed", 1),
            ("season_scores", "missing", 2),
            ("season_scores", "unexpected", 1),
        ],
        "{report:?}"
    );
    let keys: Vec<&str> = report.differences.iter().map(|d| d.key.as_str()).collect();
    for member in [anna.0, boris.0, vera.0] {
        assert!(
            keys.contains(&format!("{}/{member}", season.0).as_str()),
            "{keys:?}"
        );
    }
}
