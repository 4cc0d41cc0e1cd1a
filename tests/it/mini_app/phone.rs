//! The Mini App as a member holds it: a phone-sized page (320, 390 and 430 CSS pixels, touch,
//! retina) in headless Chromium. Nothing sticks out sideways, a long reward title keeps its
//! width, the redeem sheet and the coupon work end to end, points arriving while the app is
//! open show without a reload, the brand shows, and inside Telegram the app uses Telegram's
//! own buttons and haptics (a recording stand-in for Telegram's WebApp object).

use crate::browser::Browser;
use crate::harness::encode;
use crate::harness::mini_app::{MiniApp, anna};
use crate::harness::{IG_BRAND, TestServer};
use app::brand::BrandRequest;
use base64::Engine;
use domain::ids::{MemberId, RedemptionId, RewardId};
use domain::network::{ExternalIdentity, Network};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::{Duration, Instant};

/// An 8×8 PNG in the brand's blue.
const LOGO_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGOQz3+NFTEMLQkAoOReQWgyRl8AAAAASUVORK5CYII=";
const MUG: &str = "Фирменная кружка с логотипом";

/// The page as Telegram opens it: initData in the URL's hash.
fn page_url(server: &TestServer, init_data: &str) -> String {
    server.url(&format!(
        "/app#tgWebAppData={}&tgWebAppVersion=8.0&tgWebAppPlatform=android",
        encode(init_data)
    ))
}

/// A phone's viewport: `width` CSS pixels, touch, twice as many device pixels.
async fn phone(browser: &Browser, width: u32, height: u32) {
    browser
        .cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 2, "mobile": true}),
        )
        .await
        .unwrap();
}

/// Fails naming the elements shown past the viewport's left or right edge.
async fn assert_fits(browser: &Browser, width: u32, screen: &str) {
    let wide = browser
        .execute(
            "const w = window.innerWidth;
             return [...document.querySelectorAll('#app *')]
               .filter((e) => e.getClientRects().length > 0)
               .filter((e) => { const r = e.getBoundingClientRect();
                                return r.width > 0 && (r.right > w + 1 || r.left < -1); })
               .slice(0, 5)
               .map((e) => e.tagName + '#' + e.id + '.' + e.className + ' ' +
                           Math.round(e.getBoundingClientRect().right));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        wide,
        json!([]),
        "{screen} at {width} px: elements past the edge"
    );
    let inner = browser
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap();
    assert_eq!(inner, json!(width), "the viewport is the phone's");
}

