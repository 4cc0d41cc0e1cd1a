//! Points and deltas: validated by their only constructor, and again when read from JSON.

use domain::DomainError;
use domain::points::{MAX_POINTS_DELTA, Points, PointsDelta};
use proptest::prelude::*;

proptest! {
    #[test]
    fn points_are_positive_and_bounded(n in any::<i64>()) {
        let valid = n > 0 && n <= MAX_POINTS_DELTA;
        match Points::new(n) {
            Ok(points) => prop_assert!(valid && points.get() == n),
            Err(error) => prop_assert!(!valid && error == DomainError::InvalidAmount(n)),
        }
        let parsed: Result<Points, _> = serde_json::from_str(&n.to_string());
        prop_assert_eq!(parsed.is_ok(), valid);
    }

    #[test]
    fn a_delta_is_non_zero_and_bounded_either_way(n in any::<i64>()) {
        let valid = n != 0 && n.unsigned_abs() <= MAX_POINTS_DELTA as u64;
        match PointsDelta::new(n) {
            Ok(delta) => prop_assert!(valid && delta.get() == n),
            Err(error) => prop_assert!(!valid && error == DomainError::InvalidAmount(n)),
        }
        let parsed: Result<PointsDelta, _> = serde_json::from_str(&n.to_string());
        prop_assert_eq!(parsed.is_ok(), valid);
    }
}

#[test]
fn the_bounds_themselves() {
    assert!(Points::new(MAX_POINTS_DELTA).is_ok());
    assert_eq!(Points::new(0), Err(DomainError::InvalidAmount(0)));
    assert!(PointsDelta::new(-MAX_POINTS_DELTA).is_ok());
    assert_eq!(
        PointsDelta::new(i64::MIN),
        Err(DomainError::InvalidAmount(i64::MIN))
    );
}

#[test]
fn a_codeword_too_short_or_too_long_is_invalid() {
    use domain::codeword::Codeword;
    for raw in ["", "ab", "a-b!", &"x".repeat(65)] {
        assert!(
            matches!(Codeword::parse(raw), Err(DomainError::InvalidCodeword(_))),
            "{raw:?}"
        );
    }
}
