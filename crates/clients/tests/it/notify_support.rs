//! Notifier test helpers: a fake `sendMessage`, start-up, and report collection.
//!
//! Timing is asserted on `Report::issued_at` (taken when the request is sent), never on
//! when the fake answered: a paused clock jumps ahead while sockets are waited on.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use clients::{Enqueued, Notifier, NotifierConfig, Outcome, Report};
use serde_json::json;
use tokio::sync::mpsc::Receiver;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{bot_path, paused_retry, requests, telegram};

pub const SECOND: Duration = Duration::from_secs(1);

/// `sendMessage` answers with message ids 1, 2, 3…
pub struct Sent(pub AtomicI64);

impl Respond for Sent {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let id = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": {
            "message_id": id, "date": 1767000000, "chat": {"id": 1, "type": "private"}
        }}))
    }
}

pub async fn fake_bot() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(bot_path("sendMessage")))
        .respond_with(Sent(AtomicI64::new(0)))
        .mount(&server)
        .await;
    server
}

/// No coalescing, one line per message: isolates the rate limits.
pub fn one_by_one() -> NotifierConfig {
    NotifierConfig {
        coalesce_window: Duration::ZERO,
        max_batch_items: 1,
        ..NotifierConfig::default()
    }
}

pub fn start(server: &MockServer, config: NotifierConfig) -> (Notifier, Receiver<Report>) {
    let api = telegram(server, paused_retry());
    let (notifier, reports, _worker) = Notifier::spawn(api, config);
    (notifier, reports)
}

pub fn queue(notifier: &Notifier, chat_id: i64, text: &str, key: &str) {
    assert_eq!(
        notifier.enqueue(chat_id, text, key),
        Ok(Enqueued::Queued),
        "{key}"
    );
}

pub async fn collect(reports: &mut Receiver<Report>, n: usize) -> Vec<Report> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match reports.recv().await {
            Some(report) => out.push(report),
            None => panic!("notifier stopped after {} reports", out.len()),
        }
    }
    out
}

pub async fn sent_texts(server: &MockServer) -> Vec<(i64, String)> {
    requests(server)
        .await
        .iter()
        .filter_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .map(|body| {
            let chat = body["chat_id"].as_i64().unwrap_or_default();
            (chat, body["text"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

pub fn message_id(report: &Report) -> i64 {
    match &report.outcome {
        Outcome::Delivered { message_id } => *message_id,
        Outcome::Failed(error) => panic!("{} failed: {error}", report.key),
    }
}
