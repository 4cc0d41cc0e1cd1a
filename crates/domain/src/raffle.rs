//! Provably fair raffles. Opening publishes the SHA-256 of a secret seed; members enter until
//! the end, either by buying tickets with points or by what they did in a period (an
//! [`EntryRule`]); the draw reveals the seed, and the winners are a pure function of the seed
//! and the entries in log order ([`draw_winners`]), so anyone holding the log and the seed can
//! check them. An activity raffle's entries are themselves a pure function of the log
//! ([`activity_entries`]), appended to the raffle's stream at the draw.

use crate::error::DomainError;
use crate::event::{Event, ManagerId};
use crate::ids::{EntryId, MemberId, ProgramId, RaffleId};
use crate::member::{MemberState, required_reason};
use crate::network::{ActivityKind, ActivityRef, Network};
use crate::points::Points;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// How members enter a raffle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum EntryRule {
    /// Tickets bought with points (one entry per ticket). Raffles opened before entry rules
    /// existed are of this kind.
    #[default]
    Tickets,
    /// Every member who earned points by a matching activity in the period, once.
    Activity(ActivityRule),
}

impl EntryRule {
    /// True for [`EntryRule::Tickets`]: what an event without the field means.
    pub fn is_tickets(&self) -> bool {
        matches!(self, EntryRule::Tickets)
    }
}

/// "Every member who did X between `from` and the raffle's end".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRule {
    /// The kind of activity; `None` is any activity that earned points.
    pub kind: Option<ActivityKind>,
    /// The network it happened on; `None` is any.
    pub network: Option<Network>,
    /// The period's start; it ends at the raffle's `ends_at`.
    pub from: Timestamp,
}

impl ActivityRule {
    /// True if an award for `activity` is of the kind and network the rule asks for.
    pub fn matches(&self, activity: &ActivityRef) -> bool {
        self.kind.is_none_or(|k| k == activity.kind)
            && self.network.is_none_or(|n| n == activity.network)
    }
}

/// Everything a decision about one raffle needs, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RaffleState {
    /// `None` until opened.
    pub raffle_id: Option<RaffleId>,
    /// The program it runs in.
    pub program_id: Option<ProgramId>,
    /// What members see it called.
    pub title: String,
    /// What the winners get.
    pub prize: String,
    /// Points per ticket.
    pub ticket_cost: i64,
    /// The most tickets one member may hold.
    pub max_tickets_per_member: u32,
    /// How many members win.
    pub winners: u32,
    /// Tickets are sold until this instant.
    pub ends_at: Option<Timestamp>,
    /// Hex SHA-256 of the seed.
    pub commitment: String,
    /// How members enter.
    pub entry_rule: EntryRule,
    /// Every entry (a ticket, or an activity raffle's member) in log order, with its holder.
    pub tickets: Vec<(EntryId, MemberId)>,
    /// After the draw: the revealed seed (hex) and the winning tickets.
    pub drawn: Option<(String, Vec<EntryId>)>,
    /// When it was drawn.
    pub drawn_at: Option<Timestamp>,
    /// Cancelled before its draw, with the reason.
    pub cancelled: Option<String>,
}

/// A raffle's terms, as a manager sets them.
#[derive(Debug, Clone)]
pub struct NewRaffle {
    /// The new raffle's id.
    pub raffle_id: RaffleId,
    /// The program it runs in.
    pub program_id: ProgramId,
    /// What members see it called.
    pub title: String,
    /// What the winners get.
    pub prize: String,
    /// How members enter.
    pub entry_rule: EntryRule,
    /// Points per ticket (ignored by an activity rule).
    pub ticket_cost: Points,
    /// The most tickets one member may hold, at least 1 (ignored by an activity rule).
    pub max_tickets_per_member: u32,
    /// How many members win (at least 1).
    pub winners: u32,
    /// Tickets are sold until this instant, which must be after `at`.
    pub ends_at: Timestamp,
    /// Hex SHA-256 of the seed, chosen outside the domain.
    pub commitment: String,
    /// The manager doing it.
    pub by: ManagerId,
    /// When it is decided: the command's time.
    pub at: Timestamp,
}

