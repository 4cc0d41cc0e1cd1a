//! Point notifications: once per entry, coalesced per chat, within Telegram's flood limits,
//! and never again after a restart.

use super::support::*;
use crate::helpers::manager;
use bot::members::ensure_telegram_member;
use bot::notify::{CHECKPOINT, NotificationWorker};
use chrono::Utc;
use domain::ids::MemberId;
use domain::points::PointsDelta;
use serde_json::json;
use sqlx::PgPool;
use std::time::{Duration, Instant};
use wiremock::matchers::path;
use wiremock::{Mock, ResponseTemplate};

const DRAIN: Duration = Duration::from_secs(10);

async fn anna(bot: &BotApp) -> MemberId {
    let accounts = bot.app.state.accounts();
    ensure_telegram_member(
        &bot.app.t.ledger,
        accounts,
        bot.app.t.program_id(),
        ANNA,
        Utc::now(),
    )
    .await
    .unwrap()
}

async fn adjust(bot: &BotApp, member: MemberId, points: i64) {
    bot.app
        .t
        .ledger
        .adjust_points(
            bot.app.t.program_id(),
            member,
            PointsDelta::new(points).unwrap(),
            "review bonus, ticket 4521",
            Some("thanks for the review"),
            &manager(),
        )
        .await
        .unwrap();
}

async fn start(bot: &BotApp) -> NotificationWorker {
    NotificationWorker::start(bot.bot.clone(), bot.notifier_config())
        .await
        .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_award_is_notified_once_even_after_a_restart(pool: PgPool) {
    let bot = BotApp::new(pool.clone()).await;
    anna(&bot).await;
    let mut worker = start(&bot).await;
    // A comment in the program's Telegram group: 10 points for Anna.
    bot.app.telegram_fixture("message_group.json").await;
    worker.drain(DRAIN).await.unwrap();

    let sent = bot.sent().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["chat_id"], ANNA);
    assert_eq!(sent[0]["text"], "+10 баллов — комментарий (Telegram)");
    assert!(sent[0].get("reply_markup").is_none());
    worker.shutdown().await.unwrap();

    // Restart: a new worker over the same database sends nothing again.
    let mut restarted = start(&bot).await;
    restarted.drain(DRAIN).await.unwrap();
    restarted.shutdown().await.unwrap();
    assert_eq!(bot.sent().await.len(), 1);

    // Even a checkpoint lost entirely (back to the log's start): the delivered key is known.
    sqlx::query("UPDATE notification_checkpoint SET tx_id = 0, position = 0 WHERE name = $1")
        .bind(CHECKPOINT)
        .execute(&pool)
        .await
        .unwrap();
    let mut rewound = start(&bot).await;
    rewound.drain(DRAIN).await.unwrap();
    rewound.shutdown().await.unwrap();
    assert_eq!(bot.sent().await.len(), 1);
    let delivered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_deliveries WHERE outcome = 'delivered'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(delivered, 1);
    assert_eq!(bot.balance(ANNA).await, 10);
}

