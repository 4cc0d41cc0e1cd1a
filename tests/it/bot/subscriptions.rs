//! On-demand subscription checks against a fake VK API and a fake getChatMember.

use super::support::*;
use crate::harness::{TG_CHANNEL, VK_GROUP, anna_vk};
use api::mini_app::dev::sign_init_data;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use bot::members::ensure_telegram_member;
use bot::subscriptions::{Bonus, ChannelStatus, CheckStatus, check_member};
use chrono::Utc;
use domain::event::LinkMethod;
use domain::ids::MemberId;
use serde_json::json;
use sqlx::PgPool;
use std::sync::atomic::Ordering;
use store::Metadata;

async fn anna_with_vk(bot: &BotApp) -> MemberId {
    let program = bot.app.t.program_id();
    let ledger = &bot.app.t.ledger;
    let accounts = bot.app.state.accounts();
    let member = ensure_telegram_member(ledger, accounts, program, ANNA, Utc::now())
        .await
        .unwrap();
    ledger
        .link_account(
            program,
            member,
            bot.app.account(&anna_vk()).await,
            LinkMethod::Code,
            Metadata::default(),
            Utc::now().into(),
        )
        .await
        .unwrap();
    member
}

fn vk(statuses: &[ChannelStatus]) -> &ChannelStatus {
    statuses
        .iter()
        .find(|s| s.network == "vk" && s.channel.as_deref() == Some(VK_GROUP))
        .expect("the VK group is checked")
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_vk_bonus_is_paid_once_and_taken_back_when_the_member_leaves(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    let member = anna_with_vk(&bot).await;
    let balance = || async { bot.app.t.balance(member).await };

    bot.vk_member.store(true, Ordering::SeqCst);
    let first = check_member(&bot.state, member).await.unwrap();
    assert_eq!(vk(&first).status, CheckStatus::Subscribed);
    assert_eq!(
        (vk(&first).bonus, vk(&first).points),
        (Bonus::Awarded, Some(50))
    );
    assert_eq!(balance().await, 50);

    let second = check_member(&bot.state, member).await.unwrap();
    assert_eq!(vk(&second).bonus, Bonus::AlreadyPaid);
    assert_eq!(balance().await, 50, "paid once");

    bot.vk_member.store(false, Ordering::SeqCst);
    let left = check_member(&bot.state, member).await.unwrap();
    assert_eq!(vk(&left).status, CheckStatus::NotSubscribed);
    assert_eq!(
        (vk(&left).bonus, vk(&left).points),
        (Bonus::Reversed, Some(-50))
    );
    assert_eq!(balance().await, 0);
    let still_left = check_member(&bot.state, member).await.unwrap();
    assert_eq!(vk(&still_left).bonus, Bonus::None);

    bot.vk_member.store(true, Ordering::SeqCst);
    let back = check_member(&bot.state, member).await.unwrap();
    assert_eq!(vk(&back).bonus, Bonus::Restored);
    assert_eq!(balance().await, 50);

    // The Telegram channel: the fake getChatMember says "left"; Instagram cannot be checked.
    let channel = back
        .iter()
        .find(|s| s.network == "telegram" && s.channel.as_deref() == Some(TG_CHANNEL))
        .unwrap();
    assert_eq!(channel.status, CheckStatus::NotSubscribed);
    let instagram = back.iter().find(|s| s.network == "instagram").unwrap();
    assert_eq!(instagram.status, CheckStatus::Impossible);
    let asked = bot.bodies("getChatMember").await;
    assert!(
        asked
            .iter()
            .any(|b| b["chat_id"] == TG_CHANNEL.parse::<i64>().unwrap() && b["user_id"] == ANNA)
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_mini_app_endpoint_checks_with_valid_init_data_only(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    anna_with_vk(&bot).await;
    let post = |authorization: Option<String>| {
        let mut request = Request::post("/api/v1/app/subscriptions/check");
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.body(Body::empty()).unwrap()
    };
    let (status, _) = bot.send(post(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let user = json!({"id": ANNA, "first_name": "Анна", "language_code": "ru"}).to_string();
    let fields = [
        ("auth_date", Utc::now().timestamp().to_string()),
        ("user", user),
    ];
    let forged = sign_init_data(&fields, "7000000001:another-bots-token");
    let (status, _) = bot.send(post(Some(format!("tma {forged}")))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let init_data = sign_init_data(&fields, BOT_TOKEN);
    let (status, body) = bot.send(post(Some(format!("tma {init_data}")))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["cached"], false);
    let vk = body["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["network"] == "vk")
        .unwrap()
        .clone();
    assert_eq!(
        (vk["status"].as_str(), vk["bonus"].as_str()),
        (Some("subscribed"), Some("awarded"))
    );
    assert_eq!(bot.balance(ANNA).await, 50);

    // Tapping again at once gets the same answer without asking VK again.
    let vk_calls = bot
        .requests()
        .await
        .iter()
        .filter(|r| r.url.path() == "/method/groups.isMember")
        .count();
    let (status, again) = bot.send(post(Some(format!("tma {init_data}")))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["cached"], true);
    let calls_after = bot
        .requests()
        .await
        .iter()
        .filter(|r| r.url.path() == "/method/groups.isMember")
        .count();
    assert_eq!(calls_after, vk_calls);
    assert_eq!(bot.balance(ANNA).await, 50);
}
