//! Codewords typed by people on phones: matched whatever the case, Unicode form, Latin or
//! Cyrillic look-alike letters and punctuation between letters, but never inside another word.

use domain::codeword::Codeword;
use proptest::prelude::*;
use proptest::sample::select;
use unicode_normalization::UnicodeNormalization;

/// Cyrillic letters and the Latin letters people type for them.
const LOOK_ALIKES: [(char, char); 13] = [
    ('А', 'A'),
    ('В', 'B'),
    ('Е', 'E'),
    ('З', '3'),
    ('К', 'K'),
    ('М', 'M'),
    ('Н', 'H'),
    ('О', 'O'),
    ('Р', 'P'),
    ('С', 'C'),
    ('Т', 'T'),
    ('У', 'Y'),
    ('Х', 'X'),
];

const SEPARATORS: [&str; 10] = [" ", "  ", "-", ".", ",", "_", "*", "!", "/", "\u{00A0}"];

fn codeword(raw: &str) -> Codeword {
    Codeword::parse(raw).expect("a valid codeword")
}

/// A word of Latin and Cyrillic letters and digits, as a manager would choose.
fn word() -> impl Strategy<Value = String> {
    "[a-zA-Zа-яА-ЯёЁ0-9]{3,12}"
}

/// Letters that stay one letter through upper and lower case.
fn flip_case(c: char) -> char {
    let flipped: Vec<char> = if c.is_lowercase() {
        c.to_uppercase().collect()
    } else {
        c.to_lowercase().collect()
    };
    if flipped.len() == 1 { flipped[0] } else { c }
}

/// A Cyrillic word made only of letters with Latin look-alikes, and for each letter whether
/// to type its Latin twin and whether in lower case.
fn look_alike_word() -> impl Strategy<Value = Vec<((char, char), bool, bool)>> {
    prop::collection::vec(
        (select(LOOK_ALIKES.to_vec()), any::<bool>(), any::<bool>()),
        3..10,
    )
}

fn to_fullwidth(c: char) -> char {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
        other => other,
    }
}

proptest! {
    #[test]
    fn a_codeword_matches_its_own_text(raw in word()) {
        prop_assert!(codeword(&raw).matches(&raw));
    }

    #[test]
    fn matching_ignores_case(raw in word(), flips in prop::collection::vec(any::<bool>(), 12)) {
        let typed: String =
            raw.chars().zip(&flips).map(|(c, flip)| if *flip { flip_case(c) } else { c }).collect();
        prop_assert!(codeword(&raw).matches(&typed), "{:?} vs {:?}", raw, typed);
        prop_assert!(codeword(&raw.to_uppercase()).matches(&raw.to_lowercase()));
    }

    #[test]
    fn latin_look_alikes_match_cyrillic(letters_typed in look_alike_word()) {
        let cyrillic: String = letters_typed.iter().map(|((cyr, _), _, _)| *cyr).collect();
        let typed: String = letters_typed
            .iter()
            .map(|((cyr, lat), latin, lower)| {
                let c = if *latin { *lat } else { *cyr };
                if *lower { c.to_lowercase().next().unwrap_or(c) } else { c }
            })
            .collect();
        prop_assert!(codeword(&cyrillic).matches(&typed), "{:?} vs {:?}", cyrillic, typed);
        prop_assert!(codeword(&typed).matches(&cyrillic), "{:?} vs {:?}", typed, cyrillic);
    }

    #[test]
    fn unicode_forms_change_nothing(raw in any::<String>(), text in any::<String>()) {
        let Ok(word) = Codeword::parse(&raw) else { return Ok(()) };
        let expected = word.matches(&text);
        let forms: [String; 4] = [
            text.nfc().collect(),
            text.nfd().collect(),
            text.nfkc().collect(),
            text.nfkd().collect(),
        ];
        for form in forms {
            prop_assert_eq!(word.matches(&form), expected);
        }
        let decomposed: String = raw.nfd().collect();
        prop_assert_eq!(codeword(&decomposed).skeleton, word.skeleton);
    }

    #[test]
    fn full_width_letters_match(raw in "[a-zA-Z0-9]{3,12}") {
        let wide: String = raw.chars().map(to_fullwidth).collect();
        prop_assert!(codeword(&raw).matches(&wide), "{:?}", wide);
    }

    #[test]
    fn punctuation_and_spaces_between_letters_are_ignored(
        raw in word(),
        gaps in prop::collection::vec(proptest::option::of(select(SEPARATORS.to_vec())), 12),
    ) {
        let mut typed = String::new();
        for (c, gap) in raw.chars().zip(&gaps) {
            typed.push(c);
            typed.push_str(gap.unwrap_or(""));
        }
        prop_assert!(codeword(&raw).matches(&typed), "{:?} vs {:?}", raw, typed);
    }

    #[test]
    fn a_codeword_is_found_among_other_words(
        raw in word(),
        before in any::<String>(),
        after in any::<String>(),
    ) {
        let text = format!("{before} {raw}, {after}");
        prop_assert!(codeword(&raw).matches(&text), "{:?}", text);
    }

    #[test]
    fn a_codeword_never_matches_inside_a_longer_word(
        raw in word(),
        prefix in "[a-zA-Zа-яА-Я0-9]{0,4}",
        suffix in "[a-zA-Zа-яА-Я0-9]{0,4}",
    ) {
        prop_assume!(!prefix.is_empty() || !suffix.is_empty());
        let text = format!("Мой ответ: {prefix}{raw}{suffix}!");
        prop_assert!(!codeword(&raw).matches(&text), "{:?} in {:?}", raw, text);
    }

    #[test]
    fn arbitrary_unicode_never_panics(raw in any::<String>(), text in any::<String>()) {
        if let Ok(word) = Codeword::parse(&raw) {
            prop_assert_eq!(&word.display, raw.trim());
            prop_assert!(word.skeleton.chars().count() >= 3);
            prop_assert_eq!(codeword(&word.display).skeleton, word.skeleton.clone());
            let _ = word.matches(&text);
        }
    }
}

#[test]
fn cekpet_typed_in_latin_matches_cyrillic_cekpet() {
    assert!(codeword("СЕКРЕТ").matches("CEKPET"));
    assert!(codeword("CEKPET").matches("секрет"));
    assert!(codeword("СЕКРЕТ").matches("Мой ответ — «С-Е-К-Р-Е-Т»!"));
}

#[test]
fn yo_is_written_as_ye() {
    assert!(codeword("ЁЛКА").matches("елка"));
    assert!(codeword("елка").matches("ЁЛКА"));
}

#[test]
fn invisible_characters_do_not_split_a_word() {
    let secret = codeword("secret");
    assert!(secret.matches("sec\u{00AD}ret"));
    assert!(secret.matches("sec\u{200B}ret"));
    assert!(!secret.matches("secret\u{200D}ary"));
}

#[test]
fn codewords_with_digits_match_whole() {
    let promo = codeword("PROMO 2025");
    assert!(promo.matches("promo2025"));
    assert!(promo.matches("#promo_2025"));
    assert!(!promo.matches("promo20251"));
    assert!(!promo.matches("promo 2024"));
}

#[test]
fn a_codeword_needs_three_letters_and_at_most_64_characters() {
    assert!(Codeword::parse(" a-b ").is_err());
    assert!(Codeword::parse("abc").is_ok());
    assert!(Codeword::parse(&"x".repeat(64)).is_ok());
    assert!(Codeword::parse(&"x".repeat(65)).is_err());
}
