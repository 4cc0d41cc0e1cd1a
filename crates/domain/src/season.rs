//! Leaderboard seasons: a board that runs from a start to an end, counts only the activities a
//! manager chose (manual adjustments only if asked: by default a goodwill credit moves nobody
//! up), freezes its final standings in the log when it ends, and pays its prizes as credits.
//!
//! A season's scores are a fold of the log ([`SeasonBoard`]): an award counts when its activity
//! happened inside the season and it was decided before the season's cutoff (the end plus a
//! settling time for late deliveries); a reversal, restoration or compensation counts against
//! exactly the seasons that counted the entry it undoes, whenever its activity happened. So the
//! frozen standings in [`Event::SeasonEnded`] are what anyone folding the log gets.

use crate::error::DomainError;
use crate::event::{Event, ManagerId};
use crate::ids::{EntryId, MemberId, ProgramId, SeasonId};
use crate::member::{MemberState, required_reason};
use crate::network::ActivityKind;
use crate::time::Timestamp;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Longest season name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest season, in days.
pub const MAX_SEASON_DAYS: i64 = 366;
/// Longest settling time after the end, in minutes (a day).
pub const MAX_SETTLE_MINUTES: u32 = 1440;
/// Prizes go to ranks up to this one.
pub const MAX_PRIZE_RANK: u32 = 100;
/// The most points one prize pays.
pub const MAX_PRIZE_POINTS: i64 = 1_000_000;
/// Ranks the frozen standings keep (at least; more when prizes reach further or ties straddle).
pub const FROZEN_RANKS: u32 = 100;

/// What a season's board counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonCounts {
    /// The activities whose awards count (a codeword is `Codeword`).
    pub activities: Vec<ActivityKind>,
    /// Whether managers' manual adjustments count; off by default.
    #[serde(default)]
    pub adjustments: bool,
}

impl Default for SeasonCounts {
    /// Every activity, no manual adjustments.
    fn default() -> Self {
        Self {
            activities: ActivityKind::ALL.to_vec(),
            adjustments: false,
        }
    }
}

/// Points for every rank from `from_rank` to `to_rank`; members who tie share a rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonPrize {
    /// The first rank it pays.
    pub from_rank: u32,
    /// The last rank it pays (at least `from_rank`).
    pub to_rank: u32,
    /// Points each of those members gets.
    pub points: i64,
}

/// A season as a manager sets it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonTerms {
    /// What members see it called.
    pub name: String,
    /// Activity from this instant counts.
    pub starts_at: Timestamp,
    /// Activity from this instant no longer counts.
    pub ends_at: Timestamp,
    /// How long after the end a late delivery of activity inside the season still counts.
    pub settle_minutes: u32,
    /// What counts.
    pub counts: SeasonCounts,
    /// What the final ranks win.
    pub prizes: Vec<SeasonPrize>,
}

impl SeasonTerms {
    /// Events decided from this instant on no longer change the season's scores.
    pub fn cutoff(&self) -> Timestamp {
        self.ends_at
            .checked_add(Duration::minutes(i64::from(self.settle_minutes)))
            .unwrap_or(self.ends_at)
    }