/// A member who never wrote to the bot, whose Telegram says English in the program's group, is
/// notified in English; an adjustment tells them its note, never the manager's reason, and
/// one without a note says only that it was an adjustment.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn notifications_speak_the_members_language_and_tell_the_note_not_the_reason(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let member = anna(&bot).await;
    start(&bot).await.shutdown().await.unwrap();
    let mut message: serde_json::Value =
        serde_json::from_slice(&crate::harness::fixture("telegram/message_group.json")).unwrap();
    message["message"]["from"]["language_code"] = json!("en");
    message["message"]["text"] = json!("Lovely run this morning");
    let delivered = bot
        .app
        .telegram(
            message.to_string().into_bytes(),
            Some(crate::harness::TG_SECRET),
        )
        .await;
    assert_eq!(delivered.status, axum::http::StatusCode::OK);
    let program = bot.app.t.program_id();
    let ledger = &bot.app.t.ledger;
    let delta = PointsDelta::new(-5).unwrap();
    let reason = "Спам: комментарий не по теме";
    ledger
        .adjust_points(
            program,
            member,
            delta,
            reason,
            Some("Points corrected"),
            &manager(),
        )
        .await
        .unwrap();
    let delta = PointsDelta::new(2).unwrap();
    ledger
        .adjust_points(
            program,
            member,
            delta,
            "internal: goodwill",
            None,
            &manager(),
        )
        .await
        .unwrap();
    let mut worker = start(&bot).await;
    worker.drain(DRAIN).await.unwrap();
    worker.shutdown().await.unwrap();
    let text: String = bot
        .sent()
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    for line in [
        "+10 points — comment (Telegram)",
        "−5 points — adjustment: Points corrected",
        "+2 points — adjustment",
    ] {
        assert!(text.contains(line), "{line:?} in {text:?}");
    }
    assert!(
        !text.contains("Спам") && !text.contains("goodwill"),
        "{text}"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_burst_of_five_awards_is_one_message(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let member = anna(&bot).await;
    // The first start pins the checkpoint at the log's head; the burst is then appended while
    // no worker runs, so a slow machine cannot split it across the coalescing window.
    start(&bot).await.shutdown().await.unwrap();
    for points in 1..=5 {
        adjust(&bot, member, points).await;
    }
    crate::harness::log_visible_to_readers(&bot.state.pool).await;
    let mut worker = start(&bot).await;
    worker.drain(DRAIN).await.unwrap();
    worker.shutdown().await.unwrap();

    let sent = bot.sent().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let text = sent[0]["text"].as_str().unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.starts_with("+1 балл — корректировка: thanks for the review"),
        "{text}"
    );
    assert!(text.contains("+3 балла —"), "{text}");
    assert!(
        text.ends_with("+5 баллов — корректировка: thanks for the review"),
        "{text}"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn flood_control_retry_after_is_honoured(pool: PgPool) {
    let bot = BotApp::new(pool.clone()).await;
    let member = anna(&bot).await;
    // The first sendMessage hits flood control: retry after 1 second.
    Mock::given(path(bot_path("sendMessage")))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "ok": false, "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1}
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&bot.telegram)
        .await;
    let mut worker = start(&bot).await;
    adjust(&bot, member, 7).await;
    let started = Instant::now();
    worker.drain(DRAIN).await.unwrap();
    worker.shutdown().await.unwrap();

    let attempts = bot.sent().await;
    assert_eq!(attempts.len(), 2, "one refused, one delivered");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited retry_after"
    );
    let outcome: (String, Option<i64>) =
        sqlx::query_as("SELECT outcome, message_id FROM notification_deliveries")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(outcome, ("delivered".to_owned(), Some(1)));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_member_who_blocked_the_bot_is_not_asked_again(pool: PgPool) {
    let bot = BotApp::new(pool.clone()).await;
    let member = anna(&bot).await;
    Mock::given(path(bot_path("sendMessage")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "ok": false, "error_code": 403,
            "description": "Forbidden: bot was blocked by the user"
        })))
        .with_priority(1)
        .mount(&bot.telegram)
        .await;
    let mut worker = start(&bot).await;
    adjust(&bot, member, 5).await;
    worker.drain(DRAIN).await.unwrap();
    assert_eq!(bot.sent().await.len(), 1);
    adjust(&bot, member, 6).await;
    worker.drain(DRAIN).await.unwrap();
    worker.shutdown().await.unwrap();
    assert_eq!(bot.sent().await.len(), 1, "the blocked chat is skipped");
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notification_deliveries WHERE outcome = 'failed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(failed, 1);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn blocking_the_bot_stops_notifications_until_the_member_writes_again(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let member = anna(&bot).await;
    let bot_user = json!({"id": 7000000001_i64, "is_bot": true, "first_name": "Brand Points"});
    let blocked = json!({"update_id": 910_000_100, "my_chat_member": {
        "chat": {"id": ANNA, "type": "private", "first_name": "Анна"},
        "from": {"id": ANNA, "is_bot": false, "first_name": "Анна"},
        "date": Utc::now().timestamp(),
        "old_chat_member": {"user": bot_user, "status": "member"},
        "new_chat_member": {"user": bot_user, "status": "kicked", "until_date": 0}
    }});
    assert_eq!(bot.webhook(blocked).await, axum::http::StatusCode::OK);
    // The bot made an admin of the program's channel: logged, answered 200.
    let promoted = crate::harness::fixture("telegram/my_chat_member_promoted.json");
    let promoted: serde_json::Value = serde_json::from_slice(&promoted).unwrap();
    assert_eq!(bot.webhook(promoted).await, axum::http::StatusCode::OK);

    let mut worker = start(&bot).await;
    adjust(&bot, member, 5).await;
    worker.drain(DRAIN).await.unwrap();
    assert!(
        bot.sent().await.is_empty(),
        "no message to a chat that blocked the bot"
    );

    bot.say(910_000_101, "/balance").await;
    adjust(&bot, member, 6).await;
    worker.drain(DRAIN).await.unwrap();
    worker.shutdown().await.unwrap();
    let sent = bot.sent().await;
    assert_eq!(sent.len(), 2, "the reply, then the notification");
    assert_eq!(
        sent[1]["text"],
        "+6 баллов — корректировка: thanks for the review"
    );
}

