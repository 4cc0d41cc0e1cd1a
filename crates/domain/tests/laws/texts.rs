//! A text earns once: for each member, the awards that carry one text's fingerprint are never
//! closer than the rules' window (at most one when the window is "for ever"), whatever the
//! order of delivery and whatever reversals happened in between; and a text is refused only
//! because that same member was paid for it.

use crate::common::generators::{earning_history, history, setup};
use crate::common::ledger::MEMBERS;
use crate::common::{Ledger, Step, member, minutes, text_fingerprint};
use domain::Timestamp;

use domain::ids::MemberId;
use domain::text::{RepeatedText, TextFingerprint};
use domain::{DomainError, Event};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// When each member was paid for each text, in log order (an award held for review counts:
/// approving it pays that copy).
fn paid_texts(log: &[Event]) -> BTreeMap<(MemberId, TextFingerprint), Vec<Timestamp>> {
    let mut paid: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for event in log {
        if let Event::PointsAwarded {
            member_id,
            occurred_at,
            text_fingerprint: Some(fingerprint),
            ..
        }
        | Event::AwardHeld {
            member_id,
            occurred_at,
            text_fingerprint: Some(fingerprint),
            ..
        } = event
        {
            paid.entry((*member_id, *fingerprint))
                .or_default()
                .push(*occurred_at);
        }
    }
    paid
}

proptest! {
    #[test]
    fn a_text_earns_once_per_member_within_the_window(
        setup in setup(),
        steps in history(),
    ) {
        let repeats = setup.repeats;
        let ledger = Ledger::run_all(setup, &steps);
        for ((member_id, fingerprint), times) in paid_texts(&ledger.log) {
            match repeats {
                RepeatedText::Earns => {}
                RepeatedText::EarnsOnce => prop_assert_eq!(
                    times.len(), 1, "{} paid {} times for {}", member_id, times.len(), fingerprint
                ),
                RepeatedText::EarnsOnceWithin { days } => {
                    let window = chrono::Duration::days(i64::from(days));
                    for (i, a) in times.iter().enumerate() {
                        for b in &times[i + 1..] {
                            prop_assert!((*a - *b).abs() >= window,
                                "{} paid for {} at {} and {}", member_id, fingerprint, a, b);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_text_is_refused_only_after_the_same_member_was_paid_for_it(
        setup in setup(),
        steps in earning_history(),
    ) {
        let repeats = setup.repeats;
        let mut ledger = Ledger::new(setup);
        for step in &steps {
            let outcome = ledger.run(step);
            let Step::Award { member: m, text: Some(n), minute, .. } = step else {
                prop_assert_ne!(outcome.err(), Some(DomainError::DuplicateText));
                continue;
            };
            let earlier = paid_texts(&ledger.log)
                .remove(&(member(*m), text_fingerprint(*n)))
                .unwrap_or_default();
            match outcome {
                Err(DomainError::DuplicateText) => {
                    prop_assert!(repeats.refuses(&earlier, minutes(*minute)),
                        "member {} refused text {} with nothing paid within the window", m, n);
                }
                Ok(_) => {
                    // Paid now: the only copy within the window is this one.
                    let others: Vec<_> =
                        earlier.iter().copied().filter(|t| *t != minutes(*minute)).collect();
                    let exact = earlier.len() - others.len();
                    prop_assert!(repeats == RepeatedText::Earns
                        || (exact == 1 && !repeats.refuses(&others, minutes(*minute))));
                }
                Err(_) => {}
            }
        }
    }

    #[test]
    fn members_never_share_paid_texts(setup in setup(), steps in history()) {
        let ledger = Ledger::run_all(setup, &steps);
        let paid = paid_texts(&ledger.log);
        for m in 0..MEMBERS {
            let state = ledger.member(m);
            for n in 0..6 {
                let fingerprint = text_fingerprint(n);
                let own = paid.get(&(member(m), fingerprint)).cloned().unwrap_or_default();
                prop_assert_eq!(state.paid_text(fingerprint), own.as_slice());
            }
        }
    }
}
