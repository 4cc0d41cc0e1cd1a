//! Connecting channels without SQL: an admin connects a VK group, an Instagram account and a
//! Telegram chat in the panel's API, sees whether deliveries arrive and which were refused,
//! changes and disconnects them, and every change is recorded without its secrets; wrong input
//! is refused with what to fix and changes nothing. The command line does the same.

use crate::harness::admin::AdminClient;
use crate::harness::*;
use api::admin::Role;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;

const GROUP: &str = "229870777";
const SECRET: &str = "GroupSecret2026";
const CONFIRMATION: &str = "c0nf1rm8";

fn vk_comment(group: &str, secret: &str, id: i64) -> Vec<u8> {
    json!({"type": "wall_reply_new", "group_id": group.parse::<i64>().unwrap(),
        "event_id": format!("connect-{id}"), "secret": secret,
        "object": {"id": id, "from_id": 715_009_000 + id, "post_id": 1,
        "owner_id": -group.parse::<i64>().unwrap(), "date": 1767268800,
        "text": format!("Отличный пост номер {id}")}})
    .to_string()
    .into_bytes()
}

async fn channel(panel: &AdminClient, network: &str, destination: &str) -> Option<Value> {
    let list = panel.get(&panel.path("/channels")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.json()["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["network"] == network && c["destination"] == destination)
        .cloned()
}

/// Polls until the channel's last delivery is noted (written in the background).
async fn noted(panel: &AdminClient, destination: &str) -> Value {
    for _ in 0..50 {
        let found = channel(panel, "vk", destination).await.unwrap();
        if !found["last_delivery_at"].is_null() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    panic!("the delivery was never noted");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_connects_changes_and_disconnects_channels_and_each_change_is_recorded(
    pool: PgPool,
) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &panel.app;
    let channels = panel.path("/channels");
    let connect = |body: Value| panel.change(Method::POST, &channels, Some(body));

    let vk = json!({"network": "vk", "destination": format!("club{GROUP}"),
        "secret": SECRET, "confirmation": CONFIRMATION});
    let reply = connect(vk.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["outcome"], "connected");
    let listed = channel(&panel, "vk", GROUP)
        .await
        .expect("listed by its id");
    assert_eq!(listed["has_secret"], true);
    assert_eq!(listed["has_confirmation"], true);
    assert!(listed["last_delivery_at"].is_null());
    assert_eq!(listed["refused"], 0);

    // VK's confirmation request is answered with the string set here, and deliveries route.
    let confirm = json!({"type": "confirmation", "group_id": GROUP.parse::<i64>().unwrap(),
        "secret": SECRET});
    let answer = app.vk(confirm.to_string().into_bytes()).await;
    assert_eq!(answer.body, CONFIRMATION);
    let before = app.event_count().await;
    assert_eq!(app.vk(vk_comment(GROUP, SECRET, 1)).await.body, "ok");
    assert!(app.event_count().await > before, "the comment was recorded");
    let seen = noted(&panel, GROUP).await;

    // A wrong secret is refused, and the channel says so.
    let before = app.event_count().await;
    assert_eq!(app.vk(vk_comment(GROUP, "WrongSecret", 2)).await.body, "ok");
    assert_eq!(app.event_count().await, before);
    let refused = channel(&panel, "vk", GROUP).await.unwrap();
    assert_eq!(refused["refused"], 1);
    assert!(!refused["last_refused_at"].is_null());
    assert_eq!(refused["last_delivery_at"], seen["last_delivery_at"]);

    // The same request again changes nothing; a new secret is a change.
    assert_eq!(connect(vk.clone()).await.json()["outcome"], "unchanged");
    let mut rotated = vk.clone();
    rotated["secret"] = json!("RotatedSecret7");
    assert_eq!(connect(rotated).await.json()["outcome"], "changed");
    let before = app.event_count().await;
    assert_eq!(
        app.vk(vk_comment(GROUP, "RotatedSecret7", 3)).await.body,
        "ok"
    );
    assert!(
        app.event_count().await > before,
        "the new secret is used at once"
    );

    for other in [
        json!({"network": "instagram", "destination": "17841400000000777"}),
        json!({"network": "telegram", "destination": "-1007770000001"}),
    ] {
        let reply = connect(other).await;
        assert_eq!(reply.json()["outcome"], "connected", "{}", reply.body);
    }
    assert!(
        channel(&panel, "instagram", "17841400000000777")
            .await
            .is_some()
    );

    // An Instagram delivery for it that the app secret did not sign is refused, and counted
    // on the channel (from the account id its unverified body names, nothing else).
    let mut forged: Value = serde_json::from_slice(&fixture("instagram/comment.json")).unwrap();
    forged["entry"][0]["id"] = json!("17841400000000777");
    let forged = serde_json::to_vec(&forged).unwrap();
    let signature = sign(&forged, "not-the-app-secret");
    let refused = app.instagram(forged, Some(&signature)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let instagram = channel(&panel, "instagram", "17841400000000777")
        .await
        .unwrap();
    assert_eq!(instagram["refused"], 1);

    // Disconnected, the group's deliveries reach no program.
    let gone = panel
        .change(
            Method::DELETE,
            &panel.path(&format!("/channels/vk/{GROUP}")),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    assert!(channel(&panel, "vk", GROUP).await.is_none());
    let before = app.event_count().await;
    app.vk(vk_comment(GROUP, "RotatedSecret7", 4)).await;
    assert_eq!(app.event_count().await, before);
    let again = panel
        .change(
            Method::DELETE,
            &panel.path(&format!("/channels/vk/{GROUP}")),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // Who did what, newest first, and no secret anywhere in the answer.
    let list = panel.get(&panel.path("/channels")).await;
    assert!(!list.body.contains(SECRET) && !list.body.contains("RotatedSecret7"));
    assert!(!list.body.contains(CONFIRMATION));
    let changes: Vec<(String, String, String, String)> = list.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_string();
            (s("action"), s("network"), s("destination"), s("actor"))
        })
        .collect();
    let actor = "manager:admin1".to_string();
    assert_eq!(
        changes,
        vec![
            (
                "disconnected".into(),
                "vk".into(),
                GROUP.into(),
                actor.clone()
            ),
            (
                "connected".into(),
                "telegram".into(),
                "-1007770000001".into(),
                actor.clone()
            ),
            (
                "connected".into(),
                "instagram".into(),
                "17841400000000777".into(),
                actor.clone()
            ),
            ("changed".into(), "vk".into(), GROUP.into(), actor.clone()),
            ("connected".into(), "vk".into(), GROUP.into(), actor),
        ]
    );
    assert_eq!(list.json()["changes"][3]["detail"], "secret key changed");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn wrong_channel_input_is_refused_with_what_to_fix_and_changes_nothing(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let count = || panel.count("SELECT count(*) FROM channels");
    let changes = || panel.count("SELECT count(*) FROM channel_changes");
    let (channels_before, changes_before) = (count().await, changes().await);
    let cases = [
        (
            json!({"network": "ok", "destination": "1"}),
            "instagram, vk or telegram",
        ),
        (
            json!({"network": "vk", "destination": "brand"}),
            "positive number",
        ),
        (
            json!({"network": "vk", "destination": "1", "confirmation": "c"}),
            "secret key",
        ),
        (
            json!({"network": "vk", "destination": "1", "secret": "s"}),
            "confirmation",
        ),
        (
            json!({"network": "telegram", "destination": "5000000001"}),
            "private chat",
        ),
        (
            json!({"network": "telegram", "destination": "@brand"}),
            "numeric id",
        ),
        (
            json!({"network": "instagram", "destination": "17841400000000777", "secret": "a token"}),
            "access token",
        ),
    ];
    for (body, says) in cases {
        let reply = panel
            .change(Method::POST, &panel.path("/channels"), Some(body.clone()))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
        assert_eq!(reply.json()["error"]["code"], "invalid_channel");
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains(says), "{body}: {message}");
    }
    let not_json = panel
        .change(Method::POST, &panel.path("/channels"), None)
        .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // The fixtures' VK group belongs to the fixtures' program: another program may not take it.
    let other = panel.app.another_program().await;
    let taken = panel
        .change(
            Method::POST,
            &format!("/api/v1/admin/programs/{}/channels", other.0),
            Some(json!({"network": "vk", "destination": VK_GROUP, "secret": "s", "confirmation": "c"})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert_eq!(taken.json()["error"]["code"], "channel_taken");

    // Managers see channels but do not connect or disconnect them.
    let manager = AdminClient::signed_in(panel.app.pool.clone(), Role::Manager).await;
    assert_eq!(
        manager.get(&manager.path("/channels")).await.status,
        StatusCode::OK
    );
    let refused = manager
        .change(
            Method::POST,
            &manager.path("/channels"),
            Some(json!({"network": "telegram", "destination": "-1007770000002"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = manager
        .change(
            Method::DELETE,
            &manager.path(&format!("/channels/vk/{VK_GROUP}")),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    assert_eq!(
        (count().await, changes().await),
        (channels_before, changes_before)
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_command_line_adds_lists_and_removes_channels(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let program = app.t.program_id().0;
    let request = app::channels::ChannelRequest {
        network: "vk".into(),
        destination: "-229870888".into(),
        secret: Some(SECRET.into()),
        confirmation: Some(CONFIRMATION.into()),
    };
    let outcome = loyalty::channels::add(
        &app.pool,
        app::config::dev_secret_box(),
        program,
        &request,
        "olga",
    )
    .await
    .unwrap();
    assert_eq!(outcome, app::channels::Connected::Connected);
    let listed = loyalty::channels::list(&app.pool, program).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|c| c.network == "vk" && c.destination == "229870888")
    );
    let bad = app::channels::ChannelRequest {
        secret: None,
        ..request.clone()
    };
    let error = loyalty::channels::add(
        &app.pool,
        app::config::dev_secret_box(),
        program,
        &bad,
        "olga",
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("secret key"), "{error}");
    let unknown = loyalty::channels::add(
        &app.pool,
        app::config::dev_secret_box(),
        uuid::Uuid::new_v4(),
        &request,
        "olga",
    )
    .await;
    assert!(unknown.unwrap_err().to_string().contains("no program"));
    loyalty::channels::remove(
        &app.pool,
        app::config::dev_secret_box(),
        program,
        "vk",
        "229870888",
        "olga",
    )
    .await
    .unwrap();
    let actors: Vec<(String, String)> =
        sqlx::query_as("SELECT action, actor FROM channel_changes ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        actors,
        vec![
            ("connected".to_string(), "olga".to_string()),
            ("disconnected".to_string(), "olga".to_string())
        ]
    );
    let missing = loyalty::channels::remove(
        &app.pool,
        app::config::dev_secret_box(),
        program,
        "vk",
        "229870888",
        "olga",
    )
    .await;
    assert!(
        missing
            .unwrap_err()
            .to_string()
            .contains("has no vk channel")
    );
}
