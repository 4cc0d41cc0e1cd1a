//! Telegram polls end to end: a manager publishes a poll through the admin API (the bot calls
//! a fake `sendPoll`), then signed `poll_answer` updates arrive at the real webhook route and
//! are routed by poll id to the program: one PollVote award per member per poll.

use super::support::*;
use crate::harness::admin::{AdminClient, PASSWORD};
use crate::harness::{TG_CHANNEL, TG_GROUP, TG_SECRET, fixture, json_of};
use api::admin::{Role, create_user};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use clients::telegram::ALLOWED_UPDATES;
use serde_json::{Value, json};
use sqlx::PgPool;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, Request as Received, Respond, ResponseTemplate};

/// The poll id of the `telegram/poll_answer*.json` fixtures.
const FIXTURE_POLL: &str = "5210000000000000001";

/// `sendPoll` answers with a message holding a poll of this id, in the chat asked for.
struct PollSent(&'static str);

impl Respond for PollSent {
    fn respond(&self, request: &Received) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let options: Vec<Value> = body["options"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|o| json!({"text": o["text"], "voter_count": 0}))
            .collect();
        ok(json!({
            "message_id": 501,
            "from": {"id": 7000000001_i64, "is_bot": true, "first_name": "Points"},
            "chat": {"id": body["chat_id"], "type": "supergroup", "title": "Brand club"},
            "date": 1767000000,
            "poll": {"id": self.0, "question": body["question"], "options": options,
                     "total_voter_count": 0, "is_closed": false, "is_anonymous": false,
                     "type": "regular", "allows_multiple_answers": false}
        }))
    }
}

/// An admin-panel session on the bot's application.
struct Panel(AdminClient);

impl Panel {
    async fn signed_in(bot: &BotApp, role: Role) -> Panel {
        let name = format!("{}1", role.as_str());
        create_user(&bot.state.pool, "test", &name, PASSWORD, role)
            .await
            .unwrap();
        let mut admin = AdminClient::on(bot.app.clone());
        assert_eq!(admin.login(&name, PASSWORD).await.status, StatusCode::OK);
        Panel(admin)
    }

    async fn publish(&self, body: Value, key: &str) -> (StatusCode, Value) {
        let path = self.0.path("/telegram/polls");
        let reply = self
            .0
            .change_keyed(Method::POST, &path, Some(body), key)
            .await;
        (reply.status, json_of(&reply))
    }

    async fn list(&self) -> Value {
        let reply = self.0.get(&self.0.path("/telegram/polls")).await;
        let body = json_of(&reply);
        assert_eq!(reply.status, StatusCode::OK, "{body}");
        body
    }
}

async fn mount_send_poll(bot: &BotApp, poll_id: &'static str) {
    Mock::given(method("POST"))
        .and(path(bot_path("sendPoll")))
        .respond_with(PollSent(poll_id))
        .mount(&bot.telegram)
        .await;
}

fn group_poll() -> Value {
    json!({
        "question": "Какой вкус следующего сезона?",
        "options": ["Вишня", "Лайм", "Манго"],
        "chat": TG_GROUP,
    })
}

/// The fixture answer, with another update id and other options.
fn answer(update_id: i64, option_ids: &[u32]) -> Value {
    let mut update: Value = serde_json::from_slice(&fixture("telegram/poll_answer.json")).unwrap();
    update["update_id"] = json!(update_id);
    update["poll_answer"]["option_ids"] = json!(option_ids);
    update
}

