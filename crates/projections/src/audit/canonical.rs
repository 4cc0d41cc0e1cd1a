//! The content digest of a stored payload, computed like `store::digest::content_digest` but
//! without building a `serde_json::Value`: strings stay borrowed from the text and objects are
//! short vectors sorted at write time. Same bytes out (keys in byte order, scalars written by
//! serde_json), about half the work: the hash chain check is the audit's busiest thread.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use uuid::Uuid;

enum Json<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// sha256(event id || type || 0 || schema version || canonical payload), from the payload's text.
pub(crate) fn content_digest(
    event_id: Uuid,
    event_type: &str,
    schema_version: i16,
    payload: &str,
) -> Option<[u8; 32]> {
    let json: Json = serde_json::from_str(payload).ok()?;
    let mut canonical = Vec::with_capacity(payload.len());
    json.write(&mut canonical);
    let mut hasher = Sha256::new();
    hasher.update(event_id.as_bytes());
    hasher.update(event_type.as_bytes());
    hasher.update([0u8]);
    hasher.update(schema_version.to_be_bytes());
    hasher.update(&canonical);
    Some(hasher.finalize().into())
}

impl Json<'_> {
    fn write(&self, out: &mut Vec<u8>) {
        // Writing JSON scalars into a Vec cannot fail.
        match self {
            Json::Null => out.extend_from_slice(b"null"),
            Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Json::Number(n) => {
                let _ = serde_json::to_writer(&mut *out, n);
            }
            Json::String(s) => write_str(s, out),
            Json::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Json::Object(entries) => {
                let mut sorted: Vec<&(Cow<str>, Json)> = entries.iter().collect();
                sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                out.push(b'{');
                for (i, (key, value)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(key, out);
                    out.push(b':');
                    value.write(out);
                }
                out.push(b'}');
            }
        }
    }
}

/// A string as serde_json writes it. One borrowed from the text had no escape in it, and
/// valid JSON text cannot hold a character that needs one unescaped, so its bytes go as they
/// are (most strings; the escaping scan was a tenth of the hash chain thread).
#[expect(
    clippy::ptr_arg,
    reason = "whether the Cow borrows is what matters here"
)]
fn write_str(s: &Cow<str>, out: &mut Vec<u8>) {
    match s {
        Cow::Borrowed(s) => {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
        Cow::Owned(s) => {
            let _ = serde_json::to_writer(&mut *out, s);
        }
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json<'de>, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("not a JSON number"))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut entries = Vec::new();
        while let Some((Key(key), value)) = map.next_entry::<Key<'de>, Json<'de>>()? {
            entries.push((key, value));
        }
        Ok(Json::Object(entries))
    }
}

/// An object key, borrowed from the text unless it has escapes (`Cow`'s own impl always copies).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_str(JsonVisitor)? {
            Json::String(s) => Ok(Key(s)),
            _ => Err(serde::de::Error::custom("an object key must be a string")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_digest_as_the_store() {
        let payloads = [
            r#"{"type": "PointsAwarded", "points": 10, "at": "2026-11-23T10:00:00Z", "activity": {"network": "vk", "kind": "comment", "reference": "a\"b\\c\u00e9\n"}, "campaign_id": null, "list": [1, -2, 3.5, true, {"z": 1, "a": []}]}"#,
            r#"{"b": {"y": 1, "x": 2}, "a": "é", "aa": "\u0001", "A": 18446744073709551615}"#,
            r#"[]"#,
        ];
        for p in payloads {
            let value: serde_json::Value = serde_json::from_str(p).unwrap();
            let id = Uuid::from_u128(7);
            assert_eq!(
                content_digest(id, "T", 1, p),
                Some(store::digest::content_digest(id, "T", 1, &value)),
                "{p}"
            );
        }
        assert_eq!(content_digest(Uuid::nil(), "T", 1, "{not json"), None);
    }

    proptest::proptest! {
        /// Any text in keys and values (quotes, backslashes, control characters, non-ASCII),
        /// escaped or not: the same bytes as the store's digest.
        #[test]
        fn any_strings_digest_as_in_the_store(key in ".*", text in ".*", raw in "[^\"\\\\\\x00-\\x1f]*") {
            let value = serde_json::json!({ key.clone(): text, "raw": [raw.clone()], "k": {key: 1} });
            let escaped = serde_json::to_string(&value).unwrap_or_default();
            // Unescaped where JSON allows it, as PostgreSQL writes jsonb.
            let unescaped = format!("{{\"raw\": [\"{raw}\"], \"k\": 1}}");
            for p in [escaped, unescaped] {
                let parsed: serde_json::Value = serde_json::from_str(&p).unwrap_or_default();
                let id = Uuid::from_u128(9);
                proptest::prop_assert_eq!(
                    content_digest(id, "T", 1, &p),
                    Some(store::digest::content_digest(id, "T", 1, &parsed))
                );
            }
        }
    }
}
