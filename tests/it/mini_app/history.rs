//! The member's history: notes never reasons, outcomes of cancelled redemptions, paging.

use crate::harness::json_of;
use crate::harness::mini_app::{MiniApp, anna, now_action};
use axum::http::StatusCode;
use domain::ids::MemberId;
use domain::points::PointsDelta;
use sqlx::PgPool;
use uuid::Uuid;

/// The member's history shows a manager's note, never the manager's internal reason; an
/// adjustment without a note says only who changed the points.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn history_shows_the_note_to_the_member_never_the_reason(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    let ledger = &m.app.t.ledger;
    let program = m.app.t.program_id();
    for (points, reason, note) in [
        (30, "Спам: комментарий не по теме", Some("Бонус за отзыв")),
        (5, "internal: ticket 4521", None),
    ] {
        let delta = PointsDelta::new(points).unwrap();
        ledger
            .adjust_points(program, member, delta, reason, note, &now_action())
            .await
            .unwrap();
    }
    let reply = m
        .call("GET", "/api/v1/app/history", Some(&anna()), None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        !reply.body.contains("Спам") && !reply.body.contains("4521"),
        "{}",
        reply.body
    );
    let page = json_of(&reply);
    let texts: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts[..2],
        ["От команды бренда", "От команды бренда: Бонус за отзыв"]
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_cancelled_redemption_tells_the_member_the_outcome_never_the_reason(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 40).await;
    let reward = m.list_reward("Кофе", 25, 3).await;
    let path = format!("/api/v1/app/rewards/{}/redeem", reward.0);
    let redeemed = m
        .call(
            "POST",
            &path,
            Some(&anna()),
            None,
            &[("Idempotency-Key", "c")],
        )
        .await;
    assert_eq!(redeemed.status, StatusCode::OK, "{}", redeemed.body);
    let redemption = json_of(&redeemed)["redemption_id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    m.cancel_redemption(member, reward, redemption, "Мошенничество: заявка 4521")
        .await;
    m.drain().await;
    let reply = m
        .call("GET", "/api/v1/app/history", Some(&anna()), None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        !reply.body.contains("Мошенничество") && !reply.body.contains("4521"),
        "{}",
        reply.body
    );
    let page = json_of(&reply);
    assert_eq!(page["entries"][0]["points"], 25);
    assert_eq!(
        page["entries"][0]["text"],
        "Награда «Кофе» отменена, баллы возвращены"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn history_pages_through_the_members_stream_newest_first(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    for points in [10, 20, 30, 40] {
        m.give(member, points).await;
    }
    let reward = m.list_reward("Кофе", 25, 3).await;
    let path = format!("/api/v1/app/rewards/{}/redeem", reward.0);
    m.call(
        "POST",
        &path,
        Some(&anna()),
        None,
        &[("Idempotency-Key", "h")],
    )
    .await;
    m.drain().await;
    let mut cursor = String::new();
    let mut seen = Vec::new();
    loop {
        let (status, page) = m
            .get(&format!("/api/v1/app/history?limit=2{cursor}"), &anna())
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["entries"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_i64() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    // Registered, Telegram linked, four adjustments, one redemption.
    let versions: Vec<i64> = seen
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![7, 6, 5, 4, 3, 2, 1]);
    let types: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[0], "RewardRedeemed");
    assert_eq!(types[6], "MemberRegistered");
    assert_eq!(seen[0]["points"], -25);
    assert!(seen[0]["text"].as_str().unwrap().contains("Кофе"));
    assert_eq!(seen[1]["points"], 40);
    let total: i64 = seen.iter().map(|e| e["points"].as_i64().unwrap()).sum();
    assert_eq!(total, m.app.t.balance(member).await);
    assert!(seen.iter().all(|e| !e["text"].as_str().unwrap().is_empty()));
    let english = m
        .call(
            "GET",
            "/api/v1/app/history?limit=1",
            Some(&anna()),
            None,
            &[("accept-language", "en-US,en;q=0.9")],
        )
        .await;
    assert!(
        json_of(&english)["entries"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Reward “Кофе”")
    );
    let (status, _) = m.get("/api/v1/app/history?limit=1000", &anna()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Anna, signed in with her Instagram account linked, under rules that hold a second award
/// within a minute, has commented twice: 10 points paid, 10 held.
pub(crate) async fn anna_with_a_held_comment(m: &MiniApp) -> MemberId {
    let member = m.sign_in(&anna()).await;
    let instagram = domain::network::ExternalIdentity::new(
        domain::network::Network::Instagram,
        crate::harness::IG_BRAND,
        "2233445566778899",
    );
    m.link_named(member, instagram, None).await;
    let (ledger, program) = (&m.app.t.ledger, m.app.t.program_id());
    let mut rules = ledger.program(program).await.unwrap().rules;
    rules.points.iter_mut().for_each(|r| r.cooldown_seconds = 0);
    rules.review.per_minute = Some(1);
    ledger
        .change_rules(program, rules, &now_action())
        .await
        .unwrap();
    for (id, text) in [
        ("17900000000000001", "Лучший капучино в городе"),
        ("17900000000000002", "И круассаны тоже хороши"),
    ] {
        let reply = m.comment_on_instagram("2233445566778899", id, text).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    m.drain().await;
    member
}

/// An award held for review shows as waiting, beside the balance and in the history, and
/// counts once a manager approves it.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_held_award_shows_as_waiting_until_approved(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = anna_with_a_held_comment(&m).await;
    let (ledger, program) = (&m.app.t.ledger, m.app.t.program_id());
    let (status, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["balance"]["current"], 10, "{me}");
    assert_eq!(me["balance"]["awaiting_review"], 10);
    let newest = me["recent"]["entries"][0].clone();
    assert_eq!(newest["type"], "AwardHeld");
    assert_eq!(newest["points"], 0);
    assert_eq!(
        newest["text"],
        "Комментарий · Instagram: 10 баллов ждут проверки"
    );

    let stream = domain::StreamId::Member(member);
    let state = ledger
        .load::<domain::member::MemberState>(&stream)
        .await
        .unwrap()
        .state;
    let held = *state.held.keys().next().unwrap();
    ledger
        .review_held(
            program,
            member,
            held,
            domain::review::ReviewDecision::Approve,
            &now_action(),
        )
        .await
        .unwrap();
    m.drain().await;
    let (_, me) = m.get("/api/v1/app/me", &anna()).await;
    assert_eq!(me["balance"]["current"], 20);
    assert_eq!(me["balance"]["awaiting_review"], 0);
    assert_eq!(
        me["recent"]["entries"][0]["text"],
        "Комментарий · Instagram: проверено, баллы начислены"
    );
    assert_eq!(me["recent"]["entries"][0]["points"], 10);
}