/// Longest title or prize text.
pub const MAX_TEXT_CHARS: usize = 200;

/// The hex SHA-256 of a seed: what a raffle publishes when it opens.
pub fn commitment_of(seed: &[u8]) -> String {
    hex::encode(Sha256::digest(seed))
}

impl RaffleState {
    /// The state after `event`; events of other streams leave it as it is.
    pub fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::RaffleOpened {
                raffle_id,
                program_id,
                title,
                prize,
                ticket_cost,
                max_tickets_per_member,
                winners,
                ends_at,
                commitment,
                entry_rule,
                ..
            } => {
                self.entry_rule = *entry_rule;
                self.raffle_id = Some(*raffle_id);
                self.program_id = Some(*program_id);
                self.title = title.clone();
                self.prize = prize.clone();
                self.ticket_cost = *ticket_cost;
                self.max_tickets_per_member = *max_tickets_per_member;
                self.winners = *winners;
                self.ends_at = Some(*ends_at);
                self.commitment = commitment.clone();
            }
            Event::RaffleEntered {
                entry_id,
                member_id,
                ..
            } => self.tickets.push((*entry_id, *member_id)),
            Event::RaffleDrawn {
                seed,
                winning_tickets,
                at,
                ..
            } => {
                self.drawn = Some((seed.clone(), winning_tickets.clone()));
                self.drawn_at = Some(*at);
            }
            Event::RaffleCancelled { reason, .. } => self.cancelled = Some(reason.clone()),
            _ => {}
        }
        self
    }

    /// Opens a raffle with `new`'s terms.
    pub fn open(&self, new: NewRaffle) -> Result<Vec<Event>, DomainError> {
        if self.raffle_id.is_some() {
            return Err(DomainError::AlreadyExists);
        }
        let invalid = |why: &str| Err(DomainError::InvalidRaffle(why.into()));
        let (title, prize) = (new.title.trim().to_string(), new.prize.trim().to_string());
        if title.is_empty() || title.chars().count() > MAX_TEXT_CHARS {
            return invalid("a title of 1 to 200 characters");
        }
        if prize.is_empty() || prize.chars().count() > MAX_TEXT_CHARS {
            return invalid("a prize of 1 to 200 characters");
        }
        if new.winners == 0 {
            return invalid("at least one winner");
        }
        // An activity raffle sells nothing: its ticket terms are recorded as zero.
        let (ticket_cost, max_tickets_per_member) = match new.entry_rule {
            EntryRule::Tickets => {
                if new.ticket_cost.get() <= 0 {
                    return invalid("a ticket costs at least 1 point");
                }
                if new.max_tickets_per_member == 0 {
                    return invalid("at least one ticket per member");
                }
                (new.ticket_cost.get(), new.max_tickets_per_member)
            }
            EntryRule::Activity(rule) => {
                if rule.from >= new.ends_at {
                    return invalid("the period starts before the end");
                }
                (0, 0)
            }
        };
        if new.ends_at <= new.at {
            return invalid("the end must be in the future");
        }
        let hex_digest = new.commitment.len() == 64
            && new
                .commitment
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if !hex_digest {
            return invalid("the commitment is a hex SHA-256");
        }
        Ok(vec![Event::RaffleOpened {
            raffle_id: new.raffle_id,
            program_id: new.program_id,
            title,
            prize,
            ticket_cost,
            max_tickets_per_member,
            winners: new.winners,
            ends_at: new.ends_at,
            commitment: new.commitment,
            by: new.by,
            at: new.at,
            entry_rule: new.entry_rule,
        }])
    }

    /// An activity raffle's entries, once it has ended: `entries` as [`activity_entries`]
    /// computed them, less those already in the stream, so a retried or interrupted draw
    /// appends each entry once.
    pub fn enter(
        &self,
        entries: &[(EntryId, MemberId)],
        at: Timestamp,
    ) -> Result<Vec<Event>, DomainError> {
        let raffle_id = self.raffle_id.ok_or(DomainError::NotFound)?;
        if self.entry_rule.is_tickets() {
            return Err(DomainError::InvalidRaffle(
                "members enter this raffle by buying tickets".into(),
            ));
        }
        if self.cancelled.is_some() {
            return Err(DomainError::RaffleCancelled);
        }
        if self.drawn.is_some() {
            return Err(DomainError::RaffleAlreadyDrawn);
        }
        if self.ends_at.is_some_and(|end| at < end) {
            return Err(DomainError::RaffleNotEnded);
        }
        let present: HashSet<EntryId> = self.tickets.iter().map(|t| t.0).collect();
        Ok(entries
            .iter()
            .filter(|(entry_id, _)| !present.contains(entry_id))
            .map(|(entry_id, member_id)| Event::RaffleEntered {
                raffle_id,
                entry_id: *entry_id,
                member_id: *member_id,
                at,
            })
            .collect())
    }

    /// The draw with the seed whose SHA-256 the raffle published.
    pub fn draw(
        &self,
        seed: &[u8],
        by: ManagerId,
        at: Timestamp,
    ) -> Result<Vec<Event>, DomainError> {
        let raffle_id = self.raffle_id.ok_or(DomainError::NotFound)?;
        if self.cancelled.is_some() {
            return Err(DomainError::RaffleCancelled);
        }
        if self.drawn.is_some() {
            return Err(DomainError::RaffleAlreadyDrawn);
        }
        if self.ends_at.is_some_and(|end| at < end) {
            return Err(DomainError::RaffleNotEnded);
        }
        if commitment_of(seed) != self.commitment {
            return Err(DomainError::InvalidRaffle(
                "the seed does not match the raffle's commitment".into(),
            ));
        }
        Ok(vec![Event::RaffleDrawn {
            raffle_id,
            seed: hex::encode(seed),
            winning_tickets: draw_winners(seed, &self.tickets, self.winners),
            by,
            at,
        }])
    }

    /// Cancels a raffle not drawn yet; its tickets are refunded one by one after
    /// ([`decide_refund_ticket`]). Cancelling twice changes nothing.
    pub fn cancel(
        &self,
        reason: String,
        by: ManagerId,
        at: Timestamp,
    ) -> Result<Vec<Event>, DomainError> {
        let raffle_id = self.raffle_id.ok_or(DomainError::NotFound)?;
        if self.drawn.is_some() {
            return Err(DomainError::RaffleAlreadyDrawn);
        }
        if self.cancelled.is_some() {
            return Ok(vec![]);
        }
        let reason = required_reason(reason)?;
        Ok(vec![Event::RaffleCancelled {
            raffle_id,
            reason,
            by,
            at,
        }])
    }
}

