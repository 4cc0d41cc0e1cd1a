//! The name directory: the names beside ranks come from this process's memory, loaded per
//! program on first use and refreshed (here: driven by the test) from changed profiles.

use crate::harness::mini_app::{ANNA, MiniApp, anna, init_data, instagram_comment, user};
use crate::harness::{IG_APP_SECRET, IG_BRAND, sign};
use axum::http::StatusCode;
use domain::network::{ExternalIdentity, Network};
use serde_json::Value;
use sqlx::PgPool;
use std::time::Duration;

/// The names on the all-time top, best first (`null`: no name).
async fn names_on_top(m: &MiniApp) -> Vec<Value> {
    let (status, board) = m.get("/api/v1/app/leaderboard", &anna()).await;
    assert_eq!(status, StatusCode::OK, "{board}");
    board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect()
}

async fn instagram_comment_from(m: &MiniApp, from_id: &str, username: &str, comment_id: &str) {
    let text = format!("Красивое фото, {comment_id}!");
    let body = instagram_comment(from_id, username, comment_id, &text);
    let signature = sign(&body, IG_APP_SECRET);
    let reply = m.app.instagram(body, Some(&signature)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

fn vk(id: &str) -> ExternalIdentity {
    ExternalIdentity::new(Network::Vk, "club1", id)
}

fn instagram(id: &str) -> ExternalIdentity {
    ExternalIdentity::new(Network::Instagram, IG_BRAND, id)
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_rename_by_webhook_shows_after_a_refresh_not_before(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 1_000).await;
    instagram_comment_from(&m, "1111", "ig_first", "17990000000000001").await;
    m.drain().await;
    assert_eq!(names_on_top(&m).await, ["Анна С.", "@ig_first"]);
    assert_eq!(m.state.names.loaded().0, 1, "one program loaded");
    assert_eq!(m.state.names.loaded().1, 2, "two named members");

    // The commenter renames themselves: the webhook writes the profile at once, but the
    // leaderboard reads the directory, which learns of it on its next refresh.
    instagram_comment_from(&m, "1111", "ig_renamed", "17990000000000002").await;
    assert_eq!(names_on_top(&m).await, ["Анна С.", "@ig_first"]);
    assert_eq!(m.state.names.refresh().await.unwrap(), 1);
    assert_eq!(names_on_top(&m).await, ["Анна С.", "@ig_renamed"]);
    let (_, around) = m
        .get("/api/v1/app/leaderboard/around-me?limit=1", &anna())
        .await;
    assert_eq!(around["me"]["name"], "Анна С.");
    assert_eq!(around["below"][0]["name"], "@ig_renamed");
    // Nothing changed since: a refresh changes nothing.
    assert_eq!(m.state.names.refresh().await.unwrap(), 0);

    // An idle program leaves memory, and the next question loads it again.
    assert_eq!(m.state.names.evict_idle(Duration::ZERO), 1);
    assert_eq!(m.state.names.loaded(), (0, 0, 0));
    assert_eq!(names_on_top(&m).await, ["Анна С.", "@ig_renamed"]);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_telegram_profile_names_a_member_else_the_newest(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    // Boris: Telegram first, even though his Instagram profile is newer.
    let boris = m.rival(5_000_000_099, "Борис Петров", 300).await;
    m.link_named(boris, instagram("2001"), Some("Boris Instagram"))
        .await;
    // Olga: no Telegram account; of her two profiles the newest names her.
    let olga = m.app.t.member().await;
    m.link_named(olga, vk("3001"), Some("Ольга Старая")).await;
    m.link_named(olga, instagram("3002"), Some("Olga Newest"))
        .await;
    m.give(olga, 200).await;
    // Ivan: a Telegram account with no profile, and a VK one that names him.
    let ivan = m.app.t.member().await;
    let ivan_telegram = ExternalIdentity::new(Network::Telegram, "", "5000000077");
    m.link_named(ivan, ivan_telegram, None).await;
    m.link_named(ivan, vk("4001"), Some("Иван Иванов")).await;
    m.give(ivan, 100).await;
    m.drain().await;
    assert_eq!(names_on_top(&m).await, ["Борис П.", "Olga N.", "Иван И."]);

    // Refreshing applies the same rule: Boris's Instagram changing again does not win over
    // Telegram; Olga's VK profile changing makes it her newest.
    m.write_profile(instagram("2001"), "Boris Again").await;
    m.write_profile(vk("3001"), "Ольга Новая").await;
    m.state.names.refresh().await.unwrap();
    assert_eq!(names_on_top(&m).await, ["Борис П.", "Ольга Н.", "Иван И."]);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_member_without_a_profile_shows_no_name(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let nobody = m.app.t.member().await;
    m.give(nobody, 200).await;
    // An account, but no profile for it.
    let unnamed = m.app.t.member().await;
    m.link_named(unnamed, vk("5001"), None).await;
    m.give(unnamed, 150).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 100).await;
    m.drain().await;
    assert_eq!(
        names_on_top(&m).await,
        [Value::Null, Value::Null, "Анна С.".into()]
    );
    let (_, around) = m
        .get("/api/v1/app/leaderboard/around-me?limit=2", &anna())
        .await;
    assert_eq!(around["above"][0]["name"], Value::Null);
    assert_eq!(around["above"][1]["name"], Value::Null);
    assert_eq!(around["me"]["name"], "Анна С.");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_callers_own_new_name_shows_at_once(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 100).await;
    m.rival(5_000_000_099, "Борис Петров", 200).await;
    m.drain().await;
    assert_eq!(names_on_top(&m).await, ["Борис П.", "Анна С."]);

    // Anna opens the app under a new name: no refresh needed to see it.
    let renamed = init_data(&user(ANNA, "Аня", "anna_runs", "ru"));
    m.sign_in(&renamed).await;
    let (_, board) = m.get("/api/v1/app/leaderboard", &renamed).await;
    assert_eq!(board["entries"][1]["name"], "Аня");
    assert_eq!(board["me"]["name"], "Аня");
    // The refresh reads the same from the database.
    m.state.names.refresh().await.unwrap();
    assert_eq!(names_on_top(&m).await, ["Борис П.", "Аня"]);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_failed_load_is_a_clear_error_and_the_next_question_loads(pool: PgPool) {
    let m = MiniApp::new(pool.clone()).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 100).await;
    m.drain().await;
    sqlx::query("ALTER TABLE profiles RENAME TO profiles_away")
        .execute(&pool)
        .await
        .unwrap();
    let (status, error) = m.get("/api/v1/app/leaderboard", &anna()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error}");
    assert_eq!(error["error"]["code"], "names_unavailable");
    sqlx::query("ALTER TABLE profiles_away RENAME TO profiles")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(names_on_top(&m).await, ["Анна С."]);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn what_no_profile_change_shows_is_caught_by_reading_the_program_whole(pool: PgPool) {
    let m = MiniApp::new(pool.clone()).await;
    let olga = m.app.t.member().await;
    m.link_named(olga, vk("3001"), Some("Ольга Петрова")).await;
    m.give(olga, 100).await;
    m.drain().await;
    assert_eq!(names_on_top(&m).await, ["Ольга П."]);

    // Her profile is erased: a deleted row has no `updated_at` for the refresh to see.
    sqlx::query(
        "DELETE FROM profiles WHERE account_ref = \
         (SELECT account_ref FROM external_accounts WHERE platform_id = '3001')",
    )
    .execute(&pool)
    .await
    .unwrap();
    m.drain().await;
    assert_eq!(names_on_top(&m).await, ["Ольга П."]);
    let hour = Duration::from_secs(3600);
    assert_eq!(m.state.names.reload_older_than(hour).await.unwrap(), 0);
    assert_eq!(
        m.state
            .names
            .reload_older_than(Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    assert_eq!(names_on_top(&m).await, [Value::Null]);
}

/// VK webhooks carry only user ids: `users.get` (a fake VK here) gives the names, which land in
/// `profiles` where the panel and the leaderboards read them; a deleted profile gets none, and
/// a name is fetched again only once it is a week old.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn vk_names_come_from_users_get_and_are_refreshed_weekly(pool: PgPool) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let vk = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/method/users.get"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            crate::harness::fixture("vk/api/users.get.json"),
            "application/json",
        ))
        .mount(&vk)
        .await;
    let vk_url = format!("{}/method", vk.uri());
    let app = crate::harness::TestApp::with_config(pool, |config, _| {
        config.vk.api_token = "vk-test-token".to_string().into();
        config.vk.api_url = vk_url;
    })
    .await;
    for id in ["743784474", "743784475", "743784476"] {
        app.account(&ExternalIdentity::new(Network::Vk, "", id))
            .await;
    }
    let client = bot::vk_client(&app.state).expect("a VK token is configured");
    assert_eq!(
        bot::vk_names::refresh_once(&app.pool, &client)
            .await
            .unwrap(),
        3
    );
    let names: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT a.platform_id, p.username, p.display_name FROM profiles p \
         JOIN external_accounts a USING (account_ref) ORDER BY a.platform_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        names,
        vec![
            (
                "743784474".into(),
                Some("anna_runs".into()),
                Some("Анна Смирнова".into())
            ),
            ("743784475".into(), None, Some("Борис Иванов".into())),
            ("743784476".into(), None, None),
        ]
    );
    assert_eq!(
        bot::vk_names::refresh_once(&app.pool, &client)
            .await
            .unwrap(),
        0,
        "fresh names are not fetched again"
    );
    sqlx::query("UPDATE profiles SET updated_at = now() - interval '8 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        bot::vk_names::refresh_once(&app.pool, &client)
            .await
            .unwrap(),
        3
    );
    assert_eq!(vk.received_requests().await.unwrap().len(), 2);
}
