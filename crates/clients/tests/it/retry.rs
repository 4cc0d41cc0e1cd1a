//! The shared retry policy: what is retried, how long it waits, when it stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use clients::{ClientError, Jitter, RetryPolicy};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    ANNA_TG, CHANNEL, bot_path, closed_port_url, fast_retry, requests, telegram, telegram_answer,
};

fn policy(jitter: Jitter) -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(1000),
        max_retry_after: Duration::from_secs(30),
        request_timeout: None,
        jitter,
    }
}

#[test]
fn backoff_doubles_up_to_the_cap_with_equal_jitter() {
    let full = policy(Jitter::fixed(1.0));
    let ms = |retry| full.backoff(retry).as_millis();
    assert_eq!(
        [ms(1), ms(2), ms(3), ms(4), ms(5)],
        [100, 200, 400, 800, 1000]
    );
    let none = policy(Jitter::fixed(0.0));
    assert_eq!(
        none.backoff(1),
        Duration::from_millis(50),
        "never less than half"
    );
    let wild = policy(Jitter::from_fn(|| f64::NAN));
    assert_eq!(wild.backoff(1), Duration::from_millis(100));
    assert_eq!(
        full.backoff(u32::MAX),
        Duration::from_millis(1000),
        "no overflow"
    );
}

#[test]
fn random_jitter_stays_within_half_and_full() {
    let random = policy(Jitter::random());
    for _ in 0..200 {
        let delay = random.backoff(3);
        assert!(delay >= Duration::from_millis(200) && delay <= Duration::from_millis(400));
    }
}

#[test]
fn only_retryable_failures_get_a_delay() {
    let p = policy(Jitter::fixed(1.0));
    let retryable = [
        ClientError::Timeout,
        ClientError::Network("reset".into()),
        ClientError::Status { status: 502 },
        ClientError::Status { status: 429 },
        ClientError::Telegram {
            code: 500,
            description: String::new(),
        },
        ClientError::Vk {
            code: 6,
            message: String::new(),
        },
        ClientError::Vk {
            code: 10,
            message: String::new(),
        },
    ];
    for error in retryable {
        assert_eq!(
            p.delay_after(&error, 1),
            Some(Duration::from_millis(100)),
            "{error}"
        );
    }
    let final_errors = [
        ClientError::Malformed("x".into()),
        ClientError::ChatNotFound,
        ClientError::Forbidden {
            description: String::new(),
        },
        ClientError::Status { status: 404 },
        ClientError::Telegram {
            code: 400,
            description: String::new(),
        },
        ClientError::Vk {
            code: 15,
            message: String::new(),
        },
        ClientError::OAuth {
            error: "invalid_grant".into(),
            description: String::new(),
        },
        ClientError::StateMismatch,
        ClientError::InvalidInput("x"),
    ];
    for error in final_errors {
        assert_eq!(p.delay_after(&error, 1), None, "{error}");
    }
}

#[test]
fn retry_after_is_honoured_up_to_its_cap() {
    let p = policy(Jitter::fixed(1.0));
    let wait = |secs| ClientError::TooManyRequests {
        retry_after: Duration::from_secs(secs),
    };
    assert_eq!(p.delay_after(&wait(7), 1), Some(Duration::from_secs(7)));
    assert_eq!(p.delay_after(&wait(31), 1), None);
    assert_eq!(p.delay_after(&wait(7), 6), None, "attempts exhausted");
}

#[tokio::test(start_paused = true)]
async fn run_sleeps_exactly_the_backoffs_then_gives_up() {
    let p = policy(Jitter::fixed(1.0));
    let calls = Arc::new(AtomicU32::new(0));
    let started = tokio::time::Instant::now();
    let result: Result<(), _> = p
        .run(|| {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(ClientError::Timeout)
            }
        })
        .await;
    assert_eq!(result, Err(ClientError::Timeout));
    assert_eq!(calls.load(Ordering::SeqCst), 6);
    // 100 + 200 + 400 + 800 + 1000 ms between six attempts.
    assert_eq!(started.elapsed(), Duration::from_millis(2500));
}

#[tokio::test(start_paused = true)]
async fn run_returns_the_first_success_and_stops_on_a_final_error() {
    let p = policy(Jitter::fixed(1.0));
    let calls = Arc::new(AtomicU32::new(0));
    let result = p
        .run(|| {
            let calls = calls.clone();
            async move {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(ClientError::Status { status: 503 }),
                    _ => Ok("done"),
                }
            }
        })
        .await;
    assert_eq!(result, Ok("done"));
    let calls = Arc::new(AtomicU32::new(0));
    let result: Result<(), _> = p
        .run(|| {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(ClientError::ChatNotFound)
            }
        })
        .await;
    assert_eq!(result, Err(ClientError::ChatNotFound));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_slow_server_times_out_per_request() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("getChatMember")))
        .respond_with(
            telegram_answer("telegram/api/getChatMember_member.json")
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let p = RetryPolicy {
        max_attempts: 2,
        request_timeout: Some(Duration::from_millis(150)),
        ..fast_retry()
    };
    let result = telegram(&server, p).get_chat_member(CHANNEL, ANNA_TG).await;
    assert_eq!(result, Err(ClientError::Timeout));
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_gateway_error_page_is_retried() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("getChatMember")))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(bot_path("getChatMember")))
        .respond_with(telegram_answer("telegram/api/getChatMember_member.json"))
        .mount(&server)
        .await;
    let result = telegram(&server, fast_retry())
        .get_chat_member(CHANNEL, ANNA_TG)
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    let api = clients::TelegramApi::new(crate::support::BOT_TOKEN)
        .expect("token")
        .with_base_url(closed_port_url())
        .with_retry(fast_retry());
    let result = api.get_chat_member(CHANNEL, ANNA_TG).await;
    assert!(matches!(result, Err(ClientError::Network(_))), "{result:?}");
}
