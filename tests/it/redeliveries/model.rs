//! The property: whatever sequence of adds, removals and re-adds a member makes (likes,
//! reactions, joins, poll votes; comments posted, deleted and restored), and wherever the
//! platforms deliver any of those deliveries again (same delivery id), the ledger is the
//! ledger of the same sequence delivered once each, and the balance is the model's.

use crate::harness::{TG_CHANNEL, TG_GROUP, VK_GROUP, fixture};
use crate::helpers::manager;
use app::ingest::Ingest;
use app::{Ledger, ProgramContext};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::StreamId;
use domain::ids::ProgramId;
use domain::member::MemberState;
use domain::network::{ExternalIdentity, Network};
use domain::program::Rules;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::HashMap;
use store::Metadata;
use uuid::Uuid;

const VK_USER: i64 = 715_009_001;
const TG_USER: i64 = 5_009_000_001;
const POLL: &str = "5219000000000000001";

/// Something a member can do and undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Slot {
    VkLike(u8),
    VkJoin,
    TgReaction(u8),
    TgJoin,
    TgPollVote,
    VkComment(u8),
}

impl Slot {
    fn points(self) -> i64 {
        match self {
            Slot::VkLike(_) | Slot::TgReaction(_) => 2,
            Slot::VkJoin | Slot::TgJoin => 50,
            Slot::TgPollVote => 5,
            Slot::VkComment(_) => 10,
        }
    }

