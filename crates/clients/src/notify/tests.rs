//! The queue's scheduling decisions with an explicit clock: no runtime, no HTTP.

use std::time::Duration;

use tokio::time::Instant;

use super::queue::{Batch, Queue, Step};
use super::{EnqueueError, Enqueued, NotificationKey, NotifierConfig};

const SECOND: Duration = Duration::from_secs(1);

fn config() -> NotifierConfig {
    NotifierConfig {
        coalesce_window: Duration::ZERO,
        max_batch_items: 1,
        ..NotifierConfig::default()
    }
}

fn push(queue: &mut Queue, chat_id: i64, key: &str, now: Instant) {
    let pushed = queue.push(
        chat_id,
        NotificationKey::from(key),
        format!("text {key}"),
        now,
    );
    assert_eq!(pushed, Ok(Enqueued::Queued));
}

fn send(queue: &mut Queue, now: Instant) -> Batch {
    match queue.next(now) {
        Step::Send(batch) => batch,
        Step::Wait(at) => panic!("expected a batch, must wait {:?}", at - now),
        Step::Idle => panic!("expected a batch, got idle"),
    }
}

fn wait(queue: &mut Queue, now: Instant) -> Instant {
    match queue.next(now) {
        Step::Wait(at) => at,
        Step::Send(batch) => panic!("expected a wait, got a batch for {}", batch.chat_id),
        Step::Idle => panic!("expected a wait, got idle"),
    }
}

#[test]
fn notifications_within_the_window_share_one_message() {
    let t0 = Instant::now();
    let window = Duration::from_millis(1500);
    let mut queue = Queue::new(NotifierConfig {
        coalesce_window: window,
        ..NotifierConfig::default()
    });
    push(&mut queue, 1, "a", t0);
    push(&mut queue, 1, "b", t0 + Duration::from_millis(700));
    assert_eq!(wait(&mut queue, t0), t0 + window);
    let batch = send(&mut queue, t0 + window);
    assert_eq!(batch.text(), "text a\ntext b");
    assert!(matches!(queue.next(t0 + window), Step::Idle));
}

#[test]
fn one_message_per_chat_per_second() {
    let t0 = Instant::now();
    let mut queue = Queue::new(config());
    push(&mut queue, 1, "a", t0);
    push(&mut queue, 1, "b", t0);
    let first = send(&mut queue, t0);
    queue.delivered(&first);
    assert_eq!(wait(&mut queue, t0), t0 + SECOND);
    assert_eq!(send(&mut queue, t0 + SECOND).items[0].key.as_str(), "b");
}

#[test]
fn a_forgotten_chat_still_keeps_its_pace() {
    let t0 = Instant::now();
    let mut queue = Queue::new(config());
    push(&mut queue, 1, "a", t0);
    let first = send(&mut queue, t0);
    queue.delivered(&first);
    assert!(matches!(queue.next(t0), Step::Idle));
    push(&mut queue, 1, "b", t0 + Duration::from_millis(10));
    assert_eq!(
        wait(&mut queue, t0 + Duration::from_millis(10)),
        t0 + SECOND
    );
}

#[test]
fn thirty_messages_a_second_across_chats() {
    let t0 = Instant::now();
    let mut queue = Queue::new(NotifierConfig {
        max_in_flight: 100,
        ..config()
    });
    for chat in 1..=31 {
        push(&mut queue, chat, &format!("k{chat}"), t0);
    }
    for _ in 0..30 {
        send(&mut queue, t0);
    }
    assert_eq!(wait(&mut queue, t0), t0 + SECOND);
}

#[test]
fn groups_get_twenty_messages_a_minute() {
    let t0 = Instant::now();
    let mut queue = Queue::new(config());
    for i in 0..21 {
        push(&mut queue, -1001, &format!("k{i}"), t0);
    }
    let mut now = t0;
    let mut sent = 0;
    while sent < 20 {
        match queue.next(now) {
            Step::Send(batch) => {
                queue.delivered(&batch);
                sent += 1;
            }
            Step::Wait(at) => now = at,
            Step::Idle => panic!("21 notifications queued, none ready"),
        }
    }
    assert_eq!(wait(&mut queue, now), t0 + Duration::from_secs(60));
}

#[test]
fn in_flight_sends_are_capped() {
    let t0 = Instant::now();
    let mut queue = Queue::new(NotifierConfig {
        max_in_flight: 2,
        ..config()
    });
    for chat in 1..=3 {
        push(&mut queue, chat, &format!("k{chat}"), t0);
    }
    let first = send(&mut queue, t0);
    send(&mut queue, t0);
    assert!(matches!(queue.next(t0), Step::Idle));
    queue.delivered(&first);
    send(&mut queue, t0);
}

#[test]
fn a_retried_batch_goes_back_first_and_waits_for_its_pause() {
    let t0 = Instant::now();
    let mut queue = Queue::new(NotifierConfig {
        max_batch_items: 10,
        ..config()
    });
    push(&mut queue, 1, "a", t0);
    push(&mut queue, 1, "b", t0);
    let batch = send(&mut queue, t0);
    push(&mut queue, 1, "c", t0);
    queue.retry_later(batch, t0 + Duration::from_secs(7), false);
    assert_eq!(wait(&mut queue, t0), t0 + Duration::from_secs(7));
    let again = send(&mut queue, t0 + Duration::from_secs(7));
    assert_eq!(again.text(), "text a\ntext b\ntext c");
    assert_eq!(again.attempt(), 2);
}

#[test]
fn a_global_pause_holds_every_chat() {
    let t0 = Instant::now();
    let mut queue = Queue::new(config());
    push(&mut queue, 1, "a", t0);
    push(&mut queue, 2, "b", t0);
    let batch = send(&mut queue, t0);
    queue.retry_later(batch, t0 + Duration::from_secs(7), true);
    assert_eq!(wait(&mut queue, t0), t0 + Duration::from_secs(7));
}

#[test]
fn a_message_never_exceeds_telegrams_length_limit() {
    let t0 = Instant::now();
    let mut queue = Queue::new(NotifierConfig {
        max_batch_items: 20,
        ..config()
    });
    let long = "я".repeat(3000);
    queue.push(1, "a".into(), long.clone(), t0).ok();
    queue.push(1, "b".into(), long.clone(), t0).ok();
    let batch = send(&mut queue, t0);
    assert_eq!(batch.items.len(), 1);
    assert_eq!(
        queue.push(1, "c".into(), "x".repeat(4097), t0),
        Err(EnqueueError::InvalidText)
    );
    assert_eq!(
        queue.push(1, "d".into(), String::new(), t0),
        Err(EnqueueError::InvalidText)
    );
}

#[test]
fn the_bound_counts_queued_and_in_flight() {
    let t0 = Instant::now();
    let mut queue = Queue::new(NotifierConfig {
        capacity: 2,
        ..config()
    });
    push(&mut queue, 1, "a", t0);
    push(&mut queue, 2, "b", t0);
    let batch = send(&mut queue, t0);
    assert_eq!(
        queue.push(3, "c".into(), "c".into(), t0),
        Err(EnqueueError::Full { capacity: 2 })
    );
    assert_eq!(
        queue.push(1, "a".into(), "a".into(), t0),
        Ok(Enqueued::AlreadyQueued)
    );
    queue.delivered(&batch);
    push(&mut queue, 3, "c", t0);
    let stats = queue.stats();
    assert_eq!(
        (stats.queued, stats.rejected_full, stats.delivered),
        (2, 1, 1)
    );
}
