//! Seasons in the panel, in a real headless Chromium: a manager schedules one through the form
//! (a season ending before it starts is refused beside the field and nothing is sent) and
//! cancels one with a reason; a season that ended shows its frozen standings with ranks, scores
//! and prizes; an auditor reads the seasons without the form or the cancel buttons.

use super::browser::{as_admin, recorded, reopen, signed_in_at, type_value};
use crate::browser::Browser;
use crate::harness::admin::{AdminClient, PASSWORD};
use api::admin::{Role, create_user};
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use domain::Timestamp;
use domain::event::LinkMethod;
use domain::ids::MemberId;
use domain::network::{ActivityKind, ActivityRef, ExternalIdentity, Network};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn see(browser: &Browser, css: &str, needle: &str) -> String {
    browser.wait_for_text(css, needle).await.unwrap()
}

/// The seasons as the panel's API lists them, the latest start first.
async fn seasons(api: &AdminClient) -> Vec<Value> {
    let list = api.get(&api.path("/seasons")).await.json();
    list["seasons"].as_array().unwrap().clone()
}

/// Signs the browser out and in again as a new account `name` of `role`.
async fn sign_in_as(browser: &Browser, panel: &AdminClient, name: &str, role: Role) {
    create_user(&panel.app.pool, "test", name, PASSWORD, role)
        .await
        .unwrap();
    browser.click("#logout").await.unwrap();
    browser.type_into("#username", name).await.unwrap();
    browser.type_into("#password", PASSWORD).await.unwrap();
    browser.click("#login-submit").await.unwrap();
    see(browser, "#whoami", name).await;
}

/// A datetime-local value on the program's clock (the fixtures' program keeps Moscow time).
fn moscow_input(at: chrono::DateTime<Utc>) -> String {
    let local = at.with_timezone(&chrono_tz::Europe::Moscow);
    local.format("%Y-%m-%dT%H:%M").to_string()
}

/// A member known by a linked VK account whose profile names them `name`.
async fn named_member(panel: &AdminClient, name: &str, vk_id: &str) -> MemberId {
    let t = &panel.app.t;
    let member = t.member().await;
    let identity = ExternalIdentity::new(Network::Vk, "", vk_id);
    let account = panel.app.account(&identity).await;
    let now = Timestamp::new(Utc::now());
    t.ledger
        .link_account(
            t.program_id(),
            member,
            account,
            LinkMethod::Code,
            store::Metadata::default(),
            now,
        )
        .await
        .unwrap();
    let profile = app::ingest::profiles::Profile {
        program_id: panel.program(),
        account: account.account,
        username: None,
        display_name: Some(name.to_string()),
        language_code: None,
    };
    app::ingest::profiles::upsert_profile(&panel.app.pool, &profile)
        .await
        .unwrap();
    member
}

