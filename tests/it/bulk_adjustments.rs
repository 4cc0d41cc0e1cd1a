//! Bulk adjustments through the panel's API: a dry run names every bad row and changes
//! nothing, applying records each row once whatever is repeated, reversing nets it out once.

use crate::harness::admin::AdminClient;
use crate::harness::{Reply, json_of};
use api::admin::Role;
use app::ingest::profiles::{Profile, upsert_profile};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Utc;
use domain::event::LinkMethod;
use domain::ids::MemberId;
use domain::network::{ExternalIdentity, Network};
use serde_json::{Value, json};
use sqlx::PgPool;
use store::Metadata;
use uuid::Uuid;

/// Posts a file to `…/bulk-adjustments{rest}` as the panel does.
async fn post_file(panel: &AdminClient, rest: &str, file: &str) -> Reply {
    let request = Request::post(panel.path(&format!("/bulk-adjustments{rest}")))
        .header(header::COOKIE, panel.cookie.clone().unwrap())
        .header("x-csrf-token", panel.csrf.clone().unwrap())
        .header("idempotency-key", Uuid::new_v4().to_string())
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(file.to_string()))
        .unwrap();
    panel.app.send(request).await
}

/// Applies `file` and waits until its background run has finished; answers its record.
async fn apply(panel: &AdminClient, file: &str) -> Value {
    let reply = post_file(panel, "?file_name=prizes.csv", file).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let id = json_of(&reply)["id"].as_str().unwrap().to_string();
    settled(panel, &id, "applied").await
}

