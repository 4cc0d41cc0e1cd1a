//! Signing in with initData: valid, forged, expired or missing, and the Mini App off without
//! a bot token.

use crate::harness::encode;
use crate::harness::json_of;
use crate::harness::mini_app::{ANNA, BOT_TOKEN, MiniApp, anna, init_data, init_data_signed, user};
use axum::http::StatusCode;
use chrono::Utc;
use domain::ids::MemberId;
use domain::network::{ExternalIdentity, Network};
use serde_json::json;
use sqlx::PgPool;

/// The fixtures' valid initData: correctly signed, but issued on 2026-01-01.
const FIXTURE_INIT_DATA: &str = "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A5000000001%2C%22first_name%22%3A%22%D0%90%D0%BD%D0%BD%D0%B0%22%2C%22last_name%22%3A%22%D0%A1%D0%BC%D0%B8%D1%80%D0%BD%D0%BE%D0%B2%D0%B0%22%2C%22username%22%3A%22anna_runs%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2Fanna.svg%22%7D&auth_date=1767268800&signature=KKgYIzZfzgAUNOjw0RdM8xnrL2GL6bf-GpLdiJ0nRTrEvKvY6omkIgvYRXLMJA-H96Sy8XtaEExXokCTP2fRBw&hash=ce8fd05b8ccd757e0edc4006c4a6445747982bab5241bd05cf8ab24068a6263d";

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn valid_init_data_signs_the_member_in_and_shows_the_balance(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let (status, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["first_name"], "Анна");
    assert_eq!(me["language"], "ru");
    assert_eq!(me["balance"]["current"], 0);
    assert_eq!(me["accounts"][0]["network"], "telegram");
    assert_eq!(me["accounts"][0]["external_id"], ANNA.to_string());
    assert_eq!(me["accounts"][0]["can_unlink"], false);
    let member = MemberId(me["member_id"].as_str().unwrap().parse().unwrap());
    let telegram = ExternalIdentity::new(Network::Telegram, "", ANNA.to_string());
    assert_eq!(m.app.member_of(&telegram).await, Some(member));

    m.give(member, 120).await;
    m.drain().await;
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(me["balance"]["current"], 120);
    assert_eq!(me["balance"]["earned"], 120);
    assert_eq!(me["rank"]["all_time"]["rank"], 1);
    assert_eq!(me["rank"]["week"]["score"], 120);
    let instagram = &me["subscriptions"][0];
    assert_eq!(
        (instagram["network"].as_str(), instagram["status"].as_str()),
        (Some("instagram"), Some("unverifiable"))
    );
    assert!(
        instagram["note"]
            .as_str()
            .unwrap()
            .contains("кодовое слово")
    );

    // The second visit is the same member; names went to profiles, never into events.
    assert_eq!(m.sign_in(&anna()).await, member);
    let names: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE payload::text LIKE '%Анна%' OR payload::text LIKE '%anna_runs%'")
        .fetch_one(&m.state.pool)
        .await
        .unwrap();
    assert_eq!(names, 0);
    let profile: (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT display_name, username FROM profiles JOIN external_accounts USING (account_ref) \
         WHERE network = 'telegram' AND platform_id = $1",
    )
    .bind(ANNA.to_string())
    .fetch_one(&m.state.pool)
    .await
    .unwrap();
    assert_eq!(
        profile,
        (Some("Анна Смирнова".into()), Some("anna_runs".into()))
    );
}

