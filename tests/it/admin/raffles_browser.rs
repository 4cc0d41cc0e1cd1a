//! Raffles in the panel, in a real headless Chromium: an admin opens one through the form (its
//! commitment shown), draws one that ended (the page shows the revealed seed and the winners,
//! as the API, the public proof and the log do) and cancels one (its tickets refunded).

use super::anna_from_instagram;
use super::browser::{as_admin, recorded, reopen, signed_in_at};
use crate::browser::Browser;
use crate::harness::admin::{AdminClient, PASSWORD};
use api::admin::{Role, create_user};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use domain::ids::{EntryId, RaffleId};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

async fn see(browser: &Browser, css: &str, needle: &str) -> String {
    browser.wait_for_text(css, needle).await.unwrap()
}

async fn count(browser: &Browser, css: &str) -> u64 {
    browser.count(css).await.unwrap()
}

/// The raffle `id` as the API lists it (the newest with `None`).
async fn listed(api: &AdminClient, id: Option<&str>) -> Value {
    let list = api.get(&api.path("/raffles")).await.json();
    let mut raffles = list["raffles"].as_array().unwrap().clone().into_iter();
    raffles
        .find(|r| id.is_none_or(|id| r["raffle_id"] == id))
        .unwrap()
}

/// The raffle once the panel's API lists it in `status` (up to 30 s).
async fn in_status(api: &AdminClient, id: &str, status: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let raffle = listed(api, Some(id)).await;
        if raffle["status"] == status {
            return raffle;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never {status}: {raffle}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_opens_draws_and_cancels_raffles_and_the_page_shows_the_proof(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let anna = anna_from_instagram(&panel, "anna.runs").await;
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    let app = panel.app.clone();
    let (program, boris) = (app.t.program_id(), app.t.member_with(500).await);
    let welcome = api.adjust(anna, json!(500), "welcome").await;
    assert_eq!(welcome.status, StatusCode::OK);

    // Through the form: a week-long raffle, its commitment shown from the start.
    reopen(&browser, &api, "#/raffles").await;
    let form = [
        ("title", "Weekend for two"),
        ("prize", "Two nights at the lake"),
    ];
    for (field, value) in form.into_iter().chain([("cost", "50"), ("winners", "2")]) {
        let input = format!("#raffle-{field}");
        browser.type_into(&input, value).await.unwrap();
    }
    browser.click("#raffle-submit").await.unwrap();
    see(&browser, "#raffle-list", "Weekend for two").await;
    let week = listed(&api, None).await;
    let week_id = week["raffle_id"].as_str().unwrap().to_string();
    let terms = (
        &week["status"],
        &week["ticket_cost"],
        &week["max_tickets_per_member"],
    );
    assert_eq!(terms, (&json!("open"), &json!(50), &json!(1)), "{week}");
    let shown = "return document.querySelector('.raffle .raffle-commitment').title;";
    let commitment = browser.execute(shown, vec![]).await.unwrap();
    assert_eq!(
        (&commitment, commitment.as_str().unwrap().len()),
        (&week["commitment"], 64)
    );

    // Through the API: a raffle whose sales end in a few seconds; Anna buys two tickets, Boris
    // one there and one in the week-long raffle.
    let ends_at = (chrono::Utc::now() + chrono::Duration::seconds(6)).to_rfc3339();
    let terms = json!({"title": "Flash raffle", "prize": "A mug", "ticket_cost": 20,
        "max_tickets_per_member": 2, "winners": 2, "ends_at": ends_at});
    let path = api.path("/raffles");
    let opened = api.change(Method::POST, &path, Some(terms));
    let flash = opened.await.json()["created_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ledger = &app.t.ledger;
    let tickets = [
        (anna, &flash),
        (anna, &flash),
        (boris, &flash),
        (boris, &week_id),
    ];
    for (member, raffle) in tickets {
        let (raffle, entry) = (RaffleId(raffle.parse().unwrap()), EntryId(Uuid::new_v4()));
        let now = chrono::Utc::now().into();
        let bought = ledger.buy_raffle_ticket(program, member, raffle, entry, now);
        bought.await.unwrap();
    }
    let card = format!(".raffle[data-raffle-id='{flash}']");
    reopen(&browser, &api, "#/raffles").await;
    see(&browser, &card, "3 tickets sold to 2 members").await;
    assert_eq!(
        count(&browser, &format!("{card} .raffle-draw-button")).await,
        0
    );

    // Once the sales ended, the draw: asked first, then the seed and the winners on the page.
    in_status(&api, &flash, "ended").await;
    reopen(&browser, &api, "#/raffles").await;
    let draw = format!("{card} .raffle-draw-button");
    browser.click(&draw).await.unwrap();
    see(&browser, "#confirm-consequence", "3 tickets sold").await;
    browser.click("#confirm-yes").await.unwrap();
    recorded(&api, "RaffleDrawn").await;
    // The event can be in the log a moment before the answer that recorded it returns.
    let drawn = in_status(&api, &flash, "drawn").await;
    let seed = drawn["seed"].as_str().unwrap().to_string();
    see(&browser, &format!("{card} .raffle-seed"), &seed).await;
    let winners = drawn["winning_tickets"].as_array().unwrap();
    let mut holders: Vec<&str> = winners
        .iter()
        .map(|w| w["member_id"].as_str().unwrap())
        .collect();
    holders.sort();
    let mut both = [anna.0.to_string(), boris.0.to_string()];
    both.sort();
    assert_eq!(holders, both, "two winners, each holder once: {drawn}");
    let unnamed = "Member without a name";
    let page = see(&browser, &format!("{card} .raffle-winners"), unnamed).await;
    let anna_name = winners.iter().find_map(|w| w["member_name"].as_str());
    assert!(page.contains(anna_name.unwrap()), "{page}");
    assert_eq!(
        count(&browser, &format!("{card} button")).await,
        1,
        "only Copy once drawn"
    );
    browser.screenshot("admin-raffles").await.unwrap();

    // The seed is the commitment's preimage; the public proof and the log agree with the page.
    let digest = hex::encode(Sha256::digest(hex::decode(&seed).unwrap()));
    assert_eq!(digest, drawn["commitment"].as_str().unwrap());
    let page = format!("/raffles/{flash}");
    assert_eq!(
        count(&browser, &format!("{card} a.raffle-proof[href='{page}']")).await,
        1
    );
    let href = format!("/api/v1/raffles/{flash}/proof");
    let proof = app.send(Request::get(&href).body(Body::empty()).unwrap());
    let proof = proof.await.json();
    assert_eq!(proof["verified"], true, "{proof}");
    let entries: Vec<Value> = winners.iter().map(|w| w["entry_id"].clone()).collect();
    assert_eq!(proof["winners"], Value::Array(entries));
    let log = "SELECT payload::text FROM events WHERE event_type = 'RaffleDrawn'";
    let logged: String = sqlx::query_scalar(log).fetch_one(&app.pool).await.unwrap();
    assert!(logged.contains(&seed), "{logged}");

    // A second draw is refused; cancelling the week-long raffle refunds Boris's ticket.
    let again = api.path(&format!("/raffles/{flash}/draw"));
    let again = api.change(Method::POST, &again, None).await;
    assert_eq!(again.code(), "raffle_already_drawn");
    let week_card = format!(".raffle[data-raffle-id='{week_id}']");
    browser
        .click(&format!("{week_card} .raffle-cancel-button"))
        .await
        .unwrap();
    see(
        &browser,
        "#reason-consequence",
        "Every ticket (1) is refunded",
    )
    .await;
    let reason = "The lake house is closed";
    browser.type_into("#reason-input", reason).await.unwrap();
    browser.click("#reason-confirm").await.unwrap();
    recorded(&api, "RaffleCancelled").await;
    see(&browser, "#toast", "1 tickets refunded").await;
    see(&browser, &week_card, &format!("Cancelled: {reason}")).await;
    assert_eq!(app.events_of_type("RaffleTicketRefunded").await, 1);
    assert_eq!(app.t.balance(boris).await, 480);
    let cancelled = listed(&api, Some(&week_id)).await;
    assert_eq!(cancelled["status"], "cancelled");
    browser.quit().await;
}

/// An auditor reads the raffles and their commitments, but neither opens, draws nor cancels.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_auditor_sees_the_raffles_without_their_actions(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    let ends_at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let terms = json!({"title": "Quiet raffle", "prize": "A book", "ticket_cost": 5,
        "max_tickets_per_member": 1, "winners": 1, "ends_at": ends_at});
    let path = api.path("/raffles");
    let opened = api.change(Method::POST, &path, Some(terms)).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
    create_user(&api.app.pool, "test", "olga", PASSWORD, Role::Auditor)
        .await
        .unwrap();
    browser.click("#logout").await.unwrap();
    browser.type_into("#username", "olga").await.unwrap();
    browser.type_into("#password", PASSWORD).await.unwrap();
    browser.click("#login-submit").await.unwrap();
    see(&browser, "#whoami", "olga").await;
    reopen(&browser, &api, "#/raffles").await;
    see(&browser, "#raffle-list", "Quiet raffle").await;
    assert_eq!(count(&browser, ".raffle .raffle-commitment").await, 1);
    assert_eq!(count(&browser, "#raffle-form").await, 0);
    assert_eq!(
        count(&browser, ".raffle button:not(.copy-commitment)").await,
        0
    );
    browser.quit().await;
}

