//! The seal's check: every stored block against the events themselves, and the chain of block
//! digests recomputed from the events against the stored blocks and against an anchor kept
//! outside the database (`loyalty audit anchor`). Reports, per block that differs, the first
//! event that does not match what was sealed: missing, changed, not sealed, or out of order.

use crate::error::{ProjectionError, Result};
use crate::seal::{self, BlockHeader, LEAF_PREFIX_BYTES};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use store::{Checkpoint, LogRow};

/// The log's sealed head as an auditor keeps it: proves later that the log still holds exactly
/// the history up to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub block: i64,
    pub tx_id: i64,
    pub position: i64,
    /// Events sealed up to and including this block.
    pub events: i64,
    /// The block's digest (hex), which chains every block before it.
    pub digest: String,
    pub sealed_at: chrono::DateTime<chrono::Utc>,
}

/// Seals what is readable now, then returns the newest block as an anchor (`None` while the
/// log is empty).
pub async fn anchor(store: &store::EventStore) -> Result<Option<Anchor>> {
    seal::Sealer::new(store.clone(), seal::SealConfig::default())
        .seal_readable()
        .await?;
    let mut conn = store.pool().acquire().await?;
    Ok(seal::head(&mut conn).await?.map(|h| Anchor {
        block: h.block,
        tx_id: h.last.tx_id,
        position: h.last.position,
        events: h.total,
        digest: hex::encode(&h.digest),
        sealed_at: h.sealed_at,
    }))
}

/// Where the log differs from its seal (or from an anchor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenSeal {
    pub block: i64,
    /// The first position that differs (the anchor's position when only the anchor disagrees).
    pub position: i64,
    pub reason: String,
}

pub(crate) struct StoredBlock {
    header: BlockHeader,
    positions: Vec<i64>,
    leaf_prefixes: Vec<u8>,
    prev_digest: Vec<u8>,
    digest: Vec<u8>,
}

/// Stored blocks read at a time: the seal of a long log is read as the events are, never all
/// held (a block keeps its events' positions and leaf prefixes, 16 KB a thousand events).
const BLOCKS_PER_PAGE: i64 = 64;

/// Sends every stored block, in order, read a page at a time in the audit's snapshot (`conn`),
/// to the check; stops early if the check is gone. Gives the transaction back, for the models.
pub(crate) async fn read_blocks(
    mut conn: sqlx::Transaction<'static, sqlx::Postgres>,
    to_check: tokio::sync::mpsc::Sender<StoredBlock>,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    type Row = (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        Vec<i64>,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
        Vec<u8>,
    );
    let mut after = 0i64;
    loop {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT block, first_tx_id, first_position, last_tx_id, last_position, count, total, \
             positions, leaf_prefixes, events_digest, prev_block_digest, block_digest \
             FROM log_seal WHERE block > $1 ORDER BY block LIMIT $2",
        )
        .bind(after)
        .bind(BLOCKS_PER_PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.0;
        for r in rows {
            let block = StoredBlock {
                header: BlockHeader {
                    block: r.0,
                    first: Checkpoint {
                        tx_id: r.1,
                        position: r.2,
                    },
                    last: Checkpoint {
                        tx_id: r.3,
                        position: r.4,
                    },
                    count: r.5,
                    total: r.6,
                    events_digest: r.9.as_slice().try_into().unwrap_or([0; 32]),
                },
                positions: r.7,
                leaf_prefixes: r.8,
                prev_digest: r.10,
                digest: r.11,
            };
            if to_check.send(block).await.is_err() {
                return Ok(conn);
            }
        }
    }
    Ok(conn)
}

/// The events of the block being read, as found in the log.
#[derive(Default)]
struct Found {
    first: Option<Checkpoint>,
    positions: Vec<i64>,
    digest: Sha256,
    /// The first index where the log departs from the sealed positions and leaves.
    diverged_at: Option<usize>,
}

/// The stored blocks among themselves, as they arrive: numbered from 1 without a gap, each
/// linked to the one before, each digest matching its fields (what the insert trigger enforced).
#[derive(Default)]
struct StoredChain {
    prev: Vec<u8>,
    total: i64,
    number: i64,
}

