//! Codeword campaigns: a secret word in a comment pays once per member, up to a total cap.
//! Redeeming spans two streams (campaign and member), appended together.

use crate::codeword::Codeword;
use crate::error::DomainError;
use crate::event::{Event, ManagerId};
use crate::ids::{CampaignId, EntryId, ProgramId};
use crate::member::{Award, AwardLimits, MemberState};
use crate::network::{ActivityKind, ActivityRef, Network};
use crate::points::Points;
use crate::time::Timestamp;
use std::collections::BTreeSet;

/// Where a campaign is in its life; only `Active` campaigns pay, and only inside their window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CampaignStatus {
    /// Not created yet (the state of an empty stream).
    #[default]
    Draft,
    /// Created or resumed: pays inside its window.
    Active,
    /// Pays nothing until resumed.
    Paused,
    /// Closed for good.
    Ended,
}

/// Everything a decision about one campaign needs, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignState {
    /// `None` until the campaign is created.
    pub campaign_id: Option<CampaignId>,
    /// The program it belongs to.
    pub program_id: Option<ProgramId>,
    /// What members write to earn.
    pub codeword: Option<Codeword>,
    /// Points each redemption pays.
    pub points: i64,
    /// When codewords start earning.
    pub starts_at: Option<Timestamp>,
    /// When codewords stop earning.
    pub ends_at: Option<Timestamp>,
    /// The most redemptions over all members; `None` is unlimited.
    pub total_cap: Option<u32>,
    /// Platforms where the codeword counts.
    pub networks: Vec<Network>,
    /// The one post whose comments count, if the campaign is tied to a post.
    pub target_post: Option<String>,
    /// Where the campaign is in its life.
    pub status: CampaignStatus,
    /// Members who redeemed: each pays once.
    pub redeemed_by: BTreeSet<crate::ids::MemberId>,
}

/// Longest description a campaign shows members.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// A campaign to create, as the manager set it up.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// The new campaign's id.
    pub campaign_id: CampaignId,
    /// The program it belongs to.
    pub program_id: ProgramId,
    /// Its display name.
    pub name: String,
    /// What members write to earn.
    pub codeword: Codeword,
    /// Points each redemption pays.
    pub points: Points,
    /// When codewords start earning.
    pub starts_at: Timestamp,
    /// When codewords stop earning; after `starts_at`.
    pub ends_at: Timestamp,
    /// The most redemptions over all members; `None` is unlimited.
    pub total_cap: Option<u32>,
    /// Platforms where the codeword counts.
    pub networks: Vec<Network>,
    /// The one post whose comments count, if any.
    pub target_post: Option<String>,
    /// What members are told about it; must not give the codeword away.
    pub description: Option<String>,
    /// The manager creating it.
    pub by: ManagerId,
    /// When it is decided: the command's time.
    pub at: Timestamp,
}

