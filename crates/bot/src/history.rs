//! Ledger entries as one line of text, for /history (its entries come from
//! `app::reads::latest_balance_entries`) and notifications.

use super::texts;
use app::Language;
use app::{AppError, Ledger};
use chrono::{DateTime, Utc};
use domain::event::Event;
use domain::ids::RewardId;
use domain::reward::RewardState;
use domain::{StreamId, network::ActivityKind};

/// Entries /history shows.
pub const HISTORY_LIMIT: i64 = 10;

/// `(points, what)` for an entry: `(+10, "комментарий (ВКонтакте)")`. `None` for events that
/// are not entries. `reward` is the title of the reward a redemption is about, when known.
pub fn describe(lang: Language, event: &Event, reward: Option<&str>) -> Option<(i64, String)> {
    let reward = reward.unwrap_or(match lang {
        Language::Ru => "награда",
        Language::En => "a reward",
    });
    Some(match event {
        Event::PointsAwarded {
            activity, points, ..
        } => (*points, activity_on(lang, activity)),
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
                Language::Ru => "баллы отменены",
                Language::En => "points taken back",
            };
            let why = texts::reversal(lang, *reason);
            let network = texts::network(lang, *network);
            (-*points, format!("{what}: {why} ({network})"))
        }
        // Held for review: no points yet, so the line carries the amount in its words.
        Event::AwardHeld {
            activity, points, ..
        } => {
            let what = activity_on(lang, activity);
            match lang {
                Language::Ru => (0, format!("{what}: {points} баллов ждут проверки")),
                Language::En => (0, format!("{what}: {points} points awaiting review")),
            }
        }
        Event::HeldAwardApproved {
            activity, points, ..
        } => {
            let what = activity_on(lang, activity);
            match lang {
                Language::Ru => (*points, format!("{what}, проверено")),
                Language::En => (*points, format!("{what}, reviewed")),
            }
        }
        Event::HeldAwardRejected { points, .. } => match lang {
            Language::Ru => (0, format!("{points} баллов после проверки не начислены")),
            Language::En => (0, format!("{points} points not added after review")),
        },
        // A rise is news (see `notify::plan::news`); the words carry no points.
        Event::TierChanged {
            to: Some(tier),
            multiplier_percent,
            ..
        } => (0, texts::tier_reached(lang, tier, *multiplier_percent)),
        Event::AwardRestored {
            points, network, ..
        } => {
            let what = match lang {
                Language::Ru => "баллы возвращены",
                Language::En => "points restored",
            };
            (
                *points,
                format!("{what} ({})", texts::network(lang, *network)),
            )
        }
        Event::SeasonPrizeAwarded { points, rank, .. } => match lang {
            Language::Ru => (*points, format!("приз сезона, {rank}-е место")),
            Language::En => (*points, format!("season prize, rank {rank}")),
        },
        Event::PointsExpired {
            points, earned_at, ..
        } => {
            let day = earned_at.get().format("%d.%m.%Y");
            match lang {
                Language::Ru => (-*points, format!("сгорели баллы, начисленные {day}")),
                Language::En => (-*points, format!("expired: points earned on {day}")),
            }
        }
        // A notice: news (see `notify::plan::news`), no points of its own.
        Event::ExpiryWarned {
            points,
            first_expires_at,
            ..
        } => (0, texts::expiry_warning(lang, *points, *first_expires_at)),
        // The manager's reason is internal: the member sees the note, if there is one.
        Event::PointsAdjusted { delta, note, .. } => {
            let what = match lang {
                Language::Ru => "корректировка",
                Language::En => "adjustment",
            };
            match note {
                Some(note) => (*delta, format!("{what}: {note}")),
                None => (*delta, what.to_string()),
            }
        }
        Event::RewardRedeemed {
            cost, coupon_code, ..
        } => match lang {
            Language::Ru => (-*cost, format!("обмен на «{reward}», код: {coupon_code}")),
            Language::En => (-*cost, format!("redeemed “{reward}”, code: {coupon_code}")),
        },
        Event::RaffleTicketBought { cost, .. } => match lang {
            Language::Ru => (-*cost, "билет в розыгрыш".to_string()),
            Language::En => (-*cost, "a raffle ticket".to_string()),
        },
        Event::RaffleTicketRefunded { refund, .. } => match lang {
            Language::Ru => (*refund, "розыгрыш отменён, билет возвращён".to_string()),
            Language::En => (*refund, "raffle cancelled, ticket refunded".to_string()),
        },
        // The manager's reason is internal, as an adjustment's is.
        Event::RedemptionCancelled { refund, .. } => match lang {
            Language::Ru => (
                *refund,
                format!("обмен на «{reward}» отменён, баллы возвращены"),
            ),
            Language::En => (
                *refund,
                format!("“{reward}” redemption cancelled, points returned"),
            ),
        },
        _ => return None,
    })
}

/// `комментарий (ВКонтакте)`.
fn activity_on(lang: Language, activity: &domain::network::ActivityRef) -> String {
    format!(
        "{} ({})",
        texts::activity(lang, activity.kind),
        texts::network(lang, activity.network)
    )
}

/// `+10 баллов — комментарий (ВКонтакте)`; an entry that moves no points is its words alone.
pub fn line(lang: Language, event: &Event, reward: Option<&str>) -> Option<String> {
    let (points, what) = describe(lang, event, reward)?;
    if points == 0 {
        return Some(capitalised(&what));
    }
    Some(format!("{} — {what}", texts::signed_points(lang, points)))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// When an entry was recorded.
pub fn entry_time(event: &Event) -> Option<DateTime<Utc>> {
    match event {
        Event::PointsAwarded { at, .. }
        | Event::CodewordRedeemed { at, .. }
        | Event::PointsReversed { at, .. }
        | Event::AwardRestored { at, .. }
        | Event::AwardHeld { at, .. }
        | Event::HeldAwardApproved { at, .. }
        | Event::HeldAwardRejected { at, .. }
        | Event::PointsAdjusted { at, .. }
        | Event::RewardRedeemed { at, .. }
        | Event::RedemptionCancelled { at, .. }
        | Event::RaffleTicketBought { at, .. }
        | Event::RaffleTicketRefunded { at, .. }
        | Event::PointsExpired { at, .. }
        | Event::SeasonPrizeAwarded { at, .. } => Some((*at).get()),
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