impl StoredChain {
    fn check(&mut self, b: &StoredBlock) -> Option<BrokenSeal> {
        let h = &b.header;
        let reason = if h.block != self.number + 1 {
            Some(format!("block {} is missing", self.number + 1))
        } else if b.prev_digest != self.prev {
            Some("its link to the previous block does not match".to_string())
        } else if h.total != self.total + h.count
            || b.positions.len() as i64 != h.count
            || b.leaf_prefixes.len() != b.positions.len() * LEAF_PREFIX_BYTES
        {
            Some("its counts do not add up".to_string())
        } else if h.digest(&b.prev_digest).as_slice() != b.digest {
            Some("its digest does not match its fields".to_string())
        } else {
            None
        };
        self.prev.clone_from(&b.digest);
        self.total = h.total;
        self.number = h.block;
        // Later blocks are checked against the events all the same.
        reason.map(|reason| BrokenSeal {
            block: h.block,
            position: h.first.position,
            reason: format!("stored block: {reason}"),
        })
    }
}

/// Runs on a thread of its own (it waits for blocks): the rows of the log in order, each
/// against the stored block it falls in.
pub(crate) struct SealCheck {
    incoming: tokio::sync::mpsc::Receiver<StoredBlock>,
    /// The stored block the next rows belong to; `None` after the last.
    block: Option<StoredBlock>,
    /// Stored blocks taken so far.
    blocks: u64,
    stored: StoredChain,
    anchor: Option<Anchor>,
    found: Found,
    found_total: i64,
    /// The block digest recomputed from the events, chaining from the first block.
    recomputed: Vec<u8>,
    /// Whether the chain recomputed from the events reached the anchor's digest (once reached).
    anchor_holds: Option<bool>,
    unsealed: u64,
    broken: Vec<BrokenSeal>,
}

impl SealCheck {
    /// A check of the blocks [`read_blocks`] sends, against the rows given to it; waits for the
    /// first block, so it is made on the thread that runs it.
    pub fn new(incoming: tokio::sync::mpsc::Receiver<StoredBlock>, anchor: Option<Anchor>) -> Self {
        let mut check = SealCheck {
            incoming,
            block: None,
            blocks: 0,
            stored: StoredChain::default(),
            anchor,
            found: Found::default(),
            found_total: 0,
            recomputed: Vec::new(),
            anchor_holds: None,
            unsealed: 0,
            broken: Vec::new(),
        };
        check.next_block();
        check
    }

    /// Takes the next stored block (waiting for it) and checks its link to the one before.
    fn next_block(&mut self) {
        self.block = self.incoming.blocking_recv();
        if let Some(b) = &self.block {
            self.blocks += 1;
            if let Some(broken) = self.stored.check(b) {
                self.broken.push(broken);
            }
        }
    }

    pub fn check(&mut self, row: &LogRow) {
        let at = Checkpoint {
            tx_id: row.tx_id,
            position: row.position,
        };
        while self.block.as_ref().is_some_and(|b| at > b.header.last) {
            self.finish_block();
        }
        let Some(block) = &self.block else {
            self.unsealed += 1;
            return;
        };
        let leaf = seal::leaf_digest(
            row.tx_id,
            row.position,
            row.program_id,
            &row.stream_id,
            row.stream_version,
            row.recorded_at,
            &row.hash,
        );
        let found = &mut self.found;
        let i = found.positions.len();
        if found.diverged_at.is_none() {
            let sealed_prefix = block
                .leaf_prefixes
                .get(i * LEAF_PREFIX_BYTES..(i + 1) * LEAF_PREFIX_BYTES);
            if block.positions.get(i) != Some(&row.position)
                || sealed_prefix != Some(&leaf[..LEAF_PREFIX_BYTES])
            {
                found.diverged_at = Some(i);
            }
        }
        found.first.get_or_insert(at);
        found.positions.push(row.position);
        found.digest.update(leaf);
    }

