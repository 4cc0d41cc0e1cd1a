//! Why a command was denied. These are answers, not failures: the caller maps them to 4xx.

use crate::ids::{CampaignId, EntryId, MemberId};
use crate::network::LinkedAccount;
use crate::time::Timestamp;

/// A command the rules refuse, with enough detail for the caller to say why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A points amount of zero or beyond the ledger's bound.
    #[error("invalid amount of points: {0} (must be non-zero and at most 1,000,000,000 in size)")]
    InvalidAmount(i64),
    /// The member has fewer points than the redemption or deduction takes.
    #[error("insufficient balance: {balance} points available, {needed} needed")]
    InsufficientBalance {
        /// What the member has.
        balance: i64,
        /// What the redemption or deduction takes.
        needed: i64,
    },
    /// A campaign pays each member once.
    #[error("this member has already used the codeword of this campaign")]
    CodewordAlreadyUsed,
    /// No more redemptions: the campaign's total cap is used up.
    #[error("the campaign has reached its cap of {cap} redemptions")]
    CampaignCapReached {
        /// The campaign's total cap.
        cap: u32,
    },
    /// Outside the campaign's window, or paused or ended.
    #[error("the campaign is not active")]
    CampaignNotActive,
    /// The codeword was written on a platform or post the campaign does not cover.
    #[error("the campaign does not accept codewords from this network")]
    NetworkNotAllowed,
    /// No units left to issue.
    #[error("the reward is out of stock")]
    RewardOutOfStock,
    /// A coupon pool's stock is its unused codes: it is listed with none and grows by uploads.
    #[error("a coupon pool's stock is its unused codes: upload codes instead of changing stock")]
    CouponPoolStock,
    /// Codes were uploaded to a reward whose codes are generated.
    #[error("this reward generates its codes: list a reward with a coupon pool to upload codes")]
    NotACouponPool,
    /// An upload carries more codes than one event takes.
    #[error("upload at most {0} codes at a time")]
    TooManyCodes(usize),
    /// A code a till could not take.
    #[error("invalid coupon code {0:?}: use 1 to 64 visible characters without spaces")]
    InvalidCode(String),
    /// The coupon was accepted before.
    #[error("this coupon was already used at {0}")]
    CouponAlreadyUsed(crate::time::Timestamp),
    /// The redemption was cancelled, so its coupon is void.
    #[error("this coupon's redemption was cancelled")]
    CouponCancelled,
    /// Tickets are sold until the raffle ends, and never after its draw.
    #[error("the raffle is closed: no more tickets")]
    RaffleClosed,
    /// A draw before the raffle's end.
    #[error("the raffle has not ended yet")]
    RaffleNotEnded,
    /// A raffle is drawn once.
    #[error("the raffle was already drawn")]
    RaffleAlreadyDrawn,
    /// The raffle was cancelled and its tickets refunded.
    #[error("the raffle was cancelled")]
    RaffleCancelled,
    /// Members enter this raffle by their activity: it sells no tickets.
    #[error("this raffle sells no tickets: members enter by their activity")]
    RaffleWithoutTickets,
    /// The member holds the most tickets the raffle allows.
    #[error("at most {0} tickets per member")]
    RaffleTicketLimit(u32),
    /// Terms a raffle cannot run on.
    #[error("invalid raffle: {0}")]
    InvalidRaffle(String),
    /// The reward was delisted.
    #[error("the reward is not available")]
    RewardNotAvailable,
    /// Another member of the program owns the account.
    #[error("{0} is already linked to another member")]
    IdentityAlreadyClaimed(LinkedAccount),
    /// Another member gave the account up less than the program's relink cooldown ago.
    #[error(
        "{account} was unlinked from another member recently: it can be linked again from {until}"
    )]
    RelinkCooldown {
        /// The external account.
        account: LinkedAccount,
        /// When the cooldown ends.
        until: Timestamp,
    },
    /// The member does not own the account they tried to unlink.
    #[error("{0} is not linked to this member")]
    IdentityNotLinked(LinkedAccount),
    /// The activity was awarded before (a redelivered webhook, a repeated like), or a restore
    /// named an award that was never reversed.
    #[error("this activity was already awarded")]
    DuplicateActivity,
    /// The rules refuse a text this member was already paid for.
    #[error("this member was already paid for the same text")]
    DuplicateText,
    /// The member reached the program's daily cap.
    #[error("daily cap reached: {awarded_today} of {cap} points already awarded today")]
    DailyCapReached {
        /// Points this member already earned today (on the network, for a per-network cap).
        awarded_today: i64,
        /// The cap that stopped the award.
        cap: i64,
    },
    /// Another paid activity of the same kind on the same network lies within the program's
    /// cooldown.
    #[error("too soon after the previous award of this kind")]
    CooldownActive,
    /// A manager blocked the member.
    #[error("member {0} is blocked")]
    MemberBlocked(MemberId),
    /// The member was erased: nothing more is recorded for them.
    #[error("this member's personal data was erased")]
    MemberErased,
    /// The member stream has no registration.
    #[error("member is not registered")]
    MemberNotRegistered,
    /// Registering a member that exists.
    #[error("member is already registered")]
    AlreadyRegistered,
    /// A compensation named an entry the member does not have.
    #[error("entry {0} not found for this member")]
    EntryNotFound(EntryId),
    /// An entry is netted to zero or reversed at most once.
    #[error("entry {0} was already compensated or reversed")]
    AlreadyCompensated(EntryId),
    /// A held award is approved or rejected once; the other decision is then refused.
    #[error("held award {0} was already decided the other way")]
    AlreadyReviewed(EntryId),
    /// A cancellation named a redemption the member does not have, or one already cancelled.
    #[error("redemption not found or already cancelled")]
    RedemptionNotFound,
    /// Manual changes must say why, for the audit trail.
    #[error("a reason is required")]
    ReasonRequired,
    /// A range whose end is not after its start.
    #[error("the period's end must be after its start")]
    InvalidPeriod,
    /// Creating something (program, campaign, reward, redemption) whose id is taken.
    #[error("the stream already exists")]
    AlreadyExists,
    /// The program, campaign, reward or award the command names does not exist.
    #[error("not found")]
    NotFound,
    /// A season's terms break a constraint (the text says which).
    #[error("invalid season: {0}")]
    InvalidSeason(String),
    /// The season was cancelled or has ended: it takes no more changes.
    #[error("the season was cancelled or has ended")]
    SeasonClosed,
    /// The season's standings are not final yet (its cutoff has not passed, or it is not ended).
    #[error("the season has not ended yet")]
    SeasonNotEnded,
    /// A program's rules or a campaign's setup break a constraint (the text says which).
    #[error("invalid rules: {0}")]
    InvalidRules(String),
    /// The codeword is unusable (the text says why).
    #[error("invalid codeword: {0}")]
    InvalidCodeword(String),
    /// A live campaign would pay for the same comment as the new or changed one.
    #[error(
        "campaign {0} has the same codeword (as matched) on an overlapping window and network: \
         one comment would pay both; end it or change the codeword, window or networks"
    )]
    CodewordTaken(CampaignId),
}
