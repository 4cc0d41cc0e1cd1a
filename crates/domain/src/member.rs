//! The member stream: balance, awards and the corrections that reference them.

use crate::error::DomainError;
use crate::event::{Eraser, ErasureReason, Event, LinkMethod, ManagerId, ReversalReason};
use crate::expiry::{ExpiryWarning, Lots};
use crate::ids::{CampaignId, EntryId, MemberId, ProgramId, RaffleId, RedemptionId, RewardId};
use crate::network::{ActivityRef, LinkedAccount, Network};
use crate::points::{Points, PointsDelta};
use crate::review::{HeldAward, HeldStatus, Rejection, ReviewRules};
use crate::text::{RepeatedText, TextFingerprint};
use crate::tier::MemberTier;
use crate::time::Timestamp;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the member stream remembers of one award: enough to reverse or restore it.
#[derive(Debug, Clone, PartialEq)]
pub struct AwardRecord {
    /// The award's ledger entry.
    pub entry_id: EntryId,
    /// Points it paid.
    pub points: i64,
    /// The platform of the activity.
    pub network: Network,
    /// When the activity happened on the platform.
    pub occurred_at: Timestamp,
    /// Taken back and not restored.
    pub reversed: bool,
}

/// What the member stream remembers of one redemption: enough to cancel it.
#[derive(Debug, Clone, PartialEq)]
pub struct RedemptionRecord {
    /// The reward redeemed.
    pub reward_id: RewardId,
    /// Points spent, and refunded if cancelled.
    pub cost: i64,
    /// Cancelled and refunded.
    pub cancelled: bool,
    /// The code the member was given.
    pub coupon_code: String,
    /// When the shop or a manager accepted the coupon.
    pub used_at: Option<Timestamp>,
}

/// What the member stream remembers of one raffle ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct RaffleTicket {
    /// The raffle.
    pub raffle_id: RaffleId,
    /// Points paid for it.
    pub cost: i64,
    /// Refunded after the raffle was cancelled.
    pub refunded: bool,
}

impl MemberState {
    /// Tickets the member holds in `raffle`, refunded ones excluded.
    pub fn tickets_in(&self, raffle: RaffleId) -> u32 {
        let held = self.raffle_tickets.values();
        held.filter(|t| t.raffle_id == raffle && !t.refunded)
            .count() as u32
    }
}

#[derive(Debug, Clone, PartialEq)]
struct TimedAward {
    activity: ActivityRef,
    points: i64,
}

/// Everything a decision about one member needs, folded from the member's stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberState {
    /// `None` until the member is registered.
    pub member_id: Option<MemberId>,
    /// When the member was registered (for an account's stand-in: when it was first seen).
    pub registered_at: Option<Timestamp>,
    /// The program the member belongs to; `None` until registered.
    pub program_id: Option<ProgramId>,
    /// Points the member can spend now.
    pub balance: i64,
    /// Net points from awards, reversals, adjustments and moves; redemptions excluded.
    pub earned: i64,
    /// Net points spent on redemptions, refunds deducted.
    pub spent: i64,
    /// A manager blocked the member.
    pub blocked: bool,
    /// External accounts the member owns.
    pub linked: BTreeSet<LinkedAccount>,
    /// The account this member stands in for, while nobody has proved they own it.
    pub observed_account: Option<LinkedAccount>,
    /// The account this member was ever the stand-in of (kept after it is claimed, so a held
    /// award approved later can follow the account's points to its claimant).
    pub stood_in_for: Option<LinkedAccount>,
    /// The member's personal data was erased: the history stays, nothing more is recorded.
    pub erased: bool,
    /// Awards by activity key: the idempotency guard and the target of reversals.
    pub awards: HashMap<String, AwardRecord>,
    /// Balance-changing entries that a manager may compensate, with their delta; `None` once
    /// compensated or reversed.
    pub compensable: HashMap<EntryId, Option<i64>>,
    /// Redemptions by id, for cancellation.
    pub redemptions: HashMap<RedemptionId, RedemptionRecord>,
    /// Raffle tickets by their purchase's entry id, for the per-member limit and refunds.
    pub raffle_tickets: HashMap<EntryId, RaffleTicket>,
    /// Awards held for review, by entry, whatever became of them.
    pub held: HashMap<EntryId, HeldAward>,
    /// The tier the stream last recorded; `None` without one.
    pub tier: Option<MemberTier>,
    /// Points that expired unspent.
    pub expired: i64,
    /// What is left of each credit, for expiry: always sums to `balance`.
    pub lots: Lots,
    /// The last expiry warning the member was given.
    pub expiry_warning: Option<ExpiryWarning>,
    /// Net points earned (spending excluded) by when each entry was decided, for tiers counted
    /// over a rolling window.
    earnings: BTreeMap<Timestamp, i64>,
    /// Awards by when they happened. Caps and cooldowns read only the range around an award,
    /// and nothing is pruned, so an award delivered late still meets the awards of its day.
    timeline: BTreeMap<Timestamp, Vec<TimedAward>>,
    /// Texts this member was paid for, with when each paid copy happened. Reversals and
    /// compensations do not remove them: a text earns once, and its own award may come back.
    paid_texts: HashMap<TextFingerprint, Vec<Timestamp>>,
}

