//! Many brands in one process: program A served by the configured bot, programs B and C by
//! bots of their own (connected through the admin API, proved against a fake Bot API). The
//! same Telegram user talks to all three bots at once, opens all three Mini Apps and earns in
//! all three programs: every reply, member, initData check and notification stays with its
//! own program and bot.

use super::support::*;
use crate::harness::admin::{AdminClient, PASSWORD};
use crate::harness::mini_app::{init_data_signed, user};
use crate::helpers::manager;
use api::admin::{Role, create_user};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bot::Bot;
use bot::notify::NotificationWorker;
use chrono::Utc;
use clients::telegram::ALLOWED_UPDATES;
use domain::ids::{MemberId, ProgramId};
use domain::points::PointsDelta;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::atomic::AtomicI64;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN_B: &str = "7000000002:AAProgramBotB_ForTests_only-0042";
const TOKEN_C: &str = "7000000003:AAProgramBotC_ForTests_only-0043";
/// A token in BotFather's shape that Telegram does not know.
const TOKEN_UNKNOWN: &str = "7000000009:AAUnknownBotTokenForTests_only-99";
const BOT_B: i64 = 7_000_000_002;
const BOT_C: i64 = 7_000_000_003;

/// A fake Bot API for one more bot: `getMe`, the webhook calls and `sendMessage`.
async fn mount_bot(server: &MockServer, token: &str, id: i64, username: &str) {
    let at = |m: &str| path(format!("/bot{token}/{m}"));
    Mock::given(method("POST"))
        .and(at("getMe"))
        .respond_with(ok(json!({"id": id, "is_bot": true, "first_name": username,
                                "username": username})))
        .mount(server)
        .await;
    for name in ["setWebhook", "setChatMenuButton"] {
        Mock::given(method("POST"))
            .and(at(name))
            .respond_with(ok(json!(true)))
            .mount(server)
            .await;
    }
    Mock::given(method("POST"))
        .and(at("getWebhookInfo"))
        .respond_with(ok(json!({
            "url": format!("{PUBLIC_URL}/webhooks/telegram/{id}"),
            "has_custom_certificate": false, "pending_update_count": 0,
            "allowed_updates": ALLOWED_UPDATES,
        })))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(at("sendMessage"))
        .respond_with(Sent(AtomicI64::new(0)))
        .mount(server)
        .await;
}

async fn signed_in_admin(bot: &BotApp) -> AdminClient {
    let mut panel = AdminClient::on(bot.app.clone());
    create_user(&bot.app.pool, "test", "owner", PASSWORD, Role::Admin)
        .await
        .unwrap();
    assert_eq!(panel.login("owner", PASSWORD).await.status, StatusCode::OK);
    panel
}

fn bot_path_of(program: ProgramId) -> String {
    format!("/api/v1/admin/programs/{}/bot", program.0)
}

/// Bodies of every `sendMessage` the bot with `token` was asked for.
async fn sent_by(bot: &BotApp, token: &str) -> Vec<Value> {
    let path = format!("/bot{token}/sendMessage");
    bot.requests()
        .await
        .into_iter()
        .filter(|r| r.url.path() == path)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// Advisory locks on one `bigint` key (the notifiers' kind; the projections' take two keys)
/// held in the test's database, and by how many sessions.
async fn advisory_locks(bot: &BotApp) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' \
           AND objsubid = 1 AND granted AND database = (SELECT oid FROM pg_database \
                                        WHERE datname = current_database())",
    )
    .fetch_one(&bot.state.pool)
    .await
    .unwrap()
}

async fn own_bot(bot: &BotApp, id: i64) -> Bot {
    let own = bot.state.program_bots.by_bot(id).await.unwrap().unwrap();
    Bot::of_program_bot(&bot.state, own)
        .unwrap()
        .with_retry(fast_retry())
}

async fn post_update(bot: &BotApp, route: &str, secret: &str, update: &Value) -> StatusCode {
    let request = Request::post(route)
        .header("X-Telegram-Bot-Api-Secret-Token", secret)
        .body(Body::from(update.to_string()))
        .unwrap();
    bot.send(request).await.0
}

