//! The rest of the platform fixtures through the HTTP routes: likes, reposts, polls, reactions,
//! channel membership, link codes in direct messages, and deliveries that must earn nothing.

use crate::harness::*;
use axum::http::StatusCode;
use domain::ids::MemberId;
use domain::network::{ExternalIdentity, Network};
use sqlx::PgPool;

/// A link code as the Mini App would issue it, with the code the fixtures carry.
async fn issue_fixture_link_code(app: &TestApp, member: MemberId, network: Network) {
    sqlx::query(
        "INSERT INTO link_codes (code, program_id, member_id, network, expires_at) \
         VALUES ('LINK-7Q4M-2KXD', $1, $2, $3, now() + interval '1 day')",
    )
    .bind(app.t.program_id().0)
    .bind(member.0)
    .bind(network.as_str())
    .execute(&app.pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_vk_like_earns_its_removal_takes_it_back_and_liking_again_restores_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.vk_fixture("like_add.json").await;
    assert_eq!(app.balance_of(&anna_vk()).await, 2);
    app.vk_fixture("like_add.json").await;
    assert_eq!(
        app.balance_of(&anna_vk()).await,
        2,
        "a redelivered like pays once"
    );
    app.vk_fixture("like_remove.json").await;
    assert_eq!(app.balance_of(&anna_vk()).await, 0);

    // Liking the post again is a new VK event: the award comes back, and only once.
    let mut again: serde_json::Value =
        serde_json::from_slice(&fixture("vk/like_add.json")).unwrap();
    for n in 1..=2 {
        again["event_id"] = serde_json::json!(format!("like-again-{n}"));
        app.vk(serde_json::to_vec(&again).unwrap()).await;
        assert_eq!(
            app.balance_of(&anna_vk()).await,
            2,
            "like number {n} after removal"
        );
    }
    let awards: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type IN ('PointsAwarded', 'AwardRestored')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(awards, 2, "one award, one restoration");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn vk_reposts_polls_and_board_posts_earn_by_the_rules(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.vk_fixture("wall_repost.json").await;
    assert_eq!(app.balance_of(&anna_vk()).await, 20);
    app.vk_fixture("poll_vote_new.json").await;
    assert_eq!(app.balance_of(&anna_vk()).await, 25);
    app.vk_fixture("board_post_new.json").await;
    let boris = ExternalIdentity::new(Network::Vk, "", "715002002");
    assert_eq!(
        app.balance_of(&boris).await,
        10,
        "a board post is a comment"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_link_code_in_a_vk_message_links_the_account_to_the_member(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let member = app.t.member().await;
    issue_fixture_link_code(&app, member, Network::Vk).await;
    assert_eq!(app.vk_fixture("message_new.json").await.body, "ok");
    assert_eq!(app.member_of(&anna_vk()).await, Some(member));
    // The code is spent: a second delivery changes nothing and links nobody else.
    app.vk_fixture("message_new.json").await;
    assert_eq!(app.member_of(&anna_vk()).await, Some(member));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_link_code_in_an_instagram_dm_links_the_brand_scoped_account(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let member = app.t.member().await;
    issue_fixture_link_code(&app, member, Network::Instagram).await;
    assert_eq!(
        app.instagram_fixture("message_text.json").await.status,
        StatusCode::OK
    );
    let anna = ExternalIdentity::new(Network::Instagram, IG_BRAND, "1122334455667788");
    assert_eq!(app.member_of(&anna).await, Some(member));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn instagram_deliveries_that_earn_nothing_are_still_accepted(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let before = app.event_count().await;
    for name in [
        "story_insights.json",
        "mention_caption.json",
        "mention_comment.json",
        "message_echo.json",
        "message_deleted.json",
    ] {
        assert_eq!(
            app.instagram_fixture(name).await.status,
            StatusCode::OK,
            "{name}"
        );
    }
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn instagram_batches_award_per_change_for_bound_accounts_only(pool: PgPool) {
    let app = TestApp::new(pool).await;
    assert_eq!(
        app.instagram_fixture("batched_two_entries.json")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.instagram_fixture("live_comment.json").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.instagram_fixture("comment_reply.json").await.status,
        StatusCode::OK
    );
    let awards: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'PointsAwarded'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // The second brand account of the batch is not bound to this program: its changes are skipped.
    assert!(awards >= 2, "{awards} awards");
    let second_brand: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM external_accounts WHERE scope = '17841400000000002'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(second_brand, 0);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn telegram_reactions_earn_once_and_removal_reverses(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.telegram_fixture("message_reaction.json").await;
    assert_eq!(app.balance_of(&anna_tg()).await, 2);
    app.telegram_fixture("message_reaction_changed.json").await;
    assert_eq!(
        app.balance_of(&anna_tg()).await,
        2,
        "changing the emoji earns nothing more"
    );
    app.telegram_fixture("message_reaction_removed.json").await;
    assert_eq!(app.balance_of(&anna_tg()).await, 0);
    let before = app.event_count().await;
    app.telegram_fixture("message_reaction_anonymous.json")
        .await;
    assert_eq!(
        app.event_count().await,
        before,
        "an anonymous reaction credits nobody"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn telegram_channel_membership_pays_the_bonus_and_leaving_reverses_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.telegram_fixture("chat_join_request.json").await;
    assert_eq!(
        app.balance_of(&anna_tg()).await,
        0,
        "a join request is not membership"
    );
    app.telegram_fixture("chat_member_joined.json").await;
    assert_eq!(app.balance_of(&anna_tg()).await, 50);
    app.telegram_fixture("chat_member_restricted_still_member.json")
        .await;
    app.telegram_fixture("chat_member_left.json").await;
    assert_eq!(app.balance_of(&anna_tg()).await, 0);
    app.telegram_fixture("chat_member_via_join_request.json")
        .await;
    app.telegram_fixture("chat_member_kicked.json").await;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT a.platform_id FROM events e JOIN external_accounts a \
           ON a.account_ref::text = e.payload #>> '{account,account}' \
         WHERE e.event_type = 'IdentityClaimed'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(ids.contains(&"5000000001".to_string()));
    for name in [
        "poll_answer.json",
        "poll_answer_retracted.json",
        "poll_answer_voter_chat.json",
        "my_chat_member_promoted.json",
        "message_discussion_comment.json",
    ] {
        assert_eq!(
            app.telegram_fixture(name).await.status,
            StatusCode::OK,
            "{name}"
        );
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn linking_an_account_that_already_earned_moves_it_and_its_points(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.vk_fixture("wall_reply_new.json").await;
    let observed = app.member_of(&anna_vk()).await.unwrap();
    assert_eq!(app.balance_of(&anna_vk()).await, 10);

    let member = app.t.member().await;
    issue_fixture_link_code(&app, member, Network::Vk).await;
    app.vk_fixture("message_new.json").await;

    assert_eq!(
        app.member_of(&anna_vk()).await,
        Some(member),
        "the account moved"
    );
    assert_eq!(app.t.balance(member).await, 10, "with the points it earned");
    assert_eq!(app.t.balance(observed).await, 0);
    let moved: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE event_type LIKE 'PointsMoved%' ORDER BY position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(moved, ["PointsMovedOut", "PointsMovedIn"]);
    // Later activity from the account credits its owner.
    app.vk_fixture("like_add.json").await;
    assert_eq!(app.t.balance(member).await, 12);
}

/// Identities anybody holds in the test's database.
async fn identity_events(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type IN ('MemberRegistered', 'IdentityClaimed')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn activity_that_earns_nothing_creates_no_member(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let before = app.event_count().await;
    // Direct messages earn nothing under the standard rules (no Message points).
    assert_eq!(
        app.instagram_fixture("message_text.json").await.status,
        StatusCode::OK
    );
    assert_eq!(app.vk_fixture("message_new.json").await.body, "ok");
    // A message in a Telegram chat no program receives.
    let mut elsewhere: serde_json::Value =
        serde_json::from_slice(&fixture("telegram/message_group.json")).unwrap();
    elsewhere["message"]["chat"]["id"] = serde_json::json!(-1009999999999_i64);
    assert_eq!(
        app.telegram(serde_json::to_vec(&elsewhere).unwrap(), Some(TG_SECRET))
            .await
            .status,
        StatusCode::OK
    );
    // A leave and a deletion by accounts that never earned anything.
    app.vk_fixture("group_leave.json").await;
    app.telegram_fixture("chat_member_left.json").await;
    app.vk_fixture("wall_reply_restore.json").await;
    assert_eq!(identity_events(&app).await, 0, "no member was created");
    assert_eq!(app.event_count().await, before);
    assert_eq!(app.member_of(&anna_vk()).await, None);
    let anna_ig = ExternalIdentity::new(Network::Instagram, IG_BRAND, "1122334455667788");
    assert_eq!(app.member_of(&anna_ig).await, None);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn bot_commands_typed_in_a_group_earn_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let before = app.event_count().await;
    let group_message: serde_json::Value =
        serde_json::from_slice(&fixture("telegram/message_group.json")).unwrap();
    for (n, command) in [
        "/report",
        "/top",
        "/top@brand_points_bot",
        "/report this is spam",
    ]
    .into_iter()
    .enumerate()
    {
        let mut message = group_message.clone();
        message["update_id"] = serde_json::json!(900_000_500 + n as i64);
        message["message"]["message_id"] = serde_json::json!(5000 + n as i64);
        message["message"]["text"] = serde_json::json!(command);
        let length = command.split(' ').next().unwrap().len();
        message["message"]["entities"] =
            serde_json::json!([{"type": "bot_command", "offset": 0, "length": length}]);
        let reply = app
            .telegram(serde_json::to_vec(&message).unwrap(), Some(TG_SECRET))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{command}");
    }
    assert_eq!(app.event_count().await, before, "commands are not comments");
    app.telegram_fixture("message_group.json").await;
    assert_eq!(app.balance_of(&anna_tg()).await, 10, "a comment still pays");
}