/// A member buys one ticket.
pub fn decide_buy_ticket(
    raffle: &RaffleState,
    member: &MemberState,
    entry_id: EntryId,
    at: Timestamp,
) -> Result<Vec<Event>, DomainError> {
    let raffle_id = raffle.raffle_id.ok_or(DomainError::NotFound)?;
    let member_id = member.registered_id()?;
    if member.blocked {
        return Err(DomainError::MemberBlocked(member_id));
    }
    if !raffle.entry_rule.is_tickets() {
        return Err(DomainError::RaffleWithoutTickets);
    }
    if member.raffle_tickets.contains_key(&entry_id) {
        return Err(DomainError::AlreadyExists);
    }
    if raffle.cancelled.is_some() {
        return Err(DomainError::RaffleCancelled);
    }
    if raffle.drawn.is_some() || raffle.ends_at.is_some_and(|end| at >= end) {
        return Err(DomainError::RaffleClosed);
    }
    if member.tickets_in(raffle_id) >= raffle.max_tickets_per_member {
        return Err(DomainError::RaffleTicketLimit(
            raffle.max_tickets_per_member,
        ));
    }
    if member.balance < raffle.ticket_cost {
        return Err(DomainError::InsufficientBalance {
            balance: member.balance,
            needed: raffle.ticket_cost,
        });
    }
    Ok(vec![
        Event::RaffleTicketBought {
            member_id,
            entry_id,
            raffle_id,
            cost: raffle.ticket_cost,
            at,
        },
        Event::RaffleEntered {
            raffle_id,
            entry_id,
            member_id,
            at,
        },
    ])
}

