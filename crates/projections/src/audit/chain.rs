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
    /// Versions read ahead of a gap (the log's order is by transaction, not by version).
    ahead: BTreeMap<i64, Link>,
    broken: bool,
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
    streams: FastMap<String, Stream>,
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
        let stream = match self.streams.get_mut(stream_id) {
            Some(s) => s,
            None => self.streams.entry(stream_id.to_string()).or_default(),
        };
        if stream.broken {
            return;
        }
        if version != stream.version + 1 {
            let link = Link {
                position,
                digest,
                stored: stored.to_vec(),
            };
            if version <= stream.version || stream.ahead.insert(version, link).is_some() {
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
        while let Some(link) = stream.ahead.remove(&(stream.version + 1)) {
            let v = stream.version + 1;
            if !stream.link(v, &link.digest, &link.stored) {
                self.broken.push(broken_hash(stream_id, link.position, v));
                return;
            }
        }
    }

    /// The broken links, including versions still missing at the end of the log.
    pub fn finish(mut self) -> Vec<BrokenChain> {
        for (stream_id, stream) in &self.streams {
            if stream.broken {
                continue;
            }
            if let Some((v, link)) = stream.ahead.iter().next() {
                self.broken.push(BrokenChain {
                    stream_id: stream_id.clone(),
                    position: link.position,
                    stream_version: *v,
                    reason: format!("version {} is missing", stream.version + 1),
                });
            }
        }
        self.broken.sort_by(|a, b| {
            a.position
                .cmp(&b.position)
                .then(a.stream_id.cmp(&b.stream_id))
        });
        self.broken
    }
}
