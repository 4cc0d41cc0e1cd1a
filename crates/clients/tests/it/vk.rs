//! `groups.isMember` against a fake VK API serving `vk/api/` fixtures.

use std::time::Duration;

use clients::{ClientError, VkMembership};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    ANNA_VK, BORIS_VK, VK_GROUP, VK_TOKEN, fast_retry, json_body, paused_retry, requests, vk,
};

pub const EXERCISED: &[&str] = &[
    "groups.isMember_member.json",
    "groups.isMember_not_member.json",
    "groups.isMember_extended_request.json",
    "groups.isMember_batch.json",
    "error_too_many_requests.json",
    "users.get.json",
];

const IS_MEMBER: &str = "/method/groups.isMember";

async fn serve(fixture: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(IS_MEMBER))
        .respond_with(json_body(&format!("vk/api/{fixture}")))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_member_is_a_member() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(IS_MEMBER))
        .and(header(
            "authorization",
            format!("Bearer {VK_TOKEN}").as_str(),
        ))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains(format!("group_id={VK_GROUP}")))
        .and(body_string_contains(format!("user_id={ANNA_VK}")))
        .and(body_string_contains("v=5.199"))
        .respond_with(json_body("vk/api/groups.isMember_member.json"))
        .expect(1)
        .mount(&server)
        .await;
    let api = vk(&server, fast_retry());
    assert_eq!(api.is_member(VK_GROUP, ANNA_VK).await, Ok(true));
    // The token travels in the header only, never in the logged form body.
    let body = String::from_utf8_lossy(&requests(&server).await[0].body).into_owned();
    assert!(!body.contains(VK_TOKEN), "{body}");
}

#[tokio::test]
async fn a_non_member_is_not() {
    let server = serve("groups.isMember_not_member.json").await;
    assert_eq!(
        vk(&server, fast_retry())
            .is_member(VK_GROUP, BORIS_VK)
            .await,
        Ok(false)
    );
}

#[tokio::test]
async fn a_pending_join_request_is_not_membership() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(IS_MEMBER))
        .and(body_string_contains("extended=1"))
        .respond_with(json_body("vk/api/groups.isMember_extended_request.json"))
        .expect(1)
        .mount(&server)
        .await;
    let membership = vk(&server, fast_retry())
        .membership(VK_GROUP, BORIS_VK)
        .await;
    assert_eq!(
        membership,
        Ok(VkMembership {
            member: false,
            request: true,
            invitation: false
        })
    );
}

#[tokio::test]
async fn a_batch_answers_in_the_order_asked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(IS_MEMBER))
        .and(body_string_contains(format!(
            "user_ids={BORIS_VK}%2C{ANNA_VK}"
        )))
        .respond_with(json_body("vk/api/groups.isMember_batch.json"))
        .expect(1)
        .mount(&server)
        .await;
    let answers = vk(&server, fast_retry())
        .are_members(VK_GROUP, &[BORIS_VK, ANNA_VK])
        .await;
    assert_eq!(answers, Ok(vec![(BORIS_VK, false), (ANNA_VK, true)]));
}

#[tokio::test]
async fn batches_are_split_at_500_and_strangers_ignored() {
    let server = serve("groups.isMember_batch.json").await;
    let mut ids = vec![ANNA_VK, BORIS_VK];
    ids.extend(1..=999);
    let answers = vk(&server, fast_retry())
        .with_rate_limit(20, Duration::from_secs(1))
        .are_members(VK_GROUP, &ids)
        .await;
    // Chunks 2 and 3 get answers about users they did not ask for: ignored, not guessed.
    assert_eq!(answers, Ok(vec![(ANNA_VK, true), (BORIS_VK, false)]));
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3);
    for request in sent {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let ids = body
            .split('&')
            .find_map(|pair| pair.strip_prefix("user_ids="))
            .unwrap_or_default();
        assert!(
            ids.split("%2C").count() <= 500,
            "{} ids",
            ids.split("%2C").count()
        );
    }
}

