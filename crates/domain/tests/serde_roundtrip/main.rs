//! Every event variant, with arbitrary field values, survives a JSON round trip, and its
//! payload's `type` field is the name stored in the `type` column.

mod arbitrary;

use arbitrary::{any_event, nanosecond_instant};
use chrono::{SubsecRound, Timelike};
use domain::{Event, Timestamp};
use proptest::prelude::*;
use std::collections::BTreeSet;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn every_event_survives_a_json_round_trip(event in any_event()) {
        let json = serde_json::to_string(&event).expect("serialises");
        let back: Event = serde_json::from_str(&json).expect("deserialises");
        prop_assert_eq!(back, event);
    }

    #[test]
    fn a_timestamp_holds_whole_microseconds(at in nanosecond_instant()) {
        let t = Timestamp::new(at);
        prop_assert_eq!(t.nanosecond() % 1_000, 0);
        prop_assert_eq!(t.get(), at.trunc_subsecs(6));
        prop_assert!(t <= at && at - t.get() < chrono::TimeDelta::microseconds(1));
        let json = serde_json::to_string(&t).expect("serialises");
        prop_assert_eq!(serde_json::from_str::<Timestamp>(&json).expect("deserialises"), t);
        // The JSON of a recorded nanosecond time still decodes, to the same microsecond.
        let recorded = serde_json::to_string(&at).expect("serialises");
        prop_assert_eq!(serde_json::from_str::<Timestamp>(&recorded).expect("deserialises"), t);
    }

    #[test]
    fn the_type_field_is_the_event_type(event in any_event()) {
        let value = serde_json::to_value(&event).expect("serialises");
        prop_assert_eq!(value["type"].as_str(), Some(event.event_type()));
    }
}

/// Guards the generator: a new variant must be added to it (this match is exhaustive).
fn variant(event: &Event) -> &'static str {
    match event {
        Event::ProgramCreated { .. }
        | Event::RulesChanged { .. }
        | Event::MemberRegistered { .. }
        | Event::AccountLinked { .. }
        | Event::AccountUnlinked { .. }
        | Event::PointsAwarded { .. }
        | Event::PointsReversed { .. }
        | Event::AwardRestored { .. }
        | Event::PointsAdjusted { .. }
        | Event::AwardHeld { .. }
        | Event::HeldAwardApproved { .. }
        | Event::HeldAwardRejected { .. }
        | Event::TierChanged { .. }
        | Event::PointsExpired { .. }
        | Event::ExpiryWarned { .. }
        | Event::PointsMovedOut { .. }
        | Event::PointsMovedIn { .. }
        | Event::RewardRedeemed { .. }
        | Event::RedemptionCancelled { .. }
        | Event::MemberBlocked { .. }
        | Event::MemberUnblocked { .. }
        | Event::MemberErased { .. }
        | Event::IdentityClaimed { .. }
        | Event::IdentityReleased { .. }
        | Event::CampaignCreated { .. }
        | Event::CampaignPaused { .. }
        | Event::CampaignResumed { .. }
        | Event::CampaignEnded { .. }
        | Event::CodewordRedeemed { .. }
        | Event::RewardListed { .. }
        | Event::RewardStockChanged { .. }
        | Event::RewardDelisted { .. }
        | Event::RewardIssued { .. }
        | Event::RewardReturned { .. }
        | Event::RewardCodesAdded { .. }
        | Event::RewardStockLow { .. }
        | Event::CouponUsed { .. }
        | Event::RaffleTicketBought { .. }
        | Event::RaffleTicketRefunded { .. }
        | Event::RaffleOpened { .. }
        | Event::RaffleEntered { .. }
        | Event::RaffleDrawn { .. }
        | Event::RaffleCancelled { .. }
        | Event::SeasonScheduled { .. }
        | Event::SeasonCancelled { .. }
        | Event::SeasonEnded { .. }
        | Event::SeasonSettled { .. }
        | Event::SeasonPrizeAwarded { .. } => event.event_type(),
    }
}

const VARIANTS: usize = 48;

#[test]
fn the_generator_reaches_every_variant_with_a_distinct_type() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = any_event();
    let mut seen = BTreeSet::new();
    for _ in 0..2_000 {
        let event = strategy.new_tree(&mut runner).expect("a value").current();
        seen.insert(variant(&event));
    }
    assert_eq!(seen.len(), VARIANTS, "seen only {seen:?}");
}

#[test]
fn a_payload_without_a_known_type_is_refused() {
    let unknown = r#"{"type":"PointsInvented","member_id":"00000000-0000-0000-0000-000000000001"}"#;
    assert!(serde_json::from_str::<Event>(unknown).is_err());
}