/// The form's other entry rule: "members who commented on VK between <from> and the end". The
/// ticket fields give way to the activity's, and the card states the rule.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_opens_a_raffle_for_the_members_who_commented(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    reopen(&browser, &api, "#/raffles").await;
    assert_eq!(count(&browser, ".raffle-activity-terms[hidden]").await, 1);
    browser
        .type_into("#raffle-title", "Commenters of the week")
        .await
        .unwrap();
    browser.type_into("#raffle-prize", "A mug").await.unwrap();
    let choose = "for (const [id, value] of [['raffle-rule', 'activity'], ['raffle-kind', 'comment'], \
                  ['raffle-network', 'vk']]) { const s = document.getElementById(id); s.value = value; \
                  s.dispatchEvent(new Event('change')); } \
                  return document.querySelector('.raffle-tickets-terms').hidden;";
    let tickets_hidden = browser.execute(choose, vec![]).await.unwrap();
    assert_eq!(
        tickets_hidden,
        json!(true),
        "no ticket terms for an activity rule"
    );
    browser.click("#raffle-submit").await.unwrap();
    see(&browser, "#raffle-list", "Commenters of the week").await;
    let raffle = listed(&api, None).await;
    let rule = &raffle["entry_rule"];
    assert_eq!(
        (&rule["rule"], &rule["kind"], &rule["network"]),
        (&json!("activity"), &json!("comment"), &json!("vk")),
        "{raffle}"
    );
    assert!(rule["from"].is_string(), "{raffle}");
    assert_eq!(raffle["ticket_cost"], 0);
    let id = raffle["raffle_id"].as_str().unwrap();
    let card = format!(".raffle[data-raffle-id='{id}'] .raffle-facts");
    see(&browser, &card, "Every member with a comment (VK) between").await;
    browser.screenshot("admin-raffle-activity").await.unwrap();
    browser.quit().await;
}
