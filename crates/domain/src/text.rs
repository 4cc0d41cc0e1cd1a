//! Written activity (comments, mentions, messages) reduced to what the rules need to refuse a
//! text the member was already paid for: a fingerprint of its normalised form, never the text.
//!
//! Normalised as codewords are: Unicode NFKC, lower case, Latin/Cyrillic look-alikes folded,
//! letters and digits kept, everything else (spaces, punctuation, emoji, invisible joiners)
//! dropped, so "Nice post!" and "NICE   post" are one text. A text of nothing but symbols
//! ("🔥🔥🔥") keeps its symbols, without spaces and joiners.
//!
//! The fingerprint is FNV-1a (64 bits) of the normalised UTF-8, written out here so it is the
//! same on every platform and Rust version; it is stored in events, so the normalisation and
//! the hash must never change (tests pin known values).

use crate::codeword;
use crate::time::Timestamp;
use chrono::Duration;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// The normalised form two texts share when the rules count them as the same text.
pub fn normalise(text: &str) -> String {
    let words = codeword::tokens(text).concat();
    if !words.is_empty() {
        return words;
    }
    text.nfkc()
        .filter(|c| !c.is_whitespace() && !codeword::is_joiner(*c))
        .collect()
}

/// A stable 64-bit hash of a text's normalised form. Shown and stored as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TextFingerprint(pub u64);

impl TextFingerprint {
    /// The fingerprint of `text`, or `None` when nothing is left of it once normalised.
    pub fn of(text: &str) -> Option<Self> {
        let normalised = normalise(text);
        if normalised.is_empty() {
            return None;
        }
        Some(Self(fnv1a64(normalised.as_bytes())))
    }
}

/// FNV-1a, 64-bit: offset basis 0xcbf29ce484222325, prime 0x100000001b3.
fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

impl fmt::Display for TextFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for TextFingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TextFingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let hex = String::deserialize(deserializer)?;
        if hex.len() != 16 {
            return Err(serde::de::Error::custom(
                "a text fingerprint is 16 hex digits",
            ));
        }
        u64::from_str_radix(&hex, 16)
            .map(Self)
            .map_err(|_| serde::de::Error::custom("a text fingerprint is 16 hex digits"))
    }
}

/// How the rules in force treat a comment, mention or message whose text the member was
/// already paid for (awards reversed or compensated later still count as paid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatedText {
    /// A repeat earns like any other text.
    Earns,
    /// A text earns once per member, ever.
    EarnsOnce,
    /// A text earns again only when it happened at least this many days before or after every
    /// paid copy.
    EarnsOnceWithin {
        /// The least distance, in days, from every paid copy.
        days: u32,
    },
}

impl RepeatedText {
    /// Whether an activity at `at` with a text paid at `paid` (every time it was paid) is a
    /// repeat the rules refuse.
    pub fn refuses(self, paid: &[Timestamp], at: Timestamp) -> bool {
        match self {
            RepeatedText::Earns => false,
            RepeatedText::EarnsOnce => !paid.is_empty(),
            RepeatedText::EarnsOnceWithin { days } => {
                let window = Duration::days(i64::from(days));
                paid.iter().any(|p| (at - *p).abs() < window)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> TextFingerprint {
        TextFingerprint::of(text).expect("some text")
    }

    #[test]
    fn case_spacing_punctuation_and_unicode_forms_do_not_matter() {
        let same = [
            "Отличный пост!",
            "отличный   ПОСТ",
            "ОТЛИЧНЫЙ пост!!! ",
            "«Отличный» — пост.",
            "Отличный\u{00A0}пост",
            "Отличный\u{200B} пост",
        ];
        for text in same {
            assert_eq!(fp(text), fp(same[0]), "{text:?}");
        }
        assert_eq!(fp("café"), fp("CAFE\u{301}"));
        assert_eq!(fp("ｎｉｃｅ post"), fp("nice post"));
        assert_eq!(fp("СЕКРЕТ"), fp("cekpet"), "look-alikes are one text");
    }

    #[test]
    fn different_words_are_different_texts() {
        assert_ne!(fp("Отличный пост"), fp("Отличный пост 2"));
        assert_ne!(fp("nice post"), fp("nice posts"));
        assert_ne!(fp("🔥"), fp("🔥🔥"));
        assert_eq!(fp("🔥 🔥"), fp("🔥🔥"));
        assert_eq!(fp("❤️"), fp("❤"), "variation selectors are invisible");
    }

    #[test]
    fn nothing_left_is_no_text() {
        assert_eq!(TextFingerprint::of(""), None);
        assert_eq!(TextFingerprint::of("  \u{200B} \n"), None);
    }

    /// Stored in events: these values must never change.
    #[test]
    fn fingerprints_are_pinned() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(normalise("Nice post!"), "nicepost");
        assert_eq!(fp("Nice post!").to_string(), "0cd381b9bfe829f6");
        // Cyrillic letters with Latin look-alikes are folded to them.
        assert_eq!(normalise("Отличный пост!"), "otличhыйпoct");
        assert_eq!(fp("Отличный пост!").to_string(), "abd3ec672dfab0b7");
        assert_eq!(normalise("🔥 🔥"), "🔥🔥");
        assert_eq!(fp("🔥 🔥").to_string(), "1716ceac056da3dd");
    }

    #[test]
    fn serialises_as_sixteen_hex_digits() {
        let json = serde_json::to_string(&TextFingerprint(0xab)).expect("serialises");
        assert_eq!(json, "\"00000000000000ab\"");
        let back: TextFingerprint = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, TextFingerprint(0xab));
        assert!(serde_json::from_str::<TextFingerprint>("\"ab\"").is_err());
        assert!(serde_json::from_str::<TextFingerprint>("\"zzzzzzzzzzzzzzzz\"").is_err());
    }

    #[test]
    fn windows_are_symmetric_and_strict() {
        let t = |d: i64| Timestamp::new(chrono::DateTime::UNIX_EPOCH + Duration::days(d));
        let paid = [t(10)];
        assert!(!RepeatedText::Earns.refuses(&paid, t(10)));
        assert!(RepeatedText::EarnsOnce.refuses(&paid, t(10_000)));
        assert!(!RepeatedText::EarnsOnce.refuses(&[], t(10)));
        let week = RepeatedText::EarnsOnceWithin { days: 7 };
        assert!(week.refuses(&paid, t(16)));
        assert!(week.refuses(&paid, t(4)));
        assert!(!week.refuses(&paid, t(17)));
        assert!(!week.refuses(&paid, t(3)));
    }
}
