//! A small world of events for projection tests: one program in Moscow time, and builders for
//! the events members, managers and campaigns produce.

use chrono::{Duration, TimeZone, Utc};
use domain::Event;
use domain::Timestamp;
use domain::codeword::Codeword;
use domain::event::{LinkMethod, ReversalReason};
use domain::ids::AccountRef;
use domain::ids::{CampaignId, EntryId, MemberId, ProgramId, RedemptionId, RewardId};
use domain::network::{ActivityKind, ActivityRef, LinkedAccount, Network};
use projections::{Projection, Runner, RunnerConfig};
use sqlx::PgPool;
use store::{Commit, EventStore, ExpectedVersion, Metadata, StreamAppend};
use uuid::Uuid;

pub const PROGRAM: Uuid = Uuid::from_u128(0xA11);

pub fn member(n: u128) -> MemberId {
    MemberId(Uuid::from_u128(0x1000 + n))
}

pub fn t0() -> Timestamp {
    // A Sunday, 22:00 UTC: already Monday in Moscow (a new ISO week there).
    Timestamp::new(
        Utc.with_ymd_and_hms(2026, 11, 22, 22, 0, 0)
            .single()
            .unwrap(),
    )
}

pub struct World {
    pub pool: PgPool,
    pub store: EventStore,
    next: u128,
}

impl World {
    pub async fn new(pool: PgPool) -> World {
        let world = World {
            store: EventStore::new(pool.clone()),
            pool,
            next: 0,
        };
        world
            .append(vec![Event::ProgramCreated {
                program_id: ProgramId(PROGRAM),
                name: "Coffee".into(),
                time_zone: chrono_tz::Europe::Moscow,
                at: t0(),
            }])
            .await;
        world
    }

    /// A second writer on the same log, numbering its entries from `first_entry`.
    pub fn detached(store: EventStore, first_entry: u128) -> World {
        World {
            pool: store.pool().clone(),
            store,
            next: first_entry,
        }
    }

    /// Appends events as one commit (one append per stream, in order).
    pub async fn append(&self, events: Vec<Event>) {
        let mut appends: Vec<StreamAppend> = Vec::new();
        for event in events {
            let stream_id = event.stream().to_string();
            let encoded =
                store::codec::encode(&event, Uuid::new_v4(), Metadata::default()).unwrap();
            match appends.iter_mut().find(|a| a.stream_id == stream_id) {
                Some(a) => a.events.push(encoded),
                None => appends.push(StreamAppend {
                    program_id: PROGRAM,
                    stream_id,
                    expected: ExpectedVersion::Any,
                    events: vec![encoded],
                }),
            }
        }
        self.store.append(Commit { appends }).await.unwrap();
    }

    pub fn entry(&mut self) -> EntryId {
        self.next += 1;
        EntryId(Uuid::from_u128(0xE000_0000 + self.next))
    }

    /// Every projection caught up, by one runner for all of them (as `serve` runs them).
    pub async fn drain(&self) {
        Runner::group(self.pool.clone(), &Projection::ALL, RunnerConfig::default())
            .drain()
            .await
            .unwrap();
    }
}

pub fn register(m: MemberId, at: Timestamp) -> Event {
    Event::MemberRegistered {
        member_id: m,
        program_id: ProgramId(PROGRAM),
        at,
    }
}

pub fn award(entry: EntryId, m: MemberId, points: i64, network: Network, at: Timestamp) -> Event {
    Event::PointsAwarded {
        member_id: m,
        entry_id: entry,
        activity: ActivityRef {
            network,
            kind: ActivityKind::Comment,
            reference: entry.to_string(),
        },
        points,
        rule_version: 1,
        campaign_id: None,
        occurred_at: at,
        at,
        text_fingerprint: None,
    }
}

