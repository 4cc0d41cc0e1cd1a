//! The rewards catalog. Redeeming spans the member (balance) and the reward (stock) streams,
//! appended together, so neither is spent without the other.

use crate::error::DomainError;
use crate::event::{Event, ManagerId};
use crate::ids::{EntryId, ProgramId, RedemptionId, RewardId};
use crate::member::{MemberState, required_reason};
use crate::points::Points;
use crate::time::Timestamp;
use std::collections::{BTreeSet, HashSet, VecDeque};

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
    /// Codes the brand uploaded, for a coupon pool; `None` for generated codes.
    pub pool: Option<CodePool>,
    /// A cancelled redemption's code goes back to the pool.
    pub return_codes: bool,
    /// Alert managers when a redemption leaves this many units or fewer.
    pub low_stock_alert: Option<u32>,
}

/// A coupon pool: its stock is exactly its unused codes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodePool {
    /// Codes not issued yet, in the order they are issued (upload order).
    pub unused: VecDeque<String>,
    /// Every code ever added, so an upload repeated adds nothing and no code is issued twice.
    pub known: HashSet<String>,
}

/// The most codes one `RewardCodesAdded` carries; a bigger file is several uploads.
pub const MAX_CODES_PER_UPLOAD: usize = 10_000;

/// The longest coupon code accepted (a till's barcode or an e-shop promo code fits easily).
pub const MAX_CODE_LEN: usize = 64;

/// A code as a till or e-shop takes it: 1 to [`MAX_CODE_LEN`] visible ASCII characters, no
/// spaces (they are lost when a cashier types or scans it).
pub fn valid_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= MAX_CODE_LEN && code.bytes().all(|b| b.is_ascii_graphic())
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
        /// Units available at first (must be 0 for a coupon pool).
        stock: u32,
        /// How its coupons are made and alerted on.
        terms: RewardTerms,
        /// The manager doing it.
        by: ManagerId,
        /// When it is decided: the command's time.
        at: Timestamp,
    },
    /// Add codes to a coupon pool; those the pool already knows are skipped.
    AddCodes {
        /// The codes, in the order they should be issued.
        codes: Vec<String>,
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

/// How a reward's coupons are made, fixed when it is listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RewardTerms {
    /// Codes come from codes the brand uploads instead of being generated.
    pub coupon_pool: bool,
    /// A cancelled redemption's pool code goes back to the pool.
    pub return_codes: bool,
    /// Alert managers when a redemption leaves this many units or fewer.
    pub low_stock_alert: Option<u32>,
}

/// A shop or a manager accepts a redemption's coupon.
#[derive(Debug, Clone)]
pub struct UseCoupon {
    /// The redemption whose coupon is shown.
    pub redemption_id: RedemptionId,
    /// Who accepts it: `manager:<login>` or `shop:<key id>`.
    pub by: ManagerId,
    /// When it is decided: the command's time.
    pub at: Timestamp,
}