    /// True if `at` falls inside the season.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.starts_at <= at && at < self.ends_at
    }

    /// What a member at `rank` wins.
    pub fn prize_for(&self, rank: u32) -> i64 {
        self.prizes
            .iter()
            .find(|p| p.from_rank <= rank && rank <= p.to_rank)
            .map_or(0, |p| p.points)
    }

    /// The last rank the frozen standings keep.
    pub fn frozen_ranks(&self) -> u32 {
        self.prizes
            .iter()
            .map(|p| p.to_rank)
            .fold(FROZEN_RANKS, u32::max)
    }

    /// Refuses terms a manager may not set, decided at `at`: a blank or long name, an end not
    /// after the start or already past, a season longer than [`MAX_SEASON_DAYS`], a settling
    /// time past [`MAX_SETTLE_MINUTES`], nothing to count, prizes outside ranks
    /// 1–[`MAX_PRIZE_RANK`], overlapping or worth 1–[`MAX_PRIZE_POINTS`] points.
    pub fn validate(&self, at: Timestamp) -> Result<(), DomainError> {
        let invalid = |why: String| Err(DomainError::InvalidSeason(why));
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return invalid(format!("name it in 1 to {MAX_NAME_CHARS} characters"));
        }
        if self.ends_at <= self.starts_at {
            return invalid("the end must be after the start".into());
        }
        if self.ends_at <= at {
            return invalid("the end is already past".into());
        }
        if self.ends_at.get() - self.starts_at.get() > Duration::days(MAX_SEASON_DAYS) {
            return invalid(format!("a season lasts at most {MAX_SEASON_DAYS} days"));
        }
        if self.settle_minutes > MAX_SETTLE_MINUTES {
            return invalid(format!(
                "late activity may settle for at most {MAX_SETTLE_MINUTES} minutes"
            ));
        }
        if self.counts.activities.is_empty() && !self.counts.adjustments {
            return invalid("choose at least one activity, or manual adjustments".into());
        }
        let kinds: HashSet<ActivityKind> = self.counts.activities.iter().copied().collect();
        if kinds.len() != self.counts.activities.len() {
            return invalid("an activity is listed twice".into());
        }
        let mut ranks: Vec<(u32, u32)> = Vec::new();
        for p in &self.prizes {
            if p.from_rank < 1 || p.to_rank < p.from_rank || p.to_rank > MAX_PRIZE_RANK {
                return invalid(format!(
                    "prize ranks run from 1 to {MAX_PRIZE_RANK}, first not after last"
                ));
            }
            if p.points < 1 || p.points > MAX_PRIZE_POINTS {
                return invalid(format!("a prize is 1 to {MAX_PRIZE_POINTS} points"));
            }
            if ranks
                .iter()
                .any(|(from, to)| p.from_rank <= *to && *from <= p.to_rank)
            {
                return invalid(format!(
                    "ranks {}–{} have two prizes",
                    p.from_rank, p.to_rank
                ));
            }
            ranks.push((p.from_rank, p.to_rank));
        }
        Ok(())
    }
}

/// One place of the final standings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// 1 is first; members with the same score share a rank (1, 2, 2, 4).
    pub rank: u32,
    /// The member.
    pub member_id: MemberId,
    /// Points the season counted for them.
    pub score: i64,
    /// Points their rank wins (0 for none).
    pub prize: i64,
}

/// Where a season is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeasonStatus {
    /// Not scheduled yet (the state of an empty stream).
    #[default]
    Unscheduled,
    /// Scheduled, running or settling: its board still moves until the cutoff.
    Scheduled,
    /// Cancelled before it ended: no standings, no prizes.
    Cancelled,
    /// Final standings frozen; prizes being paid.
    Ended,
    /// Every prize paid or withheld.
    Settled,
}

impl SeasonStatus {
    /// The snake_case name the read model and the audit use.
    pub fn as_str(self) -> &'static str {
        match self {
            SeasonStatus::Unscheduled => "unscheduled",
            SeasonStatus::Scheduled => "scheduled",
            SeasonStatus::Cancelled => "cancelled",
            SeasonStatus::Ended => "ended",
            SeasonStatus::Settled => "settled",
        }
    }
}

/// Everything a decision about one season needs, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeasonState {
    /// `None` until scheduled.
    pub season_id: Option<SeasonId>,
    /// The program it runs in.
    pub program_id: Option<ProgramId>,
    /// Its terms.
    pub terms: Option<SeasonTerms>,
    /// Where it is in its life.
    pub status: SeasonStatus,
    /// The frozen final standings, once ended.
    pub standings: Vec<Standing>,
    /// Members with a positive score at the end.
    pub participants: u32,
}