async fn me(bot: &BotApp, init_data: &str, bot_header: Option<&str>) -> (StatusCode, Value) {
    let mut request =
        Request::get("/api/v1/app/me").header("authorization", format!("tma {init_data}"));
    if let Some(id) = bot_header {
        request = request.header("X-Telegram-Bot-Id", id);
    }
    bot.send(request.body(Body::empty()).unwrap()).await
}

async fn member_in(bot: &BotApp, program: ProgramId) -> Option<MemberId> {
    bot::members::telegram_member(&bot.app.t.ledger, bot.state.accounts(), program, ANNA)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn three_programs_with_three_bots_never_cross(pool: PgPool) {
    let bot = BotApp::new(pool.clone()).await;
    let a = bot.app.t.program_id();
    let b = bot.app.another_program().await;
    let c = bot.app.another_program().await;
    mount_bot(&bot.telegram, TOKEN_B, BOT_B, "brand_b_bot").await;
    mount_bot(&bot.telegram, TOKEN_C, BOT_C, "brand_c_bot").await;
    Mock::given(method("POST"))
        .and(path(format!("/bot{TOKEN_UNKNOWN}/getMe")))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
            ),
        )
        .mount(&bot.telegram)
        .await;
    let panel = signed_in_admin(&bot).await;

    // Wrong tokens are refused with a reason, and nothing is stored.
    for (token, status, code) in [
        ("not a token", StatusCode::BAD_REQUEST, "invalid_bot"),
        (
            TOKEN_UNKNOWN,
            StatusCode::UNPROCESSABLE_ENTITY,
            "bot_token_refused",
        ),
    ] {
        let reply = panel
            .change(Method::PUT, &bot_path_of(b), Some(json!({"token": token})))
            .await;
        assert_eq!(reply.status, status, "{}", reply.body);
        assert_eq!(reply.code(), code);
    }
    assert_eq!(panel.count("SELECT count(*) FROM program_bots").await, 0);

    // B and C get bots of their own; the webhook is set for each at once.
    for (program, token, id, name) in [
        (b, TOKEN_B, BOT_B, "brand_b_bot"),
        (c, TOKEN_C, BOT_C, "brand_c_bot"),
    ] {
        let reply = panel
            .change(
                Method::PUT,
                &bot_path_of(program),
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let body = reply.json();
        assert_eq!(body["bot"]["bot_id"], id);
        assert_eq!(body["bot"]["username"], name);
        assert_eq!(
            body["bot"]["webhook_url"],
            format!("{PUBLIC_URL}/webhooks/telegram/{id}")
        );
        assert_eq!(
            body["bot"]["mini_app_url"],
            format!("{PUBLIC_URL}/app?bot={id}")
        );
        assert_eq!(body["webhook"], "set");
        assert!(!reply.body.contains(token.split_once(':').unwrap().1));
    }
    // One bot serves one program.
    let taken = panel
        .change(
            Method::PUT,
            &bot_path_of(a),
            Some(json!({"token": TOKEN_B})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert_eq!(taken.code(), "bot_taken");
    // Telegram was told each bot's own path and secret; the tokens are not stored in the clear.
    let own_b = bot.state.program_bots.by_bot(BOT_B).await.unwrap().unwrap();
    let own_c = bot.state.program_bots.by_bot(BOT_C).await.unwrap().unwrap();
    let set_b = bot.bodies_at(&format!("/bot{TOKEN_B}/setWebhook")).await;
    assert_eq!(set_b.len(), 1);
    assert_eq!(
        set_b[0]["url"],
        format!("{PUBLIC_URL}/webhooks/telegram/{BOT_B}")
    );
    assert_eq!(
        set_b[0]["secret_token"],
        own_b.webhook_secret.expose_secret()
    );
    assert_ne!(
        own_b.webhook_secret.expose_secret(),
        own_c.webhook_secret.expose_secret()
    );
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT token || webhook_secret FROM program_bots")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(stored.iter().all(|s| !s.contains("ProgramBot") && !s.contains(own_b.webhook_secret.expose_secret())));
    let shown = panel.get(&bot_path_of(b)).await;
    assert_eq!(shown.json()["bot"]["bot_id"], BOT_B);
    assert!(!shown.body.contains(own_b.webhook_secret.expose_secret()));
    assert_eq!(
        panel
            .count("SELECT count(*) FROM channel_changes WHERE destination LIKE 'bot:%'")
            .await,
        2
    );

    // A webhook with another bot's secret, or for a bot no program has, changes nothing.
    let hello = private(1, ANNA, "/start", "ru");
    let c_secret = own_c.webhook_secret.expose_secret().to_owned();
    let b_secret = own_b.webhook_secret.expose_secret().to_owned();
    let b_route = format!("/webhooks/telegram/{BOT_B}");
    let c_route = format!("/webhooks/telegram/{BOT_C}");
    assert_eq!(
        post_update(&bot, &b_route, &c_secret, &hello).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_update(&bot, "/webhooks/telegram/7000000099", &b_secret, &hello).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_update(&bot, "/webhooks/telegram/not-a-bot", &b_secret, &hello).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(panel.count("SELECT count(*) FROM bot_updates").await, 0);

    // The same user writes /start to all three bots at once, with the same update id (each
    // bot counts its own).
    let tg_secret = crate::harness::TG_SECRET;
    let (to_a, to_b, to_c) = tokio::join!(
        post_update(&bot, "/webhooks/telegram", tg_secret, &hello),
        post_update(&bot, &b_route, &b_secret, &hello),
        post_update(&bot, &c_route, &c_secret, &hello),
    );
    assert_eq!([to_a, to_b, to_c], [StatusCode::OK; 3]);
    assert_eq!(panel.count("SELECT count(*) FROM bot_updates").await, 3);
    let (mut bot_b, mut bot_c) = (own_bot(&bot, BOT_B).await, own_bot(&bot, BOT_C).await);
    // As the supervisor runs them: the two program bots follow the log through one tail and
    // take their notifiers' locks on one session.
    let tail = std::sync::Arc::new(bot::LogTail::new(
        bot.state.ledger().store().clone(),
        bot::TAIL_CAPACITY,
        Duration::ZERO,
    ));
    let locks = bot::locks::LockSession::new(bot.state.pool.clone());
    for each in [&mut bot_b, &mut bot_c] {
        each.tail = Some(tail.clone());
        each.locks = locks.clone();
    }
    let (answered_a, answered_b, answered_c) = tokio::join!(
        bot::inbox::drain(&bot.bot),
        bot::inbox::drain(&bot_b),
        bot::inbox::drain(&bot_c),
    );
    assert_eq!(
        [
            answered_a.unwrap(),
            answered_b.unwrap(),
            answered_c.unwrap()
        ],
        [1, 1, 1]
    );
    for token in [BOT_TOKEN, TOKEN_B, TOKEN_C] {
        let sent = sent_by(&bot, token).await;
        assert_eq!(sent.len(), 1, "one welcome from {token}");
        assert_eq!(sent[0]["chat_id"], ANNA);
    }
    // Each bot's Mini App button opens the app as that bot.
    let button =
        |sent: &Value| sent["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"].clone();
    assert_eq!(
        button(&sent_by(&bot, BOT_TOKEN).await[0]),
        format!("{PUBLIC_URL}/app")
    );
    assert_eq!(
        button(&sent_by(&bot, TOKEN_B).await[0]),
        format!("{PUBLIC_URL}/app?bot={BOT_B}")
    );
    // Three members, one per program.
    let members = [
        member_in(&bot, a).await.unwrap(),
        member_in(&bot, b).await.unwrap(),
        member_in(&bot, c).await.unwrap(),
    ];
    assert!(members[0] != members[1] && members[1] != members[2] && members[0] != members[2]);

    // The Mini App: each bot's initData opens its own program, and only with its own bot named.
    let anna = user(ANNA, "Анна", "anna_runs", "ru");
    let now = Utc::now().timestamp();
    let (data_a, data_b) = (
        init_data_signed(&anna, now, BOT_TOKEN),
        init_data_signed(&anna, now, TOKEN_B),
    );
    let b_id = BOT_B.to_string();
    let c_id = BOT_C.to_string();
    let ((sa, me_a), (sb, me_b)) =
        tokio::join!(me(&bot, &data_a, None), me(&bot, &data_b, Some(&b_id)));
    assert_eq!((sa, sb), (StatusCode::OK, StatusCode::OK), "{me_a} {me_b}");
    assert_eq!(me_a["member_id"], members[0].0.to_string());
    assert_eq!(me_b["member_id"], members[1].0.to_string());
    for (data, named) in [
        (&data_b, Some(c_id.as_str())),
        (&data_b, None),
        (&data_a, Some(b_id.as_str())),
    ] {
        let (status, body) = me(&bot, data, named).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{named:?}: {body}");
    }
    let (status, _) = me(&bot, &data_b, Some("7000000099")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Notifications: each program's points are told by its own bot, once, and by no other.
    let mut workers = Vec::new();
    for each in [bot.bot.clone(), bot_b.clone(), bot_c.clone()] {
        workers.push(
            NotificationWorker::start(each, bot.notifier_config())
                .await
                .unwrap(),
        );
    }
    // Three locks on two connections: the configured bot's, and the program bots' shared one.
    assert_eq!(advisory_locks(&bot).await, (3, 2));
    // Another process's B (a session of its own) stands by.
    let mut elsewhere = bot_b.clone();
    elsewhere.locks = bot::locks::LockSession::new(bot.state.pool.clone());
    assert!(matches!(
        NotificationWorker::start(elsewhere, bot.notifier_config()).await,
        Err(bot::BotError::Busy)
    ));
    for (program, member, points) in [(a, members[0], 5), (b, members[1], 7), (c, members[2], 9)] {
        bot.app
            .t
            .ledger
            .adjust_points(
                program,
                member,
                PointsDelta::new(points).unwrap(),
                "thanks",
                None,
                &manager(),
            )
            .await
            .unwrap();
    }
    for worker in &mut workers {
        worker.drain(Duration::from_secs(10)).await.unwrap();
    }
    for (token, points) in [(BOT_TOKEN, "+5"), (TOKEN_B, "+7"), (TOKEN_C, "+9")] {
        let sent = sent_by(&bot, token).await;
        assert_eq!(
            sent.len(),
            2,
            "the welcome and one notification from {token}"
        );
        let text = sent[1]["text"].as_str().unwrap();
        assert!(text.starts_with(points), "{token}: {text}");
    }
    for worker in workers {
        worker.shutdown().await.unwrap();
    }
    assert_eq!(
        advisory_locks(&bot).await,
        (0, 0),
        "released, connections closed"
    );
    assert_eq!(locks.held().await, 0);

    // C's bot is removed: its webhook is refused, and the change is recorded.
    let removed = panel.change(Method::DELETE, &bot_path_of(c), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    assert_eq!(panel.get(&bot_path_of(c)).await.json()["bot"], Value::Null);
    let again = private(2, ANNA, "/balance", "ru");
    assert_eq!(
        post_update(&bot, &c_route, &c_secret, &again).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        panel
            .count("SELECT count(*) FROM channel_changes WHERE action = 'disconnected'")
            .await,
        1
    );
}

/// `serve`'s supervisor starts a program bot's workers when the bot appears (its webhook is
/// set with its own path and secret) and stops them with the process.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_supervisor_starts_a_new_program_bot_and_stops_it_on_shutdown(pool: PgPool) {
    let bot = BotApp::new(pool.clone()).await;
    let b = bot.app.another_program().await;
    mount_bot(&bot.telegram, TOKEN_B, BOT_B, "brand_b_bot").await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tasks = bot::spawn(&bot.state, stopped);
    let me = bot::program_bot::prove(&bot.state.config.telegram.api_url, TOKEN_B)
        .await
        .unwrap();
    app::program_bots::save(
        &pool,
        bot.state.secrets(),
        b,
        me.id,
        &me.username,
        TOKEN_B,
        "cli",
    )
    .await
    .unwrap();
    let set_webhook = format!("/bot{TOKEN_B}/setWebhook");
    let deadline = std::time::Instant::now() + bot::SUPERVISE_INTERVAL * 3;
    while bot.bodies_at(&set_webhook).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the supervisor did not start the new bot"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let own = bot.state.program_bots.by_bot(BOT_B).await.unwrap().unwrap();
    let set = bot.bodies_at(&set_webhook).await;
    assert_eq!(
        set[0]["url"],
        format!("{PUBLIC_URL}/webhooks/telegram/{BOT_B}")
    );
    assert_eq!(set[0]["secret_token"], own.webhook_secret.expose_secret());
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(tasks))
        .await
        .expect("every bot's workers end with the process");
}

/// A bot's broadcast sender takes, and after a crash settles, only the broadcasts of the
/// programs it serves: starting B's sender must not mark A's message in flight as unknown,
/// and the configured bot leaves B (which has its own bot) alone.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn each_bot_sends_and_settles_only_its_programs_broadcasts(pool: PgPool) {
    use app::broadcasts;
    use app::program_bots::Served;
    let bot = BotApp::new(pool.clone()).await;
    let (a, b) = (bot.app.t.program_id(), bot.app.another_program().await);
    app::program_bots::save(
        &pool,
        bot.state.secrets(),
        b,
        BOT_B,
        "brand_b_bot",
        TOKEN_B,
        "t",
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for program in [a, b] {
        let id = uuid::Uuid::new_v4();
        sqlx::query(
            "INSERT INTO broadcasts (broadcast_id, program_id, text, audience, status, send_at, \
             created_by) VALUES ($1, $2, 'news', '{}', 'sending', now(), 't')",
        )
        .bind(id)
        .bind(program.0)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO broadcast_recipients (broadcast_id, chat_id, member_id, status) \
             VALUES ($1, 1, $2, 'sending')",
        )
        .bind(id)
        .bind(uuid::Uuid::new_v4())
        .execute(&pool)
        .await
        .unwrap();
        ids.push(id);
    }
    let status = |id: uuid::Uuid| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT status FROM broadcast_recipients WHERE broadcast_id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let sending = |served: Served| {
        let pool = pool.clone();
        async move {
            broadcasts::sending(&pool, served)
                .await
                .unwrap()
                .map(|o| o.program_id)
        }
    };
    bot.state.program_bots.reload().await.unwrap();
    assert_eq!(sending(Served::Own(b)).await, Some(b.0));
    assert_eq!(sending(Served::Configured(Some(a))).await, Some(a.0));
    // The configured bot serves A (no bot of its own), never B, even when LOYALTY_PROGRAM
    // names B.
    assert_eq!(sending(Served::Configured(None)).await, Some(a.0));
    assert_eq!(sending(Served::Configured(Some(b))).await, None);

    let settled = broadcasts::settle_interrupted(&pool, Served::Own(b), Utc::now())
        .await
        .unwrap();
    assert_eq!(settled, 1);
    assert_eq!(
        status(ids[0]).await,
        "sending",
        "A's message in flight is left alone"
    );
    assert_eq!(status(ids[1]).await, "unknown");
    let settled = broadcasts::settle_interrupted(&pool, Served::Configured(None), Utc::now())
        .await
        .unwrap();
    assert_eq!(settled, 1);
    assert_eq!(status(ids[0]).await, "unknown");
}

/// A message stored for one bot wakes that bot's inbox worker, not another bot's (which would
/// leave it to its next poll, a second later).
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_stored_message_wakes_its_own_bots_inbox_worker(pool: PgPool) {
    // Bot ids of this test alone: the wake-ups are per process.
    let (ours, theirs) = (7_000_000_101, 7_000_000_102);
    let wake = bot::inbox::wake_of(ours);
    let woken = wake.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    let body = br#"{"update_id": 1}"#;
    bot::inbox::store(&pool, theirs, 1, None, body)
        .await
        .unwrap();
    assert!(
        futures::poll!(woken.as_mut()).is_pending(),
        "another bot's message"
    );
    bot::inbox::store(&pool, ours, 1, None, body).await.unwrap();
    assert!(futures::poll!(woken.as_mut()).is_ready(), "its own message");
}
