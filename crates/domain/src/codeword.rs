//! Codewords typed by people on phones: matched forgiving case, spacing, punctuation, Unicode
//! forms and Latin/Cyrillic look-alikes, but never inside another word.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// A campaign's secret word, as the manager typed it plus its matching skeleton.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Codeword {
    /// As the manager typed it, trimmed: what screens show.
    pub display: String,
    /// The normalised letters and digits a comment is matched against.
    pub skeleton: String,
}

const MIN_SKELETON_CHARS: usize = 3;
const MAX_DISPLAY_CHARS: usize = 64;

impl Codeword {
    /// A codeword from what a manager typed; refused when too long or with fewer than three
    /// letters or digits once normalised.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let display = raw.trim().to_string();
        if display.chars().count() > MAX_DISPLAY_CHARS {
            return Err(DomainError::InvalidCodeword(format!(
                "at most {MAX_DISPLAY_CHARS} characters"
            )));
        }
        let skeleton: String = tokens(&display).concat();
        if skeleton.chars().count() < MIN_SKELETON_CHARS {
            return Err(DomainError::InvalidCodeword(format!(
                "needs at least {MIN_SKELETON_CHARS} letters or digits"
            )));
        }
        Ok(Self { display, skeleton })
    }

    /// True when the text contains the codeword as whole words: a run of consecutive words
    /// whose skeletons concatenate to exactly the codeword's skeleton.
    pub fn matches(&self, text: &str) -> bool {
        let words = tokens(text);
        let target = self.skeleton.as_str();
        for start in 0..words.len() {
            let mut joined = String::new();
            for word in &words[start..] {
                joined.push_str(word);
                if joined.len() >= target.len() {
                    break;
                }
            }
            if joined == target {
                return true;
            }
        }
        false
    }
}

/// Splits text into words (runs of letters and digits), each reduced to its skeleton.
pub(crate) fn tokens(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.nfkc() {
        if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                current.push(look_alike(lower));
            }
        } else if !is_joiner(c) && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Invisible characters that do not split a word (soft hyphen, zero-width joiners, marks).
pub(crate) fn is_joiner(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FE0F}'
    ) || ('\u{0300}'..='\u{036F}').contains(&c)
}

/// Maps Cyrillic letters to the Latin letters they look like (in either case), so "CEKPET"
/// typed in Latin and "СЕКРЕТ" typed in Cyrillic have the same skeleton.
fn look_alike(c: char) -> char {
    match c {
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' => 'e',
        'з' => '3',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'і' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(s: &str) -> Codeword {
        Codeword::parse(s).expect("valid codeword")
    }

    #[test]
    fn latin_look_alikes_match_cyrillic() {
        let c = word("СЕКРЕТ");
        assert!(c.matches("cekpet"));
        assert!(c.matches("CEKPET!"));
        assert!(c.matches("Мой ответ: «секрет» 🙂"));
        assert!(c.matches("с е к р е т"));
        assert!(c.matches("сек-рет"));
    }

    #[test]
    fn never_matches_inside_another_word() {
        let c = word("СЕКРЕТ");
        assert!(!c.matches("секретарь"));
        assert!(!c.matches("рассекретить"));
        assert!(!c.matches("сек ретро"));
        assert!(!c.matches(""));
    }

    #[test]
    fn unicode_forms_are_folded() {
        let c = word("CAFÉ");
        assert!(c.matches("cafe\u{301} time"));
        assert!(c.matches("ｃａｆé"));
    }

    #[test]
    fn rejects_too_short() {
        assert!(Codeword::parse("!!").is_err());
        assert!(Codeword::parse("ab").is_err());
    }
}
