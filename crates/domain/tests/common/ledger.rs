//! A ledger in memory: each step is decided by the real deciders against the states of the
//! streams it touches; accepted events are appended to one log and evolved into those states.
//! A denied step records nothing, exactly as the application service would.

use super::fixtures::*;
use super::steps::Step;
use domain::campaign::{CampaignCommand, CampaignState, NewCampaign};
use domain::codeword::Codeword;
use domain::identity::{IdentityState, RelinkCooldown};
use domain::ids::AccountRef;
use domain::member::{AwardLimits, MemberState};
use domain::network::{ActivityKind, Network};
use domain::points::Points;
use domain::reward::{RewardCommand, RewardState};
use domain::text::RepeatedText;
use domain::{DomainError, Event, StreamId};
use std::collections::BTreeMap;

/// Members 0..MEMBERS take part; all but the last are registered before the first step.
pub const MEMBERS: u8 = 5;

#[derive(Debug, Clone)]
pub struct CampaignSpec {
    pub points: i64,
    pub total_cap: Option<u32>,
    pub networks: Vec<Network>,
    pub starts_minute: i64,
    pub length_minutes: i64,
}

#[derive(Debug, Clone)]
pub struct RewardSpec {
    pub cost: i64,
    pub stock: u32,
}

/// The program a generated history runs in.
#[derive(Debug, Clone)]
pub struct Setup {
    pub limits: AwardLimits,
    /// How the rules treat a text a member was already paid for.
    pub repeats: RepeatedText,
    /// How long an account given up by one member stays closed to the others.
    pub relink_cooldown: RelinkCooldown,
    pub campaigns: Vec<CampaignSpec>,
    pub rewards: Vec<RewardSpec>,
}

pub struct Ledger {
    pub setup: Setup,
    pub log: Vec<Event>,
    pub members: BTreeMap<u8, MemberState>,
    pub campaigns: BTreeMap<u8, CampaignState>,
    pub rewards: BTreeMap<u8, RewardState>,
    pub identities: BTreeMap<AccountRef, IdentityState>,
    pub(super) next_id: u64,
    pub(super) steps_run: i64,
}

impl Ledger {
    /// Lists the campaigns and rewards of `setup` and registers all members but the last.
    pub fn new(setup: Setup) -> Self {
        let mut ledger = Ledger {
            setup,
            log: Vec::new(),
            members: BTreeMap::new(),
            campaigns: BTreeMap::new(),
            rewards: BTreeMap::new(),
            identities: BTreeMap::new(),
            next_id: 0,
            steps_run: 0,
        };
        for (n, spec) in ledger.setup.campaigns.clone().into_iter().enumerate() {
            let n = u8::try_from(n).expect("few campaigns");
            let events = CampaignState::default()
                .decide(CampaignCommand::Create(Box::new(new_campaign(n, spec))))
                .expect("a valid campaign");
            ledger.record(&events);
        }
        for (n, spec) in ledger.setup.rewards.clone().into_iter().enumerate() {
            let n = u8::try_from(n).expect("few rewards");
            let events = RewardState::default()
                .decide(RewardCommand::List {
                    reward_id: reward(n),
                    program_id: program(),
                    title: format!("reward {n}"),
                    cost: Points::new(spec.cost).expect("a positive cost"),
                    stock: spec.stock,
                    terms: Default::default(),
                    by: "manager".into(),
                    at: t0(),
                })
                .expect("a valid reward");
            ledger.record(&events);
        }
        for n in 0..MEMBERS - 1 {
            ledger
                .run(&Step::Register { member: n })
                .expect("a new member registers");
        }
        ledger
    }

    pub fn run_all(setup: Setup, steps: &[Step]) -> Self {
        let mut ledger = Ledger::new(setup);
        for step in steps {
            let _ = ledger.run(step);
        }
        ledger
    }

    /// Decides one step and, when accepted, records its events.
    pub fn run(&mut self, step: &Step) -> Result<Vec<Event>, DomainError> {
        self.steps_run += 1;
        let events = self.decide(step)?;
        self.record(&events);
        Ok(events)
    }

    /// Appends events and evolves the state of the stream each one names.
    pub fn record(&mut self, events: &[Event]) {
        for event in events {
            match event.stream() {
                StreamId::Member(id) => evolve_in(&mut self.members, member_index(id), event),
                StreamId::Campaign(id) => evolve_in(&mut self.campaigns, index_of(id.0), event),
                StreamId::Reward(id) => evolve_in(&mut self.rewards, index_of(id.0), event),
                StreamId::Identity(_, identity) => evolve_in(&mut self.identities, identity, event),
                // The generated histories run no raffles or seasons (their own laws do).
                StreamId::Program(_) | StreamId::Raffle(_) | StreamId::Season(_) => {}
            }
            self.log.push(event.clone());
        }
    }

    pub fn member(&self, n: u8) -> MemberState {
        self.members.get(&n).cloned().unwrap_or_default()
    }

    pub fn campaign(&self, n: u8) -> CampaignState {
        self.campaigns.get(&n).cloned().unwrap_or_default()
    }

    pub fn reward(&self, n: u8) -> RewardState {
        self.rewards.get(&n).cloned().unwrap_or_default()
    }

    pub fn identity(&self, identity: &AccountRef) -> IdentityState {
        self.identities.get(identity).cloned().unwrap_or_default()
    }
}

/// The ledger entry id of a balance-changing event.
pub fn entry_id_of(event: &Event) -> Option<domain::ids::EntryId> {
    match event {
        Event::PointsAwarded { entry_id, .. }
        | Event::PointsReversed { entry_id, .. }
        | Event::AwardRestored { entry_id, .. }
        | Event::PointsAdjusted { entry_id, .. }
        | Event::RewardRedeemed { entry_id, .. }
        | Event::RedemptionCancelled { entry_id, .. } => Some(*entry_id),
        Event::HeldAwardApproved { award_entry_id, .. } => Some(*award_entry_id),
        _ => None,
    }
}

fn evolve_in<K: Ord, S: domain::Aggregate>(states: &mut BTreeMap<K, S>, key: K, event: &Event) {
    let state = states.entry(key).or_default();
    *state = std::mem::take(state).apply(event);
}

/// The pool index of an id made by the fixtures (its low byte).
fn index_of(id: uuid::Uuid) -> u8 {
    (id.as_u128() & 0xff) as u8
}

fn member_index(id: domain::ids::MemberId) -> u8 {
    index_of(id.0)
}

fn new_campaign(n: u8, spec: CampaignSpec) -> NewCampaign {
    NewCampaign {
        campaign_id: campaign(n),
        program_id: program(),
        name: format!("campaign {n}"),
        codeword: Codeword::parse(&format!("СЕКРЕТ{n}")).expect("a valid codeword"),
        points: Points::new(spec.points).expect("positive points"),
        starts_at: minutes(spec.starts_minute),
        ends_at: minutes(spec.starts_minute + spec.length_minutes),
        total_cap: spec.total_cap,
        networks: spec.networks,
        target_post: None,
        description: None,
        by: "manager".into(),
        at: t0(),
    }
}

/// Activity kinds that earn by the rules (codewords come through campaigns).
pub const ACTIVITY_KINDS: [ActivityKind; 3] = [
    ActivityKind::Comment,
    ActivityKind::Reaction,
    ActivityKind::Repost,
];
