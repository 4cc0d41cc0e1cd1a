//! Raffles in the Mini App, in headless Chromium at a phone's width: a member sees an open
//! raffle above the catalogue with its commitment, buys tickets with a tap each (balance and
//! "my tickets" follow at once, as the log does) up to the limit, and sees a drawn raffle's
//! seed and that she won.

use crate::browser::Browser;
use crate::harness::TestServer;
use crate::harness::encode;
use crate::harness::mini_app::{MiniApp, anna, now_action};
use app::raffles::RaffleTerms;
use domain::ids::{EntryId, RaffleId};
use domain::points::Points;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

fn page_url(server: &TestServer, init_data: &str) -> String {
    let data = encode(init_data);
    server.url(&format!(
        "/app#tgWebAppData={data}&tgWebAppVersion=8.0&tgWebAppPlatform=android"
    ))
}

/// Opens a raffle as a manager would, selling tickets for `seconds`.
async fn open_raffle(m: &MiniApp, title: &str, cost: i64, limit: u32, seconds: i64) -> RaffleId {
    let ends_at = chrono::Utc::now() + chrono::Duration::seconds(seconds);
    let terms = RaffleTerms {
        title: title.into(),
        prize: "Городской велосипед".into(),
        entry_rule: domain::raffle::EntryRule::Tickets,
        ticket_cost: Points::new(cost).unwrap(),
        max_tickets_per_member: limit,
        winners: 1,
        ends_at: ends_at.into(),
    };
    let (state, program, action) = (&m.state, m.app.t.program_id(), now_action());
    let opened = state
        .ledger()
        .open_raffle(&state.pool, state.secrets(), program, terms, &action);
    opened.await.unwrap().0
}

