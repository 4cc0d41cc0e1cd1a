//! Corrections never edit: a reversal or compensation references its entry, nets it to zero,
//! and can apply to an entry only while it still counts.

use crate::common::Ledger;
use crate::common::generators::{history, setup};
use domain::Event;
use domain::ids::EntryId;
use proptest::prelude::*;
use std::collections::HashMap;

/// An entry a correction can target, with the points it originally moved.
fn original_entry(event: &Event) -> Option<(EntryId, i64)> {
    match event {
        Event::PointsAwarded {
            entry_id, points, ..
        } => Some((*entry_id, *points)),
        Event::HeldAwardApproved {
            award_entry_id,
            points,
            ..
        } => Some((*award_entry_id, *points)),
        Event::PointsAdjusted {
            entry_id,
            delta,
            compensates: None,
            ..
        } => Some((*entry_id, *delta)),
        _ => None,
    }
}

/// The entry a correction targets, with the points it moves.
fn correction(event: &Event) -> Option<(EntryId, i64)> {
    match event {
        Event::PointsReversed {
            award_entry_id,
            points,
            ..
        } => Some((*award_entry_id, -*points)),
        Event::AwardRestored {
            award_entry_id,
            points,
            ..
        } => Some((*award_entry_id, *points)),
        Event::PointsAdjusted {
            delta,
            compensates: Some(target),
            ..
        } => Some((*target, *delta)),
        _ => None,
    }
}

proptest! {
    /// After every correction the target nets to zero or to its original points: so a
    /// compensation is exactly the negative of its target, and nothing is taken back twice.
    #[test]
    fn a_corrected_entry_nets_to_zero_or_to_itself(setup in setup(), steps in history()) {
        let ledger = Ledger::run_all(setup, &steps);
        let mut original: HashMap<EntryId, i64> = HashMap::new();
        let mut net: HashMap<EntryId, i64> = HashMap::new();
        for event in &ledger.log {
            if let Some((entry_id, points)) = original_entry(event) {
                original.insert(entry_id, points);
                net.insert(entry_id, points);
            }
            if let Some((target, points)) = correction(event) {
                let first = original.get(&target).copied();
                prop_assert!(first.is_some(), "{:?} targets no original entry", event);
                let total = net.entry(target).or_default();
                *total += points;
                prop_assert!(*total == 0 || Some(*total) == first, "{:?} nets to {}", event, total);
            }
        }
    }

    #[test]
    fn an_entry_is_compensated_at_most_once_and_exactly(setup in setup(), steps in history()) {
        let ledger = Ledger::run_all(setup, &steps);
        let original: HashMap<EntryId, i64> =
            ledger.log.iter().filter_map(original_entry).collect();
        let mut compensated: HashMap<EntryId, u32> = HashMap::new();
        for event in &ledger.log {
            if let Event::PointsAdjusted { delta, compensates: Some(target), .. } = event {
                prop_assert_eq!(original.get(target).copied().unwrap_or_default() + delta, 0);
                *compensated.entry(*target).or_default() += 1;
            }
        }
        prop_assert!(compensated.values().all(|n| *n == 1), "{:?}", compensated);
    }
}
