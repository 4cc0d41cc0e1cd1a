//! Tiers: levels a member reaches by the points they earn, each with a multiplier on what
//! activity pays. A member's tier is a fold of their own stream: `TierChanged` records each move
//! with the rules' version that caused it, decided by [`decide_tier`] from the points the member
//! qualifies with at that instant, so an auditor can recompute every move from the log.

use crate::error::DomainError;
use crate::event::Event;
use crate::member::MemberState;
use crate::time::Timestamp;
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// Most tiers a program may define.
pub const MAX_TIERS: usize = 10;
/// Longest tier name, in characters.
pub const MAX_TIER_NAME_CHARS: usize = 40;
/// The highest multiplier a tier may give, in percent (five times).
pub const MAX_MULTIPLIER_PERCENT: u32 = 500;
/// The longest rolling window a program may count tiers over (two years).
pub const MAX_TIER_WINDOW_DAYS: u32 = 730;

/// One level of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierLevel {
    /// Shown to members and managers ("Silver").
    pub name: String,
    /// Qualifying points from which a member holds it.
    pub threshold: i64,
    /// What activity pays at this tier, in percent of the rule's points (100 = unchanged).
    pub multiplier_percent: u32,
}

/// A program's tiers. No levels (the default, and rules recorded before tiers existed) is no
/// tiers at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRules {
    /// 0: qualifying points are the member's lifetime points; otherwise the points they earned
    /// within this many days before the instant of the decision (a rolling window).
    #[serde(default)]
    pub window_days: u32,
    /// The ladder, lowest first, thresholds strictly rising.
    #[serde(default)]
    pub levels: Vec<TierLevel>,
}

impl TierRules {
    /// True when the program has no tiers.
    pub fn is_off(&self) -> bool {
        self.levels.is_empty()
    }

    /// True when nothing was set (left out of recorded rules, so older payloads stay as they were).
    pub fn is_unset(&self) -> bool {
        *self == Self::default()
    }

    /// Refuses a ladder a manager may not set: more than [`MAX_TIERS`] levels, a blank, long or
    /// repeated name, thresholds below 1 or not strictly rising, a multiplier outside
    /// 100–[`MAX_MULTIPLIER_PERCENT`], a window past [`MAX_TIER_WINDOW_DAYS`].
    pub fn validate(&self) -> Result<(), DomainError> {
        let invalid = |why: String| Err(DomainError::InvalidRules(format!("tiers: {why}")));
        if self.levels.len() > MAX_TIERS {
            return invalid(format!("at most {MAX_TIERS} levels"));
        }
        if self.window_days > MAX_TIER_WINDOW_DAYS {
            return invalid(format!("window_days at most {MAX_TIER_WINDOW_DAYS}"));
        }
        let mut names: Vec<String> = Vec::with_capacity(self.levels.len());
        let mut previous = 0;
        for level in &self.levels {
            let name = level.name.trim();
            if name.is_empty() || name.chars().count() > MAX_TIER_NAME_CHARS {
                return invalid(format!("a name is 1 to {MAX_TIER_NAME_CHARS} characters"));
            }
            if name != level.name {
                return invalid(format!("\"{}\": no spaces around a name", level.name));
            }
            let folded = name.to_lowercase();
            if names.contains(&folded) {
                return invalid(format!("\"{name}\" is named twice"));
            }
            names.push(folded);
            if level.threshold <= previous || level.threshold > crate::points::MAX_POINTS_DELTA {
                return invalid(format!(
                    "\"{name}\": thresholds start at 1 and rise from level to level"
                ));
            }
            previous = level.threshold;
            if !(100..=MAX_MULTIPLIER_PERCENT).contains(&level.multiplier_percent) {
                return invalid(format!(
                    "\"{name}\": the multiplier is 100 to {MAX_MULTIPLIER_PERCENT} percent"
                ));
            }
        }
        Ok(())
    }

    /// The level `points` reach, numbered from 1 (lowest), or `None` below the first.
    pub fn level_for(&self, points: i64) -> Option<(u32, &TierLevel)> {
        let reached = self.levels.iter().take_while(|l| l.threshold <= points);
        reached.enumerate().last().map(|(i, l)| (i as u32 + 1, l))
    }

    /// The next level above `points` and the points still missing to it.
    pub fn next_after(&self, points: i64) -> Option<(&TierLevel, i64)> {
        let next = self.levels.iter().find(|l| l.threshold > points)?;
        Some((next, next.threshold - points))
    }
}

