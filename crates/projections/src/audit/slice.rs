//! Members and streams split into slices, one pass over the log each, so the audit holds the
//! state of one slice's members at a time: memory bounded by `members_per_pass`, not by every
//! member of the log. The first pass also folds everything not kept per member (campaigns,
//! rewards, identities, the admin log, daily stats, seasons) and checks the seal; later passes
//! decode only their members' events and the rules, and hash only their streams.

use std::hash::BuildHasher;
use uuid::Uuid;

/// One of `count` slices of the members and of the streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slice {
    pub index: u32,
    pub count: u32,
}

/// The whole: one pass.
impl Default for Slice {
    fn default() -> Self {
        Slice { index: 0, count: 1 }
    }
}

impl Slice {
    /// Enough slices that none holds more than `members_per_pass` of `members` (about: the
    /// split is by hash).
    pub fn count_for(members: u64, members_per_pass: u64) -> u32 {
        let count = members.div_ceil(members_per_pass.max(1)).max(1);
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// The first pass folds and compares what is not kept per member as well.
    pub fn is_first(&self) -> bool {
        self.index == 0
    }

    pub fn holds_member(&self, member: Uuid) -> bool {
        self.holds(member.as_bytes())
    }

    pub fn holds_stream(&self, stream_id: &str) -> bool {
        self.holds(stream_id.as_bytes())
    }

    /// Whether a later pass needs the row for its fold: an event of one of its members' streams,
    /// or a program's rules (tier ladders and expiry periods, which the member folds check
    /// against). Decided from the row alone, before decoding it.
    pub fn folds_row(&self, stream_id: &str, event_type: &str) -> bool {
        if self.is_first() || event_type == "RulesChanged" {
            return true;
        }
        stream_id
            .strip_prefix("member-")
            .and_then(|id| Uuid::try_parse(id).ok())
            .is_some_and(|member| self.holds_member(member))
    }

    fn holds(&self, bytes: &[u8]) -> bool {
        if self.count <= 1 {
            return true;
        }
        // A fixed seed: the fold and the comparison of one audit must agree on the split.
        let hash = foldhash::fast::FixedState::with_seed(0x5eed).hash_one(bytes);
        hash % u64::from(self.count) == u64::from(self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn enough_slices_for_the_members() {
        assert_eq!(Slice::count_for(0, 400_000), 1);
        assert_eq!(Slice::count_for(400_000, 400_000), 1);
        assert_eq!(Slice::count_for(400_001, 400_000), 2);
        assert_eq!(Slice::count_for(1_000_012, 400_000), 3);
        assert_eq!(Slice::count_for(10, 0), 10);
    }

    proptest! {
        /// Every member and every stream is in exactly one slice, whatever their number.
        #[test]
        fn each_member_and_stream_is_in_one_slice(bytes in any::<[u8; 16]>(), count in 1u32..9) {
            let member = Uuid::from_bytes(bytes);
            let stream = format!("member-{member}");
            let slices = (0..count).map(|index| Slice { index, count });
            prop_assert_eq!(slices.clone().filter(|s| s.holds_member(member)).count(), 1);
            prop_assert_eq!(slices.clone().filter(|s| s.holds_stream(&stream)).count(), 1);
            // A later slice folds its own members' rows and the rules, nothing else.
            for s in slices.filter(|s| !s.is_first()) {
                prop_assert_eq!(s.folds_row(&stream, "PointsAwarded"), s.holds_member(member));
                let (program, campaign) = (format!("program-{member}"), format!("campaign-{member}"));
                prop_assert!(s.folds_row(&program, "RulesChanged"));
                prop_assert!(!s.folds_row(&campaign, "CodewordRedeemed"));
            }
        }
    }
}
