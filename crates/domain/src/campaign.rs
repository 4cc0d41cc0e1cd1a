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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CampaignStatus {
    #[default]
    Draft,
    Active,
    Paused,
    Ended,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignState {
    pub campaign_id: Option<CampaignId>,
    pub program_id: Option<ProgramId>,
    pub codeword: Option<Codeword>,
    pub points: i64,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub total_cap: Option<u32>,
    pub networks: Vec<Network>,
    pub target_post: Option<String>,
    pub status: CampaignStatus,
    pub redeemed_by: BTreeSet<crate::ids::MemberId>,
}

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub campaign_id: CampaignId,
    pub program_id: ProgramId,
    pub name: String,
    pub codeword: Codeword,
    pub points: Points,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub total_cap: Option<u32>,
    pub networks: Vec<Network>,
    pub target_post: Option<String>,
    pub by: ManagerId,
    pub at: Timestamp,
}

pub enum CampaignCommand {
    Create(NewCampaign),
    Pause { by: ManagerId, at: Timestamp },
    Resume { by: ManagerId, at: Timestamp },
    End { by: ManagerId, at: Timestamp },
}

/// A member wrote the codeword somewhere.
#[derive(Debug, Clone)]
pub struct RedeemCodeword {
    pub entry_id: EntryId,
    pub network: Network,
    /// The platform's id of the comment or message that carried the codeword.
    pub reference: String,
    /// The post the comment was on, checked against the campaign's target post.
    pub target: Option<String>,
    pub occurred_at: Timestamp,
    pub time_zone: chrono_tz::Tz,
    pub at: Timestamp,
}

impl CampaignState {
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

    pub fn redemptions(&self) -> u32 {
        u32::try_from(self.redeemed_by.len()).unwrap_or(u32::MAX)
    }

    /// Open for codewords at `at`: active and inside its time window.
    pub fn is_open(&self, at: Timestamp) -> bool {
        self.status == CampaignStatus::Active
            && self.starts_at.is_some_and(|s| s <= at)
            && self.ends_at.is_some_and(|e| at < e)
    }

    pub fn decide(&self, command: CampaignCommand) -> Result<Vec<Event>, DomainError> {
        let campaign_id = self.campaign_id;
        match command {
            CampaignCommand::Create(c) => {
                if campaign_id.is_some() {
                    return Err(DomainError::AlreadyExists);
                }
                if c.ends_at <= c.starts_at || c.networks.is_empty() || c.name.trim().is_empty() {
                    return Err(DomainError::InvalidRules(
                        "a campaign needs a name, a window that ends after it starts, and a network"
                            .into(),
                    ));
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

/// Decides a codeword redemption over both streams: the campaign (window, cap, once per member)
/// and the member (blocked, daily caps do not apply to campaign bonuses).
pub fn decide_codeword(
    campaign: &CampaignState,
    member: &MemberState,
    cmd: RedeemCodeword,
) -> Result<Vec<Event>, DomainError> {
    let campaign_id = campaign.campaign_id.ok_or(DomainError::NotFound)?;
    let member_id = member.member_id.ok_or(DomainError::MemberNotRegistered)?;
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
