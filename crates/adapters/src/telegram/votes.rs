//! Reactions in groups and answers to the bot's non-anonymous polls.

use std::collections::BTreeSet;

use domain::network::{ActivityKind, Network};
use domain::privacy::PlatformActivity;

use super::wire::{PollAnswer, ReactionUpdate, User};
use super::{is_member_account, member};
use crate::signal::{Activity, Retraction, Signal};
use crate::wire::{clean_opt, unix_seconds};

/// One reaction activity per member per message, like a VK like: the first reaction earns,
/// removing the last one retracts, swapping emoji changes nothing (so it cannot farm points).
pub(super) fn reaction(update: ReactionUpdate) -> Signal {
    if update.actor_chat.is_some() {
        return Signal::Ignored {
            reason: "reaction on behalf of a chat",
        };
    }
    let Some(user) = update.user.as_ref().filter(|u| is_member_account(u)) else {
        return Signal::Ignored {
            reason: "reaction without a member",
        };
    };
    let old: BTreeSet<String> = update.old_reaction.iter().map(|r| r.key()).collect();
    let new: BTreeSet<String> = update.new_reaction.iter().map(|r| r.key()).collect();
    let added = new.difference(&old).count();
    let removed = old.difference(&new).count();
    let message = format!("{}_{}", update.chat.id, update.message_id);
    let reference = format!("reaction:{message}:{}", user.id);
    let destination = update.chat.id.to_string();
    let occurred_at = unix_seconds(update.date);
    if old.is_empty() && added > 0 {
        Signal::Activity(Activity {
            kind: ActivityKind::Reaction,
            reference,
            destination,
            target: Some(message),
            occurred_at,
            ..activity_by(user)
        })
    } else if new.is_empty() && removed > 0 {
        Signal::Retraction(Retraction {
            activity: PlatformActivity {
                network: Network::Telegram,
                kind: ActivityKind::Reaction,
                reference,
            },
            destination,
            account: Some(member(user.id)),
            retracted_by: None,
            occurred_at,
        })
    } else if added == 0 && removed == 0 {
        Signal::Ignored {
            reason: "reactions unchanged",
        }
    } else {
        Signal::Ignored {
            reason: "reactions changed, member still reacts",
        }
    }
}

/// The update names no chat: the destination is the poll, resolved by whoever sent it.
pub(super) fn poll_answer(answer: PollAnswer) -> Signal {
    if answer.voter_chat.is_some() {
        return Signal::Ignored {
            reason: "vote on behalf of a chat",
        };
    }
    let Some(user) = answer.user.as_ref().filter(|u| is_member_account(u)) else {
        return Signal::Ignored {
            reason: "vote without a member",
        };
    };
    let Some(poll_id) = answer.poll_id.into_id() else {
        return Signal::Ignored {
            reason: "vote without a poll id",
        };
    };
    let reference = format!("poll:{poll_id}:{}", user.id);
    let destination = format!("{}{poll_id}", super::POLL_DESTINATION_PREFIX);
    if answer.option_ids.is_empty() {
        return Signal::Retraction(Retraction {
            activity: PlatformActivity {
                network: Network::Telegram,
                kind: ActivityKind::PollVote,
                reference,
            },
            destination,
            account: Some(member(user.id)),
            retracted_by: None,
            occurred_at: None,
        });
    }
    Signal::Activity(Activity {
        kind: ActivityKind::PollVote,
        reference,
        destination,
        target: Some(poll_id),
        ..activity_by(user)
    })
}

/// The member-describing half of an activity; callers fill in what happened.
fn activity_by(user: &User) -> Activity {
    Activity {
        account: member(user.id),
        username: clean_opt(user.username.clone()),
        display_name: user.display_name(),
        language_code: clean_opt(user.language_code.clone()),
        kind: ActivityKind::Reaction,
        reference: String::new(),
        destination: String::new(),
        target: None,
        text: None,
        mentions: Vec::new(),
        occurred_at: None,
    }
}
