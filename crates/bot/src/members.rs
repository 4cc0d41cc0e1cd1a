//! Who a Telegram user is in the program: registration on /start (or on the first Mini App
//! call) and the member's linked Telegram chat for notifications.

use app::accounts::Accounts;
use app::ingest::observed_member_id;
use app::{AppError, Ledger};
use chrono::{DateTime, Utc};
use domain::event::LinkMethod;
use domain::identity::{IdentityState, RelinkCooldown, decide_link};
use domain::ids::{AccountRef, MemberId, ProgramId};
use domain::member::{MemberCommand, MemberState};
use domain::network::{ExternalIdentity, Network};
use domain::{DomainError, StreamId};
use store::Metadata;
use uuid::Uuid;

/// A Telegram account: user ids are global, so the scope is empty.
pub fn telegram_identity(user_id: i64) -> ExternalIdentity {
    ExternalIdentity::new(Network::Telegram, "", user_id.to_string())
}

/// The member owning this Telegram account. An unclaimed account gets a member registered and
/// linked with [`LinkMethod::Telegram`] in one append (the user proved the account by writing
/// from it). The member id is the one ingest derives for an unclaimed account, as the Mini
/// App's sign-in does, so a /start racing a first comment or a first Mini App visit converges
/// on one member; an account already seen in a group keeps its member and points.
pub async fn ensure_telegram_member(
    ledger: &Ledger,
    accounts: &Accounts,
    program_id: ProgramId,
    user_id: i64,
    at: DateTime<Utc>,
) -> Result<MemberId, AppError> {
    let prefix = StreamId::identity_prefix(program_id);
    let (identity, fresh, read) = accounts
        .resolve_with_stream(program_id, &telegram_identity(user_id), &prefix)
        .await?;
    if fresh {
        // A first visit reads none of the new account's streams.
        ledger.known_new_account(program_id, identity);
    } else if let Some(read) = read {
        // Read with the reference, so the owner below is asked of memory.
        let stream = StreamId::Identity(program_id, identity.account);
        ledger.load_read::<IdentityState>(&stream, &read)?;
    }
    if let Some(owner) = ledger.identity_owner(program_id, &identity).await? {
        return Ok(owner);
    }
    let member_id = observed_member_id(program_id, identity);
    let streams = (
        StreamId::Identity(program_id, identity.account),
        StreamId::Member(member_id),
    );
    let metadata = Metadata {
        actor: Some("platform:telegram".into()),
        ..Metadata::default()
    };
    ledger
        .execute::<(IdentityState, MemberState)>(
            program_id.0,
            Uuid::new_v4(),
            metadata,
            &streams,
            |(claimed, member)| {
                if claimed.claimed_by.is_some() {
                    return Ok(vec![]);
                }
                let mut events = if member.is_registered() {
                    vec![]
                } else {
                    member.decide(MemberCommand::Register {
                        member_id,
                        program_id,
                        at: at.into(),
                    })?
                };
                let registered = events.iter().fold(member.clone(), |s, e| s.evolve(e));
                events.extend(decide_link(
                    claimed,
                    &registered,
                    program_id,
                    identity,
                    LinkMethod::Telegram,
                    // The account's own member, as an observed one: no account changes hands.
                    RelinkCooldown::NONE,
                    at.into(),
                )?);
                Ok(events)
            },
        )
        .await?;
    // Whoever won a race to claim the account, its identity stream now names the owner.
    ledger
        .identity_owner(program_id, &identity)
        .await?
        .ok_or(AppError::Denied(DomainError::IdentityNotLinked(identity)))
}

/// The member owning this Telegram account, without registering anyone.
pub async fn telegram_member(
    ledger: &Ledger,
    accounts: &Accounts,
    program_id: ProgramId,
    user_id: i64,
) -> Result<Option<MemberId>, AppError> {
    match accounts
        .find(program_id, &telegram_identity(user_id))
        .await?
    {
        Some(account) => ledger.identity_owner(program_id, &account).await,
        None => Ok(None),
    }
}

pub async fn member_state(ledger: &Ledger, member: MemberId) -> Result<MemberState, AppError> {
    Ok(ledger
        .load::<MemberState>(&StreamId::Member(member))
        .await?
        .state)
}

/// The private chat that reaches a member: the first linked Telegram account (chat id = user
/// id in private chats). None once the member was erased.
pub async fn telegram_chat(
    accounts: &Accounts,
    state: &MemberState,
) -> Result<Option<i64>, AppError> {
    let telegram = linked_on(accounts, state, Network::Telegram).await?;
    Ok(telegram
        .iter()
        .find_map(|(_, identity)| identity.external_id.parse::<i64>().ok())
        .filter(|id| *id > 0))
}

/// The accounts the member holds on one network, with their platform ids (through the
/// mapping, which erasure deletes).
pub async fn linked_on(
    accounts: &Accounts,
    state: &MemberState,
    network: Network,
) -> Result<Vec<(AccountRef, ExternalIdentity)>, AppError> {
    let mut found = Vec::new();
    for account in state.linked.iter().filter(|a| a.network == network) {
        if let Some(identity) = accounts.platform_id(account.account).await? {
            found.push((account.account, identity));
        }
    }
    Ok(found)
}
