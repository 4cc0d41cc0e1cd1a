//! `chat_member` (members joining and leaving) and `my_chat_member` (the bot's own rights).

use super::wire::ChatMemberUpdated;
use super::{is_member_account, member};
use crate::signal::{BotRole, BotStatus, MembershipChange, MembershipEvent, Signal};
use crate::wire::{clean_opt, unix_seconds};

/// Compares presence before and after: a restricted member who is still in stays a member,
/// and the subject is always `new_chat_member.user` (`from` may be the admin who acted).
pub(super) fn chat_member(update: ChatMemberUpdated) -> Signal {
    let subject = &update.new_chat_member.user;
    if !is_member_account(subject) {
        return Signal::Ignored {
            reason: "membership of a bot or service account",
        };
    }
    let was = update.old_chat_member.is_present();
    let is = update.new_chat_member.is_present();
    let change = match (was, is) {
        (false, true) => MembershipEvent::Joined,
        (true, false) => {
            let by_self = update.from.as_ref().is_some_and(|f| f.id == subject.id);
            if by_self && update.new_chat_member.status != "kicked" {
                MembershipEvent::Left
            } else {
                MembershipEvent::Removed
            }
        }
        _ => {
            return Signal::Ignored {
                reason: "membership unchanged",
            };
        }
    };
    let invite_link = update
        .invite_link
        .and_then(|l| clean_opt(l.name).or(clean_opt(l.invite_link)));
    Signal::Membership(MembershipChange {
        account: member(subject.id),
        username: clean_opt(subject.username.clone()),
        display_name: subject.display_name(),
        language_code: clean_opt(subject.language_code.clone()),
        destination: update.chat.id.to_string(),
        change,
        invite_link,
        occurred_at: unix_seconds(update.date),
    })
}

pub(super) fn my_chat_member(update: ChatMemberUpdated) -> Signal {
    let new = &update.new_chat_member;
    let role = match new.status.as_str() {
        "creator" | "administrator" => BotRole::Administrator,
        _ if new.is_present() => BotRole::Member,
        _ => BotRole::Removed,
    };
    Signal::BotStatus(BotStatus {
        chat_id: update.chat.id.to_string(),
        chat_type: crate::wire::clean(&update.chat.kind),
        chat_title: crate::wire::clean_opt(update.chat.title.clone()),
        role,
        changed_by: update
            .from
            .as_ref()
            .filter(|f| f.id > 0)
            .map(|f| member(f.id)),
        occurred_at: unix_seconds(update.date),
    })
}