/// How many lines the first element matching `css` whose text starts with `text` takes.
async fn lines(browser: &Browser, css: &str, text: &str) -> i64 {
    browser
        .execute(
            "const e = [...document.querySelectorAll(arguments[0])]
               .find((n) => n.textContent.startsWith(arguments[1]));
             const height = e.getBoundingClientRect().height;
             return Math.round(height / parseFloat(getComputedStyle(e).lineHeight));",
            vec![json!(css), json!(text)],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap()
}

async fn open_tab(browser: &Browser, tab: &str) {
    browser
        .click(&format!("#tabs button[data-tab={tab}]"))
        .await
        .unwrap();
    browser.wait_visible(&format!("#tab-{tab}")).await.unwrap();
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn every_screen_fits_320_to_430_and_a_member_redeems_through_the_sheet(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 500).await;
    m.rival(5_000_000_099, "Борис Александрович Петров-Водкин", 900)
        .await;
    m.rival(5_000_000_098, "Ольга", 40).await;
    m.rival(5_000_000_097, "Ян", 20).await;
    let mug = m.list_reward(MUG, 200, 5).await;
    m.list_reward("Капучино", 100, 10).await;
    m.list_reward("Годовой абонемент", 5_000, 1).await;
    m.app.codeword_campaign().await;
    m.drain().await;
    let server = m.app.serve().await;

    let mut redeemed = 0;
    // The narrowest phone, a common one and the widest (Pro Max): 320 to 430 CSS pixels.
    for (width, height) in [(320, 640), (390, 844), (430, 932)] {
        phone(&browser, width, height).await;
        // A URL that differs only in its fragment would not load the page again.
        browser.goto("about:blank").await.unwrap();
        browser.goto(&page_url(&server, &anna())).await.unwrap();
        browser.wait_visible("#main").await.unwrap();
        browser.wait_visible("#next-reward").await.unwrap();
        assert_fits(&browser, width, "home").await;
        for tab in ["top", "earn", "accounts"] {
            open_tab(&browser, tab).await;
            browser
                .wait_for("document.querySelectorAll('main .tab:not([hidden]) li').length > 0")
                .await
                .unwrap();
            assert_fits(&browser, width, tab).await;
        }

        open_tab(&browser, "rewards").await;
        browser.wait_for_text("#rewards", MUG).await.unwrap();
        assert_fits(&browser, width, "rewards").await;
        if width == 320 {
            browser.screenshot("mini-app-rewards-320").await.unwrap();
        }
        let title_lines = lines(&browser, "#rewards .title", MUG).await;
        assert!(
            (1..=2).contains(&title_lines),
            "the reward's title takes {title_lines} lines at {width} px"
        );
        browser
            .click(&format!(
                "#rewards li[data-reward-id='{}'] button.redeem",
                mug.0
            ))
            .await
            .unwrap();
        browser.wait_visible("#sheet-confirm").await.unwrap();
        assert_fits(&browser, width, "redeem sheet").await;
        assert!(lines(&browser, "#sheet-title", MUG).await <= 2);
        let ask = browser.text("#sheet").await.unwrap().unwrap();
        assert!(ask.contains("200 баллов"), "{ask}");
        assert!(ask.contains("Обменять за 200 баллов"), "{ask}");
        if width == 320 {
            browser.screenshot("mini-app-redeem-320").await.unwrap();
        }
        browser.click("#sheet-yes").await.unwrap();
        let code = browser.wait_for_text("#coupon-code", "CPN-").await.unwrap();
        assert_eq!(code.len(), 13, "{code}");
        let qr = browser
            .execute(
                "const svg = document.querySelector('#coupon-qr svg');
                 return svg ? [svg.querySelector('path').getAttribute('d').length,
                               Math.round(svg.getBoundingClientRect().width)] : null;",
                vec![],
            )
            .await
            .unwrap();
        assert!(qr[0].as_i64().unwrap() > 100, "a QR code is drawn: {qr}");
        assert!(qr[1].as_i64().unwrap() >= 150, "large enough to scan: {qr}");
        let sheet = browser.text("#sheet-coupon").await.unwrap().unwrap();
        assert!(sheet.contains("Покажите этот код на кассе"), "{sheet}");
        assert_fits(&browser, width, "coupon").await;
        if width == 320 {
            browser.screenshot("mini-app-coupon-320").await.unwrap();
        }
        browser.click("#coupon-done").await.unwrap();
        browser
            .wait_for("document.getElementById('sheet').hidden")
            .await
            .unwrap();
        browser.wait_for_text("#coupons", &code).await.unwrap();
        let order = browser
            .execute(
                "return [...document.querySelectorAll('#coupons li')].map((li) =>
                   [li.textContent.includes(arguments[0]), li.classList.contains('cancelled')]);",
                vec![json!(code)],
            )
            .await
            .unwrap();
        redeemed += 1;
        match redeemed {
            1 => {
                assert_eq!(order, json!([[true, false]]));
                // A manager cancels the first coupon: on the next phones it shows below, as
                // cancelled.
                cancel_only_redemption(&m, member, mug).await;
            }
            2 => {
                assert_eq!(order, json!([[true, false], [false, true]]), "active first");
                browser.screenshot("mini-app-rewards").await.unwrap();
            }
            _ => assert_eq!(
                order,
                json!([[true, false], [false, false], [false, true]]),
                "the newest first, the cancelled one last"
            ),
        }
    }
    // 500 − 200 + 200 (the cancelled coupon's refund) − 200 − 200.
    assert_eq!(m.app.t.balance(member).await, 100);
    assert_eq!(m.events_of_type("RewardRedeemed").await, 3);
    browser.quit().await;
}