/// Two processes' notification workers on one database, as two `serve` instances run them: the
/// second waits (`Busy`) while the first holds the database's worker lock, takes over when the
/// first dies without shutting down (its session ends, the lock with it), and repeats none of
/// the notifications the first recorded.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_second_process_takes_over_notifications_when_the_first_dies_and_repeats_none(
    pool: PgPool,
) {
    let bot = BotApp::new(pool.clone()).await;
    let accounts = bot.app.state.accounts();
    let mut members = Vec::new();
    for n in 0..20 {
        let user = 5_000_100_000 + n;
        let member = ensure_telegram_member(
            &bot.app.t.ledger,
            accounts,
            bot.app.t.program_id(),
            user,
            Utc::now(),
        )
        .await
        .unwrap();
        members.push((user, member));
    }
    let mut first = start(&bot).await;
    assert!(
        matches!(
            NotificationWorker::start(bot.bot.clone(), bot.notifier_config()).await,
            Err(bot::BotError::Busy)
        ),
        "one worker per database"
    );
    for (_, member) in &members[..10] {
        adjust(&bot, *member, 5).await;
    }
    crate::harness::log_visible_to_readers(&pool).await;
    first.drain(DRAIN).await.unwrap();
    assert_eq!(bot.sent().await.len(), 10);
    // Killed: dropped without shutdown, its lock connection closed with it.
    drop(first);

    for (_, member) in &members[10..] {
        adjust(&bot, *member, 5).await;
    }
    crate::harness::log_visible_to_readers(&pool).await;
    let deadline = Instant::now() + DRAIN;
    let mut second = loop {
        match NotificationWorker::start(bot.bot.clone(), bot.notifier_config()).await {
            Ok(worker) => break worker,
            Err(bot::BotError::Busy) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("the second worker did not take over: {e}"),
        }
    };
    second.drain(DRAIN).await.unwrap();
    second.shutdown().await.unwrap();

    let sent = bot.sent().await;
    let mut chats: Vec<i64> = sent
        .iter()
        .map(|m| m["chat_id"].as_i64().unwrap())
        .collect();
    chats.sort_unstable();
    let mut expected: Vec<i64> = members.iter().map(|(user, _)| *user).collect();
    expected.sort_unstable();
    assert_eq!(chats, expected, "each member notified exactly once");
}

