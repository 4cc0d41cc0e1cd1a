//! The content digest of a stored payload, computed like `store::digest::content_digest` but
//! without building a `serde_json::Value`. Same bytes out (keys in byte order, scalars written
//! by serde_json). Most payloads take the fast way: PostgreSQL's jsonb text (no duplicate keys,
//! strings without escapes, integers) is rewritten in one pass, values copied as they are and
//! only the keys of each object sorted. Anything else (escapes, fractions, huge or odd numbers,
//! deep nesting, invalid JSON) takes the general way: a tree of borrowed strings, sorted at write
//! time. The hash chain check is the audit's busiest thread after the fold.

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

/// Buffers reused from one digest to the next.
#[derive(Default)]
pub(crate) struct Scratch {
    canonical: Vec<u8>,
    /// (key start, key end) in the text and (start, end) in the output of the entries of the
    /// objects being rewritten, innermost last.
    entries: Vec<(usize, usize, usize, usize)>,
    /// Where an object's entries are put in order before going back into the output.
    sorted: Vec<u8>,
}

/// sha256(event id || type || 0 || schema version || canonical payload), from the payload's
/// text.
pub(crate) fn content_digest(
    event_id: Uuid,
    event_type: &str,
    schema_version: i16,
    payload: &str,
    scratch: &mut Scratch,
) -> Option<[u8; 32]> {
    let canonical = &mut scratch.canonical;
    canonical.clear();
    let mut fast = Fast {
        text: payload.as_bytes(),
        at: 0,
        entries: &mut scratch.entries,
        sorted: &mut scratch.sorted,
    };
    if fast.canonical(canonical).is_none() {
        canonical.clear();
        let json: Json = serde_json::from_str(payload).ok()?;
        json.write(canonical);
    }
    let mut hasher = Sha256::new();
    hasher.update(event_id.as_bytes());
    hasher.update(event_type.as_bytes());
    hasher.update([0u8]);
    hasher.update(schema_version.to_be_bytes());
    hasher.update(&*canonical);
    Some(hasher.finalize().into())
}

/// Deeper than this takes the general way (whose parser refuses nesting beyond 128).
const FAST_MAX_DEPTH: usize = 32;

/// The one-pass rewrite of JSON text in the subset PostgreSQL's jsonb output mostly is;
/// `None` as soon as the text leaves it (the caller then starts over the general way).
struct Fast<'a> {
    text: &'a [u8],
    at: usize,
    entries: &'a mut Vec<(usize, usize, usize, usize)>,
    sorted: &'a mut Vec<u8>,
}