/// The raffle `id` as the Mini App's API shows it to Anna.
async fn listed(m: &MiniApp, id: RaffleId) -> Value {
    let (_, all) = m.get("/api/v1/app/raffles", &anna()).await;
    let all = all["raffles"].as_array().unwrap().clone();
    all.into_iter()
        .find(|r| r["raffle_id"] == id.0.to_string())
        .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_member_buys_raffle_tickets_with_a_tap_up_to_the_limit(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 150).await;
    m.list_reward("Капучино", 100, 10).await;
    // A raffle of one ticket, hers, whose sales end in a few seconds: drawn below.
    let (program, ledger) = (m.app.t.program_id(), &m.app.t.ledger);
    let mug = open_raffle(&m, "Кружка", 10, 1, 4).await;
    let (entry, now) = (EntryId(Uuid::new_v4()), chrono::Utc::now().into());
    ledger
        .buy_raffle_ticket(program, member, mug, entry, now)
        .await
        .unwrap();
    let raffle = open_raffle(&m, "Велосипед к лету", 40, 2, 3600).await;
    m.drain().await;
    let server = m.app.serve().await;
    let commitment = listed(&m, raffle).await["commitment"]
        .as_str()
        .unwrap()
        .to_string();

    let phone = json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true});
    let metrics = "Emulation.setDeviceMetricsOverride";
    browser.cdp(metrics, phone).await.unwrap();
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser
        .click("#tabs button[data-tab=rewards]")
        .await
        .unwrap();
    let item = format!("#raffles li[data-raffle-id='{}']", raffle.0);
    let shown = browser
        .wait_for_text(&item, "Велосипед к лету")
        .await
        .unwrap();
    let fairness = format!("Честность: SHA-256 {commitment}");
    let texts = [
        "Приз: Городской велосипед",
        "билет — 40 баллов",
        "Ваши билеты: 0 из 2",
    ];
    for needle in texts.iter().copied().chain([fairness.as_str()]) {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
    // The raffles come first, the catalogue below.
    let order = "return [...document.querySelectorAll('#raffles li, #rewards li')]
                   .map((li) => li.parentElement.id);";
    let order = browser.execute(order, vec![]).await.unwrap();
    assert_eq!(order, json!(["raffles", "raffles", "rewards"]));

    // A tap buys one ticket: my tickets and the balance follow at once.
    let buy = format!("{item} button.buy-ticket");
    browser.click(&buy).await.unwrap();
    browser
        .wait_for_text(&item, "Ваши билеты: 1 из 2")
        .await
        .unwrap();
    // The balance counts down to its new value (a refresh may start the count again from where
    // it stands): wait until it shows exactly that.
    browser
        .wait_for("document.querySelector('#balance').textContent.trim() === '100'")
        .await
        .unwrap();
    browser.wait_for_text(&item, "Билет куплен").await.unwrap();
    browser.screenshot("mini-app-raffle").await.unwrap();
    assert_eq!(m.events_of_type("RaffleTicketBought").await, 2);
    assert_eq!(m.app.t.balance(member).await, 100);
    assert_eq!(listed(&m, raffle).await["my_tickets"], 1);

    // The second tap is a second ticket (a new key); then the limit: the button is off.
    let off = format!("document.querySelector(\"{buy}\").disabled");
    browser.wait_for(&format!("!{off}")).await.unwrap();
    browser.click(&buy).await.unwrap();
    browser
        .wait_for_text(&item, "Ваши билеты: 2 из 2")
        .await
        .unwrap();
    browser
        .wait_for_text(&item, "у вас максимум билетов")
        .await
        .unwrap();
    // The balance counts down to its new value (a refresh may start the count again from where
    // it stands): wait until it shows exactly that.
    browser
        .wait_for("document.querySelector('#balance').textContent.trim() === '60'")
        .await
        .unwrap();
    browser.wait_for(&off).await.unwrap();
    assert_eq!(m.events_of_type("RaffleTicketBought").await, 3);
    assert_eq!(m.app.t.balance(member).await, 60);
    // The catalogue follows the balance: 60 points are 40 short of a cappuccino.
    let short = "не хватает 40 баллов";
    browser.wait_for_text("#rewards", short).await.unwrap();

    // Once the mug's sales ended, it is drawn: she won, and sees the revealed seed.
    while listed(&m, mug).await["status"] != "ended" {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (state, action) = (&m.state, now_action());
    let drawn = ledger.draw_raffle(&state.pool, state.secrets(), program, mug, &action);
    drawn.await.unwrap();
    let seed = listed(&m, mug).await["seed"].as_str().unwrap().to_string();
    browser.goto("about:blank").await.unwrap();
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser
        .click("#tabs button[data-tab=rewards]")
        .await
        .unwrap();
    let won = format!("#raffles li[data-raffle-id='{}']", mug.0);
    browser.wait_for_text(&won, "Вы выиграли!").await.unwrap();
    let shown = browser.wait_for_text(&won, &seed).await.unwrap();
    assert!(shown.contains("Проверить розыгрыш"), "{shown}");
    assert_eq!(browser.count(&format!("{won} button")).await.unwrap(), 0);
    browser.quit().await;
}

/// An activity raffle has nothing to buy: a member who commented in its period reads that she
/// is in, and a raffle for what she has not done tells her how to enter.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_member_sees_she_is_in_an_activity_raffle_or_how_to_enter(pool: PgPool) {
    use domain::network::{ActivityKind, ActivityRef, Network};
    use domain::raffle::{ActivityRule, EntryRule};
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    let t = &m.app.t;
    let at = (chrono::Utc::now() - chrono::Duration::minutes(5)).into();
    let comment = ActivityRef {
        network: Network::Vk,
        kind: ActivityKind::Comment,
        reference: format!("{:032x}", 7),
    };
    t.ledger
        .award_activity(
            &t.program,
            member,
            comment,
            None,
            at,
            Default::default(),
            at,
        )
        .await
        .unwrap();
    let open = |title: &str, kind, network| RaffleTerms {
        title: title.into(),
        prize: "Городской велосипед".into(),
        entry_rule: EntryRule::Activity(ActivityRule {
            kind: Some(kind),
            network,
            from: (chrono::Utc::now() - chrono::Duration::days(1)).into(),
        }),
        ticket_cost: Points::new(1).unwrap(),
        max_tickets_per_member: 1,
        winners: 1,
        ends_at: (chrono::Utc::now() + chrono::Duration::days(7)).into(),
    };
    let (state, program) = (&m.state, t.program_id());
    let mut ids = Vec::new();
    for terms in [
        open("Комментаторы недели", ActivityKind::Comment, None),
        open(
            "Реакции в канале",
            ActivityKind::Reaction,
            Some(Network::Telegram),
        ),
    ] {
        let action = now_action();
        let opened =
            state
                .ledger()
                .open_raffle(&state.pool, state.secrets(), program, terms, &action);
        ids.push(opened.await.unwrap().0);
    }
    assert_eq!(listed(&m, ids[0]).await["entered"], true);
    assert_eq!(listed(&m, ids[1]).await["entered"], false);
    let server = m.app.serve().await;
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser
        .click("#tabs button[data-tab=rewards]")
        .await
        .unwrap();
    let item = |id: RaffleId| format!("#raffles li[data-raffle-id='{}']", id.0);
    let entered = browser
        .wait_for_text(&item(ids[0]), "Вы участвуете: вы комментировали")
        .await
        .unwrap();
    assert!(entered.contains("участие бесплатное"), "{entered}");
    browser
        .wait_for_text(
            &item(ids[1]),
            "Чтобы участвовать: поставьте реакцию (Telegram) до",
        )
        .await
        .unwrap();
    assert_eq!(
        browser.count("#raffles button").await.unwrap(),
        0,
        "nothing to buy"
    );
    browser
        .screenshot("mini-app-raffle-activity")
        .await
        .unwrap();
    browser.quit().await;
}
