//! Every event variant, with arbitrary field values, survives a JSON round trip, and its
//! payload's `type` field is the name stored in the `type` column.

mod arbitrary;

use arbitrary::any_event;
use domain::Event;
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
        | Event::PointsMovedOut { .. }
        | Event::PointsMovedIn { .. }
        | Event::RewardRedeemed { .. }
        | Event::RedemptionCancelled { .. }
        | Event::MemberBlocked { .. }
        | Event::MemberUnblocked { .. }
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
        | Event::RewardReturned { .. } => event.event_type(),
    }
}

const VARIANTS: usize = 27;

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
