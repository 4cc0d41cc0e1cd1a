//! `loyalty bots` as an operator runs it, against a fake Bot API: the token from the
//! environment is proved with `getMe`, stored sealed and never printed; a refused or malformed
//! token is one line of error and a non-zero exit with nothing stored.

mod support;

use serde_json::{Value, json};
use sqlx::PgPool;
use std::process::{Command, Output};
use support::database_url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "7000000002:AAProgramBotB_ForTests_only-0042";
const REVOKED: &str = "7000000009:AARevokedBotTokenForTests_only-99";

async fn bots(url: &str, api: &str, args: &[&str], token: Option<&str>) -> Output {
    let mut command = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")));
    command
        .env("DATABASE_URL", url)
        .env("LOYALTY_PRIVACY_KEY", support::PRIVACY_KEY)
        .env("LOYALTY_TELEGRAM_API_URL", api)
        .env_remove("LOYALTY_SECRETS_KEYS")
        .env_remove("LOYALTY_TELEGRAM_BOT_TOKEN")
        .env_remove("LOYALTY_PROGRAM_BOT_TOKEN")
        .arg("bots")
        .args(args);
    if let Some(token) = token {
        command.env("LOYALTY_PROGRAM_BOT_TOKEN", token);
    }
    command.output().await.expect("loyalty runs")
}

/// The body of the first request the fake received at `path`, waiting up to 15 s for it.
async fn first_request(server: &MockServer, path: &str) -> Option<Value> {
    for _ in 0..300 {
        let requests = server.received_requests().await.unwrap_or_default();
        if let Some(found) = requests.into_iter().find(|r| r.url.path() == path) {
            return serde_json::from_slice(&found.body).ok();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    None
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_program_bot_is_added_listed_and_removed_from_the_command_line(pool: PgPool) {
    let telegram = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/bot{TOKEN}/getMe")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true,
            "result": {"id": 7000000002_i64, "is_bot": true, "first_name": "Brand B",
                       "username": "brand_b_bot"}})))
        .mount(&telegram)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/bot{REVOKED}/getMe")))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
            ),
        )
        .mount(&telegram)
        .await;
    let url = database_url(&pool);
    let api = telegram.uri();
    let program = loyalty::demo::seed(&pool, &support::secret_box())
        .await
        .unwrap()
        .0
        .to_string();
    let secret_part = TOKEN.split_once(':').unwrap().1;

    // A token Telegram refuses, and one that is not a token: nothing stored.
    for (token, says) in [
        (REVOKED, "Telegram does not accept this token"),
        ("123:short", "a bot token is what BotFather gives"),
    ] {
        let refused = bots(&url, &api, &["add", "--program", &program], Some(token)).await;
        assert!(!refused.status.success());
        assert!(
            text(&refused.stderr).contains(says),
            "{}",
            text(&refused.stderr)
        );
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM program_bots")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    let added = bots(
        &url,
        &api,
        &["add", "--program", &program, "--by", "olga"],
        Some(TOKEN),
    )
    .await;
    assert!(added.status.success(), "{}", text(&added.stderr));
    let out: Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!(out["bot_id"], 7000000002_i64);
    assert_eq!(out["username"], "brand_b_bot");
    assert_eq!(out["outcome"], "added");
    let printed = text(&added.stdout) + &text(&added.stderr);
    assert!(!printed.contains(secret_part), "the token is never printed");
    let sealed: String = sqlx::query_scalar("SELECT token FROM program_bots")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(sealed.starts_with("enc:v1:") && !sealed.contains(secret_part));
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM channel_changes WHERE destination = 'bot:7000000002'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(actor, "olga");

    let listed = bots(&url, &api, &["list"], None).await;
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let list: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["program_id"], program);
    assert!(!text(&listed.stdout).contains(secret_part));

    let removed = bots(&url, &api, &["remove", "--program", &program], None).await;
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    assert!(text(&removed.stdout).contains("removed bot 7000000002 (@brand_b_bot)"));
    let again = bots(&url, &api, &["remove", "--program", &program], None).await;
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("no bot of its own"),
        "{}",
        text(&again.stderr)
    );
}

