//! Raffles end to end: tickets bought in the Mini App, a draw anyone can check against the
//! commitment published at the start, refunds exactly once when a raffle is cancelled.

use crate::harness::admin::AdminClient;
use crate::harness::json_of;
use crate::harness::mini_app::{MiniApp, anna, init_data, now_action, user};
use api::admin::Role;
use app::raffles::RaffleTerms;
use axum::http::{Method, StatusCode};
use domain::ids::RaffleId;
use domain::points::Points;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::time::Duration;

fn boris() -> String {
    init_data(&user(5_000_000_077, "Борис", "boris", "ru"))
}

async fn open(m: &MiniApp, ends_in: Duration, winners: u32) -> RaffleId {
    let terms = RaffleTerms {
        title: "Осенний розыгрыш".into(),
        prize: "Год кофе".into(),
        entry_rule: domain::raffle::EntryRule::Tickets,
        ticket_cost: Points::new(10).unwrap(),
        max_tickets_per_member: 2,
        winners,
        ends_at: (chrono::Utc::now() + ends_in).into(),
    };
    let program = m.app.t.program_id();
    let (raffle, _) = m
        .app
        .t
        .ledger
        .open_raffle(
            &m.app.pool,
            m.state.secrets(),
            program,
            terms,
            &now_action(),
        )
        .await
        .unwrap();
    raffle
}

async fn buy(m: &MiniApp, who: &str, raffle: RaffleId, tap: &str) -> (StatusCode, Value) {
    let path = format!("/api/v1/app/raffles/{}/tickets", raffle.0);
    let reply = m
        .call("POST", &path, Some(who), None, &[("Idempotency-Key", tap)])
        .await;
    (reply.status, json_of(&reply))
}

async fn balance(m: &MiniApp, id: domain::ids::MemberId) -> i64 {
    sqlx::query_scalar("SELECT current FROM balances WHERE member_id = $1")
        .bind(id.0)
        .fetch_one(&m.app.pool)
        .await
        .unwrap()
}

