//! `GET me`: balance, rank, linked accounts and subscriptions of the member who opened the app.
//! Balance and rank come from read models; accounts and subscriptions from the member's own
//! stream, so a link or unlink shows at once.

use super::auth::Member;
use super::brand::{self, BrandView};
use super::history::{self, HistoryPage};
use super::texts;
use super::{ErrorEnvelope, queries};
use crate::AppState;
use crate::error::ApiError;
use app::Language;
use app::ingest::profiles::{Profile, upsert_profile};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::StreamId;
use domain::member::MemberState;
use domain::network::{ActivityKind, Network};
use projections::ranking::{PeriodKind, current_board};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub member_id: Uuid,
    pub first_name: String,
    pub username: Option<String>,
    /// The language the server writes its texts in (from `Accept-Language` or Telegram).
    pub language: Language,
    pub balance: Balance,
    pub blocked: bool,
    /// Where the member stands on the program's ladder; absent when the program has none.
    pub tier: Option<TierView>,
    /// The member's next points to expire; absent when none will (or the program's never do).
    pub expiring: Option<Expiring>,
    pub rank: Ranks,
    pub accounts: Vec<LinkedAccount>,
    pub subscriptions: Vec<Subscription>,
    /// How the program presents itself: name, colour, logo, community links.
    pub brand: BrandView,
    /// The newest page of the member's history, as `GET history` answers it: the first
    /// screen needs no second request.
    pub recent: HistoryPage,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Balance {
    /// Points available to spend.
    pub current: i64,
    /// Points earned in all (awards, adjustments, net of reversals).
    pub earned: i64,
    /// Points spent on rewards (net of cancelled redemptions).
    pub spent: i64,
    /// Points that expired unspent.
    #[serde(default)]
    pub expired: i64,
    /// Points of awards held for the brand's review: not in `current` until approved.
    #[serde(default)]
    pub awaiting_review: i64,
}