/// The path docs/deploy.md gives for another brand, with the real binaries: `loyalty bots add`
/// while `serve` runs; within seconds `serve` sets the bot's webhook (its own path and secret),
/// and a `/start` posted there with that secret is answered by that bot.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_running_serve_takes_up_a_bot_added_from_the_command_line(pool: PgPool) {
    let telegram = MockServer::start().await;
    let at = |name: &str| path(format!("/bot{TOKEN}/{name}"));
    Mock::given(method("POST"))
        .and(at("getMe"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true,
            "result": {"id": 7000000002_i64, "is_bot": true, "first_name": "Brand B",
                       "username": "brand_b_bot"}})))
        .mount(&telegram)
        .await;
    for name in ["setWebhook", "setChatMenuButton"] {
        Mock::given(method("POST"))
            .and(at(name))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": true})),
            )
            .mount(&telegram)
            .await;
    }
    Mock::given(method("POST"))
        .and(at("getWebhookInfo"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true,
            "result": {"url": "https://loyalty.example/webhooks/telegram/7000000002",
                       "pending_update_count": 0,
                       "allowed_updates": clients::telegram::ALLOWED_UPDATES}})))
        .mount(&telegram)
        .await;
    Mock::given(method("POST"))
        .and(at("sendMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true,
            "result": {"message_id": 1, "date": 1767000000,
                       "chat": {"id": 5000000001_i64, "type": "private"}}})))
        .mount(&telegram)
        .await;
    let url = database_url(&pool);
    let api = telegram.uri();
    let program = loyalty::demo::seed(&pool, &support::secret_box())
        .await
        .unwrap()
        .0
        .to_string();
    let server = support::start_serve_with(
        &url,
        &[
            ("LOYALTY_TELEGRAM_MODE", "webhook"),
            ("LOYALTY_PUBLIC_URL", "https://loyalty.example"),
            ("LOYALTY_TELEGRAM_API_URL", &api),
        ],
    )
    .await;

    let added = bots(&url, &api, &["add", "--program", &program], Some(TOKEN)).await;
    assert!(added.status.success(), "{}", text(&added.stderr));
    let set = first_request(&telegram, &format!("/bot{TOKEN}/setWebhook"))
        .await
        .expect("serve set the new bot's webhook");
    assert_eq!(
        set["url"],
        "https://loyalty.example/webhooks/telegram/7000000002"
    );
    let secret = set["secret_token"].as_str().unwrap().to_owned();

    let start = json!({"update_id": 1, "message": {"message_id": 1,
        "from": {"id": 5000000001_i64, "is_bot": false, "first_name": "Анна", "language_code": "ru"},
        "chat": {"id": 5000000001_i64, "type": "private", "first_name": "Анна"},
        "date": chrono::Utc::now().timestamp(), "text": "/start"}});
    let client = reqwest::Client::new();
    let route = format!("{}/webhooks/telegram/7000000002", server.base);
    let post = |secret: String| {
        client
            .post(&route)
            .header("X-Telegram-Bot-Api-Secret-Token", secret)
            .body(start.to_string())
            .send()
    };
    assert_eq!(post("wrong".into()).await.unwrap().status(), 401);
    assert_eq!(post(secret).await.unwrap().status(), 200);
    let reply = first_request(&telegram, &format!("/bot{TOKEN}/sendMessage"))
        .await
        .expect("the brand's bot answered");
    assert_eq!(reply["chat_id"], 5000000001_i64);
    let members: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM external_accounts WHERE program_id = $1::uuid AND network = 'telegram'",
    )
    .bind(&program)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(members, 1, "Anna joined the brand's program");
    drop(server);
}
