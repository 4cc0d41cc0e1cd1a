//! Signing in with Telegram: an account links its Telegram user through the Login Widget while
//! signed in, and from then on the widget's signed fields sign it in. Forged, stale, unlinked
//! and disabled all get the same 401 and open no session.

use crate::harness::TestApp;
use crate::harness::admin::{AdminClient, PASSWORD, login_widget_fields};
use crate::harness::mini_app::BOT_TOKEN;
use api::admin::{Role, create_user};
use axum::http::{Method, StatusCode, header};
use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;

const OLGA_TG: i64 = 424_242_424;

/// The panel of an installation with a bot, and olga, a manager signed in with her password.
async fn with_bot(pool: PgPool) -> (AdminClient, AdminClient) {
    let app = TestApp::with_config(pool, |config, _| {
        config.telegram.bot_token = BOT_TOKEN.to_string().into();
    })
    .await;
    let panel = AdminClient::on(Arc::new(app));
    create_user(&panel.app.pool, "test", "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    let mut olga = panel.browser();
    assert_eq!(olga.login("olga", PASSWORD).await.status, StatusCode::OK);
    (panel, olga)
}

fn signed_now(id: i64) -> serde_json::Value {
    login_widget_fields(id, "olga_tg", Utc::now().timestamp(), BOT_TOKEN)
}

async fn telegram_sign_in(browser: &mut AdminClient, fields: serde_json::Value) -> StatusCode {
    let answer = browser
        .request(
            Method::POST,
            "/api/v1/admin/session/telegram",
            Some(fields),
            &[],
        )
        .await;
    if answer.status == StatusCode::OK {
        let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
        browser.cookie = Some(cookie.split(';').next().unwrap().to_string());
    }
    answer.status
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_linked_telegram_user_signs_in_as_the_account(pool: PgPool) {
    let (panel, olga) = with_bot(pool).await;
    let info = panel.get("/api/v1/admin/session/telegram").await;
    assert_eq!(
        info.json()["bot_id"],
        7_000_000_001i64,
        "the token's numeric part"
    );

    let mut stranger = panel.browser();
    assert_eq!(
        telegram_sign_in(&mut stranger, signed_now(OLGA_TG)).await,
        StatusCode::UNAUTHORIZED,
        "not linked yet"
    );
    let link = olga
        .change(
            Method::PUT,
            "/api/v1/admin/account/telegram",
            Some(signed_now(OLGA_TG)),
        )
        .await;
    assert_eq!(link.status, StatusCode::OK, "{}", link.body);
    assert_eq!(
        (
            link.json()["telegram_linked"].as_bool(),
            link.json()["telegram_username"].as_str()
        ),
        (Some(true), Some("olga_tg"))
    );

    let mut phone = panel.browser();
    assert_eq!(
        telegram_sign_in(&mut phone, signed_now(OLGA_TG)).await,
        StatusCode::OK
    );
    let session = phone.get("/api/v1/admin/session").await.json();
    assert_eq!(
        (session["username"].as_str(), session["role"].as_str()),
        (Some("olga"), Some("manager"))
    );
    let history: Vec<(String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT actor, change, detail FROM admin_user_changes WHERE username = 'olga' ORDER BY id",
    )
    .fetch_all(&panel.app.pool)
    .await
    .unwrap();
    assert_eq!(
        history.last().unwrap(),
        &(
            "manager:olga".to_string(),
            "telegram".to_string(),
            json!({ "linked": true })
        ),
        "recorded, without the Telegram id"
    );

    let unlink = olga
        .change(Method::DELETE, "/api/v1/admin/account/telegram", None)
        .await;
    assert_eq!(unlink.json()["telegram_linked"], false);
    assert_eq!(
        telegram_sign_in(&mut panel.browser(), signed_now(OLGA_TG)).await,
        StatusCode::UNAUTHORIZED,
        "unlinked"
    );
    let kept: i64 = panel
        .count("SELECT count(*) FROM admin_users WHERE telegram_id IS NOT NULL OR telegram_username IS NOT NULL")
        .await;
    assert_eq!(kept, 0, "unlinking forgets the Telegram user");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn forged_stale_or_disabled_telegram_sign_ins_are_refused_alike(pool: PgPool) {
    let (panel, olga) = with_bot(pool).await;
    let link = olga
        .change(
            Method::PUT,
            "/api/v1/admin/account/telegram",
            Some(signed_now(OLGA_TG)),
        )
        .await;
    assert_eq!(link.status, StatusCode::OK, "{}", link.body);
    let sessions = panel.count("SELECT count(*) FROM admin_sessions").await;

    let mut forged = signed_now(OLGA_TG);
    forged["username"] = json!("someone_else");
    let other_bot = login_widget_fields(OLGA_TG, "olga_tg", Utc::now().timestamp(), "1:other");
    let two_days_ago = Utc::now().timestamp() - 2 * 86_400;
    let stale = login_widget_fields(OLGA_TG, "olga_tg", two_days_ago, BOT_TOKEN);
    let mut nested = signed_now(OLGA_TG);
    nested["id"] = json!({ "id": OLGA_TG });
    for (what, fields) in [
        ("a changed field", forged),
        ("another bot's signature", other_bot),
        ("two days old", stale),
        ("a nested value", nested),
        (
            "no hash",
            json!({ "id": OLGA_TG, "auth_date": Utc::now().timestamp() }),
        ),
    ] {
        let answer = panel
            .request(
                Method::POST,
                "/api/v1/admin/session/telegram",
                Some(fields),
                &[],
            )
            .await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (StatusCode::UNAUTHORIZED, "telegram_refused"),
            "{what}"
        );
    }
    let disable = json!({ "disabled": true });
    let mut admin = panel.browser();
    create_user(&panel.app.pool, "test", "root", PASSWORD, Role::Admin)
        .await
        .unwrap();
    admin.login("root", PASSWORD).await;
    let disabled = admin
        .change(Method::PUT, "/api/v1/admin/users/olga", Some(disable))
        .await;
    assert_eq!(disabled.status, StatusCode::OK);
    assert_eq!(
        telegram_sign_in(&mut panel.browser(), signed_now(OLGA_TG)).await,
        StatusCode::UNAUTHORIZED,
        "a disabled account"
    );
    assert_eq!(
        panel
            .count("SELECT count(*) FROM admin_sessions WHERE username = 'olga'")
            .await,
        0,
        "no session opened; disabling ended hers"
    );
    assert_eq!(
        panel.count("SELECT count(*) FROM admin_sessions").await,
        sessions, // olga's ended, root's began
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn one_telegram_user_links_to_one_account_and_admins_may_unlink_it(pool: PgPool) {
    let (panel, olga) = with_bot(pool).await;
    create_user(&panel.app.pool, "test", "root", PASSWORD, Role::Admin)
        .await
        .unwrap();
    let mut root = panel.browser();
    root.login("root", PASSWORD).await;
    let path = "/api/v1/admin/account/telegram";
    assert_eq!(
        olga.change(Method::PUT, path, Some(signed_now(OLGA_TG)))
            .await
            .status,
        StatusCode::OK
    );
    let taken = root
        .change(Method::PUT, path, Some(signed_now(OLGA_TG)))
        .await;
    assert_eq!(
        (taken.status, taken.code().as_str()),
        (StatusCode::CONFLICT, "telegram_taken")
    );
    let without_csrf = olga
        .request(Method::PUT, path, Some(signed_now(OLGA_TG + 1)), &[])
        .await;
    assert_eq!(without_csrf.status, StatusCode::FORBIDDEN);

    let listed = root.get("/api/v1/admin/users").await.json();
    let olga_row = listed["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "olga")
        .unwrap()
        .clone();
    assert_eq!(olga_row["telegram_linked"], true);
    let unlink = root
        .change(
            Method::PUT,
            "/api/v1/admin/users/olga",
            Some(json!({ "unlink_telegram": true })),
        )
        .await;
    assert_eq!(unlink.json()["telegram_linked"], false, "{}", unlink.body);
    let recorded: (String, serde_json::Value) = sqlx::query_as(
        "SELECT actor, detail FROM admin_user_changes WHERE change = 'telegram' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&panel.app.pool)
    .await
    .unwrap();
    assert_eq!(
        recorded,
        ("manager:root".to_string(), json!({ "linked": false }))
    );
    assert_eq!(
        olga.get("/api/v1/admin/session").await.status,
        StatusCode::OK,
        "unlinking Telegram leaves her password session"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn without_a_bot_token_telegram_sign_in_is_off(pool: PgPool) {
    let panel = AdminClient::new(pool).await;
    let info = panel.get("/api/v1/admin/session/telegram").await;
    assert_eq!(
        (info.status, info.code().as_str()),
        (StatusCode::NOT_FOUND, "not_configured")
    );
    let empty_key = login_widget_fields(OLGA_TG, "olga_tg", Utc::now().timestamp(), "");
    let answer = panel
        .request(
            Method::POST,
            "/api/v1/admin/session/telegram",
            Some(empty_key),
            &[],
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::NOT_FOUND,
        "an empty key signs nothing"
    );
}
