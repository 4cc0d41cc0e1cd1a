//! External accounts: one Instagram/VK/Telegram account belongs to at most one member of a
//! program. Linking appends to the identity stream and the member stream together.

use crate::error::DomainError;
use crate::event::{Event, LinkMethod};
use crate::ids::{MemberId, ProgramId};
use crate::member::MemberState;
use crate::network::ExternalIdentity;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityState {
    pub claimed_by: Option<MemberId>,
}

impl IdentityState {
    pub fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::IdentityClaimed { member_id, .. } => self.claimed_by = Some(*member_id),
            Event::IdentityReleased { .. } => self.claimed_by = None,
            _ => {}
        }
        self
    }
}

pub fn decide_link(
    identity_state: &IdentityState,
    member: &MemberState,
    program_id: ProgramId,
    identity: ExternalIdentity,
    method: LinkMethod,
    at: DateTime<Utc>,
) -> Result<Vec<Event>, DomainError> {
    let member_id = member.member_id.ok_or(DomainError::MemberNotRegistered)?;
    match identity_state.claimed_by {
        Some(owner) if owner == member_id => return Ok(vec![]),
        Some(_) => return Err(DomainError::IdentityAlreadyClaimed(identity)),
        None => {}
    }
    Ok(vec![
        Event::IdentityClaimed {
            program_id,
            identity: identity.clone(),
            member_id,
            at,
        },
        Event::AccountLinked {
            member_id,
            identity,
            method,
            at,
        },
    ])
}

pub fn decide_unlink(
    identity_state: &IdentityState,
    member: &MemberState,
    program_id: ProgramId,
    identity: ExternalIdentity,
    at: DateTime<Utc>,
) -> Result<Vec<Event>, DomainError> {
    let member_id = member.member_id.ok_or(DomainError::MemberNotRegistered)?;
    if identity_state.claimed_by != Some(member_id) || !member.linked.contains(&identity) {
        return Err(DomainError::IdentityNotLinked(identity));
    }
    Ok(vec![
        Event::IdentityReleased {
            program_id,
            identity: identity.clone(),
            member_id,
            at,
        },
        Event::AccountUnlinked {
            member_id,
            identity,
            at,
        },
    ])
}

/// The first activity of an account nobody has claimed: a member of its own is registered and
/// claims the account, so the activity is credited and nothing is lost.
pub fn decide_register_observed(
    identity_state: &IdentityState,
    member: &MemberState,
    program_id: ProgramId,
    member_id: MemberId,
    identity: ExternalIdentity,
    at: DateTime<Utc>,
) -> Result<Vec<Event>, DomainError> {
    if identity_state.claimed_by.is_some() || member.is_registered() {
        return Ok(vec![]);
    }
    Ok(vec![
        Event::MemberRegistered {
            member_id,
            program_id,
            at,
        },
        Event::IdentityClaimed {
            program_id,
            identity: identity.clone(),
            member_id,
            at,
        },
        Event::AccountLinked {
            member_id,
            identity,
            method: LinkMethod::Observed,
            at,
        },
    ])
}
