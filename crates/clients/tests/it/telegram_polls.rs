//! `sendPoll` against a fake Bot API: the body Telegram needs for `poll_answer` updates, what
//! is retried (flood control only) and what is refused before sending.

use std::time::Duration;

use clients::{ClientError, SentPoll};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{bot_path, fast_retry, paused_retry, requests, telegram, telegram_answer};

const GROUP: i64 = -1_002_233_445_566;

fn options(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn sent_poll(message_id: i64, poll_id: &str) -> serde_json::Value {
    json!({"ok": true, "result": {
        "message_id": message_id,
        "from": {"id": 7000000001_i64, "is_bot": true, "first_name": "Points"},
        "chat": {"id": GROUP, "type": "supergroup", "title": "Brand club"},
        "date": 1767000000,
        "poll": {"id": poll_id, "question": "Какой вкус?", "options": [
            {"text": "Вишня", "voter_count": 0}, {"text": "Лайм", "voter_count": 0}],
            "total_voter_count": 0, "is_closed": false, "is_anonymous": false,
            "type": "regular", "allows_multiple_answers": false}
    }})
}

#[tokio::test]
async fn send_poll_is_non_anonymous_and_returns_the_poll_id() {
    let server = MockServer::start().await;
    let expected = json!({
        "chat_id": GROUP,
        "question": "Какой вкус?",
        "options": [{"text": "Вишня"}, {"text": "Лайм"}],
        "is_anonymous": false
    });
    Mock::given(method("POST"))
        .and(path(bot_path("sendPoll")))
        .and(body_json(expected))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(sent_poll(77, "5210000000000000001")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sent = telegram(&server, fast_retry())
        .send_poll(GROUP, "Какой вкус?", &options(&["Вишня", "Лайм"]))
        .await;
    assert_eq!(
        sent,
        Ok(SentPoll {
            poll_id: "5210000000000000001".into(),
            message_id: 77,
            chat_id: GROUP,
        })
    );
}

#[tokio::test(start_paused = true)]
async fn flood_control_waits_retry_after_then_sends_once() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("sendPoll")))
        .respond_with(telegram_answer("telegram/api/error_too_many_requests.json"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(bot_path("sendPoll")))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent_poll(78, "p-78")))
        .mount(&server)
        .await;
    let started = tokio::time::Instant::now();
    let sent = telegram(&server, paused_retry())
        .send_poll(GROUP, "Q?", &options(&["a", "b"]))
        .await;
    assert_eq!(sent.map(|p| p.poll_id), Ok("p-78".to_owned()));
    assert!(started.elapsed() >= Duration::from_secs(7));
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_server_error_is_not_retried_because_the_poll_may_be_posted() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("sendPoll")))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .mount(&server)
        .await;
    let sent = telegram(&server, fast_retry())
        .send_poll(GROUP, "Q?", &options(&["a", "b"]))
        .await;
    assert_eq!(sent, Err(ClientError::Status { status: 502 }));
    assert_eq!(requests(&server).await.len(), 1, "one poll at most");
}

#[tokio::test]
async fn an_answer_without_a_poll_is_malformed() {
    let server = MockServer::start().await;
    let mut answer = sent_poll(79, "x");
    answer["result"].as_object_mut().unwrap().remove("poll");
    Mock::given(path(bot_path("sendPoll")))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    let sent = telegram(&server, fast_retry())
        .send_poll(GROUP, "Q?", &options(&["a", "b"]))
        .await;
    assert!(matches!(sent, Err(ClientError::Malformed(_))), "{sent:?}");
}

#[tokio::test]
async fn bad_questions_and_options_are_refused_before_sending() {
    let server = MockServer::start().await;
    let api = telegram(&server, fast_retry());
    let long_option = "x".repeat(101);
    let eleven: Vec<String> = (0..11).map(|i| i.to_string()).collect();
    let cases: Vec<(String, Vec<String>)> = vec![
        (String::new(), options(&["a", "b"])),
        ("  ".into(), options(&["a", "b"])),
        ("q".repeat(301), options(&["a", "b"])),
        ("Q?".into(), options(&["only one"])),
        ("Q?".into(), eleven),
        ("Q?".into(), vec!["a".into(), " ".into()]),
        ("Q?".into(), vec!["a".into(), long_option]),
    ];
    for (question, opts) in cases {
        let result = api.send_poll(GROUP, &question, &opts).await;
        assert!(
            matches!(result, Err(ClientError::InvalidInput(_))),
            "{question:?} {opts:?}: {result:?}"
        );
    }
    assert!(requests(&server).await.is_empty());
}