impl SeasonState {
    /// The state after `event`; events of other streams leave it as it is.
    pub fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::SeasonScheduled {
                season_id,
                program_id,
                terms,
                ..
            } => {
                self.season_id = Some(*season_id);
                self.program_id = Some(*program_id);
                self.terms = Some(terms.clone());
                self.status = SeasonStatus::Scheduled;
            }
            Event::SeasonCancelled { .. } => self.status = SeasonStatus::Cancelled,
            Event::SeasonEnded {
                standings,
                participants,
                ..
            } => {
                self.status = SeasonStatus::Ended;
                self.standings = standings.clone();
                self.participants = *participants;
            }
            Event::SeasonSettled { .. } => self.status = SeasonStatus::Settled,
            _ => {}
        }
        self
    }

    /// The member's place in the frozen standings, if they have one.
    pub fn standing_of(&self, member_id: MemberId) -> Option<&Standing> {
        self.standings.iter().find(|s| s.member_id == member_id)
    }
}

/// What a manager or the season job can ask of a season stream.
pub enum SeasonCommand {
    /// Schedule a new season; one whose start is already past starts when scheduled.
    Schedule {
        /// The program it runs in.
        program_id: ProgramId,
        /// The new season's id.
        season_id: SeasonId,
        /// Its terms.
        terms: SeasonTerms,
        /// The manager scheduling it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Call it off before it ends.
    Cancel {
        /// Why, for the audit trail and the members who took part.
        reason: String,
        /// The manager cancelling it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Freeze the final standings from the board folded over the log (the season job).
    End {
        /// The season's board, folded from the log through the cutoff.
        board: Box<SeasonBoard>,
        /// When it is decided: after the cutoff.
        at: Timestamp,
    },
    /// Close the prizes: each paid or withheld (the season job).
    Settle {
        /// Prizes paid.
        paid: u32,
        /// Members whose prize was withheld (blocked or erased at the end).
        withheld: Vec<MemberId>,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
}

/// Decides a command against a season's state.
pub fn decide_season(
    state: &SeasonState,
    command: SeasonCommand,
) -> Result<Vec<Event>, DomainError> {
    let season_id = state.season_id;
    match command {
        SeasonCommand::Schedule {
            program_id,
            season_id,
            terms,
            by,
            at,
        } => {
            if state.status != SeasonStatus::Unscheduled {
                return Err(DomainError::AlreadyExists);
            }
            terms.validate(at)?;
            // A season counts nothing from before it was scheduled: the log it folds starts here.
            let terms = SeasonTerms {
                name: terms.name.trim().to_string(),
                starts_at: terms.starts_at.max(at),
                ..terms
            };
            Ok(vec![Event::SeasonScheduled {
                season_id,
                program_id,
                terms,
                by,
                at,
            }])
        }
        SeasonCommand::Cancel { reason, by, at } => {
            let season_id = season_id.ok_or(DomainError::NotFound)?;
            if state.status != SeasonStatus::Scheduled {
                return Err(DomainError::SeasonClosed);
            }
            let reason = required_reason(reason)?;
            Ok(vec![Event::SeasonCancelled {
                season_id,
                reason,
                by,
                at,
            }])
        }
        SeasonCommand::End { board, at } => {
            let (season_id, terms) = season_id
                .zip(state.terms.as_ref())
                .ok_or(DomainError::NotFound)?;
            if state.status != SeasonStatus::Scheduled {
                return Err(DomainError::SeasonClosed);
            }
            if at < terms.cutoff() {
                return Err(DomainError::SeasonNotEnded);
            }
            if board.season_id != season_id {
                return Err(DomainError::InvalidSeason(
                    "the board is another season's".into(),
                ));
            }
            Ok(vec![Event::SeasonEnded {
                season_id,
                standings: board.standings(),
                participants: board.participants(),
                at,
            }])
        }
        SeasonCommand::Settle { paid, withheld, at } => {
            let season_id = season_id.ok_or(DomainError::NotFound)?;
            if state.status != SeasonStatus::Ended {
                return Err(DomainError::SeasonNotEnded);
            }
            Ok(vec![Event::SeasonSettled {
                season_id,
                paid,
                withheld,
                at,
            }])
        }
    }
}

/// Pays a member the prize their frozen rank won. The entry derives from (season, member)
/// outside the domain, so paying twice is one payment. A blocked or erased member's prize is
/// withheld (refused), as is a member without a prize.
pub fn decide_prize(
    season: &SeasonState,
    member: &MemberState,
    member_id: MemberId,
    entry_id: EntryId,
    at: Timestamp,
) -> Result<Vec<Event>, DomainError> {
    let season_id = season.season_id.ok_or(DomainError::NotFound)?;
    if season.status != SeasonStatus::Ended {
        return Err(DomainError::SeasonNotEnded);
    }
    let standing = season
        .standing_of(member_id)
        .filter(|s| s.prize > 0)
        .ok_or(DomainError::NotFound)?;
    if member.member_id != Some(member_id) {
        return Err(DomainError::MemberNotRegistered);
    }
    if member.erased {
        return Err(DomainError::MemberErased);
    }
    if member.blocked {
        return Err(DomainError::MemberBlocked(member_id));
    }
    Ok(vec![Event::SeasonPrizeAwarded {
        member_id,
        entry_id,
        season_id,
        rank: standing.rank,
        points: standing.prize,
        at,
    }])
}

/// An entry a season counted, so whatever undoes it later counts against the season too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    /// The member it counted for.
    pub member_id: MemberId,
    /// The points it counted.
    pub points: i64,
    /// Reversed or compensated (and not restored since).
    pub undone: bool,
}

/// One season's scores, folded from its program's events in log order.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonBoard {
    /// The season.
    pub season_id: SeasonId,
    /// Its terms.
    pub terms: SeasonTerms,
    /// Cancelled or ended: nothing counts any more (a late event cannot move frozen standings).
    pub closed: bool,
    /// The entries it counted, while it is open (closing it empties this). A reader that
    /// starts mid-log seeds this with the entries its events undo.
    pub counted: HashMap<EntryId, Counted>,
    /// Score per member (a change in score for a reader that starts mid-log).
    pub scores: HashMap<MemberId, i64>,
    /// Entries counted or undone by the events folded here, for a reader that stores them.
    pub touched: HashSet<EntryId>,
}

impl SeasonBoard {
    /// An empty board for a season.
    pub fn new(season_id: SeasonId, terms: SeasonTerms) -> Self {
        Self {
            season_id,
            terms,
            closed: false,
            counted: HashMap::new(),
            scores: HashMap::new(),
            touched: HashSet::new(),
        }
    }