/// What a manager can ask of a campaign stream. Redeeming is [`decide_codeword`], since it
/// spans the member stream too.
pub enum CampaignCommand {
    /// Start the campaign's stream (boxed: the other commands are small).
    Create(Box<NewCampaign>),
    /// Stop codewords earning for now.
    Pause {
        /// The manager pausing it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Let a paused campaign earn again.
    Resume {
        /// The manager resuming it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Close the campaign for good.
    End {
        /// The manager ending it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
}

/// A member wrote the codeword somewhere.
#[derive(Debug, Clone)]
pub struct RedeemCodeword {
    /// The member's new ledger entry.
    pub entry_id: EntryId,
    /// Where the codeword was written.
    pub network: Network,
    /// The platform's id of the comment or message that carried the codeword.
    pub reference: String,
    /// The post the comment was on, checked against the campaign's target post.
    pub target: Option<String>,
    /// When it was written on the platform; must fall in the campaign's window.
    pub occurred_at: Timestamp,
    /// The program's time zone, for the member's award record.
    pub time_zone: chrono_tz::Tz,
    /// The rules' review settings: a large bonus, or one to a new member, may be held.
    pub review: crate::review::ReviewRules,
    /// When it is decided: the command's time.
    pub at: Timestamp,
}

impl CampaignState {
    /// The state after `event`; events of other streams leave it as it is.
    pub fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::CampaignCreated {
                campaign_id,
                program_id,
                codeword,
                points,
                starts_at,
                ends_at,
                total_cap,
                networks,
                target_post,
                ..
            } => {
                self.campaign_id = Some(*campaign_id);
                self.program_id = Some(*program_id);
                self.codeword = Some(codeword.clone());
                self.points = *points;
                self.starts_at = Some(*starts_at);
                self.ends_at = Some(*ends_at);
                self.total_cap = *total_cap;
                self.networks = networks.clone();
                self.target_post = target_post.clone();
                self.status = CampaignStatus::Active;
            }
            Event::CampaignPaused { .. } => self.status = CampaignStatus::Paused,
            Event::CampaignResumed { .. } => self.status = CampaignStatus::Active,
            Event::CampaignEnded { .. } => self.status = CampaignStatus::Ended,
            Event::CodewordRedeemed { member_id, .. } => {
                self.redeemed_by.insert(*member_id);
            }
            _ => {}
        }
        self
    }

    /// How many members redeemed the codeword so far (what the total cap counts).
    pub fn redemptions(&self) -> u32 {
        u32::try_from(self.redeemed_by.len()).unwrap_or(u32::MAX)
    }

    /// Open for codewords at `at`: active and inside its time window.
    pub fn is_open(&self, at: Timestamp) -> bool {
        self.status == CampaignStatus::Active
            && self.starts_at.is_some_and(|s| s <= at)
            && self.ends_at.is_some_and(|e| at < e)
    }

    /// Takes a comment on `network` (on `target`, the post it was written under).
    pub fn accepts(&self, network: Network, target: Option<&str>) -> bool {
        self.networks.contains(&network)
            && self
                .target_post
                .as_deref()
                .is_none_or(|post| target == Some(post))
    }

    /// One comment could pay both: the same codeword as matched (look-alike letters included),
    /// overlapping windows and a network in common.
    pub fn collides_with(&self, other: &CampaignState) -> bool {
        let same_word = match (&self.codeword, &other.codeword) {
            (Some(a), Some(b)) => a.skeleton == b.skeleton,
            _ => false,
        };
        let windows_overlap = match (self.starts_at, self.ends_at, other.starts_at, other.ends_at) {
            (Some(s1), Some(e1), Some(s2), Some(e2)) => s1 < e2 && s2 < e1,
            _ => false,
        };
        same_word && windows_overlap && self.networks.iter().any(|n| other.networks.contains(n))
    }

    /// The events a manager's `command` produces from this state, or why the rules refuse it.
    pub fn decide(&self, command: CampaignCommand) -> Result<Vec<Event>, DomainError> {
        let campaign_id = self.campaign_id;
        match command {
            CampaignCommand::Create(c) => {
                let c = *c;
                if campaign_id.is_some() {
                    return Err(DomainError::AlreadyExists);
                }
                if c.ends_at <= c.starts_at || c.networks.is_empty() || c.name.trim().is_empty() {
                    return Err(DomainError::InvalidRules(
                        "a campaign needs a name, a window that ends after it starts, and a network"
                            .into(),
                    ));
                }
                let description = c
                    .description
                    .as_deref()
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(str::to_string);
                if let Some(text) = &description {
                    if text.chars().count() > MAX_DESCRIPTION_CHARS {
                        return Err(DomainError::InvalidRules(format!(
                            "a campaign's description is at most {MAX_DESCRIPTION_CHARS} characters"
                        )));
                    }
                    if c.codeword.matches(text) {
                        return Err(DomainError::InvalidRules(
                            "the description gives the codeword away".into(),
                        ));
                    }
                }
                Ok(vec![Event::CampaignCreated {
                    campaign_id: c.campaign_id,
                    program_id: c.program_id,
                    name: c.name.trim().to_string(),
                    codeword: c.codeword,
                    points: c.points.get(),
                    starts_at: c.starts_at,
                    ends_at: c.ends_at,
                    total_cap: c.total_cap,
                    networks: c.networks,
                    target_post: c.target_post,
                    by: c.by,
                    at: c.at,
                    description,
                }])
            }
            CampaignCommand::Pause { by, at } => {
                let campaign_id = campaign_id.ok_or(DomainError::NotFound)?;
                match self.status {
                    CampaignStatus::Active => Ok(vec![Event::CampaignPaused {
                        campaign_id,
                        by,
                        at,
                    }]),
                    CampaignStatus::Paused => Ok(vec![]),
                    _ => Err(DomainError::CampaignNotActive),
                }
            }
            CampaignCommand::Resume { by, at } => {
                let campaign_id = campaign_id.ok_or(DomainError::NotFound)?;
                match self.status {
                    CampaignStatus::Paused => Ok(vec![Event::CampaignResumed {
                        campaign_id,
                        by,
                        at,
                    }]),
                    CampaignStatus::Active => Ok(vec![]),
                    _ => Err(DomainError::CampaignNotActive),
                }
            }
            CampaignCommand::End { by, at } => {
                let campaign_id = campaign_id.ok_or(DomainError::NotFound)?;
                match self.status {
                    CampaignStatus::Ended => Ok(vec![]),
                    _ => Ok(vec![Event::CampaignEnded {
                        campaign_id,
                        by,
                        at,
                    }]),
                }
            }
        }
    }
}

/// Refuses a campaign (being created or resumed) that collides with another campaign not
/// ended (active, or paused and so able to resume): one comment would pay both.
fn refuse_codeword_collision<'a>(
    campaign: &CampaignState,
    others: impl IntoIterator<Item = &'a CampaignState>,
) -> Result<(), DomainError> {
    let live = |c: &&CampaignState| {
        matches!(c.status, CampaignStatus::Active | CampaignStatus::Paused)
            && c.campaign_id != campaign.campaign_id
    };
    match others
        .into_iter()
        .filter(live)
        .find(|other| campaign.collides_with(other))
    {
        Some(other) => Err(DomainError::CodewordTaken(
            other.campaign_id.ok_or(DomainError::NotFound)?,
        )),
        None => Ok(()),
    }
}

