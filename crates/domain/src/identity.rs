//! External accounts: one Instagram/VK/Telegram account belongs to at most one member of a
//! program. Linking appends to the identity stream and the member stream together.

#[cfg(test)]
use crate::StreamId;
use crate::error::DomainError;
use crate::event::{Event, LinkMethod};
use crate::ids::{EntryId, MemberId, ProgramId};
use crate::member::MemberState;
use crate::network::LinkedAccount;
use crate::time::Timestamp;

/// The identity stream's state: who owns one external account within a program.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityState {
    /// The member who owns it; `None` while unclaimed or after release.
    pub claimed_by: Option<MemberId>,
    /// Who last gave the account up, and when: the start of the relink cooldown.
    pub last_release: Option<(MemberId, Timestamp)>,
}

impl IdentityState {
    /// The state after `event`; events of other streams leave it as it is.
    pub fn evolve(mut self, event: &Event) -> Self {
        match event {
            Event::IdentityClaimed { member_id, .. } => self.claimed_by = Some(*member_id),
            Event::IdentityReleased { member_id, at, .. } => {
                self.claimed_by = None;
                self.last_release = Some((*member_id, *at));
            }
            _ => {}
        }
        self
    }

    /// Refuses `member` the account while the cooldown after another member gave it up runs:
    /// an account passed from member to member would let a farm pool one account's earnings or
    /// dodge a block. The member who gave it up may take it back at any time.
    pub fn check_relink(
        &self,
        member: MemberId,
        cooldown: RelinkCooldown,
        identity: LinkedAccount,
        at: Timestamp,
    ) -> Result<(), DomainError> {
        let Some((previous, released_at)) = self.last_release else {
            return Ok(());
        };
        let until = released_at
            .checked_add(cooldown.0)
            .unwrap_or(Timestamp::new(chrono::DateTime::<chrono::Utc>::MAX_UTC));
        if previous != member && at < until {
            return Err(DomainError::RelinkCooldown {
                account: identity,
                until,
            });
        }
        Ok(())
    }
}

/// How long an account given up by one member stays closed to every other member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelinkCooldown(pub chrono::TimeDelta);

impl RelinkCooldown {
    /// No cooldown: a manager's link, which records why the account changes hands.
    pub const NONE: RelinkCooldown = RelinkCooldown(chrono::TimeDelta::zero());

    /// A cooldown of whole days, as the rules set it.
    pub fn days(days: u32) -> Self {
        RelinkCooldown(chrono::TimeDelta::days(i64::from(days)))
    }
}

/// Links `identity` to `member`: claims it on the identity stream and records it on the member
/// stream, appended together. Nothing to do if the member owns it already; refused if another
/// member does, or gave it up less than `cooldown` ago.
pub fn decide_link(
    identity_state: &IdentityState,
    member: &MemberState,
    program_id: ProgramId,
    identity: LinkedAccount,
    method: LinkMethod,
    cooldown: RelinkCooldown,
    at: Timestamp,
) -> Result<Vec<Event>, DomainError> {
    let member_id = member.registered_id()?;
    match identity_state.claimed_by {
        Some(owner) if owner == member_id => return Ok(vec![]),
        Some(_) => return Err(DomainError::IdentityAlreadyClaimed(identity)),
        None => {}
    }
    identity_state.check_relink(member_id, cooldown, identity, at)?;
    Ok(vec![
        Event::IdentityClaimed {
            program_id,
            account: identity,
            member_id,
            at,
        },
        Event::AccountLinked {
            member_id,
            account: identity,
            method,
            at,
            reason: None,
        },
    ])
}

