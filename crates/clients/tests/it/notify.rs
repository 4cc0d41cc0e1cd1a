//! The notifier's pace on a paused clock: coalescing, one message per chat per second,
//! thirty a second overall, and splitting bursts into messages that fit.

use std::time::Duration;

use clients::NotifierConfig;
use tokio::time::Instant;

use crate::notify_support::{
    SECOND, collect, fake_bot, message_id, one_by_one, queue, sent_texts, start,
};
use crate::support::{ANNA_TG, requests};

#[tokio::test(start_paused = true)]
async fn a_burst_of_five_awards_becomes_one_message() {
    let server = fake_bot().await;
    let window = Duration::from_secs(2);
    let config = NotifierConfig {
        coalesce_window: window,
        ..NotifierConfig::default()
    };
    let (notifier, mut reports) = start(&server, config);
    let t0 = Instant::now();
    for i in 1..=5 {
        queue(
            &notifier,
            ANNA_TG,
            &format!("+10 points: comment {i}"),
            &format!("award:{i}"),
        );
    }
    let reports = collect(&mut reports, 5).await;
    assert!(
        reports
            .iter()
            .all(|r| message_id(r) == message_id(&reports[0]))
    );
    assert!(
        reports
            .iter()
            .all(|r| r.issued_at >= t0 + window && r.attempts == 1)
    );
    let keys: Vec<_> = reports.iter().map(|r| r.key.as_str().to_owned()).collect();
    assert_eq!(
        keys,
        ["award:1", "award:2", "award:3", "award:4", "award:5"]
    );
    let expected = (1..=5)
        .map(|i| format!("+10 points: comment {i}"))
        .collect::<Vec<_>>();
    assert_eq!(sent_texts(&server).await, [(ANNA_TG, expected.join("\n"))]);
}

#[tokio::test(start_paused = true)]
async fn one_message_per_chat_per_second() {
    let server = fake_bot().await;
    let (notifier, mut reports) = start(&server, one_by_one());
    for i in 1..=4 {
        queue(&notifier, ANNA_TG, &format!("line {i}"), &format!("k{i}"));
    }
    let reports = collect(&mut reports, 4).await;
    let issued: Vec<Instant> = reports.iter().map(|r| r.issued_at).collect();
    for pair in issued.windows(2) {
        assert!(pair[1] - pair[0] >= SECOND, "{:?}", pair[1] - pair[0]);
    }
    let texts: Vec<_> = sent_texts(&server)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        texts,
        ["line 1", "line 2", "line 3", "line 4"],
        "order kept"
    );
}

#[tokio::test(start_paused = true)]
async fn at_most_thirty_messages_in_any_second() {
    let server = fake_bot().await;
    let config = NotifierConfig {
        max_in_flight: 100,
        ..one_by_one()
    };
    let (notifier, mut reports) = start(&server, config);
    let t0 = Instant::now();
    for chat in 1..=90 {
        queue(&notifier, chat, "Your balance changed", &format!("k{chat}"));
    }
    let reports = collect(&mut reports, 90).await;
    let mut issued: Vec<Instant> = reports.iter().map(|r| r.issued_at).collect();
    issued.sort();
    for window in issued.windows(31) {
        assert!(
            window[30] - window[0] >= SECOND,
            "31 sends within {:?}",
            window[30] - window[0]
        );
    }
    assert_eq!(
        issued.iter().filter(|at| **at == t0).count(),
        30,
        "a full burst at once"
    );
    assert_eq!(requests(&server).await.len(), 90);
}

#[tokio::test(start_paused = true)]
async fn long_bursts_split_into_messages_that_fit() {
    let server = fake_bot().await;
    let config = NotifierConfig {
        coalesce_window: SECOND,
        max_batch_items: 20,
        ..NotifierConfig::default()
    };
    let (notifier, mut reports) = start(&server, config);
    for i in 0..25 {
        queue(&notifier, ANNA_TG, &format!("+1 ({i})"), &format!("k{i}"));
    }
    let reports = collect(&mut reports, 25).await;
    let texts = sent_texts(&server).await;
    let lines: Vec<usize> = texts.iter().map(|(_, t)| t.lines().count()).collect();
    assert_eq!(lines, [20, 5]);
    assert!(reports[24].issued_at - reports[0].issued_at >= SECOND);
}
