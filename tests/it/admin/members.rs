//! Members: manual adjustments with the manager as actor, reversals, blocking, and search.

use super::anna_from_instagram;
use crate::harness::admin::AdminClient;
use crate::harness::encode;
use api::admin::Role;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn adding_points_records_the_manager_as_actor_and_reaches_balance_and_audit_log(
    pool: PgPool,
) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    let answer = panel
        .adjust(member, json!(50), "Winner, photo contest")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let reply = answer.json();
    assert_eq!(reply["outcome"], "recorded");
    let event_id: Uuid = reply["event_ids"][0].as_str().unwrap().parse().unwrap();
    let (event_type, payload, metadata): (String, Value, Value) =
        sqlx::query_as("SELECT event_type, payload, metadata FROM events WHERE event_id = $1")
            .bind(event_id)
            .fetch_one(&panel.app.pool)
            .await
            .unwrap();
    assert_eq!(event_type, "PointsAdjusted");
    assert_eq!(metadata["actor"], "manager:manager1");
    assert_eq!(
        (payload["by"].as_str(), payload["delta"].as_i64()),
        (Some("manager:manager1"), Some(50))
    );
    assert_eq!(payload["reason"], "Winner, photo contest");

    panel.drain().await;
    let balance = projections::balances::balance(&panel.app.pool, panel.program(), member.0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(balance.current, 50);
    let log = panel.get(&panel.path("/audit-log")).await.json();
    let entry = &log["entries"][0];
    assert_eq!(entry["manager"], "manager:manager1");
    assert_eq!(entry["action"], "PointsAdjusted");
    assert_eq!(entry["reason"], "Winner, photo contest");
    assert_eq!(entry["points"], 50);
    assert_eq!(entry["subject"], format!("member-{member}"));

    let card = panel.card(member).await;
    assert_eq!(card["balance"], 50);
    let line = &card["history"][0];
    assert_eq!(
        (line["event_id"].as_str(), line["actor"].as_str()),
        (
            Some(event_id.to_string().as_str()),
            Some("manager:manager1")
        )
    );
    assert_eq!(line["reversible"], true);

    let removed = panel
        .adjust(member, json!(-20), "typo in the contest result")
        .await;
    assert_eq!(removed.json()["outcome"], "recorded");
    let too_much = panel
        .adjust(member, json!(-1000), "more than she has")
        .await;
    assert_eq!(
        (too_much.status, too_much.code().as_str()),
        (StatusCode::CONFLICT, "insufficient_balance")
    );
    assert_eq!(panel.app.t.balance(member).await, 30);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn invalid_amounts_and_missing_reasons_are_422_in_the_envelope_and_change_nothing(
    pool: PgPool,
) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    let events = panel.app.event_count().await;
    for points in [
        json!(0),
        json!(1.5),
        json!("50"),
        json!(null),
        json!(2_000_000_000i64),
        json!(-1e300),
    ] {
        let answer = panel.adjust(member, points.clone(), "a reason").await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{points}: {}",
            answer.body
        );
        assert_eq!(answer.code(), "invalid_amount", "{points}");
        assert!(
            answer.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("invalid amount")
        );
    }
    // Numbers beyond i64 and beyond f64, as a client could type them.
    let path = panel.path(&format!("/members/{member}/adjustments"));
    for (raw, code) in [
        ("99999999999999999999", "invalid_amount"),
        ("1e400", "invalid_body"),
    ] {
        let request = Request::post(&path)
            .header(header::COOKIE, panel.cookie.as_deref().unwrap())
            .header("x-csrf-token", panel.csrf.as_deref().unwrap())
            .header("idempotency-key", raw)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(format!(
                r#"{{"points": {raw}, "reason": "overflow"}}"#
            )))
            .unwrap();
        let reply = panel.app.send(request).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{raw}");
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["error"]["code"], code, "{raw}");
    }
    for reason in ["", "   "] {
        let answer = panel.adjust(member, json!(10), reason).await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "reason_required")
        );
    }
    let no_reason = panel
        .change(Method::POST, &path, Some(json!({ "points": 10 })))
        .await;
    assert_eq!(
        (no_reason.status, no_reason.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );
    assert_eq!(panel.app.event_count().await, events);
}