    fn network(self) -> Network {
        match self {
            Slot::VkLike(_) | Slot::VkJoin | Slot::VkComment(_) => Network::Vk,
            _ => Network::Telegram,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Like, react, join, vote; post a comment.
    Give,
    /// Unlike, remove the reaction, leave, retract the vote; delete a comment.
    Take,
    /// Restore a deleted comment (for the others: give again).
    Restore,
}

#[derive(Debug, Clone)]
enum Step {
    /// A new delivery.
    New(Slot, Op),
    /// The n-th new delivery so far (modulo their number), delivered again.
    Again(usize),
}

fn slot() -> impl Strategy<Value = Slot> {
    prop_oneof![
        (0u8..2).prop_map(Slot::VkLike),
        Just(Slot::VkJoin),
        (0u8..2).prop_map(Slot::TgReaction),
        Just(Slot::TgJoin),
        Just(Slot::TgPollVote),
        (0u8..2).prop_map(Slot::VkComment),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (slot(), prop_oneof![Just(Op::Give), Just(Op::Take), Just(Op::Restore)])
            .prop_map(|(s, o)| Step::New(s, o)),
        2 => any::<usize>().prop_map(Step::Again),
    ]
}

/// One delivery: which new delivery it is (its id), what it does, and when it happened.
#[derive(Debug, Clone, Copy)]
struct Delivery {
    number: usize,
    slot: Slot,
    op: Op,
}

/// The deliveries in the order they arrive, with redeliveries resolved to what they repeat.
fn arrivals(steps: &[Step]) -> Vec<Delivery> {
    let mut originals: Vec<Delivery> = Vec::new();
    let mut arrived = Vec::new();
    for step in steps {
        match *step {
            Step::New(slot, op) => {
                let delivery = Delivery {
                    number: originals.len(),
                    slot,
                    op,
                };
                originals.push(delivery);
                arrived.push(delivery);
            }
            Step::Again(pick) if !originals.is_empty() => {
                arrived.push(originals[pick % originals.len()]);
            }
            Step::Again(_) => {}
        }
    }
    arrived
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

/// The platform payload of a delivery, built from the real fixtures.
fn payload(delivery: Delivery) -> (Network, Vec<u8>) {
    let n = delivery.number;
    let when = (base() + Duration::minutes(n as i64 * 2)).timestamp();
    let load = |path: &str| -> Value { serde_json::from_slice(&fixture(path)).unwrap() };
    let vk = |path: &str, object: Value| -> (Network, Vec<u8>) {
        let mut v = load(path);
        v["event_id"] = json!(format!("prop-{n}"));
        v["group_id"] = json!(VK_GROUP.parse::<i64>().unwrap());
        for (key, value) in object.as_object().unwrap() {
            v["object"][key] = value.clone();
        }
        (Network::Vk, serde_json::to_vec(&v).unwrap())
    };
    let tg_user = json!({"id": TG_USER, "is_bot": false, "first_name": "Prop"});
    let telegram = |mut v: Value| -> (Network, Vec<u8>) {
        v["update_id"] = json!(910_000_000 + n as i64);
        (Network::Telegram, serde_json::to_vec(&v).unwrap())
    };
    let give = delivery.op != Op::Take;
    match delivery.slot {
        Slot::VkLike(post) => vk(
            if give {
                "vk/like_add.json"
            } else {
                "vk/like_remove.json"
            },
            json!({"liker_id": VK_USER, "object_id": 100 + i64::from(post)}),
        ),
        Slot::VkJoin if give => vk("vk/group_join.json", json!({"user_id": VK_USER})),
        Slot::VkJoin => vk("vk/group_leave.json", json!({"user_id": VK_USER})),
        Slot::VkComment(id) => {
            let comment = json!({
                "id": 600 + i64::from(id),
                "from_id": VK_USER,
                "post_id": 88,
                "date": base().timestamp() + i64::from(id) * 3600,
                "text": format!("Comment number {id} about the post"),
            });
            match delivery.op {
                Op::Give => vk("vk/wall_reply_new.json", comment),
                Op::Take => vk(
                    "vk/wall_reply_delete.json",
                    json!({"id": 600 + i64::from(id), "deleter_id": VK_USER, "post_id": 88}),
                ),
                Op::Restore => vk("vk/wall_reply_restore.json", comment),
            }
        }
        Slot::TgReaction(message) => {
            let mut v = load("telegram/message_reaction.json");
            let r = &mut v["message_reaction"];
            r["chat"]["id"] = json!(TG_GROUP.parse::<i64>().unwrap());
            r["message_id"] = json!(5000 + i64::from(message));
            r["user"] = tg_user;
            r["date"] = json!(when);
            let emoji = json!([{"type": "emoji", "emoji": "🔥"}]);
            (r["old_reaction"], r["new_reaction"]) = if give {
                (json!([]), emoji)
            } else {
                (emoji, json!([]))
            };
            telegram(v)
        }
        Slot::TgJoin => {
            let mut v = load(if give {
                "telegram/chat_member_joined.json"
            } else {
                "telegram/chat_member_left.json"
            });
            let m = &mut v["chat_member"];
            m["chat"]["id"] = json!(TG_CHANNEL.parse::<i64>().unwrap());
            m["from"] = tg_user.clone();
            m["old_chat_member"]["user"] = tg_user.clone();
            m["new_chat_member"]["user"] = tg_user;
            m["date"] = json!(when);
            telegram(v)
        }
        Slot::TgPollVote => {
            let mut v = load("telegram/poll_answer.json");
            v["poll_answer"]["poll_id"] = json!(POLL);
            v["poll_answer"]["user"] = tg_user;
            v["poll_answer"]["option_ids"] = if give { json!([n % 3]) } else { json!([]) };
            telegram(v)
        }
    }
}

/// What the ledger should say: each slot paid, taken back, or never paid.
fn model_balances(originals: impl Iterator<Item = Delivery>) -> HashMap<Network, i64> {
    #[derive(Clone, Copy, PartialEq)]
    enum Award {
        Paid,
        Reversed,
    }
    let mut awards: HashMap<Slot, Award> = HashMap::new();
    for d in originals {
        let current = awards.get(&d.slot).copied();
        let comment = matches!(d.slot, Slot::VkComment(_));
        let next = match (d.op, current) {
            (Op::Give, None) => Some(Award::Paid),
            (Op::Give, Some(Award::Reversed)) if !comment => Some(Award::Paid),
            (Op::Restore, Some(Award::Reversed)) => Some(Award::Paid),
            (Op::Restore, None) if !comment => Some(Award::Paid),
            (Op::Take, Some(Award::Paid)) => Some(Award::Reversed),
            (_, other) => other,
        };
        if let Some(next) = next {
            awards.insert(d.slot, next);
        }
    }
    let mut balances = HashMap::new();
    for (slot, award) in awards {
        if award == Award::Paid {
            *balances.entry(slot.network()).or_default() += slot.points();
        }
    }
    balances
}

/// A program of its own for each run, so runs in one database do not meet. Ingest is given
/// the program, as the routes give it once they have found it.
async fn program(ledger: &Ledger) -> ProgramContext {
    let program_id = ProgramId(Uuid::new_v4());
    ledger
        .create_program(
            program_id,
            "Prop",
            chrono_tz::Europe::Moscow,
            Rules::standard(),
            &manager(),
        )
        .await
        .unwrap();
    ledger.program(program_id).await.unwrap()
}

/// Delivers each arrival through the adapters and ingest, as the webhook routes do.
async fn deliver(ingest: &Ingest, program: &ProgramContext, arrivals: &[Delivery]) {
    for delivery in arrivals {
        let (network, bytes) = payload(*delivery);
        let (signals, delivery_id) = match network {
            Network::Vk => {
                let callback = adapters::vk::parse(&bytes).unwrap();
                (callback.signals().to_vec(), callback.delivery_key())
            }
            _ => {
                let update = adapters::telegram::parse(&bytes).unwrap();
                let key = update.delivery_key();
                (update.signals, Some(key))
            }
        };
        let metadata = Metadata {
            actor: Some(format!("platform:{network}")),
            delivery_id: delivery_id.map(|key| ingest.accounts().delivery(&key)),
            ..Metadata::default()
        };
        // A delivery is received at the same time in both runs (a redelivery as its first).
        let received_at = base() + Duration::minutes(delivery.number as i64 * 2 + 1);
        for signal in &signals {
            ingest
                .handle(program, signal, metadata.clone(), received_at)
                .await
                .unwrap_or_else(|e| panic!("{delivery:?}: {e}"));
        }
    }
}

/// The program's events in order, every id and digest (keyed per program) replaced by its
/// order of first appearance.
async fn ledger_of(pool: &PgPool, program: ProgramId) -> Vec<(String, Value)> {
    let rows: Vec<(String, Value)> = sqlx::query_as(
        "SELECT event_type, payload FROM events WHERE program_id = $1 \
           AND event_type NOT IN ('ProgramCreated', 'RulesChanged') ORDER BY position",
    )
    .bind(program.0)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut ids: HashMap<String, usize> = HashMap::new();
    rows.into_iter()
        .map(|(kind, mut payload)| {
            relabel(&mut payload, &mut ids);
            (kind, payload)
        })
        .collect()
}

fn is_fingerprint(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn relabel(value: &mut Value, ids: &mut HashMap<String, usize>) {
    match value {
        Value::String(s) if Uuid::parse_str(s).is_ok() || is_fingerprint(s) => {
            let next = ids.len();
            *s = format!("id#{}", ids.entry(s.clone()).or_insert(next));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| relabel(v, ids)),
        Value::Object(map) => map.values_mut().for_each(|v| relabel(v, ids)),
        _ => {}
    }
}

async fn balance(ingest: &Ingest, program: ProgramId, network: Network, user: i64) -> i64 {
    let ledger = ingest.ledger();
    let identity = ExternalIdentity::new(network, "", user.to_string());
    let Some(account) = ingest.accounts().find(program, &identity).await.unwrap() else {
        return 0;
    };
    let Some(member) = ledger.identity_owner(program, &account).await.unwrap() else {
        return 0;
    };
    ledger
        .load::<MemberState>(&StreamId::Member(member))
        .await
        .unwrap()
        .state
        .balance
}

async fn check(
    ledger: &Ledger,
    ingest: &Ingest,
    pool: &PgPool,
    steps: Vec<Step>,
) -> Result<(), TestCaseError> {
    let arrived = arrivals(&steps);
    let mut seen = std::collections::HashSet::new();
    let once: Vec<Delivery> = arrived
        .iter()
        .copied()
        .filter(|d| seen.insert(d.number))
        .collect();
    let with_redeliveries = program(ledger).await;
    let delivered_once = program(ledger).await;
    deliver(ingest, &with_redeliveries, &arrived).await;
    deliver(ingest, &delivered_once, &once).await;

    prop_assert_eq!(
        ledger_of(pool, with_redeliveries.program_id).await,
        ledger_of(pool, delivered_once.program_id).await,
        "arrivals {:?}",
        arrived
    );
    let expected = model_balances(once.iter().copied());
    for (network, user) in [(Network::Vk, VK_USER), (Network::Telegram, TG_USER)] {
        prop_assert_eq!(
            balance(ingest, with_redeliveries.program_id, network, user).await,
            expected.get(&network).copied().unwrap_or(0),
            "{} balance after {:?}",
            network,
            arrived
        );
    }
    Ok(())
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn redeliveries_anywhere_leave_the_ledger_of_the_deliveries_made_once(pool: PgPool) {
    let ledger = Ledger::new(store::EventStore::new(pool.clone()), Default::default());
    let accounts = app::accounts::Accounts::new(pool.clone(), app::config::dev_privacy_keys());
    let ingest = Ingest::new(
        ledger.clone(),
        pool.clone(),
        accounts,
        app::config::dev_secret_box(),
    );
    let handle = tokio::runtime::Handle::current();
    let config = Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    };
    let result = tokio::task::spawn_blocking(move || {
        TestRunner::new(config).run(&proptest::collection::vec(step(), 1..28), |steps| {
            handle.block_on(check(&ledger, &ingest, &pool, steps))
        })
    })
    .await
    .unwrap();
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
