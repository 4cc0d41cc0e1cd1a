//! Every fact the ledger records. Events are outcomes, not inputs to recompute: an award carries
//! its points and the rule version that produced them, so a later rule change rewrites nothing.
//! Personal data stays out of events: accounts are named by pseudonymous references, activity
//! and texts by keyed digests (see `privacy`), names and usernames live in a profile table.

use crate::codeword::Codeword;
use crate::ids::{
    CampaignId, EntryId, MemberId, ProgramId, RaffleId, RedemptionId, RewardId, SeasonId,
};
use crate::network::{ActivityRef, LinkedAccount, Network};
use crate::program::Rules;
use crate::raffle::EntryRule;
use crate::review::{HoldReason, Rejection};
use crate::season::{SeasonTerms, Standing};
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

/// Who erased a member's personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Eraser {
    /// The member, from the Mini App or the bot.
    Member,
    /// An admin of the panel or the command line, for a written request.
    Manager {
        /// The admin account.
        by: ManagerId,
    },
}

/// The ground for an erasure: a closed list, so no free text (which could name someone)
/// enters the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureReason {
    /// The member asked, themselves.
    MemberRequest,
    /// The member asked the brand, in writing.
    ManagerRequest,
    /// A court or regulator ordered it.
    LegalOrder,
    /// Another ground, documented outside the log.
    Other,
}

impl ErasureReason {
    /// Every reason, in a fixed order.
    pub const ALL: [ErasureReason; 4] = [
        ErasureReason::MemberRequest,
        ErasureReason::ManagerRequest,
        ErasureReason::LegalOrder,
        ErasureReason::Other,
    ];