/// Releases `identity` from `member` on both streams; refused unless the member owns it.
pub fn decide_unlink(
    identity_state: &IdentityState,
    member: &MemberState,
    program_id: ProgramId,
    identity: LinkedAccount,
    at: Timestamp,
) -> Result<Vec<Event>, DomainError> {
    let member_id = member.registered_id()?;
    if identity_state.claimed_by != Some(member_id) || !member.linked.contains(&identity) {
        return Err(DomainError::IdentityNotLinked(identity));
    }
    Ok(vec![
        Event::IdentityReleased {
            program_id,
            account: identity,
            member_id,
            at,
        },
        Event::AccountUnlinked {
            member_id,
            account: identity,
            at,
            reason: None,
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
    identity: LinkedAccount,
    at: Timestamp,
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
            account: identity,
            member_id,
            at,
        },
        Event::AccountLinked {
            member_id,
            account: identity,
            method: LinkMethod::Observed,
            at,
            reason: None,
        },
    ])
}

/// Who proves they own an account that so far earned as an observed member of its own: the
/// account moves to them, and the observed member's points move with it, all in one decision.
/// Only an observed member (one registered to stand in for this account) can be claimed, and
/// the relink cooldown holds as for [`decide_link`]: the account's activity after a real member
/// gave it up earns for its stand-in until the cooldown ends.
#[allow(clippy::too_many_arguments)]
pub fn decide_claim_observed(
    identity_state: &IdentityState,
    observed: &MemberState,
    owner: &MemberState,
    program_id: ProgramId,
    identity: LinkedAccount,
    method: LinkMethod,
    cooldown: RelinkCooldown,
    entry_id: EntryId,
    at: Timestamp,
) -> Result<Vec<Event>, DomainError> {
    let owner_id = owner.registered_id()?;
    let observed_id = observed.registered_id()?;
    let stands_in = observed.observed_account.as_ref() == Some(&identity);
    if identity_state.claimed_by != Some(observed_id) || observed_id == owner_id || !stands_in {
        return Err(DomainError::IdentityAlreadyClaimed(identity));
    }
    identity_state.check_relink(owner_id, cooldown, identity, at)?;
    if owner.blocked {
        return Err(DomainError::MemberBlocked(owner_id));
    }
    let mut events = vec![
        Event::IdentityReleased {
            program_id,
            account: identity,
            member_id: observed_id,
            at,
        },
        Event::IdentityClaimed {
            program_id,
            account: identity,
            member_id: owner_id,
            at,
        },
        Event::AccountUnlinked {
            member_id: observed_id,
            account: identity,
            at,
            reason: None,
        },
        Event::AccountLinked {
            member_id: owner_id,
            account: identity,
            method,
            at,
            reason: None,
        },
    ];
    if observed.balance != 0 {
        events.push(Event::PointsMovedOut {
            member_id: observed_id,
            entry_id,
            to_member: owner_id,
            account: identity,
            points: observed.balance,
            at,
        });
        events.push(Event::PointsMovedIn {
            member_id: owner_id,
            entry_id,
            from_member: observed_id,
            account: identity,
            points: observed.balance,
            at,
            paid_texts: observed.paid_texts(),
        });
    }
    Ok(events)
}

