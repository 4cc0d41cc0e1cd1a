//! The rewards catalog. Redeeming spans the member (balance) and the reward (stock) streams,
//! appended together, so neither is spent without the other.

use crate::error::DomainError;
use crate::event::{Event, ManagerId};
use crate::ids::{EntryId, ProgramId, RedemptionId, RewardId};
use crate::member::{MemberState, required_reason};
use crate::points::Points;
use crate::time::Timestamp;
use std::collections::BTreeSet;

/// Everything a decision about one reward needs, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RewardState {
    /// `None` until the reward is listed.
    pub reward_id: Option<RewardId>,
    /// The program whose catalogue lists it.
    pub program_id: Option<ProgramId>,
    /// What it is called in the catalogue.
    pub title: String,
    /// Price in points.
    pub cost: i64,
    /// Units left to issue.
    pub stock: i64,
    /// Taken out of the catalogue: no more redemptions.
    pub delisted: bool,
    /// Redemptions a unit went to.
    pub issued: BTreeSet<RedemptionId>,
}

/// What a manager can ask of a reward stream. Redeeming is [`decide_redeem`], since it spans
/// the member stream too.
pub enum RewardCommand {
    /// Put a new reward in the catalogue.
    List {
        /// The new reward's id.
        reward_id: RewardId,
        /// The program whose catalogue lists it.
        program_id: ProgramId,
        /// What it is called in the catalogue.
        title: String,
        /// Price in points.
        cost: Points,
        /// Units available at first.
        stock: u32,
        /// The manager doing it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Add or remove units.
    ChangeStock {
        /// Units added (positive) or removed (negative).
        delta: i32,
        /// The manager doing it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Take the reward out of the catalogue; past redemptions stand.
    Delist {
        /// The manager doing it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
}

/// A member spends points on one unit of a reward.
#[derive(Debug, Clone)]
pub struct Redeem {
    /// The member's new ledger entry for the spend.
    pub entry_id: EntryId,
    /// The new redemption's id.
    pub redemption_id: RedemptionId,
    /// Chosen outside the domain (random), so deciding stays deterministic.
    pub coupon_code: String,
    /// When it is decided: the command's time.
    pub at: Timestamp,
}

/// A manager cancels a redemption: points back to the member, the unit back to stock.
#[derive(Debug, Clone)]
pub struct CancelRedemption {
    /// The member's new ledger entry for the refund.
    pub entry_id: EntryId,
    /// The redemption to cancel.
    pub redemption_id: RedemptionId,
    /// Why, for managers and auditors; required, never shown to the member.
    pub reason: String,
    /// The manager doing it.
    pub by: ManagerId,
    /// When it is decided: the command's time.
    pub at: Timestamp,
}

impl RewardState {
    /// The state after `event`; events of other streams leave it as it is.
    pub fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::RewardListed {
                reward_id,
                program_id,
                title,
                cost,
                stock,
                ..
            } => {
                self.reward_id = Some(*reward_id);
                self.program_id = Some(*program_id);
                self.title = title.clone();
                self.cost = *cost;
                self.stock = i64::from(*stock);
            }
            Event::RewardStockChanged { delta, .. } => self.stock += i64::from(*delta),
            Event::RewardDelisted { .. } => self.delisted = true,
            Event::RewardIssued { redemption_id, .. } => {
                self.stock -= 1;
                self.issued.insert(*redemption_id);
            }
            Event::RewardReturned { .. } => self.stock += 1,
            _ => {}
        }
        self
    }

    /// The events a manager's `command` produces from this state, or why the rules refuse it.
    pub fn decide(&self, command: RewardCommand) -> Result<Vec<Event>, DomainError> {
        match command {
            RewardCommand::List {
                reward_id,
                program_id,
                title,
                cost,
                stock,
                by,
                at,
            } => {
                if self.reward_id.is_some() {
                    return Err(DomainError::AlreadyExists);
                }
                let title = title.trim().to_string();
                if title.is_empty() {
                    return Err(DomainError::InvalidRules("a reward needs a title".into()));
                }
                Ok(vec![Event::RewardListed {
                    reward_id,
                    program_id,
                    title,
                    cost: cost.get(),
                    stock,
                    by,
                    at,
                }])
            }
            RewardCommand::ChangeStock { delta, by, at } => {
                let reward_id = self.reward_id.ok_or(DomainError::NotFound)?;
                if delta == 0 {
                    return Err(DomainError::InvalidAmount(0));
                }
                if self.stock + i64::from(delta) < 0 {
                    return Err(DomainError::RewardOutOfStock);
                }
                Ok(vec![Event::RewardStockChanged {
                    reward_id,
                    delta,
                    by,
                    at,
                }])
            }
            RewardCommand::Delist { by, at } => {
                let reward_id = self.reward_id.ok_or(DomainError::NotFound)?;
                if self.delisted {
                    return Ok(vec![]);
                }
                Ok(vec![Event::RewardDelisted { reward_id, by, at }])
            }
        }
    }
}

/// Spends a member's points on one unit of a reward.
pub fn decide_redeem(
    reward: &RewardState,
    member: &MemberState,
    cmd: Redeem,
) -> Result<Vec<Event>, DomainError> {
    let reward_id = reward.reward_id.ok_or(DomainError::NotFound)?;
    let member_id = member.registered_id()?;
    if member.blocked {
        return Err(DomainError::MemberBlocked(member_id));
    }
    if member.redemptions.contains_key(&cmd.redemption_id) {
        return Err(DomainError::AlreadyExists);
    }
    if reward.delisted {
        return Err(DomainError::RewardNotAvailable);
    }
    if reward.stock <= 0 {
        return Err(DomainError::RewardOutOfStock);
    }
    if member.balance < reward.cost {
        return Err(DomainError::InsufficientBalance {
            balance: member.balance,
            needed: reward.cost,
        });
    }
    Ok(vec![
        Event::RewardRedeemed {
            member_id,
            entry_id: cmd.entry_id,
            redemption_id: cmd.redemption_id,
            reward_id,
            cost: reward.cost,
            coupon_code: cmd.coupon_code,
            at: cmd.at,
        },
        Event::RewardIssued {
            reward_id,
            redemption_id: cmd.redemption_id,
            member_id,
            at: cmd.at,
        },
    ])
}

/// Gives the points back and returns the unit to stock.
pub fn decide_cancel_redemption(
    reward: &RewardState,
    member: &MemberState,
    cmd: CancelRedemption,
) -> Result<Vec<Event>, DomainError> {
    let reward_id = reward.reward_id.ok_or(DomainError::NotFound)?;
    let member_id = member.registered_id()?;
    let reason = required_reason(cmd.reason)?;
    let record = member
        .redemptions
        .get(&cmd.redemption_id)
        .filter(|r| !r.cancelled && r.reward_id == reward_id)
        .ok_or(DomainError::RedemptionNotFound)?;
    Ok(vec![
        Event::RedemptionCancelled {
            member_id,
            entry_id: cmd.entry_id,
            redemption_id: cmd.redemption_id,
            reward_id,
            refund: record.cost,
            by: cmd.by,
            reason,
            at: cmd.at,
        },
        Event::RewardReturned {
            reward_id,
            redemption_id: cmd.redemption_id,
            at: cmd.at,
        },
    ])
}