/// Limits the program's rules put on one award, computed by the caller from the rules in force.
#[derive(Debug, Clone, PartialEq)]
pub struct AwardLimits {
    /// The program's time zone: where a day for the daily caps starts.
    pub time_zone: chrono_tz::Tz,
    /// The most points a member earns per day over all networks; `None` is unlimited.
    pub daily_cap: Option<i64>,
    /// The most points a member earns per day on one network; `None` is unlimited.
    pub daily_cap_per_network: Option<i64>,
    /// Least time between two paid activities of the same kind on the same network; 0 is none.
    pub cooldown_seconds: u32,
    /// Which awards are held for a manager's review.
    pub review: ReviewRules,
}

/// Pay a member for one platform activity, within the limits of the rules in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Award {
    /// The new ledger entry.
    pub entry_id: EntryId,
    /// The platform activity; its key makes the award idempotent.
    pub activity: ActivityRef,
    /// Points to pay, before caps.
    pub points: Points,
    /// The rules' version that priced it.
    pub rule_version: u32,
    /// The campaign the award counts for, if any.
    pub campaign_id: Option<CampaignId>,
    /// When the activity happened on the platform (decides the day for caps).
    pub occurred_at: Timestamp,
    /// Caps and cooldown from the rules in force.
    pub limits: AwardLimits,
    /// When it is decided: the command's time.
    pub at: Timestamp,
}

/// What a comment, mention or message said, as far as the award decision cares: the fingerprint
/// of its normalised text and how the rules in force treat a text already paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrittenText {
    /// Fingerprint of the normalised text.
    pub fingerprint: TextFingerprint,
    /// How the rules treat a text already paid for.
    pub repeats: RepeatedText,
}

