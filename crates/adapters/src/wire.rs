//! Small helpers shared by the platform parsers: ids, timestamps and text hygiene.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// An id that platforms send as a string or as a number; kept as text so ids beyond 2^53
/// never pass through a float.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawId {
    Text(String),
    Number(serde_json::Number),
}

/// Instagram message ids (`mid`) run to ~200 characters; anything far longer is not an id.
const MAX_ID_BYTES: usize = 512;

impl RawId {
    /// The id as a non-empty clean string, or `None` for an empty or unusable value.
    pub(crate) fn into_id(self) -> Option<String> {
        let id = match self {
            RawId::Text(s) => clean(&s),
            RawId::Number(n) => n.to_string(),
        };
        let id = id.trim().to_owned();
        (!id.is_empty() && id.len() <= MAX_ID_BYTES).then_some(id)
    }
}

/// Optional id field helper: `None` when absent or unusable.
pub(crate) fn id(raw: Option<RawId>) -> Option<String> {
    raw.and_then(RawId::into_id)
}

/// PostgreSQL `jsonb` and `text` reject U+0000, so it never leaves the adapter.
pub(crate) fn clean(s: &str) -> String {
    s.replace('\0', "")
}

pub(crate) fn clean_opt(s: Option<String>) -> Option<String> {
    s.map(|s| clean(&s)).filter(|s| !s.is_empty())
}

/// Values at or beyond this are milliseconds (as seconds it would be the year 5138).
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// Unix time in seconds or milliseconds (Meta mixes both) to UTC; `None` if not plausible.
pub(crate) fn unix_time(value: i64) -> Option<DateTime<Utc>> {
    if value <= 0 {
        return None;
    }
    if value >= MILLIS_THRESHOLD {
        DateTime::from_timestamp_millis(value)
    } else {
        DateTime::from_timestamp(value, 0)
    }
}

/// Unix seconds only (VK and Telegram), `None` for 0 / absent.
pub(crate) fn unix_seconds(value: Option<i64>) -> Option<DateTime<Utc>> {
    value
        .filter(|v| *v > 0)
        .and_then(|v| DateTime::from_timestamp(v, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_millis_mean_the_same_instant() {
        assert_eq!(unix_time(1_767_268_800), unix_time(1_767_268_800_000));
        assert_eq!(unix_time(0), None);
        assert_eq!(unix_time(i64::MAX), None);
    }

    #[test]
    fn ids_keep_big_numbers_exact() {
        let raw: RawId = serde_json::from_str("17841400000000001").unwrap();
        assert_eq!(raw.into_id().as_deref(), Some("17841400000000001"));
        let raw: RawId = serde_json::from_str("\"\\u0000\"").unwrap();
        assert_eq!(raw.into_id(), None);
    }
}
