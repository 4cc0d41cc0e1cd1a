//! The language every surface speaks to a member in, and the one rule that picks it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A language the bot and the Mini App have texts for. Each surface keeps its own catalogue
/// keyed by this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ru,
    En,
}

/// Primary subtags whose speakers commonly read Russian better than English: Russian,
/// Belarusian, Ukrainian, Kazakh, Kyrgyz, Tajik, Uzbek.
const READ_RUSSIAN: [&str; 7] = ["ru", "be", "uk", "kk", "ky", "tg", "uz"];

impl Language {
    /// The rule for a Telegram `language_code` (an IETF tag: `ru`, `ru-RU`, `en-US`, `uk`):
    /// Russian when the code is missing or blank (the programs are run in Russian) and for
    /// the languages in `READ_RUSSIAN`; English for every other code. Only the primary
    /// subtag counts, in any case. The Mini App page applies the same rule (`app.js`).
    pub fn from_code(code: Option<&str>) -> Language {
        let primary = code
            .and_then(|c| c.trim().split(['-', '_']).next())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if primary.is_empty() || READ_RUSSIAN.contains(&primary.as_str()) {
            Language::Ru
        } else {
            Language::En
        }
    }

    /// The Russian or the English of a two-language text, for catalogues.
    pub fn pick<T>(self, ru: T, en: T) -> T {
        match self {
            Language::Ru => ru,
            Language::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Language::{self, En, Ru};

    #[test]
    fn russian_for_russian_readers_and_a_missing_code_english_otherwise() {
        let cases: [(Option<&str>, Language); 14] = [
            (None, Ru),
            (Some(""), Ru),
            (Some("  "), Ru),
            (Some("ru"), Ru),
            (Some("ru-RU"), Ru),
            (Some("RU"), Ru),
            (Some("uk"), Ru),
            (Some("be-BY"), Ru),
            (Some("kk"), Ru),
            (Some("uz_UZ"), Ru),
            (Some("en"), En),
            (Some("en-US"), En),
            (Some("de"), En),
            (Some("rus"), En),
        ];
        for (code, expected) in cases {
            assert_eq!(Language::from_code(code), expected, "{code:?}");
        }
    }
}