    /// Compares the events found in the current block's range with the block, and extends the
    /// recomputed chain by it.
    fn finish_block(&mut self) {
        let Some(block) = &self.block else {
            return;
        };
        let found = std::mem::take(&mut self.found);
        let count = found.positions.len() as i64;
        self.found_total += count;
        let recomputed = BlockHeader {
            block: block.header.block,
            first: found.first.unwrap_or(block.header.first),
            last: block.header.last,
            count,
            total: self.found_total,
            events_digest: found.digest.finalize().into(),
        };
        let diverged_at = found.diverged_at.or_else(|| {
            (found.positions.len() != block.positions.len()).then_some(found.positions.len())
        });
        if let Some(i) = diverged_at {
            let sealed = block.positions.get(i).copied();
            let seen = found.positions.get(i).copied();
            let sealed_set: HashSet<i64> = block.positions.iter().copied().collect();
            let found_set: HashSet<i64> = found.positions.iter().copied().collect();
            let (position, reason) = match (sealed, seen) {
                (Some(s), Some(f)) if s == f => (s, "the event differs from the sealed one".into()),
                (Some(s), _) if !found_set.contains(&s) => {
                    (s, "the sealed event is missing".to_string())
                }
                (_, Some(f)) if !sealed_set.contains(&f) => {
                    (f, "an event the block did not seal".to_string())
                }
                (Some(s), Some(f)) => (s, format!("out of order: position {f} is in its place")),
                (s, f) => (
                    s.or(f).unwrap_or(block.header.first.position),
                    "the events differ from the sealed ones".into(),
                ),
            };
            self.broken.push(BrokenSeal {
                block: block.header.block,
                position,
                reason,
            });
        } else if recomputed.events_digest != block.header.events_digest {
            // Every leaf prefix matched but a full leaf did not.
            self.broken.push(BrokenSeal {
                block: block.header.block,
                position: block.header.first.position,
                reason: "the block's events digest does not match".into(),
            });
        }
        self.recomputed = recomputed.digest(&self.recomputed).to_vec();
        if let Some(anchor) = &self.anchor
            && anchor.block == block.header.block
        {
            let digest_matches = hex::encode(&self.recomputed) == anchor.digest.to_lowercase();
            let place_matches = (anchor.tx_id, anchor.position, anchor.events)
                == (
                    block.header.last.tx_id,
                    block.header.last.position,
                    self.found_total,
                );
            self.anchor_holds = Some(digest_matches && place_matches);
            if !digest_matches || !place_matches {
                // The first bad position is the one the block's own check found, if any.
                let position = self
                    .broken
                    .iter()
                    .filter(|b| b.block <= anchor.block)
                    .map(|b| b.position)
                    .min()
                    .unwrap_or(anchor.position);
                self.broken.push(BrokenSeal {
                    block: anchor.block,
                    position,
                    reason: "the log up to the anchor does not recompute to the anchor's digest"
                        .into(),
                });
            }
        }
        self.next_block();
    }

    /// Blocks no event reached, the anchor's fate; then the findings and summary.
    pub fn finish(mut self) -> SealReport {
        while self.block.is_some() {
            self.finish_block();
        }
        if let Some(anchor) = &self.anchor
            && self.anchor_holds.is_none()
        {
            self.broken.push(BrokenSeal {
                block: anchor.block,
                position: anchor.position,
                reason: format!(
                    "the anchor's block is not in the seal (it ends at block {})",
                    self.blocks
                ),
            });
        }
        self.broken.sort_by_key(|b| (b.block, b.position));
        SealReport {
            anchor: self
                .anchor
                .as_ref()
                .map(|a| (a.block, self.anchor_holds.unwrap_or(false))),
            blocks: self.blocks,
            sealed_events: self.found_total as u64,
            unsealed_events: self.unsealed,
            broken: self.broken,
        }
    }
}

/// What the seal's check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SealReport {
    pub blocks: u64,
    /// Events of the log inside sealed blocks.
    pub sealed_events: u64,
    /// Events after the last block (sealed within seconds by a running server).
    pub unsealed_events: u64,
    /// The block of the anchor checked, if one was given, and whether the log recomputes to it.
    pub anchor: Option<(i64, bool)>,
    pub broken: Vec<BrokenSeal>,
}

impl SealReport {
    pub fn write_text(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        write!(
            out,
            "seal: {} blocks, {} events sealed, {} after the last block",
            self.blocks, self.sealed_events, self.unsealed_events
        )?;
        match self.anchor {
            Some((block, true)) => writeln!(out, "; the anchor (block {block}) holds"),
            Some((block, false)) => writeln!(out, "; the anchor (block {block}) does NOT hold"),
            None => writeln!(out),
        }
    }
}

/// Reads an anchor file.
pub fn read_anchor(text: &str) -> Result<Anchor> {
    serde_json::from_str(text)
        .map_err(|e| ProjectionError::Invalid(format!("not an anchor document: {e}")))
}
