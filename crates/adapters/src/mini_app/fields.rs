//! Signed key/value fields shared by Mini App `initData` and the Login Widget: decoding,
//! the data-check string, the HMAC check and the freshness window.

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode;
use sha2::Sha256;

use crate::error::InitDataError;

/// initData travels in a header; anything larger is not from Telegram.
const MAX_INIT_DATA_BYTES: usize = 16 * 1024;

/// Telegram leaves the clock skew to the server; a minute covers honest drift.
pub const MAX_FUTURE_SKEW_SECONDS: i64 = 60;

/// Decoded fields, sorted by key (byte order), every key once.
pub(super) struct Fields(Vec<(String, String)>);

impl Fields {
    /// Parses `application/x-www-form-urlencoded`: `+` is a space, then percent-decoding.
    /// Values are decoded to bytes first so invalid UTF-8 is refused, not replaced.
    pub fn from_query(raw: &str) -> Result<Self, InitDataError> {
        if raw.len() > MAX_INIT_DATA_BYTES {
            return Err(InitDataError::Malformed);
        }
        let pairs = raw.split('&').filter(|p| !p.is_empty()).map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(key)?, decode(value)?))
        });
        Self::from_pairs(pairs.collect::<Result<Vec<_>, InitDataError>>()?)
    }

    /// A key that repeats is ambiguous (which one was signed?): refused before hashing.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, InitDataError> {
        let mut pairs = pairs;
        if pairs.iter().any(|(k, _)| k.is_empty()) {
            return Err(InitDataError::Malformed);
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if pairs.windows(2).any(|w| matches!(w, [a, b] if a.0 == b.0)) {
            return Err(InitDataError::Malformed);
        }
        Ok(Fields(pairs))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key=value` lines of every field except `excluded`, joined by `\n`, values as received.
    pub fn check_string(&self, excluded: &[&str]) -> String {
        let lines: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| !excluded.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        lines.join("\n")
    }

    /// Checks `hash` = hex HMAC-SHA256(secret_key, data-check string without `hash`), in
    /// constant time after hex-decoding.
    pub fn verify_hash(&self, secret_key: &[u8]) -> Result<(), InitDataError> {
        let hash = self.get("hash").ok_or(InitDataError::MissingHash)?;
        let expected = hex::decode(hash).map_err(|_| InitDataError::InvalidHash)?;
        let mut mac = hmac_sha256(secret_key).ok_or(InitDataError::InvalidHash)?;
        mac.update(self.check_string(&["hash"]).as_bytes());
        mac.verify_slice(&expected)
            .map_err(|_| InitDataError::InvalidHash)
    }

    /// `auth_date` as a time, if not older than `max_age` and not ahead of `now` by more than
    /// [`MAX_FUTURE_SKEW_SECONDS`].
    pub fn fresh_auth_date(
        &self,
        now: DateTime<Utc>,
        max_age: TimeDelta,
    ) -> Result<DateTime<Utc>, InitDataError> {
        let auth_date = self
            .get("auth_date")
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|v| *v > 0)
            .and_then(|v| DateTime::from_timestamp(v, 0))
            .ok_or(InitDataError::InvalidAuthDate)?;
        if auth_date - now > TimeDelta::seconds(MAX_FUTURE_SKEW_SECONDS) {
            return Err(InitDataError::InvalidAuthDate);
        }
        if now - auth_date > max_age {
            return Err(InitDataError::Expired);
        }
        Ok(auth_date)
    }
}

fn decode(part: &str) -> Result<String, InitDataError> {
    let spaced: Vec<u8> = part
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|_| InitDataError::Malformed)
}

/// HMAC accepts keys of any length, so `None` never happens in practice.
pub(super) fn hmac_sha256(key: &[u8]) -> Option<Hmac<Sha256>> {
    Hmac::<Sha256>::new_from_slice(key).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_and_sorts() {
        let fields = Fields::from_query("b=x+y%2B&a=%D0%90&&c").unwrap();
        assert_eq!(fields.check_string(&[]), "a=А\nb=x y+\nc=");
    }

    #[test]
    fn refuses_duplicates_empty_keys_and_bad_utf8() {
        assert!(Fields::from_query("a=1&a=1").is_err());
        assert!(Fields::from_query("=1").is_err());
        assert!(Fields::from_query("a=%FF").is_err());
    }
}
