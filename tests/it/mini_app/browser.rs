//! The Mini App in a real headless Chromium.

use crate::browser::Browser;
use crate::harness::TestServer;
use crate::harness::encode;
use crate::harness::mini_app::{ANNA, MiniApp, XSS, anna, init_data, init_data_signed, user};
use chrono::Utc;
use sqlx::PgPool;

/// The page as Telegram opens it: initData in the URL's hash.
fn page_url(server: &TestServer, init_data: &str) -> String {
    server.url(&format!(
        "/app#tgWebAppData={}&tgWebAppVersion=8.0&tgWebAppPlatform=web",
        encode(init_data)
    ))
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_shows_balance_rank_and_redeems_a_reward(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 150).await;
    m.rival(5_000_000_099, "Борис Петров", 300).await;
    m.rival(5_000_000_098, "Ольга", 40).await;
    m.list_reward("Капучино", 100, 10).await;
    m.list_reward("Фирменная кружка", 400, 3).await;
    m.app.codeword_campaign().await;
    m.drain().await;
    let server = m.app.serve().await;

    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser.wait_visible("#main").await.unwrap();
    assert_eq!(browser.text("#balance").await.unwrap().unwrap(), "150");
    assert_eq!(
        browser.text("#hello").await.unwrap().unwrap(),
        "Привет, Анна!"
    );
    assert_eq!(browser.text("#rank-all").await.unwrap().unwrap(), "#2");
    browser
        .wait_for("document.querySelectorAll('#history li').length >= 3")
        .await
        .unwrap();

    browser.click("#tabs button[data-tab=top]").await.unwrap();
    // Three members: all on the podium, Anna second.
    let mine = browser
        .wait_for_text("#podium li.me", "Анна")
        .await
        .unwrap();
    assert!(mine.contains("🥈") && mine.contains("150"), "{mine}");
    assert_eq!(browser.count("#podium li").await.unwrap(), 3);
    assert_eq!(browser.count("#tab-top li.me").await.unwrap(), 1);
    let podium = browser.text("#podium").await.unwrap().unwrap();
    let (boris, anna, olga) = (
        podium.find("Борис").unwrap(),
        podium.find("Анна").unwrap(),
        podium.find("Ольга").unwrap(),
    );
    assert!(
        anna < boris && boris < olga,
        "second, first, third: {podium}"
    );
    browser.screenshot("mini-app-leaderboard").await.unwrap();

    browser.click("#tabs button[data-tab=earn]").await.unwrap();
    browser
        .wait_for_text("#campaigns", "Secret word")
        .await
        .unwrap();

    browser
        .click("#tabs button[data-tab=rewards]")
        .await
        .unwrap();
    browser.wait_for_text("#rewards", "Капучино").await.unwrap();
    let cappuccino = "#rewards li:first-child";
    browser
        .click(&format!("{cappuccino} button.redeem"))
        .await
        .unwrap();
    browser.click("#sheet-yes").await.unwrap();
    let coupon = browser.wait_for_text("#coupon-code", "CPN-").await.unwrap();
    assert_eq!(coupon.len(), 13, "{coupon}");
    assert_eq!(browser.text("#balance").await.unwrap().unwrap(), "50");
    browser.click("#coupon-done").await.unwrap();
    browser.wait_for_text("#coupons", &coupon).await.unwrap();
    browser
        .wait_for_text(cappuccino, "в наличии: 9")
        .await
        .unwrap();
    assert_eq!(m.events_of_type("RewardRedeemed").await, 1);
    assert_eq!(m.app.t.balance(member).await, 50);

    browser
        .click("#tabs button[data-tab=accounts]")
        .await
        .unwrap();
    browser.click("#link-instagram").await.unwrap();
    let code = browser
        .wait_for_text("#link-code-value", "LINK-")
        .await
        .unwrap();
    let steps = browser.text("#link-steps").await.unwrap().unwrap();
    assert!(steps.contains(&code), "{steps}");
    browser.screenshot("mini-app-accounts").await.unwrap();
    browser.quit().await;
}

/// Points held for review are said beside the balance, not in it.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_says_which_points_await_review(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    super::history::anna_with_a_held_comment(&m).await;
    let server = m.app.serve().await;
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser.wait_visible("#awaiting").await.unwrap();
    assert_eq!(browser.text("#balance").await.unwrap().unwrap(), "10");
    assert_eq!(
        browser.text("#awaiting").await.unwrap().unwrap(),
        "Ещё 10 баллов ждут проверки и добавятся после одобрения"
    );
}

/// The tier card: the tier held, its multiplier, and the way to the next.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_shows_the_members_tier_and_the_way_to_the_next(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    crate::tiers::anna_on_silver(&m).await;
    let server = m.app.serve().await;
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser.wait_visible("#tier").await.unwrap();
    assert_eq!(browser.text("#tier-name").await.unwrap().unwrap(), "Silver");
    assert_eq!(
        browser.text("#tier-multiplier").await.unwrap().unwrap(),
        "баллы ×1,5"
    );
    assert_eq!(
        browser.text("#tier-next").await.unwrap().unwrap(),
        "До уровня «Gold» (×2) осталось 10 баллов"
    );
    browser.quit().await;
}