async fn settled(panel: &AdminClient, id: &str, status: &str) -> Value {
    for _ in 0..500 {
        let reply = panel
            .get(&panel.path(&format!("/bulk-adjustments/{id}")))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let record = json_of(&reply);
        if record["status"] == status {
            return record;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("bulk adjustment {id} never became {status}");
}

/// A member holding a Telegram account whose profile has `username`.
async fn member_named(panel: &AdminClient, telegram_id: i64, username: &str) -> MemberId {
    let app = &panel.app;
    let member = app.t.member().await;
    let identity = ExternalIdentity::new(Network::Telegram, "", telegram_id.to_string());
    let account = app.account(&identity).await;
    let (program, at) = (app.t.program_id(), Utc::now().into());
    app.t
        .ledger
        .link_account(
            program,
            member,
            account,
            LinkMethod::Manager,
            Metadata::default(),
            at,
        )
        .await
        .unwrap();
    let profile = Profile {
        program_id: program.0,
        account: account.account,
        username: Some(username.into()),
        display_name: None,
        language_code: None,
    };
    upsert_profile(&app.pool, &profile).await.unwrap();
    // Handles are found through the identities read model.
    panel.drain().await;
    member
}

async fn adjustments(panel: &AdminClient) -> i64 {
    panel
        .count("SELECT count(*) FROM events WHERE event_type = 'PointsAdjusted'")
        .await
}

async fn verify(panel: &AdminClient) {
    panel.drain().await;
    let report = projections::audit::verify(&panel.app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_dry_run_names_every_bad_row_by_its_line_and_applies_nothing(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let anna = panel.app.t.member_with(50).await;
    let boris = member_named(&panel, 7001, "Boris_K").await;
    let before = adjustments(&panel).await;
    let file = format!(
        "member;points;reason;note\n\
         {anna};-30;correction;\n\
         {anna};-30;second correction;\n\
         telegram:@boris_k;100;contest prize;You won!\n\
         telegram:@nobody;10;contest prize;\n\
         {unknown};10;contest prize;\n\
         vk:id5;ten;contest prize;\n\
         {anna};5;;\n",
        unknown = Uuid::new_v4()
    );
    let reply = post_file(&panel, "/check", &file).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let dry_run = json_of(&reply);
    let lines: Vec<u64> = dry_run["bad"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 5, 6, 7, 8], "{dry_run}");
    assert!(
        dry_run["bad"][0]["why"]
            .as_str()
            .unwrap()
            .contains("balance of 20"),
        "the second deduction meets what the first left: {dry_run}"
    );
    assert_eq!(dry_run["rows"], 2);
    assert_eq!(dry_run["members"], 2);
    assert_eq!(dry_run["points_added"], 100);
    assert_eq!(dry_run["points_removed"], 30);
    assert_eq!(
        adjustments(&panel).await,
        before,
        "a dry run records nothing"
    );

    // Applying the same file is refused whole, naming how many rows are bad.
    let reply = post_file(&panel, "", &file).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.code(), "invalid_bulk_file");
    assert!(reply.body.contains("5 rows"), "{}", reply.body);
    assert_eq!(adjustments(&panel).await, before);
    assert_eq!(panel.app.t.balance(boris).await, 0);

    let reply = post_file(&panel, "/check", "who,points\nx,1\n").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("member"), "{}", reply.body);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_file_applies_each_row_once_however_often_it_is_sent(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let anna = panel.app.t.member_with(50).await;
    let boris = member_named(&panel, 7002, "boris").await;
    let before = adjustments(&panel).await;
    let file = format!(
        "member,points,reason,note\n\
         {anna},-20,correction,\n\
         telegram:@Boris,100,contest prize,You won!\n\
         {anna},15,contest prize,\n\
         telegram:7002,1,rounding,\n"
    );
    let record = apply(&panel, &file).await;
    assert_eq!(record["applied"], 4, "{record}");
    assert_eq!(record["rows_total"], 4);
    assert_eq!(record["file_name"], "prizes.csv");
    assert_eq!(adjustments(&panel).await, before + 4);
    assert_eq!(panel.app.t.balance(anna).await, 45);
    assert_eq!(panel.app.t.balance(boris).await, 101);

    // The same bytes again: the finished run answers as it is, nothing is recorded.
    let reply = post_file(&panel, "", &file).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(json_of(&reply)["id"], record["id"]);
    assert_eq!(adjustments(&panel).await, before + 4);

    // A run whose process died after its rows were recorded but before it said so: the same
    // file again takes it over, and each row stays recorded once.
    sqlx::query(
        "UPDATE bulk_adjustments SET status = 'applying', applied = 1, finished_at = NULL, \
         heartbeat_at = now() - interval '1 minute'",
    )
    .execute(&panel.app.pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM bulk_adjustment_entries WHERE line > 2")
        .execute(&panel.app.pool)
        .await
        .unwrap();
    let resumed = apply(&panel, &file).await;
    assert_eq!(resumed["applied"], 4, "{resumed}");
    assert_eq!(adjustments(&panel).await, before + 4);
    let entries = panel
        .count("SELECT count(*) FROM bulk_adjustment_entries")
        .await;
    assert_eq!(entries, 4, "every applied row is known for reversing");
    assert_eq!(panel.app.t.balance(anna).await, 45);
    verify(&panel).await;

    // The note reaches the member's history; the reason stays internal.
    let card = panel.card(boris).await;
    assert!(card.to_string().contains("contest prize"), "{card}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_run_still_going_is_not_started_twice(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let anna = panel.app.t.member_with(50).await;
    let file = format!("member,points,reason\n{anna},5,prize\n");
    let record = apply(&panel, &file).await;
    sqlx::query("UPDATE bulk_adjustments SET status = 'applying', heartbeat_at = now()")
        .execute(&panel.app.pool)
        .await
        .unwrap();
    let reply = post_file(&panel, "", &file).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.code(), "bulk_adjustment_busy");
    let current = settled(&panel, record["id"].as_str().unwrap(), "applying").await;
    assert_eq!(current["applied"], 1);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn reversing_a_file_nets_each_row_out_once(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let anna = panel.app.t.member_with(50).await;
    let boris = panel.app.t.member_with(10).await;
    let file = format!(
        "member,points,reason\n{anna},100,double points day\n{boris},40,double points day\n\
         {anna},-30,double points day\n"
    );
    let record = apply(&panel, &file).await;
    let id = record["id"].as_str().unwrap().to_string();
    assert_eq!(panel.app.t.balance(anna).await, 120);

    // Boris's row was reversed by hand already: the file's reversal leaves it alone.
    let entry: Uuid =
        sqlx::query_scalar("SELECT entry_id FROM bulk_adjustment_entries WHERE member_id = $1")
            .bind(boris.0)
            .fetch_one(&panel.app.pool)
            .await
            .unwrap();
    let reply = panel
        .change(
            Method::POST,
            &panel.path(&format!("/members/{}/reversals", boris.0)),
            Some(json!({"entry_id": entry, "reason": "sent by mistake"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let before = adjustments(&panel).await;

    let reverse = json!({"reason": "the promotion was cancelled"});
    let path = panel.path(&format!("/bulk-adjustments/{id}/reverse"));
    let reply = panel
        .change(Method::POST, &path, Some(reverse.clone()))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let reversed = settled(&panel, &id, "reversed").await;
    assert_eq!(reversed["reversed"], 3, "{reversed}");
    assert_eq!(reversed["reverse_reason"], "the promotion was cancelled");
    assert_eq!(
        adjustments(&panel).await,
        before + 2,
        "Anna's two rows only"
    );
    assert_eq!(panel.app.t.balance(anna).await, 50);
    assert_eq!(panel.app.t.balance(boris).await, 10);

    let reply = panel.change(Method::POST, &path, Some(reverse)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(adjustments(&panel).await, before + 2, "reversed once");
    verify(&panel).await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn auditors_read_but_may_not_upload(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Auditor).await;
    let anna = panel.app.t.member_with(50).await;
    let before = adjustments(&panel).await;
    let reply = post_file(
        &panel,
        "",
        &format!("member,points,reason\n{anna},5,prize\n"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(adjustments(&panel).await, before);
    let reply = panel.get(&panel.path("/bulk-adjustments")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(json_of(&reply)["bulk_adjustments"], json!([]));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn rows_over_the_large_threshold_need_confirming(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let anna = panel.app.t.member_with(50).await;
    let file = format!("member,points,reason\n{anna},5000,grand prize\n");
    let reply = post_file(&panel, "", &file).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.code(), "large_adjustment_unconfirmed");
    let reply = post_file(&panel, "?confirm_large=true", &file).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    settled(&panel, json_of(&reply)["id"].as_str().unwrap(), "applied").await;
    assert_eq!(panel.app.t.balance(anna).await, 5050);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_file_may_be_larger_than_any_other_request(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let anna = panel.app.t.member_with(50).await;
    let reason = "x".repeat(60);
    let file: String = std::iter::once("member,points,reason\n".to_string())
        .chain((0..5_000).map(|_| format!("{anna},1,{reason}\n")))
        .collect();
    assert!(file.len() > 256 * 1024, "over the default body limit");
    let reply = post_file(&panel, "/check", &file).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(json_of(&reply)["rows"], 5_000);

    // Anything else keeps the small limit.
    let note = "y".repeat(300 * 1024);
    let body = json!({"points": 5, "reason": "prize", "note": note});
    let path = panel.path(&format!("/members/{}/adjustments", anna.0));
    let reply = panel.change(Method::POST, &path, Some(body)).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    assert_eq!(panel.app.t.balance(anna).await, 50);
}
