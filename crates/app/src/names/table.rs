//! What a leaderboard calls a member, and one program's names kept compactly: the text of
//! every name in one string, and per member where its name lies in it. A million names take
//! 64 MB (2^21 index slots of 25 bytes, and the text); a map of `Arc<str>` took 101 MB.

use std::collections::HashMap;
use uuid::Uuid;

/// Member ids are UUIDv5 digests or random, not chosen by a caller: a fast hasher is safe.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Replaced text worth reclaiming only past this much (and past half of the text).
const COMPACT_ABOVE_BYTES: usize = 64 * 1024;

/// The name a leaderboard shows for a profile: the display name shortened to the first name
/// and an initial, else `@username`; `None` with neither.
pub fn shown_name(display_name: Option<&str>, username: Option<&str>) -> Option<String> {
    display_name
        .and_then(short_name)
        .or_else(|| username.filter(|u| !u.is_empty()).map(|u| format!("@{u}")))
}

/// "Анна Смирнова" → "Анна С.": enough to recognise oneself, less to expose others.
pub fn short_name(full: &str) -> Option<String> {
    let mut words = full.split_whitespace();
    let first = words.next()?;
    Some(match words.next().and_then(|w| w.chars().next()) {
        Some(initial) => format!("{first} {initial}."),
        None => first.to_string(),
    })
}

/// Where a member's name lies in [`NameTable::text`].
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

/// The shown names of one program's members; members without a name are absent.
#[derive(Debug, Default)]
pub struct NameTable {
    spans: FastMap<Uuid, Span>,
    text: String,
    /// Bytes of `text` that no member points at any more (names since replaced or removed).
    replaced_bytes: usize,
}

impl NameTable {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn get(&self, member: &Uuid) -> Option<&str> {
        let span = self.spans.get(member)?;
        let start = span.start as usize;
        self.text.get(start..start + span.len as usize)
    }

    /// Gives a member a name, or takes it away; false if that was already so.
    pub fn set(&mut self, member: Uuid, name: Option<&str>) -> bool {
        let old = self.get(&member);
        if old == name {
            return false;
        }
        self.replaced_bytes += old.map_or(0, str::len);
        match name.and_then(|name| self.append(name)) {
            Some(span) => self.spans.insert(member, span),
            None => self.spans.remove(&member),
        };
        if self.replaced_bytes > COMPACT_ABOVE_BYTES && self.replaced_bytes > self.text.len() / 2 {
            self.compact();
        }
        true
    }

    /// Returns unused capacity (after a load, whose sizes were not known in advance).
    pub fn shrink_to_fit(&mut self) {
        self.spans.shrink_to_fit();
        self.text.shrink_to_fit();
    }

    /// Bytes held: the index (hashbrown keeps a power of two of slots, at most 7/8 full, with
    /// one control byte each) and the text.
    pub fn heap_bytes(&self) -> usize {
        let slots = (self.spans.capacity() * 8 / 7).next_power_of_two();
        slots * (size_of::<(Uuid, Span)>() + 1) + self.text.capacity()
    }

    /// `None` past 4 GiB of text, which no program's names come near: the name is left out
    /// rather than wrap.
    fn append(&mut self, name: &str) -> Option<Span> {
        let start = u32::try_from(self.text.len()).ok()?;
        let len = u32::try_from(name.len()).ok()?;
        start.checked_add(len)?;
        self.text.push_str(name);
        Some(Span { start, len })
    }

    /// Copies the live names into a fresh text, dropping the replaced ones.
    fn compact(&mut self) {
        let mut text = String::with_capacity(self.text.len() - self.replaced_bytes);
        for span in self.spans.values_mut() {
            let start = span.start as usize;
            let name = self
                .text
                .get(start..start + span.len as usize)
                .unwrap_or("");
            // Fits in u32: the new text is shorter than the old.
            span.start = text.len() as u32;
            span.len = name.len() as u32;
            text.push_str(name);
        }
        self.text = text;
        self.replaced_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_the_last_name_to_an_initial() {
        assert_eq!(short_name("Анна Смирнова").as_deref(), Some("Анна С."));
        assert_eq!(short_name("  Boris ").as_deref(), Some("Boris"));
        assert_eq!(
            short_name("  Olga  Ivanova Petrovna ").as_deref(),
            Some("Olga I.")
        );
        assert_eq!(short_name("   "), None);
    }

    #[test]
    fn a_display_name_wins_over_the_username_and_blanks_count_as_absent() {
        assert_eq!(
            shown_name(Some("Анна Смирнова"), Some("anna")).as_deref(),
            Some("Анна С.")
        );
        assert_eq!(
            shown_name(Some(" "), Some("anna")).as_deref(),
            Some("@anna")
        );
        assert_eq!(shown_name(None, Some("anna")).as_deref(), Some("@anna"));
        assert_eq!(shown_name(Some(""), Some("")), None);
        assert_eq!(shown_name(None, None), None);
    }

    #[test]
    fn names_are_set_replaced_and_removed() {
        let (anna, boris) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut table = NameTable::default();
        assert!(table.set(anna, Some("Анна С.")));
        assert!(table.set(boris, Some("@boris")));
        assert!(!table.set(anna, Some("Анна С.")), "unchanged");
        assert_eq!(table.get(&anna), Some("Анна С."));
        assert!(table.set(anna, Some("Анна П.")));
        assert_eq!(table.get(&anna), Some("Анна П."));
        assert!(table.set(boris, None));
        assert!(!table.set(boris, None));
        assert_eq!(table.get(&boris), None);
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn replaced_text_is_reclaimed_and_names_survive_it() {
        let mut table = NameTable::default();
        let members: Vec<Uuid> = (0..1_000u128).map(Uuid::from_u128).collect();
        for round in 0..200 {
            for (i, member) in members.iter().enumerate() {
                table.set(*member, Some(&format!("Member {i} R{round}.")));
            }
        }
        for (i, member) in members.iter().enumerate() {
            assert_eq!(
                table.get(member),
                Some(format!("Member {i} R199.").as_str())
            );
        }
        // 200 rounds of ~14 bytes per member would be ~2.8 MB without compaction.
        let live: usize = members
            .iter()
            .filter_map(|m| table.get(m))
            .map(str::len)
            .sum();
        assert!(
            table.text.len() <= live * 2 + COMPACT_ABOVE_BYTES,
            "{}",
            table.text.len()
        );
        assert_eq!(table.replaced_bytes + live, table.text.len());
    }
}
