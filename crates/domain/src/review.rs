//! Held awards: an award that looks like farming (a member earning faster than the rules allow,
//! a member new to the program, a big codeword bonus) is recorded as `AwardHeld` and pays
//! nothing until a manager approves it. Each held award is decided once: approving pays it,
//! rejecting closes it, and asking again for the same decision changes nothing.

use crate::error::DomainError;
use crate::event::{Event, ManagerId, ReversalReason};
use crate::ids::EntryId;
use crate::member::{MemberState, required_reason};
use crate::network::{ActivityKind, ActivityRef};
use crate::time::Timestamp;
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// The most hours a "new member" hold may cover (thirty days).
pub const MAX_NEW_MEMBER_HOURS: u32 = 720;

/// Which awards the rules hold for review. All off by default, and in rules recorded before
/// they existed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRules {
    /// An award that would make more than this many awards to one member within one minute
    /// (by when the activity happened) is held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_minute: Option<u32>,
    /// The same within an hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_hour: Option<u32>,
    /// A codeword bonus of more points than this is held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codeword_over: Option<i64>,
    /// Awards for activity within this many hours of the member's registration (for an account
    /// nobody has claimed yet: of its first sight) are held; 0 = none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub new_member_hours: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl ReviewRules {
    /// Refuses limits below 1 and a new-member window past [`MAX_NEW_MEMBER_HOURS`].
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.per_minute == Some(0) || self.per_hour == Some(0) {
            return Err(DomainError::InvalidRules(
                "review: awards per minute and per hour must be at least 1".into(),
            ));
        }
        if self.codeword_over.is_some_and(|p| p < 1) {
            return Err(DomainError::InvalidRules(
                "review: the codeword threshold must be at least 1 point".into(),
            ));
        }
        if self.new_member_hours > MAX_NEW_MEMBER_HOURS {
            return Err(DomainError::InvalidRules(format!(
                "review: new_member_hours at most {MAX_NEW_MEMBER_HOURS}"
            )));
        }
        Ok(())
    }

    /// Why these rules hold an award of `points` for `activity` (happened at `occurred_at`) to
    /// a member registered at `registered_at`; `None` pays it. `near(window)` counts the
    /// member's awards for activity less than `window` away from it (asked only when a
    /// velocity limit is set: most programs set none).
    pub fn hold_reason(
        &self,
        activity: &ActivityRef,
        points: i64,
        occurred_at: Timestamp,
        registered_at: Option<Timestamp>,
        near: impl Fn(Duration) -> usize,
    ) -> Option<HoldReason> {
        if activity.kind == ActivityKind::Codeword
            && self.codeword_over.is_some_and(|over| points > over)
        {
            return Some(HoldReason::LargeCodeword);
        }
        if self.new_member_hours > 0
            && let Some(registered) = registered_at
            && occurred_at.get() < registered.get() + Duration::hours(self.new_member_hours.into())
        {
            return Some(HoldReason::NewMember);
        }
        if self
            .per_minute
            .is_some_and(|limit| near(Duration::minutes(1)) + 1 > limit as usize)
        {
            return Some(HoldReason::VelocityMinute);
        }
        if self
            .per_hour
            .is_some_and(|limit| near(Duration::hours(1)) + 1 > limit as usize)
        {
            return Some(HoldReason::VelocityHour);
        }
        None
    }
}

/// Why an award was held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// More awards within a minute than the rules allow.
    VelocityMinute,
    /// More awards within an hour than the rules allow.
    VelocityHour,
    /// A codeword bonus above the rules' threshold.
    LargeCodeword,
    /// Activity in the member's first hours in the program.
    NewMember,
}

impl HoldReason {
    /// The snake_case name used in JSON and the panel.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::VelocityMinute => "velocity_minute",
            HoldReason::VelocityHour => "velocity_hour",
            HoldReason::LargeCodeword => "large_codeword",
            HoldReason::NewMember => "new_member",
        }
    }
}

/// Why a held award will never pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rejection {
    /// A manager rejected it.
    Manager {
        /// The manager.
        by: ManagerId,
        /// Why, for managers and auditors.
        reason: String,
    },
    /// Its activity was undone (comment deleted, like withdrawn) while it waited.
    ActivityUndone {
        /// What undid it.
        cause: ReversalReason,
    },
}

