//! Where deliveries come from: destinations of no program are accepted, counted and listed
//! for the panel; a VK group nobody has and a wrong VK secret look the same from outside; a
//! Telegram group that becomes a supergroup takes its channel along.

use crate::harness::admin::{AdminClient, PASSWORD};
use crate::harness::*;
use api::admin::Role;
use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

/// `webhook_unrouted_total{network=…}` as /metrics shows it (0 before the first).
async fn unrouted_metric(panel: &AdminClient, network: &str) -> u64 {
    let metrics = panel.get("/metrics").await.body;
    let series = format!("webhook_unrouted_total{{network=\"{network}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |value| value.trim().parse().unwrap())
}

/// Rows of what this database keeps, besides its configuration.
async fn stored(app: &TestApp) -> (i64, i64) {
    let profiles: i64 = sqlx::query_scalar("SELECT count(*) FROM profiles")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    (app.event_count().await, profiles)
}

fn unrouted_rows(answer: &Reply) -> Vec<(String, String, String, i64)> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["network"].as_str().unwrap().to_owned(),
                d["destination"].as_str().unwrap().to_owned(),
                d["reason"].as_str().unwrap().to_owned(),
                d["deliveries"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn with(mut value: Value, path: &[&str], new: Value) -> Vec<u8> {
    let mut at = &mut value;
    for key in path {
        at = match key.parse::<usize>() {
            Ok(index) => &mut at[index],
            Err(_) => &mut at[*key],
        };
    }
    *at = new;
    serde_json::to_vec(&value).unwrap()
}

fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn deliveries_for_destinations_of_no_program_are_accepted_counted_and_listed(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let app = &panel.app;
    let before = stored(app).await;
    let metric_before = [
        unrouted_metric(&panel, "instagram").await,
        unrouted_metric(&panel, "vk").await,
        unrouted_metric(&panel, "telegram").await,
    ];

    let instagram = with(
        fixture_json("instagram/comment.json"),
        &["entry", "0", "id"],
        json!("17841400000000099"),
    );
    let signature = sign(&instagram, IG_APP_SECRET);
    assert_eq!(
        app.instagram(instagram, Some(&signature)).await.status,
        StatusCode::OK
    );
    let vk = with(
        fixture_json("vk/wall_reply_new.json"),
        &["group_id"],
        json!(229870099),
    );
    for _ in 0..2 {
        let reply = app.vk(vk.clone()).await;
        assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "ok"));
    }
    let telegram = with(
        fixture_json("telegram/message_group.json"),
        &["message", "chat", "id"],
        json!(-1009900000001_i64),
    );
    assert_eq!(
        app.telegram(telegram, Some(TG_SECRET)).await.status,
        StatusCode::OK
    );

    assert_eq!(
        stored(app).await,
        before,
        "nothing of the deliveries is stored"
    );
    let metric_after = [
        unrouted_metric(&panel, "instagram").await,
        unrouted_metric(&panel, "vk").await,
        unrouted_metric(&panel, "telegram").await,
    ];
    for (network, (was, is)) in ["instagram", "vk", "telegram"]
        .iter()
        .zip(metric_before.iter().zip(metric_after))
    {
        // Other tests in this process count too: at least ours.
        assert!(is > *was, "{network}: {was} then {is}");
    }
    assert!(metric_after[1] >= metric_before[1] + 2, "vk counted twice");

    let listed = unrouted_rows(&panel.get("/api/v1/admin/unrouted").await);
    let row = |network: &str, destination: &str, deliveries: i64| {
        (
            network.to_owned(),
            destination.to_owned(),
            "no_program".to_owned(),
            deliveries,
        )
    };
    for expected in [
        row("instagram", "17841400000000099", 1),
        row("vk", "229870099", 2),
        row("telegram", "-1009900000001", 1),
    ] {
        assert!(listed.contains(&expected), "{expected:?} in {listed:?}");
    }

    // Once connected, the destination is no longer one of no program.
    app::ingest::channels::bind(
        &app.pool,
        &app::config::dev_secret_box(),
        domain::network::Network::Vk,
        "229870099",
        app.t.program_id(),
        Some(VK_SECRET),
        None,
    )
    .await
    .unwrap();
    let listed = unrouted_rows(&panel.get("/api/v1/admin/unrouted").await);
    assert!(!listed.iter().any(|r| r.1 == "229870099"), "{listed:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn destinations_of_no_program_are_not_shown_to_an_account_limited_to_programs(pool: PgPool) {
    let mut panel = AdminClient::new(pool).await;
    api::admin::create_user(&panel.app.pool, "test", "limited", PASSWORD, Role::Manager)
        .await
        .unwrap();
    sqlx::query("UPDATE admin_users SET programs = ARRAY[$1]::uuid[] WHERE username = 'limited'")
        .bind(panel.program())
        .execute(&panel.app.pool)
        .await
        .unwrap();
    assert_eq!(
        panel.login("limited", PASSWORD).await.status,
        StatusCode::OK
    );
    let answer = panel.get("/api/v1/admin/unrouted").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_unknown_vk_group_and_a_wrong_vk_secret_get_the_same_answer(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &panel.app;
    let before = stored(app).await;
    let unknown_group = app.vk_fixture("wall_reply_new_other_group.json").await;
    let wrong_secret = app.vk_fixture("wall_reply_new_wrong_secret.json").await;
    assert_eq!(
        (unknown_group.status, unknown_group.body.as_str()),
        (StatusCode::OK, "ok")
    );
    assert_eq!(
        (wrong_secret.status, wrong_secret.body),
        (unknown_group.status, unknown_group.body)
    );
    // Confirmation requests alike: no confirmation string for either.
    let confirm_unknown = app
        .vk(with(
            fixture_json("vk/confirmation.json"),
            &["group_id"],
            json!(229870098),
        ))
        .await;
    let confirm_wrong = app
        .vk(with(
            fixture_json("vk/confirmation.json"),
            &["secret"],
            json!("not-the-secret"),
        ))
        .await;
    assert_eq!(
        (confirm_unknown.status, confirm_unknown.body.as_str()),
        (StatusCode::OK, "ok")
    );
    assert_eq!(
        (confirm_wrong.status, confirm_wrong.body),
        (confirm_unknown.status, confirm_unknown.body)
    );
    assert_eq!(stored(app).await, before, "neither records anything");
    // The right secret still confirms.
    assert_eq!(
        app.vk_fixture("confirmation.json").await.body,
        VK_CONFIRMATION
    );

    let listed = unrouted_rows(&panel.get("/api/v1/admin/unrouted").await);
    assert!(
        listed.contains(&("vk".into(), VK_GROUP.into(), "wrong_secret".into(), 2)),
        "{listed:?}"
    );
}

/// A Telegram basic group and the supergroup it becomes (new chat id).
const OLD_GROUP: i64 = -4_001_234_567;
const SUPERGROUP: i64 = -1_004_001_234_567;

fn group_update(update_id: i64, chat: Value, extra: Value) -> Vec<u8> {
    let mut message = json!({
        "message_id": 10 + update_id % 100,
        "from": {"id": 5000000001_i64, "is_bot": false, "first_name": "Анна", "username": "anna_runs", "language_code": "ru"},
        "chat": chat,
        "date": 1767268800 + (update_id % 1000) * 120,
    });
    for (key, value) in extra.as_object().unwrap() {
        message[key] = value.clone();
    }
    serde_json::to_vec(&json!({"update_id": update_id, "message": message})).unwrap()
}

fn old_group() -> Value {
    json!({"id": OLD_GROUP, "title": "Brand Fans", "type": "group", "all_members_are_administrators": false})
}

fn supergroup() -> Value {
    json!({"id": SUPERGROUP, "title": "Brand Fans", "type": "supergroup"})
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_telegram_group_that_becomes_a_supergroup_keeps_its_channel(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let app = &panel.app;
    app::ingest::channels::bind(
        &app.pool,
        &app::config::dev_secret_box(),
        domain::network::Network::Telegram,
        &OLD_GROUP.to_string(),
        app.t.program_id(),
        None,
        None,
    )
    .await
    .unwrap();
    let send = |body: Vec<u8>| async move {
        let reply = app.telegram(body, Some(TG_SECRET)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    };
    send(group_update(
        930_000_001,
        old_group(),
        json!({"text": "Первый комментарий в группе"}),
    ))
    .await;
    assert_eq!(app.balance_of(&anna_tg()).await, 10);

    // What Telegram sends when the group is upgraded: a service message in the old group
    // naming the new chat, and the supergroup's first message naming the old one.
    send(group_update(
        930_000_002,
        old_group(),
        json!({"migrate_to_chat_id": SUPERGROUP}),
    ))
    .await;
    send(group_update(
        930_000_003,
        supergroup(),
        json!({"migrate_from_chat_id": OLD_GROUP}),
    ))
    .await;

    send(group_update(
        930_000_004,
        supergroup(),
        json!({"text": "Комментарий уже в супергруппе"}),
    ))
    .await;
    assert_eq!(
        app.balance_of(&anna_tg()).await,
        20,
        "activity in the supergroup reaches the program"
    );

    let program: Option<uuid::Uuid> = sqlx::query_scalar(
        "SELECT program_id FROM channels WHERE network = 'telegram' AND destination = $1",
    )
    .bind(SUPERGROUP.to_string())
    .fetch_optional(&app.pool)
    .await
    .unwrap();
    assert_eq!(program, Some(panel.program()));
    let channels = panel.get(&panel.path("/channels")).await;
    assert_eq!(channels.status, StatusCode::OK, "{}", channels.body);
    let channels = channels.json();
    let moves = channels["moves"].as_array().unwrap();
    assert_eq!(
        moves.len(),
        1,
        "both migration messages make one move: {moves:?}"
    );
    assert_eq!(moves[0]["from_destination"], OLD_GROUP.to_string());
    assert_eq!(moves[0]["to_destination"], SUPERGROUP.to_string());
    assert_eq!(moves[0]["reason"], "telegram_supergroup");
    let destinations: Vec<&str> = channels["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["destination"].as_str().unwrap())
        .collect();
    assert!(destinations.contains(&SUPERGROUP.to_string().as_str()));
    assert!(!destinations.contains(&OLD_GROUP.to_string().as_str()));

    let edited = sqlx::query("UPDATE channel_moves SET to_destination = 'elsewhere'")
        .execute(&app.pool)
        .await;
    assert!(edited.is_err(), "the history of moves is append-only");
}
