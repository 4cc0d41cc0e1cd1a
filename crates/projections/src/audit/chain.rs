//! Recomputes every stream's hash chain from the stored fields (`content_digest` of event id,
//! type, schema version and payload; `chain_hash` with the previous link) and reports the first
//! broken link of each stream: a changed field, a missing or repeated version.

use crate::projection::FastMap;
use serde::Serialize;
use std::collections::BTreeMap;
use store::digest::chain_hash;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenChain {
    pub stream_id: String,
    /// The global position of the first event whose link does not hold (0 for a missing one).
    pub position: i64,
    pub stream_version: i64,
    pub reason: String,
}

struct Link {
    position: i64,
    digest: [u8; 32],
    stored: Vec<u8>,
}

#[derive(Default)]
struct Stream {
    version: i64,
    /// The hash of `version` (unused before the first link: the chain starts from no bytes).
    hash: [u8; 32],
    broken: bool,
}

/// A stream's name as a map key: the names the ledger writes are a category and one or two
/// uuids, held as 33 bytes instead of a string on the heap (a million members' heads are held
/// at once); any other name, such as a tampered one, is kept as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum StreamKey {
    /// The category's index in [`CATEGORIES`], and its uuids (the second all zero but for an
    /// identity stream).
    Ids(u8, [u8; 32]),
    Other(Box<str>),
}

/// The categories of stream names, as `domain::stream::StreamId` writes them; identity streams
/// name a program and an account.
const CATEGORIES: [&str; 7] = [
    "program", "member", "campaign", "reward", "raffle", "season", "identity",
];
const IDENTITY: usize = 6;

impl StreamKey {
    fn of(name: &str) -> StreamKey {
        Self::parse(name).unwrap_or_else(|| StreamKey::Other(name.into()))
    }

    /// The compact key, only when writing it back gives exactly `name`, so no two names share
    /// a key.
    fn parse(name: &str) -> Option<StreamKey> {
        let (category, rest) = name.split_once('-')?;
        let index = CATEGORIES.iter().position(|c| *c == category)?;
        let mut ids = [0u8; 32];
        let (first, second) = if index == IDENTITY {
            (
                rest.get(..36)?,
                Some(rest.get(37..)?).filter(|_| rest.get(36..37) == Some("-")),
            )
        } else {
            (rest, None)
        };
        ids[..16].copy_from_slice(canonical_uuid(first)?.as_bytes());
        if index == IDENTITY {
            ids[16..].copy_from_slice(canonical_uuid(second?)?.as_bytes());
        }
        Some(StreamKey::Ids(index as u8, ids))
    }

    fn name(&self) -> String {
        match self {
            StreamKey::Ids(index, ids) => {
                let uuid = |bytes: &[u8]| {
                    uuid::Uuid::from_slice(bytes)
                        .unwrap_or_default()
                        .hyphenated()
                        .to_string()
                };
                let category = CATEGORIES[*index as usize];
                if *index as usize == IDENTITY {
                    format!("{category}-{}-{}", uuid(&ids[..16]), uuid(&ids[16..]))
                } else {
                    format!("{category}-{}", uuid(&ids[..16]))
                }
            }
            StreamKey::Other(name) => name.to_string(),
        }
    }
}

/// The uuid `text` is written as, if it is written as the ledger writes one (lowercase,
/// hyphenated).
fn canonical_uuid(text: &str) -> Option<uuid::Uuid> {
    let id = uuid::Uuid::try_parse(text).ok()?;
    let mut written = [0u8; uuid::fmt::Hyphenated::LENGTH];
    (id.hyphenated().encode_lower(&mut written).as_bytes() == text.as_bytes()).then_some(id)
}

impl Stream {
    /// Extends the chain by one link; false (and broken) if the stored hash disagrees.
    fn link(&mut self, version: i64, digest: &[u8; 32], stored: &[u8]) -> bool {
        let previous: &[u8] = if self.version == 0 { &[] } else { &self.hash };
        let hash = chain_hash(previous, version, digest);
        if hash.as_slice() != stored {
            self.broken = true;
            return false;
        }
        self.version = version;
        self.hash = hash;
        true
    }
}

