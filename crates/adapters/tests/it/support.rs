//! Fixture loading and small signal accessors that fail with a readable message.

use adapters::{Activity, BotMessage, BotStatus, Edit, MembershipChange, Retraction, Signal};
use chrono::{DateTime, Utc};

pub const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/platforms/"
);

pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{path}"))
        .unwrap_or_else(|e| panic!("fixture {path} unreadable: {e}"))
}

pub fn fixture_json(path: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn secs(unix: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(unix, 0)
}

pub fn only(signals: &[Signal]) -> &Signal {
    assert_eq!(signals.len(), 1, "expected one signal, got {signals:#?}");
    &signals[0]
}

pub fn activity(signal: &Signal) -> &Activity {
    match signal {
        Signal::Activity(a) => a,
        other => panic!("expected an activity, got {other:#?}"),
    }
}

pub fn edit(signal: &Signal) -> &Edit {
    match signal {
        Signal::Edit(e) => e,
        other => panic!("expected an edit, got {other:#?}"),
    }
}

pub fn restoration(signal: &Signal) -> &Activity {
    match signal {
        Signal::Restoration(a) => a,
        other => panic!("expected a restoration, got {other:#?}"),
    }
}

pub fn retraction(signal: &Signal) -> &Retraction {
    match signal {
        Signal::Retraction(r) => r,
        other => panic!("expected a retraction, got {other:#?}"),
    }
}

pub fn membership(signal: &Signal) -> &MembershipChange {
    match signal {
        Signal::Membership(m) => m,
        other => panic!("expected a membership change, got {other:#?}"),
    }
}

pub fn bot_message(signal: &Signal) -> &BotMessage {
    match signal {
        Signal::BotMessage(m) => m,
        other => panic!("expected a bot message, got {other:#?}"),
    }
}

pub fn bot_status(signal: &Signal) -> &BotStatus {
    match signal {
        Signal::BotStatus(s) => s,
        other => panic!("expected a bot status, got {other:#?}"),
    }
}

pub fn ignored(signal: &Signal) -> &'static str {
    match signal {
        Signal::Ignored { reason } => reason,
        other => panic!("expected ignored, got {other:#?}"),
    }
}
