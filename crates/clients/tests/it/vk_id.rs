//! VK ID authorization code + PKCE against a fake provider.

use clients::vk::code_challenge;
use clients::{ClientError, PendingLink, VkIdCallback, VkIdOAuth};
use secrecy::ExposeSecret;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{ANNA_VK, requests};

const CLIENT_ID: &str = "51990000";
const REDIRECT: &str = "https://points.example.com/link/vk/callback";
const STATE: &str = "st-Qm9vX2xpbmtfc3RhdGVfMTIzNDU2Nzg5MA";
/// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn pending() -> PendingLink {
    PendingLink::restore(STATE, VERIFIER).expect("valid link")
}

fn callback(state: &str) -> VkIdCallback {
    VkIdCallback {
        code: "vk2.a.fake-authorization-code".into(),
        state: state.into(),
        device_id: "device-7f3a".into(),
    }
}

fn oauth(server: &MockServer) -> VkIdOAuth {
    VkIdOAuth::new(CLIENT_ID, REDIRECT)
        .expect("client")
        .with_endpoints(
            format!("{}/authorize", server.uri()),
            format!("{}/oauth2/auth", server.uri()),
        )
}

fn tokens_json(state: &str) -> serde_json::Value {
    serde_json::json!({
        "refresh_token": "vk2.r.fake-refresh",
        "access_token": "vk2.a.fake-access",
        "id_token": "eyJ.fake.jwt",
        "token_type": "Bearer",
        "expires_in": 3600,
        "user_id": ANNA_VK,
        "state": state,
        "scope": "vkid.personal_info"
    })
}

#[test]
fn the_challenge_is_s256_of_the_verifier() {
    assert_eq!(code_challenge(VERIFIER), CHALLENGE);
}

#[test]
fn authorize_url_carries_state_and_challenge() {
    let oauth = VkIdOAuth::new(CLIENT_ID, REDIRECT).expect("client");
    let url = oauth.authorize_url(&pending()).expect("url");
    let url = reqwest::Url::parse(&url).expect("parses");
    assert_eq!(url.host_str(), Some("id.vk.com"));
    assert_eq!(url.path(), "/authorize");
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], REDIRECT);
    assert_eq!(query["state"], STATE);
    assert_eq!(query["code_challenge"], CHALLENGE);
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["scope"], "vkid.personal_info");
    assert!(
        !query.values().any(|v| v == VERIFIER),
        "verifier never leaves the server"
    );
}

#[test]
fn generated_links_are_random_and_well_formed() {
    let a = PendingLink::generate().expect("random");
    let b = PendingLink::generate().expect("random");
    assert_ne!(a.state(), b.state());
    assert_ne!(
        a.code_verifier().expose_secret(),
        b.code_verifier().expose_secret()
    );
    let verifier = a.code_verifier().expose_secret();
    assert!((43..=128).contains(&verifier.len()));
    assert!(PendingLink::restore(a.state(), verifier).is_ok());
    assert!(!format!("{a:?}").contains(verifier));
}

#[test]
fn restore_refuses_a_bad_verifier() {
    assert!(PendingLink::restore(STATE, "short").is_err());
    assert!(PendingLink::restore(STATE, "x".repeat(129)).is_err());
    assert!(PendingLink::restore(STATE, format!("{VERIFIER}+")).is_err());
    assert!(PendingLink::restore("", VERIFIER).is_err());
}

#[test]
fn the_caller_helper_rejects_a_foreign_state() {
    assert_eq!(pending().check_state(STATE), Ok(()));
    assert_eq!(
        pending().check_state("st-other"),
        Err(ClientError::StateMismatch)
    );
    assert_eq!(pending().check_state(""), Err(ClientError::StateMismatch));
}

#[tokio::test]
async fn a_good_code_links_the_vk_user_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/auth"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=vk2.a.fake-authorization-code"))
        .and(body_string_contains(format!("code_verifier={VERIFIER}")))
        .and(body_string_contains(format!("client_id={CLIENT_ID}")))
        .and(body_string_contains("device_id=device-7f3a"))
        .and(body_string_contains(format!("state={STATE}")))
        .and(body_string_contains(
            "redirect_uri=https%3A%2F%2Fpoints.example.com%2Flink%2Fvk%2Fcallback",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens_json(STATE)))
        .expect(1)
        .mount(&server)
        .await;
    let tokens = oauth(&server)
        .exchange_code(&pending(), &callback(STATE))
        .await
        .expect("tokens");
    assert_eq!(tokens.user_id, ANNA_VK);
    assert_eq!(tokens.access_token.expose_secret(), "vk2.a.fake-access");
    assert_eq!(tokens.expires_in_secs, Some(3600));
    let printed = format!("{tokens:?}");
    assert!(!printed.contains("fake-access") && !printed.contains("fake-refresh"));
}

#[tokio::test]
async fn a_user_id_sent_as_text_is_accepted() {
    let server = MockServer::start().await;
    let mut body = tokens_json(STATE);
    body["user_id"] = serde_json::json!(ANNA_VK.to_string());
    Mock::given(path("/oauth2/auth"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let tokens = oauth(&server)
        .exchange_code(&pending(), &callback(STATE))
        .await;
    assert_eq!(tokens.map(|t| t.user_id), Ok(ANNA_VK));
}

#[tokio::test]
async fn a_bad_code_is_an_oauth_error() {
    let server = MockServer::start().await;
    let refusal = serde_json::json!({
        "error": "invalid_grant",
        "error_description": "code is invalid or expired",
        "state": STATE
    });
    Mock::given(path("/oauth2/auth"))
        .respond_with(ResponseTemplate::new(400).set_body_json(refusal))
        .expect(1)
        .mount(&server)
        .await;
    let result = oauth(&server)
        .exchange_code(&pending(), &callback(STATE))
        .await;
    assert_eq!(
        result.err(),
        Some(ClientError::OAuth {
            error: "invalid_grant".into(),
            description: "code is invalid or expired".into()
        })
    );
}

#[tokio::test]
async fn a_wrong_state_is_rejected_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth2/auth"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens_json(STATE)))
        .expect(0)
        .mount(&server)
        .await;
    let result = oauth(&server)
        .exchange_code(&pending(), &callback("st-forged"))
        .await;
    assert_eq!(result.err(), Some(ClientError::StateMismatch));
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn an_answer_for_another_state_is_rejected() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth2/auth"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens_json("st-someone-else")))
        .mount(&server)
        .await;
    let result = oauth(&server)
        .exchange_code(&pending(), &callback(STATE))
        .await;
    assert_eq!(result.err(), Some(ClientError::StateMismatch));
}

#[tokio::test]
async fn an_answer_without_user_id_is_malformed() {
    let server = MockServer::start().await;
    let mut body = tokens_json(STATE);
    body["user_id"] = serde_json::json!(0);
    Mock::given(path("/oauth2/auth"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let result = oauth(&server)
        .exchange_code(&pending(), &callback(STATE))
        .await;
    assert!(
        matches!(result, Err(ClientError::Malformed(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_provider_outage_is_a_status_error_tried_once() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth2/auth"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let result = oauth(&server)
        .exchange_code(&pending(), &callback(STATE))
        .await;
    assert_eq!(result.err(), Some(ClientError::Status { status: 503 }));
    // The code is single-use: no automatic retry.
    assert_eq!(requests(&server).await.len(), 1);
}
