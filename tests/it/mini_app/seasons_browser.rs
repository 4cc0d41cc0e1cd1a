//! Seasons in the Mini App, in headless Chromium at a phone's width: above the leaderboard a
//! member reads the running season (what counts, its prizes) and its board with her own row
//! highlighted and her place; below it a past season opens in place with its frozen standings
//! and the prize her final rank won.

use crate::browser::Browser;
use crate::harness::TestServer;
use crate::harness::encode;
use crate::harness::mini_app::{MiniApp, anna, now_action};
use chrono::{Duration, Utc};
use domain::Timestamp;
use domain::ids::SeasonId;
use domain::network::ActivityKind;
use domain::season::{SeasonCounts, SeasonPrize, SeasonTerms};
use serde_json::{Value, json};
use sqlx::PgPool;

fn page_url(server: &TestServer, init_data: &str) -> String {
    let data = encode(init_data);
    server.url(&format!(
        "/app#tgWebAppData={data}&tgWebAppVersion=8.0&tgWebAppPlatform=android"
    ))
}

/// Schedules a season from now until `ends_at` in which a manager's credits count, as the
/// panel does; `prizes` are (from rank, to rank, points).
async fn schedule(
    m: &MiniApp,
    name: &str,
    ends_at: chrono::DateTime<Utc>,
    activities: &[ActivityKind],
    prizes: &[(u32, u32, i64)],
) -> SeasonId {
    let terms = SeasonTerms {
        name: name.into(),
        starts_at: Utc::now().into(),
        ends_at: ends_at.into(),
        settle_minutes: 0,
        counts: SeasonCounts {
            activities: activities.to_vec(),
            adjustments: true,
        },
        prizes: prizes
            .iter()
            .map(|&(from_rank, to_rank, points)| SeasonPrize {
                from_rank,
                to_rank,
                points,
            })
            .collect(),
    };
    let (program, action) = (m.app.t.program_id(), now_action());
    let scheduled = m.app.t.ledger.schedule_season(program, terms, &action);
    scheduled.await.unwrap().0
}

/// The season `id` as the Mini App's API shows it to Anna.
async fn listed(m: &MiniApp, id: SeasonId) -> Value {
    let (_, all) = m.get("/api/v1/app/seasons", &anna()).await;
    let all = all["seasons"].as_array().unwrap().clone();
    all.into_iter()
        .find(|s| s["season_id"] == id.0.to_string())
        .unwrap()
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_member_sees_her_place_in_the_running_season_and_her_prize_in_a_past_one(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    // A season of a few seconds, ended below, and a month-long league for comments and reposts.
    let flash_ends = Utc::now() + Duration::seconds(8);
    let flash = schedule(
        &m,
        "Быстрая неделя",
        flash_ends,
        &ActivityKind::ALL,
        &[(1, 1, 300), (2, 3, 100)],
    )
    .await;
    let league_kinds = [ActivityKind::Comment, ActivityKind::Repost];
    let month = Utc::now() + Duration::days(30);
    let league = schedule(&m, "Зимняя лига", month, &league_kinds, &[(1, 1, 500)]).await;
    // Both count these credits: Boris 80, Anna 50, Vera 20.
    m.rival(6_000_000_002, "Борис", 80).await;
    m.give(member, 50).await;
    m.rival(6_000_000_003, "Вера", 20).await;

    // The short season ends and is frozen; Anna's next 40 points count in the league only.
    let left = (flash_ends - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + std::time::Duration::from_secs(1)).await;
    m.give(member, 40).await;
    m.drain().await;
    crate::harness::log_visible_to_readers(&m.app.pool).await;
    let later = Timestamp::new(Utc::now() + Duration::minutes(6));
    let pass = app::seasons::keep_once(&m.app.t.ledger, &m.app.pool, later)
        .await
        .unwrap();
    assert_eq!((pass.ended, pass.paid, pass.settled), (1, 3, 1), "{pass:?}");
    m.drain().await;
    assert_eq!(m.app.t.balance(member).await, 50 + 40 + 100);
    let past = listed(&m, flash).await;
    let mine = (&past["phase"], &past["my_rank"], &past["my_prize"]);
    assert_eq!(mine, (&json!("final"), &json!(2), &json!(100)), "{past}");
    let running = listed(&m, league).await;
    let mine = (&running["phase"], &running["my_rank"], &running["my_score"]);
    assert_eq!(
        mine,
        (&json!("running"), &json!(1), &json!(90)),
        "{running}"
    );

    let server = m.app.serve().await;
    let phone = json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true});
    let metrics = "Emulation.setDeviceMetricsOverride";
    browser.cdp(metrics, phone).await.unwrap();
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser.click("#tabs button[data-tab=top]").await.unwrap();

    // The running season on top: what counts, its prize, its board with Anna's row marked.
    let card = format!("#season[data-season-id='{}']", league.0);
    let shown = browser.wait_for_text(&card, "Зимняя лига").await.unwrap();
    let texts = [
        "идёт",
        "Засчитываются: комментарии, репосты.",
        "Баллы, начисленные менеджером вручную, тоже засчитываются.",
        "Призы: #1 — 500 баллов",
    ];
    for needle in texts {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
    let rows = "return [...document.querySelectorAll('#season .season-board li')]
                  .map((li) => [li.classList.contains('me'), li.querySelector('.place').textContent,
                                li.querySelector('.score').textContent]);";
    let rows = browser.execute(rows, vec![]).await.unwrap();
    let expected = json!([[true, "#1", "90"], [false, "#2", "80"], [false, "#3", "20"]]);
    assert_eq!(rows, expected);
    let place = browser.text("#season .season-mine").await.unwrap();
    assert_eq!(place.as_deref(), Some("Вы на 1-м месте: 90 баллов"));
    assert_eq!(browser.count("#season .season-final").await.unwrap(), 0);

    // The past season, opened in place: final standings and what Anna's rank won.
    let item = format!("#past-seasons li[data-season-id='{}']", flash.0);
    let won = "Вы заняли 2-е место и выиграли 100 баллов";
    let result = browser.wait_for_text(&item, won).await.unwrap();
    assert!(result.contains("Быстрая неделя"), "{result}");
    browser
        .click(&format!("{item} button.season-toggle"))
        .await
        .unwrap();
    let frozen = browser
        .wait_for_text(&format!("{item} .season-final"), "Итоговые места")
        .await
        .unwrap();
    assert!(frozen.contains("больше не меняются"), "{frozen}");
    let rows = format!(
        "return [...document.querySelectorAll(\"{item} .season-board li\")]
           .map((li) => [li.classList.contains('me'), li.querySelector('.place').textContent,
                         li.querySelector('.score').textContent,
                         (li.querySelector('.season-won') || {{}}).textContent || '']);"
    );
    let rows = browser.execute(&rows, vec![]).await.unwrap();
    let expected = json!([
        [false, "#1", "80", "+300"],
        [true, "#2", "50", "+100"],
        [false, "#3", "20", "+100"]
    ]);
    assert_eq!(rows, expected);
    let names = browser
        .text(&format!("{item} .season-board li:first-child .name"))
        .await
        .unwrap();
    assert_eq!(names.as_deref(), Some("Борис"));
    let mine = browser.text(&format!("{item} .season-mine")).await.unwrap();
    assert_eq!(mine.as_deref(), Some(won));
    browser.screenshot("mini-app-seasons").await.unwrap();
    browser.quit().await;
}