/// A redemption that leaves a reward at its alert threshold tells, once, every admin and
/// manager of the program who linked Telegram; a disabled account and an auditor hear nothing.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn low_stock_reaches_the_programs_managers_on_telegram_once(pool: PgPool) {
    use domain::ids::{RedemptionId, RewardId};
    use domain::points::Points;
    use domain::reward::{RewardCommand, RewardTerms};
    let bot = BotApp::new(pool.clone()).await;
    for (name, role, telegram, disabled) in [
        ("olga", "manager", 501, false),
        ("ivan", "admin", 502, false),
        ("gone", "manager", 503, true),
        ("audit", "auditor", 504, false),
        ("nolink", "manager", 0, false),
    ] {
        sqlx::query(
            "INSERT INTO admin_users (username, password_hash, role, telegram_id, disabled_at) \
             VALUES ($1, 'x', $2, nullif($3, 0), CASE WHEN $4 THEN now() END)",
        )
        .bind(name)
        .bind(role)
        .bind(telegram as i64)
        .bind(disabled)
        .execute(&pool)
        .await
        .unwrap();
    }
    let program = bot.app.t.program_id();
    let reward = RewardId(uuid::Uuid::new_v4());
    let ledger = &bot.app.t.ledger;
    ledger
        .reward_command(program, reward, &manager(), || RewardCommand::List {
            reward_id: reward,
            program_id: program,
            title: "Mug".into(),
            cost: Points::new(10).unwrap(),
            stock: 2,
            terms: RewardTerms {
                low_stock_alert: Some(1),
                ..RewardTerms::default()
            },
            by: "manager:olga".into(),
            at: Utc::now().into(),
        })
        .await
        .unwrap();
    let member = anna(&bot).await;
    adjust(&bot, member, 100).await;
    let mut worker = start(&bot).await;
    for _ in 0..2 {
        let redemption = RedemptionId(uuid::Uuid::new_v4());
        ledger
            .redeem_reward(program, member, reward, redemption, "C", Utc::now().into())
            .await
            .unwrap();
    }
    crate::harness::log_visible_to_readers(&pool).await;
    worker.drain(DRAIN).await.unwrap();
    worker.shutdown().await.unwrap();
    let alerts: Vec<(i64, String)> = bot
        .sent()
        .await
        .iter()
        .filter(|m| m["text"].as_str().unwrap().contains("Mug"))
        .filter(|m| m["chat_id"] != ANNA)
        .map(|m| {
            (
                m["chat_id"].as_i64().unwrap(),
                m["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut chats: Vec<i64> = alerts.iter().map(|a| a.0).collect();
    chats.sort();
    assert_eq!(
        chats,
        [501, 502],
        "the alert fires once, at 1 left, not again at 0"
    );
    assert!(
        alerts[0].1.contains("осталось 1 (порог 1)"),
        "{}",
        alerts[0].1
    );
    assert!(
        alerts[0].1.contains("1 left (alert at 1)"),
        "{}",
        alerts[0].1
    );
}

/// A raffle's commitment is posted in the program's Telegram chats when it opens and its seed
/// when drawn; the winner hears it in their language, once.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_raffle_is_announced_in_the_chats_and_its_winner_is_told_once(pool: PgPool) {
    use crate::harness::mini_app::now_action;
    use crate::harness::{TG_CHANNEL, TG_GROUP};
    use app::raffles::RaffleTerms;
    use domain::ids::EntryId;
    use domain::points::Points;
    let bot = BotApp::new(pool.clone()).await;
    let member = anna(&bot).await;
    adjust(&bot, member, 100).await;
    let mut worker = start(&bot).await;
    let program = bot.app.t.program_id();
    let ledger = &bot.app.t.ledger;
    let terms = RaffleTerms {
        title: "Осенний розыгрыш".into(),
        prize: "год кофе".into(),
        entry_rule: domain::raffle::EntryRule::Tickets,
        ticket_cost: Points::new(10).unwrap(),
        max_tickets_per_member: 1,
        winners: 1,
        ends_at: (Utc::now() + chrono::Duration::milliseconds(600)).into(),
    };
    let secrets = bot.app.state.secrets();
    let (raffle, _) = ledger
        .open_raffle(&pool, secrets, program, terms, &now_action())
        .await
        .unwrap();
    let ticket = EntryId(uuid::Uuid::new_v4());
    ledger
        .buy_raffle_ticket(program, member, raffle, ticket, Utc::now().into())
        .await
        .unwrap();
    // An activity raffle's post says who enters instead of a ticket's price.
    let commenters = RaffleTerms {
        title: "Комментаторы недели".into(),
        prize: "кружка".into(),
        entry_rule: domain::raffle::EntryRule::Activity(domain::raffle::ActivityRule {
            kind: Some(domain::network::ActivityKind::Comment),
            network: Some(domain::network::Network::Vk),
            from: Utc::now().into(),
        }),
        ticket_cost: Points::new(1).unwrap(),
        max_tickets_per_member: 1,
        winners: 1,
        ends_at: (Utc::now() + chrono::Duration::days(7)).into(),
    };
    ledger
        .open_raffle(&pool, secrets, program, commenters, &now_action())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    ledger
        .draw_raffle(&pool, secrets, program, raffle, &now_action())
        .await
        .unwrap();
    crate::harness::log_visible_to_readers(&pool).await;
    worker.drain(DRAIN).await.unwrap();
    worker.shutdown().await.unwrap();
    let sent: Vec<(i64, String)> = bot
        .sent()
        .await
        .iter()
        .map(|m| {
            (
                m["chat_id"].as_i64().unwrap(),
                m["text"].as_str().unwrap().to_string(),
            )
        })
        .filter(|(_, t)| t.contains("озыгрыш"))
        .collect();
    let to_anna: Vec<&str> = sent
        .iter()
        .filter(|m| m.0 == ANNA)
        .map(|m| m.1.as_str())
        .collect();
    assert_eq!(
        to_anna,
        [
            "🎉 Вы выиграли в розыгрыше «Осенний розыгрыш»: год кофе! Команда бренда свяжется с вами."
        ]
    );
    let state = app::raffles::raffle_in(ledger, program, raffle)
        .await
        .unwrap();
    let seed = state.drawn.as_ref().unwrap().0.clone();
    for chat in [TG_GROUP, TG_CHANNEL].map(|c| c.parse::<i64>().unwrap()) {
        // Messages close together reach a chat as one (the notifier coalesces them).
        let posts: String = sent
            .iter()
            .filter(|m| m.0 == chat)
            .map(|m| m.1.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            posts.contains(&state.commitment) && posts.contains("год кофе"),
            "{posts}"
        );
        assert!(posts.contains(&seed) && posts.contains("/proof"), "{posts}");
        assert!(
            posts.contains("Участвует каждый, кто оставил комментарий во ВКонтакте"),
            "{posts}"
        );
    }
}

/// A codeword bonus held for review is announced as waiting, not as points; its approval is
/// news of its own, once.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_held_codeword_bonus_is_announced_as_waiting_and_its_approval_as_points(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let member = anna(&bot).await;
    let (ledger, program) = (&bot.app.t.ledger, bot.app.t.program_id());
    let mut rules = ledger.program(program).await.unwrap().rules;
    rules.review.codeword_over = Some(20);
    ledger
        .change_rules(program, rules, &manager())
        .await
        .unwrap();
    bot.app.codeword_campaign().await;
    let mut worker = start(&bot).await;
    bot.app.telegram_fixture("message_group.json").await;
    worker.drain(DRAIN).await.unwrap();
    let texts = |sent: Vec<serde_json::Value>| -> Vec<String> {
        sent.iter()
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect()
    };
    let first = texts(bot.sent().await).join("\n");
    assert!(
        first.contains("Кодовое слово (Telegram): 50 баллов ждут проверки"),
        "{first}"
    );
    assert!(!first.contains("+50"), "{first}");
    assert_eq!(bot.balance(ANNA).await, 10, "the comment, not the bonus");

    let stream = domain::StreamId::Member(member);
    let state = ledger
        .load::<domain::member::MemberState>(&stream)
        .await
        .unwrap()
        .state;
    let held = *state.held.keys().next().unwrap();
    let approve = domain::review::ReviewDecision::Approve;
    ledger
        .review_held(program, member, held, approve, &manager())
        .await
        .unwrap();
    worker.drain(DRAIN).await.unwrap();
    worker.shutdown().await.unwrap();
    let sent = texts(bot.sent().await);
    let approval: Vec<&String> = sent.iter().filter(|t| t.contains("+50")).collect();
    assert_eq!(approval.len(), 1, "{sent:?}");
    assert!(
        approval[0].contains("кодовое слово (Telegram), проверено"),
        "{sent:?}"
    );
    assert_eq!(bot.balance(ANNA).await, 60);
}

/// A rise up the ladder is announced once, with the new multiplier; a lapse is not; /balance
/// says the tier and the way to the next.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_tier_reached_is_announced_once_and_balance_names_it(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let member = anna(&bot).await;
    let (ledger, program) = (&bot.app.t.ledger, bot.app.t.program_id());
    let mut rules = ledger.program(program).await.unwrap().rules;
    rules.tiers = serde_json::from_value(crate::tiers::silver_and_gold(0)).unwrap();
    ledger
        .change_rules(program, rules.clone(), &manager())
        .await
        .unwrap();
    let mut worker = start(&bot).await;
    adjust(&bot, member, 25).await;
    let keep = || async {
        crate::harness::log_visible_to_readers(&bot.app.pool).await;
        app::tiers::keep_once(ledger, &bot.app.pool, domain::Timestamp::new(Utc::now())).await
    };
    bot.app.drain().await;
    assert_eq!(keep().await.unwrap().moved, 1);
    worker.drain(DRAIN).await.unwrap();
    // Read again from the start, the keeper moves nobody and the worker says nothing twice.
    sqlx::query("UPDATE tier_keeper SET tx_id = 0, position = 0")
        .execute(&bot.app.pool)
        .await
        .unwrap();
    assert_eq!(keep().await.unwrap().moved, 0);
    // The ladder taken away: Anna's tier lapses, quietly.
    rules.tiers = Default::default();
    ledger
        .change_rules(program, rules, &manager())
        .await
        .unwrap();
    bot.app.drain().await;
    assert_eq!(keep().await.unwrap().moved, 1);
    worker.drain(DRAIN).await.unwrap();
    worker.shutdown().await.unwrap();
    let sent: Vec<String> = bot
        .sent()
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    let news: Vec<&String> = sent.iter().filter(|t| t.contains("уровень")).collect();
    assert_eq!(news.len(), 1, "{sent:?}");
    assert!(
        news[0].contains("Новый уровень: Silver! Теперь баллы ×1,5."),
        "{sent:?}"
    );
}