async fn verify(m: &MiniApp) {
    m.drain().await;
    let report = projections::audit::verify(&m.app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn tickets_then_a_draw_anyone_can_check_against_the_commitment(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let (anna_id, boris_id) = (m.sign_in(&anna()).await, m.sign_in(&boris()).await);
    m.give(anna_id, 100).await;
    m.give(boris_id, 5).await;
    let raffle = open(&m, Duration::from_secs(2), 1).await;
    let (_, listed) = m.get("/api/v1/app/raffles", &anna()).await;
    let commitment = listed["raffles"][0]["commitment"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(listed["raffles"][0]["status"], "open");

    let (status, first) = buy(&m, &anna(), raffle, "t1").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        (first["my_tickets"].as_u64(), first["balance"].as_i64()),
        (Some(1), Some(90))
    );
    let (_, again) = buy(&m, &anna(), raffle, "t1").await;
    assert_eq!(
        (again["my_tickets"].as_u64(), again["balance"].as_i64()),
        (Some(1), Some(90)),
        "a double tap is one ticket"
    );
    buy(&m, &anna(), raffle, "t2").await;
    let (status, third) = buy(&m, &anna(), raffle, "t3").await;
    assert_eq!(
        (status, third["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("raffle_ticket_limit"))
    );
    let (status, poor) = buy(&m, &boris(), raffle, "b1").await;
    assert_eq!(
        (status, poor["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("insufficient_balance"))
    );
    m.give(boris_id, 10).await;
    assert_eq!(buy(&m, &boris(), raffle, "b2").await.0, StatusCode::OK);

    let program = m.app.t.program_id();
    let ledger = &m.app.t.ledger;
    let early = ledger
        .draw_raffle(
            &m.app.pool,
            m.state.secrets(),
            program,
            raffle,
            &now_action(),
        )
        .await;
    assert!(matches!(
        early,
        Err(app::AppError::Denied(domain::DomainError::RaffleNotEnded))
    ));
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let (status, late) = buy(&m, &boris(), raffle, "b3").await;
    assert_eq!(
        (status, late["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("raffle_closed"))
    );
    ledger
        .draw_raffle(
            &m.app.pool,
            m.state.secrets(),
            program,
            raffle,
            &now_action(),
        )
        .await
        .unwrap();

    let proof = m
        .call(
            "GET",
            &format!("/api/v1/raffles/{}/proof", raffle.0),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(proof.status, StatusCode::OK, "{}", proof.body);
    let proof = json_of(&proof);
    assert_eq!(proof["verified"], true);
    assert_eq!(
        proof["commitment"],
        commitment.as_str(),
        "the commitment never changed"
    );
    let seed = hex::decode(proof["seed"].as_str().unwrap()).unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&seed)),
        commitment,
        "the revealed seed is the committed one"
    );
    assert_eq!(proof["tickets"].as_array().unwrap().len(), 3);
    assert_eq!(proof["winners"].as_array().unwrap().len(), 1);
    assert!(
        !proof.to_string().contains(&anna_id.0.to_string()),
        "the proof names tickets, not members"
    );
    let (_, anna_view) = m.get("/api/v1/app/raffles", &anna()).await;
    let (_, boris_view) = m.get("/api/v1/app/raffles", &boris()).await;
    let won = [&anna_view, &boris_view].map(|v| v["raffles"][0]["i_won"] == true);
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "one winner: {won:?}");
    assert_eq!(anna_view["raffles"][0]["status"], "drawn");
    // `loyalty audit raffle` reads the stream itself; a draw whose recorded winner differs
    // from the seed's would fail it.
    let (state, audited) = app::raffles::audit(
        m.app.t.ledger.store(),
        raffle,
        m.app.t.ledger.raffle_settle(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(audited.verified, Some(true));
    let mut forged = state.clone();
    let (seed, won) = forged.drawn.clone().unwrap();
    let other = state.tickets.iter().find(|t| t.0 != won[0]).unwrap().0;
    forged.drawn = Some((seed, vec![other]));
    assert_eq!(app::raffles::proof(&forged).verified, Some(false));
    verify(&m).await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_cancelled_raffle_refunds_every_ticket_once(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let (anna_id, boris_id) = (m.sign_in(&anna()).await, m.sign_in(&boris()).await);
    m.give(anna_id, 100).await;
    m.give(boris_id, 100).await;
    let raffle = open(&m, Duration::from_secs(3_600), 1).await;
    buy(&m, &anna(), raffle, "a1").await;
    buy(&m, &anna(), raffle, "a2").await;
    buy(&m, &boris(), raffle, "b1").await;
    let program = m.app.t.program_id();
    let ledger = &m.app.t.ledger;
    let (_, refunded) = ledger
        .cancel_raffle(program, raffle, "the prize did not arrive", &now_action())
        .await
        .unwrap();
    assert_eq!(refunded, 3);
    let (_, again) = ledger
        .cancel_raffle(program, raffle, "the prize did not arrive", &now_action())
        .await
        .unwrap();
    assert_eq!(again, 0, "refunded once");
    m.drain().await;
    assert_eq!(
        (balance(&m, anna_id).await, balance(&m, boris_id).await),
        (100, 100)
    );
    let (status, closed) = buy(&m, &anna(), raffle, "a3").await;
    assert_eq!(
        (status, closed["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("raffle_cancelled"))
    );
    verify(&m).await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn managers_open_draw_and_cancel_raffles_in_the_panel_api(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let ends_at = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let body = json!({"title": "Розыгрыш", "prize": "Кружка", "ticket_cost": 5,
        "max_tickets_per_member": 1, "winners": 2, "ends_at": ends_at});
    let created = panel
        .change(Method::POST, &panel.path("/raffles"), Some(body.clone()))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let raffle = json_of(&created)["created_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bad = body.clone();
    bad["winners"] = json!(0);
    let refused = panel
        .change(Method::POST, &panel.path("/raffles"), Some(bad))
        .await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_raffle")
    );
    let list = json_of(&panel.get(&panel.path("/raffles")).await);
    assert_eq!(list["raffles"][0]["raffle_id"], raffle.as_str());
    assert_eq!(
        list["raffles"][0]["seed"],
        Value::Null,
        "the seed stays secret until the draw"
    );
    let stored: String = sqlx::query_scalar("SELECT seed FROM raffle_seeds")
        .fetch_one(&panel.app.pool)
        .await
        .unwrap();
    assert!(stored.starts_with("enc:"), "sealed at rest");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let draw = panel.path(&format!("/raffles/{raffle}/draw"));
    let drawn = panel.change(Method::POST, &draw, None).await;
    assert_eq!(drawn.status, StatusCode::OK, "{}", drawn.body);
    let twice = panel.change(Method::POST, &draw, None).await;
    assert_eq!(twice.code(), "raffle_already_drawn");
    let cancel = panel
        .change(
            Method::POST,
            &panel.path(&format!("/raffles/{raffle}/cancel")),
            Some(json!({"reason": "late"})),
        )
        .await;
    assert_eq!(cancel.code(), "raffle_already_drawn");
    let list = json_of(&panel.get(&panel.path("/raffles")).await);
    assert_eq!(list["raffles"][0]["status"], "drawn");
    assert!(list["raffles"][0]["seed"].is_string());
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn five_hundred_members_buying_at_once_each_get_their_tickets_and_no_more(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let raffle = open(&m, Duration::from_secs(3_600), 3).await;
    let program = m.app.t.program_id();
    let mut members = Vec::new();
    for _ in 0..500 {
        members.push(m.app.t.member_with(30).await);
    }
    // Each member taps three times at once; the limit is two tickets.
    let ledger = m.app.t.ledger.clone();
    let taps = members.iter().flat_map(|&member| {
        let ledger = ledger.clone();
        (0..3).map(move |_| {
            let ledger = ledger.clone();
            let entry = domain::ids::EntryId(uuid::Uuid::new_v4());
            async move {
                ledger
                    .buy_raffle_ticket(program, member, raffle, entry, chrono::Utc::now().into())
                    .await
            }
        })
    });
    let results = futures::future::join_all(taps).await;
    let bought = results.iter().filter(|r| r.is_ok()).count();
    let limited = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(app::AppError::Denied(
                    domain::DomainError::RaffleTicketLimit(2)
                ))
            )
        })
        .count();
    assert_eq!(
        (bought, limited),
        (1_000, 500),
        "two each, the third refused, none busy"
    );
    let state = app::raffles::raffle_in(&m.app.t.ledger, program, raffle)
        .await
        .unwrap();
    assert_eq!(state.tickets.len(), 1_000);
    verify(&m).await;
    for member in members.iter().take(20) {
        assert_eq!(balance(&m, *member).await, 10);
    }
}

/// The public page recomputes the draw in the visitor's browser (WebCrypto), trusting nothing
/// the server says about the result.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_public_page_checks_the_draw_in_the_browser(pool: PgPool) {
    let Some(browser) = crate::browser::Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let raffle = open(&m, Duration::from_millis(800), 2).await;
    let program = m.app.t.program_id();
    for _ in 0..4 {
        let member = m.app.t.member_with(30).await;
        let entry = domain::ids::EntryId(uuid::Uuid::new_v4());
        m.app
            .t
            .ledger
            .buy_raffle_ticket(program, member, raffle, entry, chrono::Utc::now().into())
            .await
            .unwrap();
    }
    let server = m.app.serve().await;
    let page = server.url(&format!("/raffles/{}", raffle.0));
    browser.goto(&page).await.unwrap();
    browser
        .wait_for("document.getElementById('verdict').dataset.state === 'pending' && document.getElementById('seed').textContent === '—'")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let secrets = m.state.secrets();
    m.app
        .t
        .ledger
        .draw_raffle(&m.app.pool, secrets, program, raffle, &now_action())
        .await
        .unwrap();
    browser.goto(&page).await.unwrap();
    browser
        .wait_for("document.getElementById('verdict').dataset.state === 'ok'")
        .await
        .unwrap();
    let winners = browser.count("#winners li").await.unwrap();
    assert_eq!(winners, 2);
    let rule = browser.text("#rule").await.unwrap().unwrap_or_default();
    assert!(rule.contains("Tickets bought with points"), "{rule}");
    browser.screenshot("raffle-proof").await.unwrap();
    browser.quit().await;
}

fn vk_comment(n: u32) -> domain::network::ActivityRef {
    domain::network::ActivityRef {
        network: domain::network::Network::Vk,
        kind: domain::network::ActivityKind::Comment,
        reference: format!("{n:032x}"),
    }
}

/// Members who commented in the period enter once each (by their first comment); a comment
/// deleted before the end, a comment before the period and a reaction do not count; nobody
/// can buy a ticket; the draw appends the entries once and picks winners among them; the
/// audit recomputes the entries from the log.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_activity_raffle_enters_the_members_who_commented_in_its_period(pool: PgPool) {
    use domain::raffle::{ActivityRule, EntryRule};
    let m = MiniApp::new(pool.clone()).await;
    let (anna_id, boris_id) = (m.sign_in(&anna()).await, m.sign_in(&boris()).await);
    let t = &m.app.t;
    let (carl, dina, eve) = (t.member().await, t.member().await, t.member().await);
    let now = chrono::Utc::now();
    let ago = |minutes: i64| domain::Timestamp::from(now - chrono::Duration::minutes(minutes));
    let award = |who, activity, at| {
        t.ledger.award_activity(
            &t.program,
            who,
            activity,
            None,
            at,
            store::Metadata::default(),
            at,
        )
    };
    award(anna_id, vk_comment(1), ago(50)).await.unwrap();
    award(eve, vk_comment(2), ago(40)).await.unwrap();
    award(anna_id, vk_comment(3), ago(30)).await.unwrap();
    award(boris_id, vk_comment(4), ago(20)).await.unwrap();
    award(dina, vk_comment(5), ago(120)).await.unwrap();
    let reaction = domain::network::ActivityRef {
        kind: domain::network::ActivityKind::Reaction,
        ..vk_comment(6)
    };
    award(carl, reaction, ago(10)).await.unwrap();
    t.ledger
        .reverse_activity(
            t.program_id(),
            boris_id,
            vk_comment(4),
            domain::event::ReversalReason::Deleted,
            store::Metadata::default(),
            ago(5),
        )
        .await
        .unwrap();

    let rule = ActivityRule {
        kind: Some(domain::network::ActivityKind::Comment),
        network: None,
        from: ago(60),
    };
    let terms = RaffleTerms {
        title: "Комментаторы недели".into(),
        prize: "Кружка".into(),
        entry_rule: EntryRule::Activity(rule),
        ticket_cost: Points::new(1).unwrap(),
        max_tickets_per_member: 1,
        winners: 3,
        ends_at: (now + chrono::Duration::milliseconds(1_500)).into(),
    };
    let program = t.program_id();
    let secrets = m.state.secrets();
    let (raffle, _) = t
        .ledger
        .open_raffle(&m.app.pool, secrets, program, terms, &now_action())
        .await
        .unwrap();

    let (_, listed) = m.get("/api/v1/app/raffles", &anna()).await;
    let shown = &listed["raffles"][0];
    assert_eq!(
        (
            shown["entry_rule"]["rule"].as_str(),
            shown["entry_rule"]["kind"].as_str()
        ),
        (Some("activity"), Some("comment"))
    );
    assert_eq!(shown["entered"], true, "{shown}");
    let (_, for_boris) = m.get("/api/v1/app/raffles", &boris()).await;
    assert_eq!(
        for_boris["raffles"][0]["entered"], false,
        "his comment was deleted"
    );
    let (status, refused) = buy(&m, &anna(), raffle, "t1").await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("raffle_without_tickets"))
    );

    let early = t
        .ledger
        .draw_raffle(&m.app.pool, secrets, program, raffle, &now_action())
        .await;
    assert!(
        matches!(
            early,
            Err(app::AppError::Denied(domain::DomainError::RaffleNotEnded))
        ),
        "{early:?}"
    );
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    // A ledger that lets late commits settle for a minute does not draw yet.
    let settling = app::Ledger::new(store::EventStore::new(pool), app::LedgerConfig::default());
    let unsettled = settling
        .draw_raffle(&m.app.pool, secrets, program, raffle, &now_action())
        .await;
    assert!(
        matches!(
            unsettled,
            Err(app::AppError::Denied(domain::DomainError::RaffleNotEnded))
        ),
        "{unsettled:?}"
    );
    // An interrupted draw: the entries are in, the draw is not; drawing appends none again.
    let rule_end = domain::Timestamp::from(now + chrono::Duration::milliseconds(1_500));
    t.ledger
        .enter_activity(program, raffle, &rule, rule_end, &now_action())
        .await
        .unwrap();
    t.ledger
        .draw_raffle(&m.app.pool, secrets, program, raffle, &now_action())
        .await
        .unwrap();
    let again = t
        .ledger
        .draw_raffle(&m.app.pool, secrets, program, raffle, &now_action())
        .await;
    assert!(
        matches!(
            again,
            Err(app::AppError::Denied(
                domain::DomainError::RaffleAlreadyDrawn
            ))
        ),
        "{again:?}"
    );
    let entered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE stream_id = $1 AND event_type = 'RaffleEntered'",
    )
    .bind(domain::StreamId::Raffle(raffle).to_string())
    .fetch_one(&m.app.pool)
    .await
    .unwrap();
    assert_eq!(entered, 2, "each entry once");

    let state = app::raffles::raffle_in(&t.ledger, program, raffle)
        .await
        .unwrap();
    let members: Vec<_> = state.tickets.iter().map(|e| e.1).collect();
    assert_eq!(
        members,
        vec![anna_id, eve],
        "in the order of their first comments"
    );
    let (_, won) = state.drawn.clone().unwrap();
    assert_eq!(won.len(), 2, "three prizes, two entrants");
    assert!(won.iter().all(|w| state.tickets.iter().any(|e| e.0 == *w)));

    let (_, audited) = app::raffles::audit(t.ledger.store(), raffle, t.ledger.raffle_settle())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (audited.verified, audited.entries_match_log),
        (Some(true), Some(true))
    );
    let proof = m
        .call(
            "GET",
            &format!("/api/v1/raffles/{}/proof", raffle.0),
            None,
            None,
            &[],
        )
        .await;
    let proof = json_of(&proof);
    assert_eq!(proof["entry_rule"]["rule"], "activity");
    assert_eq!(proof["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(proof["verified"], true);
    verify(&m).await;
}
