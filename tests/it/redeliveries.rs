//! A delivery already recorded changes nothing, whatever happened after it: an "add" (like,
//! reaction, join, vote) delivered again after its removal pays nothing, and neither does any
//! delivery that changed nothing the first time. Per network through the HTTP routes, and as a
//! model-based property of ingest over random sequences with redeliveries anywhere.

mod model;

use crate::harness::*;
use app::ingest::polls::{self, NewPoll};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap()
}

fn body(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// The events that changed a balance, in order.
async fn balance_events(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT event_type FROM events WHERE event_type IN \
         ('PointsAwarded', 'PointsReversed', 'AwardRestored') ORDER BY position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn telegram(app: &TestApp, update: &Value) {
    let reply = app.telegram(body(update), Some(TG_SECRET)).await;
    assert_eq!(reply.status, axum::http::StatusCode::OK, "{}", reply.body);
}

async fn vk(app: &TestApp, callback: &Value) {
    let reply = app.vk(body(callback)).await;
    assert_eq!(reply.body, "ok");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_vk_like_delivered_again_after_its_removal_pays_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let like = fixture_json("vk/like_add.json");
    vk(&app, &like).await;
    vk(&app, &fixture_json("vk/like_remove.json")).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 0);
    let before = app.event_count().await;
    vk(&app, &like).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 0, "the old like again");
    assert_eq!(app.event_count().await, before);

    // A like given while the first still paid changes nothing, and nothing later either.
    let mut liked_again = like.clone();
    liked_again["event_id"] = json!("like-again");
    let mut removed_again = fixture_json("vk/like_remove.json");
    removed_again["event_id"] = json!("like-removed-again");
    let mut third = like.clone();
    third["event_id"] = json!("like-third");
    vk(&app, &third).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 2, "a new like restores");
    vk(&app, &liked_again).await;
    vk(&app, &removed_again).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 0);
    vk(&app, &liked_again).await;
    assert_eq!(
        app.balance_of(&anna_vk()).await,
        0,
        "a like that changed nothing changes nothing when it comes again"
    );
    assert_eq!(
        balance_events(&app).await,
        [
            "PointsAwarded",
            "PointsReversed",
            "AwardRestored",
            "PointsReversed"
        ]
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_vk_group_join_delivered_again_after_leaving_pays_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let join = fixture_json("vk/group_join.json");
    vk(&app, &join).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 50);
    vk(&app, &fixture_json("vk/group_leave.json")).await;
    vk(&app, &join).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 0);
    assert_eq!(
        balance_events(&app).await,
        ["PointsAwarded", "PointsReversed"]
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_telegram_reaction_delivered_again_after_its_removal_pays_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let reaction = fixture_json("telegram/message_reaction.json");
    telegram(&app, &reaction).await;
    assert_eq!(app.balance_of(&anna_tg()).await, 2);
    telegram(
        &app,
        &fixture_json("telegram/message_reaction_removed.json"),
    )
    .await;
    telegram(&app, &reaction).await;
    assert_eq!(app.balance_of(&anna_tg()).await, 0);
    let mut again = reaction.clone();
    again["update_id"] = json!(900_000_200);
    telegram(&app, &again).await;
    assert_eq!(
        app.balance_of(&anna_tg()).await,
        2,
        "reacting again restores"
    );
    assert_eq!(
        balance_events(&app).await,
        ["PointsAwarded", "PointsReversed", "AwardRestored"]
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_telegram_join_delivered_again_after_leaving_pays_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let join = fixture_json("telegram/chat_member_joined.json");
    telegram(&app, &join).await;
    assert_eq!(app.balance_of(&anna_tg()).await, 50);
    telegram(&app, &fixture_json("telegram/chat_member_left.json")).await;
    telegram(&app, &join).await;
    assert_eq!(app.balance_of(&anna_tg()).await, 0);
    assert_eq!(
        balance_events(&app).await,
        ["PointsAwarded", "PointsReversed"]
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_telegram_poll_answer_delivered_again_after_retraction_pays_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let request_id = Uuid::new_v4();
    let poll = NewPoll {
        request_id,
        program_id: app.t.program_id(),
        chat_id: TG_GROUP,
        question: "Which flavour?",
        options: &["Mint".into(), "Lemon".into()],
        published_by: "manager:olga",
    };
    polls::reserve(&app.pool, &poll).await.unwrap().unwrap();
    polls::published(
        &app.pool,
        request_id,
        "5210000000000000001",
        77,
        chrono::Utc::now(),
    )
    .await
    .unwrap();

    let answer = fixture_json("telegram/poll_answer.json");
    telegram(&app, &answer).await;
    assert_eq!(app.balance_of(&anna_tg()).await, 5);
    // Changing the answer pays nothing; nor does that change when it comes again later.
    let mut changed = answer.clone();
    changed["update_id"] = json!(900_000_300);
    changed["poll_answer"]["option_ids"] = json!([0]);
    telegram(&app, &changed).await;
    telegram(&app, &fixture_json("telegram/poll_answer_retracted.json")).await;
    assert_eq!(app.balance_of(&anna_tg()).await, 0);
    telegram(&app, &answer).await;
    telegram(&app, &changed).await;
    assert_eq!(app.balance_of(&anna_tg()).await, 0);
    assert_eq!(
        balance_events(&app).await,
        ["PointsAwarded", "PointsReversed"]
    );
}