/// A manager's link or unlink: the decided events carry the manager's reason (trimmed;
/// refused when blank), so the log says why an account changed hands.
pub fn noting_reason(mut events: Vec<Event>, why: &str) -> Result<Vec<Event>, DomainError> {
    let why = crate::member::required_reason(why.to_string())?;
    for event in &mut events {
        if let Event::AccountLinked { reason, .. } | Event::AccountUnlinked { reason, .. } = event {
            *reason = Some(why.clone());
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Aggregate;
    use crate::network::Network;
    use uuid::Uuid;

    fn at() -> Timestamp {
        Timestamp::new(chrono::DateTime::from_timestamp(1_767_268_800, 0).unwrap_or_default())
    }

    #[test]
    fn a_managers_reason_goes_on_the_link_and_unlink_events_and_a_blank_one_is_refused() {
        let identity = LinkedAccount {
            network: Network::Instagram,
            account: crate::ids::AccountRef(Uuid::from_u128(5)),
        };
        let member = MemberId(Uuid::from_u128(6));
        let events = vec![
            Event::AccountUnlinked {
                member_id: member,
                account: identity,
                at: at(),
                reason: None,
            },
            Event::MemberRegistered {
                member_id: member,
                program_id: ProgramId(Uuid::from_u128(1)),
                at: at(),
            },
        ];
        assert_eq!(
            noting_reason(events.clone(), "  \n"),
            Err(DomainError::ReasonRequired)
        );
        let noted = noting_reason(events.clone(), " same person ").unwrap();
        assert!(matches!(
            &noted[0],
            Event::AccountUnlinked { reason: Some(r), .. } if r == "same person"
        ));
        assert_eq!(noted[1], events[1], "other events pass unchanged");
    }

    #[test]
    fn claiming_an_observed_account_moves_the_account_and_its_points() {
        let program = ProgramId(Uuid::from_u128(1));
        let identity = LinkedAccount {
            network: Network::Vk,
            account: crate::ids::AccountRef(Uuid::from_u128(77)),
        };
        let (observed_id, owner_id) = (MemberId(Uuid::from_u128(2)), MemberId(Uuid::from_u128(3)));
        let mut log = decide_register_observed(
            &IdentityState::default(),
            &MemberState::default(),
            program,
            observed_id,
            identity,
            at(),
        )
        .expect("an unclaimed account gets an observed member");
        log.push(Event::PointsAdjusted {
            member_id: observed_id,
            entry_id: EntryId(Uuid::from_u128(9)),
            delta: 30,
            reason: "earned".into(),
            note: None,
            by: "test".into(),
            compensates: None,
            at: at(),
        });
        let said = crate::privacy::PrivacyKeys::derive(&[1; 32]).text(program, "Отличный пост!");
        log.push(Event::PointsAwarded {
            member_id: observed_id,
            entry_id: EntryId(Uuid::from_u128(8)),
            activity: crate::network::ActivityRef {
                network: Network::Vk,
                kind: crate::network::ActivityKind::Comment,
                reference: "-1_2_3".into(),
            },
            points: 5,
            rule_version: 1,
            campaign_id: None,
            occurred_at: at(),
            at: at(),
            text_fingerprint: said,
        });
        log.push(Event::MemberRegistered {
            member_id: owner_id,
            program_id: program,
            at: at(),
        });
        fn of(log: &[Event], stream: StreamId) -> impl Iterator<Item = &Event> {
            log.iter().filter(move |e| e.stream() == stream)
        }
        let id_state = IdentityState::fold(of(&log, StreamId::Identity(program, identity.account)));
        let observed = MemberState::fold(of(&log, StreamId::Member(observed_id)));
        let owner = MemberState::fold(of(&log, StreamId::Member(owner_id)));
        let moved = decide_claim_observed(
            &id_state,
            &observed,
            &owner,
            program,
            identity,
            LinkMethod::Code,
            RelinkCooldown::NONE,
            EntryId(Uuid::from_u128(10)),
            at(),
        )
        .expect("an observed account can be claimed");
        log.extend(moved);
        let observed = MemberState::fold(of(&log, StreamId::Member(observed_id)));
        let owner = MemberState::fold(of(&log, StreamId::Member(owner_id)));
        let id_state = IdentityState::fold(of(&log, StreamId::Identity(program, identity.account)));
        assert_eq!((observed.balance, owner.balance), (0, 35));
        // The text the account was paid for stays paid: its new owner cannot earn it again.
        let said = said.expect("a text with letters has a fingerprint");
        assert_eq!(owner.paid_text(said), &[at()]);
        assert_eq!(id_state.claimed_by, Some(owner_id));
        assert!(owner.linked.contains(&identity) && observed.linked.is_empty());
        // A member with accounts of their own is not an observed member: no taking it.
        let again = decide_claim_observed(
            &id_state,
            &owner,
            &observed,
            program,
            identity,
            LinkMethod::Code,
            RelinkCooldown::NONE,
            EntryId(Uuid::from_u128(11)),
            at(),
        );
        assert!(again.is_err());
    }
}
