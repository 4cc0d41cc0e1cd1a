//! Exports and the auditor's reads: the audit log as CSV, events, a member as of a moment,
//! and verification.

use crate::harness::admin::{AdminClient, PASSWORD};
use crate::harness::encode;
use api::admin::{Role, create_user};
use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_audit_log_exports_as_csv(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    panel
        .adjust(member, json!(50), "Winner, \"best photo\"")
        .await;
    panel.adjust(member, json!(-5), "=HYPERLINK(\"x\")").await;
    panel.drain().await;
    let csv = panel.get(&panel.path("/audit-log.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    assert!(
        csv.body.starts_with('\u{feff}'),
        "a byte order mark for Excel"
    );
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "position;at;manager;action;subject;subject_name;points;reason;details"
    );
    // Newest first: the removal, then the award (plus the program's own RulesChanged).
    assert!(
        lines[1].contains(";manager:manager1;PointsAdjusted;"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(";-5;\"'=HYPERLINK(\"\"x\"\")\";"),
        "formula neutralised: {}",
        lines[1]
    );
    assert!(
        lines[2].contains(&format!(
            ";member-{member};;50;\"Winner, \"\"best photo\"\"\";"
        )),
        "{}",
        lines[2]
    );
    assert_eq!(lines.len(), 4, "{}", csv.body);
    let commas = panel
        .get(&panel.path("/audit-log.csv?separator=comma&lang=ru"))
        .await;
    let lines: Vec<&str> = commas.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "Позиция,Время,Менеджер,Действие,Объект,Имя,Баллы,Причина,Подробности"
    );
    assert!(
        lines[1].contains(",manager:manager1,PointsAdjusted,"),
        "{}",
        lines[1]
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn auditors_export_events_see_a_member_as_of_and_verify(pool: PgPool) {
    let mut panel = AdminClient::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    panel.adjust(member, json!(50), "gift").await;
    let between = chrono::Utc::now();
    panel.adjust(member, json!(25), "second gift").await;
    panel.drain().await;
    create_user(&panel.app.pool, "test", "alla", PASSWORD, Role::Auditor)
        .await
        .unwrap();
    panel.login("alla", PASSWORD).await;

    let stream = format!("member-{member}");
    let jsonl = panel
        .get(&format!(
            "/api/v1/admin/audit/events?stream={stream}&type=PointsAdjusted"
        ))
        .await;
    assert_eq!(jsonl.status, StatusCode::OK);
    assert_eq!(jsonl.headers[header::CONTENT_TYPE], "application/x-ndjson");
    let lines: Vec<Value> = jsonl
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["payload"]["reason"], "gift");
    assert_eq!(lines[0]["metadata"]["actor"], "manager:manager1");
    let csv = panel
        .get(&format!(
            "/api/v1/admin/audit/events?format=csv&program={}&type=PointsAdjusted",
            panel.program()
        ))
        .await;
    let rows: Vec<&str> = csv.body.lines().collect();
    assert!(rows[0].starts_with("position,tx_id,program_id,stream_id"));
    assert_eq!(rows.len(), 3, "{}", csv.body);
    assert!(rows[2].contains("second gift"));
    let bad = panel.get("/api/v1/admin/audit/events?format=xml").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let at = encode(&between.to_rfc3339());
    let as_of = panel
        .get(&format!(
            "/api/v1/admin/audit/members/{member}/as-of?at={at}"
        ))
        .await
        .json();
    assert_eq!(as_of["balance"], 50);
    let verify = panel
        .change(Method::POST, "/api/v1/admin/audit/verify", None)
        .await;
    assert_eq!(verify.status, StatusCode::OK, "{}", verify.body);
    assert_eq!(verify.json()["differences_total"], 0, "{}", verify.body);
}

/// The audit log names the member each change was about, as the card does, in the page and in
/// the CSV.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_audit_log_names_members_as_their_cards_do(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let anna = super::anna_from_instagram(&panel, "anna.runs").await;
    let adjusted = panel.adjust(anna, json!(25), "Photo contest").await;
    assert_eq!(adjusted.status, StatusCode::OK, "{}", adjusted.body);
    panel.drain().await;
    let name = panel.card(anna).await["name"].clone();
    assert!(name.is_string(), "the fixture's member has a name");
    let log = panel.get(&panel.path("/audit-log")).await.json();
    let entry = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subject"] == format!("member-{anna}"))
        .unwrap()
        .clone();
    assert_eq!(entry["subject_name"], name);
    let csv = panel
        .get(&panel.path("/audit-log.csv?separator=comma"))
        .await;
    // A name starting with `@` starts an Excel formula: the file writes it defused.
    let expected = format!(",member-{anna},'{},25,", name.as_str().unwrap());
    assert!(name.as_str().unwrap().starts_with('@'), "{name}");
    assert!(
        csv.body.contains(&expected),
        "{} lacks {expected}",
        csv.body
    );
}