pub fn reverse(
    entry: EntryId,
    m: MemberId,
    award: EntryId,
    points: i64,
    network: Network,
    award_at: Timestamp,
) -> Event {
    Event::PointsReversed {
        member_id: m,
        entry_id: entry,
        award_entry_id: award,
        network,
        award_occurred_at: award_at,
        points,
        reason: ReversalReason::Deleted,
        at: award_at + Duration::hours(1),
    }
}

pub fn adjust(
    entry: EntryId,
    m: MemberId,
    delta: i64,
    compensates: Option<EntryId>,
    at: Timestamp,
) -> Event {
    Event::PointsAdjusted {
        member_id: m,
        entry_id: entry,
        delta,
        reason: "goodwill".into(),
        note: None,
        by: "manager@brand".into(),
        compensates,
        at,
    }
}

/// Member `n`'s Telegram account, as events name it.
pub fn telegram_account(n: u128) -> LinkedAccount {
    LinkedAccount {
        network: Network::Telegram,
        account: AccountRef(Uuid::from_u128(0xacc0_0000 + n)),
    }
}

pub fn link(m: MemberId, identity: &LinkedAccount, at: Timestamp) -> Vec<Event> {
    vec![
        Event::IdentityClaimed {
            program_id: ProgramId(PROGRAM),
            account: *identity,
            member_id: m,
            at,
        },
        Event::AccountLinked {
            member_id: m,
            account: *identity,
            method: LinkMethod::Telegram,
            at,
            reason: None,
        },
    ]
}

pub fn unlink(m: MemberId, identity: &LinkedAccount, at: Timestamp) -> Vec<Event> {
    vec![
        Event::IdentityReleased {
            program_id: ProgramId(PROGRAM),
            account: *identity,
            member_id: m,
            at,
        },
        Event::AccountUnlinked {
            member_id: m,
            account: *identity,
            at,
            reason: None,
        },
    ]
}

pub fn campaign(id: CampaignId, cap: Option<u32>, at: Timestamp) -> Event {
    Event::CampaignCreated {
        campaign_id: id,
        program_id: ProgramId(PROGRAM),
        name: "Autumn".into(),
        codeword: Codeword::parse("СЕКРЕТ").unwrap(),
        points: 50,
        starts_at: at,
        ends_at: at + Duration::days(7),
        total_cap: cap,
        networks: vec![Network::Vk, Network::Instagram],
        target_post: None,
        by: "manager@brand".into(),
        at,
        description: Some("Find the word in our autumn posts".into()),
    }
}

/// A codeword redemption: the campaign's record and the member's award, one commit.
pub fn redeem_codeword(c: CampaignId, entry: EntryId, m: MemberId, at: Timestamp) -> Vec<Event> {
    vec![
        Event::CodewordRedeemed {
            campaign_id: c,
            member_id: m,
            entry_id: entry,
            network: Network::Vk,
            reference: format!("comment-{entry}"),
            points: 50,
            at,
        },
        Event::PointsAwarded {
            member_id: m,
            entry_id: entry,
            activity: ActivityRef {
                network: Network::Vk,
                kind: ActivityKind::Codeword,
                reference: c.to_string(),
            },
            points: 50,
            rule_version: 0,
            campaign_id: Some(c),
            occurred_at: at,
            at,
            text_fingerprint: None,
        },
    ]
}

pub fn list_reward(id: RewardId, cost: i64, stock: u32, at: Timestamp) -> Event {
    Event::RewardListed {
        reward_id: id,
        program_id: ProgramId(PROGRAM),
        title: "Free coffee".into(),
        cost,
        stock,
        by: "manager@brand".into(),
        at,
        coupon_pool: false,
        return_codes: false,
        low_stock_alert: None,
    }
}

pub fn redeem_reward(
    reward: RewardId,
    redemption: RedemptionId,
    entry: EntryId,
    m: MemberId,
    cost: i64,
    at: Timestamp,
) -> Vec<Event> {
    vec![
        Event::RewardRedeemed {
            member_id: m,
            entry_id: entry,
            redemption_id: redemption,
            reward_id: reward,
            cost,
            coupon_code: format!("CPN-{}", redemption.0.as_u128()),
            at,
        },
        Event::RewardIssued {
            reward_id: reward,
            redemption_id: redemption,
            member_id: m,
            at,
            code: None,
        },
    ]
}