/// A member is warned once before points expire, and /balance says when the first expire.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_expiry_warning_is_sent_once_and_balance_says_when_points_expire(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let member = anna(&bot).await;
    let (ledger, program) = (&bot.app.t.ledger, bot.app.t.program_id());
    let mut rules = ledger.program(program).await.unwrap().rules;
    rules.expiry = domain::expiry::ExpiryRules {
        after_days: 30,
        warn_days: 7,
    };
    ledger
        .change_rules(program, rules, &manager())
        .await
        .unwrap();
    adjust(&bot, member, 25).await;
    let stream = domain::StreamId::Member(member);
    let state = ledger.load::<domain::member::MemberState>(&stream).await;
    let earned_at = state.unwrap().state.lots.open().next().unwrap().earned_at;
    let reply = bot.say(910_000_031, "/balance").await;
    let text = reply["text"].as_str().unwrap();
    let day = (earned_at + chrono::Duration::days(30))
        .with_timezone(&chrono_tz::Europe::Moscow)
        .format("%d.%m.%Y");
    assert!(
        text.contains(&format!("Ближайшие сгорят 25 баллов: {day}.")),
        "{text}"
    );

    let mut worker = start(&bot).await;
    worker.drain(DRAIN).await.unwrap();
    let before = bot.sent().await.len();
    let soon = earned_at + chrono::Duration::days(20);
    for _ in 0..2 {
        let look = ledger.keep_expiry(member, soon).await.unwrap();
        assert_eq!(look.expired, 0);
    }
    worker.drain(DRAIN).await.unwrap();
    worker.shutdown().await.unwrap();
    let sent: Vec<String> = bot.sent().await[before..]
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("⏳ 25 баллов скоро сгорят, первые — "),
        "{sent:?}"
    );
    assert_eq!(bot.app.events_of_type("ExpiryWarned").await, 1);
}
