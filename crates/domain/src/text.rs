//! Written activity (comments, mentions, messages) reduced to what the rules need to refuse a
//! text the member was already paid for: a fingerprint of its normalised form, never the text.
//!
//! Normalised as codewords are: Unicode NFKC, lower case, Latin/Cyrillic look-alikes folded,
//! letters and digits kept, everything else (spaces, punctuation, emoji, invisible joiners)
//! dropped, so "Nice post!" and "NICE   post" are one text. A text of nothing but symbols
//! ("🔥🔥🔥") keeps its symbols, without spaces and joiners.
//!
//! The fingerprint is keyed per program and installation ([`crate::privacy::PrivacyKeys::text`]);
//! it is stored in events, so the normalisation must never change (tests pin known values).

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

/// 64 bits of a keyed hash of a text's normalised form. Shown and stored as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TextFingerprint(pub u64);

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
            assert_eq!(normalise(text), normalise(same[0]), "{text:?}");
        }
        assert_eq!(normalise("café"), normalise("CAFE\u{301}"));
        assert_eq!(normalise("ｎｉｃｅ post"), normalise("nice post"));
        assert_eq!(
            normalise("СЕКРЕТ"),
            normalise("cekpet"),
            "look-alikes are one text"
        );
    }

    #[test]
    fn different_words_are_different_texts() {
        assert_ne!(normalise("Отличный пост"), normalise("Отличный пост 2"));
        assert_ne!(normalise("nice post"), normalise("nice posts"));
        assert_ne!(normalise("🔥"), normalise("🔥🔥"));
        assert_eq!(normalise("🔥 🔥"), normalise("🔥🔥"));
        assert_eq!(
            normalise("❤️"),
            normalise("❤"),
            "variation selectors are invisible"
        );
    }

    #[test]
    fn nothing_left_is_no_text() {
        assert_eq!(normalise(""), "");
        assert_eq!(normalise("  \u{200B} \n"), "");
    }

    /// Stored in events: these values must never change.
    #[test]
    fn normal_forms_are_pinned() {
        assert_eq!(normalise("Nice post!"), "nicepost");
        // Cyrillic letters with Latin look-alikes are folded to them.
        assert_eq!(normalise("Отличный пост!"), "otличhыйпoct");
        assert_eq!(normalise("🔥 🔥"), "🔥🔥");
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
