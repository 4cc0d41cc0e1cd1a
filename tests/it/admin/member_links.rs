//! One person, one member: a manager links the Instagram account that earned on its own to the
//! member who opened the Mini App from Telegram under the same handle (its points move with
//! it), and unlinks it again, each with a reason the ledger keeps.

use super::anna_from_instagram;
use crate::harness::admin::AdminClient;
use api::admin::Role;
use axum::http::{Method, StatusCode};
use domain::event::LinkMethod;
use domain::ids::MemberId;
use domain::network::{ExternalIdentity, Network};
use serde_json::{Value, json};
use sqlx::PgPool;

/// A member who joined from Telegram as @`username`.
pub(super) async fn telegram_member(
    panel: &AdminClient,
    user_id: &str,
    username: &str,
) -> MemberId {
    let member = panel.app.t.member().await;
    let identity = ExternalIdentity::new(Network::Telegram, "", user_id);
    let account = panel.app.account(&identity).await;
    panel
        .app
        .t
        .ledger
        .link_account(
            panel.app.t.program_id(),
            member,
            account,
            LinkMethod::Telegram,
            store::Metadata::default(),
            domain::Timestamp::new(chrono::Utc::now()),
        )
        .await
        .unwrap();
    let profile = app::ingest::profiles::Profile {
        program_id: panel.program(),
        account: account.account,
        username: Some(username.to_string()),
        display_name: Some("Anna".into()),
        language_code: None,
    };
    app::ingest::profiles::upsert_profile(&panel.app.pool, &profile)
        .await
        .unwrap();
    member
}

async fn last_payload(panel: &AdminClient, event_type: &str) -> Value {
    sqlx::query_scalar(
        "SELECT payload FROM events WHERE event_type = $1 ORDER BY position DESC LIMIT 1",
    )
    .bind(event_type)
    .fetch_one(&panel.app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_manager_links_the_same_persons_account_with_its_points_and_unlinks_it(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let observed = anna_from_instagram(&panel, "Anna.Runs").await;
    let earned = panel.card(observed).await["balance"].as_i64().unwrap();
    assert!(earned > 0, "the comment earned");
    let anna = telegram_member(&panel, "5550001", "anna.runs").await;
    panel.drain().await;

    let same = panel
        .get(&panel.path(&format!("/members/{anna}/same-person")))
        .await
        .json();
    let suggestions = same["suggestions"].as_array().unwrap();
    assert_eq!(suggestions.len(), 1, "{same}");
    assert_eq!(suggestions[0]["member_id"], observed.to_string());
    assert_eq!(suggestions[0]["handle"], "anna.runs", "case aside");
    let instagram = suggestions[0]["accounts"][0]["account_ref"].clone();

    let path = panel.path(&format!("/members/{anna}/accounts"));
    let events = panel.app.event_count().await;
    let blank = json!({ "account": instagram, "reason": "  " });
    let refused = panel.change(Method::POST, &path, Some(blank)).await;
    assert_eq!(refused.code(), "reason_required", "{}", refused.body);
    let unknown = json!({ "account": uuid::Uuid::new_v4(), "reason": "same handle" });
    let missing = panel.change(Method::POST, &path, Some(unknown)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        panel.app.event_count().await,
        events,
        "refusals change nothing"
    );

    let body = json!({ "account": instagram, "reason": "same handle, confirmed in DM" });
    let linked = panel.change(Method::POST, &path, Some(body)).await;
    assert_eq!(linked.json()["outcome"], "recorded", "{}", linked.body);
    panel.drain().await;
    let card = panel.card(anna).await;
    assert_eq!(card["accounts"].as_array().unwrap().len(), 2, "{card}");
    assert_eq!(
        card["balance"].as_i64(),
        Some(earned),
        "the points moved with the account"
    );
    assert_eq!(panel.card(observed).await["balance"], 0);
    let event = last_payload(&panel, "AccountLinked").await;
    assert_eq!(
        (event["method"].as_str(), event["reason"].as_str()),
        (Some("manager"), Some("same handle, confirmed in DM"))
    );
    let same = panel
        .get(&panel.path(&format!("/members/{anna}/same-person")))
        .await
        .json();
    assert_eq!(same["suggestions"], json!([]), "now one member");

    let unlink = panel.path(&format!(
        "/members/{anna}/accounts/{}/unlink",
        instagram.as_str().unwrap()
    ));
    let done = panel
        .change(
            Method::POST,
            &unlink,
            Some(json!({ "reason": "wrong person after all" })),
        )
        .await;
    assert_eq!(done.json()["outcome"], "recorded", "{}", done.body);
    let again = panel
        .change(Method::POST, &unlink, Some(json!({ "reason": "twice" })))
        .await;
    assert_eq!(again.code(), "identity_not_linked");
    panel.drain().await;
    let card = panel.card(anna).await;
    assert_eq!(card["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(card["balance"].as_i64(), Some(earned), "earned points stay");
    let event = last_payload(&panel, "AccountUnlinked").await;
    assert_eq!(event["reason"], "wrong person after all");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_account_of_a_member_who_joined_by_themselves_is_not_taken(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let anna = telegram_member(&panel, "5550001", "anna").await;
    let boris = telegram_member(&panel, "5550002", "boris").await;
    panel.drain().await;
    let boris_account = panel.card(boris).await["accounts"][0]["account_ref"].clone();
    let events = panel.app.event_count().await;
    let taken = panel
        .change(
            Method::POST,
            &panel.path(&format!("/members/{anna}/accounts")),
            Some(json!({ "account": boris_account, "reason": "merge" })),
        )
        .await;
    assert_eq!(
        (taken.status, taken.code().as_str()),
        (StatusCode::CONFLICT, "identity_already_claimed")
    );
    assert_eq!(panel.app.event_count().await, events);
}