    /// Folds one event of the season's program in. Events decided from the cutoff on, and
    /// every event once the season is cancelled or ended, change nothing.
    pub fn apply(&mut self, event: &Event) {
        if let Event::SeasonCancelled { season_id, .. } | Event::SeasonEnded { season_id, .. } =
            event
            && *season_id == self.season_id
        {
            self.closed = true;
            // Nothing counts against a closed board, so what it counted is not needed again:
            // a reader of a long log holds the entries of open seasons only.
            self.counted = HashMap::new();
            self.touched = HashSet::new();
        }
        if self.closed || event.at() >= self.terms.cutoff() {
            return;
        }
        let counts = &self.terms.counts;
        match event {
            Event::PointsAwarded {
                member_id,
                entry_id,
                activity,
                points,
                occurred_at,
                ..
            }
            | Event::HeldAwardApproved {
                member_id,
                award_entry_id: entry_id,
                activity,
                points,
                award_occurred_at: occurred_at,
                ..
            } if self.terms.contains(*occurred_at)
                && counts.activities.contains(&activity.kind) =>
            {
                self.count(*entry_id, *member_id, *points);
            }
            Event::PointsAdjusted {
                member_id,
                entry_id,
                delta,
                compensates: None,
                at,
                ..
            } if counts.adjustments && self.terms.contains(*at) => {
                self.count(*entry_id, *member_id, *delta);
            }
            Event::PointsAdjusted {
                compensates: Some(target),
                delta,
                ..
            } => self.undo(*target, Some(*delta)),
            Event::PointsReversed { award_entry_id, .. } => self.undo(*award_entry_id, None),
            Event::AwardRestored { award_entry_id, .. } => self.redo(*award_entry_id),
            // Moved points count where they land when they move, as on every period board.
            Event::PointsMovedOut {
                member_id,
                points,
                at,
                ..
            } if self.terms.contains(*at) => self.add(*member_id, -*points),
            Event::PointsMovedIn {
                member_id,
                points,
                at,
                ..
            } if self.terms.contains(*at) => self.add(*member_id, *points),
            _ => {}
        }
    }

