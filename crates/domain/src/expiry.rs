//! Point expiry. Every entry that credits points opens a lot (named by the entry); whatever
//! takes points away takes them from lots, oldest first (a reversal or compensation first from
//! the lot of the entry it undoes); a lot still holding points once the program's expiry period
//! after its credit has passed expires, one `PointsExpired` per lot with an id derived from it.
//! So spending never touches a point that expired, expiry never touches a point that was spent,
//! and a lot expires at most once however often or wherever the job runs.

use crate::error::DomainError;
use crate::event::Event;
use crate::ids::{EntryId, derived_id};
use crate::member::MemberState;
use crate::time::Timestamp;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The longest expiry period a program may set (ten years).
pub const MAX_EXPIRY_DAYS: u32 = 3650;

/// A program's expiry setting. Off (the default, and rules recorded before expiry existed) is
/// points that never expire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryRules {
    /// Days after its credit that a point expires; 0 = never.
    #[serde(default)]
    pub after_days: u32,
    /// Days before expiry that a member is warned; 0 = no warning.
    #[serde(default)]
    pub warn_days: u32,
}

impl ExpiryRules {
    /// True when points never expire.
    pub fn is_off(&self) -> bool {
        self.after_days == 0
    }

    /// True when nothing was set (left out of recorded rules, so older payloads stay as they were).
    pub fn is_unset(&self) -> bool {
        *self == Self::default()
    }

    /// Refuses a period past [`MAX_EXPIRY_DAYS`], or a warning without expiry or not shorter
    /// than the period itself.
    pub fn validate(&self) -> Result<(), DomainError> {
        let invalid = |why: String| Err(DomainError::InvalidRules(format!("expiry: {why}")));
        if self.after_days > MAX_EXPIRY_DAYS {
            return invalid(format!("after_days at most {MAX_EXPIRY_DAYS} (0 = never)"));
        }
        if self.warn_days > 0 && self.warn_days >= self.after_days {
            return invalid("warn_days must be shorter than after_days".into());
        }
        Ok(())
    }

    /// When points credited at `earned_at` expire; `None` when they never do.
    pub fn expires_at(&self, earned_at: Timestamp) -> Option<Timestamp> {
        if self.is_off() {
            return None;
        }
        let at = earned_at
            .get()
            .checked_add_signed(Duration::days(self.after_days.into()))?;
        Some(Timestamp::new(at))
    }

    /// When the job first has something to decide about points credited at `earned_at` (their
    /// warning, or their expiry when there is none); `None` when they never expire.
    pub fn first_look(&self, earned_at: Timestamp) -> Option<Timestamp> {
        let expires_at = self.expires_at(earned_at)?;
        if self.warn_days == 0 {
            return Some(expires_at);
        }
        let ahead = Duration::days(self.warn_days.into()) + Duration::days(WARNING_GAP_DAYS);
        Some(expires_at - ahead)
    }

    /// From when a member is warned about points that expire at `expires_at`.
    pub fn warn_from(&self, expires_at: Timestamp) -> Option<Timestamp> {
        if self.is_off() || self.warn_days == 0 {
            return None;
        }
        let at = expires_at
            .get()
            .checked_sub_signed(Duration::days(self.warn_days.into()))?;
        Some(Timestamp::new(at))
    }
}

/// Points credited by one entry and not yet spent, taken back or expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lot {
    /// The entry that credited them (for an approved held award: the award's entry).
    pub entry_id: EntryId,
    /// When that entry was decided.
    pub earned_at: Timestamp,
    /// What is left of it.
    pub remaining: i64,
}

/// A member's lots in the order they were credited, and the points taken beyond them (a reversal
/// after spending can leave a balance below zero): the next credits pay that first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lots {
    open: VecDeque<Lot>,
    debt: i64,
}

impl Lots {
    /// The lots still holding points, oldest credit first.
    pub fn open(&self) -> impl Iterator<Item = &Lot> {
        self.open.iter()
    }

    /// Points taken beyond every lot, not yet paid back by a credit.
    pub fn debt(&self) -> i64 {
        self.debt
    }

    /// Points left in lots less the debt: always the member's balance.
    pub fn balance(&self) -> i64 {
        self.open.iter().map(|l| l.remaining).sum::<i64>() - self.debt
    }

