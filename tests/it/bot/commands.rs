//! Member commands in a private chat, through the real webhook route and the inbox worker.

use super::support::*;
use crate::harness::{anna_tg, fixture};
use axum::http::StatusCode;
use domain::StreamId;
use domain::event::{Event, LinkMethod};
use domain::member::MemberState;
use sqlx::PgPool;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn start_registers_the_member_and_offers_the_mini_app(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    assert_eq!(bot.app.member_of(&anna_tg()).await, None);

    let reply = bot.say(910_000_001, "/start").await;

    assert_eq!(reply["chat_id"], ANNA);
    let button = &reply["reply_markup"]["inline_keyboard"][0][0];
    assert_eq!(button["web_app"]["url"], format!("{PUBLIC_URL}/app"));
    assert_eq!(button["text"], "Открыть приложение");
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .contains("Ваш баланс: 0 баллов")
    );
    let member = bot.app.member_of(&anna_tg()).await.expect("registered");
    let stream = bot
        .app
        .t
        .ledger
        .store()
        .read_stream(&StreamId::Member(member).to_string(), 0)
        .await
        .unwrap();
    let linked = stream
        .iter()
        .filter_map(|r| store::codec::decode(r).ok())
        .any(|e| {
            matches!(
                e,
                Event::AccountLinked {
                    method: LinkMethod::Telegram,
                    ..
                }
            )
        });
    assert!(linked, "linked by /start");

    // Telegram redelivers the same update: stored once, answered once.
    let events = bot.app.event_count().await;
    let again = private(910_000_001, ANNA, "/start", "ru");
    assert_eq!(bot.webhook(again).await, StatusCode::OK);
    assert_eq!(bot.answer().await, 0);
    assert_eq!(bot.sent().await.len(), 1);
    assert_eq!(bot.app.event_count().await, events);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn balance_replies_with_the_balance_in_the_members_language(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    // Anna earns 10 points for a comment in the program's Telegram group first.
    assert_eq!(
        bot.app.telegram_fixture("message_group.json").await.status,
        StatusCode::OK
    );

    let reply = bot.say(910_000_002, "/balance").await;
    assert_eq!(
        reply["text"],
        "Ваш баланс: 10 баллов.\nВсего заработано: 10 баллов, потрачено: 0 баллов."
    );

    // With a ladder, /balance says the tier and the way to the next.
    let (ledger, program) = (&bot.app.t.ledger, bot.app.t.program_id());
    let mut rules = ledger.program(program).await.unwrap().rules;
    rules.tiers = serde_json::from_value(crate::tiers::silver_and_gold(0)).unwrap();
    ledger
        .change_rules(program, rules, &crate::helpers::manager())
        .await
        .unwrap();
    let reply = bot.say(910_000_012, "/balance").await;
    assert_eq!(
        reply["text"],
        "Ваш баланс: 10 баллов.\nВсего заработано: 10 баллов, потрачено: 0 баллов.\n\
         Уровня пока нет. До уровня Silver — 10 баллов."
    );

    let english = private(910_000_003, ANNA, "/balance@brand_points_bot", "en");
    assert_eq!(bot.webhook(english).await, StatusCode::OK);
    bot.answer().await;
    let reply = bot.sent().await.pop().unwrap();
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .starts_with("Your balance: 10 points.")
    );

    let history = bot.say(910_000_004, "/history").await;
    let text = history["text"].as_str().unwrap();
    assert!(
        text.contains("+10 баллов — комментарий (Telegram)"),
        "{text}"
    );

    // A manager's adjustment: Anna sees its note, never its internal reason.
    let member = bot.app.member_of(&anna_tg()).await.unwrap();
    bot.app
        .t
        .ledger
        .adjust_points(
            bot.app.t.program_id(),
            member,
            domain::points::PointsDelta::new(-3).unwrap(),
            "Спам: комментарий не по теме",
            Some("Баллы исправлены"),
            &crate::helpers::manager(),
        )
        .await
        .unwrap();
    let history = bot.say(910_000_006, "/history").await;
    let text = history["text"].as_str().unwrap();
    assert!(
        text.contains("−3 балла — корректировка: Баллы исправлены"),
        "{text}"
    );
    assert!(!text.contains("Спам"), "{text}");

    let unknown = bot.say(910_000_005, "/promo").await;
    assert!(
        unknown["text"].as_str().unwrap().contains("/balance"),
        "unknown commands get help"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn top_lists_the_leaders_and_the_members_rank(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let empty = bot.say(910_000_030, "/top").await;
    assert_eq!(empty["text"], "В рейтинге пока никого нет.");

    bot.say(910_000_031, "/start").await;
    assert_eq!(
        bot.app.telegram_fixture("message_group.json").await.status,
        StatusCode::OK
    );
    bot.project().await;
    let top = bot.say(910_000_032, "/top").await;
    let text = top["text"].as_str().unwrap();
    assert!(
        text.starts_with("Топ участников за всё время:\n1. Анна — 10 баллов ← вы"),
        "{text}"
    );
    assert!(text.ends_with("Ваше место: 1 (10 баллов)."), "{text}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_codeword_in_private_pays_once(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let mut worker = bot::notify::NotificationWorker::start(bot.bot.clone(), bot.notifier_config())
        .await
        .unwrap();
    bot.app.codeword_campaign().await;

    let paid = bot.say(910_000_010, "секрет").await;
    assert!(
        paid["text"].as_str().unwrap().contains("+50 баллов"),
        "{paid}"
    );
    assert_eq!(bot.balance(ANNA).await, 50);

    let again = bot.say(910_000_011, "СЕКРЕТ!").await;
    assert_eq!(again["text"], "Это кодовое слово вы уже использовали.");
    assert_eq!(bot.balance(ANNA).await, 50);

    let unknown = bot.say(910_000_012, "ЧТО-ТО ДРУГОЕ").await;
    assert!(
        unknown["text"]
            .as_str()
            .unwrap()
            .starts_with("Не знаю такого кодового слова")
    );

    // The reply told Anna about the points: the notification worker does not tell her again.
    let replies = bot.sent().await.len();
    worker
        .drain(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(bot.sent().await.len(), replies);
    worker.shutdown().await.unwrap();
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn link_gives_a_code_that_links_a_vk_account(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let intro = bot.say(910_000_020, "/link").await;
    let button = &intro["reply_markup"]["inline_keyboard"][0][0];
    assert_eq!(button["web_app"]["url"], format!("{PUBLIC_URL}/app#/link"));

    let reply = bot.say(910_000_021, "/link vk").await;
    let text = reply["text"].as_str().unwrap();
    let code = app::ingest::link_codes::find_in_text(text).expect("a link code");
    assert!(
        text.contains("1. ") && text.contains("2. ") && text.contains("3. "),
        "{text}"
    );

    // Anna posts the code from VK: her VK account joins her Telegram member.
    let comment = String::from_utf8(fixture("vk/wall_reply_new.json"))
        .unwrap()
        .replace("Участвую! Кодовое слово: секрет", &code);
    assert!(comment.contains(&code), "fixture text replaced");
    assert_eq!(
        bot.app.vk(comment.into_bytes()).await.status,
        StatusCode::OK
    );
    let member = bot.app.member_of(&anna_tg()).await.unwrap();
    assert_eq!(
        bot.app.member_of(&crate::harness::anna_vk()).await,
        Some(member)
    );
    let state = bot
        .app
        .t
        .ledger
        .load::<MemberState>(&StreamId::Member(member))
        .await
        .unwrap()
        .state;
    assert_eq!(state.linked.len(), 2);
}
