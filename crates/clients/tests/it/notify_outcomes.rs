//! How each notification ends: 429 `retry_after` honoured per chat or for all, the queue
//! bound, skipped and duplicate keys, final errors, exhausted retries, shutdown.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use clients::{
    ClientError, EnqueueError, Enqueued, NotificationKey, Notifier, NotifierConfig, Outcome,
    RetryPolicy,
};
use serde_json::json;
use tokio::time::Instant;
use wiremock::matchers::{body_partial_json, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::notify_support::{
    Sent, collect, fake_bot, message_id, one_by_one, queue, sent_texts, start,
};
use crate::support::{
    ANNA_TG, BORIS_TG, bot_path, paused_retry, requests, telegram, telegram_answer,
};

#[tokio::test(start_paused = true)]
async fn retry_after_pauses_only_that_chat() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("sendMessage")))
        .and(body_partial_json(json!({"chat_id": ANNA_TG})))
        .respond_with(telegram_answer("telegram/api/error_too_many_requests.json"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(bot_path("sendMessage")))
        .respond_with(Sent(AtomicI64::new(0)))
        .mount(&server)
        .await;
    let (notifier, mut reports) = start(&server, one_by_one());
    let t0 = Instant::now();
    queue(&notifier, ANNA_TG, "for Anna", "anna");
    queue(&notifier, BORIS_TG, "for Boris", "boris");
    let reports = collect(&mut reports, 2).await;
    let anna = reports.iter().find(|r| r.chat_id == ANNA_TG).expect("anna");
    let boris = reports
        .iter()
        .find(|r| r.chat_id == BORIS_TG)
        .expect("boris");
    message_id(anna);
    assert_eq!(anna.attempts, 2);
    assert!(
        anna.issued_at >= t0 + Duration::from_secs(7),
        "{:?}",
        anna.issued_at - t0
    );
    assert_eq!(
        (boris.attempts, boris.issued_at),
        (1, t0),
        "Boris was not held up"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_can_pause_every_chat() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("sendMessage")))
        .respond_with(telegram_answer("telegram/api/error_too_many_requests.json"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(bot_path("sendMessage")))
        .respond_with(Sent(AtomicI64::new(0)))
        .mount(&server)
        .await;
    let config = NotifierConfig {
        pause_all_on_429: true,
        ..one_by_one()
    };
    let (notifier, mut reports) = start(&server, config);
    let t0 = Instant::now();
    queue(&notifier, ANNA_TG, "for Anna", "anna");
    // Wait until Anna's 429 has been settled, then offer Boris's message.
    while requests(&server).await.is_empty() || notifier.stats().in_flight > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    queue(&notifier, BORIS_TG, "for Boris", "boris");
    let reports = collect(&mut reports, 2).await;
    for report in &reports {
        message_id(report);
        assert!(
            report.issued_at >= t0 + Duration::from_secs(7),
            "{}",
            report.key
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_rejects_and_counts() {
    let server = fake_bot().await;
    let config = NotifierConfig {
        capacity: 3,
        ..one_by_one()
    };
    let (notifier, mut reports) = start(&server, config);
    for chat in 1..=3 {
        queue(&notifier, chat, "hi", &format!("k{chat}"));
    }
    for chat in 4..=5 {
        let refused = notifier.enqueue(chat, "hi", format!("k{chat}"));
        assert_eq!(refused, Err(EnqueueError::Full { capacity: 3 }));
    }
    assert_eq!(notifier.stats().rejected_full, 2);
    assert_eq!(collect(&mut reports, 3).await.len(), 3);
    queue(&notifier, 4, "hi", "k4");
    collect(&mut reports, 1).await;
    let stats = notifier.stats();
    assert_eq!(
        (stats.delivered, stats.queued, stats.rejected_full),
        (4, 0, 2)
    );
}

#[tokio::test(start_paused = true)]
async fn delivered_keys_are_skipped_and_queued_keys_deduplicated() {
    let server = fake_bot().await;
    let config = NotifierConfig {
        already_delivered: Some(Arc::new(|key: &NotificationKey| key.as_str() == "award:1")),
        ..one_by_one()
    };
    let (notifier, mut reports) = start(&server, config);
    assert_eq!(
        notifier.enqueue(ANNA_TG, "+10", "award:1"),
        Ok(Enqueued::AlreadyDelivered)
    );
    assert_eq!(
        notifier.enqueue(ANNA_TG, "+20", "award:2"),
        Ok(Enqueued::Queued)
    );
    assert_eq!(
        notifier.enqueue(ANNA_TG, "+20", "award:2"),
        Ok(Enqueued::AlreadyQueued)
    );
    let reports = collect(&mut reports, 1).await;
    assert_eq!(reports[0].key.as_str(), "award:2");
    assert_eq!(sent_texts(&server).await, [(ANNA_TG, "+20".to_owned())]);
    assert_eq!(notifier.stats().skipped_delivered, 1);
}

#[tokio::test(start_paused = true)]
async fn final_errors_are_reported_once_without_retry() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("sendMessage")))
        .and(body_partial_json(json!({"chat_id": 42})))
        .respond_with(telegram_answer("telegram/api/error_chat_not_found.json"))
        .mount(&server)
        .await;
    let blocked = json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"});
    Mock::given(path(bot_path("sendMessage")))
        .and(body_partial_json(json!({"chat_id": BORIS_TG})))
        .respond_with(ResponseTemplate::new(403).set_body_json(blocked))
        .mount(&server)
        .await;
    let (notifier, mut reports) = start(&server, one_by_one());
    queue(&notifier, 42, "hello", "gone");
    queue(&notifier, BORIS_TG, "hello", "blocked");
    let mut reports = collect(&mut reports, 2).await;
    reports.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        reports[0].outcome,
        Outcome::Failed(ClientError::Forbidden {
            description: "Forbidden: bot was blocked by the user".into()
        })
    );
    assert_eq!(
        reports[1].outcome,
        Outcome::Failed(ClientError::ChatNotFound)
    );
    assert!(reports.iter().all(|r| r.attempts == 1));
    assert_eq!(requests(&server).await.len(), 2);
    assert_eq!(notifier.stats().failed, 2);
}

#[tokio::test(start_paused = true)]
async fn server_errors_back_off_until_attempts_run_out() {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("sendMessage")))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .mount(&server)
        .await;
    let api = telegram(
        &server,
        RetryPolicy {
            max_attempts: 3,
            ..paused_retry()
        },
    );
    let (notifier, mut reports, _worker) = Notifier::spawn(api, one_by_one());
    queue(&notifier, ANNA_TG, "hello", "k");
    let reports = collect(&mut reports, 1).await;
    assert_eq!(
        reports[0].outcome,
        Outcome::Failed(ClientError::Status { status: 502 })
    );
    assert_eq!(reports[0].attempts, 3);
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn shutdown_refuses_new_work_and_ends_the_worker() {
    let server = fake_bot().await;
    let api = telegram(&server, paused_retry());
    let (notifier, _reports, worker) = Notifier::spawn(api, one_by_one());
    assert_eq!(
        notifier.enqueue(ANNA_TG, "x".repeat(4097), "long"),
        Err(EnqueueError::InvalidText)
    );
    notifier.shutdown();
    assert_eq!(
        notifier.enqueue(ANNA_TG, "hi", "k"),
        Err(EnqueueError::Closed)
    );
    assert!(worker.await.is_ok());
}