#[tokio::test]
async fn no_ids_no_request() {
    let server = MockServer::start().await;
    let answers = vk(&server, fast_retry()).are_members(VK_GROUP, &[]).await;
    assert_eq!(answers, Ok(vec![]));
    assert!(requests(&server).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn error_6_is_retried_after_a_backoff() {
    let server = MockServer::start().await;
    Mock::given(path(IS_MEMBER))
        .respond_with(json_body("vk/api/error_too_many_requests.json"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(IS_MEMBER))
        .respond_with(json_body("vk/api/groups.isMember_member.json"))
        .mount(&server)
        .await;
    let started = tokio::time::Instant::now();
    let api = vk(&server, paused_retry());
    assert_eq!(api.is_member(VK_GROUP, ANNA_VK).await, Ok(true));
    assert_eq!(requests(&server).await.len(), 2);
    assert!(started.elapsed() >= paused_retry().backoff(1));
}

#[tokio::test(start_paused = true)]
async fn error_6_gives_up_after_max_attempts() {
    let server = serve("error_too_many_requests.json").await;
    let result = vk(&server, paused_retry())
        .is_member(VK_GROUP, ANNA_VK)
        .await;
    assert_eq!(
        result,
        Err(ClientError::Vk {
            code: 6,
            message: "Too many requests per second".into()
        })
    );
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn other_vk_errors_are_typed_and_final() {
    let server = MockServer::start().await;
    let body = r#"{"error":{"error_code":15,"error_msg":"Access denied: no access to this group","request_params":[]}}"#;
    Mock::given(path(IS_MEMBER))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(&server)
        .await;
    let result = vk(&server, fast_retry()).is_member(VK_GROUP, ANNA_VK).await;
    assert!(
        matches!(result, Err(ClientError::Vk { code: 15, .. })),
        "{result:?}"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn internal_error_10_is_retried() {
    let server = MockServer::start().await;
    let body = r#"{"error":{"error_code":10,"error_msg":"Internal server error"}}"#;
    Mock::given(path(IS_MEMBER))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(IS_MEMBER))
        .respond_with(json_body("vk/api/groups.isMember_not_member.json"))
        .mount(&server)
        .await;
    assert_eq!(
        vk(&server, fast_retry())
            .is_member(VK_GROUP, BORIS_VK)
            .await,
        Ok(false)
    );
}

#[tokio::test(start_paused = true)]
async fn three_requests_a_second_per_token() {
    let server = serve("groups.isMember_member.json").await;
    let api = vk(&server, paused_retry());
    let started = tokio::time::Instant::now();
    // Seven concurrent calls through clones: they share one limiter, as VK counts per token.
    let calls: Vec<_> = (0..7)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move { api.is_member(VK_GROUP, ANNA_VK).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.ok(), Some(Ok(true)));
    }
    // 3 at once, 3 a second later, the 7th two seconds in.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn users_get_gives_names_and_chosen_short_addresses_only() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/method/users.get"))
        .and(body_string_contains(
            "user_ids=743784474%2C743784475%2C743784476",
        ))
        .and(body_string_contains("fields=screen_name"))
        .respond_with(json_body("vk/api/users.get.json"))
        .expect(1)
        .mount(&server)
        .await;
    let users = vk(&server, fast_retry())
        .users(&[743_784_474, 743_784_475, 743_784_476])
        .await
        .unwrap();
    let seen: Vec<(i64, Option<String>, Option<&str>)> = users
        .iter()
        .map(|u| (u.id, u.full_name(), u.handle()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (743_784_474, Some("Анна Смирнова".into()), Some("anna_runs")),
            (743_784_475, Some("Борис Иванов".into()), None),
            (743_784_476, None, None),
        ],
        "id<N> is no chosen address; a deleted profile has no name"
    );
}

#[tokio::test]
async fn users_get_asks_at_most_a_thousand_ids_a_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/method/users.get"))
        .respond_with(json_body("vk/api/users.get.json"))
        .expect(2)
        .mount(&server)
        .await;
    let ids: Vec<i64> = (743_784_000..743_785_001).collect();
    let users = vk(&server, fast_retry()).users(&ids).await.unwrap();
    // Each call answers the fixture's three, all within the first thousand.
    assert_eq!(users.len(), 3);
    let calls = requests(&server).await;
    let asked = |i: usize| {
        String::from_utf8_lossy(&calls[i].body)
            .matches("%2C")
            .count()
            + 1
    };
    assert_eq!((asked(0), asked(1)), (1_000, 1));
}