/// What can be asked of a member stream.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberCommand {
    /// Start the member's stream.
    Register {
        /// The new member's id.
        member_id: MemberId,
        /// The program joined.
        program_id: ProgramId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Pay a member for one platform activity, within the limits of the rules in force.
    Award(Award),
    /// An award for written activity: as `Award`, and refused when the rules refuse a text this
    /// member was already paid for. The event records the text's fingerprint either way.
    AwardWritten {
        /// The award, as for `Award`.
        award: Award,
        /// What the activity said.
        text: WrittenText,
    },
    /// Take back what an activity earned (deleted comment, withdrawn like, left the group).
    Reverse {
        /// The reversal's ledger entry.
        entry_id: EntryId,
        /// The activity undone; names the award by its key.
        activity: ActivityRef,
        /// What undid it.
        reason: ReversalReason,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// A reversed activity earns again (comment restored, rejoined).
    Restore {
        /// The restoration's ledger entry.
        entry_id: EntryId,
        /// The activity back; names the award by its key.
        activity: ActivityRef,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// A manager adds or removes points by hand.
    Adjust {
        /// The adjustment's ledger entry.
        entry_id: EntryId,
        /// Points added (positive) or removed (negative).
        delta: PointsDelta,
        /// Why, for managers and auditors; required.
        reason: String,
        /// For the member; blank means none.
        note: Option<String>,
        /// The manager doing it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// A manager nets one earlier entry to zero.
    Compensate {
        /// The compensation's ledger entry.
        entry_id: EntryId,
        /// The entry to net to zero.
        target: EntryId,
        /// Why, for managers and auditors; required.
        reason: String,
        /// For the member; blank means none.
        note: Option<String>,
        /// The manager doing it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// A manager nets every award whose activity happened in `[from, until)` to zero at once
    /// (an account farm's harvest, a rule that paid by mistake): one compensation per award
    /// still standing, none for an award already reversed or compensated, so running it again
    /// adds nothing.
    CompensateAwards {
        /// Names the run: each compensation's entry derives from it and the award's entry.
        run_id: uuid::Uuid,
        /// The first instant of the range.
        from: Timestamp,
        /// The first instant after it.
        until: Timestamp,
        /// Why, for managers and auditors; required.
        reason: String,
        /// For the member; blank means none.
        note: Option<String>,
        /// The manager doing it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Stop the member from earning and redeeming.
    Block {
        /// Why, for managers and auditors; required.
        reason: String,
        /// The manager doing it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Lift a block.
    Unblock {
        /// The manager doing it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Erase the member's personal data; nothing to do if it already was.
    Erase {
        /// Who asks.
        by: Eraser,
        /// On what ground.
        reason: ErasureReason,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
}

impl MemberState {
    /// Whether the stream has a registration (every other command needs one).
    pub fn is_registered(&self) -> bool {
        self.member_id.is_some()
    }

    /// The state after `event`; events of other streams leave it as it is.
    pub fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::MemberRegistered {
                member_id,
                program_id,
                at,
            } => {
                self.member_id = Some(*member_id);
                self.program_id = Some(*program_id);
                self.registered_at = Some(*at);
            }
            Event::AccountLinked {
                account, method, ..
            } => {
                if *method == LinkMethod::Observed {
                    self.observed_account = Some(*account);
                    self.stood_in_for = Some(*account);
                }
                self.linked.insert(*account);
            }
            Event::AccountUnlinked { account, .. } => {
                if self.observed_account.as_ref() == Some(account) {
                    self.observed_account = None;
                }
                self.linked.remove(account);
            }
            Event::MemberErased { .. } => {
                self.erased = true;
                self.linked.clear();
                self.observed_account = None;
                self.stood_in_for = None;
            }
            Event::PointsAwarded {
                entry_id,
                activity,
                points,
                occurred_at,
                text_fingerprint,
                ..
            } => {
                self.record_award(
                    *entry_id,
                    activity,
                    *points,
                    *occurred_at,
                    *text_fingerprint,
                );
                self.compensable.insert(*entry_id, Some(*points));
            }
            // Recorded as an award (a redelivery is a duplicate, caps and texts count it), but
            // not compensable: it paid nothing.
            Event::AwardHeld {
                entry_id,
                activity,
                points,
                occurred_at,
                text_fingerprint,
                hold,
                ..
            } => {
                self.record_award(
                    *entry_id,
                    activity,
                    *points,
                    *occurred_at,
                    *text_fingerprint,
                );
                let held = HeldAward {
                    activity: activity.clone(),
                    points: *points,
                    occurred_at: *occurred_at,
                    reason: *hold,
                    status: HeldStatus::Pending,
                };
                self.held.insert(*entry_id, held);
            }
            Event::HeldAwardApproved {
                award_entry_id,
                points,
                ..
            } => {
                if let Some(held) = self.held.get_mut(award_entry_id) {
                    held.status = HeldStatus::Approved;
                }
                self.compensable.insert(*award_entry_id, Some(*points));
            }
            Event::HeldAwardRejected { award_entry_id, .. } => {
                if let Some(held) = self.held.get_mut(award_entry_id) {
                    held.status = HeldStatus::Rejected;
                }
            }
            Event::PointsReversed { award_entry_id, .. } => {
                self.set_award_reversed(*award_entry_id, true);
            }
            Event::AwardRestored { award_entry_id, .. } => {
                self.set_award_reversed(*award_entry_id, false);
            }
            Event::PointsAdjusted {
                entry_id,
                delta,
                compensates,
                ..
            } => match compensates {
                Some(target) => {
                    self.compensable.insert(*target, None);
                }
                None => {
                    self.compensable.insert(*entry_id, Some(*delta));
                }
            },
            Event::SeasonPrizeAwarded {
                entry_id, points, ..
            } => {
                self.compensable.insert(*entry_id, Some(*points));
            }
            Event::RewardRedeemed {
                redemption_id,
                reward_id,
                cost,
                coupon_code,
                ..
            } => {
                self.redemptions.insert(
                    *redemption_id,
                    RedemptionRecord {
                        reward_id: *reward_id,
                        cost: *cost,
                        cancelled: false,
                        coupon_code: coupon_code.clone(),
                        used_at: None,
                    },
                );
            }
            Event::RaffleTicketBought {
                entry_id,
                raffle_id,
                cost,
                ..
            } => {
                let ticket = RaffleTicket {
                    raffle_id: *raffle_id,
                    cost: *cost,
                    refunded: false,
                };
                self.raffle_tickets.insert(*entry_id, ticket);
            }
            Event::RaffleTicketRefunded { ticket, .. } => {
                if let Some(t) = self.raffle_tickets.get_mut(ticket) {
                    t.refunded = true;
                }
            }
            Event::CouponUsed {
                redemption_id, at, ..
            } => {
                if let Some(r) = self.redemptions.get_mut(redemption_id) {
                    r.used_at = Some(*at);
                }
            }
            Event::RedemptionCancelled { redemption_id, .. } => {
                if let Some(r) = self.redemptions.get_mut(redemption_id) {
                    r.cancelled = true;
                }
            }
            Event::TierChanged {
                to,
                level,
                multiplier_percent,
                rule_version,
                at,
                ..
            } => {
                self.tier = to.as_ref().map(|name| MemberTier {
                    name: name.clone(),
                    level: *level,
                    multiplier_percent: *multiplier_percent,
                    rule_version: *rule_version,
                    since: *at,
                });
            }
            Event::ExpiryWarned { through, at, .. } => {
                let through = *through;
                self.expiry_warning = Some(ExpiryWarning { at: *at, through });
            }
            Event::MemberBlocked { .. } => self.blocked = true,
            Event::MemberUnblocked { .. } => self.blocked = false,
            Event::PointsMovedIn { paid_texts, .. } => {
                for (fingerprint, occurred_at) in paid_texts {
                    self.paid_texts
                        .entry(*fingerprint)
                        .or_default()
                        .push(*occurred_at);
                }
            }
            _ => {}
        }
        self.apply_balance(event);
        self
    }

    /// An award paid or held: its text, its record by activity key, its place in the timeline.
    fn record_award(
        &mut self,
        entry_id: EntryId,
        activity: &ActivityRef,
        points: i64,
        occurred_at: Timestamp,
        text_fingerprint: Option<TextFingerprint>,
    ) {
        if let Some(fingerprint) = text_fingerprint {
            self.paid_texts
                .entry(fingerprint)
                .or_default()
                .push(occurred_at);
        }
        let record = AwardRecord {
            entry_id,
            points,
            network: activity.network,
            occurred_at,
            reversed: false,
        };
        self.awards.insert(activity.key(), record);
        let timed = TimedAward {
            activity: activity.clone(),
            points,
        };
        self.timeline.entry(occurred_at).or_default().push(timed);
    }

    fn apply_balance(&mut self, event: &Event) {
        self.lots.apply(event);
        match event {
            // Like spending, expiry lowers the balance and not what the member earned.
            Event::PointsExpired { points, .. } => {
                self.expired += points;
                self.balance -= points;
            }
            Event::RewardRedeemed { cost, .. } | Event::RaffleTicketBought { cost, .. } => {
                self.spent += cost;
                self.balance -= cost;
            }
            Event::RedemptionCancelled { refund, .. }
            | Event::RaffleTicketRefunded { refund, .. } => {
                self.spent -= refund;
                self.balance += refund;
            }
            other => {
                if let Some((_, delta)) = other.balance_delta() {
                    self.earned += delta;
                    self.balance += delta;
                    *self.earnings.entry(other.at()).or_default() += delta;
                }
            }
        }
    }

    fn set_award_reversed(&mut self, award_entry_id: EntryId, reversed: bool) {
        if let Some(award) = self
            .awards
            .values_mut()
            .find(|a| a.entry_id == award_entry_id)
        {
            award.reversed = reversed;
            let remaining = if reversed { None } else { Some(award.points) };
            self.compensable.insert(award_entry_id, remaining);
        }
    }

    /// Points awarded on `day` (in `tz`), in total and from `network`.
    pub fn awarded_on(&self, day: NaiveDate, tz: chrono_tz::Tz, network: Network) -> (i64, i64) {
        // A local day lies within a day either side of the same UTC date, whatever the zone.
        let midnight = day.and_time(NaiveTime::MIN).and_utc();
        let from = Timestamp::new(
            midnight
                .checked_sub_signed(Duration::days(1))
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        );
        let to = Timestamp::new(
            midnight
                .checked_add_signed(Duration::days(2))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
        self.timeline
            .range(from..to)
            .filter(|(at, _)| at.with_timezone(&tz).date_naive() == day)
            .flat_map(|(_, awards)| awards)
            .fold((0, 0), |(total, net), r| {
                let on_network = if r.activity.network == network {
                    r.points
                } else {
                    0
                };
                (total + r.points, net + on_network)
            })
    }

    /// Awards (paid or held) whose activity happened less than `window` before or after `at`.
    /// Both sides: activity arrives out of order, and an award delivered late must not make a
    /// window that already holds the limit hold one more.
    fn awards_within(&self, window: Duration, at: Timestamp) -> usize {
        let from = at
            .checked_sub_signed(window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let to = at
            .checked_add_signed(window)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.timeline
            .range(Timestamp::new(from)..=Timestamp::new(to))
            .filter(|(t, _)| t.get() > from && t.get() < to)
            .map(|(_, awards)| awards.len())
            .sum()
    }

    /// Net points earned by entries decided after `from` and up to `to`.
    pub fn earned_between(&self, from: Timestamp, to: Timestamp) -> i64 {
        if from >= to {
            return 0;
        }
        let within = self.earnings.range(from..=to).filter(|(at, _)| **at > from);
        within.map(|(_, delta)| delta).sum()
    }

    /// What activity pays this member now, in percent of the rule's points.
    pub fn multiplier_percent(&self) -> u32 {
        self.tier.as_ref().map_or(100, |t| t.multiplier_percent)
    }

    /// Points of the member's awards held for review and not yet decided.
    pub fn awaiting_review(&self) -> i64 {
        let pending = self
            .held
            .values()
            .filter(|h| h.status == HeldStatus::Pending);
        pending.map(|h| h.points).sum()
    }

    /// The account this member stood in for, when another member has since claimed it.
    pub fn handed_over(&self) -> Option<LinkedAccount> {
        self.stood_in_for
            .filter(|_| self.observed_account.is_none())
    }

    /// The member's id, if the member may still be acted on: registered and not erased.
    pub fn registered_id(&self) -> Result<MemberId, DomainError> {
        let member_id = self.member_id.ok_or(DomainError::MemberNotRegistered)?;
        if self.erased {
            return Err(DomainError::MemberErased);
        }
        Ok(member_id)
    }

    /// The member's id, if the member may earn: registered, not erased, not blocked.
    pub fn require_active(&self) -> Result<MemberId, DomainError> {
        let member_id = self.registered_id()?;
        if self.blocked {
            return Err(DomainError::MemberBlocked(member_id));
        }
        Ok(member_id)
    }

    /// The events `command` produces from this state, or why the rules refuse it.
    pub fn decide(&self, command: MemberCommand) -> Result<Vec<Event>, DomainError> {
        match command {
            MemberCommand::Register {
                member_id,
                program_id,
                at,
            } => {
                if self.is_registered() {
                    return Err(DomainError::AlreadyRegistered);
                }
                Ok(vec![Event::MemberRegistered {
                    member_id,
                    program_id,
                    at,
                }])
            }
            MemberCommand::Award(award) => self.decide_award(award).map(|e| vec![e]),
            MemberCommand::AwardWritten { award, text } => {
                self.decide_written_award(award, text).map(|e| vec![e])
            }
            MemberCommand::Reverse {
                entry_id,
                activity,
                reason,
                at,
            } => {
                let member_id = self.registered_id()?;
                let award = self
                    .awards
                    .get(&activity.key())
                    .ok_or(DomainError::NotFound)?;
                match self.held.get(&award.entry_id).map(|h| h.status) {
                    Some(HeldStatus::Pending) => {
                        return Ok(vec![Event::HeldAwardRejected {
                            member_id,
                            award_entry_id: award.entry_id,
                            points: award.points,
                            rejection: Rejection::ActivityUndone { cause: reason },
                            at,
                        }]);
                    }
                    Some(HeldStatus::Rejected) => {
                        return Err(DomainError::AlreadyCompensated(award.entry_id));
                    }
                    Some(HeldStatus::Approved) | None => {}
                }
                if award.reversed || self.compensable.get(&award.entry_id) == Some(&None) {
                    return Err(DomainError::AlreadyCompensated(award.entry_id));
                }
                Ok(vec![Event::PointsReversed {
                    member_id,
                    entry_id,
                    award_entry_id: award.entry_id,
                    network: award.network,
                    award_occurred_at: award.occurred_at,
                    points: award.points,
                    reason,
                    at,
                }])
            }
            MemberCommand::Restore {
                entry_id,
                activity,
                at,
            } => {
                let member_id = self.require_active()?;
                let award = self
                    .awards
                    .get(&activity.key())
                    .ok_or(DomainError::NotFound)?;
                if !award.reversed {
                    // Also a held award: it never paid, so there is nothing to restore.
                    return Err(DomainError::DuplicateActivity);
                }
                Ok(vec![Event::AwardRestored {
                    member_id,
                    entry_id,
                    award_entry_id: award.entry_id,
                    network: award.network,
                    award_occurred_at: award.occurred_at,
                    points: award.points,
                    at,
                }])
            }
            MemberCommand::Adjust {
                entry_id,
                delta,
                reason,
                note,
                by,
                at,
            } => {
                let member_id = self.registered_id()?;
                let reason = required_reason(reason)?;
                let delta = delta.get();
                if delta < 0 && self.balance + delta < 0 {
                    return Err(DomainError::InsufficientBalance {
                        balance: self.balance,
                        needed: -delta,
                    });
                }
                Ok(vec![Event::PointsAdjusted {
                    member_id,
                    entry_id,
                    delta,
                    reason,
                    note: optional_note(note),
                    by,
                    compensates: None,
                    at,
                }])
            }
            MemberCommand::Compensate {
                entry_id,
                target,
                reason,
                note,
                by,
                at,
            } => {
                let member_id = self.registered_id()?;
                let reason = required_reason(reason)?;
                let delta = match self.compensable.get(&target) {
                    None => return Err(DomainError::EntryNotFound(target)),
                    Some(None) => return Err(DomainError::AlreadyCompensated(target)),
                    Some(Some(delta)) => -*delta,
                };
                Ok(vec![Event::PointsAdjusted {
                    member_id,
                    entry_id,
                    delta,
                    reason,
                    note: optional_note(note),
                    by,
                    compensates: Some(target),
                    at,
                }])
            }
            MemberCommand::CompensateAwards {
                run_id,
                from,
                until,
                reason,
                note,
                by,
                at,
            } => {
                let member_id = self.registered_id()?;
                let reason = required_reason(reason)?;
                if until <= from {
                    return Err(DomainError::InvalidPeriod);
                }
                let note = optional_note(note);
                let mut standing: Vec<(Timestamp, EntryId, i64)> = self
                    .awards
                    .values()
                    .filter(|a| a.occurred_at >= from && a.occurred_at < until)
                    .filter_map(|a| match self.compensable.get(&a.entry_id) {
                        Some(Some(points)) => Some((a.occurred_at, a.entry_id, *points)),
                        _ => None,
                    })
                    .collect();
                standing.sort();
                Ok(standing
                    .into_iter()
                    .map(|(_, target, points)| Event::PointsAdjusted {
                        member_id,
                        entry_id: compensation_entry(run_id, target),
                        delta: -points,
                        reason: reason.clone(),
                        note: note.clone(),
                        by: by.clone(),
                        compensates: Some(target),
                        at,
                    })
                    .collect())
            }
            MemberCommand::Block { reason, by, at } => {
                let member_id = self.registered_id()?;
                let reason = required_reason(reason)?;
                if self.blocked {
                    return Ok(vec![]);
                }
                Ok(vec![Event::MemberBlocked {
                    member_id,
                    reason,
                    by,
                    at,
                }])
            }
            MemberCommand::Unblock { by, at } => {
                let member_id = self.registered_id()?;
                if !self.blocked {
                    return Ok(vec![]);
                }
                Ok(vec![Event::MemberUnblocked { member_id, by, at }])
            }
            MemberCommand::Erase { by, reason, at } => {
                let member_id = self.member_id.ok_or(DomainError::MemberNotRegistered)?;
                if self.erased {
                    return Ok(vec![]);
                }
                Ok(vec![Event::MemberErased {
                    member_id,
                    by,
                    reason,
                    at,
                }])
            }
        }
    }

    /// The award decision, shared by plain activity and codeword redemptions.
    pub fn decide_award(&self, award: Award) -> Result<Event, DomainError> {
        self.award_checked(award, None)
    }

    /// The award decision for a comment, mention or message: also refused when the rules
    /// refuse a text this member was already paid for (a redelivery stays a duplicate).
    pub fn decide_written_award(
        &self,
        award: Award,
        text: WrittenText,
    ) -> Result<Event, DomainError> {
        self.award_checked(award, Some(text))
    }

    /// Every paid copy of every text, in a stable order (what moves with a claimed account).
    pub fn paid_texts(&self) -> Vec<(TextFingerprint, Timestamp)> {
        let mut all: Vec<(TextFingerprint, Timestamp)> = self
            .paid_texts
            .iter()
            .flat_map(|(f, times)| times.iter().map(move |t| (*f, *t)))
            .collect();
        all.sort_unstable();
        all
    }

    /// When each paid copy of a text happened (empty if it was never paid).
    pub fn paid_text(&self, fingerprint: TextFingerprint) -> &[Timestamp] {
        self.paid_texts.get(&fingerprint).map_or(&[], Vec::as_slice)
    }

    fn award_checked(&self, award: Award, text: Option<WrittenText>) -> Result<Event, DomainError> {
        let member_id = self.require_active()?;
        if self.awards.contains_key(&award.activity.key()) {
            return Err(DomainError::DuplicateActivity);
        }
        if let Some(text) = text
            && text
                .repeats
                .refuses(self.paid_text(text.fingerprint), award.occurred_at)
        {
            return Err(DomainError::DuplicateText);
        }
        // A tier multiplies what activity pays; a codeword pays the campaign's promise as is.
        let points = match award.activity.kind {
            crate::network::ActivityKind::Codeword => award.points.get(),
            _ => crate::tier::multiplied(award.points.get(), self.multiplier_percent()),
        };
        let limits = &award.limits;
        let day = award
            .occurred_at
            .with_timezone(&limits.time_zone)
            .date_naive();
        let (today, today_on_network) =
            self.awarded_on(day, limits.time_zone, award.activity.network);
        if let Some(cap) = limits.daily_cap
            && today + points > cap
        {
            return Err(DomainError::DailyCapReached {
                awarded_today: today,
                cap,
            });
        }
        if let Some(cap) = limits.daily_cap_per_network
            && today_on_network + points > cap
        {
            return Err(DomainError::DailyCapReached {
                awarded_today: today_on_network,
                cap,
            });
        }
        if limits.cooldown_seconds > 0 {
            let cooldown = Duration::seconds(i64::from(limits.cooldown_seconds));
            let from = Timestamp::new(
                award
                    .occurred_at
                    .checked_sub_signed(cooldown)
                    .unwrap_or(DateTime::<Utc>::MIN_UTC),
            );
            let to = Timestamp::new(
                award
                    .occurred_at
                    .checked_add_signed(cooldown)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
            );
            let too_soon = self.timeline.range(from..=to).any(|(at, awards)| {
                (award.occurred_at - *at).abs() < cooldown
                    && awards.iter().any(|r| {
                        r.activity.network == award.activity.network
                            && r.activity.kind == award.activity.kind
                    })
            });
            if too_soon {
                return Err(DomainError::CooldownActive);
            }
        }
        let hold = limits.review.hold_reason(
            &award.activity,
            points,
            award.occurred_at,
            self.registered_at,
            |window| self.awards_within(window, award.occurred_at),
        );
        let text_fingerprint = text.map(|t| t.fingerprint);
        Ok(match hold {
            Some(hold) => Event::AwardHeld {
                member_id,
                entry_id: award.entry_id,
                activity: award.activity,
                points,
                rule_version: award.rule_version,
                campaign_id: award.campaign_id,
                occurred_at: award.occurred_at,
                at: award.at,
                text_fingerprint,
                hold,
            },
            None => Event::PointsAwarded {
                member_id,
                entry_id: award.entry_id,
                activity: award.activity,
                points,
                rule_version: award.rule_version,
                campaign_id: award.campaign_id,
                occurred_at: award.occurred_at,
                at: award.at,
                text_fingerprint,
            },
        })
    }
}

/// The entry of a range compensation's netting of `award`: derived, so a run retried after a
/// failure names the same entries.
pub fn compensation_entry(run_id: uuid::Uuid, award: EntryId) -> EntryId {
    EntryId(crate::ids::derived_id(&format!(
        "compensate-awards:{run_id}:{}",
        award.0
    )))
}

/// A note to the member, trimmed; a blank one is none.
fn optional_note(note: Option<String>) -> Option<String> {
    note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())
}

pub(crate) fn required_reason(reason: String) -> Result<String, DomainError> {
    let reason = reason.trim().to_string();
    if reason.is_empty() {
        return Err(DomainError::ReasonRequired);
    }
    Ok(reason)
}
