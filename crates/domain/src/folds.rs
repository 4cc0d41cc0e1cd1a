//! Pure folds of the whole log into the numbers read models must agree with. Projections keep
//! the same numbers in tables; the audit recomputes them here and compares.

use crate::event::Event;
use crate::ids::{CampaignId, MemberId};
use crate::network::Network;
use crate::time::Timestamp;
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// One member's points, as the balances read model shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// What the member can spend now.
    pub current: i64,
    /// Everything earned, net of reversals and adjustments.
    pub earned: i64,
    /// Spent on rewards, net of cancelled redemptions.
    pub spent: i64,
    /// Expired unspent.
    pub expired: i64,
}

/// Balances of every member.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Balances(pub HashMap<MemberId, Balance>);

impl Balances {
    /// Folds one event into the balances; events that move no points leave them unchanged.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::MemberRegistered { member_id, .. } => {
                self.0.entry(*member_id).or_default();
            }
            Event::RewardRedeemed {
                member_id, cost, ..
            }
            | Event::RaffleTicketBought {
                member_id, cost, ..
            } => {
                let b = self.0.entry(*member_id).or_default();
                b.spent += cost;
                b.current -= cost;
            }
            Event::RedemptionCancelled {
                member_id, refund, ..
            }
            | Event::RaffleTicketRefunded {
                member_id, refund, ..
            } => {
                let b = self.0.entry(*member_id).or_default();
                b.spent -= refund;
                b.current += refund;
            }
            Event::PointsExpired {
                member_id, points, ..
            } => {
                let b = self.0.entry(*member_id).or_default();
                b.expired += points;
                b.current -= points;
            }
            other => {
                if let Some((member_id, delta)) = other.balance_delta() {
                    let b = self.0.entry(member_id).or_default();
                    b.earned += delta;
                    b.current += delta;
                }
            }
        }
    }
}

/// Which leaderboard: its period and, optionally, one network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BoardKey {
    /// The span the board covers.
    pub period: Period,
    /// The one network it counts; `None` counts all.
    pub network: Option<Network>,
}

/// The span a leaderboard covers, in the program's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Period {
    /// Every award ever.
    AllTime,
    /// ISO week in the program's time zone.
    Week {
        /// The ISO week-numbering year (can differ from the calendar year at its edges).
        iso_year: i32,
        /// The ISO week, 1 to 53.
        week: u32,
    },
    /// A calendar month in the program's time zone.
    Month {
        /// The calendar year.
        year: i32,
        /// The month, 1 to 12.
        month: u32,
    },
}

impl Period {
    /// The week and month containing `at` in `tz`.
    pub fn containing(at: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> [Period; 2] {
        let local = at.with_timezone(&tz);
        let week = local.iso_week();
        [
            Period::Week {
                iso_year: week.year(),
                week: week.week(),
            },
            Period::Month {
                year: local.year(),
                month: local.month(),
            },
        ]
    }
}

impl Period {
    /// The week or month just before this one (all time has none before it: itself).
    pub fn previous(self) -> Period {
        match self {
            Period::AllTime => Period::AllTime,
            Period::Week { iso_year, week } => {
                let monday =
                    chrono::NaiveDate::from_isoywd_opt(iso_year, week, chrono::Weekday::Mon);
                match monday.and_then(|d| d.checked_sub_signed(chrono::Duration::days(7))) {
                    Some(before) => Period::Week {
                        iso_year: before.iso_week().year(),
                        week: before.iso_week().week(),
                    },
                    None => self,
                }
            }
            Period::Month { year, month: 1 } => Period::Month {
                year: year - 1,
                month: 12,
            },
            Period::Month { year, month } => Period::Month {
                year,
                month: month - 1,
            },
        }
    }
}

impl fmt::Display for Period {
    /// Stable text keys for storage: `all`, `w2026-47`, `m2026-11`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::AllTime => f.write_str("all"),
            Period::Week { iso_year, week } => write!(f, "w{iso_year}-{week:02}"),
            Period::Month { year, month } => write!(f, "m{year}-{month:02}"),
        }
    }
}