impl<'a> Fast<'a> {
    /// Rewrites the whole text into `out` (`entries` may hold leftovers of an earlier `None`).
    fn canonical(&mut self, out: &mut Vec<u8>) -> Option<()> {
        self.entries.clear();
        self.value(out, 0)?;
        self.skip_space();
        (self.at == self.text.len()).then_some(())
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.text.get(self.at) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (self.text.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    /// Where a string's bytes start and end (without its quotes), if it has no escape.
    fn string(&mut self) -> Option<(usize, usize)> {
        self.eat(b'"')?;
        let start = self.at;
        let end = start + memchr::memchr2(b'"', b'\\', &self.text[start..])?;
        // A backslash before the closing quote means escapes; a raw control character, invalid
        // JSON (the check has no early exit: one vectorised pass).
        let raw = &self.text[start..end];
        if self.text[end] != b'"' || raw.iter().fold(false, |c, &b| c | (b < 0x20)) {
            return None;
        }
        self.at = end + 1;
        Some((start, end))
    }

    fn value(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        if depth > FAST_MAX_DEPTH {
            return None;
        }
        self.skip_space();
        match *self.text.get(self.at)? {
            b'{' => self.object(out, depth),
            b'[' => {
                self.at += 1;
                out.push(b'[');
                if self.eat(b']').is_none() {
                    loop {
                        self.value(out, depth + 1)?;
                        if self.eat(b']').is_some() {
                            break;
                        }
                        self.eat(b',')?;
                        out.push(b',');
                    }
                }
                out.push(b']');
                Some(())
            }
            b'"' => {
                let (start, end) = self.string()?;
                out.extend_from_slice(&self.text[start - 1..=end]);
                Some(())
            }
            b't' => self.literal(b"true", out),
            b'f' => self.literal(b"false", out),
            b'n' => self.literal(b"null", out),
            _ => self.integer(out),
        }
    }

    fn literal(&mut self, word: &[u8], out: &mut Vec<u8>) -> Option<()> {
        self.text[self.at..].starts_with(word).then(|| {
            self.at += word.len();
            out.extend_from_slice(word);
        })
    }

    /// `0` or `-?[1-9][0-9]{0,17}`: written by serde_json as it reads (an i64 or u64). Others
    /// (fractions, exponents, `-0`, 19 digits or more) it may write otherwise.
    fn integer(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let start = self.at;
        let negative = self.text[start] == b'-';
        let digits_start = start + usize::from(negative);
        let digits = self.text[digits_start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let first = *self.text.get(digits_start)?;
        let plain_zero = digits == 1 && first == b'0' && !negative;
        if digits == 0 || digits > 18 || (first == b'0' && !plain_zero) {
            return None;
        }
        let end = digits_start + digits;
        if let Some(b'.' | b'e' | b'E') = self.text.get(end) {
            return None;
        }
        out.extend_from_slice(&self.text[start..end]);
        self.at = end;
        Some(())
    }

    fn object(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        self.at += 1;
        let body = out.len() + 1;
        out.push(b'{');
        let first = self.entries.len();
        if self.eat(b'}').is_none() {
            loop {
                let (key_start, key_end) = self.string()?;
                self.eat(b':')?;
                let start = out.len();
                out.extend_from_slice(&self.text[key_start - 1..=key_end]);
                out.push(b':');
                self.value(out, depth + 1)?;
                self.entries.push((key_start, key_end, start, out.len()));
                if self.eat(b'}').is_some() {
                    break;
                }
                self.eat(b',')?;
                out.push(b',');
            }
        }
        let text = self.text;
        let key = |e: &(usize, usize, usize, usize)| &text[e.0..e.1];
        let entries = &mut self.entries[first..];
        if !entries.is_sorted_by(|a, b| key(a) < key(b)) {
            entries.sort_unstable_by(|a, b| key(a).cmp(key(b)));
            // Equal keys (never in jsonb) are left to the general way's rules.
            if entries.windows(2).any(|w| key(&w[0]) == key(&w[1])) {
                return None;
            }
            self.sorted.clear();
            for (i, &(.., start, end)) in entries.iter().enumerate() {
                if i > 0 {
                    self.sorted.push(b',');
                }
                self.sorted.extend_from_slice(&out[start..end]);
            }
            out.truncate(body);
            out.extend_from_slice(self.sorted);
        }
        self.entries.truncate(first);
        out.push(b'}');
        Some(())
    }
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
                content_digest(id, "T", 1, p, &mut Scratch::default()),
                Some(store::digest::content_digest(id, "T", 1, &value)),
                "{p}"
            );
        }
        assert_eq!(
            content_digest(Uuid::nil(), "T", 1, "{not json", &mut Scratch::default()),
            None
        );
    }

    /// The fast way's bytes, if it takes the text.
    fn fast(text: &str) -> Option<Vec<u8>> {
        let (mut out, mut entries, mut sorted) = (Vec::new(), Vec::new(), Vec::new());
        let mut fast = Fast {
            text: text.as_bytes(),
            at: 0,
            entries: &mut entries,
            sorted: &mut sorted,
        };
        fast.canonical(&mut out).map(|()| out)
    }

    fn store_canonical(text: &str) -> Option<Vec<u8>> {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let mut out = Vec::new();
        store::digest::write_canonical(&value, &mut out);
        Some(out)
    }

