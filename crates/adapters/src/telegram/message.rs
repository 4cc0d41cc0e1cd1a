//! Group and discussion-group messages (comments) and private messages to the bot.

use domain::network::ActivityKind;

use super::wire::{Entity, Message};
use super::{is_member_account, member};
use crate::signal::{
    Activity, BotCommand, BotMessage, CommandName, Edit, GroupCommand, GroupReply, Signal,
};
use crate::text::{push_unique, utf16_slice};
use crate::wire::{clean, clean_opt, unix_seconds};

pub(super) fn message(msg: Message, edited: bool) -> Vec<Signal> {
    if let Some(to) = msg.migrate_to_chat_id {
        return vec![migrated(msg.chat.id, to)];
    }
    if let Some(from) = msg.migrate_from_chat_id {
        return vec![migrated(from, msg.chat.id)];
    }
    match msg.chat.kind.as_str() {
        "private" if edited => vec![Signal::Ignored {
            reason: "edited private message",
        }],
        "private" => vec![bot_message(msg)],
        "group" | "supergroup" => {
            let reply = (!edited).then(|| bot_reply(&msg)).flatten();
            let mut signals = vec![group_message(msg, edited)];
            signals.extend(reply);
            signals
        }
        _ => vec![Signal::Ignored {
            reason: "message outside a group",
        }],
    }
}

/// A text answering a message of a bot (the only bot whose messages this one receives is
/// itself), written by a person.
fn bot_reply(msg: &Message) -> Option<Signal> {
    let replied = msg.reply_to_message.as_ref()?;
    if !replied.from.as_ref().is_some_and(|u| u.is_bot) {
        return None;
    }
    let from = msg.from.as_ref().filter(|u| is_member_account(u))?;
    if msg.sender_chat.is_some() {
        return None;
    }
    Some(Signal::GroupReply(GroupReply {
        chat_id: msg.chat.id,
        message_id: msg.message_id,
        reply_to_message_id: replied.message_id,
        user_id: from.id,
        language_code: clean_opt(from.language_code.clone()),
        text: clean(msg.text.as_deref()?),
    }))
}

fn migrated(from: i64, to: i64) -> Signal {
    Signal::ChatMigrated {
        from_chat_id: from.to_string(),
        to_chat_id: to.to_string(),
    }
}

fn group_message(msg: Message, edited: bool) -> Signal {
    if msg.is_automatic_forward {
        return Signal::Ignored {
            reason: "channel post forwarded to its discussion group",
        };
    }
    // Anonymous admins and members posting as a channel have no member to credit.
    if msg.sender_chat.is_some() {
        return Signal::Ignored {
            reason: "message sent on behalf of a chat",
        };
    }
    let Some(from) = msg.from.as_ref().filter(|u| is_member_account(u)) else {
        return Signal::Ignored {
            reason: "message not written by a member",
        };
    };
    let (text, entities) = match (&msg.text, &msg.caption) {
        (Some(text), _) => (Some(text.as_str()), &msg.entities),
        (None, Some(caption)) => (Some(caption.as_str()), &msg.caption_entities),
        (None, None) if msg.has_media() => (None, &msg.entities),
        (None, None) => {
            return Signal::Ignored {
                reason: "service message",
            };
        }
    };
    // `/report`, `/top@brand_bot`: asking the bot something is not taking part.
    if let Some(command) = msg.text.as_deref().and_then(command) {
        if command.name == CommandName::Managers && !edited {
            return Signal::GroupCommand(GroupCommand {
                chat_id: msg.chat.id,
                chat_title: clean_opt(msg.chat.title.clone()),
                message_id: msg.message_id,
                user_id: from.id,
                language_code: clean_opt(from.language_code.clone()),
                command,
            });
        }
        return Signal::Ignored {
            reason: "bot command in a group",
        };
    }
    let chat_id = msg.chat.id;
    let activity = Activity {
        account: member(from.id),
        username: clean_opt(from.username.clone()),
        display_name: from.display_name(),
        language_code: clean_opt(from.language_code.clone()),
        kind: ActivityKind::Comment,
        // Message ids are per chat.
        reference: format!("{chat_id}_{}", msg.message_id),
        destination: chat_id.to_string(),
        target: target(&msg),
        mentions: text.map(|t| mentions(t, entities)).unwrap_or_default(),
        text: text.map(clean),
        occurred_at: unix_seconds(msg.date),
    };
    if edited {
        Signal::Edit(Edit {
            activity,
            edited_at: unix_seconds(msg.edit_date),
        })
    } else {
        Signal::Activity(activity)
    }
}