async fn events_of(bot: &BotApp, event_type: &str) -> Vec<Value> {
    sqlx::query_scalar("SELECT payload FROM events WHERE event_type = $1 ORDER BY position")
        .bind(event_type)
        .fetch_all(&bot.state.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_published_poll_pays_each_member_once_for_answering(pool: PgPool) {
    assert!(
        ALLOWED_UPDATES.contains(&"poll_answer"),
        "webhook and polling ask for poll answers"
    );
    let bot = BotApp::new(pool).await;
    mount_send_poll(&bot, FIXTURE_POLL).await;
    let panel = Panel::signed_in(&bot, Role::Manager).await;
    let events_before = bot.app.event_count().await;

    let (status, reply) = panel.publish(group_poll(), "poll-1").await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["outcome"], "published");
    assert_eq!(reply["poll"]["poll_id"], FIXTURE_POLL);
    assert_eq!(reply["poll"]["chat_id"], TG_GROUP);
    assert_eq!(reply["poll"]["message_id"], 501);
    assert_eq!(reply["poll"]["published_by"], "manager:manager1");
    let sent = bot.bodies("sendPoll").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0],
        json!({
            "chat_id": TG_GROUP.parse::<i64>().unwrap(),
            "question": "Какой вкус следующего сезона?",
            "options": [{"text": "Вишня"}, {"text": "Лайм"}, {"text": "Манго"}],
            "is_anonymous": false
        })
    );
    assert_eq!(
        bot.app.event_count().await,
        events_before,
        "publishing is routing configuration, not a ledger fact"
    );

    // A double submit sends nothing again.
    let (status, again) = panel.publish(group_poll(), "poll-1").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["outcome"], "duplicate");
    assert_eq!(again["poll"]["poll_id"], FIXTURE_POLL);
    assert_eq!(bot.bodies("sendPoll").await.len(), 1);

    // Anna answers: the fixture update through the signed webhook route.
    let update: Value = serde_json::from_slice(&fixture("telegram/poll_answer.json")).unwrap();
    assert_eq!(bot.webhook(update.clone()).await, StatusCode::OK);
    let awards = events_of(&bot, "PointsAwarded").await;
    assert_eq!(awards.len(), 1, "{awards:?}");
    assert_eq!(awards[0]["activity"]["kind"], "poll_vote");
    assert_eq!(awards[0]["activity"]["network"], "telegram");
    // A vote is one per member and poll: its key holds Anna's account reference, not her id.
    let anna = bot
        .app
        .account(&bot::members::telegram_identity(ANNA))
        .await;
    let vote = domain::privacy::PlatformActivity {
        network: domain::network::Network::Telegram,
        kind: domain::network::ActivityKind::PollVote,
        reference: format!("poll:{FIXTURE_POLL}:{ANNA}"),
    };
    let expected =
        app::config::dev_privacy_keys().activity(bot.app.t.program_id(), &vote, anna.account);
    assert_eq!(awards[0]["activity"]["reference"], expected.reference);
    assert_eq!(awards[0]["points"], 5);
    assert_eq!(bot.balance(ANNA).await, 5);
    let paid = bot.app.event_count().await;

    // Telegram redelivers it, then Anna changes her answer: nothing more is paid or appended.
    assert_eq!(bot.webhook(update).await, StatusCode::OK);
    assert_eq!(bot.webhook(answer(900_000_200, &[0])).await, StatusCode::OK);
    assert_eq!(bot.app.event_count().await, paid);
    assert_eq!(bot.balance(ANNA).await, 5);

    let list = panel.list().await;
    assert_eq!(list["polls"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["polls"][0]["question"],
        "Какой вкус следующего сезона?"
    );
    assert_eq!(
        list["polls"][0]["options"],
        json!(["Вишня", "Лайм", "Манго"])
    );
    assert_eq!(list["points_per_vote"], 5);
    assert_eq!(list["chats"], json!([TG_CHANNEL, TG_GROUP]));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_answer_to_a_poll_nobody_here_published_appends_nothing(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    mount_send_poll(&bot, "5210000000000000999").await;
    let panel = Panel::signed_in(&bot, Role::Manager).await;
    let (status, reply) = panel.publish(group_poll(), "other-poll").await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let before = bot.app.event_count().await;
    for update in [
        serde_json::from_slice(&fixture("telegram/poll_answer.json")).unwrap(),
        serde_json::from_slice(&fixture("telegram/poll_answer_retracted.json")).unwrap(),
        answer(900_000_300, &[2]),
    ] {
        assert_eq!(bot.webhook(update).await, StatusCode::OK);
    }
    assert_eq!(bot.app.event_count().await, before);
    assert_eq!(bot.balance(ANNA).await, 0);
    let profiles: i64 = sqlx::query_scalar("SELECT count(*) FROM profiles")
        .fetch_one(&bot.state.pool)
        .await
        .unwrap();
    assert_eq!(profiles, 0, "an unrouted vote leaves no trace");
    // Unsigned, it is refused before anything is looked at.
    let request = Request::post("/webhooks/telegram")
        .body(Body::from(fixture("telegram/poll_answer.json")))
        .unwrap();
    assert_eq!(bot.send(request).await.0, StatusCode::UNAUTHORIZED);
    assert!(!TG_SECRET.is_empty());
}

/// Retraction follows VK's like_remove: the award is reversed (the program reverses withdrawn
/// activity by default); answering again restores that same award, never a second one.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_retracted_vote_is_reversed_and_a_new_answer_restores_it(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    mount_send_poll(&bot, FIXTURE_POLL).await;
    let panel = Panel::signed_in(&bot, Role::Admin).await;
    assert_eq!(
        panel.publish(group_poll(), "poll-r").await.0,
        StatusCode::OK
    );
    let retracted: Value =
        serde_json::from_slice(&fixture("telegram/poll_answer_retracted.json")).unwrap();

    assert_eq!(bot.webhook(answer(900_000_401, &[1])).await, StatusCode::OK);
    assert_eq!(bot.balance(ANNA).await, 5);
    assert_eq!(bot.webhook(retracted).await, StatusCode::OK);
    assert_eq!(bot.balance(ANNA).await, 0);
    let reversals = events_of(&bot, "PointsReversed").await;
    assert_eq!(reversals.len(), 1);
    assert_eq!(reversals[0]["reason"], "withdrawn");

    assert_eq!(bot.webhook(answer(900_000_402, &[2])).await, StatusCode::OK);
    assert_eq!(bot.balance(ANNA).await, 5);
    assert_eq!(events_of(&bot, "AwardRestored").await.len(), 1);
    assert_eq!(bot.webhook(answer(900_000_403, &[0])).await, StatusCode::OK);
    assert_eq!(bot.balance(ANNA).await, 5);
    assert_eq!(events_of(&bot, "PointsAwarded").await.len(), 1);

    // A vote on behalf of a channel has no member to pay.
    let voter_chat: Value =
        serde_json::from_slice(&fixture("telegram/poll_answer_voter_chat.json")).unwrap();
    let before = bot.app.event_count().await;
    assert_eq!(bot.webhook(voter_chat).await, StatusCode::OK);
    assert_eq!(bot.app.event_count().await, before);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn publishing_checks_role_chat_options_and_telegram_refusals(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    // The channel refuses non-anonymous polls, as Telegram does; the group accepts.
    Mock::given(method("POST"))
        .and(path(bot_path("sendPoll")))
        .and(body_partial_json(
            json!({"chat_id": TG_CHANNEL.parse::<i64>().unwrap()}),
        ))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "ok": false, "error_code": 400,
            "description": "Bad Request: non-anonymous polls can't be sent to channel chats"
        })))
        .with_priority(1)
        .mount(&bot.telegram)
        .await;
    mount_send_poll(&bot, "5210000000000000777").await;
    let auditor = Panel::signed_in(&bot, Role::Auditor).await;
    let (status, body) = auditor.publish(group_poll(), "a").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("publish polls")
    );
    assert_eq!(
        auditor.list().await["polls"],
        json!([]),
        "auditors may read the list"
    );

    let panel = Panel::signed_in(&bot, Role::Manager).await;
    let cases = [
        (
            json!({"question": "Q?", "options": ["a", "b"]}),
            "chat_required",
        ),
        (
            json!({"question": "Q?", "options": ["a", "b"], "chat": "-100999"}),
            "chat_not_linked",
        ),
        (
            json!({"question": "Q?", "options": ["a"], "chat": TG_GROUP}),
            "invalid_options",
        ),
        (
            json!({"question": "Q?", "options": ["a", " A "], "chat": TG_GROUP}),
            "invalid_options",
        ),
        (
            json!({"question": "  ", "options": ["a", "b"], "chat": TG_GROUP}),
            "invalid_question",
        ),
    ];
    for (body, code) in cases {
        let (status, reply) = panel.publish(body.clone(), "bad").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {reply}");
        assert_eq!(reply["error"]["code"], code, "{body}");
    }
    assert!(bot.bodies("sendPoll").await.is_empty());

    let to_channel = json!({"question": "Q?", "options": ["a", "b"], "chat": TG_CHANNEL});
    let (status, reply) = panel.publish(to_channel, "k").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    assert_eq!(reply["error"]["code"], "telegram_refused");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("channel chats")
    );
    // Nothing was recorded, so the same key may publish (here, to the group) after all.
    let numeric_chat = json!({"question": "Q?", "options": ["a", "b"],
                              "chat": TG_GROUP.parse::<i64>().unwrap()});
    let (status, reply) = panel.publish(numeric_chat, "k").await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["outcome"], "published");
    assert_eq!(panel.list().await["polls"].as_array().unwrap().len(), 1);
}