    /// JSON as PostgreSQL writes jsonb: `": "` and `", "`, keys shorter first, then by bytes.
    fn jsonb_text(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
                let entries: Vec<String> = keys
                    .into_iter()
                    .map(|k| {
                        format!(
                            "{}: {}",
                            serde_json::Value::from(k.as_str()),
                            jsonb_text(&map[k])
                        )
                    })
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
            serde_json::Value::Array(items) => {
                let items: Vec<String> = items.iter().map(jsonb_text).collect();
                format!("[{}]", items.join(", "))
            }
            scalar => scalar.to_string(),
        }
    }

    /// Integers below 19 digits, strings needing no escape: what the fast way must take.
    fn fast_eligible(value: &serde_json::Value) -> bool {
        let plain = |s: &str| !s.chars().any(|c| c == '"' || c == '\\' || c < ' ');
        match value {
            serde_json::Value::Number(n) => n
                .as_i64()
                .map(|i| i.unsigned_abs())
                .or(n.as_u64())
                .is_some_and(|i| i < 1_000_000_000_000_000_000),
            serde_json::Value::String(s) => plain(s),
            serde_json::Value::Array(items) => items.iter().all(fast_eligible),
            serde_json::Value::Object(map) => map.iter().all(|(k, v)| plain(k) && fast_eligible(v)),
            _ => true,
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            (-1000i32..1000).prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            "[a-z_]{0,12}".prop_map(serde_json::Value::from),
            ".{0,8}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a-z_]{0,10}|.{0,4}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn the_fast_way_takes_what_postgresql_writes_and_leaves_the_rest() {
        let stored = r#"{"at": "2026-11-23T10:00:00Z", "type": "PointsAwarded", "points": 10, "activity": {"kind": "comment", "network": "vk"}, "member_id": "6f1c", "campaign_id": null, "list": [0, -7, true, false, [], {}]}"#;
        assert_eq!(fast(stored), store_canonical(stored));
        for general in [
            r#"{"a": "quote " inside"}"#,
            r#"{"a": 1.5}"#,
            r#"{"a": 1e3}"#,
            r#"{"a": -0}"#,
            r#"{"a": 1234567890123456789}"#,
            r#"{"a": 1, "a": 2}"#,
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
            r#"{"a": 01}"#,
            r#"{"a": tru}"#,
            r#"{"a": 1,}"#,
            r#"{"a": 1} x"#,
        ] {
            assert_eq!(fast(general), None, "{general}");
        }
    }

    proptest::proptest! {
        /// Whatever a payload holds, jsonb's way of writing it or serde_json's: the same digest
        /// as the store's, and jsonb text of integers and plain strings takes the fast way.
        #[test]
        fn any_payload_digests_as_in_the_store(value in json_value()) {
            let id = Uuid::from_u128(11);
            for text in [jsonb_text(&value), value.to_string()] {
                // As read back: serde_json's float parsing is not always exact, in both ways.
                let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let expected = store::digest::content_digest(id, "T", 1, &parsed);
                proptest::prop_assert_eq!(content_digest(id, "T", 1, &text, &mut Scratch::default()), Some(expected), "{}", text);
            }
            if fast_eligible(&value) {
                let plain = jsonb_text(&value);
                proptest::prop_assert!(fast(&plain).is_some(), "{}", plain);
            }
        }

        /// Text near JSON: whatever the fast way takes is JSON, written as the store writes it.
        #[test]
        fn the_fast_way_takes_only_json(text in "[\\[\\]{}\",: 0-9a-z.eE\\\\-]{0,40}") {
            if let Some(bytes) = fast(&text) {
                proptest::prop_assert_eq!(Some(bytes), store_canonical(&text), "{}", text);
            }
        }

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
                    content_digest(id, "T", 1, &p, &mut Scratch::default()),
                    Some(store::digest::content_digest(id, "T", 1, &parsed))
                );
            }
        }
    }
}