/// The channel post a discussion comment answers (`<channel id>_<post id>`) when it replies to
/// the auto-forward; otherwise the thread root in the group, if any.
fn target(msg: &Message) -> Option<String> {
    if let Some(reply) = msg
        .reply_to_message
        .as_ref()
        .filter(|r| r.is_automatic_forward)
    {
        let origin = reply.forward_origin.as_ref();
        if let Some((chat, post)) = origin.and_then(|o| Some((o.chat.as_ref()?.id, o.message_id?)))
        {
            return Some(format!("{chat}_{post}"));
        }
        return Some(format!("{}_{}", msg.chat.id, reply.message_id));
    }
    msg.message_thread_id
        .map(|thread| format!("{}_{thread}", msg.chat.id))
}

/// `@username` entities (lower case, without `@`) and text mentions of users without one (id).
fn mentions(text: &str, entities: &[Entity]) -> Vec<String> {
    let mut found = Vec::new();
    for entity in entities {
        match entity.kind.as_str() {
            "mention" => {
                let (Ok(offset), Ok(length)) = (
                    usize::try_from(entity.offset),
                    usize::try_from(entity.length),
                ) else {
                    continue;
                };
                if let Some(handle) = utf16_slice(text, offset, length) {
                    let handle = clean(handle.trim_start_matches('@')).to_lowercase();
                    if !handle.is_empty() {
                        push_unique(&mut found, handle);
                    }
                }
            }
            "text_mention" => {
                if let Some(user) = &entity.user {
                    push_unique(&mut found, user.id.to_string());
                }
            }
            _ => {}
        }
    }
    found
}

fn bot_message(msg: Message) -> Signal {
    let Some(from) = msg.from.as_ref().filter(|u| is_member_account(u)) else {
        return Signal::Ignored {
            reason: "private message not from a member",
        };
    };
    let Some(text) = msg.text.as_deref().or(msg.caption.as_deref()).map(clean) else {
        return Signal::Ignored {
            reason: "private message without text",
        };
    };
    Signal::BotMessage(BotMessage {
        chat_id: msg.chat.id,
        message_id: msg.message_id,
        account: member(from.id),
        username: clean_opt(from.username.clone()),
        display_name: from.display_name(),
        language_code: clean_opt(from.language_code.clone()),
        command: command(&text),
        text,
        occurred_at: unix_seconds(msg.date),
    })
}

/// Bot API command names: 1–32 of `a-z`, `0-9`, `_`.
const MAX_COMMAND_LEN: usize = 32;

/// `/name[@bot] [args]`; anything else is plain text (a codeword or a link code).
pub(crate) fn command(text: &str) -> Option<BotCommand> {
    let rest = text.trim_start().strip_prefix('/')?;
    let (head, args) = match rest.split_once(char::is_whitespace) {
        Some((head, args)) => (head, args.trim()),
        None => (rest, ""),
    };
    let name = head
        .split_once('@')
        .map_or(head, |(name, _bot)| name)
        .to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= MAX_COMMAND_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return None;
    }
    let name = match name.as_str() {
        "start" => CommandName::Start,
        "balance" => CommandName::Balance,
        "history" => CommandName::History,
        "top" => CommandName::Top,
        "link" => CommandName::Link,
        "help" => CommandName::Help,
        "forget" => CommandName::Forget,
        "stop" => CommandName::Stop,
        "resume" => CommandName::Resume,
        "managers" => CommandName::Managers,
        _ => CommandName::Other(name),
    };
    let args = (!args.is_empty()).then(|| args.to_owned());
    Some(BotCommand { name, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(text: &str) -> Option<(CommandName, Option<String>)> {
        command(text).map(|c| (c.name, c.args))
    }

    #[test]
    fn parses_commands_with_bot_suffix_and_args() {
        assert_eq!(
            cmd("/start ref_42"),
            Some((CommandName::Start, Some("ref_42".into())))
        );
        assert_eq!(
            cmd("/Balance@brand_points_bot"),
            Some((CommandName::Balance, None))
        );
        assert_eq!(
            cmd("/link  LINK-7Q4M-2KXD "),
            Some((CommandName::Link, Some("LINK-7Q4M-2KXD".into())))
        );
        assert_eq!(
            cmd("/history\n2"),
            Some((CommandName::History, Some("2".into())))
        );
        assert_eq!(
            cmd("/promo"),
            Some((CommandName::Other("promo".into()), None))
        );
    }

    #[test]
    fn plain_text_is_not_a_command() {
        assert_eq!(cmd("СЕКРЕТ"), None);
        assert_eq!(cmd("/"), None);
        assert_eq!(cmd("/секрет"), None);
        assert_eq!(cmd("a /start"), None);
    }
}
