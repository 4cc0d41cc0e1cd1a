//! Written activity: a text the member was already paid for is refused by the rules in force
//! (whatever its case, spacing, punctuation or Unicode form), other texts and other members
//! are not, and the event carries only the text's fingerprint.

use super::member::step;
use super::{accepted, refused};
use crate::common::*;
use chrono::Duration;
use domain::Timestamp;
use domain::event::ReversalReason;
use domain::member::{MemberCommand, MemberState, WrittenText};
use domain::text::RepeatedText;
use domain::{DomainError, Event};
use proptest::prelude::*;
use proptest::sample::select;

fn registered(m: u8) -> MemberState {
    let register = MemberCommand::Register {
        member_id: member(m),
        program_id: program(),
        at: t0(),
    };
    accepted(
        MemberState::default(),
        MemberState::default().decide(register),
    )
}

/// Comment `n` saying `text` at `at`, under `repeats`.
fn written(n: u64, text: &str, at: Timestamp, repeats: RepeatedText) -> MemberCommand {
    MemberCommand::AwardWritten {
        award: award(entry(n), comment(&format!("c{n}")), 10, at),
        text: WrittenText {
            fingerprint: fingerprint(text),
            repeats,
        },
    }
}

fn once(n: u64, text: &str) -> MemberCommand {
    written(
        n,
        text,
        t0() + Duration::hours(n as i64),
        RepeatedText::EarnsOnce,
    )
}

#[test]
fn the_same_text_earns_once_and_another_text_earns() {
    let state = step(registered(0), once(1, "Отличный пост!"));
    assert_eq!(
        refused(state.decide(once(2, "ОТЛИЧНЫЙ   пост"))),
        DomainError::DuplicateText
    );
    let state = step(state, once(3, "Отличный пост, спасибо"));
    assert_eq!(state.balance, 20);
}

#[test]
fn the_event_carries_the_fingerprint_and_never_the_text() {
    let events = registered(0)
        .decide(once(1, "Call me at +7 900 000-00-00"))
        .expect("awarded");
    let [
        Event::PointsAwarded {
            text_fingerprint, ..
        },
    ] = events.as_slice()
    else {
        panic!("expected one award, got {events:?}");
    };
    assert_eq!(
        *text_fingerprint,
        Some(fingerprint("call me at +7 900 000 00 00"))
    );
    let json = serde_json::to_string(&events).expect("serialises");
    assert!(!json.contains("900"), "{json}");
    assert!(!json.to_lowercase().contains("call"), "{json}");
}

#[test]
fn a_redelivery_is_a_duplicate_activity_not_a_repeated_text() {
    let state = step(registered(0), once(1, "nice"));
    assert_eq!(
        refused(state.decide(once(1, "nice"))),
        DomainError::DuplicateActivity
    );
}

#[test]
fn another_member_may_write_the_same_text() {
    let _first = step(registered(0), once(1, "Лучшая кофейня района"));
    let second = step(registered(1), once(1, "Лучшая кофейня района"));
    assert_eq!(second.balance, 10);
}

#[test]
fn with_the_rule_off_repeats_earn_and_are_remembered_for_when_it_is_on() {
    let state = step(
        registered(0),
        written(1, "again", t0(), RepeatedText::Earns),
    );
    let state = step(state, written(2, "AGAIN!", t0(), RepeatedText::Earns));
    assert_eq!(state.balance, 20);
    let fingerprint = fingerprint("again");
    assert_eq!(state.paid_text(fingerprint).len(), 2);
    assert_eq!(
        refused(state.decide(written(3, "again", t0(), RepeatedText::EarnsOnce))),
        DomainError::DuplicateText
    );
}

#[test]
fn within_a_window_a_text_earns_again_once_the_window_has_passed() {
    let week = RepeatedText::EarnsOnceWithin { days: 7 };
    let state = step(registered(0), written(1, "hello", t0(), week));
    let six_days = written(2, "hello", t0() + Duration::days(6), week);
    assert_eq!(refused(state.decide(six_days)), DomainError::DuplicateText);
    // Delivered late: a copy written before the paid one is just as much a repeat.
    let before = written(3, "hello", t0() - Duration::days(6), week);
    assert_eq!(refused(state.decide(before)), DomainError::DuplicateText);
    let state = step(state, written(4, "hello", t0() + Duration::days(7), week));
    assert_eq!(state.balance, 20);
}