/// Scores on every board: points earned (awards net of reversals, plus manual adjustments).
/// Spending does not lower a rank. A reversal counts against the period of the award it annuls.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaderboards {
    /// The program's time zone: where weeks and months start.
    pub time_zone: chrono_tz::Tz,
    /// Each board's score per member.
    pub scores: HashMap<BoardKey, HashMap<MemberId, i64>>,
}

impl Leaderboards {
    /// Empty boards for a program in `time_zone`.
    pub fn new(time_zone: chrono_tz::Tz) -> Self {
        Self {
            time_zone,
            scores: HashMap::new(),
        }
    }

    /// The board entries an event changes: (board, member, delta).
    pub fn changes(event: &Event, tz: chrono_tz::Tz) -> Vec<(BoardKey, MemberId, i64)> {
        let (member_id, delta, when, network) = match event {
            Event::PointsAwarded {
                member_id,
                points,
                occurred_at,
                activity,
                ..
            } => (*member_id, *points, *occurred_at, Some(activity.network)),
            Event::PointsReversed {
                member_id,
                points,
                award_occurred_at,
                network,
                ..
            } => (*member_id, -*points, *award_occurred_at, Some(*network)),
            Event::AwardRestored {
                member_id,
                points,
                award_occurred_at,
                network,
                ..
            } => (*member_id, *points, *award_occurred_at, Some(*network)),
            // An approved held award counts where its activity happened, as if paid then.
            Event::HeldAwardApproved {
                member_id,
                points,
                award_occurred_at,
                activity,
                ..
            } => (
                *member_id,
                *points,
                *award_occurred_at,
                Some(activity.network),
            ),
            Event::PointsAdjusted {
                member_id,
                delta,
                at,
                ..
            } => (*member_id, *delta, *at, None),
            Event::SeasonPrizeAwarded {
                member_id,
                points,
                at,
                ..
            } => (*member_id, *points, *at, None),
            // Moved points count where they land, at the time they move.
            Event::PointsMovedOut {
                member_id,
                points,
                at,
                ..
            } => (*member_id, -*points, *at, None),
            Event::PointsMovedIn {
                member_id,
                points,
                at,
                ..
            } => (*member_id, *points, *at, None),
            _ => return Vec::new(),
        };
        let mut periods = vec![Period::AllTime];
        periods.extend(Period::containing(when.get(), tz));
        let mut changes = Vec::with_capacity(6);
        for period in periods {
            changes.push((
                BoardKey {
                    period,
                    network: None,
                },
                member_id,
                delta,
            ));
            if network.is_some() {
                changes.push((BoardKey { period, network }, member_id, delta));
            }
        }
        changes
    }

    /// Folds one event into the scores (see [`Leaderboards::changes`]).
    pub fn apply(&mut self, event: &Event) {
        for (board, member, delta) in Self::changes(event, self.time_zone) {
            *self
                .scores
                .entry(board)
                .or_default()
                .entry(member)
                .or_default() += delta;
        }
    }

    /// The board in rank order: score descending, ties by member id ascending.
    pub fn ranking(&self, board: &BoardKey) -> Vec<(MemberId, i64)> {
        let mut rows: Vec<(MemberId, i64)> = self
            .scores
            .get(board)
            .map(|m| m.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        rows
    }
}

/// One member's redemption of a campaign's codeword.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodewordRedemption {
    /// The member who redeemed.
    pub member_id: MemberId,
    /// Where the codeword was written.
    pub network: Network,
    /// The platform's id of the comment or message that carried it.
    pub reference: String,
    /// Points it paid.
    pub points: i64,
    /// When it was decided.
    pub at: Timestamp,
}

/// Who redeemed each campaign's codeword, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodewordRedemptions(pub BTreeMap<CampaignId, Vec<CodewordRedemption>>);

impl CodewordRedemptions {
    /// Folds one event in; only `CodewordRedeemed` counts.
    pub fn apply(&mut self, event: &Event) {
        if let Event::CodewordRedeemed {
            campaign_id,
            member_id,
            network,
            reference,
            points,
            at,
            ..
        } = event
        {
            self.0
                .entry(*campaign_id)
                .or_default()
                .push(CodewordRedemption {
                    member_id: *member_id,
                    network: *network,
                    reference: reference.clone(),
                    points: *points,
                    at: *at,
                });
        }
    }
}
