//! What every read model should hold, recomputed from the log alone: the domain's own folds
//! (`Balances`, `Leaderboards`, `CodewordRedemptions`, and the stream aggregates of campaigns,
//! rewards and identities) where the domain has one, plain folds of the events elsewhere.
//! Each model is folded only up to its projection's checkpoint, so a live system compares.

use super::slice::Slice;
use crate::daily_stats::{ACTIVE_WINDOW_DAYS, DayCounters, event_counters, network_bit};
use crate::projection::{FastMap, Projection};
use crate::source::{Recorded, Zones, event_at};
use chrono::NaiveDate;
use domain::campaign::CampaignState;
use domain::folds::{Balances, BoardKey, CodewordRedemptions, Leaderboards};
use domain::identity::IdentityState;
use domain::ids::{AccountRef, CampaignId, MemberId, ProgramId, RedemptionId, RewardId, SeasonId};
use domain::network::Network;
use domain::reward::RewardState;
use domain::season::{SeasonBoards, SeasonState, SeasonStatus};
use domain::stream::StreamId;
use domain::{Aggregate, Event};
use store::Checkpoint;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpectedRedemption {
    pub reward_id: Uuid,
    pub member_id: Uuid,
    pub cost: i64,
    pub coupon_code: String,
    /// (refund, by, reason) once cancelled.
    pub cancelled: Option<(i64, String, String)>,
    /// Who accepted the coupon, once used.
    pub used_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpectedAdjustment {
    pub member_id: Uuid,
    pub delta: i64,
    pub reason: String,
    pub manager: String,
    pub compensates: Option<Uuid>,
}

/// A member's tier row, as `crate::balances::tier_row` makes it from their last move.
pub(crate) type ExpectedTier = crate::balances::TierRow;

/// A tier move the ladder it names does not justify: (program/member at position, what the
/// ladder and the member's lifetime points give, what the event says).
pub(crate) type UnjustifiedMove = (String, (Option<String>, i64), (Option<String>, i64));

/// A held award's row: (member, points, status, deciding manager).
pub(crate) type ExpectedHeld = (Uuid, i64, String, Option<String>);

/// A member's score on one board, in 12 bytes: a member holds one for every board they scored
/// on (all time, each week and month, each overall and per network), dozens a member, and the
/// audit holds every member's at once.
#[derive(Debug, Clone, Copy)]
#[repr(C, packed(4))]
pub(crate) struct BoardScore {
    pub board: u32,
    pub score: i64,
}

/// Boards by the index scores name them with (a few a program and period).
#[derive(Default)]
pub(crate) struct BoardIndex {
    keys: Vec<BoardKey>,
    ids: FastMap<BoardKey, u32>,
}

impl BoardIndex {
    fn id(&mut self, board: BoardKey) -> u32 {
        *self.ids.entry(board).or_insert_with(|| {
            self.keys.push(board);
            (self.keys.len() - 1) as u32
        })
    }

    /// The index of `board`, if any score names it.
    pub fn find(&self, board: &BoardKey) -> Option<u32> {
        self.ids.get(board).copied()
    }

    pub fn key(&self, id: u32) -> Option<&BoardKey> {
        self.keys.get(id as usize)
    }
}

#[derive(Default)]
pub(crate) struct Expected {
    checkpoints: [Checkpoint; Projection::ALL.len()],
    /// The members this pass keeps (balances, lots, tiers, leaderboards); a later pass keeps
    /// nothing else.
    pub slice: Slice,
    pub zones: Zones,
    pub balances: Balances,
    pub member_program: FastMap<MemberId, Uuid>,
    pub blocked: FastMap<MemberId, bool>,
    /// Scores by (program, member) and board, summed from `Leaderboards::changes`, the domain's
    /// definition of what each event does to each board (its `apply` sums the same changes).
    pub board_scores: FastMap<(Uuid, MemberId), Vec<BoardScore>>,
    /// The boards the scores name by index.
    pub boards: BoardIndex,
    pub codewords: CodewordRedemptions,
    pub codeword_program: FastMap<CampaignId, Uuid>,
    pub campaigns: FastMap<(Uuid, CampaignId), CampaignState>,
    pub rewards: FastMap<(Uuid, RewardId), RewardState>,
    pub redemptions: FastMap<(Uuid, RedemptionId), ExpectedRedemption>,
    pub identities: FastMap<(Uuid, AccountRef), IdentityState>,
    pub adjustments: FastMap<(Uuid, i64), ExpectedAdjustment>,
    /// (action, manager, subject) by (program, position).
    pub actions: FastMap<(Uuid, i64), (String, String, String)>,
    /// Held awards by (program, entry): (member, points, status, deciding manager).
    pub held: FastMap<(Uuid, Uuid), ExpectedHeld>,
    /// Tiers by (program, member), as their last move left them.
    pub tiers: FastMap<(Uuid, Uuid), ExpectedTier>,
    /// Every program's ladders by rules version, to check each tier move against its own.
    ladders: FastMap<(Uuid, u32), domain::tier::TierRules>,
    /// Tier moves the ladder they name does not justify.
    pub unjustified_moves: Vec<UnjustifiedMove>,
    /// Every program's expiry setting by rules version, to check each expiry against its own.
    expiry_rules: FastMap<(Uuid, u32), domain::expiry::ExpiryRules>,
    /// Each member's unspent credits, folded as the domain folds them.
    lots: FastMap<MemberId, domain::expiry::Lots>,
    /// Expiries their member's lots and rules do not justify: (program/member at position,
    /// points the event expired).
    pub unjustified_expiries: Vec<(String, i64)>,
    /// Every season's board, folded as the domain folds it.
    pub season_boards: SeasonBoards,
    /// Every season's stream state, by (program, season).
    pub seasons: FastMap<(Uuid, SeasonId), SeasonState>,
    /// Prizes paid per season: who, and how many times.
    prizes: FastMap<SeasonId, FastMap<MemberId, u32>>,
    /// Season events the log's own fold does not justify: (season or prize at position, what
    /// the fold gives, what the event says).
    pub unjustified_seasons: Vec<(String, String, String)>,
    pub daily: FastMap<(Uuid, NaiveDate, &'static str), DayCounters>,
    newest_day: FastMap<Uuid, NaiveDate>,
    /// Who was active on each day (network bits by member) by program and day, for the days
    /// inside the active window only: older days are never looked at again, so they are
    /// dropped as the newest day moves on (a million events would otherwise keep every day's).
    active: FastMap<(Uuid, NaiveDate), FastMap<Uuid, i16>>,
}

impl Expected {
    pub fn new(
        checkpoints: [Checkpoint; Projection::ALL.len()],
        zones: Zones,
        slice: Slice,
    ) -> Self {
        Self {
            checkpoints,
            slice,
            zones,
            ..Default::default()
        }
    }

    /// Where each projection stood when the audit began: the fold stops there for each.
    pub fn checkpoints(&self) -> [Checkpoint; Projection::ALL.len()] {
        self.checkpoints
    }

    fn applies(&self, projection: Projection, r: &Recorded) -> bool {
        r.checkpoint() <= self.checkpoints[projection.index()]
    }

    pub fn apply(&mut self, r: &Recorded) {
        let e = &r.event;
        if let Event::RulesChanged { version, rules, .. } = e
            && !rules.tiers.is_unset()
        {
            self.ladders
                .insert((r.program_id, *version), rules.tiers.clone());
        }
        if let Event::RulesChanged { version, rules, .. } = e
            && !rules.expiry.is_off()
        {
            self.expiry_rules
                .insert((r.program_id, *version), rules.expiry);
        }
        // Every event a member's state folds is in the member's stream.
        let members_here = match e.stream() {
            StreamId::Member(member) => self.slice.holds_member(member.0),
            _ => true,
        };
        if members_here && self.applies(Projection::Balances, r) {
            self.apply_tier(r);
            self.apply_lots(r);
            self.balances.apply(e);
            match e {
                Event::MemberRegistered { member_id, .. } => {
                    self.member_program.insert(*member_id, r.program_id);
                }
                Event::MemberBlocked { member_id, .. } => {
                    self.blocked.insert(*member_id, true);
                }
                Event::MemberUnblocked { member_id, .. } => {
                    self.blocked.insert(*member_id, false);
                }
                other => {
                    if let Some((member_id, _)) = other.balance_delta() {
                        self.member_program.entry(member_id).or_insert(r.program_id);
                    }
                }
            }
        }
        if members_here && self.applies(Projection::Leaderboards, r) {
            let changes = Leaderboards::changes(e, self.zones.get(r.program_id));
            if let Some((_, member, _)) = changes.first() {
                let scores = self
                    .board_scores
                    .entry((r.program_id, *member))
                    .or_default();
                for (board, _, delta) in changes {
                    let board = self.boards.id(board);
                    match scores.iter_mut().find(|s| s.board == board) {
                        Some(s) => s.score += delta,
                        None => scores.push(BoardScore {
                            board,
                            score: delta,
                        }),
                    }
                }
            }
        }
        if !self.slice.is_first() {
            return;
        }
        if self.applies(Projection::Campaigns, r) {
            self.codewords.apply(e);
            if let Some(campaign_id) = campaign_of(e) {
                self.codeword_program
                    .entry(campaign_id)
                    .or_insert(r.program_id);
                let state = self
                    .campaigns
                    .entry((r.program_id, campaign_id))
                    .or_default();
                *state = std::mem::take(state).apply(e);
            }
        }
        if self.applies(Projection::Rewards, r) {
            self.apply_rewards(r);
        }
        if self.applies(Projection::Identities, r)
            && let Event::IdentityClaimed { account, .. } | Event::IdentityReleased { account, .. } =
                e
        {
            let state = self
                .identities
                .entry((r.program_id, account.account))
                .or_default();
            *state = std::mem::take(state).apply(e);
        }
        if self.applies(Projection::AdminLog, r) {
            self.apply_admin(r);
            self.apply_held(r);
        }
        if self.applies(Projection::DailyStats, r) {
            self.apply_daily(r);
        }
        if self.applies(Projection::Seasons, r) {
            self.apply_season(r);
        }
    }

    /// Folds the event into the season boards, checking first that frozen standings are the
    /// board's own, that each prize is its member's frozen prize paid once, and that a season's
    /// settlement counts the prizes its log paid and withholds only prizes it did not pay.
    fn apply_season(&mut self, r: &Recorded) {
        let at =
            |what: &dyn std::fmt::Display| format!("{}/{what} at {}", r.program_id, r.position);
        match &r.event {
            Event::SeasonEnded {
                season_id,
                standings,
                participants,
                ..
            } => {
                if let Some(board) = self.season_boards.boards.get(season_id) {
                    let expected = (board.standings(), board.participants());
                    if expected != (standings.clone(), *participants) {
                        self.unjustified_seasons.push((
                            at(season_id),
                            standings_text(&expected.0, expected.1),
                            standings_text(standings, *participants),
                        ));
                    }
                }
            }
            Event::SeasonPrizeAwarded {
                member_id,
                season_id,
                rank,
                points,
                ..
            } => {
                let frozen = self
                    .seasons
                    .get(&(r.program_id, *season_id))
                    .filter(|s| s.status == SeasonStatus::Ended)
                    .and_then(|s| s.standing_of(*member_id))
                    .map(|s| (s.rank, s.prize));
                let times = self
                    .prizes
                    .entry(*season_id)
                    .or_default()
                    .entry(*member_id)
                    .or_default();
                *times += 1;
                if frozen != Some((*rank, *points)) || *times > 1 {
                    let shown = |p: Option<(u32, i64)>| {
                        p.map_or("no prize".to_string(), |(rank, points)| {
                            format!("rank {rank}, {points} points")
                        })
                    };
                    self.unjustified_seasons.push((
                        at(&format!("{season_id}/{member_id}")),
                        format!("{}, paid once", shown(frozen)),
                        format!("{}, payment {times}", shown(Some((*rank, *points)))),
                    ));
                }
            }
            Event::SeasonSettled {
                season_id,
                paid,
                withheld,
                ..
            } => {
                let prizes = self.prizes.get(season_id);
                let paid_members = prizes.map_or(0, |p| p.len());
                let winners: Vec<MemberId> = self
                    .seasons
                    .get(&(r.program_id, *season_id))
                    .map(|s| {
                        s.standings
                            .iter()
                            .filter(|s| s.prize > 0)
                            .map(|s| s.member_id)
                            .collect()
                    })
                    .unwrap_or_default();
                let withheld_paid = withheld
                    .iter()
                    .any(|m| prizes.is_some_and(|p| p.contains_key(m)));
                let closes_all = winners.len() == paid_members + withheld.len();
                if *paid as usize != paid_members || withheld_paid || !closes_all {
                    self.unjustified_seasons.push((
                        at(season_id),
                        format!("{paid_members} paid of {} prizes", winners.len()),
                        format!("{paid} paid, {} withheld", withheld.len()),
                    ));
                }
            }
            _ => {}
        }
        let program = ProgramId(r.program_id);
        self.season_boards.apply(program, &r.event);
        // The audit stores no entries, so what an event touched is of no use to it.
        if let Some(seasons) = self.season_boards.by_program.get(&program) {
            for season in seasons {
                if let Some(board) = self.season_boards.boards.get_mut(season) {
                    board.touched.clear();
                }
            }
        }
        if let Some(season_id) = season_of(&r.event) {
            let state = self.seasons.entry((r.program_id, season_id)).or_default();
            *state = std::mem::take(state).apply(&r.event);
        }
    }

    fn apply_rewards(&mut self, r: &Recorded) {
        let e = &r.event;
        if let Some(reward_id) = reward_of(e) {
            let state = self.rewards.entry((r.program_id, reward_id)).or_default();
            *state = std::mem::take(state).apply(e);
        }
        match e {
            Event::RewardRedeemed {
                member_id,
                redemption_id,
                reward_id,
                cost,
                coupon_code,
                ..
            } => {
                let row = ExpectedRedemption {
                    reward_id: reward_id.0,
                    member_id: member_id.0,
                    cost: *cost,
                    coupon_code: coupon_code.clone(),
                    cancelled: None,
                    used_by: None,
                };
                self.redemptions.insert((r.program_id, *redemption_id), row);
            }
            Event::RedemptionCancelled {
                redemption_id,
                refund,
                by,
                reason,
                ..
            } => {
                if let Some(row) = self.redemptions.get_mut(&(r.program_id, *redemption_id)) {
                    row.cancelled = Some((*refund, by.clone(), reason.clone()));
                }
            }
            Event::CouponUsed {
                redemption_id, by, ..
            } => {
                if let Some(row) = self.redemptions.get_mut(&(r.program_id, *redemption_id)) {
                    row.used_by = Some(by.clone());
                }
            }
            _ => {}
        }
    }

    /// Folds a tier move into the expected rows and checks it against its ladder: the tier it
    /// names must be the one its qualifying points reach, and with a lifetime ladder those
    /// points must be the member's lifetime points at that place in the log.
    fn apply_tier(&mut self, r: &Recorded) {
        let Some((member, row)) = crate::balances::tier_row(&r.event) else {
            return;
        };
        let Event::TierChanged {
            to,
            qualifying_points,
            rule_version,
            ..
        } = &r.event
        else {
            return;
        };
        let ladder = self.ladders.get(&(r.program_id, *rule_version));
        let lifetime = self
            .balances
            .0
            .get(&MemberId(member))
            .map_or(0, |b| b.earned);
        let points = match ladder {
            Some(l) if l.window_days == 0 => lifetime,
            _ => *qualifying_points,
        };
        let reached = ladder
            .and_then(|l| l.level_for(points))
            .map(|(_, level)| level.name.clone());
        if (&reached, points) != (to, *qualifying_points) {
            let key = format!("{}/{member} at {}", r.program_id, r.position);
            self.unjustified_moves
                .push((key, (reached, points), (to.clone(), *qualifying_points)));
        }
        match row {
            Some(row) => self.tiers.insert((r.program_id, member), row),
            None => self.tiers.remove(&(r.program_id, member)),
        };
    }

    /// Folds the event into its member's lots, checking an expiry first: its lot was open,
    /// held exactly the points expired, and was due under the rules version it names.
    fn apply_lots(&mut self, r: &Recorded) {
        let Some((member, _)) = r.event.balance_delta() else {
            return;
        };
        let lots = self.lots.entry(member).or_default();
        if let Event::PointsExpired {
            lot_entry_id,
            points,
            rule_version,
            at,
            ..
        } = &r.event
        {
            let rules = self
                .expiry_rules
                .get(&(r.program_id, *rule_version))
                .copied()
                .unwrap_or_default();
            if !domain::expiry::justified(lots, &rules, *lot_entry_id, *points, *at) {
                let key = format!("{}/{} at {}", r.program_id, member.0, r.position);
                self.unjustified_expiries.push((key, *points));
            }
        }
        lots.apply(&r.event);
    }

    fn apply_held(&mut self, r: &Recorded) {
        match &r.event {
            Event::AwardHeld {
                member_id,
                entry_id,
                points,
                ..
            } => {
                let row = (member_id.0, *points, "pending".to_string(), None);
                self.held.insert((r.program_id, entry_id.0), row);
            }
            Event::HeldAwardApproved { award_entry_id, .. }
            | Event::HeldAwardRejected { award_entry_id, .. } => {
                let decision = crate::admin_log::decision_of(&r.event);
                if let (Some(row), Some((status, by, _))) = (
                    self.held.get_mut(&(r.program_id, award_entry_id.0)),
                    decision,
                ) {
                    row.2 = status.to_string();
                    row.3 = by.map(str::to_string);
                }
            }
            _ => {}
        }
    }

    fn apply_admin(&mut self, r: &Recorded) {
        let Some(manager) = crate::admin_log::manager_of(&r.event) else {
            return;
        };
        if let Event::PointsAdjusted {
            member_id,
            delta,
            reason,
            by,
            compensates,
            ..
        } = &r.event
        {
            let row = ExpectedAdjustment {
                member_id: member_id.0,
                delta: *delta,
                reason: reason.clone(),
                manager: by.clone(),
                compensates: compensates.map(|c| c.0),
            };
            self.adjustments.insert((r.program_id, r.position), row);
        }
        let action = (
            r.event.event_type().to_string(),
            manager.to_string(),
            r.event.stream().to_string(),
        );
        self.actions.insert((r.program_id, r.position), action);
    }

    /// Daily stats, event by event: an award counts as activity when its day is within
    /// `ACTIVE_WINDOW_DAYS` of the newest day the program has reached, once per member, day
    /// and network.
    fn apply_daily(&mut self, r: &Recorded) {
        let p = r.program_id;
        let day = event_at(&r.event)
            .with_timezone(&self.zones.get(p))
            .date_naive();
        let newest = self.newest_day.entry(p).or_insert(day);
        if day > *newest {
            *newest = day;
            self.active.retain(|(program, d), _| {
                *program != p || (day - *d).num_days() <= ACTIVE_WINDOW_DAYS
            });
        }
        let newest = *newest;
        for (network, c) in event_counters(&r.event) {
            if c == DayCounters::default() {
                continue;
            }
            let row = self
                .daily
                .entry((p, day, network.map_or("all", Network::as_str)))
                .or_default();
            row.events += c.events;
            row.points_awarded += c.points_awarded;
            row.points_reversed += c.points_reversed;
            row.new_members += c.new_members;
        }
        if let Event::PointsAwarded {
            member_id,
            activity,
            ..
        } = &r.event
            && (newest - day).num_days() <= ACTIVE_WINDOW_DAYS
        {
            let bit = network_bit(activity.network);
            let bits = self
                .active
                .entry((p, day))
                .or_default()
                .entry(member_id.0)
                .or_default();
            if *bits & bit == 0 {
                let first_today = *bits == 0;
                *bits |= bit;
                self.daily
                    .entry((p, day, activity.network.as_str()))
                    .or_default()
                    .active_members += 1;
                if first_today {
                    self.daily
                        .entry((p, day, "all"))
                        .or_default()
                        .active_members += 1;
                }
            }
        }
    }
}

fn campaign_of(e: &Event) -> Option<CampaignId> {
    match e {
        Event::CampaignCreated { campaign_id, .. }
        | Event::CampaignPaused { campaign_id, .. }
        | Event::CampaignResumed { campaign_id, .. }
        | Event::CampaignEnded { campaign_id, .. }
        | Event::CodewordRedeemed { campaign_id, .. } => Some(*campaign_id),
        _ => None,
    }
}

fn season_of(e: &Event) -> Option<SeasonId> {
    match e {
        Event::SeasonScheduled { season_id, .. }
        | Event::SeasonCancelled { season_id, .. }
        | Event::SeasonEnded { season_id, .. }
        | Event::SeasonSettled { season_id, .. } => Some(*season_id),
        _ => None,
    }
}

/// Standings as an auditor reads them: "1. member 120 (+50), …; 7 members".
fn standings_text(standings: &[domain::season::Standing], participants: u32) -> String {
    let rows: Vec<String> = standings
        .iter()
        .map(|s| format!("{}. {} {} (+{})", s.rank, s.member_id, s.score, s.prize))
        .collect();
    format!("{}; {participants} members", rows.join(", "))
}

fn reward_of(e: &Event) -> Option<RewardId> {
    match e {
        Event::RewardListed { reward_id, .. }
        | Event::RewardStockChanged { reward_id, .. }
        | Event::RewardDelisted { reward_id, .. }
        | Event::RewardIssued { reward_id, .. }
        | Event::RewardReturned { reward_id, .. }
        | Event::RewardCodesAdded { reward_id, .. }
        | Event::RewardStockLow { reward_id, .. } => Some(*reward_id),
        _ => None,
    }
}