/// The balance card says how many points expire and when.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_says_when_the_members_points_expire(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    crate::expiry::anna_with_expiring_points(&m).await;
    let server = m.app.serve().await;
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser.wait_visible("#expiring").await.unwrap();
    let text = browser.text("#expiring").await.unwrap().unwrap();
    assert!(
        text.starts_with("40 баллов сгорят ") && text.ends_with(", если их не потратить"),
        "{text}"
    );
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_shows_an_error_for_forged_init_data(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let events = m.app.event_count().await;
    let server = m.app.serve().await;
    let forged = init_data_signed(
        &user(ANNA, "Анна", "anna_runs", "ru"),
        Utc::now().timestamp(),
        "1:forged",
    );
    browser.goto(&page_url(&server, &forged)).await.unwrap();
    browser.wait_visible("#error").await.unwrap();
    let text = browser.text("#error-text").await.unwrap().unwrap();
    assert!(text.contains("данные входа от Telegram неверны"), "{text}");
    let detail = browser.text("#error-detail").await.unwrap().unwrap();
    assert!(detail.contains("signature is invalid"), "{detail}");
    assert_eq!(browser.count("#main:not([hidden])").await.unwrap(), 0);
    browser.screenshot("mini-app-error").await.unwrap();
    assert_eq!(m.app.event_count().await, events);
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_renders_markup_in_names_as_text(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let mallory = init_data(&user(5_000_000_066, XSS, XSS, "en"));
    let member = m.sign_in(&mallory).await;
    m.give(member, 30).await;
    m.rival(5_000_000_067, "<b>Bold</b><script>alert(2)</script>", 60)
        .await;
    m.drain().await;
    let server = m.app.serve().await;

    browser.goto(&page_url(&server, &mallory)).await.unwrap();
    browser.wait_visible("#main").await.unwrap();
    assert_eq!(
        browser.text("#hello").await.unwrap().unwrap(),
        format!("Hi, {XSS}!")
    );
    browser.click("#tabs button[data-tab=top]").await.unwrap();
    let mine = browser
        .wait_for_text("#podium li.me", "<img")
        .await
        .unwrap();
    assert!(mine.contains("<img"), "{mine}");
    browser
        .wait_for_text("#podium", "<b>Bold</b><script>")
        .await
        .unwrap();
    browser.screenshot("mini-app-names-as-text").await.unwrap();
    browser
        .click("#tabs button[data-tab=accounts]")
        .await
        .unwrap();
    browser
        .wait_for_text("#accounts", &format!("@{XSS}"))
        .await
        .unwrap();
    // Text, not elements: no image, no bold, no script was created from the names.
    assert_eq!(browser.count("img").await.unwrap(), 0);
    assert_eq!(browser.count("b").await.unwrap(), 0);
    assert_eq!(browser.count("main script").await.unwrap(), 0);
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_offers_the_dev_sign_in_only_when_enabled(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let off = MiniApp::new(pool.clone()).await;
    let server = off.app.serve().await;
    browser.goto(&server.url("/app")).await.unwrap();
    browser.wait_visible("#error").await.unwrap();
    assert_eq!(browser.count("#dev:not([hidden])").await.unwrap(), 0);
    drop(server);

    let on = MiniApp::with_config(pool, |config| config.mini_app.dev_sign_in = true).await;
    let server = on.app.serve().await;
    browser.goto(&server.url("/app")).await.unwrap();
    browser.wait_visible("#dev-form").await.unwrap();
    browser
        .type_into("#dev-first-name", "Тестер")
        .await
        .unwrap();
    browser.screenshot("mini-app-dev-sign-in").await.unwrap();
    browser.click("#dev-submit").await.unwrap();
    browser.wait_visible("#main").await.unwrap();
    browser.wait_for_text("#hello", "Тестер").await.unwrap();
    browser.quit().await;
}

/// A program's own bot opens the app as `/app?bot=<id>`: the page names that bot to the
/// server, the `initData` it signed opens its program, and the same data without the bot's
/// id in the URL is refused (it is not the configured bot's).
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn browser_opened_by_a_program_bot_shows_that_programs_balance(pool: PgPool) {
    const TOKEN_B: &str = "7000000002:AAProgramBotB_ForTests_only-0042";
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool.clone()).await;
    let program_b = m.app.another_program().await;
    app::program_bots::save(
        &pool,
        m.state.secrets(),
        program_b,
        7_000_000_002,
        "brand_b_bot",
        TOKEN_B,
        "test",
    )
    .await
    .unwrap();
    let anna_b = init_data_signed(
        &user(ANNA, "Анна", "anna_runs", "ru"),
        Utc::now().timestamp(),
        TOKEN_B,
    );
    let server = m.app.serve().await;
    let opened_by = |bot: &str| {
        server.url(&format!(
            "/app{bot}#tgWebAppData={}&tgWebAppVersion=8.0&tgWebAppPlatform=web",
            encode(&anna_b)
        ))
    };
    browser.goto(&opened_by("?bot=7000000002")).await.unwrap();
    browser.wait_visible("#main").await.unwrap();
    assert_eq!(browser.text("#balance").await.unwrap().unwrap(), "0");
    let in_b = bot::members::telegram_member(&m.app.t.ledger, m.state.accounts(), program_b, ANNA)
        .await
        .unwrap();
    assert!(in_b.is_some(), "the first visit registered Anna in B");
    let in_a = bot::members::telegram_member(
        &m.app.t.ledger,
        m.state.accounts(),
        m.app.t.program_id(),
        ANNA,
    )
    .await
    .unwrap();
    assert!(in_a.is_none(), "and not in the configured bot's program");

    browser.goto(&opened_by("")).await.unwrap();
    browser.wait_visible("#error").await.unwrap();
    let detail = browser.text("#error-detail").await.unwrap().unwrap();
    assert!(detail.contains("signature is invalid"), "{detail}");
    browser.quit().await;
}