    /// The snake_case name used in JSON, forms and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ErasureReason::MemberRequest => "member_request",
            ErasureReason::ManagerRequest => "manager_request",
            ErasureReason::LegalOrder => "legal_order",
            ErasureReason::Other => "other",
        }
    }

    /// The reason whose [`ErasureReason::as_str`] is `s` (dashes allowed for underscores).
    pub fn parse(s: &str) -> Option<ErasureReason> {
        let s = s.replace('-', "_");
        ErasureReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
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

/// A fact the ledger recorded, stored as JSON tagged with its variant's name (`type`).
/// Each variant belongs to exactly one stream (see [`Event::stream`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    // ----- program stream -----
    /// A brand started a loyalty program; the first event of its program stream.
    ProgramCreated {
        /// The program created.
        program_id: ProgramId,
        /// The program's display name.
        name: String,
        /// Where days start and end for daily caps and daily statistics.
        time_zone: chrono_tz::Tz,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// A manager replaced the earning rules; awards from now on cite the new version.
    RulesChanged {
        /// The program it happens in.
        program_id: ProgramId,
        /// The new rules' version, one more than the last.
        version: u32,
        /// The rules in full.
        rules: Rules,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },

    // ----- member stream -----
    /// A member joined a program; the first event of their member stream.
    MemberRegistered {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The program it happens in.
        program_id: ProgramId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// An external account now belongs to the member (see `IdentityClaimed` for the guard).
    AccountLinked {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The external account.
        account: LinkedAccount,
        /// How the member proved the account is theirs.
        method: LinkMethod,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
        /// Why a manager linked it (`method` is then `Manager`); for managers and auditors.
        /// Additive: events without it read as none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An external account no longer belongs to the member.
    AccountUnlinked {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The external account.
        account: LinkedAccount,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
        /// Why a manager unlinked it, or moved it to the member who is the same person.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Points earned by one activity on a platform, under the rules in force.
    PointsAwarded {
        /// The member whose stream this is.
        member_id: MemberId,
        /// This ledger entry, so a later correction can name it.
        entry_id: EntryId,
        /// The platform activity that earned them; its key makes the award unique.
        activity: ActivityRef,
        /// Points earned; positive.
        points: i64,
        /// The rules' version that priced the award.
        rule_version: u32,
        /// The campaign the award counts for, if any.
        campaign_id: Option<CampaignId>,
        /// When the activity happened on the platform (drives daily caps and periods).
        occurred_at: Timestamp,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
        /// For a comment, mention or message: the fingerprint of its normalised text (never the
        /// text), so a repeat can be refused. Absent otherwise, and in events recorded before
        /// it existed (whose payloads, and so hashes, are unchanged).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text_fingerprint: Option<TextFingerprint>,
    },
    /// An award taken back because its activity was undone.
    PointsReversed {
        /// The member whose stream this is.
        member_id: MemberId,
        /// This ledger entry.
        entry_id: EntryId,
        /// The award being reversed, with its network and time so period folds can annul it.
        award_entry_id: EntryId,
        /// The platform of the reversed award.
        network: Network,
        /// When the reversed award's activity happened, so period folds annul it in its period.
        award_occurred_at: Timestamp,
        /// Points taken back: the award's points.
        points: i64,
        /// What undid the activity.
        reason: ReversalReason,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// A reversed award that earns again (a deleted comment was restored).
    AwardRestored {
        /// The member whose stream this is.
        member_id: MemberId,
        /// This ledger entry.
        entry_id: EntryId,
        /// The award earning again.
        award_entry_id: EntryId,
        /// The platform of the restored award.
        network: Network,
        /// When the restored award's activity happened, so period folds count it in its period.
        award_occurred_at: Timestamp,
        /// Points given back: the award's points.
        points: i64,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// An award the rules hold for review (see `review`): recorded, and counted by caps and
    /// velocity limits, but worth nothing until a manager approves it.
    AwardHeld {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The award's ledger entry; approval pays it under this id.
        entry_id: EntryId,
        /// The platform activity; its key makes the award unique, as for `PointsAwarded`.
        activity: ActivityRef,
        /// Points it pays if approved; positive.
        points: i64,
        /// The rules' version that priced the award.
        rule_version: u32,
        /// The campaign the award counts for, if any.
        campaign_id: Option<CampaignId>,
        /// When the activity happened on the platform.
        occurred_at: Timestamp,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
        /// As for `PointsAwarded`: the written text's fingerprint, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text_fingerprint: Option<TextFingerprint>,
        /// Which of the rules held it.
        hold: HoldReason,
    },
    /// A manager approved a held award: it pays now, counted where the activity happened.
    HeldAwardApproved {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The held award, whose entry this pays.
        award_entry_id: EntryId,
        /// The award's activity, so boards and raffles count it as the award it is.
        activity: ActivityRef,
        /// When the activity happened, so period folds count it in its period.
        award_occurred_at: Timestamp,
        /// Points paid: the held award's points.
        points: i64,
        /// The manager who approved it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// A held award closed without paying: a manager rejected it, or its activity was undone.
    HeldAwardRejected {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The held award.
        award_entry_id: EntryId,
        /// Points it would have paid.
        points: i64,
        /// Who or what closed it, and why.
        rejection: Rejection,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// What was left of one lot once the program's expiry period after its credit had passed.
    /// Its entry derives from the lot's, so a lot expires once whoever runs the job.
    PointsExpired {
        /// The member whose stream this is.
        member_id: MemberId,
        /// This ledger entry: `expiry::expiry_entry(lot_entry_id)`.
        entry_id: EntryId,
        /// The entry that credited the lot.
        lot_entry_id: EntryId,
        /// When that entry was decided.
        earned_at: Timestamp,
        /// Points that expired: all the lot still held.
        points: i64,
        /// The rules' version whose expiry period applied.
        rule_version: u32,
        /// When it was decided.
        at: Timestamp,
    },
    /// The member was told that points will expire soon (a notice: no balance moves).
    ExpiryWarned {
        /// The member whose stream this is.
        member_id: MemberId,
        /// Points expiring up to `through` that no earlier warning counted.
        points: i64,
        /// When the first of them expire.
        first_expires_at: Timestamp,
        /// Points expiring up to this instant are counted.
        through: Timestamp,
        /// The rules' version whose expiry period applied.
        rule_version: u32,
        /// When it was decided.
        at: Timestamp,
    },
    /// A season's prize, paid for the member's rank in its frozen standings; counts like a
    /// manual credit (balance, lifetime points, the period boards), never on a season's board.
    SeasonPrizeAwarded {
        /// The member whose stream this is.
        member_id: MemberId,
        /// This ledger entry, derived from (season, member): a prize is paid once.
        entry_id: EntryId,
        /// The season.
        season_id: SeasonId,
        /// The member's final rank.
        rank: u32,
        /// Points paid: the rank's prize.
        points: i64,
        /// When it was decided: the command's time.
        at: Timestamp,
    },
    /// The member moved to another tier (or off the ladder): the points they qualified with
    /// and the rules' version whose ladder placed them.
    TierChanged {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The tier left; `None` when the member had none.
        from: Option<String>,
        /// Its place on the ladder it was reached on (0 = none).
        from_level: u32,
        /// The tier reached; `None` below every threshold.
        to: Option<String>,
        /// Its place on the ladder, from 1 (0 = none).
        level: u32,
        /// What activity pays from now on, in percent (100 without a tier).
        multiplier_percent: u32,
        /// The member's qualifying points at `at`.
        qualifying_points: i64,
        /// The rules' version whose tiers decided it.
        rule_version: u32,
        /// When it was decided (and, for a rolling window, where the window ends).
        at: Timestamp,
    },
    /// A manager's correction of a balance, up or down.
    PointsAdjusted {
        /// The member whose stream this is.
        member_id: MemberId,
        /// This ledger entry, so a later correction can name it.
        entry_id: EntryId,
        /// Points added (positive) or removed (negative).
        delta: i64,
        /// Why, for managers and auditors: never shown to the member.
        reason: String,
        /// What the member is told, if anything. Absent from events recorded before it existed,
        /// which read as no note (same schema version: the field is additive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// The manager who did it.
        by: ManagerId,
        /// The entry this adjustment compensates; then `delta` nets it to zero.
        compensates: Option<EntryId>,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// A member bought a raffle ticket with points; paired with `RaffleEntered`.
    RaffleTicketBought {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The member's ledger entry for the spend; also the ticket's id.
        entry_id: EntryId,
        /// The raffle.
        raffle_id: RaffleId,
        /// Points spent: the raffle's ticket price.
        cost: i64,
        /// When it was decided: the command's time.
        at: Timestamp,
    },
    /// A cancelled raffle's ticket was refunded.
    RaffleTicketRefunded {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The member's ledger entry for the refund.
        entry_id: EntryId,
        /// The raffle.
        raffle_id: RaffleId,
        /// The ticket refunded (its purchase's entry id).
        ticket: EntryId,
        /// Points given back: what the ticket cost.
        refund: i64,
        /// When it was decided: the command's time.
        at: Timestamp,
    },
    /// The shop (through its API key) or a manager accepted a redemption's coupon: it cannot
    /// be used again or cancelled.
    CouponUsed {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The redemption whose coupon was used.
        redemption_id: RedemptionId,
        /// The reward redeemed.
        reward_id: RewardId,
        /// Who accepted it: `manager:<login>` or `shop:<key id>`.
        by: ManagerId,
        /// When it was decided: the command's time.
        at: Timestamp,
    },
    /// A member spent points on a reward and got a coupon; paired with `RewardIssued`.
    RewardRedeemed {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The member's ledger entry for the spend.
        entry_id: EntryId,
        /// This redemption, named again by a cancellation.
        redemption_id: RedemptionId,
        /// The reward redeemed.
        reward_id: RewardId,
        /// Points spent: the reward's price at the time.
        cost: i64,
        /// The code the member shows to get the reward.
        coupon_code: String,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// A manager cancelled a redemption and refunded its points; paired with
    /// `RewardReturned`.
    RedemptionCancelled {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The member's ledger entry for the refund.
        entry_id: EntryId,
        /// The redemption cancelled.
        redemption_id: RedemptionId,
        /// The reward redeemed.
        reward_id: RewardId,
        /// Points given back: what the redemption cost.
        refund: i64,
        /// The manager who did it.
        by: ManagerId,
        /// Why, in the manager's words; for managers and auditors.
        reason: String,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// Points an observed member (an account that earned before anyone claimed it) hands to
    /// the member who proved they own that account. Paired with `PointsMovedIn`.
    PointsMovedOut {
        /// The observed member giving the points away.
        member_id: MemberId,
        /// The giving member's ledger entry.
        entry_id: EntryId,
        /// The member who proved they own the account.
        to_member: MemberId,
        /// The account whose earnings move.
        account: LinkedAccount,
        /// The observed member's whole balance.
        points: i64,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// Points a member receives from the observed member of an account they proved they own.
    /// Paired with `PointsMovedOut`.
    PointsMovedIn {
        /// The member receiving the points.
        member_id: MemberId,
        /// The receiving member's ledger entry.
        entry_id: EntryId,
        /// The observed member the points come from.
        from_member: MemberId,
        /// The account whose earnings move.
        account: LinkedAccount,
        /// Points received: the observed member's whole balance.
        points: i64,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
        /// The texts the account was paid for, with when each paid copy happened: they stay
        /// paid for their new owner. Absent in events recorded before texts were tracked.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        paid_texts: Vec<(TextFingerprint, Timestamp)>,
    },
    /// A manager stopped a member from earning and redeeming.
    MemberBlocked {
        /// The member whose stream this is.
        member_id: MemberId,
        /// Why, in the manager's words; for managers and auditors.
        reason: String,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// A manager lifted a block.
    MemberUnblocked {
        /// The member whose stream this is.
        member_id: MemberId,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// The member's personal data was erased: their accounts are unlinked for good and the
    /// member stays in the log as an anonymous member, balance and history intact. Every later
    /// command on the member is refused.
    MemberErased {
        /// The member whose stream this is.
        member_id: MemberId,
        /// Who asked for it.
        by: Eraser,
        /// On what ground.
        reason: ErasureReason,
        /// When it was decided: the command's time.
        at: Timestamp,
    },

    // ----- identity stream: one per external account, the uniqueness guard -----
    /// The identity stream's guard: this external account belongs to this member, and to no
    /// other member of the program until released.
    IdentityClaimed {
        /// The program within which the account is unique.
        program_id: ProgramId,
        /// The external account.
        account: LinkedAccount,
        /// The member it now belongs to.
        member_id: MemberId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// The external account is free to be claimed again.
    IdentityReleased {
        /// The program within which the account was claimed.
        program_id: ProgramId,
        /// The external account.
        account: LinkedAccount,
        /// The member it belonged to.
        member_id: MemberId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },

    // ----- campaign stream -----
    /// A manager started a codeword campaign: members who write the codeword in its window earn
    /// its points once.
    CampaignCreated {
        /// The campaign.
        campaign_id: CampaignId,
        /// The program it happens in.
        program_id: ProgramId,
        /// The campaign's display name.
        name: String,
        /// What members write to earn, matched after normalisation.
        codeword: Codeword,
        /// Points each redemption earns.
        points: i64,
        /// When codewords start earning.
        starts_at: Timestamp,
        /// When codewords stop earning.
        ends_at: Timestamp,
        /// The most redemptions over all members; `None` is unlimited.
        total_cap: Option<u32>,
        /// Platforms where the codeword counts.
        networks: Vec<Network>,
        /// The one post whose comments count, if the campaign is tied to a post.
        target_post: Option<String>,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
        /// What the campaign tells members, in the manager's words (never the codeword).
        /// Additive: events without it read as none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// Codewords stop earning until the campaign is resumed.
    CampaignPaused {
        /// The campaign.
        campaign_id: CampaignId,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// A paused campaign earns again.
    CampaignResumed {
        /// The campaign.
        campaign_id: CampaignId,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// The campaign is over for good, before or at its end time.
    CampaignEnded {
        /// The campaign.
        campaign_id: CampaignId,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// A member earned a campaign's points by writing its codeword; counts against the cap.
    CodewordRedeemed {
        /// The campaign.
        campaign_id: CampaignId,
        /// The member who wrote the codeword.
        member_id: MemberId,
        /// The member's ledger entry for the points.
        entry_id: EntryId,
        /// Where the codeword was written.
        network: Network,
        /// The platform's id of the comment or message that carried the codeword.
        reference: String,
        /// Points earned: the campaign's points.
        points: i64,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },

    // ----- season stream -----
    /// A manager scheduled a leaderboard season.
    SeasonScheduled {
        /// The season.
        season_id: SeasonId,
        /// The program it runs in.
        program_id: ProgramId,
        /// What it counts, when, and what it pays.
        terms: SeasonTerms,
        /// The manager who scheduled it.
        by: ManagerId,
        /// When it was decided: the command's time.
        at: Timestamp,
    },
    /// A manager called a season off before it ended: no standings, no prizes.
    SeasonCancelled {
        /// The season.
        season_id: SeasonId,
        /// Why, in the manager's words.
        reason: String,
        /// The manager who cancelled it.
        by: ManagerId,
        /// When it was decided: the command's time.
        at: Timestamp,
    },
    /// The season's cutoff passed: its final standings, frozen as the log's fold gave them.
    SeasonEnded {
        /// The season.
        season_id: SeasonId,
        /// The top of the board with each rank's prize (see `season::SeasonBoard::standings`).
        standings: Vec<Standing>,
        /// Members with a positive score.
        participants: u32,
        /// When it was decided: after the cutoff.
        at: Timestamp,
    },
    /// Every prize of the ended season was paid or withheld.
    SeasonSettled {
        /// The season.
        season_id: SeasonId,
        /// Prizes paid.
        paid: u32,
        /// Members whose prize was withheld: blocked or erased when it was paid.
        withheld: Vec<MemberId>,
        /// When it was decided: the command's time.
        at: Timestamp,
    },

    // ----- raffle stream -----
    /// A manager opened a raffle, publishing the SHA-256 of a secret seed kept outside the
    /// log until the draw.
    RaffleOpened {
        /// The raffle.
        raffle_id: RaffleId,
        /// The program it happens in.
        program_id: ProgramId,
        /// What members see it called.
        title: String,
        /// What the winners get, in the manager's words.
        prize: String,
        /// Points per ticket.
        ticket_cost: i64,
        /// The most tickets one member may hold.
        max_tickets_per_member: u32,
        /// How many members win.
        winners: u32,
        /// Tickets are sold until this instant; the draw comes after.
        ends_at: Timestamp,
        /// Hex SHA-256 of the seed the draw will use.
        commitment: String,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time.
        at: Timestamp,
        /// How members enter; with an activity rule the ticket fields are 0. Additive: events
        /// without it read as tickets (and keep their payloads and hashes).
        #[serde(default, skip_serializing_if = "EntryRule::is_tickets")]
        entry_rule: EntryRule,
    },
    /// An entry in the raffle: a ticket (the raffle stream's half of `RaffleTicketBought`), or
    /// a member an activity raffle's rule let in, appended at the draw.
    RaffleEntered {
        /// The raffle.
        raffle_id: RaffleId,
        /// The ticket: the purchase's entry id; for an activity raffle, the member's first
        /// matching award's entry id.
        entry_id: EntryId,
        /// Its holder.
        member_id: MemberId,
        /// When it was decided: the command's time.
        at: Timestamp,
    },
    /// The draw: the seed revealed and the winning tickets, a pure function of the seed and
    /// the tickets in log order (`raffle::draw_winners`).
    RaffleDrawn {
        /// The raffle.
        raffle_id: RaffleId,
        /// The seed, hex; its SHA-256 is the commitment.
        seed: String,
        /// The winning tickets, in the order drawn.
        winning_tickets: Vec<EntryId>,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time.
        at: Timestamp,
    },
    /// A manager cancelled the raffle before its draw; every ticket is refunded.
    RaffleCancelled {
        /// The raffle.
        raffle_id: RaffleId,
        /// Why, in the manager's words.
        reason: String,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time.
        at: Timestamp,
    },

    // ----- reward stream -----
    /// A manager put a reward in the catalogue with its price and stock.
    RewardListed {
        /// The reward.
        reward_id: RewardId,
        /// The program it happens in.
        program_id: ProgramId,
        /// What the reward is called in the catalogue.
        title: String,
        /// Price in points.
        cost: i64,
        /// Units available at listing (0 for a coupon pool: its stock is its unused codes).
        stock: u32,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
        /// Coupon codes come from codes the brand uploads (`RewardCodesAdded`), not generated
        /// ones. Additive: events without it read as generated.
        #[serde(default, skip_serializing_if = "is_false")]
        coupon_pool: bool,
        /// A cancelled redemption's code goes back to the pool for the next member; otherwise
        /// it is retired (the member has seen it). Additive.
        #[serde(default, skip_serializing_if = "is_false")]
        return_codes: bool,
        /// Managers are alerted when a redemption leaves this many units or fewer. Additive.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        low_stock_alert: Option<u32>,
    },
    /// A manager uploaded codes to a coupon pool: each is a unit of stock. Only codes new to
    /// the pool are named, so uploading a file again adds nothing.
    RewardCodesAdded {
        /// The reward.
        reward_id: RewardId,
        /// The new codes, in the order they will be issued.
        codes: Vec<String>,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// A redemption left the reward with its alert threshold of units or fewer.
    RewardStockLow {
        /// The reward.
        reward_id: RewardId,
        /// Units left after the redemption.
        stock: i64,
        /// The reward's alert threshold.
        threshold: u32,
        /// When it was decided: the command's time.
        at: Timestamp,
    },
    /// A manager added or removed units of a reward.
    RewardStockChanged {
        /// The reward.
        reward_id: RewardId,
        /// Units added (positive) or removed (negative).
        delta: i32,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// The reward can no longer be redeemed; past redemptions stand.
    RewardDelisted {
        /// The reward.
        reward_id: RewardId,
        /// The manager who did it.
        by: ManagerId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
    },
    /// One unit of stock went to a redemption (the reward stream's half of `RewardRedeemed`).
    RewardIssued {
        /// The reward.
        reward_id: RewardId,
        /// The redemption it went to.
        redemption_id: RedemptionId,
        /// The member it went to.
        member_id: MemberId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
        /// The pool code taken, for a coupon pool. Additive.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    /// A cancelled redemption's unit is back in stock.
    RewardReturned {
        /// The reward.
        reward_id: RewardId,
        /// The cancelled redemption.
        redemption_id: RedemptionId,
        /// When it was decided: the command's time, not the platform's.
        at: Timestamp,
        /// The code back in the pool, for a coupon pool that returns codes. Additive.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
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
            Event::AwardHeld { .. } => "AwardHeld",
            Event::HeldAwardApproved { .. } => "HeldAwardApproved",
            Event::HeldAwardRejected { .. } => "HeldAwardRejected",
            Event::TierChanged { .. } => "TierChanged",
            Event::SeasonPrizeAwarded { .. } => "SeasonPrizeAwarded",
            Event::SeasonScheduled { .. } => "SeasonScheduled",
            Event::SeasonCancelled { .. } => "SeasonCancelled",
            Event::SeasonEnded { .. } => "SeasonEnded",
            Event::SeasonSettled { .. } => "SeasonSettled",
            Event::PointsExpired { .. } => "PointsExpired",
            Event::ExpiryWarned { .. } => "ExpiryWarned",
            Event::RewardRedeemed { .. } => "RewardRedeemed",
            Event::CouponUsed { .. } => "CouponUsed",
            Event::RaffleTicketBought { .. } => "RaffleTicketBought",
            Event::RaffleTicketRefunded { .. } => "RaffleTicketRefunded",
            Event::RaffleOpened { .. } => "RaffleOpened",
            Event::RaffleEntered { .. } => "RaffleEntered",
            Event::RaffleDrawn { .. } => "RaffleDrawn",
            Event::RaffleCancelled { .. } => "RaffleCancelled",
            Event::RedemptionCancelled { .. } => "RedemptionCancelled",
            Event::PointsMovedOut { .. } => "PointsMovedOut",
            Event::PointsMovedIn { .. } => "PointsMovedIn",
            Event::MemberBlocked { .. } => "MemberBlocked",
            Event::MemberUnblocked { .. } => "MemberUnblocked",
            Event::MemberErased { .. } => "MemberErased",
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
            Event::RewardCodesAdded { .. } => "RewardCodesAdded",
            Event::RewardStockLow { .. } => "RewardStockLow",
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
            }
            | Event::HeldAwardApproved {
                member_id, points, ..
            }
            | Event::SeasonPrizeAwarded {
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
            }
            | Event::PointsExpired {
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
            Event::RaffleTicketBought {
                member_id, cost, ..
            } => Some((*member_id, -*cost)),
            Event::RaffleTicketRefunded {
                member_id, refund, ..
            } => Some((*member_id, *refund)),
            _ => None,
        }
    }

    /// When the event was decided, as it states itself (every event carries its instant).
    pub fn at(&self) -> Timestamp {
        match self {
            Event::ProgramCreated { at, .. }
            | Event::RulesChanged { at, .. }
            | Event::MemberRegistered { at, .. }
            | Event::AccountLinked { at, .. }
            | Event::AccountUnlinked { at, .. }
            | Event::PointsAwarded { at, .. }
            | Event::PointsReversed { at, .. }
            | Event::AwardRestored { at, .. }
            | Event::PointsAdjusted { at, .. }
            | Event::AwardHeld { at, .. }
            | Event::HeldAwardApproved { at, .. }
            | Event::HeldAwardRejected { at, .. }
            | Event::RewardRedeemed { at, .. }
            | Event::RedemptionCancelled { at, .. }
            | Event::PointsMovedOut { at, .. }
            | Event::PointsMovedIn { at, .. }
            | Event::MemberBlocked { at, .. }
            | Event::MemberUnblocked { at, .. }
            | Event::MemberErased { at, .. }
            | Event::IdentityClaimed { at, .. }
            | Event::IdentityReleased { at, .. }
            | Event::CampaignCreated { at, .. }
            | Event::CampaignPaused { at, .. }
            | Event::CampaignResumed { at, .. }
            | Event::CampaignEnded { at, .. }
            | Event::CodewordRedeemed { at, .. }
            | Event::RewardListed { at, .. }
            | Event::RewardStockChanged { at, .. }
            | Event::RewardDelisted { at, .. }
            | Event::RewardIssued { at, .. }
            | Event::RewardReturned { at, .. }
            | Event::RewardCodesAdded { at, .. }
            | Event::RewardStockLow { at, .. }
            | Event::CouponUsed { at, .. }
            | Event::RaffleTicketBought { at, .. }
            | Event::RaffleTicketRefunded { at, .. }
            | Event::RaffleOpened { at, .. }
            | Event::RaffleEntered { at, .. }
            | Event::RaffleDrawn { at, .. }
            | Event::RaffleCancelled { at, .. }
            | Event::TierChanged { at, .. }
            | Event::PointsExpired { at, .. }
            | Event::ExpiryWarned { at, .. }
            | Event::SeasonPrizeAwarded { at, .. }
            | Event::SeasonScheduled { at, .. }
            | Event::SeasonCancelled { at, .. }
            | Event::SeasonEnded { at, .. }
            | Event::SeasonSettled { at, .. } => *at,
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
            | Event::AwardHeld { member_id, .. }
            | Event::HeldAwardApproved { member_id, .. }
            | Event::HeldAwardRejected { member_id, .. }
            | Event::TierChanged { member_id, .. }
            | Event::PointsExpired { member_id, .. }
            | Event::ExpiryWarned { member_id, .. }
            | Event::SeasonPrizeAwarded { member_id, .. }
            | Event::RewardRedeemed { member_id, .. }
            | Event::RedemptionCancelled { member_id, .. }
            | Event::CouponUsed { member_id, .. }
            | Event::RaffleTicketBought { member_id, .. }
            | Event::RaffleTicketRefunded { member_id, .. }
            | Event::PointsMovedOut { member_id, .. }
            | Event::PointsMovedIn { member_id, .. }
            | Event::MemberBlocked { member_id, .. }
            | Event::MemberUnblocked { member_id, .. }
            | Event::MemberErased { member_id, .. } => StreamId::Member(*member_id),
            Event::IdentityClaimed {
                program_id,
                account,
                ..
            }
            | Event::IdentityReleased {
                program_id,
                account,
                ..
            } => StreamId::Identity(*program_id, account.account),
            Event::CampaignCreated { campaign_id, .. }
            | Event::CampaignPaused { campaign_id, .. }
            | Event::CampaignResumed { campaign_id, .. }
            | Event::CampaignEnded { campaign_id, .. }
            | Event::CodewordRedeemed { campaign_id, .. } => StreamId::Campaign(*campaign_id),
            Event::RewardListed { reward_id, .. }
            | Event::RewardStockChanged { reward_id, .. }
            | Event::RewardDelisted { reward_id, .. }
            | Event::RewardIssued { reward_id, .. }
            | Event::RewardReturned { reward_id, .. }
            | Event::RewardCodesAdded { reward_id, .. }
            | Event::RewardStockLow { reward_id, .. } => StreamId::Reward(*reward_id),
            Event::RaffleOpened { raffle_id, .. }
            | Event::RaffleEntered { raffle_id, .. }
            | Event::RaffleDrawn { raffle_id, .. }
            | Event::RaffleCancelled { raffle_id, .. } => StreamId::Raffle(*raffle_id),
            Event::SeasonScheduled { season_id, .. }
            | Event::SeasonCancelled { season_id, .. }
            | Event::SeasonEnded { season_id, .. }
            | Event::SeasonSettled { season_id, .. } => StreamId::Season(*season_id),
        }
    }

    /// Payload schema version, bumped when a variant's shape changes (the store upcasts old
    /// payloads). 2: accounts by reference and keyed digests instead of platform ids.
    pub const SCHEMA_VERSION: i16 = 2;
}

/// Lets a flag that defaults to false stay out of old events' JSON (and their hashes).
fn is_false(flag: &bool) -> bool {
    !*flag
}
