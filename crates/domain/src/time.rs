//! The ledger's time: an instant at microsecond precision, the precision PostgreSQL stores.
//! Every time that enters a command is cut to microseconds here, once, so an event, the fold
//! of it and the read model written from it all hold the same instant.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::{Add, Deref, Sub};

/// An instant truncated to whole microseconds; it cannot hold more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Digits of a second kept: microseconds.
    pub const SUBSEC_DIGITS: u16 = 6;

    /// `at` without its nanoseconds beyond the microsecond.
    pub fn new(at: DateTime<Utc>) -> Self {
        Timestamp(at.trunc_subsecs(Self::SUBSEC_DIGITS))
    }

    /// The instant as a `chrono` time.
    pub fn get(self) -> DateTime<Utc> {
        self.0
    }

    /// `self + delta`, or `None` past the range of a time.
    pub fn checked_add(self, delta: TimeDelta) -> Option<Timestamp> {
        self.0.checked_add_signed(delta).map(Timestamp::new)
    }

    /// `self - delta`, or `None` past the range of a time.
    pub fn checked_sub(self, delta: TimeDelta) -> Option<Timestamp> {
        self.0.checked_sub_signed(delta).map(Timestamp::new)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Timestamp::new(at)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(at: Timestamp) -> Self {
        at.0
    }
}

impl Deref for Timestamp {
    type Target = DateTime<Utc>;

    fn deref(&self) -> &DateTime<Utc> {
        &self.0
    }
}

impl PartialEq<DateTime<Utc>> for Timestamp {
    fn eq(&self, other: &DateTime<Utc>) -> bool {
        self.0 == *other
    }
}

impl PartialOrd<DateTime<Utc>> for Timestamp {
    fn partial_cmp(&self, other: &DateTime<Utc>) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(other)
    }
}

impl PartialEq<Timestamp> for DateTime<Utc> {
    fn eq(&self, other: &Timestamp) -> bool {
        *self == other.0
    }
}

impl PartialOrd<Timestamp> for DateTime<Utc> {
    fn partial_cmp(&self, other: &Timestamp) -> Option<std::cmp::Ordering> {
        self.partial_cmp(&other.0)
    }
}

/// Panics past the range of a time, as `DateTime + TimeDelta` does; inputs from outside go
/// through [`Timestamp::checked_add`].
impl Add<TimeDelta> for Timestamp {
    type Output = Timestamp;

    fn add(self, delta: TimeDelta) -> Timestamp {
        Timestamp::new(self.0 + delta)
    }
}

impl Sub<TimeDelta> for Timestamp {
    type Output = Timestamp;

    fn sub(self, delta: TimeDelta) -> Timestamp {
        Timestamp::new(self.0 - delta)
    }
}

impl Sub for Timestamp {
    type Output = TimeDelta;

    fn sub(self, other: Timestamp) -> TimeDelta {
        self.0 - other.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The same JSON as `DateTime<Utc>` (RFC 3339), so events recorded before this type decode.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        DateTime::<Utc>::deserialize(deserializer).map(Timestamp::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike};

    #[test]
    fn construction_drops_nanoseconds() {
        let at = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(Timestamp::new(at).nanosecond(), 123_456_000);
        assert_eq!(
            serde_json::to_string(&Timestamp::new(at)).unwrap(),
            "\"2023-11-14T22:13:20.123456Z\""
        );
    }

    #[test]
    fn a_recorded_nanosecond_time_decodes_truncated() {
        let t: Timestamp = serde_json::from_str("\"2023-11-14T22:13:20.123456789Z\"").unwrap();
        assert_eq!(t.nanosecond(), 123_456_000);
    }
}