    /// The lots after `event`; events that move no points leave them as they are.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::PointsAwarded {
                entry_id,
                points,
                at,
                ..
            }
            | Event::AwardRestored {
                entry_id,
                points,
                at,
                ..
            }
            | Event::PointsMovedIn {
                entry_id,
                points,
                at,
                ..
            }
            | Event::SeasonPrizeAwarded {
                entry_id,
                points,
                at,
                ..
            } => self.credit(*entry_id, *at, *points),
            Event::HeldAwardApproved {
                award_entry_id,
                points,
                at,
                ..
            } => self.credit(*award_entry_id, *at, *points),
            Event::RedemptionCancelled {
                entry_id,
                refund,
                at,
                ..
            }
            | Event::RaffleTicketRefunded {
                entry_id,
                refund,
                at,
                ..
            } => self.credit(*entry_id, *at, *refund),
            Event::PointsAdjusted {
                entry_id,
                delta,
                compensates,
                at,
                ..
            } => match (*delta > 0, compensates) {
                (true, _) => self.credit(*entry_id, *at, *delta),
                (false, Some(target)) => self.take(Some(*target), -*delta),
                (false, None) => self.take(None, -*delta),
            },
            Event::PointsReversed {
                award_entry_id,
                points,
                ..
            } => self.take(Some(*award_entry_id), *points),
            Event::PointsMovedOut { points, .. } => self.take(None, *points),
            Event::RewardRedeemed { cost, .. } | Event::RaffleTicketBought { cost, .. } => {
                self.take(None, *cost)
            }
            Event::PointsExpired {
                lot_entry_id,
                points,
                ..
            } => self.take(Some(*lot_entry_id), *points),
            _ => {}
        }
    }

    fn credit(&mut self, entry_id: EntryId, earned_at: Timestamp, points: i64) {
        let repaid = points.min(self.debt).max(0);
        self.debt -= repaid;
        let remaining = points - repaid;
        if remaining > 0 {
            self.open.push_back(Lot {
                entry_id,
                earned_at,
                remaining,
            });
        }
    }

    /// Takes `points` from the lot of `first` if it is open, the rest from the oldest lots, and
    /// what no lot holds as debt.
    fn take(&mut self, first: Option<EntryId>, points: i64) {
        let mut left = points.max(0);
        if let Some(entry) = first
            && let Some(i) = self.open.iter().position(|l| l.entry_id == entry)
        {
            left -= Self::take_from(&mut self.open[i], left);
            if self.open[i].remaining == 0 {
                self.open.remove(i);
            }
        }
        while left > 0 {
            let Some(oldest) = self.open.front_mut() else {
                break;
            };
            left -= Self::take_from(oldest, left);
            if oldest.remaining == 0 {
                self.open.pop_front();
            }
        }
        self.debt += left;
    }

    fn take_from(lot: &mut Lot, points: i64) -> i64 {
        let taken = points.min(lot.remaining);
        lot.remaining -= taken;
        taken
    }

    /// The open lots whose points have expired by `at` under `rules`.
    pub fn due(&self, rules: &ExpiryRules, at: Timestamp) -> impl Iterator<Item = &Lot> {
        self.open
            .iter()
            .filter(move |l| rules.expires_at(l.earned_at).is_some_and(|e| e <= at))
    }

    /// Points still to expire under `rules`, as (when, how many) sorted by when, one pair per
    /// instant.
    pub fn schedule(&self, rules: &ExpiryRules) -> Vec<(Timestamp, i64)> {
        let mut dated: Vec<(Timestamp, i64)> = self
            .open
            .iter()
            .filter_map(|l| Some((rules.expires_at(l.earned_at)?, l.remaining)))
            .collect();
        dated.sort_unstable();
        dated.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 += later.1;
            }
            same
        });
        dated
    }

    /// When the oldest open lot was credited (whatever the rules, the first that can expire).
    pub fn oldest(&self) -> Option<Timestamp> {
        self.open.iter().map(|l| l.earned_at).min()
    }
}

/// Expire what is due of a member's points under the rules in force.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpirePoints {
    /// The program's expiry setting.
    pub rules: ExpiryRules,
    /// The rules' version it belongs to.
    pub rule_version: u32,
    /// When it is decided: the command's time.
    pub at: Timestamp,
}

/// The entry of the expiry of `lot`: derived, so two runs (or two servers) name the same entry
/// and the log's unique event ids keep the second out.
pub fn expiry_entry(lot: EntryId) -> EntryId {
    EntryId(derived_id(&format!("expire:{}", lot.0)))
}

/// One `PointsExpired` per open lot whose points are due at `cmd.at`, oldest first; nothing when
/// the program's points never expire. Blocked and erased members' points expire too: what
/// nobody can spend should not stay on the program's books.
pub fn decide_expiry(member: &MemberState, cmd: ExpirePoints) -> Result<Vec<Event>, DomainError> {
    let member_id = member.member_id.ok_or(DomainError::MemberNotRegistered)?;
    Ok(member
        .lots
        .due(&cmd.rules, cmd.at)
        .map(|lot| expired(member_id, lot, &cmd))
        .collect())
}

