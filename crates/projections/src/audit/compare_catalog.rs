//! Compares campaigns and codeword redemptions, rewards and their redemptions, the identity
//! index, the admin log and daily stats with the fold.

use super::expected::Expected;
use super::findings::Findings;
use super::models::Models;
use crate::daily_stats::DayCounters;
use chrono::{DateTime, Utc};
use domain::campaign::CampaignStatus;
use domain::ids::{AccountRef, CampaignId, RedemptionId, RewardId};
use domain::network::Network;
use std::collections::BTreeMap;
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

pub(crate) fn campaigns(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    for (program, campaign, points, cap, status, redemptions) in std::mem::take(&mut m.campaigns) {
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
    for ((program, campaign), s) in exp.campaigns.drain() {
        if s.campaign_id.is_some() {
            out.missing(
                "campaigns",
                format!("{program}/{campaign}"),
                status_name(s.status),
            );
        }
    }
    let mut actual: BTreeMap<CampaignId, Vec<CodewordEntry>> = BTreeMap::new();
    for (program, campaign, member, network, reference, points, at) in
        std::mem::take(&mut m.codewords)
    {
        let campaign = CampaignId(campaign);
        out.compare(
            "codeword_redemptions.program",
            campaign,
            exp.codeword_program.get(&campaign).copied(),
            Some(program),
        );
        actual
            .entry(campaign)
            .or_default()
            .push((member, network, reference, points, at));
    }
    for (campaign, expected) in std::mem::take(&mut exp.codewords.0) {
        let expected: Vec<_> = expected
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
            .collect();
        let found = actual.remove(&campaign).unwrap_or_default();
        codeword_rows(out, campaign, &expected, &found);
    }
    for (campaign, found) in actual {
        codeword_rows(out, campaign, &[], &found);
    }
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

pub(crate) fn rewards(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    for (program, reward, title, cost, stock, issued, delisted) in std::mem::take(&mut m.rewards) {
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
    for ((program, reward), s) in exp.rewards.drain() {
        if s.reward_id.is_some() {
            out.missing("rewards", format!("{program}/{reward}"), (s.title, s.stock));
        }
    }
    for (program, redemption, reward, member, cost, coupon, refund, by, reason, used_by) in
        std::mem::take(&mut m.redemptions)
    {
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
    for ((program, redemption), e) in exp.redemptions.drain() {
        out.missing(
            "reward_redemptions",
            format!("{program}/{redemption}"),
            (e.reward_id, e.member_id, e.cost),
        );
    }
}

pub(crate) fn identities(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    for (program, network, account, member) in std::mem::take(&mut m.identities) {
        let key = format!("{program}/{network}:{account}");
        if Network::parse(&network).is_none() {
            out.unexpected("identities", key, member);
            continue;
        }
        let expected = exp
            .identities
            .remove(&(program, AccountRef(account)))
            .and_then(|s| s.claimed_by);
        out.compare("identities", key, expected.map(|m| m.0), Some(member));
    }
    for ((program, account), state) in exp.identities.drain() {
        if let Some(member) = state.claimed_by {
            out.missing("identities", format!("{program}/{account}"), member);
        }
    }
}

pub(crate) fn admin_log(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    for (program, position, member, delta, reason, manager, compensates) in
        std::mem::take(&mut m.adjustments)
    {
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
    for ((program, position), e) in exp.adjustments.drain() {
        out.missing(
            "adjustments",
            format!("{program}/position {position}"),
            (e.member_id, e.delta),
        );
    }
    for (program, position, action, manager, subject) in std::mem::take(&mut m.actions) {
        let key = format!("{program}/position {position}");
        match exp.actions.remove(&(program, position)) {
            Some(e) => out.compare("manager_actions", key, e, (action, manager, subject)),
            None => out.unexpected("manager_actions", key, (action, manager)),
        }
    }
    for ((program, position), e) in exp.actions.drain() {
        out.missing(
            "manager_actions",
            format!("{program}/position {position}"),
            e,
        );
    }
    for (program, entry, member, points, status, by) in std::mem::take(&mut m.held) {
        let key = format!("{program}/{entry}");
        match exp.held.remove(&(program, entry)) {
            Some(e) => out.compare("held_awards", key, e, (member, points, status, by)),
            None => out.unexpected("held_awards", key, (member, points, status)),
        }
    }
    for ((program, entry), e) in exp.held.drain() {
        out.missing("held_awards", format!("{program}/{entry}"), e);
    }
}

pub(crate) fn daily_stats(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    for (program, day, network, events, awarded, reversed, active, new) in
        std::mem::take(&mut m.daily)
    {
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
    for ((program, day, network), e) in exp.daily.drain() {
        out.missing("daily_stats", format!("{program}/{day}/{network}"), e);
    }
}