impl From<projections::balances::BalanceRow> for Balance {
    fn from(row: projections::balances::BalanceRow) -> Self {
        Balance {
            current: row.current,
            earned: row.earned,
            spent: row.spent,
            expired: row.expired,
            awaiting_review: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TierView {
    /// The tier the member holds, `None` below the first threshold.
    pub current: Option<TierStep>,
    /// The tier above, with the points still missing to it; `None` at the top.
    pub next: Option<TierStep>,
    /// The points the ladder counts: lifetime points, or those earned in the last
    /// `window_days` days.
    pub qualifying_points: i64,
    /// 0 when the ladder counts lifetime points.
    pub window_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TierStep {
    pub name: String,
    /// What activity pays at this tier, in percent of the rule's points.
    pub multiplier_percent: u32,
    /// For the next tier: qualifying points still missing (0 for the current one).
    pub points_missing: i64,
}

/// The member's place on the ladder of `rules`, from their own stream: the tier they were last
/// placed on and the points that count now.
fn tier_view(rules: &domain::program::Rules, own: &MemberState) -> Option<TierView> {
    let now = domain::Timestamp::new(Utc::now());
    let standing = domain::tier::standing(&rules.tiers, own, now)?;
    Some(TierView {
        current: standing.current.map(|t| TierStep {
            name: t.name.clone(),
            multiplier_percent: t.multiplier_percent,
            points_missing: 0,
        }),
        next: standing.next.map(|(l, missing)| TierStep {
            name: l.name.clone(),
            multiplier_percent: l.multiplier_percent,
            points_missing: missing,
        }),
        qualifying_points: standing.qualifying_points,
        window_days: rules.tiers.window_days,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Expiring {
    /// Points that expire on the day of `at` (in the program's time zone) unless spent first:
    /// spending takes the oldest points first.
    pub points: i64,
    /// When the first of them expire.
    pub at: DateTime<Utc>,
    /// That day in the program's time zone, `YYYY-MM-DD`.
    pub day: chrono::NaiveDate,
    /// Points expiring after that day, in all.
    pub later: i64,
}

/// The member's next expiry under `rules`: the points of the first day any expire, from their
/// own stream's lots.
fn expiring(program: &app::ProgramContext, own: &MemberState) -> Option<Expiring> {
    let schedule = own.lots.schedule(&program.rules.expiry);
    let (first, _) = schedule.first()?;
    let day_of = |at: &domain::Timestamp| at.with_timezone(&program.time_zone).date_naive();
    let day = day_of(first);
    let (that_day, later): (Vec<_>, Vec<_>) =
        schedule.iter().partition(|(at, _)| day_of(at) == day);
    Some(Expiring {
        points: that_day.iter().map(|(_, p)| p).sum(),
        at: first.get(),
        day,
        later: later.iter().map(|(_, p)| p).sum(),
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Ranks {
    /// `None` until the member has points on that board.
    pub all_time: Option<Rank>,
    pub week: Option<Rank>,
    /// The final rank on last week's board: the page shows the move since.
    pub last_week: Option<Rank>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Rank {
    /// Competition ranking: equal scores share a rank.
    pub rank: i64,
    pub score: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LinkedAccount {
    /// `instagram`, `vk` or `telegram`.
    pub network: String,
    pub external_id: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// `telegram`, `code`, `oauth`, `manager` or `observed` (`None` until indexed).
    pub method: Option<String>,
    pub linked_at: Option<DateTime<Utc>>,
    /// False for the Telegram account the member is signed in with.
    pub can_unlink: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Subscription {
    pub network: String,
    /// `subscribed`, `left`, `not_seen`, or `unverifiable` (Instagram cannot be checked).
    pub status: String,
    pub note: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/app/me",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, description = "The signed-in member", body = Me),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn me(State(state): State<AppState>, member: Member) -> Result<Json<Me>, ApiError> {
    let program = member.program_id().0;
    remember_profile(&state, &member).await?;
    let balance = projections::balances::balance(&state.pool, program, member.member_id.0)
        .await
        .map_err(ApiError::internal)?;
    let rank = Ranks {
        all_time: rank(&state, &member, PeriodKind::AllTime, false).await?,
        week: rank(&state, &member, PeriodKind::Week, false).await?,
        last_week: rank(&state, &member, PeriodKind::Week, true).await?,
    };
    let stream = StreamId::Member(member.member_id);
    let own = state.ledger().load::<MemberState>(&stream).await?.state;
    let accounts = accounts(&state, &member, &own).await?;
    let recent = history::page(&state, &member, i64::MAX, history::DEFAULT_LIMIT).await?;
    Ok(Json(Me {
        member_id: member.member_id.0,
        first_name: member.user.first_name.clone(),
        username: member.user.username.clone(),
        language: member.lang,
        balance: Balance {
            awaiting_review: own.awaiting_review(),
            ..balance.map_or_else(Balance::default, Balance::from)
        },
        blocked: own.blocked,
        tier: tier_view(&member.program.rules, &own),
        expiring: expiring(&member.program, &own),
        rank,
        accounts,
        subscriptions: subscriptions(member.lang, &own),
        brand: brand::view(&state, &member.program).await?,
        recent,
    }))
}

/// Opening the app is when Telegram tells us the member's name: kept in `profiles`, and shown
/// on leaderboards from now on.
async fn remember_profile(state: &AppState, member: &Member) -> Result<(), ApiError> {
    let user = &member.user;
    let full_name = match &user.last_name {
        Some(last) => format!("{} {last}", user.first_name),
        None => user.first_name.clone(),
    };
    let profile = Profile {
        program_id: member.program_id().0,
        account: member.account.account,
        username: user.username.clone(),
        display_name: Some(full_name.trim().to_string()).filter(|n| !n.is_empty()),
        language_code: user.language_code.clone(),
    };
    upsert_profile(&state.pool, &profile)
        .await
        .map_err(ApiError::internal)?;
    state.names.own_telegram_profile(
        profile.program_id,
        member.member_id.0,
        profile.display_name.as_deref(),
        profile.username.as_deref(),
    );
    Ok(())
}

async fn rank(
    state: &AppState,
    member: &Member,
    kind: PeriodKind,
    previous: bool,
) -> Result<Option<Rank>, ApiError> {
    let mut board = current_board(kind, None, member.program.time_zone, Utc::now());
    if previous {
        board.period = board.period.previous();
    }
    let place = state
        .boards
        .around(member.program_id().0, board, member.member_id.0, 0)
        .await
        .map_err(ApiError::internal)?;
    Ok(place.map(|p| Rank {
        rank: p.me.rank,
        score: p.me.score,
    }))
}

async fn accounts(
    state: &AppState,
    member: &Member,
    own: &MemberState,
) -> Result<Vec<LinkedAccount>, ApiError> {
    let linked: Vec<_> = own.linked.iter().cloned().collect();
    let details = queries::account_details(
        &state.pool,
        member.program_id().0,
        member.member_id.0,
        &linked,
    )
    .await?;
    Ok(linked
        .iter()
        .map(|account| {
            let found = details.iter().find(|d| d.account_ref == account.account.0);
            let found = found.cloned().unwrap_or_default();
            LinkedAccount {
                network: account.network.as_str().to_string(),
                external_id: found.external_id.unwrap_or_default(),
                username: found.username,
                display_name: found.display_name,
                method: found.method,
                linked_at: found.linked_at,
                can_unlink: *account != member.account,
            }
        })
        .collect())
}

/// From the member's Subscription awards: paid and not reversed means subscribed.
fn subscriptions(lang: Language, own: &MemberState) -> Vec<Subscription> {
    Network::ALL
        .into_iter()
        .map(|network| {
            let status = if network == Network::Instagram {
                "unverifiable"
            } else {
                let prefix = format!("{network}:{}:", ActivityKind::Subscription);
                // One award per group or channel; reversed ones were left.
                let reversed: Vec<bool> = own
                    .awards
                    .iter()
                    .filter(|(key, _)| key.starts_with(&prefix))
                    .map(|(_, award)| award.reversed)
                    .collect();
                if reversed.contains(&false) {
                    "subscribed"
                } else if reversed.is_empty() {
                    "not_seen"
                } else {
                    "left"
                }
            };
            Subscription {
                network: network.as_str().to_string(),
                status: status.to_string(),
                note: texts::subscription_note(lang, network, status),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Event;
    use domain::event::ReversalReason;
    use domain::ids::{EntryId, MemberId};
    use domain::network::ActivityRef;

    fn status_of(own: &MemberState, network: &str) -> String {
        let all = subscriptions(Language::En, own);
        all.into_iter()
            .find(|s| s.network == network)
            .unwrap()
            .status
    }

    #[test]
    fn subscription_status_follows_the_bonus_and_its_reversal() {
        let (member_id, entry) = (MemberId(Uuid::nil()), EntryId(Uuid::from_u128(1)));
        let at = Utc::now();
        let joined = Event::PointsAwarded {
            member_id,
            entry_id: entry,
            activity: ActivityRef {
                network: Network::Vk,
                kind: ActivityKind::Subscription,
                reference: "229871234".into(),
            },
            points: 50,
            rule_version: 1,
            campaign_id: None,
            occurred_at: at.into(),
            at: at.into(),
            text_fingerprint: None,
        };
        let left = Event::PointsReversed {
            member_id,
            entry_id: EntryId(Uuid::from_u128(2)),
            award_entry_id: entry,
            network: Network::Vk,
            award_occurred_at: at.into(),
            points: 50,
            reason: ReversalReason::Left,
            at: at.into(),
        };
        let own = MemberState::default();
        assert_eq!(status_of(&own, "vk"), "not_seen");
        assert_eq!(status_of(&own, "instagram"), "unverifiable");
        let own = own.evolve(&joined);
        assert_eq!(status_of(&own, "vk"), "subscribed");
        assert_eq!(status_of(&own, "telegram"), "not_seen");
        assert_eq!(status_of(&own.evolve(&left), "vk"), "left");
    }
}
