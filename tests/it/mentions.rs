//! Mentioning the brand earns the program's mention points beside the comment itself, once
//! per comment: a Telegram `@username` of the brand's channel, VK `[club…|…]` or `@club…` of
//! the community (in a comment or a member's post on its wall), an Instagram `@handle`.

use crate::harness::mini_app::instagram_comment;
use crate::harness::{
    IG_APP_SECRET, TG_GROUP, TG_SECRET, TestApp, VK_GROUP, VK_SECRET, anna_tg, anna_vk, boris_ig,
    sign,
};
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

/// The brand's public links, as an admin sets them on the Rules page.
async fn brand_links(app: &TestApp, telegram: &str, instagram: &str) {
    sqlx::query(
        "INSERT INTO program_brand (program_id, telegram_url, instagram_url, updated_by) \
         VALUES ($1, $2, $3, 'manager:olga')",
    )
    .bind(app.t.program_id().0)
    .bind(telegram)
    .bind(instagram)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// A group message from `user`, its `@mention` entity found the way Telegram counts (UTF-16).
fn telegram_message(
    update_id: i64,
    user: i64,
    message_id: i64,
    text: &str,
    handle: &str,
) -> Vec<u8> {
    let at = text.find(handle).unwrap();
    let offset = text[..at].encode_utf16().count();
    let length = handle.encode_utf16().count();
    json!({"update_id": update_id, "message": {
        "message_id": message_id,
        "from": {"id": user, "is_bot": false, "first_name": "Анна", "username": format!("user{user}")},
        "chat": {"id": TG_GROUP.parse::<i64>().unwrap(), "title": "Brand Chat", "type": "supergroup"},
        "date": chrono::Utc::now().timestamp(),
        "text": text,
        "entities": [{"type": "mention", "offset": offset, "length": length}]}})
    .to_string()
    .into_bytes()
}

fn vk_event(event_type: &str, event_id: &str, object: serde_json::Value) -> Vec<u8> {
    json!({"group_id": VK_GROUP.parse::<i64>().unwrap(), "type": event_type,
        "event_id": event_id, "v": "5.199", "object": object, "secret": VK_SECRET})
    .to_string()
    .into_bytes()
}

async fn awards(app: &TestApp, kind: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'PointsAwarded' \
         AND payload->'activity'->>'kind' = $1",
    )
    .bind(kind)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_telegram_message_naming_the_brand_earns_the_mention_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    brand_links(
        &app,
        "https://t.me/brand_news",
        "https://www.instagram.com/brand.shop/",
    )
    .await;
    let text = "Спасибо @Brand_News за кофе!";
    let message = telegram_message(1, 5_000_000_001, 7001, text, "@Brand_News");
    let reply = app.telegram(message.clone(), Some(TG_SECRET)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        app.balance_of(&anna_tg()).await,
        10 + 15,
        "the comment and the mention"
    );
    // Redelivered: nothing twice.
    app.telegram(message, Some(TG_SECRET)).await;
    assert_eq!(app.balance_of(&anna_tg()).await, 25);
    assert_eq!(
        (awards(&app, "comment").await, awards(&app, "mention").await),
        (1, 1)
    );
    // Naming someone else is a comment only.
    let other = telegram_message(
        2,
        5_000_000_002,
        7002,
        "Привет @someone_else!",
        "@someone_else",
    );
    app.telegram(other, Some(TG_SECRET)).await;
    assert_eq!(
        (awards(&app, "comment").await, awards(&app, "mention").await),
        (2, 1)
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn without_a_published_handle_a_telegram_mention_earns_nothing_more(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let message = telegram_message(
        1,
        5_000_000_001,
        7001,
        "Спасибо @brand_news!",
        "@brand_news",
    );
    app.telegram(message, Some(TG_SECRET)).await;
    assert_eq!(app.balance_of(&anna_tg()).await, 10);
    assert_eq!(awards(&app, "mention").await, 0);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_vk_comment_naming_the_community_earns_the_mention_and_loses_it_when_deleted(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let owner = format!("-{VK_GROUP}");
    let comment = json!({"id": 612, "from_id": 715002001, "post_id": 88, "owner_id": owner.parse::<i64>().unwrap(),
        "date": chrono::Utc::now().timestamp(), "text": format!("Люблю [club{VK_GROUP}|Кофейню]!")});
    let reply = app.vk(vk_event("wall_reply_new", "e1", comment)).await;
    assert_eq!(reply.body, "ok");
    assert_eq!(app.balance_of(&anna_vk()).await, 25);
    let deleted = json!({"id": 612, "owner_id": owner.parse::<i64>().unwrap(), "deleter_id": 715002001, "post_id": 88});
    app.vk(vk_event("wall_reply_delete", "e2", deleted)).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 0, "both awards reversed");
    let reversals: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'PointsReversed'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(reversals, 2);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_members_post_on_the_vk_wall_earns_only_when_it_names_the_community(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let owner: i64 = format!("-{VK_GROUP}").parse().unwrap();
    let post = |id: i64, from: i64, text: String| {
        json!({"id": id, "from_id": from, "owner_id": owner, "date": chrono::Utc::now().timestamp(),
            "post_type": "post", "text": text})
    };
    let plain = post(90, 715002001, "Мой рецепт латте".into());
    app.vk(vk_event("wall_post_new", "p1", plain)).await;
    assert_eq!(awards(&app, "mention").await, 0);
    let typed = post(91, 715002001, format!("Рецепт от @club{VK_GROUP}"));
    app.vk(vk_event("wall_post_new", "p2", typed)).await;
    assert_eq!(app.balance_of(&anna_vk()).await, 15);
    let own = post(92, owner, format!("Новости [club{VK_GROUP}|Кофейни]"));
    app.vk(vk_event("wall_post_new", "p3", own)).await;
    assert_eq!(
        awards(&app, "mention").await,
        1,
        "the community's own post earns nothing"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_instagram_comment_tagging_the_brand_earns_the_mention(pool: PgPool) {
    let app = TestApp::new(pool).await;
    brand_links(
        &app,
        "https://t.me/brand_news",
        "https://www.instagram.com/brand.shop/",
    )
    .await;
    let body = instagram_comment(
        "2233445566778899",
        "boris",
        "17900000000000077",
        "@brand.shop лучший кофе",
    );
    let signature = sign(&body, IG_APP_SECRET);
    let reply = app.instagram(body, Some(&signature)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(app.balance_of(&boris_ig()).await, 25);
}

mod instagram_lookup {
    //! Instagram's `mentions` webhook names only the comment; the Graph API (a local fake
    //! here) is asked for its author with the token connected with the brand's channel.

    use super::*;
    use crate::harness::{IG_BRAND, Reply, fixture};
    use app::ingest::channels;
    use domain::network::Network;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const TOKEN: &str = "IGQVJ-brand-token";
    const COMMENT: &str = "17990000000000777";

    async fn app_with_graph(pool: PgPool, graph: &MockServer, token: Option<&str>) -> TestApp {
        let url = graph.uri();
        let app = TestApp::with_config(pool, move |config, _| {
            config.instagram.graph_url = url;
        })
        .await;
        let secrets = app::config::dev_secret_box();
        let program = app.t.program_id();
        channels::bind(
            &app.pool,
            &secrets,
            Network::Instagram,
            IG_BRAND,
            program,
            token,
            None,
        )
        .await
        .unwrap();
        app
    }

    fn answer(from: serde_json::Value) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({"id": IG_BRAND, "mentioned_comment": {
            "id": COMMENT, "text": "Лучший кофе у @brand.shop",
            "timestamp": "2026-12-05T10:00:00+0000", "from": from}}))
    }

    fn lookup() -> wiremock::MockBuilder {
        let fields = format!("mentioned_comment.comment_id({COMMENT}){{id,text,timestamp,from}}");
        Mock::given(method("GET"))
            .and(path(format!("/{IG_BRAND}")))
            .and(query_param("fields", fields))
            .and(header("authorization", format!("Bearer {TOKEN}")))
    }

    async fn mention(app: &TestApp) -> Reply {
        let body = fixture("instagram/mention_comment.json");
        let signature = sign(&body, IG_APP_SECRET);
        app.instagram(body, Some(&signature)).await
    }

    #[sqlx::test(migrator = "store::MIGRATOR")]
    async fn a_mention_elsewhere_is_looked_up_and_earns_its_author_once(pool: PgPool) {
        let graph = MockServer::start().await;
        lookup()
            .respond_with(answer(
                json!({"id": "2233445566778899", "username": "boris"}),
            ))
            .expect(2)
            .mount(&graph)
            .await;
        let app = app_with_graph(pool, &graph, Some(TOKEN)).await;
        let reply = mention(&app).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(app.balance_of(&boris_ig()).await, 15);
        // Meta sends it again: looked up again, paid once.
        mention(&app).await;
        assert_eq!(app.balance_of(&boris_ig()).await, 15);
        assert_eq!(awards(&app, "mention").await, 1);
    }

    #[sqlx::test(migrator = "store::MIGRATOR")]
    async fn without_an_author_or_a_token_a_mention_pays_nobody(pool: PgPool) {
        let graph = MockServer::start().await;
        lookup()
            .respond_with(answer(json!(null)))
            .mount(&graph)
            .await;
        let app = app_with_graph(pool, &graph, Some(TOKEN)).await;
        assert_eq!(mention(&app).await.status, StatusCode::OK);
        assert_eq!(
            awards(&app, "mention").await,
            0,
            "Meta did not say who wrote it"
        );
        let received = graph.received_requests().await.unwrap().len();
        assert_eq!(received, 1);

        let untokened = MockServer::start().await;
        let app = TestApp::with_config(app.pool.clone(), {
            let url = untokened.uri();
            move |config, _| config.instagram.graph_url = url
        })
        .await;
        assert_eq!(mention(&app).await.status, StatusCode::OK);
        assert_eq!(untokened.received_requests().await.unwrap().len(), 0);
    }

    #[sqlx::test(migrator = "store::MIGRATOR")]
    async fn a_lookup_that_fails_for_a_moment_fails_the_delivery_for_meta_to_retry(pool: PgPool) {
        let graph = MockServer::start().await;
        lookup()
            .respond_with(ResponseTemplate::new(503))
            .mount(&graph)
            .await;
        let app = app_with_graph(pool, &graph, Some(TOKEN)).await;
        let reply = mention(&app).await;
        assert!(
            reply.status.is_server_error(),
            "{} {}",
            reply.status,
            reply.body
        );
        assert_eq!(awards(&app, "mention").await, 0);
    }
}
