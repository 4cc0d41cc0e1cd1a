//! Named ids, times and commands, so a test reads as the situation it sets up.

use chrono::{Duration, TimeZone, Utc};
use domain::Event;
use domain::StreamId;
use domain::Timestamp;
use domain::aggregate::Aggregate;
use domain::ids::AccountRef;
use domain::ids::{CampaignId, EntryId, MemberId, ProgramId, RedemptionId, RewardId};
use domain::member::{Award, AwardLimits};
use domain::network::{ActivityKind, ActivityRef, LinkedAccount, Network};
use domain::points::Points;
use domain::privacy::PrivacyKeys;
use domain::text::TextFingerprint;
use uuid::Uuid;

pub fn program() -> ProgramId {
    ProgramId(Uuid::from_u128(0x0001))
}

pub fn member(n: u8) -> MemberId {
    MemberId(Uuid::from_u128(0x1000 + u128::from(n)))
}

pub fn campaign(n: u8) -> CampaignId {
    CampaignId(Uuid::from_u128(0x2000 + u128::from(n)))
}

pub fn reward(n: u8) -> RewardId {
    RewardId(Uuid::from_u128(0x3000 + u128::from(n)))
}

pub fn entry(n: u64) -> EntryId {
    EntryId(Uuid::from_u128(0x4000_0000 + u128::from(n)))
}

pub fn redemption(n: u64) -> RedemptionId {
    RedemptionId(Uuid::from_u128(0x5000_0000 + u128::from(n)))
}

/// An account on a network; `n` picks the network too, so accounts spread over all three.
pub fn account(n: u8) -> LinkedAccount {
    LinkedAccount {
        network: Network::ALL[usize::from(n) % 3],
        account: AccountRef(Uuid::from_u128(0xacc0_0000 + u128::from(n))),
    }
}

/// Friday 2025-03-28 00:00 UTC: the generated days span Europe's switch to summer time.
pub fn t0() -> Timestamp {
    Timestamp::new(
        Utc.with_ymd_and_hms(2025, 3, 28, 0, 0, 0)
            .single()
            .expect("a valid instant"),
    )
}

pub fn minutes(m: i64) -> Timestamp {
    t0() + Duration::minutes(m)
}

pub fn activity(network: Network, kind: ActivityKind, reference: &str) -> ActivityRef {
    ActivityRef {
        network,
        kind,
        reference: reference.to_string(),
    }
}

pub fn comment(reference: &str) -> ActivityRef {
    activity(Network::Vk, ActivityKind::Comment, reference)
}

pub fn points(n: i64) -> Points {
    Points::new(n).expect("positive points")
}

pub fn no_limits() -> AwardLimits {
    AwardLimits {
        time_zone: chrono_tz::UTC,
        daily_cap: None,
        daily_cap_per_network: None,
        cooldown_seconds: 0,
        review: Default::default(),
    }
}

/// An award of `n` points for `activity` at `occurred_at`, with no caps or cooldowns.
pub fn award(entry_id: EntryId, activity: ActivityRef, n: i64, occurred_at: Timestamp) -> Award {
    Award {
        entry_id,
        activity,
        points: points(n),
        rule_version: 1,
        campaign_id: None,
        occurred_at,
        limits: no_limits(),
        at: occurred_at,
    }
}

/// Comments as members type them: each pair is one text to the rules (case, spacing,
/// punctuation and look-alike letters aside), and no two pairs are.
pub const TEXTS: [&str; 6] = [
    "Nice post!",
    "nice   POST",
    "Отличный пост",
    "ОТЛИЧНЫЙ пост!!!",
    "🔥🔥",
    "🔥 🔥",
];

/// The fingerprint of `TEXTS[n]` (taken modulo its length).
pub fn text_fingerprint(n: u8) -> TextFingerprint {
    fingerprint(TEXTS[usize::from(n) % TEXTS.len()])
}

/// The fingerprint of `text` under the tests' installation key, in the tests' program.
pub fn fingerprint(text: &str) -> TextFingerprint {
    PrivacyKeys::derive(&[3; 32])
        .text(program(), text)
        .expect("some text")
}

/// The events of one stream, in log order.
pub fn stream_of<'a>(log: &'a [Event], stream: &StreamId) -> Vec<&'a Event> {
    log.iter().filter(|e| &e.stream() == stream).collect()
}

/// Folds one stream of the log from scratch.
pub fn fold_stream<S: Aggregate>(log: &[Event], stream: &StreamId) -> S {
    S::fold(stream_of(log, stream))
}