/// Refunds one ticket of a cancelled raffle; a ticket refunded before changes nothing.
pub fn decide_refund_ticket(
    raffle: &RaffleState,
    member: &MemberState,
    ticket: EntryId,
    entry_id: EntryId,
    at: Timestamp,
) -> Result<Vec<Event>, DomainError> {
    let raffle_id = raffle.raffle_id.ok_or(DomainError::NotFound)?;
    let member_id = member.registered_id()?;
    if raffle.cancelled.is_none() {
        return Err(DomainError::InvalidRaffle(
            "only a cancelled raffle refunds".into(),
        ));
    }
    let held = member
        .raffle_tickets
        .get(&ticket)
        .filter(|t| t.raffle_id == raffle_id)
        .ok_or(DomainError::EntryNotFound(ticket))?;
    if held.refunded {
        return Ok(vec![]);
    }
    Ok(vec![Event::RaffleTicketRefunded {
        member_id,
        entry_id,
        raffle_id,
        ticket,
        refund: held.cost,
        at,
    }])
}

/// An activity raffle's entries, from the program's events in log order: each member who
/// earned an award matching `rule` decided (`at`) in `[rule.from, ends_at)` and not reversed
/// by a reversal decided before `ends_at` (a restoration before then counts again), once,
/// under their first such award's entry id, in the order of those awards. Events of other
/// kinds pass by, so a reader may hand over more of the log than the period.
pub fn activity_entries<'a>(
    rule: &ActivityRule,
    ends_at: Timestamp,
    log: impl IntoIterator<Item = &'a Event>,
) -> Vec<(EntryId, MemberId)> {
    let mut awards: Vec<(EntryId, MemberId)> = Vec::new();
    let mut reversed: HashSet<EntryId> = HashSet::new();
    for event in log {
        match event {
            Event::PointsAwarded {
                member_id,
                entry_id,
                activity,
                at,
                ..
            } if rule.from <= *at && *at < ends_at && rule.matches(activity) => {
                awards.push((*entry_id, *member_id));
            }
            Event::PointsReversed {
                award_entry_id, at, ..
            } if *at < ends_at => {
                reversed.insert(*award_entry_id);
            }
            Event::AwardRestored {
                award_entry_id, at, ..
            } if *at < ends_at => {
                reversed.remove(award_entry_id);
            }
            _ => {}
        }
    }
    let mut entered: HashSet<MemberId> = HashSet::new();
    awards
        .into_iter()
        .filter(|(award, _)| !reversed.contains(award))
        .filter(|(_, member)| entered.insert(*member))
        .collect()
}

/// The winning tickets: a Fisher–Yates shuffle of the tickets (in log order) whose `i`-th
/// swap index is drawn uniformly from SHA-256(seed ‖ i ‖ k) (8-byte big-endian counters; `k`
/// rejects the values that would bias the modulo), taken in shuffled order, each member
/// winning at most once, until `winners` are found or the tickets run out.
pub fn draw_winners(seed: &[u8], tickets: &[(EntryId, MemberId)], winners: u32) -> Vec<EntryId> {
    let mut order: Vec<usize> = (0..tickets.len()).collect();
    let mut won: HashSet<MemberId> = HashSet::new();
    let mut winning = Vec::new();
    for i in 0..order.len() {
        if winning.len() == winners as usize {
            break;
        }
        let remaining = (order.len() - i) as u64;
        let j = i + uniform(seed, i as u64, remaining) as usize;
        order.swap(i, j);
        let (ticket, member) = tickets[order[i]];
        if won.insert(member) {
            winning.push(ticket);
        }
    }
    winning
}

/// A number in `0..n` from the seed and a counter, without modulo bias.
fn uniform(seed: &[u8], counter: u64, n: u64) -> u64 {
    let limit = u64::MAX - u64::MAX % n;
    (0u64..)
        .map(|k| {
            let digest = Sha256::new()
                .chain_update(seed)
                .chain_update(counter.to_be_bytes())
                .chain_update(k.to_be_bytes())
                .finalize();
            let mut head = [0u8; 8];
            head.copy_from_slice(&digest[..8]);
            u64::from_be_bytes(head)
        })
        .find(|x| *x < limit)
        .map_or(0, |x| x % n)
}