/// A member spends points on one unit of a reward.
#[derive(Debug, Clone)]
pub struct Redeem {
    /// The member's new ledger entry for the spend.
    pub entry_id: EntryId,
    /// The new redemption's id.
    pub redemption_id: RedemptionId,
    /// Chosen outside the domain (random), so deciding stays deterministic; a coupon pool
    /// issues its next code instead.
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
                coupon_pool,
                return_codes,
                low_stock_alert,
                ..
            } => {
                self.reward_id = Some(*reward_id);
                self.program_id = Some(*program_id);
                self.title = title.clone();
                self.cost = *cost;
                self.stock = i64::from(*stock);
                self.pool = coupon_pool.then(CodePool::default);
                self.return_codes = *return_codes;
                self.low_stock_alert = *low_stock_alert;
            }
            Event::RewardStockChanged { delta, .. } => self.stock += i64::from(*delta),
            Event::RewardDelisted { .. } => self.delisted = true,
            Event::RewardCodesAdded { codes, .. } => {
                self.stock += codes.len() as i64;
                if let Some(pool) = &mut self.pool {
                    pool.known.extend(codes.iter().cloned());
                    pool.unused.extend(codes.iter().cloned());
                }
            }
            Event::RewardIssued {
                redemption_id,
                code,
                ..
            } => {
                self.stock -= 1;
                self.issued.insert(*redemption_id);
                if let (Some(pool), Some(code)) = (&mut self.pool, code) {
                    // The next code is issued first, so this is the front but for old mistakes.
                    if pool.unused.front() == Some(code) {
                        pool.unused.pop_front();
                    } else {
                        pool.unused.retain(|c| c != code);
                    }
                }
            }
            Event::RewardReturned { code, .. } => {
                self.stock += 1;
                if let (Some(pool), Some(code)) = (&mut self.pool, code) {
                    pool.unused.push_back(code.clone());
                }
            }
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
                terms,
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
                if terms.coupon_pool && stock != 0 {
                    return Err(DomainError::CouponPoolStock);
                }
                Ok(vec![Event::RewardListed {
                    reward_id,
                    program_id,
                    title,
                    cost: cost.get(),
                    stock,
                    by,
                    at,
                    coupon_pool: terms.coupon_pool,
                    return_codes: terms.coupon_pool && terms.return_codes,
                    low_stock_alert: terms.low_stock_alert,
                }])
            }
            RewardCommand::AddCodes { codes, by, at } => {
                let reward_id = self.reward_id.ok_or(DomainError::NotFound)?;
                let pool = self.pool.as_ref().ok_or(DomainError::NotACouponPool)?;
                if codes.len() > MAX_CODES_PER_UPLOAD {
                    return Err(DomainError::TooManyCodes(MAX_CODES_PER_UPLOAD));
                }
                if let Some(bad) = codes.iter().find(|c| !valid_code(c)) {
                    return Err(DomainError::InvalidCode(bad.clone()));
                }
                let mut seen = HashSet::new();
                let new: Vec<String> = codes
                    .into_iter()
                    .filter(|c| !pool.known.contains(c) && seen.insert(c.clone()))
                    .collect();
                if new.is_empty() {
                    return Ok(vec![]);
                }
                Ok(vec![Event::RewardCodesAdded {
                    reward_id,
                    codes: new,
                    by,
                    at,
                }])
            }
            RewardCommand::ChangeStock { delta, by, at } => {
                let reward_id = self.reward_id.ok_or(DomainError::NotFound)?;
                if self.pool.is_some() {
                    return Err(DomainError::CouponPoolStock);
                }
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
    let pool_code = match &reward.pool {
        Some(pool) => Some(
            pool.unused
                .front()
                .cloned()
                .ok_or(DomainError::RewardOutOfStock)?,
        ),
        None => None,
    };
    let mut events = vec![
        Event::RewardRedeemed {
            member_id,
            entry_id: cmd.entry_id,
            redemption_id: cmd.redemption_id,
            reward_id,
            cost: reward.cost,
            coupon_code: pool_code.clone().unwrap_or(cmd.coupon_code),
            at: cmd.at,
        },
        Event::RewardIssued {
            reward_id,
            redemption_id: cmd.redemption_id,
            member_id,
            at: cmd.at,
            code: pool_code,
        },
    ];
    let left = reward.stock - 1;
    if let Some(threshold) = reward.low_stock_alert
        && left <= i64::from(threshold)
        && reward.stock > i64::from(threshold)
    {
        events.push(Event::RewardStockLow {
            reward_id,
            stock: left,
            threshold,
            at: cmd.at,
        });
    }
    Ok(events)
}

/// Marks a redemption's coupon used: once, and never after it was cancelled.
pub fn decide_use_coupon(member: &MemberState, cmd: UseCoupon) -> Result<Vec<Event>, DomainError> {
    let member_id = member.registered_id()?;
    let record = member
        .redemptions
        .get(&cmd.redemption_id)
        .ok_or(DomainError::RedemptionNotFound)?;
    if record.cancelled {
        return Err(DomainError::CouponCancelled);
    }
    if let Some(at) = record.used_at {
        return Err(DomainError::CouponAlreadyUsed(at));
    }
    Ok(vec![Event::CouponUsed {
        member_id,
        redemption_id: cmd.redemption_id,
        reward_id: record.reward_id,
        by: cmd.by,
        at: cmd.at,
    }])
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
    if let Some(at) = record.used_at {
        return Err(DomainError::CouponAlreadyUsed(at));
    }
    let cancelled = Event::RedemptionCancelled {
        member_id,
        entry_id: cmd.entry_id,
        redemption_id: cmd.redemption_id,
        reward_id,
        refund: record.cost,
        by: cmd.by,
        reason,
        at: cmd.at,
    };
    // A pool code the member has seen goes back only if the reward says so; without it
    // the unit is gone with its code.
    let returned = match &reward.pool {
        None => Some(None),
        Some(_) if reward.return_codes => Some(Some(record.coupon_code.clone())),
        Some(_) => None,
    };
    let mut events = vec![cancelled];
    if let Some(code) = returned {
        events.push(Event::RewardReturned {
            reward_id,
            redemption_id: cmd.redemption_id,
            at: cmd.at,
            code,
        });
    }
    Ok(events)
}
