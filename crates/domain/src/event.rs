//! Every fact the ledger records. Events are outcomes, not inputs to recompute: an award carries
//! its points and the rule version that produced them, so a later rule change rewrites nothing.
//! Personal data (names, usernames) stays out of events; it lives in a profile table.

use crate::codeword::Codeword;
use crate::ids::{CampaignId, EntryId, MemberId, ProgramId, RedemptionId, RewardId};
use crate::network::{ActivityRef, ExternalIdentity, Network};
use crate::program::Rules;
use crate::stream::StreamId;
use crate::text::TextFingerprint;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Who caused a manual change: a manager or auditor account of the admin panel.
pub type ManagerId = String;

/// Why points earned by an activity were taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReversalReason {
    /// The comment or message was deleted.
    Deleted,
    /// The like/reaction/vote was withdrawn.
    Withdrawn,
    /// The member left the group or channel.
    Left,
}

/// How a member proved they own an external account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkMethod {
    /// The member opened the Mini App from this Telegram account.
    Telegram,
    /// The member posted a one-time link code from that account.
    Code,
    /// OAuth with the network (VK ID).
    OAuth,
    /// A manager linked it by hand.
    Manager,
    /// First seen on the platform before anyone claimed it: a member of its own, whose points
    /// move to the person who later proves they own the account.
    Observed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    // ----- program stream -----
    ProgramCreated {
        program_id: ProgramId,
        name: String,
        time_zone: chrono_tz::Tz,
        at: Timestamp,
    },
    RulesChanged {
        program_id: ProgramId,
        version: u32,
        rules: Rules,
        by: ManagerId,
        at: Timestamp,
    },

    // ----- member stream -----
    MemberRegistered {
        member_id: MemberId,
        program_id: ProgramId,
        at: Timestamp,
    },
    AccountLinked {
        member_id: MemberId,
        identity: ExternalIdentity,
        method: LinkMethod,
        at: Timestamp,
    },
    AccountUnlinked {
        member_id: MemberId,
        identity: ExternalIdentity,
        at: Timestamp,
    },
    PointsAwarded {
        member_id: MemberId,
        entry_id: EntryId,
        activity: ActivityRef,
        points: i64,
        rule_version: u32,
        campaign_id: Option<CampaignId>,
        /// When the activity happened on the platform (drives daily caps and periods).
        occurred_at: Timestamp,
        at: Timestamp,
        /// For a comment, mention or message: the fingerprint of its normalised text (never the
        /// text), so a repeat can be refused. Absent otherwise, and in events recorded before
        /// it existed (whose payloads, and so hashes, are unchanged).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text_fingerprint: Option<TextFingerprint>,
    },
    PointsReversed {
        member_id: MemberId,
        entry_id: EntryId,
        /// The award being reversed, with its network and time so period folds can annul it.
        award_entry_id: EntryId,
        network: Network,
        award_occurred_at: Timestamp,
        points: i64,
        reason: ReversalReason,
        at: Timestamp,
    },
    /// A reversed award that earns again (a deleted comment was restored).
    AwardRestored {
        member_id: MemberId,
        entry_id: EntryId,
        award_entry_id: EntryId,
        network: Network,
        award_occurred_at: Timestamp,
        points: i64,
        at: Timestamp,
    },
    PointsAdjusted {
        member_id: MemberId,
        entry_id: EntryId,
        delta: i64,
        /// Why, for managers and auditors: never shown to the member.
        reason: String,
        /// What the member is told, if anything. Absent from events recorded before it existed,
        /// which read as no note (same schema version: the field is additive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        by: ManagerId,
        /// The entry this adjustment compensates; then `delta` nets it to zero.
        compensates: Option<EntryId>,
        at: Timestamp,
    },
    RewardRedeemed {
        member_id: MemberId,
        entry_id: EntryId,
        redemption_id: RedemptionId,
        reward_id: RewardId,
        cost: i64,
        coupon_code: String,
        at: Timestamp,
    },
    RedemptionCancelled {
        member_id: MemberId,
        entry_id: EntryId,
        redemption_id: RedemptionId,
        reward_id: RewardId,
        refund: i64,
        by: ManagerId,
        reason: String,
        at: Timestamp,
    },
    /// Points an observed member (an account that earned before anyone claimed it) hands to
    /// the member who proved they own that account. Paired with `PointsMovedIn`.
    PointsMovedOut {
        member_id: MemberId,
        entry_id: EntryId,
        to_member: MemberId,
        identity: ExternalIdentity,
        points: i64,
        at: Timestamp,
    },
    PointsMovedIn {
        member_id: MemberId,
        entry_id: EntryId,
        from_member: MemberId,
        identity: ExternalIdentity,
        points: i64,
        at: Timestamp,
        /// The texts the account was paid for, with when each paid copy happened: they stay
        /// paid for their new owner. Absent in events recorded before texts were tracked.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        paid_texts: Vec<(TextFingerprint, Timestamp)>,
    },
    MemberBlocked {
        member_id: MemberId,
        reason: String,
        by: ManagerId,
        at: Timestamp,
    },
    MemberUnblocked {
        member_id: MemberId,
        by: ManagerId,
        at: Timestamp,
    },

    // ----- identity stream: one per external account, the uniqueness guard -----
    IdentityClaimed {
        program_id: ProgramId,
        identity: ExternalIdentity,
        member_id: MemberId,
        at: Timestamp,
    },
    IdentityReleased {
        program_id: ProgramId,
        identity: ExternalIdentity,
        member_id: MemberId,
        at: Timestamp,
    },

    // ----- campaign stream -----
    CampaignCreated {
        campaign_id: CampaignId,
        program_id: ProgramId,
        name: String,
        codeword: Codeword,
        points: i64,
        starts_at: Timestamp,
        ends_at: Timestamp,
        total_cap: Option<u32>,
        networks: Vec<Network>,
        target_post: Option<String>,
        by: ManagerId,
        at: Timestamp,
    },
    CampaignPaused {
        campaign_id: CampaignId,
        by: ManagerId,
        at: Timestamp,
    },
    CampaignResumed {
        campaign_id: CampaignId,
        by: ManagerId,
        at: Timestamp,
    },
    CampaignEnded {
        campaign_id: CampaignId,
        by: ManagerId,
        at: Timestamp,
    },
    CodewordRedeemed {
        campaign_id: CampaignId,
        member_id: MemberId,
        entry_id: EntryId,
        network: Network,
        reference: String,
        points: i64,
        at: Timestamp,
    },

    // ----- reward stream -----
    RewardListed {
        reward_id: RewardId,
        program_id: ProgramId,
        title: String,
        cost: i64,
        stock: u32,
        by: ManagerId,
        at: Timestamp,
    },
    RewardStockChanged {
        reward_id: RewardId,
        delta: i32,
        by: ManagerId,
        at: Timestamp,
    },
    RewardDelisted {
        reward_id: RewardId,
        by: ManagerId,
        at: Timestamp,
    },
    RewardIssued {
        reward_id: RewardId,
        redemption_id: RedemptionId,
        member_id: MemberId,
        at: Timestamp,
    },
    RewardReturned {
        reward_id: RewardId,
        redemption_id: RedemptionId,
        at: Timestamp,
    },
}