/// Where a held award stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldStatus {
    /// Waiting for a manager.
    Pending,
    /// Paid.
    Approved,
    /// Closed without paying.
    Rejected,
}

/// What the member stream remembers of a held award.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldAward {
    /// The award's activity.
    pub activity: ActivityRef,
    /// Points it pays if approved.
    pub points: i64,
    /// When the activity happened.
    pub occurred_at: Timestamp,
    /// Why it was held.
    pub reason: HoldReason,
    /// Where it stands.
    pub status: HeldStatus,
}

/// A manager's decision on a held award.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewDecision {
    /// Pay it.
    Approve,
    /// Close it without paying, for this reason (required).
    Reject {
        /// Why, for managers and auditors.
        reason: String,
    },
}

/// Decide one held award.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewHeld {
    /// The held award's entry.
    pub award: EntryId,
    /// Approve or reject.
    pub decision: ReviewDecision,
    /// The manager deciding.
    pub by: ManagerId,
    /// When it is decided: the command's time.
    pub at: Timestamp,
}

/// The entry that hands an approved award's points from an account's former stand-in to the
/// member who claimed the account: derived from the award, so it is named once.
pub fn handover_entry(award: EntryId) -> EntryId {
    EntryId(crate::ids::derived_id(&format!(
        "held-award-handover:{}",
        award.0
    )))
}

/// Decides a held award of `member`. When `member` stood in for an account that another
/// member has since claimed, `claimant` is that member's state: an approved award's points
/// then move on to them, as the stand-in's balance did when the account was claimed.
pub fn decide_review(
    member: &MemberState,
    claimant: Option<&MemberState>,
    command: ReviewHeld,
) -> Result<Vec<Event>, DomainError> {
    let member_id = member.member_id.ok_or(DomainError::MemberNotRegistered)?;
    let held = member
        .held
        .get(&command.award)
        .ok_or(DomainError::EntryNotFound(command.award))?;
    match (&command.decision, held.status) {
        (ReviewDecision::Approve, HeldStatus::Approved)
        | (ReviewDecision::Reject { .. }, HeldStatus::Rejected) => return Ok(vec![]),
        (_, HeldStatus::Approved | HeldStatus::Rejected) => {
            return Err(DomainError::AlreadyReviewed(command.award));
        }
        (_, HeldStatus::Pending) => {}
    }
    let ReviewHeld { award, by, at, .. } = command;
    match command.decision {
        ReviewDecision::Approve => approve(member, claimant, award, held, by, at),
        ReviewDecision::Reject { reason } => Ok(vec![Event::HeldAwardRejected {
            member_id,
            award_entry_id: award,
            points: held.points,
            rejection: Rejection::Manager {
                by,
                reason: required_reason(reason)?,
            },
            at,
        }]),
    }
}

fn approve(
    member: &MemberState,
    claimant: Option<&MemberState>,
    award: EntryId,
    held: &HeldAward,
    by: ManagerId,
    at: Timestamp,
) -> Result<Vec<Event>, DomainError> {
    let member_id = member.require_active()?;
    let mut events = vec![Event::HeldAwardApproved {
        member_id,
        award_entry_id: award,
        activity: held.activity.clone(),
        award_occurred_at: held.occurred_at,
        points: held.points,
        by,
        at,
    }];
    let Some(account) = member.handed_over() else {
        return Ok(events);
    };
    let Some(claimant) = claimant.filter(|c| c.member_id != Some(member_id)) else {
        return Ok(events);
    };
    if !claimant.linked.contains(&account) {
        return Err(DomainError::IdentityNotLinked(account));
    }
    let claimant_id = claimant.require_active()?;
    let entry_id = handover_entry(award);
    events.push(Event::PointsMovedOut {
        member_id,
        entry_id,
        to_member: claimant_id,
        account,
        points: held.points,
        at,
    });
    events.push(Event::PointsMovedIn {
        member_id: claimant_id,
        entry_id,
        from_member: member_id,
        account,
        points: held.points,
        at,
        paid_texts: Vec::new(),
    });
    Ok(events)
}