pub fn cancel_reward(
    reward: RewardId,
    redemption: RedemptionId,
    entry: EntryId,
    m: MemberId,
    refund: i64,
    at: Timestamp,
) -> Vec<Event> {
    vec![
        Event::RedemptionCancelled {
            member_id: m,
            entry_id: entry,
            redemption_id: redemption,
            reward_id: reward,
            refund,
            by: "manager@brand".into(),
            reason: "out of beans".into(),
            at,
        },
        Event::RewardReturned {
            reward_id: reward,
            redemption_id: redemption,
            at,
            code: None,
        },
    ]
}

/// A varied history over `members` members: registrations, links, awards on three networks,
/// a reversal, adjustments, a campaign, a reward redemption and its cancellation.
pub async fn busy_history(world: &mut World, members: u128) {
    let t = t0();
    for n in 0..members {
        let m = member(n);
        let mut events = vec![register(m, t)];
        events.extend(link(m, &telegram_account(n), t));
        world.append(events).await;
        for k in 0..(n % 4 + 1) {
            let network = Network::ALL[(n + k) as usize % 3];
            let at = t + Duration::hours(i64::try_from(n * 7 + k * 30).unwrap());
            let entry = world.entry();
            world
                .append(vec![award(entry, m, 10 * (k as i64 + 1), network, at)])
                .await;
        }
    }
    let m0 = member(0);
    let first = world.entry();
    world
        .append(vec![award(first, m0, 25, Network::Instagram, t)])
        .await;
    let rev = world.entry();
    world
        .append(vec![reverse(rev, m0, first, 25, Network::Instagram, t)])
        .await;
    let adj = world.entry();
    world
        .append(vec![adjust(
            adj,
            member(1),
            40,
            None,
            t + Duration::days(1),
        )])
        .await;
    let comp = world.entry();
    world
        .append(vec![adjust(
            comp,
            member(1),
            -40,
            Some(adj),
            t + Duration::days(2),
        )])
        .await;
    let c = CampaignId(Uuid::from_u128(0xC1));
    world.append(vec![campaign(c, Some(10), t)]).await;
    for n in 0..3 {
        let entry = world.entry();
        world
            .append(redeem_codeword(
                c,
                entry,
                member(n),
                t + Duration::minutes(n as i64),
            ))
            .await;
    }
    world
        .append(vec![Event::CampaignPaused {
            campaign_id: c,
            by: "manager@brand".into(),
            at: t,
        }])
        .await;
    let r = RewardId(Uuid::from_u128(0xF1));
    world.append(vec![list_reward(r, 20, 5, t)]).await;
    let red = RedemptionId(Uuid::from_u128(0xD1));
    let entry = world.entry();
    world
        .append(redeem_reward(
            r,
            red,
            entry,
            member(3),
            20,
            t + Duration::hours(3),
        ))
        .await;
    let red2 = RedemptionId(Uuid::from_u128(0xD2));
    let entry = world.entry();
    world
        .append(redeem_reward(
            r,
            red2,
            entry,
            member(2),
            20,
            t + Duration::hours(4),
        ))
        .await;
    let entry = world.entry();
    world
        .append(cancel_reward(
            r,
            red2,
            entry,
            member(2),
            20,
            t + Duration::hours(5),
        ))
        .await;
    world
        .append(vec![Event::MemberBlocked {
            member_id: member(4),
            reason: "spam".into(),
            by: "manager@brand".into(),
            at: t,
        }])
        .await;
    world
        .append(unlink(member(5), &telegram_account(5), t))
        .await;
}

/// Runs `statements` as the superuser with every trigger off (as a replica applies changes).
pub async fn past_the_triggers(pool: &PgPool, statements: &[String]) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    for sql in statements {
        sqlx::query(sql).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}