    fn add(&mut self, member_id: MemberId, delta: i64) {
        *self.scores.entry(member_id).or_default() += delta;
    }

    fn count(&mut self, entry_id: EntryId, member_id: MemberId, points: i64) {
        let counted = Counted {
            member_id,
            points,
            undone: false,
        };
        self.counted.insert(entry_id, counted);
        self.touched.insert(entry_id);
        self.add(member_id, points);
    }

    /// A reversal takes the counted points back; a compensation its own delta (which nets the
    /// entry to zero).
    fn undo(&mut self, entry_id: EntryId, delta: Option<i64>) {
        let Some(c) = self.counted.get_mut(&entry_id).filter(|c| !c.undone) else {
            return;
        };
        c.undone = true;
        let (member_id, delta) = (c.member_id, delta.unwrap_or(-c.points));
        self.touched.insert(entry_id);
        self.add(member_id, delta);
    }

    fn redo(&mut self, entry_id: EntryId) {
        let Some(c) = self.counted.get_mut(&entry_id).filter(|c| c.undone) else {
            return;
        };
        c.undone = false;
        let (member_id, points) = (c.member_id, c.points);
        self.touched.insert(entry_id);
        self.add(member_id, points);
    }

    /// Members with a positive score.
    pub fn participants(&self) -> u32 {
        let n = self.scores.values().filter(|s| **s > 0).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The standings down to [`SeasonTerms::frozen_ranks`]: positive scores, highest first,
    /// ties sharing a rank and listed by member id, each with its prize.
    pub fn standings(&self) -> Vec<Standing> {
        let mut rows: Vec<(MemberId, i64)> = self
            .scores
            .iter()
            .filter(|(_, s)| **s > 0)
            .map(|(m, s)| (*m, *s))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let last = self.terms.frozen_ranks();
        let mut standings = Vec::new();
        let mut rank = 0u32;
        let mut previous = None;
        for (i, (member_id, score)) in rows.into_iter().enumerate() {
            if previous != Some(score) {
                rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
                previous = Some(score);
            }
            if rank > last {
                break;
            }
            standings.push(Standing {
                rank,
                member_id,
                score,
                prize: self.terms.prize_for(rank),
            });
        }
        standings
    }
}

/// Every season's board, for a reader of the whole log (the audit): events arrive with the
/// program whose log they are in, since member events do not name it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeasonBoards {
    /// Each season's board.
    pub boards: BTreeMap<SeasonId, SeasonBoard>,
    /// The seasons of each program.
    pub by_program: HashMap<ProgramId, Vec<SeasonId>>,
}

impl SeasonBoards {
    /// Adds a board a reader resumes from storage, for `program`.
    pub fn resume(&mut self, program: ProgramId, board: SeasonBoard) {
        self.by_program
            .entry(program)
            .or_default()
            .push(board.season_id);
        self.boards.insert(board.season_id, board);
    }

    /// True if `program` runs any season these boards know.
    pub fn runs_in(&self, program: ProgramId) -> bool {
        self.by_program.contains_key(&program)
    }

    /// Folds one event of `program`'s log into its seasons' boards.
    pub fn apply(&mut self, program: ProgramId, event: &Event) {
        if let Event::SeasonScheduled {
            season_id, terms, ..
        } = event
        {
            self.resume(program, SeasonBoard::new(*season_id, terms.clone()));
        }
        let Some(seasons) = self.by_program.get(&program) else {
            return;
        };
        for season in seasons {
            if let Some(board) = self.boards.get_mut(season) {
                board.apply(event);
            }
        }
    }
}
