//! The managers' chat end to end: connecting it from the panel and with /managers, the
//! morning digest (once per local day, however many workers), alerts (once per episode) and
//! the Reverse button (once, only for the accounts the panel would let reverse).

use super::support::*;
use crate::harness::admin::{AdminClient, PASSWORD};
use crate::harness::{TG_GROUP, VK_GROUP, fixture};
use api::admin::{Role, create_user};
use app::managers_chat::{self, ManagersChatRequest};
use axum::http::{Method, StatusCode};
use bot::managers::Managers;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use domain::ids::RewardId;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::atomic::{AtomicI64, Ordering};
use uuid::Uuid;
use wiremock::Mock;
use wiremock::matchers::{method, path};

/// The managers' group.
const STAFF_CHAT: i64 = -1_009_876_543_210;
/// Telegram users of the staff.
const OLGA: i64 = 6_000_000_001;
const AUDREY: i64 = 6_000_000_002;
const VERA: i64 = 6_000_000_003;
const STRANGER: i64 = 6_000_000_009;

static UPDATE: AtomicI64 = AtomicI64::new(700_000_000);

fn next_update() -> i64 {
    UPDATE.fetch_add(1, Ordering::SeqCst)
}

/// An admin panel account linked to a Telegram user, maybe limited to some programs.
async fn staff(bot: &BotApp, name: &str, role: Role, telegram: i64, programs: Option<Vec<Uuid>>) {
    let pool = &bot.app.pool;
    create_user(pool, "test", name, PASSWORD, role)
        .await
        .unwrap();
    sqlx::query("UPDATE admin_users SET telegram_id = $2, programs = $3 WHERE username = $1")
        .bind(name)
        .bind(telegram)
        .bind(programs)
        .execute(pool)
        .await
        .unwrap();
}

/// Olga (manager of the program), Audrey (auditor), Vera (manager of another program only).
async fn the_staff(bot: &BotApp) {
    staff(bot, "olga", Role::Manager, OLGA, None).await;
    staff(bot, "audrey", Role::Auditor, AUDREY, None).await;
    let other = bot.app.another_program().await;
    staff(bot, "vera", Role::Manager, VERA, Some(vec![other.0])).await;
}

async fn mount_buttons(bot: &BotApp) {
    Mock::given(method("POST"))
        .and(path(bot_path("answerCallbackQuery")))
        .respond_with(ok(json!(true)))
        .mount(&bot.telegram)
        .await;
    Mock::given(method("POST"))
        .and(path(bot_path("editMessageReplyMarkup")))
        .respond_with(ok(
            json!({"message_id": 1, "date": 1, "chat": {"id": STAFF_CHAT, "type": "supergroup"}}),
        ))
        .mount(&bot.telegram)
        .await;
}

/// The bot learnt it is in the staff group.
async fn bot_in_staff_group(bot: &BotApp) {
    app::channels::record_bot_chat(
        &bot.app.pool,
        0,
        &STAFF_CHAT.to_string(),
        Some("supergroup"),
        Some("Staff"),
        "member",
    )
    .await
    .unwrap();
}

/// Connects the staff group directly, in `language`, with the large-award threshold at 50.
async fn connect(bot: &BotApp, language: &str) {
    let request = ManagersChatRequest {
        chat_id: STAFF_CHAT.to_string(),
        language: Some(language.into()),
        large_award_points: Some(50),
        ..ManagersChatRequest::default()
    };
    let valid = managers_chat::validate(&request, None).unwrap();
    managers_chat::connect(
        &bot.app.pool,
        bot.app.t.program_id(),
        &valid,
        "manager:olga",
    )
    .await
    .unwrap();
}

fn group_message(user: i64, text: &str, reply_to: Option<i64>, language: &str) -> Value {
    let mut message = json!({
        "message_id": next_update() % 100_000,
        "from": {"id": user, "is_bot": false, "first_name": "Staff", "language_code": language},
        "chat": {"id": STAFF_CHAT, "title": "Staff", "type": "supergroup"},
        "date": Utc::now().timestamp(),
        "text": text
    });
    if let Some(id) = reply_to {
        message["reply_to_message"] = json!({"message_id": id, "from": {"id": 7000000001i64, "is_bot": true, "first_name": "Bot"}});
    }
    json!({"update_id": next_update(), "message": message})
}