async fn cancel_only_redemption(m: &MiniApp, member: MemberId, reward: RewardId) {
    let id: uuid::Uuid = sqlx::query_scalar(
        "SELECT event_id FROM events WHERE event_type = 'RewardRedeemed' LIMIT 1",
    )
    .fetch_one(&m.state.pool)
    .await
    .unwrap();
    m.cancel_redemption(member, reward, id, "Гость передумал")
        .await;
    m.drain().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn points_earned_while_the_app_is_open_show_within_two_seconds(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 150).await;
    let instagram = ExternalIdentity::new(Network::Instagram, IG_BRAND, "2233445566778899");
    m.link_named(member, instagram, None).await;
    m.drain().await;
    let server = m.app.serve().await;
    phone(&browser, 390, 844).await;
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser.wait_visible("#main").await.unwrap();
    assert_eq!(browser.text("#balance").await.unwrap().unwrap(), "150");
    browser.wait_visible("#live").await.unwrap();
    // Set on this document only: still there afterwards means the page was not reloaded.
    browser
        .execute("window.sameDocument = true;", vec![])
        .await
        .unwrap();

    let reply = m
        .comment_on_instagram(
            "2233445566778899",
            "17900000000000001",
            "Лучший капучино в городе, спасибо!",
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let delivered = Instant::now();
    let expected = m.app.t.balance(member).await;
    assert!(expected > 150, "the comment earned points");
    browser
        .wait_for(&format!(
            "document.getElementById('balance').textContent === '{expected}'"
        ))
        .await
        .unwrap();
    let took = delivered.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "the new balance showed {took:?} after the delivery"
    );
    let same = browser
        .execute("return window.sameDocument === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!(true), "no reload");
    browser
        .wait_for_text("#history li:first-child", &format!("+{}", expected - 150))
        .await
        .unwrap();
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_new_member_sees_the_brand_a_welcome_and_only_ways_to_earn_that_work(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let program = m.app.t.program_id();
    let brand = app::brand::validate(&BrandRequest {
        display_name: Some("Кофейня «Зерно»".into()),
        accent_color: Some("#1f6feb".into()),
        vk: Some("vk.com/zerno_coffee".into()),
        telegram: Some("@zerno_news".into()),
        instagram: Some("@zerno.coffee".into()),
    })
    .unwrap();
    let pool = &m.state.pool;
    app::brand::save(pool, program, &brand, "manager:olga")
        .await
        .unwrap();
    let logo = base64::engine::general_purpose::STANDARD
        .decode(LOGO_PNG)
        .unwrap();
    app::brand::set_logo(pool, program, &logo, "manager:olga")
        .await
        .unwrap();
    let server = m.app.serve().await;
    phone(&browser, 390, 844).await;
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser.wait_visible("#main").await.unwrap();

    assert_eq!(
        browser.text("#brand-name").await.unwrap().unwrap(),
        "Кофейня «Зерно»"
    );
    browser
        .wait_for("document.querySelector('#brand-logo img').naturalWidth === 8")
        .await
        .unwrap();
    let card = browser
        .execute(
            "return getComputedStyle(document.querySelector('.balance-card')).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(card, json!("rgb(31, 111, 235)"), "the brand's colour");
    let links = browser
        .execute(
            "return [...document.querySelectorAll('#brand-links a')].map((a) => a.href);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        links,
        json!([
            "https://vk.com/zerno_coffee",
            "https://t.me/zerno_news",
            "https://www.instagram.com/zerno.coffee/"
        ])
    );
    let welcome = browser.text("#welcome").await.unwrap().unwrap();
    assert!(
        welcome.contains("Кофейня «Зерно»: добро пожаловать в бонусную программу!")
            && welcome.contains("Привяжите"),
        "{welcome}"
    );
    assert_fits(&browser, 390, "home with the brand").await;
    browser.screenshot("mini-app-home").await.unwrap();
    browser.click("#welcome-go").await.unwrap();
    browser.wait_visible("#tab-accounts").await.unwrap();

    open_tab(&browser, "earn").await;
    browser.wait_for_text("#ways", "ВКонтакте").await.unwrap();
    let ways: Value = browser
        .execute(
            "return [...document.querySelectorAll('#ways li')]
               .map((li) => li.dataset.network + ':' + li.dataset.kind);",
            vec![],
        )
        .await
        .unwrap();
    // Standard rules pay for all six kinds on every network; only what a platform reports
    // is offered: no Instagram likes, follows, reposts or polls. Mentions are offered where
    // members can name the brand: its Telegram and Instagram links give the handles.
    let mut ways: Vec<String> = serde_json::from_value(ways).unwrap();
    ways.sort();
    assert_eq!(
        ways,
        [
            "instagram:comment",
            "instagram:mention",
            "telegram:comment",
            "telegram:mention",
            "telegram:poll_vote",
            "telegram:reaction",
            "telegram:subscription",
            "vk:comment",
            "vk:mention",
            "vk:poll_vote",
            "vk:reaction",
            "vk:repost",
            "vk:subscription",
        ]
    );
    let earn = browser.text("#tab-earn").await.unwrap().unwrap();
    assert!(
        earn.contains("Напишите комментарий под любым постом группы ВКонтакте Кофейня «Зерно»."),
        "{earn}"
    );
    assert!(
        earn.contains("Упомяните @zerno_news в сообщении в чате"),
        "{earn}"
    );
    assert!(
        earn.contains("Сегодня можно заработать ещё 500 баллов из 500"),
        "{earn}"
    );
    assert_fits(&browser, 390, "ways to earn").await;
    browser.screenshot("mini-app-earn").await.unwrap();
    browser.quit().await;
}

/// What the page asked of Telegram, one `name arg…` line per call.
async fn telegram_calls(browser: &Browser) -> String {
    browser
        .execute("return window.__tg.calls.map((c) => c.join(' '));", vec![])
        .await
        .unwrap()
        .to_string()
}

/// Telegram's WebApp object as the page sees it inside Telegram, recording what the page asks
/// of it; `__tg.main()` and `__tg.back()` press the MainButton and the BackButton.
const FAKE_TELEGRAM: &str = r#"
(() => {
  const calls = [];
  const handlers = { main: [], back: [] };
  const hash = new URLSearchParams(location.hash.slice(1));
  const record = (name) => (...args) => { calls.push([name].concat(args)); };
  const main = { text: '', isVisible: false,
    setParams(p) { if ('text' in p) this.text = p.text; if ('is_visible' in p) this.isVisible = p.is_visible; },
    show() { this.isVisible = true; }, hide() { this.isVisible = false; },
    onClick(f) { handlers.main.push(f); }, offClick(f) { handlers.main = handlers.main.filter((g) => g !== f); },
    showProgress: record('showProgress'), hideProgress: record('hideProgress') };
  const back = { isVisible: false, show() { this.isVisible = true; }, hide() { this.isVisible = false; },
    onClick(f) { handlers.back.push(f); }, offClick(f) { handlers.back = handlers.back.filter((g) => g !== f); } };
  window.Telegram = { WebApp: {
    initData: hash.get('tgWebAppData') || '', version: '8.0', platform: 'android',
    themeParams: { bg_color: '#ffffff', text_color: '#000000', button_color: '#2481cc', button_text_color: '#ffffff' },
    isVersionAtLeast: (v) => parseFloat(v) <= 8.0,
    MainButton: main, BackButton: back,
    HapticFeedback: { notificationOccurred: record('haptic'), impactOccurred: record('impact') },
    disableVerticalSwipes: record('disableVerticalSwipes'), setHeaderColor: record('setHeaderColor'),
    setBackgroundColor: record('setBackgroundColor'), ready: record('ready'), expand: record('expand'),
    onEvent: record('onEvent'), openLink: record('openLink'), openTelegramLink: record('openTelegramLink'),
  } };
  window.__tg = { calls, main: () => handlers.main.forEach((f) => f()), back: () => handlers.back.forEach((f) => f()) };
})();
"#;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn inside_telegram_the_app_uses_telegrams_buttons_haptics_and_gestures(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 300).await;
    m.list_reward("Капучино", 100, 10).await;
    let last = m.list_reward("Последний круассан", 100, 1).await;
    m.drain().await;
    let server = m.app.serve().await;
    browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": FAKE_TELEGRAM }),
        )
        .await
        .unwrap();
    phone(&browser, 390, 844).await;
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser.wait_visible("#main").await.unwrap();
    let made = telegram_calls(&browser).await;
    for call in [
        "disableVerticalSwipes",
        "setHeaderColor bg_color",
        "ready",
        "expand",
    ] {
        assert!(made.contains(call), "{call} not in {made}");
    }
    let back_visible = "return window.Telegram.WebApp.BackButton.isVisible;";
    assert_eq!(
        browser.execute(back_visible, vec![]).await.unwrap(),
        json!(false)
    );

    open_tab(&browser, "rewards").await;
    assert_eq!(
        browser.execute(back_visible, vec![]).await.unwrap(),
        json!(true)
    );
    browser.wait_for_text("#rewards", "Капучино").await.unwrap();
    browser
        .click("#rewards li:first-child button.redeem")
        .await
        .unwrap();
    browser.wait_visible("#sheet-confirm").await.unwrap();
    let main = browser
        .execute(
            "const b = window.Telegram.WebApp.MainButton; return [b.isVisible, b.text];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(main, json!([true, "Обменять за 100 баллов"]));
    assert_eq!(
        browser.count("#sheet-yes:not([hidden])").await.unwrap(),
        0,
        "Telegram's MainButton replaces the page's own"
    );
    browser
        .execute("window.__tg.main();", vec![])
        .await
        .unwrap();
    browser.wait_for_text("#coupon-code", "CPN-").await.unwrap();
    assert!(telegram_calls(&browser).await.contains("haptic success"));
    let main_text = "return window.Telegram.WebApp.MainButton.text;";
    assert_eq!(
        browser.execute(main_text, vec![]).await.unwrap(),
        json!("Готово")
    );
    browser
        .execute("window.__tg.main();", vec![])
        .await
        .unwrap();
    browser
        .wait_for("document.getElementById('sheet').hidden && !window.Telegram.WebApp.MainButton.isVisible")
        .await
        .unwrap();

    // The last croissant goes to someone else while Anna's sheet is open: she is told, and
    // feels it.
    browser
        .wait_for_text("#rewards", "Последний круассан")
        .await
        .unwrap();
    browser
        .click(&format!(
            "#rewards li[data-reward-id='{}'] button.redeem",
            last.0
        ))
        .await
        .unwrap();
    browser.wait_visible("#sheet-confirm").await.unwrap();
    let rival = m.rival(5_000_000_099, "Борис", 500).await;
    m.app
        .t
        .ledger
        .redeem_reward(
            m.app.t.program_id(),
            rival,
            last,
            RedemptionId(uuid::Uuid::new_v4()),
            "CPN-BORI-S222",
            chrono::Utc::now().into(),
        )
        .await
        .unwrap();
    browser
        .execute("window.__tg.main();", vec![])
        .await
        .unwrap();
    let error = browser
        .wait_for_text("#sheet-error", "закончилась")
        .await
        .unwrap();
    assert_eq!(error, "Эта награда закончилась.");
    assert!(telegram_calls(&browser).await.contains("haptic error"));

    // Back closes the sheet, then leaves the inner tab for home, then hides itself.
    browser
        .execute("window.__tg.back();", vec![])
        .await
        .unwrap();
    browser
        .wait_for("document.getElementById('sheet').hidden")
        .await
        .unwrap();
    browser
        .execute("window.__tg.back();", vec![])
        .await
        .unwrap();
    browser.wait_visible("#tab-home").await.unwrap();
    assert_eq!(
        browser.execute(back_visible, vec![]).await.unwrap(),
        json!(false)
    );
    assert_eq!(m.app.t.balance(member).await, 200);
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_member_switches_language_and_erasing_their_data_does_not_sign_them_in_again(
    pool: PgPool,
) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 150).await;
    m.drain().await;
    let server = m.app.serve().await;
    phone(&browser, 390, 844).await;
    browser.goto(&page_url(&server, &anna())).await.unwrap();
    browser.wait_visible("#main").await.unwrap();
    browser.wait_visible("#live").await.unwrap();
    open_tab(&browser, "accounts").await;
    browser
        .click("#languages button[data-lang=en]")
        .await
        .unwrap();
    browser.wait_for_text("#hello", "Hi, Анна!").await.unwrap();
    browser
        .wait_for_text("#history", "From the brand's team")
        .await
        .unwrap();
    assert_eq!(
        browser
            .text("#tabs button[data-tab=rewards]")
            .await
            .unwrap()
            .unwrap(),
        "✦Rewards"
    );
    assert_eq!(browser.text("#live").await.unwrap().unwrap(), "live");

    browser.click("#data-erase").await.unwrap();
    browser.click("#erase-yes").await.unwrap();
    browser.wait_visible("#erased").await.unwrap();
    // The read models move after the erasure: an open page must not ask `me` again, which
    // would register Anna anew.
    m.rival(5_000_000_099, "Борис", 70).await;
    let registered = m.events_of_type("MemberRegistered").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(m.events_of_type("MemberRegistered").await, registered);
    assert_eq!(m.events_of_type("MemberErased").await, 1);
    assert_eq!(browser.count("#main:not([hidden])").await.unwrap(), 0);
    browser.quit().await;
}
