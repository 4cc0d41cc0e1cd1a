//! The review queue end to end: signed VK deliveries past the rules' velocity limit are held,
//! listed for managers, paid once on approval, closed once on rejection or when the comment is
//! deleted, and the audit finds every balance and queue row right.

use crate::harness::admin::AdminClient;
use crate::harness::admin::PASSWORD;
use crate::harness::{anna_vk, json_of};
use api::admin::{Role, create_user};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

/// The fixture's VK delivery of `kind` (`wall_reply_new` or `wall_reply_delete`) for comment
/// `n` by the fixtures' Anna: distinct comment id, delivery id and text.
pub(crate) fn comment(n: u32, kind: &str) -> Vec<u8> {
    let fixture = crate::harness::fixture(&format!("vk/{kind}.json"));
    let mut body: Value = serde_json::from_slice(&fixture).unwrap();
    body["event_id"] = json!(format!("{kind}-{n:036}"));
    body["object"]["id"] = json!(600 + n);
    if kind == "wall_reply_new" {
        body["object"]["text"] = json!(format!("Отличный пост номер {n}, спасибо"));
    }
    serde_json::to_vec(&body).unwrap()
}

/// The admin puts the rules in force with activity cooldowns off (so each comment earns its
/// points) and the rules' `field` set to `value`.
pub(crate) async fn put_rules_with(admin: &AdminClient, field: &str, value: Value) {
    let mut rules = admin.get(&admin.path("/rules")).await.json()["rules"].clone();
    for rule in rules["points"].as_array_mut().unwrap() {
        rule["cooldown_seconds"] = json!(0);
    }
    rules[field] = value;
    let put = admin
        .change(
            Method::PUT,
            &admin.path("/rules"),
            Some(json!({ "rules": rules })),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
}

/// Rules that hold every award past the first within a minute.
pub(crate) async fn one_award_a_minute(admin: &AdminClient) {
    put_rules_with(admin, "review", json!({ "per_minute": 1 })).await;
}

async fn queue(admin: &AdminClient, status: &str) -> Vec<Value> {
    let reply = admin
        .get(&admin.path(&format!("/held-awards?status={status}")))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["items"].as_array().unwrap().clone()
}

fn decision(admin: &AdminClient, entry: &Value, what: &str) -> String {
    admin.path(&format!("/held-awards/{}/{what}", entry.as_str().unwrap()))
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn awards_past_the_velocity_limit_wait_for_a_managers_decision_taken_once(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    one_award_a_minute(&admin).await;
    for n in 1..=4 {
        let reply = app.vk(comment(n, "wall_reply_new")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    // A redelivery of a held comment holds nothing more.
    assert_eq!(
        app.vk(comment(2, "wall_reply_new")).await.status,
        StatusCode::OK
    );
    assert_eq!(app.events_of_type("AwardHeld").await, 3);
    assert_eq!(
        app.balance_of(&anna_vk()).await,
        10,
        "only the first is paid"
    );
    admin.drain().await;
    let pending = queue(&admin, "pending").await;
    assert_eq!(pending.len(), 3, "{pending:?}");
    assert!(
        pending
            .iter()
            .all(|h| h["hold"] == "velocity_minute" && h["points"] == 10)
    );
    let (second, third, fourth) = (
        &pending[0]["entry_id"],
        &pending[1]["entry_id"],
        &pending[2]["entry_id"],
    );

    // Approved: paid once, however often asked; the other decision is refused.
    let approve = admin
        .change(Method::POST, &decision(&admin, second, "approve"), None)
        .await;
    assert_eq!(approve.status, StatusCode::OK, "{}", approve.body);
    assert_eq!(json_of(&approve)["outcome"], "recorded");
    assert_eq!(app.balance_of(&anna_vk()).await, 20);
    let again = admin
        .change(Method::POST, &decision(&admin, second, "approve"), None)
        .await;
    assert_eq!(json_of(&again)["outcome"], "unchanged", "{}", again.body);
    let reject = json!({ "reason": "a farm" });
    let contrary = admin
        .change(
            Method::POST,
            &decision(&admin, second, "reject"),
            Some(reject.clone()),
        )
        .await;
    assert_eq!(contrary.status, StatusCode::CONFLICT, "{}", contrary.body);
    assert_eq!(contrary.json()["error"]["code"], "already_reviewed");

    // Rejected: needs a reason, pays nothing, and cannot be approved after.
    let blank = admin
        .change(
            Method::POST,
            &decision(&admin, third, "reject"),
            Some(json!({ "reason": " " })),
        )
        .await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blank.body
    );
    let rejected = admin
        .change(
            Method::POST,
            &decision(&admin, third, "reject"),
            Some(reject),
        )
        .await;
    assert_eq!(
        json_of(&rejected)["outcome"],
        "recorded",
        "{}",
        rejected.body
    );
    let late = admin
        .change(Method::POST, &decision(&admin, third, "approve"), None)
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(app.balance_of(&anna_vk()).await, 20);

    // The fourth comment is deleted while it waits: it leaves the queue unpaid.
    let deleted = app.vk(comment(4, "wall_reply_delete")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(app.balance_of(&anna_vk()).await, 20);
    admin.drain().await;
    assert_eq!(queue(&admin, "pending").await, Vec::<Value>::new());
    let decided = queue(&admin, "all").await;
    let by_entry = |entry: &Value| {
        decided
            .iter()
            .find(|h| &h["entry_id"] == entry)
            .unwrap()
            .clone()
    };
    assert_eq!(by_entry(second)["status"], "approved");
    assert_eq!(by_entry(second)["decided_by"], "manager:admin1");
    assert_eq!(by_entry(third)["status"], "rejected");
    assert_eq!(by_entry(third)["decision_reason"], "a farm");
    assert_eq!(by_entry(fourth)["status"], "rejected");
    assert_eq!(by_entry(fourth)["decided_by"], Value::Null);
    assert_eq!(by_entry(fourth)["decision_reason"], "deleted");
    let unknown = admin.get(&admin.path("/held-awards?status=maybe")).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nowhere = admin
        .change(
            Method::POST,
            &admin.path(&format!("/held-awards/{}/approve", uuid::Uuid::nil())),
            None,
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);

    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_auditor_sees_the_queue_and_decides_nothing(pool: PgPool) {
    let admin = AdminClient::signed_in(pool.clone(), Role::Admin).await;
    one_award_a_minute(&admin).await;
    for n in 1..=2 {
        admin.app.vk(comment(n, "wall_reply_new")).await;
    }
    admin.drain().await;
    let held = queue(&admin, "pending").await;
    assert_eq!(held.len(), 1);
    let mut auditor = admin.browser();
    create_user(&admin.app.pool, "test", "audrey", PASSWORD, Role::Auditor)
        .await
        .unwrap();
    auditor.login("audrey", PASSWORD).await;
    assert_eq!(queue(&auditor, "pending").await.len(), 1);
    let approve = auditor
        .change(
            Method::POST,
            &decision(&auditor, &held[0]["entry_id"], "approve"),
            None,
        )
        .await;
    assert_eq!(approve.status, StatusCode::FORBIDDEN, "{}", approve.body);
    assert_eq!(admin.app.events_of_type("HeldAwardApproved").await, 0);
    assert_eq!(admin.app.balance_of(&anna_vk()).await, 10);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_award_approved_after_its_account_was_claimed_goes_to_the_claimant(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    put_rules_with(&admin, "review", json!({ "new_member_hours": 24 })).await;
    // Anna's VK account is seen for the first time: its stand-in's first hours are held.
    assert_eq!(
        app.vk(comment(1, "wall_reply_new")).await.status,
        StatusCode::OK
    );
    let stand_in = app.member_of(&anna_vk()).await.unwrap();
    assert_eq!(app.events_of_type("AwardHeld").await, 1);

    // Anna proves she owns the account before a manager looks at the queue.
    let anna = app.t.member().await;
    let account = app.account(&anna_vk()).await;
    let now = domain::Timestamp::from(chrono::Utc::now());
    app.t
        .ledger
        .link_account(
            app.t.program_id(),
            anna,
            account,
            domain::event::LinkMethod::Code,
            store::Metadata::default(),
            now,
        )
        .await
        .unwrap();
    assert_eq!(app.member_of(&anna_vk()).await, Some(anna));
    assert_eq!(app.t.balance(anna).await, 0);

    admin.drain().await;
    let held = queue(&admin, "pending").await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["hold"], "new_member");
    assert_eq!(held[0]["member_id"], json!(stand_in.0));
    let approve = admin
        .change(
            Method::POST,
            &decision(&admin, &held[0]["entry_id"], "approve"),
            None,
        )
        .await;
    assert_eq!(json_of(&approve)["outcome"], "recorded", "{}", approve.body);
    assert_eq!(
        app.t.balance(anna).await,
        10,
        "the points followed the account"
    );
    assert_eq!(app.t.balance(stand_in).await, 0);
    admin.drain().await;
    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

/// Managers racing on one held award (eight approvals and eight rejections at once, each its
/// own request): it is decided once, one way, and paid at most once.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn managers_racing_on_one_held_award_decide_it_once(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    one_award_a_minute(&admin).await;
    for n in 1..=2 {
        admin.app.vk(comment(n, "wall_reply_new")).await;
    }
    admin.drain().await;
    let held = queue(&admin, "pending").await;
    let entry = held[0]["entry_id"].clone();
    let (approve, reject) = (
        decision(&admin, &entry, "approve"),
        decision(&admin, &entry, "reject"),
    );
    let requests = (0..16).map(|n| {
        let (admin, key) = (&admin, format!("race-{n}"));
        let (path, body) = match n % 2 {
            0 => (approve.clone(), None),
            _ => (reject.clone(), Some(json!({ "reason": "a farm" }))),
        };
        async move { admin.change_keyed(Method::POST, &path, body, &key).await }
    });
    let replies = futures::future::join_all(requests).await;
    let recorded = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK && json_of(r)["outcome"] == "recorded")
        .count();
    let bodies: Vec<&str> = replies.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(recorded, 1, "{bodies:?}");
    for reply in &replies {
        let ok = reply.status == StatusCode::OK || reply.status == StatusCode::CONFLICT;
        assert!(ok, "{} {}", reply.status, reply.body);
    }
    let decided = admin.app.events_of_type("HeldAwardApproved").await
        + admin.app.events_of_type("HeldAwardRejected").await;
    assert_eq!(decided, 1);
    let paid = 10 + 10 * admin.app.events_of_type("HeldAwardApproved").await;
    assert_eq!(admin.app.balance_of(&anna_vk()).await, paid);
    admin.drain().await;
    let report = projections::audit::verify(&admin.app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

/// A page of the queue decided with one request: each award once, a refusal of one leaving the
/// others, the same request again changing nothing.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn many_held_awards_are_decided_with_one_request_each_once(pool: PgPool) {
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &admin.app;
    one_award_a_minute(&admin).await;
    for n in 1..=4 {
        app.vk(comment(n, "wall_reply_new")).await;
    }
    admin.drain().await;
    let held: Vec<Value> = queue(&admin, "pending")
        .await
        .iter()
        .map(|h| h["entry_id"].clone())
        .collect();
    assert_eq!(held.len(), 3);
    let one = admin
        .change(
            Method::POST,
            &decision(&admin, &held[0], "reject"),
            Some(json!({ "reason": "spam" })),
        )
        .await;
    assert_eq!(json_of(&one)["outcome"], "recorded");

    let path = admin.path("/held-awards/decisions");
    let body = json!({ "entries": held, "decision": "approve" });
    let reply = admin
        .change_keyed(Method::POST, &path, Some(body.clone()), "bulk-1")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = json_of(&reply);
    assert_eq!(reply["recorded"], 2, "{reply}");
    assert_eq!(reply["refused"][0]["code"], "already_reviewed", "{reply}");
    assert_eq!(reply["refused"][0]["entry_id"], held[0]);
    assert_eq!(app.balance_of(&anna_vk()).await, 30);
    let again = admin
        .change_keyed(Method::POST, &path, Some(body), "bulk-1")
        .await;
    assert_eq!(json_of(&again)["recorded"], 0, "{}", again.body);
    assert_eq!(app.balance_of(&anna_vk()).await, 30);

    for bad in [
        json!({ "entries": [], "decision": "approve" }),
        json!({ "entries": held, "decision": "maybe" }),
        json!({ "entries": held, "decision": "reject", "reason": " " }),
    ] {
        let reply = admin.change(Method::POST, &path, Some(bad)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
    }
    assert_eq!(app.events_of_type("HeldAwardApproved").await, 2);
    admin.drain().await;
    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}
