//! On-demand subscription checks: is the member in the program's VK groups (`groups.isMember`)
//! and Telegram channels (`getChatMember`), asked with each linked account? The answer goes
//! through Ingest's membership path, so the one-time bonus is paid, restored or reversed
//! exactly as a `group_join` / `chat_member` webhook would. Instagram cannot say who follows.

mod stored;

pub use stored::{recent, save};

use super::{BotError, members, vk_client};
use adapters::signal::{MembershipChange, MembershipEvent, Signal};
use app::AppContext;
use app::ProgramContext;
use app::ingest::Handled;
use chrono::Utc;
use clients::ClientError;
use domain::ids::AccountRef;
use domain::ids::MemberId;
use domain::ids::ProgramId;
use domain::member::MemberState;
use domain::network::{ActivityKind, ExternalIdentity, Network};
use domain::privacy::PlatformActivity;
use serde::{Deserialize, Serialize};
use store::Metadata;
use utoipa::ToSchema;

/// Whether the member is in a channel, as the platform answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Subscribed,
    NotSubscribed,
    /// The member has no linked account on this network.
    NotLinked,
    /// The platform could not be asked (not configured, bot not admin, error); see `detail`.
    Unavailable,
    /// The platform does not tell (Instagram).
    Impossible,
}

/// What the check did to the one-time subscription bonus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bonus {
    None,
    Awarded,
    Restored,
    /// Paid before and still standing.
    AlreadyPaid,
    Reversed,
    /// Not subscribed any more, but the program keeps the bonus (`reverse_on_leave` off).
    Kept,
    /// The ledger refused it (daily cap, blocked member…); see `detail`.
    Refused,
    /// Recorded, and held for a manager's review: it pays once approved.
    Held,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelStatus {
    /// `vk`, `telegram` or `instagram`.
    pub network: String,
    /// VK group id or Telegram chat id; none for Instagram.
    pub channel: Option<String>,
    pub status: CheckStatus,
    pub bonus: Bonus,
    /// Points the bonus change moved (negative for a reversal).
    pub points: Option<i64>,
    pub detail: Option<String>,
}

impl ChannelStatus {
    fn new(network: Network, channel: Option<&str>, status: CheckStatus) -> Self {
        ChannelStatus {
            network: network.as_str().to_owned(),
            channel: channel.map(str::to_owned),
            status,
            bonus: Bonus::None,
            points: None,
            detail: None,
        }
    }
}

pub(crate) const INSTAGRAM_HINT: &str = "Instagram does not say who follows an account: comment the \
    campaign's codeword under the brand's post instead";

/// Checks every VK group and Telegram chat of the member's program with every linked account
/// there, and settles the subscription bonus; Instagram is reported as impossible.
pub async fn check_member(
    state: &AppContext,
    member: MemberId,
) -> Result<Vec<ChannelStatus>, BotError> {
    let ledger = state.ledger();
    let member_state = members::member_state(ledger, member).await?;
    let Some(program_id) = member_state.program_id else {
        return Err(BotError::App(
            domain::DomainError::MemberNotRegistered.into(),
        ));
    };
    let program = ledger.program(program_id).await?;
    let channels: Vec<(String, String)> = sqlx::query_as(
        "SELECT network, destination FROM channels WHERE program_id = $1 \
         AND network IN ('vk', 'telegram') ORDER BY network, destination",
    )
    .bind(program_id.0)
    .fetch_all(&state.pool)
    .await?;
    let mut statuses = Vec::with_capacity(channels.len() + 1);
    for (network, channel) in channels {
        let Some(network) = Network::parse(&network) else {
            continue;
        };
        let accounts = members::linked_on(state.accounts(), &member_state, network).await?;
        let status = check_channel(
            state,
            &program,
            &member_state,
            member,
            network,
            &channel,
            &accounts,
        )
        .await?;
        statuses.push(status);
    }
    let mut instagram = ChannelStatus::new(Network::Instagram, None, CheckStatus::Impossible);
    instagram.detail = Some(INSTAGRAM_HINT.to_owned());
    statuses.push(instagram);
    Ok(statuses)
}