/// The campaigns a text pays, of those open at `at` whose codeword it carries: one per
/// codeword, so that campaigns sharing a codeword (which creation refuses, but older data may
/// hold) never pay one comment twice. Of those sharing a codeword, the first that takes the
/// comment (network, target post) in the order they started (then by id); if none takes it,
/// the first, whose redemption is then refused with the reason.
pub fn campaigns_to_pay<'a>(
    campaigns: &'a [CampaignState],
    text: &str,
    network: Network,
    target: Option<&str>,
    at: Timestamp,
) -> Vec<&'a CampaignState> {
    let mut matched: Vec<&CampaignState> = campaigns
        .iter()
        .filter(|c| c.is_open(at) && c.codeword.as_ref().is_some_and(|w| w.matches(text)))
        .collect();
    matched.sort_by_key(|c| (c.starts_at, c.campaign_id));
    let mut chosen: Vec<&CampaignState> = Vec::new();
    for campaign in &matched {
        let skeleton = campaign.codeword.as_ref().map(|w| &w.skeleton);
        if chosen
            .iter()
            .any(|c| c.codeword.as_ref().map(|w| &w.skeleton) == skeleton)
        {
            continue;
        }
        let same_word = matched
            .iter()
            .filter(|c| c.codeword.as_ref().map(|w| &w.skeleton) == skeleton);
        let taker = same_word
            .clone()
            .find(|c| c.accepts(network, target))
            .or_else(|| same_word.clone().next());
        chosen.extend(taker);
    }
    chosen
}

/// Decides a campaign command knowing the program's other campaigns: a command that makes the
/// campaign active (create, resume) is refused when it would collide with one not ended.
pub fn decide_among<'a>(
    campaign: &CampaignState,
    command: CampaignCommand,
    others: impl IntoIterator<Item = &'a CampaignState>,
) -> Result<Vec<Event>, DomainError> {
    let events = campaign.decide(command)?;
    let after = events.iter().fold(campaign.clone(), CampaignState::evolve);
    if after.status == CampaignStatus::Active && campaign.status != CampaignStatus::Active {
        refuse_codeword_collision(&after, others)?;
    }
    Ok(events)
}

/// Decides a codeword redemption over both streams: the campaign (window, cap, once per member)
/// and the member (blocked, daily caps do not apply to campaign bonuses).
pub fn decide_codeword(
    campaign: &CampaignState,
    member: &MemberState,
    cmd: RedeemCodeword,
) -> Result<Vec<Event>, DomainError> {
    let campaign_id = campaign.campaign_id.ok_or(DomainError::NotFound)?;
    let member_id = member.registered_id()?;
    if !campaign.is_open(cmd.occurred_at) {
        return Err(DomainError::CampaignNotActive);
    }
    if !campaign.networks.contains(&cmd.network) {
        return Err(DomainError::NetworkNotAllowed);
    }
    if let Some(target) = &campaign.target_post
        && cmd.target.as_deref() != Some(target.as_str())
    {
        return Err(DomainError::CampaignNotActive);
    }
    if campaign.redeemed_by.contains(&member_id) {
        return Err(DomainError::CodewordAlreadyUsed);
    }
    if let Some(cap) = campaign.total_cap
        && campaign.redemptions() >= cap
    {
        return Err(DomainError::CampaignCapReached { cap });
    }
    let points = Points::new(campaign.points)?;
    let award = member.decide_award(Award {
        entry_id: cmd.entry_id,
        activity: ActivityRef {
            network: cmd.network,
            kind: ActivityKind::Codeword,
            reference: campaign_id.to_string(),
        },
        points,
        rule_version: 0,
        campaign_id: Some(campaign_id),
        occurred_at: cmd.occurred_at,
        limits: AwardLimits {
            time_zone: cmd.time_zone,
            daily_cap: None,
            daily_cap_per_network: None,
            cooldown_seconds: 0,
            review: cmd.review,
        },
        at: cmd.at,
    })?;
    Ok(vec![
        Event::CodewordRedeemed {
            campaign_id,
            member_id,
            entry_id: cmd.entry_id,
            network: cmd.network,
            reference: cmd.reference,
            points: points.get(),
            at: cmd.at,
        },
        award,
    ])
}