impl Event {
    /// The name stored in the `type` column and in the payload's `type` field.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::ProgramCreated { .. } => "ProgramCreated",
            Event::RulesChanged { .. } => "RulesChanged",
            Event::MemberRegistered { .. } => "MemberRegistered",
            Event::AccountLinked { .. } => "AccountLinked",
            Event::AccountUnlinked { .. } => "AccountUnlinked",
            Event::PointsAwarded { .. } => "PointsAwarded",
            Event::PointsReversed { .. } => "PointsReversed",
            Event::AwardRestored { .. } => "AwardRestored",
            Event::PointsAdjusted { .. } => "PointsAdjusted",
            Event::RewardRedeemed { .. } => "RewardRedeemed",
            Event::RedemptionCancelled { .. } => "RedemptionCancelled",
            Event::PointsMovedOut { .. } => "PointsMovedOut",
            Event::PointsMovedIn { .. } => "PointsMovedIn",
            Event::MemberBlocked { .. } => "MemberBlocked",
            Event::MemberUnblocked { .. } => "MemberUnblocked",
            Event::IdentityClaimed { .. } => "IdentityClaimed",
            Event::IdentityReleased { .. } => "IdentityReleased",
            Event::CampaignCreated { .. } => "CampaignCreated",
            Event::CampaignPaused { .. } => "CampaignPaused",
            Event::CampaignResumed { .. } => "CampaignResumed",
            Event::CampaignEnded { .. } => "CampaignEnded",
            Event::CodewordRedeemed { .. } => "CodewordRedeemed",
            Event::RewardListed { .. } => "RewardListed",
            Event::RewardStockChanged { .. } => "RewardStockChanged",
            Event::RewardDelisted { .. } => "RewardDelisted",
            Event::RewardIssued { .. } => "RewardIssued",
            Event::RewardReturned { .. } => "RewardReturned",
        }
    }

    /// The change this event makes to a member's balance, if any.
    pub fn balance_delta(&self) -> Option<(MemberId, i64)> {
        match self {
            Event::PointsAwarded {
                member_id, points, ..
            }
            | Event::AwardRestored {
                member_id, points, ..
            } => Some((*member_id, *points)),
            Event::PointsReversed {
                member_id, points, ..
            } => Some((*member_id, -*points)),
            Event::PointsAdjusted {
                member_id, delta, ..
            } => Some((*member_id, *delta)),
            Event::PointsMovedOut {
                member_id, points, ..
            } => Some((*member_id, -*points)),
            Event::PointsMovedIn {
                member_id, points, ..
            } => Some((*member_id, *points)),
            Event::RewardRedeemed {
                member_id, cost, ..
            } => Some((*member_id, -*cost)),
            Event::RedemptionCancelled {
                member_id, refund, ..
            } => Some((*member_id, *refund)),
            _ => None,
        }
    }

    /// The stream this event belongs to: every event names its own stream, so a decision that
    /// spans streams is routed without a second description of where each event goes.
    pub fn stream(&self) -> StreamId {
        match self {
            Event::ProgramCreated { program_id, .. } | Event::RulesChanged { program_id, .. } => {
                StreamId::Program(*program_id)
            }
            Event::MemberRegistered { member_id, .. }
            | Event::AccountLinked { member_id, .. }
            | Event::AccountUnlinked { member_id, .. }
            | Event::PointsAwarded { member_id, .. }
            | Event::PointsReversed { member_id, .. }
            | Event::AwardRestored { member_id, .. }
            | Event::PointsAdjusted { member_id, .. }
            | Event::RewardRedeemed { member_id, .. }
            | Event::RedemptionCancelled { member_id, .. }
            | Event::PointsMovedOut { member_id, .. }
            | Event::PointsMovedIn { member_id, .. }
            | Event::MemberBlocked { member_id, .. }
            | Event::MemberUnblocked { member_id, .. } => StreamId::Member(*member_id),
            Event::IdentityClaimed {
                program_id,
                identity,
                ..
            }
            | Event::IdentityReleased {
                program_id,
                identity,
                ..
            } => StreamId::Identity(*program_id, identity.clone()),
            Event::CampaignCreated { campaign_id, .. }
            | Event::CampaignPaused { campaign_id, .. }
            | Event::CampaignResumed { campaign_id, .. }
            | Event::CampaignEnded { campaign_id, .. }
            | Event::CodewordRedeemed { campaign_id, .. } => StreamId::Campaign(*campaign_id),
            Event::RewardListed { reward_id, .. }
            | Event::RewardStockChanged { reward_id, .. }
            | Event::RewardDelisted { reward_id, .. }
            | Event::RewardIssued { reward_id, .. }
            | Event::RewardReturned { reward_id, .. } => StreamId::Reward(*reward_id),
        }
    }

    /// Payload schema version, bumped when a variant's shape changes (upcasters read old ones).
    pub const SCHEMA_VERSION: i16 = 1;
}
