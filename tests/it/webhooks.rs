//! Platform deliveries through the real HTTP routes, with the shared fixtures.

use crate::harness::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use sqlx::PgPool;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn instagram_handshake_answers_only_the_right_token(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let get = |q: &str| {
        Request::get(format!("/webhooks/instagram?{q}"))
            .body(Body::empty())
            .unwrap()
    };
    let ok = app
        .send(get(
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=fixture-verify-token",
        ))
        .await;
    assert_eq!(
        (ok.status, ok.body.as_str()),
        (StatusCode::OK, "1158201444")
    );
    let wrong = app
        .send(get(
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong",
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(!wrong.body.contains("1158201444"));
    let unsub = app
        .send(get(
            "hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=fixture-verify-token",
        ))
        .await;
    assert_eq!(unsub.status, StatusCode::FORBIDDEN);
    let missing = app
        .send(get(
            "hub.mode=subscribe&hub.verify_token=fixture-verify-token",
        ))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_signed_instagram_comment_earns_once_even_when_redelivered(pool: PgPool) {
    let app = TestApp::new(pool).await;
    assert_eq!(
        app.instagram_fixture("comment_utf8.json").await.status,
        StatusCode::OK
    );
    assert_eq!(app.balance_of(&boris_ig()).await, 10);
    let events = app.event_count().await;
    assert_eq!(
        app.instagram_fixture("comment_utf8.json").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.event_count().await,
        events,
        "a redelivery appends nothing"
    );
    assert_eq!(app.balance_of(&boris_ig()).await, 10);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_codeword_typed_in_latin_look_alikes_pays_the_campaign_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.codeword_campaign().await;
    app.instagram_fixture("comment_utf8.json").await;
    assert_eq!(app.balance_of(&boris_ig()).await, 10 + 50);
    app.instagram_fixture("comment_utf8.json").await;
    assert_eq!(app.balance_of(&boris_ig()).await, 60);
}

/// Two open campaigns sharing a codeword (old data: creating the second is refused today) pay
/// one comment once: the campaign that started first.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_comment_pays_one_of_two_campaigns_sharing_a_codeword(pool: PgPool) {
    use domain::campaign::{CampaignCommand, CampaignState, NewCampaign};
    let app = TestApp::new(pool).await;
    app.codeword_campaign().await;
    let second = NewCampaign {
        campaign_id: domain::ids::CampaignId(uuid::Uuid::new_v4()),
        program_id: app.t.program_id(),
        name: "Same word".into(),
        codeword: domain::codeword::Codeword::parse("cekpet").unwrap(),
        points: domain::points::Points::new(10).unwrap(),
        starts_at: crate::helpers::at(0) - chrono::Duration::days(30),
        ends_at: crate::helpers::at(0) + chrono::Duration::days(365),
        total_cap: None,
        networks: domain::network::Network::ALL.to_vec(),
        target_post: None,
        description: None,
        by: "manager:olga".into(),
        at: crate::helpers::at(0),
    };
    // Recorded past today's refusal, as an older version would have.
    app.t
        .ledger
        .execute::<CampaignState>(
            app.t.program_id().0,
            second.campaign_id.0,
            store::Metadata::default(),
            &domain::StreamId::Campaign(second.campaign_id),
            |s| s.decide(CampaignCommand::Create(Box::new(second.clone()))),
        )
        .await
        .unwrap();
    app.instagram_fixture("comment_utf8.json").await;
    assert_eq!(app.balance_of(&boris_ig()).await, 10 + 50);
    app.instagram_fixture("comment_utf8.json").await;
    assert_eq!(app.balance_of(&boris_ig()).await, 10 + 50);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn unsigned_or_mis_signed_instagram_deliveries_are_refused_and_change_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let before = app.event_count().await;
    let comment = fixture("instagram/comment.json");
    let good = sign(&comment, IG_APP_SECRET);
    let tampered = app
        .instagram(fixture("instagram/comment_tampered.json"), Some(&good))
        .await;
    assert_eq!(tampered.status, StatusCode::UNAUTHORIZED);
    assert!(
        tampered.body.contains("\"code\":\"unauthorized\""),
        "{}",
        tampered.body
    );
    let wrong_secret = sign(&comment, "00000000000000000000000000000000");
    assert_eq!(
        app.instagram(comment.clone(), Some(&wrong_secret))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.instagram(comment.clone(), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let no_prefix = good.trim_start_matches("sha256=").to_string();
    assert_eq!(
        app.instagram(comment.clone(), Some(&no_prefix))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.instagram(comment, Some("sha256=zz")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn malformed_json_is_a_400_when_correctly_signed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = b"{not json".to_vec();
    let signature = sign(&body, IG_APP_SECRET);
    let reply = app.instagram(body, Some(&signature)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.vk(b"[1,2".to_vec()).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.telegram(b"garbage".to_vec(), Some(TG_SECRET))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn vk_confirmation_secret_and_unknown_group(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let confirm = app.vk_fixture("confirmation.json").await;
    assert_eq!(
        (confirm.status, confirm.body.as_str()),
        (StatusCode::OK, VK_CONFIRMATION)
    );
    let before = app.event_count().await;
    // Answered as accepted, alike, so that the answer tells nobody which groups exist.
    for refused in [
        "wall_reply_new_wrong_secret.json",
        "wall_reply_new_other_group.json",
    ] {
        let reply = app.vk_fixture(refused).await;
        assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "ok"));
    }
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_deleted_vk_comment_is_reversed_once_and_restored_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let ok = app.vk_fixture("wall_reply_new.json").await;
    assert_eq!((ok.status, ok.body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(app.balance_of(&anna_vk()).await, 10);
    app.vk_fixture("wall_reply_edit.json").await;
    assert_eq!(
        app.balance_of(&anna_vk()).await,
        10,
        "an edit never earns again"
    );
    for _ in 0..2 {
        assert_eq!(app.vk_fixture("wall_reply_delete.json").await.body, "ok");
        assert_eq!(app.balance_of(&anna_vk()).await, 0);
    }
    for _ in 0..2 {
        app.vk_fixture("wall_reply_restore.json").await;
        assert_eq!(app.balance_of(&anna_vk()).await, 10);
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn joining_the_vk_group_pays_once_and_leaving_takes_it_back(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.vk_fixture("group_join_request.json").await;
    assert_eq!(
        app.balance_of(&anna_vk()).await,
        0,
        "a join request is not membership"
    );
    app.vk_fixture("group_join.json").await;
    assert_eq!(app.balance_of(&anna_vk()).await, 50);
    app.vk_fixture("group_join.json").await;
    assert_eq!(app.balance_of(&anna_vk()).await, 50);
    app.vk_fixture("group_leave.json").await;
    assert_eq!(app.balance_of(&anna_vk()).await, 0);
    // Joining again is a new VK event: the bonus comes back, and only once.
    let mut rejoin: serde_json::Value =
        serde_json::from_slice(&fixture("vk/group_join.json")).unwrap();
    rejoin["event_id"] = serde_json::json!("rejoin-1");
    for _ in 0..2 {
        app.vk(serde_json::to_vec(&rejoin).unwrap()).await;
    }
    assert_eq!(
        app.balance_of(&anna_vk()).await,
        50,
        "re-joining restores the bonus, once"
    );
    app.vk_fixture("group_join_approved.json").await;
    let boris =
        domain::network::ExternalIdentity::new(domain::network::Network::Vk, "", "715002002");
    assert_eq!(app.balance_of(&boris).await, 50, "admitted after a request");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn community_comments_earn_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let before = app.event_count().await;
    assert_eq!(
        app.vk_fixture("wall_reply_new_by_community.json")
            .await
            .body,
        "ok"
    );
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn telegram_group_messages_earn_and_need_the_secret(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let before = app.event_count().await;
    let body = fixture("telegram/message_group.json");
    assert_eq!(
        app.telegram(body.clone(), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.telegram(body.clone(), Some("wrong")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.event_count().await, before);
    assert_eq!(
        app.telegram_fixture("message_group.json").await.status,
        StatusCode::OK
    );
    assert_eq!(app.balance_of(&anna_tg()).await, 10);
    app.telegram_fixture("edited_message_group.json").await;
    assert_eq!(app.balance_of(&anna_tg()).await, 10);
    for ignored in [
        "message_anonymous_admin.json",
        "channel_post.json",
        "message_reaction_count_channel.json",
    ] {
        assert_eq!(
            app.telegram_fixture(ignored).await.status,
            StatusCode::OK,
            "{ignored}"
        );
    }
}

/// One signed Instagram comment from the account `igsid`, sent `ago` seconds ago.
async fn instagram_comment_from(
    app: &TestApp,
    igsid: &str,
    comment_id: &str,
    text: &str,
    ago: i64,
) -> StatusCode {
    let delivery = loyalty::simulate::instagram_comment(
        &loyalty::simulate::InstagramComment {
            brand_account: IG_BRAND,
            igsid,
            username: "repeat_fan",
            comment_id,
            media_id: "18031234567890123",
            text,
            unix_time: chrono::Utc::now().timestamp() - ago,
        },
        IG_APP_SECRET,
    );
    app.deliver(&delivery).await.status
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_same_comment_text_earns_once_however_it_is_typed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let fan = domain::network::ExternalIdentity::new(
        domain::network::Network::Instagram,
        IG_BRAND,
        "9988770001",
    );
    // Two hours apart, so neither the comment cooldown nor the daily caps are what refuses.
    let first = instagram_comment_from(
        &app,
        "9988770001",
        "17990000000001001",
        "Лучшая кофейня района!",
        7_200,
    )
    .await;
    let again = instagram_comment_from(
        &app,
        "9988770001",
        "17990000000001002",
        "лучшая   КОФЕЙНЯ района",
        3_600,
    )
    .await;
    assert_eq!((first, again), (StatusCode::OK, StatusCode::OK));
    assert_eq!(app.balance_of(&fan).await, 10, "the repeat earns nothing");

    let other = instagram_comment_from(
        &app,
        "9988770001",
        "17990000000001003",
        "А флэт уайт ещё лучше",
        0,
    )
    .await;
    assert_eq!(other, StatusCode::OK);
    assert_eq!(app.balance_of(&fan).await, 20, "another text earns");

    let member = app.member_of(&fan).await.unwrap();
    let awards: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT payload FROM events WHERE event_type = 'PointsAwarded' \
         AND payload->>'member_id' = $1 ORDER BY position",
    )
    .bind(member.0.to_string())
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(awards.len(), 2, "{awards:?}");
    let keys = app::config::dev_privacy_keys();
    let program = app.t.program_id();
    let fingerprint = keys.text(program, "Лучшая кофейня района!").unwrap();
    assert_eq!(awards[0]["text_fingerprint"], fingerprint.to_string());
    let comment = domain::privacy::PlatformActivity {
        network: domain::network::Network::Instagram,
        kind: domain::network::ActivityKind::Comment,
        reference: "17990000000001001".into(),
    };
    let reference = keys
        .authorless_activity(program, &comment)
        .unwrap()
        .reference;
    assert_eq!(awards[0]["activity"]["reference"], reference);
    for award in &awards {
        let json = award.to_string().to_lowercase();
        assert!(
            !json.contains("кофейня") && !json.contains("флэт"),
            "no text in events: {json}"
        );
    }
}

/// Each event of the log with its transaction, oldest first, for one member's own streams.
async fn events_of(app: &TestApp, member: domain::ids::MemberId) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT tx_id, event_type FROM events WHERE payload->>'member_id' = $1 ORDER BY position",
    )
    .bind(member.0.to_string())
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_new_commenters_first_comment_registers_and_pays_in_one_commit(pool: PgPool) {
    let app = TestApp::new(pool).await;
    // An hour apart: the comment cooldown does not refuse the second.
    let sent = instagram_comment_from(
        &app,
        "5550001",
        "17990000000005001",
        "Отличный кофе!",
        3_600,
    );
    assert_eq!(sent.await, StatusCode::OK);
    let fan = domain::network::ExternalIdentity::new(
        domain::network::Network::Instagram,
        IG_BRAND,
        "5550001",
    );
    let member = app.member_of(&fan).await.expect("the account has a member");
    let events = events_of(&app, member).await;
    let types: Vec<&str> = events.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "MemberRegistered",
            "AccountLinked",
            "PointsAwarded",
            "IdentityClaimed"
        ]
    );
    assert!(
        events.iter().all(|(tx, _)| *tx == events[0].0),
        "one transaction: {events:?}"
    );
    assert_eq!(app.balance_of(&fan).await, 10);

    // The second comment of the account is an award alone, in a commit of its own.
    let sent = instagram_comment_from(&app, "5550001", "17990000000005002", "И десерты тоже", 0);
    assert_eq!(sent.await, StatusCode::OK);
    let events = events_of(&app, member).await;
    assert_eq!(events.len(), 5);
    assert_eq!(events[4].1, "PointsAwarded");
    assert_ne!(events[4].0, events[0].0);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn first_deliveries_of_a_new_account_at_once_register_it_once_and_pay_each_once(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    // Its first comment twice (a platform retry racing the original) and its first like.
    let (comment, retry, like) = tokio::join!(
        app.vk_fixture("wall_reply_new.json"),
        app.vk_fixture("wall_reply_new.json"),
        app.vk_fixture("like_add.json"),
    );
    assert_eq!(
        (comment.status, retry.status, like.status),
        (StatusCode::OK, StatusCode::OK, StatusCode::OK)
    );
    let member = app.member_of(&anna_vk()).await.expect("registered");
    let mut types: Vec<String> = events_of(&app, member)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "AccountLinked",
            "IdentityClaimed",
            "MemberRegistered",
            "PointsAwarded",
            "PointsAwarded"
        ]
    );
    assert_eq!(app.balance_of(&anna_vk()).await, 10 + 2);
}

/// A W2-like load: signed comments from many new accounts at once, with commands that carry
/// text PostgreSQL cannot store (adjustments whose reason holds a NUL, sent past the HTTP edge
/// straight to the ledger) mixed in. They share the group-commit writer's batches; each bad
/// command fails alone and every delivery is answered 200 and paid.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn bad_commands_in_a_webhook_storm_fail_alone(pool: PgPool) {
    use futures::StreamExt;
    let app = TestApp::new(pool).await;
    let victims: Vec<_> = futures::future::join_all((0..8).map(|_| app.t.member())).await;
    let events_before = app.event_count().await;
    const DELIVERIES: usize = 400;
    const BAD: usize = 40;
    enum Job {
        Delivery(usize),
        Bad(usize),
    }
    // Every tenth delivery is followed by a bad command.
    let jobs: Vec<Job> = (0..DELIVERIES)
        .flat_map(|i| {
            let bad = (i % 10 == 0).then_some(Job::Bad(i / 10));
            std::iter::once(Job::Delivery(i)).chain(bad)
        })
        .collect();
    assert_eq!(jobs.len(), DELIVERIES + BAD);
    let results: Vec<(bool, String)> = futures::stream::iter(jobs)
        .map(|job| {
            let app = &app;
            let victims = &victims;
            async move {
                match job {
                    Job::Delivery(i) => {
                        let status = instagram_comment_from(
                            app,
                            &format!("77000000{i:04}"),
                            &format!("1799000000{i:05}"),
                            &format!("comment number {i}"),
                            0,
                        )
                        .await;
                        (true, format!("delivery {i}: {status}"))
                    }
                    Job::Bad(i) => {
                        let refused = app
                            .t
                            .ledger
                            .adjust_points(
                                app.t.program_id(),
                                victims[i % victims.len()],
                                domain::points::PointsDelta::new(5).unwrap(),
                                "спам\u{0}",
                                None,
                                &crate::helpers::manager(),
                            )
                            .await;
                        (false, format!("bad {i}: {}", refused.is_err()))
                    }
                }
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    for (delivery, outcome) in &results {
        if *delivery {
            assert!(outcome.ends_with("200 OK"), "{outcome}");
        } else {
            assert!(outcome.ends_with("true"), "a NUL was stored: {outcome}");
        }
    }
    for i in [0, DELIVERIES / 2, DELIVERIES - 1] {
        let account = domain::network::ExternalIdentity::new(
            domain::network::Network::Instagram,
            IG_BRAND,
            format!("77000000{i:04}"),
        );
        assert!(app.balance_of(&account).await > 0, "account {i} was paid");
    }
    let adjusted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'PointsAdjusted'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(adjusted, 0, "no bad adjustment was recorded");
    assert!(app.event_count().await > events_before + DELIVERIES as i64);
}
