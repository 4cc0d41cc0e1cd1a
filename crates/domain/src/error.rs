//! Why a command was denied. These are answers, not failures: the caller maps them to 4xx.

use crate::ids::{CampaignId, EntryId, MemberId};
use crate::network::ExternalIdentity;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("invalid amount of points: {0} (must be non-zero and at most 1,000,000,000 in size)")]
    InvalidAmount(i64),
    #[error("insufficient balance: {balance} points available, {needed} needed")]
    InsufficientBalance { balance: i64, needed: i64 },
    #[error("this member has already used the codeword of this campaign")]
    CodewordAlreadyUsed,
    #[error("the campaign has reached its cap of {cap} redemptions")]
    CampaignCapReached { cap: u32 },
    #[error("the campaign is not active")]
    CampaignNotActive,
    #[error("the campaign does not accept codewords from this network")]
    NetworkNotAllowed,
    #[error("the reward is out of stock")]
    RewardOutOfStock,
    #[error("the reward is not available")]
    RewardNotAvailable,
    #[error("account {} is already linked to another member", .0.key())]
    IdentityAlreadyClaimed(ExternalIdentity),
    #[error("account {} is not linked to this member", .0.key())]
    IdentityNotLinked(ExternalIdentity),
    #[error("this activity was already awarded")]
    DuplicateActivity,
    #[error("this member was already paid for the same text")]
    DuplicateText,
    #[error("daily cap reached: {awarded_today} of {cap} points already awarded today")]
    DailyCapReached { awarded_today: i64, cap: i64 },
    #[error("too soon after the previous award of this kind")]
    CooldownActive,
    #[error("member {0} is blocked")]
    MemberBlocked(MemberId),
    #[error("member is not registered")]
    MemberNotRegistered,
    #[error("member is already registered")]
    AlreadyRegistered,
    #[error("entry {0} not found for this member")]
    EntryNotFound(EntryId),
    #[error("entry {0} was already compensated or reversed")]
    AlreadyCompensated(EntryId),
    #[error("redemption not found or already cancelled")]
    RedemptionNotFound,
    #[error("a reason is required")]
    ReasonRequired,
    #[error("the stream already exists")]
    AlreadyExists,
    #[error("not found")]
    NotFound,
    #[error("invalid rules: {0}")]
    InvalidRules(String),
    #[error("invalid codeword: {0}")]
    InvalidCodeword(String),
    #[error(
        "campaign {0} has the same codeword (as matched) on an overlapping window and network: \
         one comment would pay both; end it or change the codeword, window or networks"
    )]
    CodewordTaken(CampaignId),
}
