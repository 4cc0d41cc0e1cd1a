//! Telegram update fixtures, plus the shapes that make teloxide-core panic.

use adapters::telegram::{SECRET_TOKEN_HEADER, TelegramUpdate, parse, secret_matches};
use adapters::{BotRole, CommandName, MembershipEvent, Signal};
use domain::network::{ActivityKind, ExternalIdentity, Network};

use crate::support::*;

pub const EXERCISED: &[&str] = &[
    "channel_post.json",
    "chat_join_request.json",
    "chat_member_joined.json",
    "chat_member_kicked.json",
    "chat_member_left.json",
    "chat_member_restricted_still_member.json",
    "chat_member_via_join_request.json",
    "edited_message_group.json",
    "message_anonymous_admin.json",
    "message_discussion_comment.json",
    "message_group.json",
    "message_reaction.json",
    "message_reaction_anonymous.json",
    "message_reaction_changed.json",
    "message_reaction_count_channel.json",
    "message_reaction_removed.json",
    "my_chat_member_promoted.json",
    "poll_answer.json",
    "poll_answer_retracted.json",
    "poll_answer_voter_chat.json",
];

const CHANNEL: &str = "-1001122334455";
const GROUP: &str = "-1002233445566";

fn update(file: &str) -> TelegramUpdate {
    parse(&fixture(&format!("telegram/{file}"))).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn signal(file: &str) -> Signal {
    only(&update(file).signals).clone()
}

fn tg(id: i64) -> ExternalIdentity {
    ExternalIdentity::new(Network::Telegram, "", id.to_string())
}

#[test]
fn webhook_secret_token_is_compared_in_constant_time() {
    assert_eq!(SECRET_TOKEN_HEADER, "x-telegram-bot-api-secret-token");
    let secret = "tg-fixture-secret_9xQ-2";
    assert!(secret_matches(secret, Some("tg-fixture-secret_9xQ-2")));
    assert!(!secret_matches(secret, Some("tg-fixture-secret_9xQ-3")));
    assert!(!secret_matches(secret, None));
}

#[test]
fn group_message_is_a_comment_with_the_codeword() {
    let u = update("message_group.json");
    assert_eq!(u.delivery_key(), "telegram:900000101");
    let a = activity(only(&u.signals));
    assert_eq!(a.account, tg(5000000001));
    assert_eq!(a.username.as_deref(), Some("anna_runs"));
    assert_eq!(a.display_name.as_deref(), Some("Анна Смирнова"));
    assert_eq!(a.language_code.as_deref(), Some("ru"));
    assert_eq!(a.kind, ActivityKind::Comment);
    assert_eq!(a.reference, "-1002233445566_4101");
    assert_eq!(a.destination, GROUP);
    assert_eq!(a.text.as_deref(), Some("Кодовое слово: СЕКРЕТ"));
    assert_eq!(a.occurred_at, secs(1767268800));
    assert_eq!(a.target, None);
}

#[test]
fn edit_keeps_the_reference_and_carries_the_new_text() {
    let original = signal("message_group.json");
    let edited = signal("edited_message_group.json");
    let e = edit(&edited);
    assert_eq!(
        e.activity.platform_activity(),
        activity(&original).platform_activity()
    );
    assert_eq!(e.activity.text.as_deref(), Some("Кодовое слово: СЕКРЕТ!!"));
    assert_eq!(e.edited_at, secs(1767268830));
    assert_eq!(e.activity.occurred_at, secs(1767268800));
}

#[test]
fn discussion_comment_targets_the_channel_post() {
    let s = signal("message_discussion_comment.json");
    let a = activity(&s);
    assert_eq!(a.account, tg(5000000002));
    assert_eq!(a.reference, "-1002233445566_4102");
    assert_eq!(a.destination, GROUP);
    assert_eq!(a.target.as_deref(), Some("-1001122334455_310"));
    assert_eq!(a.text.as_deref(), Some("cekpet"));
    assert_eq!(a.display_name.as_deref(), Some("Boris"));
}

#[test]
fn no_member_behind_admin_channel_or_counts() {
    assert_eq!(
        ignored(&signal("message_anonymous_admin.json")),
        "message sent on behalf of a chat"
    );
    assert_eq!(
        ignored(&signal("channel_post.json")),
        "channel post has no member author"
    );
    assert_eq!(
        ignored(&signal("message_reaction_count_channel.json")),
        "reaction counts name no member"
    );
    assert_eq!(
        ignored(&signal("message_reaction_anonymous.json")),
        "reaction on behalf of a chat"
    );
    assert_eq!(
        ignored(&signal("poll_answer_voter_chat.json")),
        "vote on behalf of a chat"
    );
    assert_eq!(
        ignored(&signal("chat_join_request.json")),
        "join request is not membership"
    );
}

#[test]
fn reactions_added_changed_removed() {
    let added = signal("message_reaction.json");
    let a = activity(&added);
    assert_eq!(
        (a.account.clone(), a.kind),
        (tg(5000000001), ActivityKind::Reaction)
    );
    assert_eq!(a.reference, "reaction:-1002233445566_4090:5000000001");
    assert_eq!(a.target.as_deref(), Some("-1002233445566_4090"));
    assert_eq!(a.destination, GROUP);
    assert_eq!(a.occurred_at, secs(1767268950));

    // 🔥 → ❤ + custom emoji: still one reaction by Anna on that message.
    assert_eq!(
        ignored(&signal("message_reaction_changed.json")),
        "reactions changed, member still reacts"
    );

    let removed = signal("message_reaction_removed.json");
    let r = retraction(&removed);
    assert_eq!(r.activity, a.platform_activity());
    assert_eq!(r.account, Some(tg(5000000001)));
}

#[test]
fn poll_answer_and_retraction() {
    let vote = signal("poll_answer.json");
    let v = activity(&vote);
    assert_eq!(
        (v.account.clone(), v.kind),
        (tg(5000000001), ActivityKind::PollVote)
    );
    assert_eq!(v.reference, "poll:5210000000000000001:5000000001");
    assert_eq!(v.destination, "poll:5210000000000000001");
    assert_eq!(v.target.as_deref(), Some("5210000000000000001"));
    let retracted = signal("poll_answer_retracted.json");
    assert_eq!(retraction(&retracted).activity, v.platform_activity());
}

#[test]
fn channel_membership_changes() {
    let joined = signal("chat_member_joined.json");
    let m = membership(&joined);
    assert_eq!(
        (m.account.clone(), m.change),
        (tg(5000000001), MembershipEvent::Joined)
    );
    assert_eq!(m.destination, CHANNEL);
    assert_eq!(m.invite_link.as_deref(), Some("autumn-campaign"));
    assert_eq!(m.occurred_at, secs(1767269010));

    let left = signal("chat_member_left.json");
    assert_eq!(membership(&left).change, MembershipEvent::Left);
    assert_eq!(membership(&left).account, tg(5000000001));

    let kicked = signal("chat_member_kicked.json");
    assert_eq!(
        (
            membership(&kicked).account.clone(),
            membership(&kicked).change
        ),
        (tg(5000000002), MembershipEvent::Removed)
    );

    let approved = signal("chat_member_via_join_request.json");
    let m = membership(&approved);
    assert_eq!(
        (m.account.clone(), m.change),
        (tg(5000000002), MembershipEvent::Joined)
    );
    assert_eq!(m.invite_link.as_deref(), Some("vip-requests"));

    let restricted = signal("chat_member_restricted_still_member.json");
    assert_eq!(ignored(&restricted), "membership unchanged");
}

#[test]
fn bot_promoted_to_channel_admin() {
    let s = signal("my_chat_member_promoted.json");
    let status = bot_status(&s);
    assert_eq!(status.chat_id, CHANNEL);
    assert_eq!(status.chat_type, "channel");
    assert_eq!(status.role, BotRole::Administrator);
    assert_eq!(status.changed_by, Some(tg(5000000009)));
}

/// Builds an update around a message in Anna's private chat with the bot.
fn private(text: &str) -> Vec<u8> {
    serde_json::json!({"update_id": 1, "message": {
        "message_id": 7, "date": 1767268800, "text": text,
        "from": {"id": 5000000001_i64, "is_bot": false, "first_name": "Анна", "language_code": "ru"},
        "chat": {"id": 5000000001_i64, "type": "private", "first_name": "Анна"}}})
    .to_string()
    .into_bytes()
}

#[test]
fn private_messages_become_bot_messages() {
    let cases = [
        (
            "/start camp_autumn",
            Some((CommandName::Start, Some("camp_autumn"))),
        ),
        ("/balance", Some((CommandName::Balance, None))),
        (
            "/history@brand_points_bot 2",
            Some((CommandName::History, Some("2"))),
        ),
        ("/top", Some((CommandName::Top, None))),
        (
            "/link LINK-7Q4M-2KXD",
            Some((CommandName::Link, Some("LINK-7Q4M-2KXD"))),
        ),
        ("/help", Some((CommandName::Help, None))),
        ("СЕКРЕТ", None),
    ];
    for (text, expected) in cases {
        let u = parse(&private(text)).unwrap();
        let m = bot_message(only(&u.signals));
        assert_eq!(
            (m.chat_id, m.message_id, m.account.clone()),
            (5000000001, 7, tg(5000000001))
        );
        assert_eq!(
            (m.text.as_str(), m.language_code.as_deref()),
            (text, Some("ru"))
        );
        let got = m
            .command
            .as_ref()
            .map(|c| (c.name.clone(), c.args.as_deref()));
        assert_eq!(got, expected, "{text}");
    }
}

#[test]
fn entities_give_mentions_by_utf16_offsets() {
    let body = serde_json::json!({"update_id": 2, "message": {
        "message_id": 9, "date": 1, "text": "🎉 @Brand_Chat и Анна\u{0}",
        "entities": [{"type": "mention", "offset": 3, "length": 11},
                     {"type": "text_mention", "offset": 17, "length": 4, "user": {"id": 5000000001_i64, "first_name": "Анна"}},
                     {"type": "mention", "offset": 999, "length": 4},
                     {"type": "mention", "offset": -1, "length": 4}],
        "from": {"id": 5000000002_i64, "first_name": "Boris"},
        "chat": {"id": -1002233445566_i64, "type": "supergroup"}}});
    let u = parse(body.to_string().as_bytes()).unwrap();
    let a = activity(only(&u.signals));
    assert_eq!(a.mentions, ["brand_chat", "5000000001"]);
    assert_eq!(
        a.text.as_deref(),
        Some("🎉 @Brand_Chat и Анна"),
        "NUL removed"
    );
}

#[test]
fn updates_without_an_actor_do_not_panic() {
    // teloxide-core 0.13 unwraps here; we ignore them.
    let reaction = br#"{"update_id":3,"message_reaction":{"chat":{"id":-1,"type":"supergroup"},"message_id":1,"date":1,"old_reaction":[],"new_reaction":[{"type":"emoji","emoji":"x"}]}}"#;
    assert_eq!(
        ignored(only(&parse(reaction).unwrap().signals)),
        "reaction without a member"
    );
    let vote = br#"{"update_id":4,"poll_answer":{"poll_id":"1","option_ids":[0]}}"#;
    assert_eq!(
        ignored(only(&parse(vote).unwrap().signals)),
        "vote without a member"
    );
}

#[test]
fn service_messages_migration_and_unknown_kinds() {
    let migrate = br#"{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":-42,"type":"group"},"from":{"id":5,"first_name":"A"},"migrate_to_chat_id":-100042}}"#;
    let s = only(&parse(migrate).unwrap().signals).clone();
    assert_eq!(
        s,
        Signal::ChatMigrated {
            from_chat_id: "-42".into(),
            to_chat_id: "-100042".into()
        }
    );
    let joined = br#"{"update_id":6,"message":{"message_id":2,"date":1,"chat":{"id":-42,"type":"group"},"from":{"id":5,"first_name":"A"},"new_chat_members":[]}}"#;
    assert_eq!(
        ignored(only(&parse(joined).unwrap().signals)),
        "service message"
    );
    let photo = br#"{"update_id":7,"message":{"message_id":3,"date":1,"chat":{"id":-42,"type":"group"},"from":{"id":5,"first_name":"A"},"photo":[]}}"#;
    assert_eq!(activity(only(&parse(photo).unwrap().signals)).text, None);
    let inline = br#"{"update_id":8,"inline_query":{"id":"1"}}"#;
    assert_eq!(
        ignored(only(&parse(inline).unwrap().signals)),
        "update kind not used"
    );
}

/// What the managers' chat reads: `/managers` in a group, a pressed button, and a reply to
/// the bot's question (beside the comment the same message is).
#[test]
fn managers_chat_commands_buttons_and_replies() {
    use adapters::signal::{CommandName, Signal};
    let command = br#"{"update_id":9,"message":{"message_id":4,"date":1,"chat":{"id":-42,"type":"supergroup","title":"Staff"},"from":{"id":5,"first_name":"A","language_code":"en"},"text":"/managers@brand_bot off"}}"#;
    match only(&parse(command).unwrap().signals) {
        Signal::GroupCommand(c) => {
            assert_eq!((c.chat_id, c.user_id), (-42, 5));
            assert_eq!(c.chat_title.as_deref(), Some("Staff"));
            assert_eq!(c.command.name, CommandName::Managers);
            assert_eq!(c.command.args.as_deref(), Some("off"));
        }
        other => panic!("expected a group command, got {other:?}"),
    }
    let other = br#"{"update_id":10,"message":{"message_id":5,"date":1,"chat":{"id":-42,"type":"group"},"from":{"id":5,"first_name":"A"},"text":"/top"}}"#;
    assert_eq!(
        ignored(only(&parse(other).unwrap().signals)),
        "bot command in a group"
    );
    let pressed = br#"{"update_id":11,"callback_query":{"id":"77","from":{"id":5,"first_name":"A","language_code":"ru"},"message":{"message_id":9,"chat":{"id":-42,"type":"group"}},"data":"rv:x"}}"#;
    match only(&parse(pressed).unwrap().signals) {
        Signal::CallbackQuery(q) => {
            assert_eq!(q.id, "77");
            assert_eq!(
                (q.user_id, q.chat_id, q.message_id),
                (5, Some(-42), Some(9))
            );
            assert_eq!(q.data.as_deref(), Some("rv:x"));
        }
        other => panic!("expected a callback query, got {other:?}"),
    }
    assert!(
        parse(br#"{"update_id":12,"callback_query":{"id":"1"}}"#).is_err(),
        "a callback query names who pressed"
    );
    let reply = br#"{"update_id":13,"message":{"message_id":6,"date":1,"chat":{"id":-42,"type":"group"},"from":{"id":5,"first_name":"A"},"text":" spam ring ","reply_to_message":{"message_id":3,"from":{"id":7000000001,"is_bot":true,"first_name":"Bot"}}}}"#;
    let signals = parse(reply).unwrap().signals;
    assert_eq!(signals.len(), 2);
    assert!(matches!(signals[0], Signal::Activity(_)));
    match &signals[1] {
        Signal::GroupReply(r) => {
            assert_eq!((r.chat_id, r.reply_to_message_id, r.user_id), (-42, 3, 5));
            assert_eq!(r.text.trim(), "spam ring");
        }
        other => panic!("expected a reply, got {other:?}"),
    }
    let to_member = br#"{"update_id":14,"message":{"message_id":7,"date":1,"chat":{"id":-42,"type":"group"},"from":{"id":5,"first_name":"A"},"text":"hi","reply_to_message":{"message_id":3,"from":{"id":6,"first_name":"B"}}}}"#;
    assert_eq!(parse(to_member).unwrap().signals.len(), 1);
}

#[test]
fn malformed_updates_are_errors() {
    assert!(parse(b"{}").is_err(), "no update_id");
    assert!(parse(b"{\"update_id\":\"1\"}").is_err());
    assert!(
        parse(br#"{"update_id":1,"message":{"message_id":1}}"#).is_err(),
        "no chat"
    );
    assert!(parse(br#"{"update_id":1,"chat_member":{"chat":{"id":1}}}"#).is_err());
}

#[test]
fn a_repeated_reaction_set_changes_nothing() {
    let same = br#"{"update_id":9,"message_reaction":{"chat":{"id":-1,"type":"supergroup"},"message_id":1,"date":1,"user":{"id":5,"first_name":"A"},"old_reaction":[{"type":"paid"}],"new_reaction":[{"type":"paid"}]}}"#;
    assert_eq!(
        ignored(only(&parse(same).unwrap().signals)),
        "reactions unchanged"
    );
}

#[test]
fn bot_commands_in_a_group_are_not_comments() {
    for text in [
        "/report",
        "/top",
        "/top@brand_points_bot",
        "/report spam in the thread",
    ] {
        let body = serde_json::json!({
            "update_id": 7,
            "message": {
                "message_id": 3, "date": 1,
                "chat": {"id": -1002233445566_i64, "type": "supergroup"},
                "from": {"id": 5, "is_bot": false, "first_name": "A"},
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": text.split(' ').next().unwrap().encode_utf16().count()}]
            }
        });
        let update = parse(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(
            ignored(only(&update.signals)),
            "bot command in a group",
            "{text}"
        );
    }
}