/// A big adjustment (over `large_adjustment_points`, 1,000 by default, either way) is refused
/// until confirmed a second time; up to the threshold it goes through at once.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_large_adjustment_needs_a_second_confirmation(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let session = panel.get("/api/v1/admin/session").await.json();
    assert_eq!(session["large_adjustment_points"], 1_000);
    let member = panel.app.t.member().await;
    let path = panel.path(&format!("/members/{member}/adjustments"));
    let events = panel.app.event_count().await;
    for points in [1_001, -1_001, 50_000] {
        let body = json!({ "points": points, "reason": "typo?" });
        let refused = panel.change(Method::POST, &path, Some(body)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{points}");
        assert_eq!(refused.code(), "large_adjustment_unconfirmed", "{points}");
        assert!(refused.body.contains("confirm"), "{}", refused.body);
    }
    let not_confirmed = json!({ "points": 5_000, "reason": "prize", "confirm_large": false });
    let refused = panel.change(Method::POST, &path, Some(not_confirmed)).await;
    assert_eq!(refused.code(), "large_adjustment_unconfirmed");
    assert_eq!(panel.app.event_count().await, events, "nothing recorded");

    assert_eq!(
        panel
            .adjust(member, json!(1_000), "at the threshold")
            .await
            .status,
        StatusCode::OK
    );
    let confirmed = json!({ "points": 5_000, "reason": "grand prize", "confirm_large": true });
    let answer = panel.change(Method::POST, &path, Some(confirmed)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(panel.app.t.balance(member).await, 6_000);
}

/// An adjustment keeps the manager's reason (required, internal) apart from the optional note
/// to the member; the card shows both, labelled; a blank note is none.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_adjustment_records_an_internal_reason_and_an_optional_note(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member().await;
    let path = panel.path(&format!("/members/{member}/adjustments"));
    let noted = json!({ "points": 20, "reason": "Спам: не по теме", "note": "Бонус за отзыв" });
    let blank = json!({ "points": 5, "reason": "goodwill", "note": "   " });
    for body in [noted, blank] {
        let answer = panel.change(Method::POST, &path, Some(body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let too_long = json!({ "points": 5, "reason": "goodwill", "note": "я".repeat(501) });
    let refused = panel.change(Method::POST, &path, Some(too_long)).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "note_too_long")
    );
    let card = panel.card(member).await;
    let lines: Vec<(&str, &Value)> = card["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["event_type"] == "PointsAdjusted")
        .map(|l| (l["reason"].as_str().unwrap(), &l["note"]))
        .collect();
    assert_eq!(
        lines,
        [
            ("goodwill", &Value::Null),
            ("Спам: не по теме", &json!("Бонус за отзыв"))
        ]
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn reversing_an_award_nets_it_to_zero_once(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let anna = anna_from_instagram(&panel, "anna.runs").await;
    let card = panel.card(anna).await;
    assert_eq!(card["balance"], 10);
    let award = card["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["event_type"] == "PointsAwarded")
        .expect("the comment's award")
        .clone();
    assert_eq!(award["reversible"], true);
    let path = panel.path(&format!("/members/{anna}/reversals"));
    let body = json!({ "entry_id": award["entry_id"], "reason": "spam comment" });
    let answer = panel.change(Method::POST, &path, Some(body.clone())).await;
    assert_eq!(answer.json()["outcome"], "recorded", "{}", answer.body);
    let again = panel.change(Method::POST, &path, Some(body)).await;
    assert_eq!(
        (again.status, again.code().as_str()),
        (StatusCode::CONFLICT, "already_compensated")
    );
    panel.drain().await;
    let card = panel.card(anna).await;
    assert_eq!(
        (card["balance"].as_i64(), card["earned"].as_i64()),
        (Some(0), Some(0))
    );
    let compensation = &card["history"][0];
    assert_eq!(compensation["event"]["compensates"], award["entry_id"]);
    assert_eq!(compensation["delta"], -10);
    assert_eq!(compensation["reversed_by"], Value::Null);
    // The award is marked with who reversed it and why.
    let reversed = card["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["entry_id"] == award["entry_id"])
        .unwrap();
    assert_eq!(reversed["reversed_by"]["actor"], "manager:manager1");
    assert_eq!(reversed["reversed_by"]["reason"], "spam comment");
    assert_eq!(
        reversed["reversed_by"]["event_id"],
        compensation["event_id"]
    );
    assert!(
        card["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["reversible"] == false)
    );
    let balance = projections::balances::balance(&panel.app.pool, panel.program(), anna.0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(balance.current, 0);
    let unknown = json!({ "entry_id": Uuid::new_v4(), "reason": "no such entry" });
    assert_eq!(
        panel
            .change(Method::POST, &path, Some(unknown))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn blocking_and_a_member_of_another_program(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let member = panel.app.t.member_with(30).await;
    let block = panel.path(&format!("/members/{member}/block"));
    let no_reason = panel
        .change(Method::POST, &block, Some(json!({ "reason": " " })))
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        panel
            .change(Method::POST, &block, Some(json!({ "reason": "bot farm" })))
            .await
            .json()["outcome"],
        "recorded"
    );
    assert_eq!(panel.card(member).await["blocked"], true);
    let unblock = panel.path(&format!("/members/{member}/unblock"));
    assert_eq!(
        panel.change(Method::POST, &unblock, None).await.json()["outcome"],
        "recorded"
    );
    assert_eq!(panel.card(member).await["blocked"], false);
    // The program in the path must be the member's own.
    let other = format!(
        "/api/v1/admin/programs/{}/members/{member}/adjustments",
        Uuid::new_v4()
    );
    let answer = panel
        .change(
            Method::POST,
            &other,
            Some(json!({ "points": 5, "reason": "x" })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(panel.app.t.balance(member).await, 30);
}

// ---------------------------------------------------------------- reads and exports

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn members_are_found_by_instagram_username_id_and_name(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Auditor).await;
    let anna = anna_from_instagram(&panel, "anna.runs").await;
    for q in [
        "anna.runs",
        "@Anna.Runs",
        "ANNA",
        "1122334455667788",
        &anna.to_string(),
    ] {
        let page = panel
            .get(&panel.path(&format!("/members?q={}", encode(q))))
            .await
            .json();
        let found = &page["members"][0];
        assert_eq!(found["member_id"], anna.to_string(), "{q}: {page}");
        assert_eq!(found["accounts"][0]["network"], "instagram", "{q}");
    }
    let none = panel.get(&panel.path("/members?q=%25")).await.json();
    assert_eq!(none["members"], json!([]), "LIKE wildcards are escaped");
    let card = panel.card(anna).await;
    assert_eq!(card["accounts"][0]["username"], "anna.runs");
}

/// A comment deleted on VK reverses its award: the card marks the award as reversed by the
/// platform (VK), with the reason's code; restoring the comment clears the mark.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_card_marks_an_award_the_platform_reversed_until_it_is_restored(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Auditor).await;
    panel.app.vk_fixture("wall_reply_new.json").await;
    let member = panel
        .app
        .member_of(&crate::harness::anna_vk())
        .await
        .expect("the comment creates a member");
    let award_of = |card: &Value| {
        card["history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["event_type"] == "PointsAwarded")
            .unwrap()
            .clone()
    };
    assert_eq!(
        award_of(&panel.card(member).await)["reversed_by"],
        Value::Null
    );

    panel.app.vk_fixture("wall_reply_delete.json").await;
    let card = panel.card(member).await;
    let reversed = award_of(&card)["reversed_by"].clone();
    assert_eq!(reversed["actor"], "platform:vk", "{reversed}");
    assert!(
        reversed["reason"].as_str().unwrap().contains("deleted"),
        "{reversed}"
    );
    let reversal = &card["history"][0];
    assert_eq!(reversal["event_type"], "PointsReversed");
    assert_eq!(reversed["event_id"], reversal["event_id"]);

    panel.app.vk_fixture("wall_reply_restore.json").await;
    let card = panel.card(member).await;
    assert_eq!(card["balance"], 10);
    assert_eq!(award_of(&card)["reversed_by"], Value::Null, "restored");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_periods_awards_are_reversed_at_once_and_only_once(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let t = &panel.app.t;
    let farm = t.member().await;
    let now = chrono::Utc::now();
    let ago = |hours: i64| domain::Timestamp::from(now - chrono::Duration::hours(hours));
    for (n, hours) in [(1, 30), (2, 5), (3, 4), (4, 3)] {
        let activity = domain::network::ActivityRef {
            network: domain::network::Network::Vk,
            kind: domain::network::ActivityKind::Comment,
            reference: format!("farm-{n}"),
        };
        let metadata = store::Metadata::default();
        let at = ago(hours);
        t.ledger
            .award_activity(&t.program, farm, activity, None, at, metadata, at)
            .await
            .unwrap();
    }
    let earned = t.balance(farm).await;
    let path = panel.path(&format!("/members/{}/award-reversals", farm.0));
    let range = |reason: &str| {
        json!({"from": (now - chrono::Duration::hours(6)).to_rfc3339(),
               "until": (now - chrono::Duration::minutes(200)).to_rfc3339(),
               "reason": reason})
    };
    let reply = panel
        .change(Method::POST, &path, Some(range("account farm")))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = crate::harness::json_of(&reply);
    assert_eq!(reply["outcome"], "recorded");
    assert_eq!(
        reply["event_ids"].as_array().unwrap().len(),
        2,
        "awards 2 and 3"
    );
    assert_eq!(t.balance(farm).await, earned - 20);

    // Asked again (a new request): nothing of the period is left.
    let reply = panel
        .change(Method::POST, &path, Some(range("again")))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(crate::harness::json_of(&reply)["outcome"], "unchanged");
    assert_eq!(t.balance(farm).await, earned - 20);

    let backwards = json!({"from": now.to_rfc3339(), "until": now.to_rfc3339(), "reason": "x"});
    let reply = panel.change(Method::POST, &path, Some(backwards)).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let reply = panel.change(Method::POST, &path, Some(range(" "))).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(t.balance(farm).await, earned - 20);

    panel.drain().await;
    let report = projections::audit::verify(&panel.app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}