fn broken_hash(stream_id: &str, position: i64, version: i64) -> BrokenChain {
    BrokenChain {
        stream_id: stream_id.to_string(),
        position,
        stream_version: version,
        reason: "stored hash does not match the recomputed chain".into(),
    }
}

#[derive(Default)]
pub(crate) struct ChainCheck {
    streams: FastMap<StreamKey, Stream>,
    /// Versions read ahead of a gap, by stream (the log's order is by transaction, not by
    /// version): apart from the heads, since almost no stream has any.
    ahead: FastMap<StreamKey, BTreeMap<i64, Link>>,
    broken: Vec<BrokenChain>,
}

impl ChainCheck {
    pub fn streams(&self) -> usize {
        self.streams.len()
    }

    pub fn check(
        &mut self,
        stream_id: &str,
        version: i64,
        position: i64,
        digest: [u8; 32],
        stored: &[u8],
    ) {
        let key = StreamKey::of(stream_id);
        let stream = self.streams.entry(key.clone()).or_default();
        if stream.broken {
            return;
        }
        if version != stream.version + 1 {
            let link = Link {
                position,
                digest,
                stored: stored.to_vec(),
            };
            let ahead = self.ahead.entry(key).or_default();
            if version <= stream.version || ahead.insert(version, link).is_some() {
                stream.broken = true;
                self.broken.push(BrokenChain {
                    stream_id: stream_id.to_string(),
                    position,
                    stream_version: version,
                    reason: format!("version {version} appears twice"),
                });
            }
            return;
        }
        if !stream.link(version, &digest, stored) {
            self.broken.push(broken_hash(stream_id, position, version));
            return;
        }
        if self.ahead.is_empty() {
            return;
        }
        let Some(ahead) = self.ahead.get_mut(&key) else {
            return;
        };
        while let Some(link) = ahead.remove(&(stream.version + 1)) {
            let v = stream.version + 1;
            if !stream.link(v, &link.digest, &link.stored) {
                self.broken.push(broken_hash(stream_id, link.position, v));
                return;
            }
        }
        if ahead.is_empty() {
            self.ahead.remove(&key);
        }
    }

    /// The broken links, including versions still missing at the end of the log (unordered:
    /// the audit orders every pass's together).
    pub fn finish(mut self) -> Vec<BrokenChain> {
        for (key, ahead) in &self.ahead {
            let Some(stream) = self.streams.get(key).filter(|s| !s.broken) else {
                continue;
            };
            if let Some((v, link)) = ahead.iter().next() {
                self.broken.push(BrokenChain {
                    stream_id: key.name(),
                    position: link.position,
                    stream_version: *v,
                    reason: format!("version {} is missing", stream.version + 1),
                });
            }
        }
        self.broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ids::{AccountRef, MemberId, ProgramId};
    use domain::stream::StreamId;
    use uuid::Uuid;

    #[test]
    fn the_ledgers_stream_names_are_held_compactly_and_written_back_as_they_were() {
        let a = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let b = Uuid::from_u128(0xfedc_ba98_7654_3210_fedc_ba98_7654_3210);
        for name in [
            StreamId::Member(MemberId(a)).to_string(),
            StreamId::Program(ProgramId(b)).to_string(),
            StreamId::Identity(ProgramId(a), AccountRef(b)).to_string(),
        ] {
            let key = StreamKey::of(&name);
            assert!(matches!(key, StreamKey::Ids(..)), "{name}");
            assert_eq!(key.name(), name);
        }
    }

    /// A name the ledger would not write keeps its own key, so it never shares a chain with
    /// the name it resembles.
    #[test]
    fn any_other_name_keeps_its_own_key() {
        let member = format!("member-{}", Uuid::from_u128(7));
        for other in [
            member.to_uppercase(),
            member.replace('-', ""),
            format!("{member}-"),
            format!("identity-{}", Uuid::from_u128(7)),
            format!("members-{}", Uuid::from_u128(7)),
            "member-".to_string(),
            "".to_string(),
        ] {
            let key = StreamKey::of(&other);
            assert_eq!(key, StreamKey::Other(other.clone().into()), "{other}");
            assert_ne!(key, StreamKey::of(&member));
            assert_eq!(key.name(), other);
        }
    }
}
