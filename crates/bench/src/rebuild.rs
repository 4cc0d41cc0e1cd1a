//! W3 projection-rebuild: a log of N events over M members, decided by the real domain (so
//! every event is valid), loaded with COPY with its hash chain computed here; then every read
//! model rebuilt from position 0, then the audit (fold everything, compare every model, check
//! every chain).

use super::round2;
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::campaign::{CampaignState, RedeemCodeword, decide_codeword};
use domain::codeword::Codeword;
use domain::event::{LinkMethod, ReversalReason};
use domain::expiry::{ExpirePoints, ExpiryRules, decide_expiry, decide_warning};
use domain::identity::{IdentityState, decide_link};
use domain::ids::{
    AccountRef, CampaignId, EntryId, MemberId, ProgramId, RedemptionId, RewardId, SeasonId,
};
use domain::member::{Award, AwardLimits, MemberCommand, MemberState};
use domain::network::{ActivityKind, ActivityRef, LinkedAccount, Network};
use domain::points::{Points, PointsDelta};
use domain::program::Rules;
use domain::review::{ReviewDecision, ReviewHeld, ReviewRules, decide_review};
use domain::reward::{
    CancelRedemption, Redeem, RewardState, decide_cancel_redemption, decide_redeem,
};
use domain::season::{
    SeasonBoard, SeasonCommand, SeasonCounts, SeasonPrize, SeasonState, SeasonTerms, decide_prize,
    decide_season,
};
use domain::tier::{EvaluateTier, TierLevel, TierRules, decide_tier};
use domain::{Aggregate, Event};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Instant;
use store::digest::{chain_hash, content_digest};
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Params {
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    #[arg(long, default_value_t = 100_000)]
    pub members: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

const TZ: chrono_tz::Tz = chrono_tz::Europe::Moscow;
const CAMPAIGNS: usize = 20;
/// Share of decisions that register a new member, until all are registered.
const REGISTER_SHARE: f64 = 0.12;
const REWARDS: usize = 10;
/// Rows per COPY (each its own transaction), cut only between decisions.
const ROWS_PER_COPY: usize = 50_000;

pub async fn run(database_url: &str, p: Params) -> anyhow::Result<serde_json::Value> {
    let pool = super::fresh_database(database_url, "loyalty_bench_rebuild").await?;
    let generators = vec![Generator::new(p.events, p.members, p.seed)];
    let loaded = load(generators, &pool).await?.events;
    sqlx::query("ANALYZE events").execute(&pool).await?;
    // Count the peak from here: the generator's memory is not the rebuild's (though what the
    // allocator keeps of it stays in RSS: reported as rss_at_start_mb).
    reset_peak_rss();
    let rss_at_start_mb = super::status_mb("self", "VmRSS:").unwrap_or_default();

    let began = Instant::now();
    let rebuilt = projections::rebuild(&pool, None).await?;
    let rebuild_secs = began.elapsed().as_secs_f64();
    let began = Instant::now();
    let audit = projections::audit::verify(&pool).await?;
    let audit_secs = began.elapsed().as_secs_f64();
    for d in audit.differences.iter().take(5) {
        eprintln!(
            "difference: {} {}: expected {}, found {}",
            d.model, d.key, d.expected, d.actual
        );
    }
    let sizes = sizes(&pool, loaded).await?;
    Ok(json!({
        "workload": "rebuild",
        "sizes": sizes,
        "events": loaded,
        "events_per_s": round2(rebuilt.events as f64 / rebuild_secs),
        "audit_events_per_s": round2(audit.events as f64 / audit_secs),
        "differences": audit.differences_total,
        "peak_rss_mb": super::status_mb("self", "VmHWM:").unwrap_or_default(),
        "rss_at_start_mb": rss_at_start_mb,
        "rebuild_secs": round2(rebuild_secs),
        "audit_secs": round2(audit_secs),
    }))
}

/// What the log and the read models cost on disk: the `events` table's heap, TOAST and each
/// index per event, and every read model (table and indexes) per member, as the rebuild left
/// them (freshly written: no bloat from updates yet).
pub(crate) async fn sizes(pool: &PgPool, events: usize) -> anyhow::Result<serde_json::Value> {
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM balances")
        .fetch_one(pool)
        .await?;
    let per = |bytes: i64, n: i64| round2(bytes as f64 / n.max(1) as f64);
    let (heap, toast): (i64, i64) = sqlx::query_as(
        "SELECT pg_relation_size('events'), pg_table_size('events') - pg_relation_size('events')",
    )
    .fetch_one(pool)
    .await?;
    let indexes: Vec<(String, i64)> = sqlx::query_as(
        "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index \
         WHERE indrelid = 'events'::regclass ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    let events = events as i64;
    let mut index_bytes = serde_json::Map::new();
    for (name, bytes) in &indexes {
        index_bytes.insert(name.clone(), json!(per(*bytes, events)));
    }
    let mut models = serde_json::Map::new();
    for projection in projections::Projection::ALL {
        for table in projection.tables() {
            let bytes: i64 = sqlx::query_scalar("SELECT pg_total_relation_size($1::regclass)")
                .bind(*table)
                .fetch_one(pool)
                .await?;
            models.insert((*table).to_string(), json!(per(bytes, members)));
        }
    }
    let index_total: i64 = indexes.iter().map(|(_, b)| b).sum();
    Ok(json!({
        "members": members,
        "events_heap_bytes_per_event": per(heap, events),
        "events_toast_bytes_per_event": per(toast, events),
        "events_index_bytes_per_event": index_bytes,
        "events_total_bytes_per_event": per(heap + toast + index_total, events),
        "read_model_bytes_per_member": models,
    }))
}

/// Resets VmHWM to the current RSS (Linux 4.0+); harmless where unsupported.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Decides a realistic history with the domain's own deciders; rejected commands are skipped.
pub(crate) struct Generator {
    /// Events to decide (a few more, as decisions are not split).
    quota: usize,
    rng: StdRng,
    program: ProgramId,
    rules: Rules,
    members: Vec<MemberState>,
    target_members: usize,
    campaigns: Vec<CampaignState>,
    rewards: Vec<RewardState>,
    recent_awards: Vec<(usize, ActivityRef)>,
    recent_adjustments: Vec<(usize, EntryId)>,
    /// Awards held for review, waiting for a decision.
    recent_held: Vec<(usize, EntryId)>,
    recent_redemptions: Vec<(usize, usize, RedemptionId)>,
    /// The weekly season running, with its board folded from every event generated.
    season: Option<(SeasonState, SeasonBoard)>,
    heads: HashMap<String, (i64, [u8; 32])>,
    opened: bool,
    now: DateTime<Utc>,
    step: Duration,
    next_id: u64,
}

impl Generator {
    /// One program's history: about `events` events over `members` members.
    pub(crate) fn new(events: usize, members: usize, seed: u64) -> Self {
        let start = Utc
            .with_ymd_and_hms(2026, 10, 1, 6, 0, 0)
            .single()
            .unwrap_or_default();
        // Thirty days of activity, evenly spread.
        let step_ms = (30 * 24 * 3600 * 1000 / events.max(1) as i64).max(1);
        let mut rng = StdRng::seed_from_u64(seed);
        let program = ProgramId(Uuid::from_u128(rng.r#gen()));
        Self {
            quota: events,
            rng,
            program,
            // Half the campaigns pay over the review threshold, so their bonuses are held; the
            // most active members climb a two-step ladder and earn its multiplier.
            rules: Rules {
                review: ReviewRules {
                    codeword_over: Some(100),
                    ..ReviewRules::default()
                },
                tiers: TierRules {
                    window_days: 0,
                    levels: vec![
                        TierLevel {
                            name: "Silver".into(),
                            threshold: 300,
                            multiplier_percent: 110,
                        },
                        TierLevel {
                            name: "Gold".into(),
                            threshold: 1_500,
                            multiplier_percent: 125,
                        },
                    ],
                },
                // Points expire two weeks after their credit (warned three days ahead): the
                // month's second half expires what the first half left unspent.
                expiry: ExpiryRules {
                    after_days: 14,
                    warn_days: 3,
                },
                ..Rules::standard()
            },
            members: Vec::with_capacity(members),
            target_members: members,
            campaigns: Vec::new(),
            rewards: Vec::new(),
            recent_awards: Vec::new(),
            recent_adjustments: Vec::new(),
            recent_held: Vec::new(),
            recent_redemptions: Vec::new(),
            season: None,
            heads: HashMap::new(),
            opened: false,
            now: start,
            step: Duration::milliseconds(step_ms),
            next_id: 0,
        }
    }

    fn id(&mut self) -> Uuid {
        self.next_id += 1;
        Uuid::from_u64_pair(self.rng.r#gen(), self.next_id)
    }

    /// A member, skewed: a few are very active, most rarely.
    fn someone(&mut self) -> Option<usize> {
        let n = self.members.len();
        (n > 0).then(|| ((n as f64) * self.rng.r#gen::<f64>().powf(1.6)) as usize % n)
    }

    /// The next decision's events: the program's opening first.
    fn next_events(&mut self) -> Vec<Event> {
        let events = if self.opened {
            self.next_decision()
        } else {
            self.opened = true;
            self.opening()
        };
        if let Some((_, board)) = &mut self.season {
            for event in &events {
                board.apply(event);
            }
        }
        events
    }

    /// The program, its rules, campaigns and rewards.
    fn opening(&mut self) -> Vec<Event> {
        let at = self.now;
        let mut events = vec![
            Event::ProgramCreated {
                program_id: self.program,
                name: "Bench".into(),
                time_zone: TZ,
                at: at.into(),
            },
            Event::RulesChanged {
                program_id: self.program,
                version: 1,
                rules: self.rules.clone(),
                by: "admin".into(),
                at: at.into(),
            },
        ];
        for i in 0..CAMPAIGNS {
            let created = Event::CampaignCreated {
                campaign_id: CampaignId(self.id()),
                program_id: self.program,
                name: format!("Campaign {i}"),
                codeword: Codeword::parse(&format!("WORD{i}"))
                    .unwrap_or_else(|_| unreachable_codeword()),
                points: if i % 2 == 0 { 50 } else { 300 },
                starts_at: at.into(),
                ends_at: (at + Duration::days(40)).into(),
                total_cap: Some(2_000),
                networks: Network::ALL.to_vec(),
                target_post: None,
                by: "manager".into(),
                at: at.into(),
                description: Some("Find the word in our posts".into()),
            };
            self.campaigns
                .push(CampaignState::default().apply(&created));
            events.push(created);
        }
        for i in 0..REWARDS {
            let listed = Event::RewardListed {
                reward_id: RewardId(self.id()),
                program_id: self.program,
                title: format!("Reward {i}"),
                cost: 50 + 50 * i as i64,
                stock: 5_000,
                by: "manager".into(),
                at: at.into(),
                coupon_pool: false,
                return_codes: false,
                low_stock_alert: None,
            };
            self.rewards.push(RewardState::default().apply(&listed));
            events.push(listed);
        }
        events.extend(self.schedule_season());
        events
    }

    /// A week-long season from now (every activity, no adjustments, settling an hour) with
    /// prizes for the first ten ranks.
    fn schedule_season(&mut self) -> Vec<Event> {
        let season_id = SeasonId(self.id());
        let prize = |from_rank, to_rank, points| SeasonPrize {
            from_rank,
            to_rank,
            points,
        };
        let terms = SeasonTerms {
            name: "Weekly cup".into(),
            starts_at: self.now.into(),
            ends_at: (self.now + Duration::days(7)).into(),
            settle_minutes: 60,
            counts: SeasonCounts::default(),
            prizes: vec![prize(1, 1, 500), prize(2, 3, 200), prize(4, 10, 50)],
        };
        let command = SeasonCommand::Schedule {
            program_id: self.program,
            season_id,
            terms: terms.clone(),
            by: "manager".into(),
            at: self.now.into(),
        };
        let Ok(events) = decide_season(&SeasonState::default(), command) else {
            return Vec::new();
        };
        let state = events
            .iter()
            .fold(SeasonState::default(), |s, e| s.apply(e));
        self.season = Some((state, SeasonBoard::new(season_id, terms)));
        events
    }

    /// The history's last decisions: the running season ended at its cutoff (and the job's
    /// slack), as the season job of an installation that kept running did, since that cutoff
    /// falls after the month's activity. Without them, the first `serve` on the log would end
    /// every program's season at once (reading a week of each program's log) while measured.
    fn closing(&mut self) -> Vec<Event> {
        let Some(cutoff) = self
            .season
            .as_ref()
            .and_then(|(state, _)| state.terms.as_ref())
            .map(|terms| terms.cutoff().get())
        else {
            return Vec::new();
        };
        self.now = self.now.max(cutoff + app::seasons::CLOCK_SLACK);
        self.end_season().unwrap_or_default()
    }

    /// Once the running season's cutoff has passed (and the job's slack): its end, its prizes
    /// (each followed by the tier move it causes) and its settlement.
    fn end_season(&mut self) -> Option<Vec<Event>> {
        let (state, board) = self.season.as_ref()?;
        let cutoff = state.terms.as_ref()?.cutoff().get();
        if self.now < cutoff + app::seasons::CLOCK_SLACK {
            return None;
        }
        let at = self.now.into();
        let command = SeasonCommand::End {
            board: Box::new(board.clone()),
            at,
        };
        let mut events = decide_season(state, command).ok()?;
        let ended = events.iter().fold(state.clone(), |s, e| s.apply(e));
        let (mut paid, mut withheld) = (0, Vec::new());
        for standing in ended.standings.iter().filter(|s| s.prize > 0) {
            let member = standing.member_id;
            let i = self
                .members
                .iter()
                .position(|m| m.member_id == Some(member))?;
            let entry = EntryId(self.id());
            match decide_prize(&ended, &self.members[i], member, entry, at) {
                Ok(prize) => {
                    self.apply_member(i, &prize);
                    events.extend(self.placed(i, prize));
                    paid += 1;
                }
                Err(_) => withheld.push(member),
            }
        }
        let settle = SeasonCommand::Settle { paid, withheld, at };
        events.extend(decide_season(&ended, settle).ok()?);
        self.season = None;
        Some(events)
    }

    /// The next accepted decision: a mix of registrations, links, awards, reversals,
    /// adjustments, codewords and reward redemptions.
    fn next_decision(&mut self) -> Vec<Event> {
        loop {
            self.now += self.step;
            let registering = self.members.len() < self.target_members
                && (self.members.is_empty() || self.rng.gen_bool(REGISTER_SHARE));
            // Per mille of the other decisions (links, codewords and redemptions are two events).
            let decided = if let Some(mut ended) = self.end_season() {
                ended.extend(self.schedule_season());
                Some(ended)
            } else if registering {
                self.register()
            } else {
                match self.rng.gen_range(0..1000) {
                    0..=59 => self.link(),
                    60..=109 => self.reverse(),
                    110..=124 => self.adjust(),
                    125..=154 => self.codeword(),
                    155..=174 => self.redeem(),
                    175..=177 => self.cancel(),
                    178 => self.block(),
                    179..=183 => self.review(),
                    184..=199 => self.expire(),
                    _ => self.award(),
                }
            };
            if let Some(events) = decided.filter(|e| !e.is_empty()) {
                return events;
            }
        }
    }

    fn apply_member(&mut self, i: usize, events: &[Event]) {
        let state = std::mem::take(&mut self.members[i]);
        self.members[i] = events.iter().fold(state, |s, e| s.apply(e));
    }

    /// `events` of member `i`, followed by the tier move they cause, as the tier keeper would
    /// record it just after.
    fn placed(&mut self, i: usize, mut events: Vec<Event>) -> Vec<Event> {
        let command = EvaluateTier {
            tiers: self.rules.tiers.clone(),
            rule_version: 1,
            at: self.now.into(),
        };
        if let Ok(moved) = decide_tier(&self.members[i], command) {
            self.apply_member(i, &moved);
            events.extend(moved);
        }
        events
    }

    fn register(&mut self) -> Option<Vec<Event>> {
        let member_id = MemberId(self.id());
        let events = MemberState::default()
            .decide(MemberCommand::Register {
                member_id,
                program_id: self.program,
                at: self.now.into(),
            })
            .ok()?;
        self.members.push(MemberState::default());
        self.apply_member(self.members.len() - 1, &events);
        Some(events)
    }

    fn link(&mut self) -> Option<Vec<Event>> {
        let i = self.someone()?;
        let network = Network::ALL[self.rng.gen_range(0..3)];
        let identity = LinkedAccount {
            network,
            account: AccountRef(self.id()),
        };
        let events = decide_link(
            &IdentityState::default(),
            &self.members[i],
            self.program,
            identity,
            LinkMethod::Code,
            self.rules.relink_cooldown(),
            self.now.into(),
        )
        .ok()?;
        self.apply_member(i, &events);
        Some(events)
    }

    fn award(&mut self) -> Option<Vec<Event>> {
        let i = self.someone()?;
        let network = Network::ALL[self.rng.gen_range(0..3)];
        let kinds = [
            ActivityKind::Comment,
            ActivityKind::Reaction,
            ActivityKind::Reaction,
            ActivityKind::PollVote,
            ActivityKind::Mention,
        ];
        let kind = kinds[self.rng.gen_range(0..kinds.len())];
        let rule = self.rules.rule_for(network, kind)?.clone();
        let activity = ActivityRef {
            network,
            kind,
            reference: self.id().simple().to_string(),
        };
        let occurred_at = self.now - Duration::seconds(self.rng.gen_range(0..120));
        let award = Award {
            entry_id: EntryId(self.id()),
            activity: activity.clone(),
            points: Points::new(rule.points).ok()?,
            rule_version: 1,
            campaign_id: None,
            occurred_at: occurred_at.into(),
            limits: AwardLimits {
                time_zone: TZ,
                daily_cap: self.rules.daily_cap,
                daily_cap_per_network: self.rules.daily_cap_per_network,
                cooldown_seconds: rule.cooldown_seconds,
                review: self.rules.review.clone(),
            },
            at: self.now.into(),
        };
        let events = self.members[i].decide(MemberCommand::Award(award)).ok()?;
        self.apply_member(i, &events);
        remember(&mut self.recent_awards, (i, activity), &mut self.rng);
        Some(self.placed(i, events))
    }

    fn reverse(&mut self) -> Option<Vec<Event>> {
        let (i, activity) = pick(&self.recent_awards, &mut self.rng)?;
        let command = MemberCommand::Reverse {
            entry_id: EntryId(self.id()),
            activity,
            reason: ReversalReason::Deleted,
            at: self.now.into(),
        };
        let events = self.members[i].decide(command).ok()?;
        self.apply_member(i, &events);
        Some(self.placed(i, events))
    }

    fn adjust(&mut self) -> Option<Vec<Event>> {
        if self.rng.gen_bool(0.3)
            && let Some((i, target)) = pick(&self.recent_adjustments, &mut self.rng)
        {
            let command = MemberCommand::Compensate {
                entry_id: EntryId(self.id()),
                target,
                reason: "correction".into(),
                note: None,
                by: "manager".into(),
                at: self.now.into(),
            };
            let events = self.members[i].decide(command).ok()?;
            self.apply_member(i, &events);
            return Some(self.placed(i, events));
        }
        let i = self.someone()?;
        let entry_id = EntryId(self.id());
        let delta = PointsDelta::new(self.rng.gen_range(-30..=100)).ok()?;
        let command = MemberCommand::Adjust {
            entry_id,
            delta,
            reason: "goodwill".into(),
            note: None,
            by: "manager".into(),
            at: self.now.into(),
        };
        let events = self.members[i].decide(command).ok()?;
        self.apply_member(i, &events);
        remember(&mut self.recent_adjustments, (i, entry_id), &mut self.rng);
        Some(self.placed(i, events))
    }

    fn codeword(&mut self) -> Option<Vec<Event>> {
        let i = self.someone()?;
        let c = self.rng.gen_range(0..self.campaigns.len());
        let command = RedeemCodeword {
            entry_id: EntryId(self.id()),
            network: Network::ALL[self.rng.gen_range(0..3)],
            reference: self.id().simple().to_string(),
            target: None,
            occurred_at: self.now.into(),
            time_zone: TZ,
            review: self.rules.review.clone(),
            at: self.now.into(),
        };
        let events = decide_codeword(&self.campaigns[c], &self.members[i], command).ok()?;
        for event in &events {
            if let Event::AwardHeld { entry_id, .. } = event {
                remember(&mut self.recent_held, (i, *entry_id), &mut self.rng);
            }
        }
        self.campaigns[c] = events
            .iter()
            .fold(std::mem::take(&mut self.campaigns[c]), |s, e| s.apply(e));
        self.apply_member(i, &events);
        Some(self.placed(i, events))
    }

    /// A manager approves (seven in ten) or rejects a held award.
    /// The expiry job looking at a member: their due lots expire, and they are warned of what
    /// expires soon.
    fn expire(&mut self) -> Option<Vec<Event>> {
        let i = self.someone()?;
        let command = ExpirePoints {
            rules: self.rules.expiry,
            rule_version: 1,
            at: self.now.into(),
        };
        let mut events = decide_expiry(&self.members[i], command.clone()).ok()?;
        self.apply_member(i, &events);
        let warned = decide_warning(&self.members[i], &command).ok()?;
        self.apply_member(i, &warned);
        events.extend(warned);
        Some(events)
    }

    fn review(&mut self) -> Option<Vec<Event>> {
        let (i, award) = pick(&self.recent_held, &mut self.rng)?;
        let decision = if self.rng.gen_bool(0.7) {
            ReviewDecision::Approve
        } else {
            ReviewDecision::Reject {
                reason: "not a real member".into(),
            }
        };
        let command = ReviewHeld {
            award,
            decision,
            by: "manager".into(),
            at: self.now.into(),
        };
        let events = decide_review(&self.members[i], None, command).ok()?;
        self.apply_member(i, &events);
        Some(self.placed(i, events))
    }

    fn redeem(&mut self) -> Option<Vec<Event>> {
        let i = self.someone()?;
        let r = self.rng.gen_range(0..self.rewards.len());
        let redemption_id = RedemptionId(self.id());
        let command = Redeem {
            entry_id: EntryId(self.id()),
            redemption_id,
            coupon_code: format!("C{:08X}", self.rng.r#gen::<u32>()),
            at: self.now.into(),
        };
        let events = decide_redeem(&self.rewards[r], &self.members[i], command).ok()?;
        self.rewards[r] = events
            .iter()
            .fold(std::mem::take(&mut self.rewards[r]), |s, e| s.apply(e));
        self.apply_member(i, &events);
        remember(
            &mut self.recent_redemptions,
            (i, r, redemption_id),
            &mut self.rng,
        );
        Some(events)
    }

    fn cancel(&mut self) -> Option<Vec<Event>> {
        let (i, r, redemption_id) = pick(&self.recent_redemptions, &mut self.rng)?;
        let command = CancelRedemption {
            entry_id: EntryId(self.id()),
            redemption_id,
            reason: "out of stock".into(),
            by: "manager".into(),
            at: self.now.into(),
        };
        let events = decide_cancel_redemption(&self.rewards[r], &self.members[i], command).ok()?;
        self.rewards[r] = events
            .iter()
            .fold(std::mem::take(&mut self.rewards[r]), |s, e| s.apply(e));
        self.apply_member(i, &events);
        Some(events)
    }

    fn block(&mut self) -> Option<Vec<Event>> {
        let i = self.someone()?;
        let command = if self.members[i].blocked {
            MemberCommand::Unblock {
                by: "manager".into(),
                at: self.now.into(),
            }
        } else {
            MemberCommand::Block {
                reason: "spam".into(),
                by: "manager".into(),
                at: self.now.into(),
            }
        };
        let events = self.members[i].decide(command).ok()?;
        self.apply_member(i, &events);
        Some(events)
    }

    /// One COPY text row, with the stream's next version and hash chain link.
    fn encode(&mut self, event: &Event, out: &mut Vec<u8>) -> anyhow::Result<()> {
        use std::io::Write;
        let stream = event.stream().to_string();
        let event_id = self.id();
        let payload = serde_json::to_value(event)?;
        let digest = content_digest(
            event_id,
            event.event_type(),
            Event::SCHEMA_VERSION,
            &payload,
        );
        let (version, previous) = self
            .heads
            .get(&stream)
            .map_or((0, None), |(v, h)| (*v, Some(*h)));
        let hash = chain_hash(
            previous.as_ref().map_or(&[][..], |h| &h[..]),
            version + 1,
            &digest,
        );
        self.heads.insert(stream.clone(), (version + 1, hash));
        let at = self
            .now
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let payload = payload.to_string().replace('\\', "\\\\");
        writeln!(
            out,
            "{}\t{stream}\t{}\t{event_id}\t{}\t{}\t{payload}\t{{}}\t{at}\t\\\\x{}",
            self.program.0,
            version + 1,
            event.event_type(),
            Event::SCHEMA_VERSION,
            hex(&hash)
        )?;
        Ok(())
    }
}

/// What [`load`] wrote: events, and members registered.
pub(crate) struct Loaded {
    pub(crate) events: usize,
    pub(crate) members: usize,
}

/// Loads the histories of `generators`, one program each, one program after another: each
/// generator keeps every member's full state (the deciders need it), so only one program's is
/// in memory at a time. A program's events run through the same month as the others', and a
/// decision's events are never split (they are one commit in a real log), so a program may end
/// a few events past its quota.
pub(crate) async fn load(generators: Vec<Generator>, pool: &PgPool) -> anyhow::Result<Loaded> {
    let mut conn = pool.acquire().await?;
    let mut buffer = Vec::with_capacity(ROWS_PER_COPY * 400);
    let mut loaded = Loaded {
        events: 0,
        members: 0,
    };
    let mut rows = 0;
    for mut g in generators {
        let mut produced = 0;
        while produced < g.quota {
            for event in g.next_events() {
                g.encode(&event, &mut buffer)?;
                produced += 1;
                rows += 1;
            }
            if rows >= ROWS_PER_COPY {
                copy(&mut conn, &mut buffer).await?;
                rows = 0;
            }
        }
        for event in g.closing() {
            g.encode(&event, &mut buffer)?;
            produced += 1;
            rows += 1;
        }
        loaded.events += produced;
        loaded.members += g.members.len();
    }
    if !buffer.is_empty() {
        copy(&mut conn, &mut buffer).await?;
    }
    Ok(loaded)
}

fn unreachable_codeword() -> Codeword {
    Codeword {
        display: "BENCH".into(),
        skeleton: "bench".into(),
    }
}

/// Keeps a bounded sample of recent items to correct later (reversals, compensations).
fn remember<T>(items: &mut Vec<T>, item: T, rng: &mut StdRng) {
    const KEEP: usize = 10_000;
    if items.len() < KEEP {
        items.push(item);
    } else {
        let slot = rng.gen_range(0..KEEP);
        items[slot] = item;
    }
}

fn pick<T: Clone>(items: &[T], rng: &mut StdRng) -> Option<T> {
    (!items.is_empty()).then(|| items[rng.gen_range(0..items.len())].clone())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn copy(conn: &mut sqlx::PgConnection, buffer: &mut Vec<u8>) -> anyhow::Result<()> {
    super::copy_rows(
        conn,
        "COPY events (program_id, stream_id, stream_version, event_id, event_type, schema_version, \
         payload, metadata, recorded_at, hash) FROM STDIN",
        buffer,
    )
    .await?;
    buffer.clear();
    Ok(())
}
