//! `GET campaigns`: what a member can do to earn. Codeword campaigns show their name, points,
//! window, networks and places left, never the codeword; the program's rules say what every
//! kind of activity pays.

use super::auth::Member;
use super::texts;
use super::{ErrorEnvelope, queries};
use crate::AppState;
use crate::error::ApiError;
use app::Language;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::StreamId;
use domain::member::MemberState;
use domain::network::Network;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignsView {
    pub campaigns: Vec<CampaignView>,
    /// What the program's rules pay for on its connected channels, besides campaigns: only
    /// what the platform can report (never an Instagram like or follow).
    pub ways_to_earn: Vec<WayToEarn>,
    /// The program's cap on points a day, with the member's points today; `None` without one.
    pub daily_cap: Option<CapToday>,
    /// The cap per network, for each network with a way to earn; empty without one.
    pub network_caps: Vec<NetworkCapToday>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CapToday {
    pub cap: i64,
    /// Points the member earned today (the program's time zone).
    pub earned_today: i64,
    /// What the cap still allows today.
    pub left_today: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NetworkCapToday {
    pub network: String,
    #[serde(flatten)]
    pub today: CapToday,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignView {
    pub campaign_id: Uuid,
    pub name: String,
    pub points: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub networks: Vec<String>,
    /// Redemptions left before the cap; `None` without a cap.
    pub remaining: Option<i32>,
    /// What to do, in the member's language; never the codeword itself.
    pub how_to: String,
    /// The campaign's own words, as its manager wrote them.
    pub description: Option<String>,
    /// The member already earned this campaign's points.
    pub done: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WayToEarn {
    pub network: String,
    /// `comment`, `mention`, `reaction`, `poll_vote`, `repost`, `message`, `subscription`.
    pub kind: String,
    pub points: i64,
    /// The kind in the member's language ("Комментарий").
    pub text: String,
    /// What exactly to do, and where ("Напишите комментарий под любым постом группы …").
    pub how_to: String,
    /// Seconds between two paid activities of this kind; 0 for none.
    pub cooldown_seconds: u32,
}

#[utoipa::path(
    get,
    path = "/api/v1/app/campaigns",
    tag = "mini-app",
    security(("tma" = [])),
    responses(
        (status = 200, description = "Open campaigns and the program's ways to earn", body = CampaignsView),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn campaigns(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<CampaignsView>, ApiError> {
    let program = member.program_id().0;
    let now = Utc::now();
    let rows = projections::campaigns::campaigns(&state.pool, program)
        .await
        .map_err(ApiError::internal)?;
    let done = queries::redeemed_campaigns(&state.pool, program, member.member_id.0).await?;
    let campaigns = rows
        .into_iter()
        .filter(|c| c.status == "active" && c.starts_at <= now && now < c.ends_at)
        .map(|c| {
            let networks: Vec<Network> = c
                .networks
                .iter()
                .filter_map(|n| Network::parse(n))
                .collect();
            CampaignView {
                how_to: texts::campaign_how_to(member.lang, &networks),
                done: done.contains(&c.campaign_id),
                campaign_id: c.campaign_id,
                description: c.description,
                name: c.name,
                points: c.points,
                starts_at: c.starts_at,
                ends_at: c.ends_at,
                networks: c.networks,
                remaining: c.remaining,
            }
        })
        .collect();
    let connected = queries::connected_networks(&state.pool, program).await?;
    let brand = super::brand::view(&state, &member.program).await?;
    let ways_to_earn = ways_to_earn(
        member.lang,
        &member.program.rules,
        &connected,
        &brand.name,
        &brand.links,
    );
    let rules = &member.program.rules;
    let own = state
        .ledger()
        .load::<MemberState>(&StreamId::Member(member.member_id))
        .await?
        .state;
    let tz = member.program.time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let cap_today = |cap: i64, earned_today: i64| CapToday {
        cap,
        earned_today,
        left_today: (cap - earned_today).max(0),
    };
    // `awarded_on` answers (all networks, the one named): the overall cap needs the first.
    let daily_cap = rules
        .daily_cap
        .map(|cap| cap_today(cap, own.awarded_on(today, tz, Network::Vk).0));
    let mut networks: Vec<Network> = ways_to_earn
        .iter()
        .filter_map(|w| Network::parse(&w.network))
        .collect();
    networks.dedup();
    let network_caps = rules
        .daily_cap_per_network
        .map(|cap| {
            networks
                .iter()
                .map(|n| NetworkCapToday {
                    network: n.as_str().to_string(),
                    today: cap_today(cap, own.awarded_on(today, tz, *n).1),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(CampaignsView {
        campaigns,
        ways_to_earn,
        daily_cap,
        network_caps,
    }))
}

/// The rules that pay for something a connected channel can report, with what to do.
fn ways_to_earn(
    lang: Language,
    rules: &domain::program::Rules,
    connected: &[(String, Option<String>)],
    name: &str,
    links: &app::brand::BrandLinks,
) -> Vec<WayToEarn> {
    let mut ways: Vec<WayToEarn> = rules
        .points
        .iter()
        .filter(|r| r.points > 0 && adapters::detects(r.network, r.kind))
        .filter_map(|r| {
            let (_, title) = connected.iter().find(|(n, _)| n == r.network.as_str())?;
            let place = title.as_deref().unwrap_or(name);
            // Only a handle the brand published can be mentioned (VK names the community).
            let handle = links.mention_handle(r.network);
            if r.kind == domain::network::ActivityKind::Mention
                && r.network != Network::Vk
                && handle.is_none()
            {
                return None;
            }
            Some(WayToEarn {
                network: r.network.as_str().to_string(),
                kind: r.kind.as_str().to_string(),
                points: r.points,
                text: texts::kind_name(lang, r.kind).to_string(),
                how_to: texts::way_how_to(lang, r.network, r.kind, name, place, handle.as_deref())?,
                cooldown_seconds: r.cooldown_seconds,
            })
        })
        .collect();
    ways.sort_by(|a, b| a.network.cmp(&b.network));
    ways
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::network::ActivityKind;
    use domain::program::{PointsRule, Rules};

    #[test]
    fn every_activity_a_platform_reports_has_words_saying_what_to_do() {
        for network in Network::ALL {
            for kind in ActivityKind::ALL {
                let text =
                    texts::way_how_to(Language::Ru, network, kind, "Зерно", "Зерно", Some("zerno"));
                assert_eq!(
                    adapters::detects(network, kind),
                    text.is_some(),
                    "{network} {kind}"
                );
            }
        }
    }

    #[test]
    fn only_paid_reportable_activities_on_connected_networks_are_ways_to_earn() {
        let rule = |network, kind, points| PointsRule {
            network,
            kind,
            points,
            cooldown_seconds: 0,
        };
        let rules = Rules {
            points: vec![
                rule(Network::Instagram, ActivityKind::Comment, 10),
                rule(Network::Instagram, ActivityKind::Reaction, 2),
                rule(Network::Instagram, ActivityKind::Subscription, 50),
                rule(Network::Vk, ActivityKind::Comment, 10),
                rule(Network::Vk, ActivityKind::Repost, 0),
                rule(Network::Telegram, ActivityKind::PollVote, 5),
            ],
            ..Rules::standard()
        };
        let connected = vec![
            ("instagram".to_string(), None),
            ("telegram".to_string(), Some("Зерно — новости".to_string())),
        ];
        let links = app::brand::BrandLinks::default();
        let ways = ways_to_earn(Language::Ru, &rules, &connected, "Кофейня Зерно", &links);
        let listed: Vec<(&str, &str)> = ways
            .iter()
            .map(|w| (w.network.as_str(), w.kind.as_str()))
            .collect();
        assert_eq!(
            listed,
            [("instagram", "comment"), ("telegram", "poll_vote")]
        );
        assert!(
            ways[0].how_to.contains("«Кофейня Зерно»"),
            "{}",
            ways[0].how_to
        );
        assert!(
            ways[1].how_to.contains("«Зерно — новости»"),
            "{}",
            ways[1].how_to
        );
    }

    #[test]
    fn a_mention_is_a_way_to_earn_only_where_members_can_name_the_brand() {
        let rules = Rules::standard();
        let connected = vec![("telegram".to_string(), None), ("vk".to_string(), None)];
        let mentions = |links: &app::brand::BrandLinks| -> Vec<(String, String)> {
            ways_to_earn(Language::Ru, &rules, &connected, "Зерно", links)
                .into_iter()
                .filter(|w| w.kind == "mention")
                .map(|w| (w.network, w.how_to))
                .collect()
        };
        let unnamed = mentions(&app::brand::BrandLinks::default());
        assert_eq!(
            unnamed.len(),
            1,
            "VK names the community by id: {unnamed:?}"
        );
        assert_eq!(unnamed[0].0, "vk");
        let links = app::brand::BrandLinks {
            telegram: Some("https://t.me/Zerno_News".into()),
            ..Default::default()
        };
        let named = mentions(&links);
        assert_eq!(named.len(), 2);
        assert_eq!(named[0].0, "telegram");
        assert!(named[0].1.contains("@zerno_news"), "{}", named[0].1);
    }
}
