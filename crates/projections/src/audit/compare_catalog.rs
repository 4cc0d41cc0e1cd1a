//! Compares campaigns and codeword redemptions, rewards and their redemptions, the identity
//! index, the admin log and daily stats with the fold, row by row as each model is read: a row
//! takes its expected entry out of the fold's maps, and what is left afterwards is missing from
//! the model (the `*_left` functions).

use super::expected::Expected;
use super::findings::Findings;
use super::models::{
    ActionRow, AdjustmentRow, CampaignRow, CodewordRow, DailyRow, HeldRow, IdentityRow,
    RedemptionRow, RewardRow,
};
use crate::daily_stats::DayCounters;
use chrono::{DateTime, Utc};
use domain::campaign::CampaignStatus;
use domain::ids::{AccountRef, CampaignId, RedemptionId, RewardId};
use domain::network::Network;
use uuid::Uuid;

fn status_name(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Draft => "draft",
        CampaignStatus::Active => "active",
        CampaignStatus::Paused => "paused",
        CampaignStatus::Ended => "ended",
    }
}

type CodewordEntry = (Uuid, String, String, i64, DateTime<Utc>);

pub(crate) fn campaign(exp: &mut Expected, out: &mut Findings, row: CampaignRow) {
    let (program, campaign, points, cap, status, redemptions) = row;
    let key = format!("{program}/{campaign}");
    match exp.campaigns.remove(&(program, CampaignId(campaign))) {
        Some(s) => {
            let cap_expected = s.total_cap.map(|c| i32::try_from(c).unwrap_or(i32::MAX));
            let expected = (
                s.points,
                cap_expected,
                status_name(s.status),
                s.redemptions() as i32,
            );
            out.compare(
                "campaigns",
                key,
                expected,
                (points, cap, status.as_str(), redemptions),
            );
        }
        None => out.unexpected("campaigns", key, (points, status, redemptions)),
    }
}

pub(crate) fn campaigns_left(exp: &mut Expected, out: &mut Findings) {
    for ((program, campaign), s) in exp.campaigns.drain() {
        if s.campaign_id.is_some() {
            out.missing(
                "campaigns",
                format!("{program}/{campaign}"),
                status_name(s.status),
            );
        }
    }
}

/// The stored codeword redemptions, read in campaign and redemption order: a campaign's rows
/// are gathered until the next campaign's begin, then compared with the fold's in order.
#[derive(Default)]
pub(crate) struct Codewords {
    campaign: Option<CampaignId>,
    found: Vec<CodewordEntry>,
}

impl Codewords {
    pub fn row(&mut self, exp: &mut Expected, out: &mut Findings, row: CodewordRow) {
        let (program, campaign, member, network, reference, points, at) = row;
        let campaign = CampaignId(campaign);
        out.compare(
            "codeword_redemptions.program",
            campaign,
            exp.codeword_program.get(&campaign).copied(),
            Some(program),
        );
        if self.campaign != Some(campaign) {
            self.flush(exp, out);
            self.campaign = Some(campaign);
        }
        self.found.push((member, network, reference, points, at));
    }

    /// The last campaign's rows, then the campaigns the model has no row of.
    pub fn finish(mut self, exp: &mut Expected, out: &mut Findings) {
        self.flush(exp, out);
        for (campaign, expected) in std::mem::take(&mut exp.codewords.0) {
            codeword_rows(out, campaign, &expected_entries(expected), &[]);
        }
    }

    fn flush(&mut self, exp: &mut Expected, out: &mut Findings) {
        if let Some(campaign) = self.campaign.take() {
            let expected = exp.codewords.0.remove(&campaign).unwrap_or_default();
            codeword_rows(out, campaign, &expected_entries(expected), &self.found);
            self.found.clear();
        }
    }
}

fn expected_entries(redemptions: Vec<domain::folds::CodewordRedemption>) -> Vec<CodewordEntry> {
    redemptions
        .into_iter()
        .map(|r| {
            (
                r.member_id.0,
                r.network.as_str().to_string(),
                r.reference,
                r.points,
                r.at.get(),
            )
        })
        .collect()
}

/// Compares one campaign's redemptions in redemption order, every row of them.
fn codeword_rows(
    out: &mut Findings,
    campaign: CampaignId,
    expected: &[CodewordEntry],
    found: &[CodewordEntry],
) {
    for n in 0..expected.len().max(found.len()) {
        let key = || format!("{campaign} (redemption #{})", n + 1);
        match (expected.get(n), found.get(n)) {
            (Some(e), Some(a)) => out.compare("codeword_redemptions", key(), e, a),
            (Some(e), None) => out.missing("codeword_redemptions", key(), e),
            (None, Some(a)) => out.unexpected("codeword_redemptions", key(), a),
            (None, None) => {}
        }
    }
}

pub(crate) fn reward(exp: &mut Expected, out: &mut Findings, row: RewardRow) {
    let (program, reward, title, cost, stock, issued, delisted) = row;
    let key = format!("{program}/{reward}");
    match exp.rewards.remove(&(program, RewardId(reward))) {
        Some(s) => {
            let expected = (
                s.title.as_str(),
                s.cost,
                s.stock,
                s.issued.len() as i64,
                s.delisted,
            );
            out.compare(
                "rewards",
                key,
                expected,
                (title.as_str(), cost, stock, issued, delisted),
            );
        }
        None => out.unexpected("rewards", key, (title, stock)),
    }
}

