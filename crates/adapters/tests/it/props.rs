//! Property tests: nothing panics on outside input, and no NUL ever leaves the adapters.

use adapters::mini_app::{validate_init_data, validate_init_data_third_party};
use adapters::{Signal, instagram, telegram, vk};
use chrono::{DateTime, TimeDelta};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::fixture_json;

/// Strings biased towards what breaks parsers: NUL, surrogates-as-escapes, huge numbers.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("\u{0}".to_owned()),
        Just("a\u{0}b".to_owned()),
        "[a-z_]{0,12}",
        Just("99999999999999999999999".to_owned()),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        nasty_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(nasty_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON pointers to every node of a document, so a mutation can land anywhere.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

const SAMPLES: &[&str] = &[
    "instagram/batched_two_entries.json",
    "instagram/message_text.json",
    "vk/wall_reply_new.json",
    "vk/message_new.json",
    "vk/like_add_comment.json",
    "vk/wall_repost.json",
    "telegram/message_discussion_comment.json",
    "telegram/message_reaction_changed.json",
    "telegram/chat_member_restricted_still_member.json",
    "telegram/poll_answer.json",
];

/// Runs every parser; returns the signals of those that accepted the body.
fn parse_all(body: &[u8]) -> Vec<Signal> {
    let mut signals = instagram::parse(body).unwrap_or_default();
    signals.extend(
        vk::parse(body)
            .map(|cb| cb.signals().to_vec())
            .unwrap_or_default(),
    );
    signals.extend(telegram::parse(body).map(|u| u.signals).unwrap_or_default());
    signals
}

fn assert_no_nul(signals: &[Signal]) {
    let text = serde_json::to_string(signals).unwrap();
    assert!(!text.contains("\\u0000"), "NUL leaked: {text}");
}

proptest! {
    #[test]
    fn parsers_never_panic_on_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&body);
        let _ = instagram::verify_signature(b"k", &body, std::str::from_utf8(&body).ok());
    }

    #[test]
    fn parsers_never_panic_on_json(value in json()) {
        assert_no_nul(&parse_all(value.to_string().as_bytes()));
    }

    #[test]
    fn mutated_fixtures_never_panic_or_leak_nul(
        sample in 0..SAMPLES.len(),
        pick in any::<prop::sample::Index>(),
        replacement in json(),
    ) {
        let mut doc = fixture_json(SAMPLES[sample]);
        let mut paths = Vec::new();
        pointers(&doc, String::new(), &mut paths);
        let path = pick.get(&paths).clone();
        if let Some(slot) = doc.pointer_mut(&path) {
            *slot = replacement;
        }
        assert_no_nul(&parse_all(doc.to_string().as_bytes()));
    }

    #[test]
    fn text_with_nul_is_cleaned(text in nasty_string()) {
        let mut doc = fixture_json("vk/wall_reply_new.json");
        doc["object"]["text"] = Value::String(text);
        assert_no_nul(&parse_all(doc.to_string().as_bytes()));
    }

    #[test]
    fn init_data_validation_never_panics(raw in "[a-z_=&%+0-9A-F{}\":]{0,200}", any_text in any::<String>()) {
        let now = DateTime::from_timestamp(1_767_269_100, 0).unwrap();
        for input in [raw.as_str(), any_text.as_str()] {
            let _ = validate_init_data(input, "token", now, TimeDelta::days(1));
            let _ = validate_init_data_third_party(input, 1, &[7; 32], now, TimeDelta::days(1));
        }
    }

    #[test]
    fn random_signature_headers_are_refused(header in any::<String>()) {
        let refused = instagram::verify_signature(b"k", b"[]", Some(&header)).is_err();
        prop_assert!(refused);
    }

    #[test]
    fn handshake_never_echoes_a_wrong_token(token in any::<String>(), challenge in any::<String>()) {
        let got = instagram::verify_subscription(Some("subscribe"), Some(&token), Some(&challenge), "fixture-verify-token");
        prop_assert!(!matches!(got, instagram::Subscription::Confirmed(_)) || token == "fixture-verify-token");
    }
}