#[test]
fn a_reversed_award_still_counts_and_can_come_back() {
    let state = step(registered(0), once(1, "my comment"));
    let state = step(
        state,
        MemberCommand::Reverse {
            entry_id: entry(100),
            activity: comment("c1"),
            reason: ReversalReason::Deleted,
            at: t0(),
        },
    );
    assert_eq!(
        refused(state.decide(once(2, "my comment"))),
        DomainError::DuplicateText,
        "deleting and posting again does not earn twice"
    );
    let state = step(
        state,
        MemberCommand::Restore {
            entry_id: entry(101),
            activity: comment("c1"),
            at: t0(),
        },
    );
    assert_eq!(state.balance, 10);
}

#[test]
fn plain_awards_carry_no_fingerprint_and_are_never_repeats() {
    let state = step(
        registered(0),
        MemberCommand::Award(award(entry(1), comment("c1"), 10, t0())),
    );
    let state = step(
        state,
        MemberCommand::Award(award(entry(2), comment("c2"), 10, t0())),
    );
    assert_eq!(state.balance, 20);
}

/// Spacing and punctuation people put between words.
const SEPARATORS: [&str; 8] = [" ", "  ", "\u{00A0}", ", ", "! ", " — ", "...", "\n"];

/// Words of Latin and Cyrillic letters and digits.
fn words() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-zA-Zа-яА-ЯёЁ0-9]{1,8}", 1..6)
}

/// The words written again: case changed at random, other separators, trailing punctuation.
fn retyped(words: Vec<String>) -> impl Strategy<Value = String> {
    let n = words.len();
    (
        prop::collection::vec(any::<bool>(), n),
        prop::collection::vec(select(SEPARATORS.to_vec()), n),
        select(vec!["", "!", "!!!", "?", " :)", "."]),
    )
        .prop_map(move |(upper, separators, end)| {
            let mut text = String::new();
            for ((word, up), sep) in words.iter().zip(upper).zip(separators) {
                if !text.is_empty() {
                    text.push_str(sep);
                }
                if up {
                    text.push_str(&word.to_uppercase());
                } else {
                    text.push_str(&word.to_lowercase());
                }
            }
            text.push_str(end);
            text
        })
}

fn original_and_retyped() -> impl Strategy<Value = (String, String)> {
    words().prop_flat_map(|words| {
        let original = words.join(" ");
        retyped(words).prop_map(move |again| (original.clone(), again))
    })
}

proptest! {
    #[test]
    fn a_text_retyped_in_another_case_spacing_or_punctuation_earns_once(
        (original, again) in original_and_retyped(),
        hours in 1i64..10_000,
    ) {
        let state = step(registered(0), once(1, &original));
        let later = written(2, &again, t0() + Duration::hours(hours), RepeatedText::EarnsOnce);
        prop_assert_eq!(refused(state.decide(later)), DomainError::DuplicateText);
        // Another member is not affected.
        let other = step(registered(1), once(2, &again));
        prop_assert_eq!(other.balance, 10);
    }

    #[test]
    fn each_different_text_earns_and_each_repeat_is_refused(
        texts in prop::collection::vec("[a-zA-Zа-яА-Я0-9][a-zA-Zа-яА-Я0-9 ,!]{0,11}", 1..12),
    ) {
        let mut state = registered(0);
        let mut seen = std::collections::BTreeSet::new();
        for (n, text) in texts.iter().enumerate() {
            let normalised = domain::text::normalise(text);
            let command = once(n as u64 + 1, text);
            if seen.insert(normalised) {
                state = step(state, command);
            } else {
                prop_assert_eq!(refused(state.decide(command)), DomainError::DuplicateText);
            }
        }
        prop_assert_eq!(state.balance, 10 * seen.len() as i64);
    }
}

#[test]
fn the_rules_say_how_repeats_are_treated() {
    use domain::program::{MAX_REPEATED_TEXT_WINDOW_DAYS, Rules};
    let mut rules = Rules::standard();
    assert_eq!(
        rules.repeated_text(),
        RepeatedText::EarnsOnce,
        "on by default"
    );
    rules.repeated_text_window_days = 30;
    assert_eq!(
        rules.repeated_text(),
        RepeatedText::EarnsOnceWithin { days: 30 }
    );
    rules.refuse_repeated_text = false;
    assert_eq!(rules.repeated_text(), RepeatedText::Earns);
    rules.repeated_text_window_days = MAX_REPEATED_TEXT_WINDOW_DAYS + 1;
    assert!(matches!(
        rules.validate(),
        Err(DomainError::InvalidRules(message)) if message.contains("repeated_text_window_days")
    ));
}