fn pressed(user: i64, message_id: i64, data: &str) -> Value {
    json!({"update_id": next_update(), "callback_query": {
        "id": format!("cb{}", next_update()),
        "from": {"id": user, "is_bot": false, "first_name": "Staff", "language_code": "en"},
        "message": {"message_id": message_id, "chat": {"id": STAFF_CHAT, "type": "supergroup"}},
        "data": data}})
}

/// Through the webhook, then answered by the inbox worker.
async fn deliver(bot: &BotApp, update: Value) {
    assert_eq!(bot.webhook(update).await, StatusCode::OK);
    bot.answer().await;
}

/// `sendMessage` bodies for the staff group.
async fn staff_messages(bot: &BotApp) -> Vec<Value> {
    bot.sent()
        .await
        .into_iter()
        .filter(|m| m["chat_id"] == STAFF_CHAT)
        .collect()
}

async fn texts_with(bot: &BotApp, prefix: &str) -> Vec<String> {
    staff_messages(bot)
        .await
        .iter()
        .filter_map(|m| m["text"].as_str())
        .filter(|t| t.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

async fn connected_chat(bot: &BotApp) -> Option<managers_chat::ManagersChat> {
    managers_chat::get(&bot.app.pool, bot.app.t.program_id())
        .await
        .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_panel_connects_changes_and_disconnects_the_managers_chat(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    bot_in_staff_group(&bot).await;
    let mut panel = AdminClient::on(bot.app.clone());
    create_user(&bot.app.pool, "test", "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    panel.login("olga", PASSWORD).await;
    let url = panel.path("/managers-chat");

    let shown = panel.get(&url).await.json();
    assert_eq!(shown["chat"], Value::Null);
    assert_eq!(shown["time_zone"], "Europe/Moscow");
    let offered: Vec<&str> = shown["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["chat_id"].as_str().unwrap())
        .collect();
    // The program's own Telegram group is a channel, not a candidate.
    assert_eq!(offered, vec![STAFF_CHAT.to_string().as_str()]);

    let body = json!({"chat_id": STAFF_CHAT.to_string(), "language": "en", "digest_time": "08:30"});
    let done = panel.change(Method::PUT, &url, Some(body.clone())).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["outcome"], "connected");
    assert_eq!(done.json()["chat"]["title"], "Staff");
    assert_eq!(done.json()["chat"]["digest_time"], "08:30");
    assert_eq!(done.json()["chat"]["large_award_points"], 500);
    let again = panel.change(Method::PUT, &url, Some(body)).await;
    assert_eq!(again.json()["outcome"], "unchanged");
    let later = json!({"chat_id": STAFF_CHAT.to_string(), "digest_time": "09:15"});
    let changed = panel.change(Method::PUT, &url, Some(later)).await;
    assert_eq!(changed.json()["outcome"], "changed");
    assert_eq!(changed.json()["chat"]["language"], "en", "kept");

    for (body, code) in [
        (json!({"chat_id": "42"}), "invalid_managers_chat"),
        (
            json!({"chat_id": STAFF_CHAT.to_string(), "digest_time": "9am"}),
            "invalid_managers_chat",
        ),
        (json!({"chat_id": TG_GROUP}), "managers_chat_is_channel"),
    ] {
        let refused = panel.change(Method::PUT, &url, Some(body)).await;
        assert_eq!(refused.code(), code, "{}", refused.body);
    }

    // An auditor reads it but may not change it; a manager of another program does neither.
    let mut auditor = panel.browser();
    create_user(&bot.app.pool, "test", "audrey", PASSWORD, Role::Auditor)
        .await
        .unwrap();
    auditor.login("audrey", PASSWORD).await;
    assert_eq!(auditor.get(&url).await.status, StatusCode::OK);
    let refused = auditor.change(Method::DELETE, &url, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let other = bot.app.another_program().await;
    let mut vera = panel.browser();
    create_user(&bot.app.pool, "test", "vera", PASSWORD, Role::Manager)
        .await
        .unwrap();
    sqlx::query("UPDATE admin_users SET programs = $1 WHERE username = 'vera'")
        .bind(vec![other.0])
        .execute(&bot.app.pool)
        .await
        .unwrap();
    vera.login("vera", PASSWORD).await;
    assert_eq!(vera.get(&url).await.status, StatusCode::FORBIDDEN);
    let body = json!({"chat_id": "-100555"});
    assert_eq!(
        vera.change(Method::PUT, &url, Some(body)).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(connected_chat(&bot).await.is_some());

    let gone = panel.change(Method::DELETE, &url, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert!(connected_chat(&bot).await.is_none());
    let again = panel.change(Method::DELETE, &url, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let changes = panel.get(&url).await.json()["changes"].clone();
    let actions: Vec<(&str, &str)> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["action"].as_str().unwrap(), c["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("disconnected", "manager:olga"),
            ("changed", "manager:olga"),
            ("connected", "manager:olga"),
        ]
    );
    assert!(changes[1]["detail"].as_str().unwrap().contains("09:15"));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn managers_connects_the_group_for_linked_staff_and_refuses_everyone_else(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    the_staff(&bot).await;
    for (user, refusal) in [
        (STRANGER, "not linked to an active admin panel account"),
        (AUDREY, "only reads"),
        (VERA, "does not manage this program"),
    ] {
        deliver(&bot, group_message(user, "/managers", None, "en")).await;
        let said = staff_messages(&bot).await;
        let last = said.last().unwrap()["text"].as_str().unwrap().to_string();
        assert!(last.contains(refusal), "{user}: {last}");
        assert!(connected_chat(&bot).await.is_none());
    }
    deliver(&bot, group_message(OLGA, "/managers@brand_bot", None, "en")).await;
    let chat = connected_chat(&bot).await.expect("connected");
    assert_eq!((chat.chat_id, chat.language.as_str()), (STAFF_CHAT, "en"));
    assert_eq!(chat.title.as_deref(), Some("Staff"));
    assert_eq!(chat.updated_by, "manager:olga");
    let said = staff_messages(&bot).await;
    let last = said.last().unwrap()["text"].as_str().unwrap().to_string();
    assert!(
        last.contains("managers' chat") && last.contains("09:00 (Europe/Moscow)"),
        "{last}"
    );
    assert_eq!(said.len(), 4, "one answer each");

    // In a program's channel the command is refused: members earn points there.
    let mut in_channel = group_message(OLGA, "/managers", None, "ru");
    in_channel["message"]["chat"]["id"] = json!(TG_GROUP.parse::<i64>().unwrap());
    deliver(&bot, in_channel).await;
    let last = bot.sent().await.last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(last.contains("как канал"), "{last}");
    assert_eq!(connected_chat(&bot).await.unwrap().chat_id, STAFF_CHAT);

    deliver(&bot, group_message(AUDREY, "/managers off", None, "en")).await;
    assert!(
        connected_chat(&bot).await.is_some(),
        "an auditor cannot disconnect"
    );
    deliver(&bot, group_message(OLGA, "/managers off", None, "ru")).await;
    assert!(connected_chat(&bot).await.is_none());
    let last = bot.sent().await.last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(last.contains("отключён"), "{last}");
    let changes = managers_chat::changes(&bot.app.pool, bot.app.t.program_id(), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, vec!["disconnected", "connected"]);
}

/// 09:00 in Moscow on `day` from now (real days: the activity is recorded today).
fn moscow(days_from_today: i64, hour: u32, minute: u32) -> DateTime<Utc> {
    let tz = chrono_tz::Europe::Moscow;
    let today = Utc::now().with_timezone(&tz).date_naive();
    (today + Duration::days(days_from_today))
        .and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap())
        .and_local_timezone(tz)
        .unwrap()
        .with_timezone(&Utc)
}

/// A comment by Anna in the program's Telegram group, written now.
async fn anna_comments(bot: &BotApp, text: &str) {
    let mut message: Value =
        serde_json::from_slice(&fixture("telegram/message_group.json")).unwrap();
    message["update_id"] = json!(next_update());
    message["message"]["message_id"] = json!(next_update() % 1_000_000);
    message["message"]["date"] = json!(Utc::now().timestamp());
    message["message"]["text"] = json!(text);
    assert_eq!(bot.webhook(message).await, StatusCode::OK);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_digest_comes_once_at_the_local_time_whatever_the_workers(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    bot_in_staff_group(&bot).await;
    connect(&bot, "en").await;
    bot.app.codeword_campaign().await;
    let mut first = Managers::start(bot.bot.clone()).await.unwrap();
    anna_comments(&bot, "Кодовое слово: СЕКРЕТ").await;
    bot.project().await;
    // Read now, the codeword bonus is a large award (an alert the digest counts).
    first.tick(Utc::now()).await.unwrap();
    let mut second = Managers::start(bot.bot.clone()).await.unwrap();
    first.tick(moscow(1, 8, 59)).await.unwrap();
    second.tick(moscow(1, 8, 59)).await.unwrap();
    assert!(texts_with(&bot, "📊").await.is_empty(), "not before 09:00");

    let at_nine = moscow(1, 9, 0);
    let (a, b) = tokio::join!(first.tick(at_nine), second.tick(at_nine));
    a.unwrap();
    b.unwrap();
    first.tick(moscow(1, 9, 30)).await.unwrap();
    let mut restarted = Managers::start(bot.bot.clone()).await.unwrap();
    restarted.tick(moscow(1, 23, 0)).await.unwrap();
    let digests = texts_with(&bot, "📊").await;
    assert_eq!(digests.len(), 1, "{digests:?}");
    let digest = &digests[0];
    let day = (Utc::now()
        .with_timezone(&chrono_tz::Europe::Moscow)
        .date_naive())
    .format("%d.%m.%Y")
    .to_string();
    for line in [
        format!("“Brand” digest for {day}"),
        "New members: 1, active: 1".to_string(),
        "Points awarded: 60, reversed: 0".to_string(),
        "Codewords: 1 (50 points)".to_string(),
        "Top of the week: 1. Анна С. — 60".to_string(),
        "Refused deliveries: 0".to_string(),
        "Unusual: large awards — 1".to_string(),
    ] {
        assert!(digest.contains(&line), "{line:?} in {digest}");
    }
    let claims: i64 = sqlx::query_scalar("SELECT count(*) FROM managers_digests")
        .fetch_one(&bot.app.pool)
        .await
        .unwrap();
    assert_eq!(claims, 1);

    // The next morning brings the next day's digest, about a quiet day.
    first.tick(moscow(2, 9, 1)).await.unwrap();
    let digests = texts_with(&bot, "📊").await;
    assert_eq!(digests.len(), 2);
    assert!(digests[1].contains("Points awarded: 0"), "{}", digests[1]);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_chat_connected_after_the_digest_time_gets_its_first_digest_the_next_morning(
    pool: PgPool,
) {
    let bot = BotApp::new(pool).await;
    connect(&bot, "ru").await;
    let connected = connected_chat(&bot).await.unwrap().connected_at;
    let mut worker = Managers::start(bot.bot.clone()).await.unwrap();
    // Today's 09:00 passed before it was connected (or comes later today): nothing now.
    worker.tick(connected + Duration::minutes(1)).await.unwrap();
    let today_nine = moscow(0, 9, 0);
    let sent_today = texts_with(&bot, "📊").await.len();
    assert_eq!(
        sent_today,
        usize::from(connected <= today_nine && today_nine <= connected + Duration::minutes(1))
    );
    worker.tick(moscow(1, 9, 0)).await.unwrap();
    let digests = texts_with(&bot, "📊").await;
    assert_eq!(digests.len(), sent_today + 1);
    assert!(
        digests.last().unwrap().starts_with("📊 Сводка «Brand»"),
        "{digests:?}"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn each_lasting_condition_alerts_once_per_episode(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    connect(&bot, "en").await;
    let db = &bot.app.pool;
    bot.project().await;
    let mut worker = Managers::start(bot.bot.clone()).await.unwrap();
    let now = Utc::now();
    worker.tick(now).await.unwrap();
    assert!(staff_messages(&bot).await.is_empty(), "all is well");

    // The bot lost its admin rights in the program's group: once, until it has them again.
    app::channels::record_bot_chat(
        db,
        0,
        TG_GROUP,
        Some("supergroup"),
        Some("Brand Chat"),
        "member",
    )
    .await
    .unwrap();
    worker.tick(now + Duration::minutes(1)).await.unwrap();
    worker.tick(now + Duration::minutes(2)).await.unwrap();
    let rights = texts_with(&bot, "🚨 The bot is no longer an administrator").await;
    assert_eq!(rights.len(), 1);
    assert!(
        rights[0].contains("«Brand Chat» (telegram -1002233445566)"),
        "{}",
        rights[0]
    );
    app::channels::record_bot_chat(db, 0, TG_GROUP, None, None, "administrator")
        .await
        .unwrap();
    worker.tick(now + Duration::minutes(3)).await.unwrap();
    app::channels::record_bot_chat(db, 0, TG_GROUP, None, None, "removed")
        .await
        .unwrap();
    worker.tick(now + Duration::minutes(4)).await.unwrap();
    worker.tick(now + Duration::minutes(5)).await.unwrap();
    assert_eq!(
        texts_with(&bot, "🚨 The bot is no longer an administrator")
            .await
            .len(),
        2,
        "a second episode"
    );

    // A VK group that delivered before and then nothing for more than a day.
    sqlx::query("UPDATE channels SET last_delivery_at = $1 WHERE destination = $2")
        .bind(now - Duration::hours(30))
        .bind(VK_GROUP)
        .execute(db)
        .await
        .unwrap();
    worker.tick(now + Duration::minutes(6)).await.unwrap();
    worker.tick(now + Duration::minutes(7)).await.unwrap();
    let silent = texts_with(&bot, "🚨 Channel vk 229871234").await;
    assert_eq!(silent.len(), 1, "{silent:?}");

    // Refused deliveries: counted from the first tick; 5, then 25 more within the hour is a
    // spike of 30.
    sqlx::query(
        "INSERT INTO unrouted_destinations (network, destination, reason, deliveries) \
         VALUES ('vk', $1, 'wrong_secret', 5)",
    )
    .bind(VK_GROUP)
    .execute(db)
    .await
    .unwrap();
    worker.tick(now + Duration::minutes(8)).await.unwrap();
    assert!(
        texts_with(&bot, "🚨 ")
            .await
            .iter()
            .all(|t| !t.contains("refused"))
    );
    sqlx::query("UPDATE unrouted_destinations SET deliveries = 30")
        .execute(db)
        .await
        .unwrap();
    worker.tick(now + Duration::minutes(9)).await.unwrap();
    worker.tick(now + Duration::minutes(10)).await.unwrap();
    let spikes = texts_with(&bot, "🚨 30 deliveries were refused").await;
    assert_eq!(spikes.len(), 1, "{:?}", texts_with(&bot, "🚨").await);
    // An hour later the spike is over and resolved.
    worker.tick(now + Duration::minutes(75)).await.unwrap();
    let open: Vec<String> = sqlx::query_scalar(
        "SELECT key FROM managers_alerts WHERE resolved_at IS NULL ORDER BY key",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert!(!open.contains(&"refused".to_string()), "{open:?}");

    // The read models fall behind: an event the projections have not applied for 10 minutes.
    bot.app.codeword_campaign().await;
    let lagging = Utc::now() + Duration::minutes(10);
    worker.tick(lagging).await.unwrap();
    worker.tick(lagging + Duration::seconds(30)).await.unwrap();
    let lag = texts_with(&bot, "🚨 The panel's figures are").await;
    assert_eq!(lag.len(), 1, "{lag:?}");
    bot.project().await;
    worker.tick(lagging + Duration::minutes(1)).await.unwrap();
    let resolved: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM managers_alerts WHERE key = 'lag' AND resolved_at IS NOT NULL",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(resolved, 1);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_reward_running_low_alerts_the_managers_chat_once(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    connect(&bot, "ru").await;
    staff(&bot, "olga", Role::Manager, OLGA, None).await;
    let mut panel = AdminClient::on(bot.app.clone());
    panel.login("olga", PASSWORD).await;
    let mut worker = Managers::start(bot.bot.clone()).await.unwrap();
    let body = json!({"title": "Кружка", "cost": 10, "stock": 2, "low_stock_alert": 1});
    let listed = panel
        .change(Method::POST, &panel.path("/rewards"), Some(body))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let reward = RewardId(
        listed.json()["created_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    );
    anna_comments(&bot, "Отличная пробежка сегодня").await;
    anna_comments(&bot, "И ещё одна пробежка вечером").await;
    let anna = bot.app.member_of(&crate::harness::anna_tg()).await.unwrap();
    let mut notifier =
        bot::notify::NotificationWorker::start(bot.bot.clone(), bot.notifier_config())
            .await
            .unwrap();
    let redeemed = bot
        .app
        .t
        .ledger
        .redeem_reward(
            bot.app.t.program_id(),
            anna,
            reward,
            domain::ids::RedemptionId(Uuid::new_v4()),
            "MUG-1",
            Utc::now().into(),
        )
        .await;
    assert!(redeemed.is_ok(), "{redeemed:?}");
    bot.project().await;
    worker.tick(Utc::now()).await.unwrap();
    worker.tick(Utc::now()).await.unwrap();
    let mut again = Managers::start(bot.bot.clone()).await.unwrap();
    again.tick(Utc::now()).await.unwrap();
    let alerts = texts_with(&bot, "⚠️").await;
    assert_eq!(
        alerts,
        vec![
            "⚠️ «Кружка»: осталось 1 (порог 1). Загрузите коды или добавьте остаток в панели."
                .to_string()
        ]
    );
    // Olga linked her Telegram, but the chat carries the alert: she does not get it twice.
    notifier
        .drain(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let to_olga = bot
        .sent()
        .await
        .into_iter()
        .filter(|m| m["chat_id"] == OLGA)
        .count();
    assert_eq!(to_olga, 0);
}

/// The staff connected (in English, large awards from 50) and buttons answered, a codeword
/// campaign running, and the managers' worker started.
async fn staff_room_with_a_codeword(pool: PgPool) -> (BotApp, Managers) {
    let bot = BotApp::new(pool).await;
    mount_buttons(&bot).await;
    the_staff(&bot).await;
    connect(&bot, "en").await;
    bot.app.codeword_campaign().await;
    let worker = Managers::start(bot.bot.clone()).await.unwrap();
    (bot, worker)
}

/// Between the 30-second ticks the worker keeps reading the log (`serve` does it every
/// second), so an entry's alert does not wait for the next tick.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_entry_between_ticks_is_alerted_when_the_log_is_next_read(pool: PgPool) {
    let (bot, mut worker) = staff_room_with_a_codeword(pool).await;
    worker.tick(Utc::now()).await.unwrap();
    let alerted = async || texts_with(&bot, "🔎").await;
    assert!(alerted().await.is_empty());

    anna_comments(&bot, "Кодовое слово: СЕКРЕТ").await;
    bot.project().await;
    crate::harness::log_visible_to_readers(&bot.app.pool).await;
    worker.follow_log(Utc::now()).await;
    assert_eq!(
        alerted().await,
        ["🔎 Large codeword bonus: Анна С. earned +50."]
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_reverse_button_reverses_once_for_a_manager_and_for_nobody_else(pool: PgPool) {
    let (bot, mut worker) = staff_room_with_a_codeword(pool).await;
    anna_comments(&bot, "Кодовое слово: СЕКРЕТ").await;
    bot.project().await;
    worker.tick(Utc::now()).await.unwrap();
    worker.tick(Utc::now()).await.unwrap();
    assert_eq!(bot.balance(ANNA).await, 60);

    let alerts: Vec<Value> = staff_messages(&bot)
        .await
        .into_iter()
        .filter(|m| m["text"].as_str().unwrap().starts_with("🔎"))
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        alerts[0]["text"],
        "🔎 Large codeword bonus: Анна С. earned +50."
    );
    let anna = bot.app.member_of(&crate::harness::anna_tg()).await.unwrap();
    let buttons = &alerts[0]["reply_markup"]["inline_keyboard"][0];
    assert_eq!(buttons[0]["text"], "Open card");
    assert_eq!(
        buttons[0]["url"],
        format!("{PUBLIC_URL}/admin#/members/{}", anna.0)
    );
    assert_eq!(buttons[1]["text"], "Reverse");
    let data = buttons[1]["callback_data"].as_str().unwrap().to_string();
    assert!(data.starts_with("rv:") && data.len() <= 64, "{data}");
    let alert_id: i64 = sqlx::query_scalar("SELECT message_id FROM managers_reversals")
        .fetch_one(&bot.app.pool)
        .await
        .unwrap();

    // Pressed by someone with no linked account, an auditor, a manager of another program.
    for (user, why) in [
        (STRANGER, "not linked"),
        (AUDREY, "only reads"),
        (VERA, "does not manage this program"),
    ] {
        deliver(&bot, pressed(user, alert_id, &data)).await;
        let answers = bot.bodies("answerCallbackQuery").await;
        let last = answers.last().unwrap();
        assert!(
            last["text"].as_str().unwrap().contains(why),
            "{user}: {last}"
        );
        assert_eq!(last["show_alert"], true);
    }
    let prompts = || async {
        staff_messages(&bot)
            .await
            .into_iter()
            .filter(|m| m["reply_markup"]["force_reply"] == true)
            .count()
    };
    assert_eq!(prompts().await, 0, "nobody was asked for a reason");

    // Olga presses twice: asked once.
    deliver(&bot, pressed(OLGA, alert_id, &data)).await;
    deliver(&bot, pressed(OLGA, alert_id, &data)).await;
    assert_eq!(prompts().await, 1);
    let prompt = staff_messages(&bot)
        .await
        .into_iter()
        .find(|m| m["reply_markup"]["force_reply"] == true)
        .unwrap();
    assert!(
        prompt["text"]
            .as_str()
            .unwrap()
            .starts_with("Why reverse +50?")
    );
    assert_eq!(prompt["reply_parameters"]["message_id"], alert_id);
    let prompt_id: i64 = sqlx::query_scalar("SELECT prompt_message_id FROM managers_reversals")
        .fetch_one(&bot.app.pool)
        .await
        .unwrap();

    // An auditor's answer reverses nothing; a stray reply to another message is ignored.
    deliver(
        &bot,
        group_message(AUDREY, "looks fake", Some(prompt_id), "en"),
    )
    .await;
    assert!(
        staff_messages(&bot).await.last().unwrap()["text"]
            .as_str()
            .unwrap()
            .starts_with("Not reversed: Your panel role only reads")
    );
    let before = staff_messages(&bot).await.len();
    deliver(
        &bot,
        group_message(OLGA, "unrelated", Some(alert_id + 100), "en"),
    )
    .await;
    assert_eq!(staff_messages(&bot).await.len(), before);
    bot.project().await;
    assert_eq!(bot.balance(ANNA).await, 60);

    // Olga's answer is the reason; answering again changes nothing.
    deliver(
        &bot,
        group_message(OLGA, " shared in a coupon forum ", Some(prompt_id), "en"),
    )
    .await;
    deliver(&bot, group_message(OLGA, "again", Some(prompt_id), "en")).await;
    deliver(&bot, pressed(OLGA, alert_id, &data)).await;
    bot.project().await;
    assert_eq!(bot.balance(ANNA).await, 10);
    let reversals: Vec<(String, String)> =
        sqlx::query_as("SELECT reason, manager FROM adjustments WHERE compensates IS NOT NULL")
            .fetch_all(&bot.app.pool)
            .await
            .unwrap();
    assert_eq!(
        reversals,
        vec![(
            "shared in a coupon forum".to_string(),
            "manager:olga".to_string()
        )]
    );
    let said: Vec<String> = staff_messages(&bot)
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert!(said.contains(
        &"✅ Award +50 reversed (manager:olga). Reason: shared in a coupon forum".to_string()
    ));
    assert!(
        said.last()
            .unwrap()
            .contains("already reversed (manager:olga)"),
        "{said:?}"
    );
    let last_answer = bot.bodies("answerCallbackQuery").await.pop().unwrap();
    assert!(
        last_answer["text"]
            .as_str()
            .unwrap()
            .contains("already reversed")
    );
    let edits = bot.bodies("editMessageReplyMarkup").await;
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["message_id"], alert_id);
    assert_eq!(
        edits[0]["reply_markup"]["inline_keyboard"][0]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_member_earning_a_lot_within_an_hour_is_one_alert(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let request = ManagersChatRequest {
        chat_id: STAFF_CHAT.to_string(),
        language: Some("en".into()),
        hourly_points: Some(55),
        ..ManagersChatRequest::default()
    };
    let valid = managers_chat::validate(&request, None).unwrap();
    managers_chat::connect(
        &bot.app.pool,
        bot.app.t.program_id(),
        &valid,
        "manager:olga",
    )
    .await
    .unwrap();
    bot.app.codeword_campaign().await;
    let mut worker = Managers::start(bot.bot.clone()).await.unwrap();
    // 10 for the comment, 50 for the codeword in it: 60 within the hour, none of it large.
    anna_comments(&bot, "Кодовое слово: СЕКРЕТ").await;
    bot.project().await;
    worker.tick(Utc::now()).await.unwrap();
    worker.tick(Utc::now()).await.unwrap();
    let alerts: Vec<Value> = staff_messages(&bot).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        alerts[0]["text"],
        "🔎 Unusual: Анна С. earned 60 points in an hour."
    );
    let reverse = &alerts[0]["reply_markup"]["inline_keyboard"][0][1];
    assert_eq!(reverse["text"], "Reverse");
    let points: i64 = sqlx::query_scalar("SELECT points FROM managers_reversals")
        .fetch_one(&bot.app.pool)
        .await
        .unwrap();
    // The ledger records the codeword's 50 first; the comment's 10 crossed the line.
    assert_eq!(
        points, 10,
        "the button reverses the award that crossed the line"
    );
}