/// A VK repost by `member`, now: 20 points under the standard rules.
async fn repost(panel: &AdminClient, member: MemberId, reference: &str) {
    let t = &panel.app.t;
    let activity = ActivityRef {
        network: Network::Vk,
        kind: ActivityKind::Repost,
        reference: reference.to_string(),
    };
    let now = Timestamp::new(Utc::now());
    let metadata = store::Metadata::default();
    t.ledger
        .award_activity(&t.program, member, activity, None, now, metadata, now)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_manager_schedules_a_season_through_the_form_and_cancels_it(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    sign_in_as(&browser, &panel, "olga", Role::Manager).await;
    reopen(&browser, &api, "#/seasons").await;
    browser.wait_visible("#season-form").await.unwrap();
    // Every activity counts by default, manual adjustments do not.
    let defaults = "return [[...document.querySelectorAll('#season-kinds input[id^=season-kind-]')]
                      .every((c) => c.checked), document.getElementById('season-adjustments').checked,
                      document.getElementById('season-settle').value];";
    let defaults = browser.execute(defaults, vec![]).await.unwrap();
    assert_eq!(defaults, json!([true, false, "60"]));
    let hint = browser.text(".season-adjustments-hint").await.unwrap();
    assert!(
        hint.unwrap().contains("does not move anyone up the board"),
        "the hint says why adjustments are off"
    );

    // An end before the start is refused beside the end, and nothing is sent.
    let starts = Utc::now() + Duration::hours(1);
    browser
        .type_into("#season-name", "Spring sprint")
        .await
        .unwrap();
    type_value(&browser, "season-starts", &moscow_input(starts)).await;
    let before = moscow_input(starts - Duration::days(2));
    type_value(&browser, "season-ends", &before).await;
    browser.click("#season-submit").await.unwrap();
    let refused = see(&browser, "#season-ends-error", "after the start").await;
    assert_eq!(refused, "The end must be after the start.");
    let invalid = "return document.getElementById('season-ends').getAttribute('aria-invalid');";
    assert_eq!(browser.execute(invalid, vec![]).await.unwrap(), "true");
    browser.screenshot("admin-season-form").await.unwrap();
    assert_eq!(panel.app.events_of_type("SeasonScheduled").await, 0);
    assert!(seasons(&api).await.is_empty());

    // Corrected: four weeks, without messages, two prize bands.
    let ends = starts + Duration::days(28);
    type_value(&browser, "season-ends", &moscow_input(ends)).await;
    browser.click("#season-kind-message").await.unwrap();
    browser.click("#season-prize-add").await.unwrap();
    browser
        .type_into("#season-prize-0-points", "300")
        .await
        .unwrap();
    browser.click("#season-prize-add").await.unwrap();
    let second_from = "return document.getElementById('season-prize-1-from').value;";
    let from = browser.execute(second_from, vec![]).await.unwrap();
    assert_eq!(from, "2", "a new band starts after the last one");
    browser.type_into("#season-prize-1-to", "3").await.unwrap();
    browser
        .type_into("#season-prize-1-points", "100")
        .await
        .unwrap();
    browser.click("#season-submit").await.unwrap();
    see(&browser, "#season-list", "Spring sprint").await;
    recorded(&api, "SeasonScheduled").await;
    let listed = seasons(&api).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let season = &listed[0];
    let id = season["season_id"].as_str().unwrap().to_string();
    let phase = season["phase"].as_str().unwrap();
    assert!(["upcoming", "running"].contains(&phase), "{season}");
    assert_eq!(season["scheduled_by"], "manager:olga", "{season}");
    assert_eq!(season["settle_minutes"], 60);
    assert_eq!(season["adjustments"], false);
    let kinds = ["comment", "mention", "reaction", "poll_vote", "repost"];
    let kinds = json!(
        kinds
            .into_iter()
            .chain(["subscription", "codeword"])
            .collect::<Vec<_>>()
    );
    assert_eq!(season["activities"], kinds);
    let prizes = json!([{"from_rank": 1, "to_rank": 1, "points": 300},
        {"from_rank": 2, "to_rank": 3, "points": 100}]);
    assert_eq!(season["prizes"], prizes);
    // The times were read on the program's clock (Moscow), to the minute.
    let minute = |at: chrono::DateTime<Utc>| at.timestamp() / 60;
    let stored =
        |field: &str| -> chrono::DateTime<Utc> { season[field].as_str().unwrap().parse().unwrap() };
    assert_eq!(minute(stored("starts_at")), minute(starts));
    assert_eq!(minute(stored("ends_at")), minute(ends));
    let card = format!(".season[data-season-id='{id}']");
    let badge = browser.text(&format!("{card} .badge")).await.unwrap();
    assert_eq!(badge.as_deref(), Some(phase));
    let shown = see(&browser, &card, "#2–3: 100 each").await;
    assert!(shown.contains("#1: 300"), "{shown}");
    assert!(shown.contains("manual adjustments do not count"), "{shown}");

    // Cancelled with a reason: the card says so, and offers no cancel any more.
    browser
        .click(&format!("{card} .season-cancel-button"))
        .await
        .unwrap();
    see(&browser, "#reason-consequence", "nobody wins its prizes").await;
    let reason = "Prizes not approved by the brand";
    browser.type_into("#reason-input", reason).await.unwrap();
    browser.click("#reason-confirm").await.unwrap();
    recorded(&api, "SeasonCancelled").await;
    let cancelled = format!("{card}[data-phase='cancelled']");
    see(&browser, &cancelled, &format!("Cancelled: {reason}")).await;
    assert_eq!(
        browser
            .count(&format!("{card} .season-cancel-button"))
            .await
            .unwrap(),
        0
    );
    let listed = seasons(&api).await;
    assert_eq!(
        (&listed[0]["phase"], &listed[0]["cancel_reason"]),
        (&json!("cancelled"), &json!(reason))
    );
    assert_eq!(panel.app.events_of_type("SeasonScheduled").await, 1);
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_season_that_ended_shows_its_frozen_standings_and_prizes(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 1280).await;
    let api = as_admin(&panel).await;
    let maria = named_member(&panel, "Maria", "810001").await;
    let petr = named_member(&panel, "Petr", "810002").await;
    let sveta = named_member(&panel, "Sveta", "810003").await;

    // A season of a few seconds with nothing to settle, and a long one still running.
    let ends_at = Utc::now() + Duration::seconds(8);
    let flash = json!({"name": "Flash week", "starts_at": Utc::now().to_rfc3339(),
        "ends_at": ends_at.to_rfc3339(), "settle_minutes": 0,
        "prizes": [{"from_rank": 1, "to_rank": 1, "points": 300},
                   {"from_rank": 2, "to_rank": 3, "points": 100}]});
    let path = api.path("/seasons");
    let scheduled = api.change(Method::POST, &path, Some(flash)).await;
    assert_eq!(scheduled.status, StatusCode::OK, "{}", scheduled.body);
    let flash_id = scheduled.json()["created_id"].as_str().unwrap().to_string();
    let long = json!({"name": "Winter league", "starts_at": Utc::now().to_rfc3339(),
        "ends_at": (Utc::now() + Duration::days(30)).to_rfc3339()});
    let scheduled = api.change(Method::POST, &path, Some(long)).await;
    assert_eq!(scheduled.status, StatusCode::OK, "{}", scheduled.body);

    // Maria reposts twice, Petr and Sveta once; Petr's goodwill credit does not count.
    repost(&panel, maria, "season-repost-1").await;
    repost(&panel, maria, "season-repost-2").await;
    repost(&panel, petr, "season-repost-3").await;
    repost(&panel, sveta, "season-repost-4").await;
    let credit = api
        .adjust(petr, json!(500), "Apology for a late parcel")
        .await;
    assert_eq!(credit.status, StatusCode::OK, "{}", credit.body);

    // Past its end, the season job freezes the standings and pays the prizes.
    let left = (ends_at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + std::time::Duration::from_secs(1)).await;
    panel.drain().await;
    crate::harness::log_visible_to_readers(&panel.app.pool).await;
    let later = Timestamp::new(Utc::now() + Duration::minutes(6));
    let pass = app::seasons::keep_once(&panel.app.t.ledger, &panel.app.pool, later)
        .await
        .unwrap();
    assert_eq!((pass.ended, pass.paid, pass.settled), (1, 3, 1), "{pass:?}");
    panel.drain().await;
    assert_eq!(panel.app.t.balance(maria).await, 40 + 300);
    assert_eq!(panel.app.t.balance(petr).await, 20 + 500 + 100);

    reopen(&browser, &api, "#/seasons").await;
    let card = format!(".season[data-season-id='{flash_id}']");
    let shown = see(
        &browser,
        &format!("{card}[data-phase='final']"),
        "prizes paid: 3",
    )
    .await;
    assert!(shown.contains("3 members with points"), "{shown}");
    assert!(shown.contains("withheld: 0"), "{shown}");
    browser
        .click(&format!("{card} a.season-open"))
        .await
        .unwrap();
    let marker = see(&browser, "#season-final", "final").await;
    assert!(marker.contains("no longer change"), "{marker}");
    let rows = "return [...document.querySelectorAll('#season-board tr.season-row')]
                  .map((tr) => [...tr.cells].map((td) => td.textContent));";
    let rows = browser.execute(rows, vec![]).await.unwrap();
    let mut rows: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
    // Petr and Sveta tie: both second, in either order.
    rows[1..].sort();
    let expected = [
        ["1", "Maria", "40", "300"],
        ["2", "Petr", "20", "100"],
        ["2", "Sveta", "20", "100"],
    ];
    assert_eq!(rows, expected.map(|r| r.map(String::from).to_vec()));
    let board = api.get(&api.path(&format!("/seasons/{flash_id}"))).await;
    let board = board.json();
    assert_eq!(board["frozen"], true, "{board}");
    assert_eq!(board["entries"].as_array().unwrap().len(), 3, "{board}");
    assert_eq!(
        browser
            .count("#season-board[data-frozen='true']")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        browser.count(".season-cancel-button").await.unwrap(),
        0,
        "a final season cannot be cancelled"
    );
    browser.screenshot("admin-season-final").await.unwrap();

    // An auditor reads both seasons, but neither schedules nor cancels one.
    reopen(&browser, &api, "#/seasons").await;
    assert_eq!(browser.count(".season-cancel-button").await.unwrap(), 1);
    sign_in_as(&browser, &panel, "irina", Role::Auditor).await;
    reopen(&browser, &api, "#/seasons").await;
    see(&browser, "#season-list", "Winter league").await;
    assert_eq!(browser.count(".season").await.unwrap(), 2);
    assert_eq!(browser.count("#season-form").await.unwrap(), 0);
    assert_eq!(browser.count(".season-cancel-button").await.unwrap(), 0);
    browser.quit().await;
}
