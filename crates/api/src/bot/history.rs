//! Ledger entries as one line of text (for /history and notifications), the member's latest
//! entries, and the names shown on /top.

use super::texts::{self, Lang};
use crate::app::{AppError, Ledger};
use chrono::{DateTime, Utc};
use domain::event::Event;
use domain::ids::{MemberId, ProgramId, RewardId};
use domain::reward::RewardState;
use domain::{StreamId, network::ActivityKind};
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// Events that move a member's balance, as stored in `events.event_type`.
pub const BALANCE_EVENTS: [&str; 6] = [
    "PointsAwarded",
    "PointsReversed",
    "AwardRestored",
    "PointsAdjusted",
    "RewardRedeemed",
    "RedemptionCancelled",
];

/// Entries /history shows.
pub const HISTORY_LIMIT: i64 = 10;

/// `(points, what)` for an entry: `(+10, "комментарий (ВКонтакте)")`. `None` for events that
/// are not entries. `reward` is the title of the reward a redemption is about, when known.
pub fn describe(lang: Lang, event: &Event, reward: Option<&str>) -> Option<(i64, String)> {
    let reward = reward.unwrap_or(match lang {
        Lang::Ru => "награда",
        Lang::En => "a reward",
    });
    Some(match event {
        Event::PointsAwarded {
            activity, points, ..
        } => (
            *points,
            format!(
                "{} ({})",
                texts::activity(lang, activity.kind),
                texts::network(lang, activity.network)
            ),
        ),
        Event::CodewordRedeemed {
            network, points, ..
        } => (
            *points,
            format!(
                "{} ({})",
                texts::activity(lang, ActivityKind::Codeword),
                texts::network(lang, *network)
            ),
        ),
        Event::PointsReversed {
            points,
            reason,
            network,
            ..
        } => {
            let what = match lang {
                Lang::Ru => "баллы отменены",
                Lang::En => "points taken back",
            };
            let why = texts::reversal(lang, *reason);
            let network = texts::network(lang, *network);
            (-*points, format!("{what}: {why} ({network})"))
        }
        Event::AwardRestored {
            points, network, ..
        } => {
            let what = match lang {
                Lang::Ru => "баллы возвращены",
                Lang::En => "points restored",
            };
            (
                *points,
                format!("{what} ({})", texts::network(lang, *network)),
            )
        }
        Event::PointsAdjusted { delta, reason, .. } => {
            let what = match lang {
                Lang::Ru => "корректировка",
                Lang::En => "adjustment",
            };
            (*delta, format!("{what}: {reason}"))
        }
        Event::RewardRedeemed {
            cost, coupon_code, ..
        } => match lang {
            Lang::Ru => (-*cost, format!("обмен на «{reward}», код: {coupon_code}")),
            Lang::En => (-*cost, format!("redeemed “{reward}”, code: {coupon_code}")),
        },
        Event::RedemptionCancelled { refund, reason, .. } => match lang {
            Lang::Ru => (*refund, format!("обмен на «{reward}» отменён: {reason}")),
            Lang::En => (
                *refund,
                format!("“{reward}” redemption cancelled: {reason}"),
            ),
        },
        _ => return None,
    })
}

/// `+10 баллов — комментарий (ВКонтакте)`.
pub fn line(lang: Lang, event: &Event, reward: Option<&str>) -> Option<String> {
    let (points, what) = describe(lang, event, reward)?;
    Some(format!("{} — {what}", texts::signed_points(lang, points)))
}

/// When an entry was recorded.
pub fn entry_time(event: &Event) -> Option<DateTime<Utc>> {
    match event {
        Event::PointsAwarded { at, .. }
        | Event::CodewordRedeemed { at, .. }
        | Event::PointsReversed { at, .. }
        | Event::AwardRestored { at, .. }
        | Event::PointsAdjusted { at, .. }
        | Event::RewardRedeemed { at, .. }
        | Event::RedemptionCancelled { at, .. } => Some(*at),
        _ => None,
    }
}

/// The reward an entry is about, if any.
pub fn reward_of(event: &Event) -> Option<RewardId> {
    match event {
        Event::RewardRedeemed { reward_id, .. } | Event::RedemptionCancelled { reward_id, .. } => {
            Some(*reward_id)
        }
        _ => None,
    }
}

pub async fn reward_title(ledger: &Ledger, reward: RewardId) -> Result<String, AppError> {
    Ok(ledger
        .load::<RewardState>(&StreamId::Reward(reward))
        .await?
        .state
        .title)
}

/// The member's latest balance entries, newest first.
pub async fn latest_entries(
    pool: &PgPool,
    member: MemberId,
    limit: i64,
) -> Result<Vec<Event>, AppError> {
    let payloads: Vec<sqlx::types::Json<Event>> = sqlx::query_scalar(
        "SELECT payload FROM events WHERE stream_id = $1 AND event_type = ANY($2) \
         ORDER BY stream_version DESC LIMIT $3",
    )
    .bind(StreamId::Member(member).to_string())
    .bind(&BALANCE_EVENTS[..])
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(store::StoreError::from)?;
    Ok(payloads.into_iter().map(|p| p.0).collect())
}

/// A display name per member for the leaderboard: a profile's name or @username from any of
/// the member's linked accounts (the `identities` read model joined with `profiles`).
pub async fn names(
    pool: &PgPool,
    program: ProgramId,
    members: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT DISTINCT ON (i.member_id) i.member_id, p.display_name, p.username \
         FROM identities i JOIN profiles p USING (program_id, network, scope, external_id) \
         WHERE i.program_id = $1 AND i.member_id = ANY($2) \
         ORDER BY i.member_id, (p.display_name IS NULL), p.updated_at DESC",
    )
    .bind(program.0)
    .bind(members)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(member, display, username)| {
            let name = display
                .as_deref()
                .and_then(short_name)
                .or_else(|| username.map(|u| format!("@{u}")))?;
            Some((member, name))
        })
        .collect())
}

/// "Анна Смирнова" → "Анна С.": a leaderboard shows other members, so not their full name.
pub fn short_name(display_name: &str) -> Option<String> {
    let mut words = display_name.split_whitespace();
    let first = words.next()?;
    Some(match words.next().and_then(|w| w.chars().next()) {
        Some(initial) => format!("{first} {initial}."),
        None => first.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaderboard_names_keep_the_first_name_and_an_initial() {
        assert_eq!(short_name("Анна Смирнова").as_deref(), Some("Анна С."));
        assert_eq!(short_name("  Boris ").as_deref(), Some("Boris"));
        assert_eq!(short_name("   "), None);
    }
}