/// A stored `PointsAwarded` payload, with a `text_fingerprint` field if one is given.
fn stored_award(text_fingerprint: Option<&str>) -> serde_json::Value {
    let mut stored = serde_json::json!({
        "type": "PointsAwarded",
        "member_id": "00000000-0000-0000-0000-000000000001",
        "entry_id": "00000000-0000-0000-0000-000000000002",
        "activity": {"network": "vk", "kind": "comment", "reference": "229871234_88_512"},
        "points": 10,
        "rule_version": 1,
        "campaign_id": null,
        "occurred_at": "2026-01-01T12:00:00Z",
        "at": "2026-01-01T12:00:01Z"
    });
    if let Some(fingerprint) = text_fingerprint {
        stored["text_fingerprint"] = fingerprint.into();
    }
    stored
}

/// Decodes a stored award, checks it re-encodes to exactly the stored payload, and returns
/// the fingerprint it carries.
fn decoded_fingerprint(stored: serde_json::Value) -> Option<domain::text::TextFingerprint> {
    let event: Event = serde_json::from_value(stored.clone()).expect("decodes");
    assert_eq!(serde_json::to_value(&event).expect("encodes"), stored);
    match event {
        Event::PointsAwarded {
            text_fingerprint, ..
        } => text_fingerprint,
        other => panic!("decoded as {other:?}"),
    }
}

/// Events recorded before awards carried text fingerprints decode, and re-encode to exactly
/// the payload they were stored with, so their content digests (and hash chains) are unchanged.
#[test]
fn an_award_recorded_before_text_fingerprints_decodes_and_re_encodes_unchanged() {
    assert_eq!(decoded_fingerprint(stored_award(None)), None);
}

#[test]
fn an_award_with_a_text_carries_only_its_fingerprint() {
    assert_eq!(
        decoded_fingerprint(stored_award(Some("0cd381b9bfe829f6"))),
        Some(domain::text::TextFingerprint(0x0cd3_81b9_bfe8_29f6))
    );
}

/// Rules recorded before the repeated-text rule existed read with it on, for ever.
#[test]
fn rules_recorded_before_the_repeated_text_rule_read_with_it_on() {
    let stored = serde_json::json!({
        "type": "RulesChanged",
        "program_id": "00000000-0000-0000-0000-000000000001",
        "version": 1,
        "rules": {"points": [], "daily_cap": 500, "daily_cap_per_network": 300,
                  "min_comment_chars": 3, "reverse_on_delete": true, "reverse_on_leave": true,
                  "own_accounts": []},
        "by": "manager:olga",
        "at": "2026-01-01T12:00:00Z"
    });
    let Event::RulesChanged { rules, .. } = serde_json::from_value(stored).expect("decodes") else {
        panic!("not RulesChanged");
    };
    assert!(rules.refuse_repeated_text);
    assert_eq!(rules.repeated_text_window_days, 0);
    assert_eq!(rules.repeated_text(), domain::text::RepeatedText::EarnsOnce);
    assert_eq!(
        rules.relink_cooldown_days, 0,
        "no relink cooldown before it existed"
    );
}

/// A stored `PointsAdjusted` payload, with a `note` for the member if one is given.
fn stored_adjustment(note: Option<&str>) -> serde_json::Value {
    let mut stored = serde_json::json!({
        "type": "PointsAdjusted",
        "member_id": "00000000-0000-0000-0000-000000000001",
        "entry_id": "00000000-0000-0000-0000-000000000002",
        "delta": -20,
        "reason": "Спам: комментарий не по теме",
        "by": "manager:olga",
        "compensates": null,
        "at": "2026-01-01T12:00:01Z"
    });
    if let Some(note) = note {
        stored["note"] = note.into();
    }
    stored
}

/// Adjustments recorded before notes existed decode with no note and re-encode to exactly the
/// stored payload (their digests are unchanged); a note round-trips.
#[test]
fn an_adjustment_recorded_before_notes_decodes_with_none_and_re_encodes_unchanged() {
    for note in [None, Some("Баллы списаны по правилам конкурса")] {
        let stored = stored_adjustment(note);
        let event: Event = serde_json::from_value(stored.clone()).expect("decodes");
        assert_eq!(serde_json::to_value(&event).expect("encodes"), stored);
        match event {
            Event::PointsAdjusted {
                note: decoded,
                reason,
                ..
            } => {
                assert_eq!(decoded.as_deref(), note);
                assert_eq!(reason, "Спам: комментарий не по теме");
            }
            other => panic!("decoded as {other:?}"),
        }
    }
}
