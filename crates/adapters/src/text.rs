//! Mentions found in member text. Programs compare them with the brand's handle.

/// Instagram handles are at most 30 characters of letters, digits, `.` and `_`.
const MAX_HANDLE_CHARS: usize = 30;

/// `@handle` mentions in free text (Instagram comments), lower case, without `@`.
/// An `@` right after a letter or digit is an e-mail address, not a mention.
pub(crate) fn at_handles(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    for (start, c) in text.char_indices() {
        let after_word = previous.is_some_and(|p| p.is_alphanumeric() || p == '_');
        previous = Some(c);
        if c != '@' || after_word {
            continue;
        }
        let rest = text.get(start + 1..).unwrap_or("");
        let handle: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
            .take(MAX_HANDLE_CHARS)
            .collect();
        let handle = handle.trim_end_matches('.');
        if !handle.is_empty() {
            push_unique(&mut found, handle.to_ascii_lowercase());
        }
    }
    found
}

/// VK markup mentions `[id123|Name]`, `[club123|Name]`, `[public123|Name]` → `id123`, `club123`,
/// and the plain `@id123`, `@club123`, `@public123` a member may type.
pub(crate) fn vk_mentions(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for handle in at_handles(text) {
        let digits = ["id", "club", "public"]
            .iter()
            .find_map(|p| handle.strip_prefix(p).map(|d| (*p, d)))
            .filter(|(_, d)| {
                !d.is_empty() && d.len() <= 20 && d.bytes().all(|b| b.is_ascii_digit())
            });
        if let Some((prefix, digits)) = digits {
            let prefix = if prefix == "public" { "club" } else { prefix };
            push_unique(&mut found, format!("{prefix}{digits}"));
        }
    }
    for (open, _) in text.match_indices('[') {
        let Some(inner) = text.get(open + 1..) else {
            continue;
        };
        let Some(bar) = inner.find('|') else { continue };
        let Some(target) = inner.get(..bar) else {
            continue;
        };
        let digits = ["id", "club", "public"]
            .iter()
            .find_map(|p| target.strip_prefix(p))
            .filter(|d| !d.is_empty() && d.len() <= 20 && d.bytes().all(|b| b.is_ascii_digit()));
        if digits.is_some() {
            let target = target.replace("public", "club");
            push_unique(&mut found, target);
        }
    }
    found
}

/// The part of `text` at a Telegram entity offset/length, which count UTF-16 code units.
pub(crate) fn utf16_slice(text: &str, offset: usize, length: usize) -> Option<String> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let end = offset.checked_add(length)?;
    let slice = units.get(offset..end)?;
    String::from_utf16(slice).ok()
}

pub(crate) fn push_unique(found: &mut Vec<String>, item: String) {
    if !found.contains(&item) {
        found.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_instagram_handles_not_emails() {
        assert_eq!(
            at_handles("@Brand.Shop согласен, a@b.c @x_1."),
            ["brand.shop", "x_1"]
        );
        assert!(at_handles("@ @@").is_empty());
    }

    #[test]
    fn finds_vk_markup() {
        assert_eq!(
            vk_mentions("[id715002001|Анна], [public229871234|Brand] [idx|no]"),
            ["id715002001", "club229871234"]
        );
    }

    #[test]
    fn finds_vk_mentions_typed_with_an_at_sign() {
        assert_eq!(
            vk_mentions("спасибо @club229871234 и @public42, @id7; не @durov и не a@club1"),
            ["club229871234", "club42", "id7"]
        );
        assert_eq!(vk_mentions("[club5|A] и @club5"), ["club5"]);
    }

    #[test]
    fn slices_by_utf16_units() {
        // The emoji takes two UTF-16 units.
        assert_eq!(utf16_slice("🎉 @anna", 3, 5).as_deref(), Some("@anna"));
        assert_eq!(utf16_slice("🎉", 1, 1), None);
        assert_eq!(utf16_slice("a", usize::MAX, 2), None);
    }
}