async fn check_channel(
    state: &AppContext,
    program: &ProgramContext,
    member_state: &MemberState,
    member: MemberId,
    network: Network,
    channel: &str,
    accounts: &[(AccountRef, ExternalIdentity)],
) -> Result<ChannelStatus, BotError> {
    let mut status = ChannelStatus::new(network, Some(channel), CheckStatus::NotLinked);
    let mut errors = Vec::new();
    let mut subscribed = None;
    for (reference, account) in accounts {
        match is_member(state, program.program_id, network, channel, account).await {
            Ok(true) => {
                subscribed = Some((*reference, account));
                break;
            }
            Ok(false) => {}
            Err(e) => errors.push(e),
        }
    }
    // The bonus is one activity per account and channel: its key holds the account.
    let joined = PlatformActivity {
        network,
        kind: ActivityKind::Subscription,
        reference: channel.to_owned(),
    };
    let award_of = |account: AccountRef| {
        let key = state
            .accounts()
            .authored_activity(program.program_id, &joined, account)
            .key();
        member_state.awards.get(&key)
    };
    if let Some((reference, account)) = subscribed {
        let award = award_of(reference);
        let standing = award.is_some_and(|a| !a.reversed);
        status.status = CheckStatus::Subscribed;
        if standing {
            status.bonus = Bonus::AlreadyPaid;
            return Ok(status);
        }
        let handled = membership(state, program, account, channel, MembershipEvent::Joined).await?;
        settle(&mut status, handled, award.map(|a| a.points));
    } else if !errors.is_empty() {
        status.status = CheckStatus::Unavailable;
        status.detail = Some(errors.join("; "));
    } else if !accounts.is_empty() {
        status.status = CheckStatus::NotSubscribed;
        let standing = accounts.iter().find_map(|(reference, account)| {
            award_of(*reference)
                .filter(|a| !a.reversed)
                .map(|a| (account, a.points))
        });
        if let Some((account, points)) = standing {
            let handled =
                membership(state, program, account, channel, MembershipEvent::Left).await?;
            settle(&mut status, handled, Some(points));
        }
    }
    tracing::debug!(%member, %network, channel, status = ?status.status, bonus = ?status.bonus, "subscription checked");
    Ok(status)
}

/// Asks the platform; `Err` is a reason for the member, without secrets.
async fn is_member(
    state: &AppContext,
    program: ProgramId,
    network: Network,
    channel: &str,
    account: &ExternalIdentity,
) -> Result<bool, String> {
    let user: i64 = account
        .external_id
        .parse()
        .map_err(|_| "the linked account id is not numeric".to_owned())?;
    let chat: i64 = channel
        .parse()
        .map_err(|_| "the channel id is not numeric".to_owned())?;
    let answer = match network {
        Network::Vk => {
            let vk = vk_client(state).ok_or("the VK API is not configured")?;
            vk.is_member(chat.abs(), user).await
        }
        Network::Telegram => {
            // The program's own bot is the one its chats made an administrator.
            let bot = crate::Bot::for_program(state, program)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the Telegram bot is not configured")?;
            bot.telegram
                .get_chat_member(chat, user)
                .await
                .map(|m| m.is_member())
        }
        Network::Instagram => return Err(INSTAGRAM_HINT.to_owned()),
    };
    answer.map_err(|e| {
        tracing::warn!(%network, channel, error = %e, "subscription check failed");
        match e {
            ClientError::ChatNotFound | ClientError::Forbidden { .. } => {
                "the bot cannot see this chat: it must be an administrator there".to_owned()
            }
            ClientError::Telegram { code: 400, .. } => {
                "Telegram refused: the bot must be an administrator of the channel".to_owned()
            }
            other => format!("{network} did not answer: {other}"),
        }
    })
}

async fn membership(
    state: &AppContext,
    program: &ProgramContext,
    account: &ExternalIdentity,
    channel: &str,
    change: MembershipEvent,
) -> Result<Vec<Handled>, BotError> {
    let now = Utc::now();
    let signal = Signal::Membership(MembershipChange {
        account: account.clone(),
        username: None,
        display_name: None,
        language_code: None,
        destination: channel.to_owned(),
        change,
        invite_link: None,
        occurred_at: Some(now),
    });
    let metadata = Metadata {
        actor: Some("subscription-check".into()),
        ..Metadata::default()
    };
    Ok(state.ingest.handle(program, &signal, metadata, now).await?)
}

fn settle(status: &mut ChannelStatus, handled: Vec<Handled>, award_points: Option<i64>) {
    let Some(handled) = handled.into_iter().next() else {
        return;
    };
    (status.bonus, status.points) = match handled {
        Handled::Awarded { points } => (Bonus::Awarded, Some(points)),
        Handled::Held { points } => (Bonus::Held, Some(points)),
        Handled::Restored => (Bonus::Restored, award_points),
        Handled::Reversed => (Bonus::Reversed, award_points.map(|p| -p)),
        Handled::Duplicate => (Bonus::AlreadyPaid, None),
        Handled::Ignored(_) if status.status == CheckStatus::NotSubscribed => (Bonus::Kept, None),
        Handled::Denied(denied) => {
            status.detail = Some(denied.to_string());
            (Bonus::Refused, None)
        }
        _ => (Bonus::None, None),
    };
}