/// The largest `init_data_max_age_secs` the configuration accepts works: initData almost that
/// old signs in, older is refused, nothing panics (above about 9.2e15 every request used to).
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_largest_init_data_max_age_accepted_signs_in_and_refuses_older(pool: PgPool) {
    let max_age = *app::config::limits::INIT_DATA_MAX_AGE_SECS.end();
    let m = MiniApp::with_config(pool, |config| {
        config.mini_app.init_data_max_age_secs = max_age
    })
    .await;
    let anna = user(ANNA, "Анна", "anna_runs", "ru");
    let now = Utc::now().timestamp();
    m.sign_in(&init_data_signed(&anna, now - max_age + 60, BOT_TOKEN))
        .await;
    let older = init_data_signed(&anna, now - max_age - 60, BOT_TOKEN);
    let reply = m
        .call("GET", "/api/v1/app/me", Some(&older), None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert!(reply.body.contains("expired"), "{}", reply.body);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn forged_expired_or_missing_init_data_is_refused_and_changes_nothing(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let reward = m.list_reward("Coffee", 10, 5).await;
    let events = m.app.event_count().await;
    let now = Utc::now().timestamp();
    let anna = user(ANNA, "Анна", "anna_runs", "ru");
    let tampered = anna_init_data_with_other_user();
    let cases = [
        (None, "missing Authorization"),
        (Some(String::new()), "must be `tma <initData>`"),
        (
            Some(init_data_signed(&anna, now, "7000000001:wrong-token")),
            "signature is invalid",
        ),
        (Some(tampered), "signature is invalid"),
        (Some(FIXTURE_INIT_DATA.to_string()), "expired"),
        (
            Some(init_data_signed(&anna, now - 86_400 - 60, BOT_TOKEN)),
            "expired",
        ),
        (
            Some(init_data_signed(&anna, now + 3_600, BOT_TOKEN)),
            "in the future",
        ),
        (Some("user=%7B%7D&auth_date=1".to_string()), "no hash"),
    ];
    for (init_data, why) in &cases {
        for (method, path) in [
            ("GET", "/api/v1/app/me".to_string()),
            ("POST", format!("/api/v1/app/rewards/{}/redeem", reward.0)),
            ("POST", "/api/v1/app/links".to_string()),
        ] {
            let body = (method == "POST").then(|| json!({"network": "vk"}));
            let headers = [("Idempotency-Key", "k")];
            let reply = m
                .call(method, &path, init_data.as_deref(), body, &headers)
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{why}: {}",
                reply.body
            );
            let error = json_of(&reply);
            assert_eq!(error["error"]["code"], "unauthorized");
            let message = error["error"]["message"].as_str().unwrap();
            assert!(message.contains(why), "{message} should say {why}");
        }
    }
    // A wrong scheme is refused the same way.
    let bearer = m
        .call(
            "GET",
            "/api/v1/app/me",
            None,
            None,
            &[("authorization", "Bearer x")],
        )
        .await;
    assert_eq!(bearer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(m.app.event_count().await, events);
    let written: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM profiles) + (SELECT count(*) FROM link_codes)",
    )
    .fetch_one(&m.state.pool)
    .await
    .unwrap();
    assert_eq!(written, 0);
}

/// Valid initData whose `user` was edited after signing.
fn anna_init_data_with_other_user() -> String {
    let signed = anna();
    let forged = encode(&user(ANNA + 1, "Анна", "anna_runs", "ru").to_string());
    let start = signed.find("user=").unwrap() + "user=".len();
    let end = signed[start..]
        .find('&')
        .map_or(signed.len(), |i| start + i);
    format!("{}{forged}{}", &signed[..start], &signed[end..])
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn without_a_bot_token_the_mini_app_is_off(pool: PgPool) {
    let m = MiniApp::with_config(pool, |config| {
        config.telegram.bot_token = String::new().into();
    })
    .await;
    // initData "signed" with an empty token must not pass: the API refuses to run at all.
    let forged = init_data_signed(&user(ANNA, "A", "a", "en"), Utc::now().timestamp(), "");
    let (status, body) = m.get("/api/v1/app/me", &forged).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "not_configured");
    let (_, config) = m.get("/api/v1/app/config", "").await;
    assert_eq!(config["configured"], false);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_language_follows_the_bots_rule_and_the_page_choice_wins(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let language_of = |code: Option<&str>, id: i64| {
        let mut member = user(id, "Тест", "test_user", "");
        match code {
            Some(code) => member["language_code"] = code.into(),
            None => {
                member.as_object_mut().unwrap().remove("language_code");
            }
        }
        init_data(&member)
    };
    for (code, expected) in [
        (None, "ru"),
        (Some("uk"), "ru"),
        (Some("kk-KZ"), "ru"),
        (Some("en-US"), "en"),
        (Some("de"), "en"),
    ] {
        let (status, me) = m.get("/api/v1/app/me", &language_of(code, ANNA)).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["language"], expected, "language_code {code:?}");
    }
    let chosen = m
        .call(
            "GET",
            "/api/v1/app/me",
            Some(&language_of(Some("de"), ANNA)),
            None,
            &[("accept-language", "ru")],
        )
        .await;
    assert_eq!(json_of(&chosen)["language"], "ru");
}