/// The expiry of one lot, if it is still open and due at `cmd.at` (the job expires lot by lot,
/// each under a command named by the lot, so every expiry event's id derives from its lot).
pub fn expire_lot(
    member: &MemberState,
    lot: EntryId,
    cmd: &ExpirePoints,
) -> Result<Vec<Event>, DomainError> {
    let member_id = member.member_id.ok_or(DomainError::MemberNotRegistered)?;
    let mut due = member.lots.due(&cmd.rules, cmd.at);
    Ok(due
        .find(|l| l.entry_id == lot)
        .map(|l| expired(member_id, l, cmd))
        .into_iter()
        .collect())
}

fn expired(member_id: crate::ids::MemberId, lot: &Lot, cmd: &ExpirePoints) -> Event {
    Event::PointsExpired {
        member_id,
        entry_id: expiry_entry(lot.entry_id),
        lot_entry_id: lot.entry_id,
        earned_at: lot.earned_at,
        points: lot.remaining,
        rule_version: cmd.rule_version,
        at: cmd.at,
    }
}

/// Least time between two warnings to one member, and how far beyond the warning period a
/// warning looks: so a member hears at most once a week, and still `warn_days` ahead of every
/// point (a point missed by one warning is within the next one's `warn_days + 7` days).
pub const WARNING_GAP_DAYS: i64 = 7;

/// The last warning a member was given: when, and up to which instant it counted points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryWarning {
    /// When the member was warned.
    pub at: Timestamp,
    /// Points expiring up to this instant were counted.
    pub through: Timestamp,
}

/// `ExpiryWarned` when the member has points expiring within `warn_days` + a week of `cmd.at`
/// that no warning counted yet, and the last warning is at least a week old; else nothing.
/// Only members who can still spend are warned (not blocked, not erased); points already due
/// are left to their expiry.
pub fn decide_warning(member: &MemberState, cmd: &ExpirePoints) -> Result<Vec<Event>, DomainError> {
    let member_id = member.member_id.ok_or(DomainError::MemberNotRegistered)?;
    if cmd.rules.is_off() || cmd.rules.warn_days == 0 || member.erased || member.blocked {
        return Ok(vec![]);
    }
    let gap = Duration::days(WARNING_GAP_DAYS);
    if member.expiry_warning.is_some_and(|w| cmd.at < w.at + gap) {
        return Ok(vec![]);
    }
    let through = cmd.at + Duration::days(cmd.rules.warn_days.into()) + gap;
    let counted = member.expiry_warning.map(|w| w.through);
    let unwarned = member
        .lots
        .schedule(&cmd.rules)
        .into_iter()
        .filter(|(at, _)| *at > cmd.at && *at <= through && counted.is_none_or(|c| *at > c));
    let (first, points) = unwarned.fold((None, 0), |(first, sum), (at, points)| {
        (first.or(Some(at)), sum + points)
    });
    let Some(first_expires_at) = first.filter(|_| points > 0) else {
        return Ok(vec![]);
    };
    Ok(vec![Event::ExpiryWarned {
        member_id,
        points,
        first_expires_at,
        through,
        rule_version: cmd.rule_version,
        at: cmd.at,
    }])
}

/// The next instant the job has something to decide for this member under `rules`: the first
/// lot's expiry, or the first warning due; `None` when nothing ever will (no open lots, or
/// points that never expire).
pub fn next_look(member: &MemberState, rules: &ExpiryRules) -> Option<Timestamp> {
    let schedule = member.lots.schedule(rules);
    let expiry = schedule.first().map(|(at, _)| *at);
    let warns = rules.warn_days > 0 && !member.erased && !member.blocked;
    let warning = warns
        .then(|| {
            let counted = member.expiry_warning.map(|w| w.through);
            let (first, _) = schedule
                .iter()
                .find(|(at, _)| counted.is_none_or(|c| *at > c))?;
            let ahead = Duration::days(rules.warn_days.into()) + Duration::days(WARNING_GAP_DAYS);
            let allowed = member
                .expiry_warning
                .map(|w| w.at + Duration::days(WARNING_GAP_DAYS));
            Some((*first - ahead).max(allowed.unwrap_or(*first - ahead)))
        })
        .flatten();
    match (expiry, warning) {
        (Some(e), Some(w)) => Some(e.min(w)),
        (e, w) => e.or(w),
    }
}

/// Whether `lots` (the member's, just before the event) justify an expiry of `points` from
/// `lot` at `at` under `rules`: the lot is open, holds exactly that, and was due.
pub fn justified(
    lots: &Lots,
    rules: &ExpiryRules,
    lot: EntryId,
    points: i64,
    at: Timestamp,
) -> bool {
    lots.due(rules, at)
        .any(|l| l.entry_id == lot && l.remaining == points)
}