pub(crate) fn rewards_left(exp: &mut Expected, out: &mut Findings) {
    for ((program, reward), s) in exp.rewards.drain() {
        if s.reward_id.is_some() {
            out.missing("rewards", format!("{program}/{reward}"), (s.title, s.stock));
        }
    }
}

pub(crate) fn redemption(exp: &mut Expected, out: &mut Findings, row: RedemptionRow) {
    let (program, redemption, reward, member, cost, coupon, refund, by, reason, used_by) = row;
    let key = format!("{program}/{redemption}");
    let cancelled = match (refund, by, reason) {
        (Some(refund), Some(by), Some(reason)) => Some((refund, by, reason)),
        _ => None,
    };
    match exp.redemptions.remove(&(program, RedemptionId(redemption))) {
        Some(e) => out.compare(
            "reward_redemptions",
            key,
            (
                e.reward_id,
                e.member_id,
                e.cost,
                e.coupon_code,
                e.cancelled,
                e.used_by,
            ),
            (reward, member, cost, coupon, cancelled, used_by),
        ),
        None => out.unexpected("reward_redemptions", key, (reward, member, cost)),
    }
}

pub(crate) fn redemptions_left(exp: &mut Expected, out: &mut Findings) {
    for ((program, redemption), e) in exp.redemptions.drain() {
        out.missing(
            "reward_redemptions",
            format!("{program}/{redemption}"),
            (e.reward_id, e.member_id, e.cost),
        );
    }
}

pub(crate) fn identity(exp: &mut Expected, out: &mut Findings, row: IdentityRow) {
    let (program, network, account, member) = row;
    let key = format!("{program}/{network}:{account}");
    if Network::parse(&network).is_none() {
        out.unexpected("identities", key, member);
        return;
    }
    let expected = exp
        .identities
        .remove(&(program, AccountRef(account)))
        .and_then(|s| s.claimed_by);
    out.compare("identities", key, expected.map(|m| m.0), Some(member));
}

pub(crate) fn identities_left(exp: &mut Expected, out: &mut Findings) {
    for ((program, account), state) in exp.identities.drain() {
        if let Some(member) = state.claimed_by {
            out.missing("identities", format!("{program}/{account}"), member);
        }
    }
}

pub(crate) fn adjustment(exp: &mut Expected, out: &mut Findings, row: AdjustmentRow) {
    let (program, position, member, delta, reason, manager, compensates) = row;
    let key = format!("{program}/position {position}");
    match exp.adjustments.remove(&(program, position)) {
        Some(e) => out.compare(
            "adjustments",
            key,
            (e.member_id, e.delta, e.reason, e.manager, e.compensates),
            (member, delta, reason, manager, compensates),
        ),
        None => out.unexpected("adjustments", key, (member, delta)),
    }
}

pub(crate) fn action(exp: &mut Expected, out: &mut Findings, row: ActionRow) {
    let (program, position, action, manager, subject) = row;
    let key = format!("{program}/position {position}");
    match exp.actions.remove(&(program, position)) {
        Some(e) => out.compare("manager_actions", key, e, (action, manager, subject)),
        None => out.unexpected("manager_actions", key, (action, manager)),
    }
}

pub(crate) fn held(exp: &mut Expected, out: &mut Findings, row: HeldRow) {
    let (program, entry, member, points, status, by) = row;
    let key = format!("{program}/{entry}");
    match exp.held.remove(&(program, entry)) {
        Some(e) => out.compare("held_awards", key, e, (member, points, status, by)),
        None => out.unexpected("held_awards", key, (member, points, status)),
    }
}

pub(crate) fn adjustments_left(exp: &mut Expected, out: &mut Findings) {
    for ((program, position), e) in exp.adjustments.drain() {
        out.missing(
            "adjustments",
            format!("{program}/position {position}"),
            (e.member_id, e.delta),
        );
    }
}

pub(crate) fn actions_left(exp: &mut Expected, out: &mut Findings) {
    for ((program, position), e) in exp.actions.drain() {
        out.missing(
            "manager_actions",
            format!("{program}/position {position}"),
            e,
        );
    }
}

pub(crate) fn held_left(exp: &mut Expected, out: &mut Findings) {
    for ((program, entry), e) in exp.held.drain() {
        out.missing("held_awards", format!("{program}/{entry}"), e);
    }
}

pub(crate) fn day(exp: &mut Expected, out: &mut Findings, row: DailyRow) {
    let (program, day, network, events, awarded, reversed, active, new) = row;
    let key = format!("{program}/{day}/{network}");
    let actual = DayCounters {
        events,
        points_awarded: awarded,
        points_reversed: reversed,
        active_members: active,
        new_members: new,
    };
    let name = if network == "all" {
        Some("all")
    } else {
        Network::parse(&network).map(Network::as_str)
    };
    match name.and_then(|n| exp.daily.remove(&(program, day, n))) {
        Some(e) => out.compare("daily_stats", key, e, actual),
        None => out.unexpected("daily_stats", key, actual),
    }
}

pub(crate) fn daily_stats_left(exp: &mut Expected, out: &mut Findings) {
    for ((program, day, network), e) in exp.daily.drain() {
        out.missing("daily_stats", format!("{program}/{day}/{network}"), e);
    }
}
