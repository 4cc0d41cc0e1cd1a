//! Linking accounts: link codes posted from another network, VK ID, and text the database
//! cannot store.

use crate::harness::mini_app::{ANNA, MiniApp, anna, init_data, instagram_comment, user};
use crate::harness::{IG_APP_SECRET, IG_BRAND, json_of, sign};
use axum::http::StatusCode;
use base64::Engine;
use domain::network::{ExternalIdentity, Network};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// A NUL (U+0000) in a Mini App path, query or body is 400 and changes nothing.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn text_with_a_nul_character_is_400_and_changes_nothing(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    m.sign_in(&anna()).await;
    let events = m.app.event_count().await;
    let idempotency = [("idempotency-key", "k-1")];
    let refused = [
        ("GET", "/api/v1/app/links/LINK-%00".to_string(), None),
        ("DELETE", "/api/v1/app/links/LINK-%00".to_string(), None),
        (
            "DELETE",
            "/api/v1/app/accounts/instagram/1%00".to_string(),
            None,
        ),
        (
            "POST",
            format!("/api/v1/app/rewards/{}%00/redeem", Uuid::nil()),
            None,
        ),
        ("GET", "/api/v1/app/history?cursor=%00".to_string(), None),
        (
            "POST",
            "/api/v1/app/links".to_string(),
            Some(json!({"network": "instagram\u{0}"})),
        ),
    ];
    for (method, path, body) in refused {
        let reply = m
            .call(method, &path, Some(&anna()), body, &idempotency)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{method} {path}: {}",
            reply.body
        );
        assert_eq!(json_of(&reply)["error"]["code"], "nul_character", "{path}");
    }
    assert_eq!(m.app.event_count().await, events, "nothing was recorded");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_link_code_posted_from_instagram_links_that_account(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    let created = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"network": "instagram"})),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let link = json_of(&created);
    let code = link["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("LINK-"));
    assert_eq!(link["status"], "pending");
    assert!(
        link["instructions"]["ru"][1]
            .as_str()
            .unwrap()
            .contains(&code)
    );
    assert!(
        link["instructions"]["en"][1]
            .as_str()
            .unwrap()
            .contains(&code)
    );

    let body = instagram_comment(
        "9988776655",
        "anna_insta",
        "17990000000000777",
        &format!("мой код {code}"),
    );
    let signature = sign(&body, IG_APP_SECRET);
    assert_eq!(
        m.app.instagram(body, Some(&signature)).await.status,
        StatusCode::OK
    );

    let (_, status) = m.get(&format!("/api/v1/app/links/{code}"), &anna()).await;
    assert_eq!(status["status"], "used");
    let account = ExternalIdentity::new(Network::Instagram, IG_BRAND, "9988776655");
    assert_eq!(m.app.member_of(&account).await, Some(member));
    m.drain().await;
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    let accounts = me["accounts"].as_array().unwrap();
    let instagram = accounts
        .iter()
        .find(|a| a["network"] == "instagram")
        .unwrap();
    assert_eq!(instagram["external_id"], "9988776655");
    assert_eq!(instagram["method"], "code");
    assert_eq!(instagram["can_unlink"], true);

    // A used code cannot be cancelled; another member cannot see it.
    let used = m
        .call(
            "DELETE",
            &format!("/api/v1/app/links/{code}"),
            Some(&anna()),
            None,
            &[],
        )
        .await;
    assert_eq!(used.status, StatusCode::CONFLICT);
    let boris = init_data(&user(5_000_000_002, "Boris", "boris", "en"));
    let (status, _) = m.get(&format!("/api/v1/app/links/{code}"), &boris).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Unlinking: the account goes, the Telegram account one is signed in with stays.
    anna_unlinks_instagram(&m).await;
    assert_eq!(m.app.member_of(&account).await, None);
    let own = format!("/api/v1/app/accounts/telegram/{ANNA}");
    let refused = m.call("DELETE", &own, Some(&anna()), None, &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(me["accounts"].as_array().unwrap().len(), 1);
}

/// Anna unlinks Instagram account 9988776655 in the Mini App.
async fn anna_unlinks_instagram(m: &MiniApp) {
    let unlink = m
        .call(
            "DELETE",
            "/api/v1/app/accounts/instagram/9988776655",
            Some(&anna()),
            None,
            &[],
        )
        .await;
    assert_eq!(unlink.status, StatusCode::NO_CONTENT, "{}", unlink.body);
}

/// A new link code of `who` for Instagram, posted from Instagram account `from` as comment
/// `comment`; returns the code's status as the Mini App reads it afterwards.
async fn post_link_code(m: &MiniApp, who: &str, from: &str, comment: &str) -> serde_json::Value {
    let created = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(who),
            Some(json!({"network": "instagram"})),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let code = json_of(&created)["code"].as_str().unwrap().to_string();
    let body = instagram_comment(from, "shared_insta", comment, &format!("код {code}"));
    let signature = sign(&body, IG_APP_SECRET);
    assert_eq!(
        m.app.instagram(body, Some(&signature)).await.status,
        StatusCode::OK
    );
    m.get(&format!("/api/v1/app/links/{code}"), who).await.1
}

/// An account one member gave up is closed to every other member for the rules' cooldown
/// (a week by default), and the code that tried says so instead of "linked"; its last owner
/// takes it back at once, and an owned account is reported as taken.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_account_given_up_is_closed_to_others_for_the_cooldown_and_the_code_says_why(
    pool: PgPool,
) {
    let m = MiniApp::new(pool).await;
    let anna_member = m.sign_in(&anna()).await;
    let boris = init_data(&user(5_000_000_002, "Boris", "boris", "en"));
    let boris_member = m.sign_in(&boris).await;
    let account = ExternalIdentity::new(Network::Instagram, IG_BRAND, "9988776655");
    let linked = post_link_code(&m, &anna(), "9988776655", "17990000000000801").await;
    assert_eq!(linked["status"], "used");
    anna_unlinks_instagram(&m).await;
    let given_up = chrono::Utc::now();

    let events = m.app.event_count().await;
    let refused = post_link_code(&m, &boris, "9988776655", "17990000000000802").await;
    assert_eq!(refused["status"], "cooldown", "{refused}");
    let from: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(refused["linkable_from"].clone()).unwrap();
    let week = chrono::TimeDelta::days(7);
    assert!(
        from > given_up + week - chrono::TimeDelta::minutes(1) && from <= given_up + week,
        "linkable from {from}, given up at {given_up}"
    );
    assert_eq!(m.app.member_of(&account).await, None, "nobody got it");
    assert_eq!(m.app.event_count().await, events, "nothing was recorded");

    let back = post_link_code(&m, &anna(), "9988776655", "17990000000000803").await;
    assert_eq!(back["status"], "used", "its last owner takes it back");
    assert_eq!(m.app.member_of(&account).await, Some(anna_member));

    let taken = post_link_code(&m, &boris, "9988776655", "17990000000000804").await;
    assert_eq!(taken["status"], "taken", "{taken}");
    assert_eq!(taken["linkable_from"], serde_json::Value::Null);
    assert_eq!(m.app.member_of(&account).await, Some(anna_member));
    assert_ne!(anna_member, boris_member);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_cancelled_link_code_links_nothing(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    let created = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"network": "instagram"})),
            &[],
        )
        .await;
    let code = json_of(&created)["code"].as_str().unwrap().to_string();
    let cancelled = m
        .call(
            "DELETE",
            &format!("/api/v1/app/links/{code}"),
            Some(&anna()),
            None,
            &[],
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert_eq!(json_of(&cancelled)["status"], "cancelled");
    let twice = m
        .call(
            "DELETE",
            &format!("/api/v1/app/links/{code}"),
            Some(&anna()),
            None,
            &[],
        )
        .await;
    assert_eq!(json_of(&twice)["status"], "cancelled");

    let body = instagram_comment("9988776655", "anna_insta", "17990000000000778", &code);
    let signature = sign(&body, IG_APP_SECRET);
    assert_eq!(
        m.app.instagram(body, Some(&signature)).await.status,
        StatusCode::OK
    );
    let account = ExternalIdentity::new(Network::Instagram, IG_BRAND, "9988776655");
    assert_ne!(m.app.member_of(&account).await, Some(member));

    let telegram = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"network": "telegram"})),
            &[],
        )
        .await;
    assert_eq!(telegram.status, StatusCode::BAD_REQUEST);
    let bad_json = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"net": 1})),
            &[],
        )
        .await;
    assert_eq!(bad_json.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(&bad_json)["error"]["code"], "bad_request");
    for _ in 0..5 {
        m.call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"network": "vk"})),
            &[],
        )
        .await;
    }
    let flood = m
        .call(
            "POST",
            "/api/v1/app/links",
            Some(&anna()),
            Some(json!({"network": "vk"})),
            &[],
        )
        .await;
    assert_eq!(flood.status, StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn vk_id_links_the_account_the_provider_names(pool: PgPool) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/auth"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "vk-access", "refresh_token": "vk-refresh", "expires_in": 3600,
            "user_id": 715002999, "token_type": "Bearer"})))
        .mount(&provider)
        .await;
    let token_url = format!("{}/oauth2/auth", provider.uri());
    let authorize_url = format!("{}/authorize", provider.uri());
    let m = MiniApp::with_config(pool, |config| {
        config.vk.id_client_id = "54000001".into();
        config.vk.id_token_url = token_url;
        config.vk.id_authorize_url = authorize_url;
        config.http.public_url = "https://loyalty.example".into();
    })
    .await;
    let member = m.sign_in(&anna()).await;
    let (status, start) = m.get("/api/v1/app/links/vk-id/start", &anna()).await;
    assert_eq!(status, StatusCode::OK, "{start}");
    let url = reqwest::Url::parse(start["authorize_url"].as_str().unwrap()).unwrap();
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], "54000001");
    assert_eq!(
        query["redirect_uri"],
        "https://loyalty.example/api/v1/app/links/vk-id/callback"
    );
    assert_eq!(query["code_challenge_method"], "S256");
    let state = &query["state"];

    let callback =
        format!("/api/v1/app/links/vk-id/callback?code=c0de&state={state}&device_id=dev-1");
    let linked = m.call("GET", &callback, None, None, &[]).await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    assert!(linked.body.contains("VK account is linked"));
    let vk = ExternalIdentity::new(Network::Vk, "", "715002999");
    assert_eq!(m.app.member_of(&vk).await, Some(member));

    // The provider got the PKCE verifier whose S256 is the challenge sent to VK ID.
    let requests = provider.received_requests().await.unwrap();
    let body = String::from_utf8(requests[0].body.clone()).unwrap();
    let form: std::collections::HashMap<String, String> =
        reqwest::Url::parse(&format!("http://provider/?{body}"))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(form["code_verifier"].as_bytes()));
    assert_eq!(challenge, query["code_challenge"]);
    assert_eq!(form["device_id"], "dev-1");

    // A state works once; a made-up one never.
    let replay = m.call("GET", &callback, None, None, &[]).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    let forged = m
        .call(
            "GET",
            "/api/v1/app/links/vk-id/callback?code=c&state=nope&device_id=d",
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    m.drain().await;
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    let accounts = me["accounts"].as_array().unwrap();
    let vk_row = accounts.iter().find(|a| a["network"] == "vk").unwrap();
    assert_eq!(vk_row["method"], "oauth");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn vk_id_is_a_404_when_not_configured(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let (status, body) = m.get("/api/v1/app/links/vk-id/start", &anna()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}