/// The tier a member holds, as their stream last recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberTier {
    /// The tier's name.
    pub name: String,
    /// Its place on the ladder of its rules' version, from 1.
    pub level: u32,
    /// What activity pays at it, in percent.
    pub multiplier_percent: u32,
    /// The rules' version that placed the member there.
    pub rule_version: u32,
    /// When the member reached it.
    pub since: Timestamp,
}

/// Where a member stands on a ladder, for the surfaces that show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing<'a> {
    /// The tier the member was last placed on.
    pub current: Option<&'a MemberTier>,
    /// The level above it and the qualifying points still missing (0 when already reached and
    /// not yet recorded); `None` at the top.
    pub next: Option<(&'a TierLevel, i64)>,
    /// The points the ladder counts at that instant.
    pub qualifying_points: i64,
}

/// The member's standing on `tiers` at `at`; `None` when the program has no ladder and the
/// member holds no tier.
pub fn standing<'a>(
    tiers: &'a TierRules,
    member: &'a MemberState,
    at: Timestamp,
) -> Option<Standing<'a>> {
    if tiers.is_off() && member.tier.is_none() {
        return None;
    }
    let points = qualifying_points(member, tiers.window_days, at);
    let held = member.tier.as_ref().map_or(0, |t| t.level as usize);
    let next = tiers
        .levels
        .get(held)
        .map(|l| (l, (l.threshold - points).max(0)));
    Some(Standing {
        current: member.tier.as_ref(),
        next,
        qualifying_points: points,
    })
}

/// A multiplier as people write it: 150 → "1.5", 200 → "2", 125 → "1.25".
pub fn times(multiplier_percent: u32) -> String {
    let (whole, hundredths) = (multiplier_percent / 100, multiplier_percent % 100);
    match hundredths {
        0 => whole.to_string(),
        h if h % 10 == 0 => format!("{whole}.{}", h / 10),
        h => format!("{whole}.{h:02}"),
    }
}

/// `points` at `multiplier_percent`, rounded half up (5 points at 110% pay 6).
pub fn multiplied(points: i64, multiplier_percent: u32) -> i64 {
    let scaled = i128::from(points) * i128::from(multiplier_percent);
    i64::try_from((scaled + 50) / 100).unwrap_or(i64::MAX)
}

/// Place the member on the ladder of the rules in force.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateTier {
    /// The program's tiers.
    pub tiers: TierRules,
    /// The rules' version they belong to.
    pub rule_version: u32,
    /// When it is decided: the command's time, and the end of a rolling window.
    pub at: Timestamp,
}

/// The member's qualifying points at `at`: lifetime points, or those earned in the window
/// ending at `at`.
pub fn qualifying_points(member: &MemberState, window_days: u32, at: Timestamp) -> i64 {
    if window_days == 0 {
        return member.earned;
    }
    let from = at
        .get()
        .checked_sub_signed(Duration::days(window_days.into()))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    member.earned_between(Timestamp::new(from), at)
}

/// `TierChanged` when the member's qualifying points place them on another tier than the one
/// recorded (or the same name with another multiplier), else nothing: asking twice at one
/// instant records one move. An erased member is left where they are.
pub fn decide_tier(member: &MemberState, cmd: EvaluateTier) -> Result<Vec<Event>, DomainError> {
    let member_id = member.member_id.ok_or(DomainError::MemberNotRegistered)?;
    if member.erased {
        return Ok(vec![]);
    }
    let points = qualifying_points(member, cmd.tiers.window_days, cmd.at);
    let reached = cmd.tiers.level_for(points);
    let held = member.tier.as_ref();
    let same = match (held, reached) {
        (None, None) => true,
        (Some(t), Some((level, l))) => {
            t.name == l.name && t.level == level && t.multiplier_percent == l.multiplier_percent
        }
        _ => false,
    };
    if same {
        return Ok(vec![]);
    }
    Ok(vec![Event::TierChanged {
        member_id,
        from: held.map(|t| t.name.clone()),
        from_level: held.map_or(0, |t| t.level),
        to: reached.map(|(_, l)| l.name.clone()),
        level: reached.map_or(0, |(level, _)| level),
        multiplier_percent: reached.map_or(100, |(_, l)| l.multiplier_percent),
        qualifying_points: points,
        rule_version: cmd.rule_version,
        at: cmd.at,
    }])
}