/// The admin page's Polls section in headless Chromium: a manager fills in the form (a third
/// option added), picks the group, publishes, and sees the poll listed; in Russian too.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_manager_publishes_a_poll_from_the_admin_page(pool: PgPool) {
    use crate::browser::Browser;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let bot = BotApp::new(pool).await;
    mount_send_poll(&bot, FIXTURE_POLL).await;
    create_user(&bot.state.pool, "test", "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    let server = bot.app.serve().await;
    browser.set_window_size(1280, 900).await.unwrap();
    browser.goto(&server.url("/admin")).await.unwrap();
    browser
        .execute("localStorage.setItem('admin.lang', 'en');", vec![])
        .await
        .unwrap();
    browser.goto(&server.url("/admin")).await.unwrap();
    browser.type_into("#username", "olga").await.unwrap();
    browser.type_into("#password", PASSWORD).await.unwrap();
    browser.click("#login-submit").await.unwrap();
    browser.wait_visible("#nav").await.unwrap();
    browser.click("#nav a[data-page=polls]").await.unwrap();
    browser
        .wait_for("document.body.dataset.ready === '#/polls'")
        .await
        .unwrap();
    browser
        .wait_for_text("#polls-points", "5 points")
        .await
        .unwrap();

    browser
        .type_into("#poll-question", "Какой вкус следующего сезона?")
        .await
        .unwrap();
    browser.click("#poll-add-option").await.unwrap();
    assert_eq!(browser.count("input.poll-option").await.unwrap(), 3);
    for (n, text) in ["Вишня", "Лайм", "<b>Манго</b>"].iter().enumerate() {
        let css = format!("#poll-options label:nth-child({}) input", n + 1);
        browser.type_into(&css, text).await.unwrap();
    }
    browser
        .execute(
            "document.getElementById('poll-chat').value = arguments[0];",
            vec![json!(TG_GROUP)],
        )
        .await
        .unwrap();
    browser.click("#poll-submit").await.unwrap();
    let row = browser
        .wait_for_text(".poll-row", "Какой вкус следующего сезона?")
        .await
        .unwrap();
    assert!(row.contains("<b>Манго</b>"), "shown as text: {row}");
    assert!(row.contains(FIXTURE_POLL), "{row}");
    assert!(row.contains("olga"), "{row}");
    let sent = bot.bodies("sendPoll").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["options"],
        json!([{"text": "Вишня"}, {"text": "Лайм"}, {"text": "<b>Манго</b>"}])
    );
    assert_eq!(sent[0]["chat_id"], TG_GROUP.parse::<i64>().unwrap());
    assert_eq!(browser.count(".poll-row b").await.unwrap(), 0);
    browser.screenshot("admin-polls").await.unwrap();

    browser.click("#lang-switch").await.unwrap();
    browser
        .wait_for_text("#nav a[data-page=polls]", "Опросы")
        .await
        .unwrap();
    browser
        .wait_for_text("#poll-submit", "Опубликовать опрос")
        .await
        .unwrap();
    browser.quit().await;
}
