//! The panel in a real headless Chromium.

use super::anna_from_instagram;
use crate::harness::admin::{AdminClient, PASSWORD};
use api::admin::{Role, create_user};
use domain::network::{ExternalIdentity, Network};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::browser::Browser;
use crate::harness::TestServer;
use domain::network::{ActivityKind, ActivityRef};
use domain::points::PointsDelta;
use domain::reward::RewardCommand;

/// The panel served on a loopback port with projection workers, and an admin account.
async fn serve(panel: &AdminClient) -> TestServer {
    create_user(&panel.app.pool, "test", "admin", PASSWORD, Role::Admin)
        .await
        .unwrap();
    panel.app.serve().await
}

async fn sign_in(browser: &Browser, server: &TestServer, password: &str) {
    browser.goto(&server.url("/admin")).await.unwrap();
    browser.type_into("#username", "admin").await.unwrap();
    browser.type_into("#password", password).await.unwrap();
    browser.click("#login-submit").await.unwrap();
}

/// Serves the panel, signs the admin in at `width` pixels wide and waits for the menu.
pub(super) async fn signed_in_at(browser: &Browser, panel: &AdminClient, width: u32) -> TestServer {
    let server = serve(panel).await;
    browser.set_window_size(width, 900).await.unwrap();
    sign_in(browser, &server, PASSWORD).await;
    browser.wait_visible("#nav").await.unwrap();
    server
}

/// A panel holding [`seed`]'s fortnight, its read models caught up, the admin signed in at
/// `width` pixels.
async fn seeded_at(browser: &Browser, pool: PgPool, width: u32) -> (AdminClient, TestServer) {
    let panel = AdminClient::new(pool).await;
    seed(&panel).await;
    panel.drain().await;
    let server = signed_in_at(browser, &panel, width).await;
    (panel, server)
}

/// Waits until the panel finished rendering `hash`.
async fn open(browser: &Browser, hash: &str) {
    let target = serde_json::to_string(hash).unwrap();
    browser
        .execute(&format!("location.hash = {target};"), vec![])
        .await
        .unwrap();
    browser
        .wait_for(&format!("document.body.dataset.ready === {target}"))
        .await
        .unwrap();
}

/// A fortnight of activity for the screenshots: awards dated on each of the last 14 days,
/// a campaign and a reward.
async fn seed(panel: &AdminClient) {
    let ledger = &panel.app.t.ledger;
    let program = &panel.app.t.program;
    let now = chrono::Utc::now();
    for m in 0..6u32 {
        let member = panel.app.t.member().await;
        let network = Network::ALL[m as usize % 3];
        let identity = ExternalIdentity::new(network, "", format!("70000{m}"));
        let account = panel.app.account(&identity).await;
        let method = domain::event::LinkMethod::Code;
        let metadata = store::Metadata::default();
        ledger
            .link_account(
                program.program_id,
                member,
                account,
                method,
                metadata,
                now.into(),
            )
            .await
            .unwrap();
        let profile = app::ingest::profiles::Profile {
            program_id: panel.program(),
            account: account.account,
            username: Some(
                ["maria.k", "petr_v", "sveta", "oleg.fit", "nina", "dmitry"][m as usize].into(),
            ),
            display_name: Some(
                ["Мария", "Пётр", "Света", "Олег", "Нина", "Дмитрий"][m as usize].into(),
            ),
            language_code: None,
        };
        app::ingest::profiles::upsert_profile(&panel.app.pool, &profile)
            .await
            .unwrap();
        // Oldest first, so each day is the newest when folded and counts its active members.
        for day in (0..14i64).rev() {
            if (day + i64::from(m)) % 3 == 0 {
                continue;
            }
            let at = domain::Timestamp::new(
                now - chrono::Duration::days(day) - chrono::Duration::minutes(i64::from(m)),
            );
            let kind = [
                ActivityKind::Comment,
                ActivityKind::Reaction,
                ActivityKind::Repost,
            ][(day % 3) as usize];
            let activity = ActivityRef {
                network,
                kind,
                reference: format!("seed-{m}-{day}"),
            };
            let metadata = store::Metadata::default();
            ledger
                .award_activity(program, member, activity, None, at, metadata, at)
                .await
                .unwrap();
        }
    }
    let member = panel.app.t.member().await;
    let delta = PointsDelta::new(120).unwrap();
    ledger
        .adjust_points(
            program.program_id,
            member,
            delta,
            "Photo contest: 1st place",
            None,
            &crate::helpers::manager(),
        )
        .await
        .unwrap();
    panel.app.codeword_campaign().await;
    for (title, cost, stock) in [("Branded mug", 300, 20), ("Coffee", 100, 50)] {
        let reward_id = domain::ids::RewardId(Uuid::new_v4());
        let action = crate::helpers::manager();
        let (by, at) = (action.manager.clone(), action.at);
        ledger
            .reward_command(program.program_id, reward_id, &action, || {
                RewardCommand::List {
                    reward_id,
                    program_id: program.program_id,
                    title: title.to_string(),
                    cost: domain::points::Points::new(cost).unwrap(),
                    stock,
                    terms: Default::default(),
                    by: by.clone(),
                    at,
                }
            })
            .await
            .unwrap();
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_finds_an_instagram_member_adds_50_points_and_sees_the_audit_entry(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let anna = anna_from_instagram(&panel, "anna.runs").await;
    seed(&panel).await;
    let server = serve(&panel).await;
    browser.set_window_size(1280, 900).await.unwrap();

    // A wrong password is refused and signs nobody in.
    sign_in(&browser, &server, "not the password").await;
    let refused = browser
        .wait_for_text("#login-error", "Wrong username or password")
        .await
        .unwrap();
    assert!(!refused.is_empty());
    browser.screenshot("admin-login").await.unwrap();
    assert_eq!(panel.count("SELECT count(*) FROM admin_sessions").await, 0);

    sign_in(&browser, &server, PASSWORD).await;
    browser.wait_visible("#nav").await.unwrap();
    browser
        .wait_for("document.body.dataset.ready === '#/dashboard'")
        .await
        .unwrap();
    browser.wait_visible("svg.chart").await.unwrap();
    browser.screenshot("admin-dashboard").await.unwrap();

    open(&browser, "#/members").await;
    browser
        .type_into("#member-search", "anna.runs")
        .await
        .unwrap();
    browser.click("#member-filter-apply").await.unwrap();
    browser
        .wait_for_text("#member-results", "@anna.runs")
        .await
        .unwrap();
    assert_eq!(browser.count(".member-row").await.unwrap(), 1);
    browser.click("a.member-link").await.unwrap();
    browser
        .wait_for_text("#member-balance", "10")
        .await
        .unwrap();
    // Titled by name and handle; the id is there, but not as the title.
    let title = browser.text("#member-title").await.unwrap().unwrap();
    // The webhook gave a username only, so it is the name, shown once.
    assert!(title.starts_with("@anna.runs"), "{title}");
    assert_eq!(title.matches("anna.runs").count(), 1, "{title}");
    assert!(!title.contains(&anna.to_string()), "{title}");
    assert_eq!(
        browser.text("#member-id").await.unwrap().unwrap(),
        anna.to_string()
    );
    let profile = browser
        .execute(
            "return document.querySelector('.profile-link').getAttribute('href');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(profile, "https://www.instagram.com/anna.runs/");

    browser.type_into("#adjust-points", "50").await.unwrap();
    browser
        .type_into("#adjust-reason", "Photo contest winner")
        .await
        .unwrap();
    browser
        .type_into("#adjust-note", "Congratulations on the contest!")
        .await
        .unwrap();
    browser.click("#adjust-submit").await.unwrap();
    browser
        .wait_for_text("#member-balance", "60")
        .await
        .unwrap();
    let row = browser
        .wait_for_text(".history-row", "Photo contest winner")
        .await
        .unwrap();
    assert!(row.contains("Congratulations on the contest!"), "{row}");
    browser.screenshot("admin-member-card").await.unwrap();
    assert_eq!(panel.app.t.balance(anna).await, 60);

    // The audit log is a read model: let the server's workers catch up, then look.
    panel.drain().await;
    open(&browser, "#/audit-log").await;
    let row = browser
        .wait_for_text(".audit-row", "Photo contest winner")
        .await
        .unwrap();
    assert!(row.contains("manager:admin"), "{row}");
    let account = browser
        .wait_for_text(".account-change-row", "created")
        .await
        .unwrap();
    assert!(
        account.contains("admin") && account.contains("test"),
        "{account}"
    );
    browser.screenshot("admin-audit-log").await.unwrap();

    for (hash, name) in [
        ("#/campaigns", "admin-campaigns"),
        ("#/rewards", "admin-rewards"),
        ("#/leaderboards", "admin-leaderboards"),
        ("#/rules", "admin-rules"),
        ("#/auditor", "admin-auditor"),
        ("#/users", "admin-users"),
    ] {
        open(&browser, hash).await;
        assert_eq!(browser.count("#view-error").await.unwrap(), 0, "{hash}");
        if hash == "#/leaderboards" {
            // The seeded fortnight left past weeks to browse; picking one shows its board.
            let weeks = browser
                .count("#board-period optgroup:first-of-type option")
                .await
                .unwrap();
            assert!(weeks >= 2, "{weeks} past weeks");
            let past = browser
                .execute(
                    "const o = document.querySelector('#board-period optgroup option'); \
                     return [o.value, o.textContent];",
                    vec![],
                )
                .await
                .unwrap();
            let key = past[0].as_str().unwrap().to_string();
            assert!(past[1].as_str().unwrap().starts_with("Week "), "{past}");
            browser
                .execute(
                    &format!(
                        "const s = document.getElementById('board-period'); s.value = '{key}'; \
                         s.dispatchEvent(new Event('change'));"
                    ),
                    vec![],
                )
                .await
                .unwrap();
            rendered(&browser).await;
            assert!(browser.count(".board-row").await.unwrap() >= 1);
            let csv = browser
                .execute(
                    "return document.getElementById('board-csv').getAttribute('href');",
                    vec![],
                )
                .await
                .unwrap();
            assert!(
                csv.as_str().unwrap().contains(&format!("period={key}")),
                "{csv}"
            );
        }
        if hash == "#/rules" {
            // The program's channels, and destinations of no program, under the rules.
            assert_eq!(browser.count("#channels .channel-row").await.unwrap(), 4);
            assert_eq!(browser.count("#unrouted").await.unwrap(), 1);
            // An admin connects a VK group with the form: the secret and confirmation fields
            // show for VK, the channel is listed, and the change is recorded under it.
            browser
                .type_into("#channel-destination", "club229870555")
                .await
                .unwrap();
            browser
                .type_into("#channel-secret", "PanelSecret1")
                .await
                .unwrap();
            browser
                .type_into("#channel-confirmation", "abc123")
                .await
                .unwrap();
            browser.click("#channel-submit").await.unwrap();
            browser
                .wait_for("document.querySelectorAll('#channels .channel-row').length === 5")
                .await
                .unwrap();
            let change = browser
                .wait_for_text("#channels .channel-change-row", "229870555")
                .await
                .unwrap();
            assert!(change.contains("manager:admin"), "{change}");
            assert!(
                !browser
                    .text("#channels")
                    .await
                    .unwrap()
                    .unwrap()
                    .contains("PanelSecret1")
            );
            browser.screenshot("admin-channels").await.unwrap();
        }
        if hash == "#/auditor" {
            browser.click("#verify-run").await.unwrap();
            browser
                .wait_for_text("#verify-verdict", "Clean")
                .await
                .unwrap();
            // A balance changed behind the projection's back is shown in words, by model
            // and kind, never in Rust's debug notation; then put back.
            let tamper = "UPDATE balances SET current = current + $1 WHERE member_id = $2";
            for delta in [1_000_i64, -1_000] {
                sqlx::query(tamper)
                    .bind(delta)
                    .bind(anna.0)
                    .execute(&panel.app.pool)
                    .await
                    .unwrap();
                if delta > 0 {
                    browser.click("#verify-run").await.unwrap();
                    browser
                        .wait_for_text("#verify-verdict", "1 differences")
                        .await
                        .unwrap();
                    let found = browser
                        .text("#verify-result")
                        .await
                        .unwrap()
                        .unwrap_or_default();
                    assert!(found.contains("Balances"), "{found}");
                    assert!(found.contains("values differ"), "{found}");
                    assert!(!found.contains("Some("), "{found}");
                }
            }
        }
        if hash == "#/users" {
            // A manager limited to this program, created from the page.
            browser.type_into("#user-name", "vera").await.unwrap();
            browser.type_into("#user-password", PASSWORD).await.unwrap();
            let program = panel.program().to_string();
            browser
                .execute(
                    "document.getElementById('user-program').value = arguments[0];",
                    vec![json!(program)],
                )
                .await
                .unwrap();
            browser.click("#user-submit").await.unwrap();
            let table = browser.wait_for_text("tbody", "vera").await.unwrap();
            assert!(table.contains("veramanagerBrand"), "{table}");
            let rows: Vec<(String, Option<Vec<Uuid>>)> =
                sqlx::query_as("SELECT username, programs FROM admin_users ORDER BY username")
                    .fetch_all(&panel.app.pool)
                    .await
                    .unwrap();
            assert!(
                rows.contains(&("vera".into(), Some(vec![panel.program()]))),
                "{rows:?}"
            );
            // Lifting the limit from the row's program selector.
            browser
                .execute(
                    "const s = document.querySelector('tr.user-row:nth-child(2) .user-scope'); \
                     s.value = ''; s.dispatchEvent(new Event('change'));",
                    vec![],
                )
                .await
                .unwrap();
            browser
                .wait_for_text("tbody", "veramanagerAll programs")
                .await
                .unwrap();
            let vera: Option<Vec<Uuid>> =
                sqlx::query_scalar("SELECT programs FROM admin_users WHERE username = 'vera'")
                    .fetch_one(&panel.app.pool)
                    .await
                    .unwrap();
            assert_eq!(vera, None);
        }
        browser.screenshot(name).await.unwrap();
    }
    // Russian is complete: switch and look at the member card again.
    browser.click("#lang-switch").await.unwrap();
    open(&browser, &format!("#/members/{anna}")).await;
    browser
        .wait_for_text("h2", "Привязанные аккаунты")
        .await
        .unwrap();
    browser.screenshot("admin-member-card-ru").await.unwrap();
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_username_with_a_script_tag_renders_as_text(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let evil = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">";
    let anna = anna_from_instagram(&panel, evil).await;
    let _server = signed_in_at(&browser, &panel, 1280).await;

    open(&browser, "#/members?q=script").await;
    let shown = browser
        .wait_for_text("#member-results", "<script>")
        .await
        .unwrap();
    assert!(shown.contains(evil), "{shown}");
    open(&browser, &format!("#/members/{anna}")).await;
    browser
        .wait_for_text(".account-row", "<script>")
        .await
        .unwrap();
    open(&browser, "#/leaderboards").await;
    browser
        .wait_for_text(".board-row", "<script>")
        .await
        .unwrap();
    let injected = browser
        .execute("return [document.querySelectorAll('#view script, #view img').length, window.__xss === undefined];", vec![])
        .await
        .unwrap();
    assert_eq!(
        injected,
        json!([0, true]),
        "markup from a username must never become elements"
    );
    browser.quit().await;
}

/// Waits until the panel finished rendering whatever the hash now is (after a click).
async fn rendered(browser: &Browser) {
    browser
        .wait_for("document.body.dataset.ready === location.hash")
        .await
        .unwrap();
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_members_list_sorts_filters_and_exports_in_russian_at_1440_and_768(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    seed(&panel).await;
    panel.drain().await;
    let server = serve(&panel).await;
    let by_balance: Vec<serde_json::Value> = {
        let reader = as_admin(&panel).await;
        let page = reader
            .get(&reader.path("/members?sort=balance"))
            .await
            .json();
        page["members"].as_array().unwrap().clone()
    };
    assert_eq!(
        by_balance.len(),
        7,
        "six named members and one without accounts"
    );
    let richest = by_balance[0]["name"].as_str().unwrap().to_string();
    let poorest = by_balance[6]["name"]
        .as_str()
        .unwrap_or("Участник без имени")
        .to_string();

    browser.set_window_size(1440, 900).await.unwrap();
    sign_in(&browser, &server, PASSWORD).await;
    browser.wait_visible("#nav").await.unwrap();
    browser.click("#lang-switch").await.unwrap();
    for (width, shot) in [(1440, "admin-members-ru"), (768, "admin-members-ru-768")] {
        browser.set_window_size(width, 900).await.unwrap();
        open(&browser, "#/members").await;
        assert_eq!(browser.count(".member-row").await.unwrap(), 7);
        let unnamed = browser
            .wait_for_text("#member-list", "Участник без имени")
            .await
            .unwrap();
        assert!(unnamed.contains("Последняя активность"), "{unnamed}");

        // Largest balance first, then smallest first.
        browser
            .click("a.sort-link[data-sort=balance]")
            .await
            .unwrap();
        rendered(&browser).await;
        let first = browser.text(".member-row").await.unwrap().unwrap();
        assert!(first.starts_with(&richest), "{first} (expected {richest})");
        let header = browser
            .text("th[aria-sort=descending]")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(header, "Баланс ▼");
        browser
            .click("a.sort-link[data-sort=balance]")
            .await
            .unwrap();
        rendered(&browser).await;
        let first = browser.text(".member-row").await.unwrap().unwrap();
        assert!(first.starts_with(&poorest), "{first} (expected {poorest})");

        // Only VK members, and the CSV link carries the same filter.
        browser
            .execute(
                "document.getElementById('filter-network').value = 'vk';",
                vec![],
            )
            .await
            .unwrap();
        browser.click("#member-filter-apply").await.unwrap();
        rendered(&browser).await;
        let vk_rows = browser.count(".member-row").await.unwrap();
        assert_eq!(vk_rows, 2, "members 1 and 4 have VK accounts");
        let rows = browser.text("#member-list tbody").await.unwrap().unwrap();
        assert!(!rows.contains("Instagram"), "{rows}");
        let csv = browser
            .execute(
                "return document.getElementById('members-csv').getAttribute('href');",
                vec![],
            )
            .await
            .unwrap();
        let csv = csv.as_str().unwrap();
        assert!(
            csv.contains("/members.csv?") && csv.contains("network=vk") && csv.contains("lang=ru"),
            "{csv}"
        );
        let overflow = browser
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "no page-wide scroll at {width}: {overflow}"
        );
        open(&browser, "#/members?sort=balance").await;
        browser.screenshot(shot).await.unwrap();
    }
    browser.quit().await;
}

/// The catalog and campaign pages are read models: once the projections caught up, renders
/// `hash` afresh (setting the hash a page already has renders nothing, so leave and come back).
pub(super) async fn reopen(browser: &Browser, panel: &AdminClient, hash: &str) {
    panel.drain().await;
    open(browser, "#/dashboard").await;
    open(browser, hash).await;
}

/// Sets the input `id` to `value` as typing would, so the form's checks and preview follow.
pub(super) async fn type_value(browser: &Browser, id: &str, value: &str) {
    let script = format!(
        "const input = document.getElementById('{id}'); input.value = '{value}';
         input.dispatchEvent(new Event('input', {{ bubbles: true }}));"
    );
    browser.execute(&script, vec![]).await.unwrap();
}

/// Saves the Rules form, confirms, and waits until the history lists `version`.
pub(super) async fn save_rules(browser: &Browser, version: u32) {
    browser.click("#rules-save").await.unwrap();
    browser.click("#confirm-yes").await.unwrap();
    browser
        .wait_for_text("#rules-history", &format!("Version {version}"))
        .await
        .unwrap();
}

/// The API as the browser's admin sees it, to compare the page with.
pub(super) async fn as_admin(panel: &AdminClient) -> AdminClient {
    let mut reader = AdminClient::on(panel.app.clone());
    reader.login("admin", PASSWORD).await;
    reader
}

/// Waits (up to 10 s) until the log holds one event of `event_type`.
pub(super) async fn recorded(panel: &AdminClient, event_type: &str) {
    for _ in 0..200 {
        if panel.app.events_of_type(event_type).await == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {event_type} was recorded");
}

/// Ending a campaign, delisting a reward, blocking a member and a big adjustment each say what
/// will happen and wait for a yes; "cancel" changes nothing. Block is not beside Apply.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn hard_to_undo_actions_ask_first_and_say_what_will_happen(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let anna = anna_from_instagram(&panel, "anna.runs").await;
    seed(&panel).await;
    let _server = signed_in_at(&browser, &panel, 1440).await;

    open(&browser, &format!("#/members/{anna}")).await;
    assert_eq!(
        browser.count("#adjust-form #block-button").await.unwrap(),
        0
    );
    assert_eq!(
        browser
            .count("#member-status-card #block-button")
            .await
            .unwrap(),
        1
    );
    let help = browser.text("#adjust-form").await.unwrap().unwrap();
    assert!(
        help.contains("seen only by managers and auditors"),
        "{help}"
    );
    assert!(help.contains("shown to them in the app"), "{help}");

    // 5,000 points is over the 1,000 threshold: asked twice, and "cancel" records nothing.
    browser.type_into("#adjust-points", "5000").await.unwrap();
    browser
        .type_into("#adjust-reason", "Grand prize")
        .await
        .unwrap();
    browser.click("#adjust-submit").await.unwrap();
    let asked = browser
        .wait_for_text("#confirm-consequence", "+5,000 points is more than 1,000")
        .await
        .unwrap();
    assert!(
        asked.contains("can only be undone by a reversal"),
        "{asked}"
    );
    browser.screenshot("admin-confirm-large").await.unwrap();
    browser.click("#confirm-no").await.unwrap();
    browser
        .wait_for("document.getElementById('confirm-dialog') === null")
        .await
        .unwrap();
    assert_eq!(
        panel.app.t.balance(anna).await,
        10,
        "cancel changes nothing"
    );
    browser.click("#adjust-submit").await.unwrap();
    browser.wait_visible("#confirm-yes").await.unwrap();
    browser.click("#confirm-yes").await.unwrap();
    browser
        .wait_for_text("#member-balance", "5,010")
        .await
        .unwrap();
    assert_eq!(panel.app.t.balance(anna).await, 5_010);

    // Reversing the comment's award says what it adds; the award is then struck through with
    // who reversed it and why.
    browser
        .execute(
            "const all = document.querySelectorAll('.reverse-button'); all[all.length - 1].click();",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for_text("#reason-consequence", "A compensating entry of -10 points")
        .await
        .unwrap();
    browser
        .type_into("#reason-input", "Spam comment")
        .await
        .unwrap();
    browser.click("#reason-confirm").await.unwrap();
    let struck = browser
        .wait_for_text("tr.reversed", "Reversed by manager:admin")
        .await
        .unwrap();
    assert!(struck.contains(": Spam comment"), "{struck}");
    assert_eq!(browser.count("tr.reversed").await.unwrap(), 1);
    assert_eq!(panel.app.t.balance(anna).await, 5_000);
    let decoration = browser
        .execute(
            "return getComputedStyle(document.querySelector('tr.reversed td')).textDecorationLine;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(decoration, "line-through");
    browser
        .execute(
            "document.querySelector('tr.reversed').scrollIntoView({ block: 'center' });",
            vec![],
        )
        .await
        .unwrap();
    browser.screenshot("admin-member-reversed").await.unwrap();

    // Blocking names the member and says what stops.
    browser.click("#block-button").await.unwrap();
    let consequence = browser
        .wait_for_text("#reason-consequence", "will earn no points")
        .await
        .unwrap();
    assert!(consequence.starts_with("@anna.runs"), "{consequence}");
    browser
        .type_into("#reason-input", "Bought likes")
        .await
        .unwrap();
    browser.click("#reason-confirm").await.unwrap();
    browser
        .wait_for_text("#member-status", "blocked")
        .await
        .unwrap();

    // Ending a campaign: cancel keeps it running, yes ends it.
    open(&browser, "#/campaigns").await;
    browser.click("button[data-action=end]").await.unwrap();
    let ending = browser
        .wait_for_text("#confirm-consequence", "СЕКРЕТ")
        .await
        .unwrap();
    assert!(ending.contains("cannot be resumed"), "{ending}");
    browser.click("#confirm-no").await.unwrap();
    browser
        .wait_for("document.getElementById('confirm-dialog') === null")
        .await
        .unwrap();
    assert_eq!(panel.app.events_of_type("CampaignEnded").await, 0);
    browser.click("button[data-action=end]").await.unwrap();
    browser.wait_visible("#confirm-yes").await.unwrap();
    browser.click("#confirm-yes").await.unwrap();
    recorded(&panel, "CampaignEnded").await;
    reopen(&browser, &panel, "#/campaigns").await;
    browser.wait_for_text("table", "ended").await.unwrap();

    // Delisting a reward says issued coupons stay valid.
    open(&browser, "#/rewards").await;
    browser.click("button[data-action=delist]").await.unwrap();
    let delisting = browser
        .wait_for_text("#confirm-consequence", "Coupons already issued stay valid")
        .await
        .unwrap();
    assert!(!delisting.is_empty());
    browser.click("#confirm-yes").await.unwrap();
    recorded(&panel, "RewardDelisted").await;
    reopen(&browser, &panel, "#/rewards").await;
    browser.wait_for_text("table", "delisted").await.unwrap();
    browser.quit().await;
}

/// The dashboard: 7, 30 or 90 days; each chart's legend totals its networks over the period
/// (the tile and the chart agree); networks differ by line pattern as well as colour; dates in
/// the panel's language.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_dashboard_totals_each_period_and_writes_dates_in_the_panels_language(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let (panel, _server) = seeded_at(&browser, pool, 1440).await;
    let number = |text: String| -> i64 {
        text.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    };

    // Signed in, the panel opens on the dashboard (30 days); setting the same hash again would
    // race that first render.
    browser
        .wait_for("document.body.dataset.ready === '#/dashboard'")
        .await
        .unwrap();
    browser.wait_visible("#stat-awarded").await.unwrap();
    let month = number(browser.text("#stat-awarded").await.unwrap().unwrap());
    browser
        .click("#dashboard-period a[data-days='7']")
        .await
        .unwrap();
    rendered(&browser).await;
    let week = number(browser.text("#stat-awarded").await.unwrap().unwrap());
    assert!(
        0 < week && week < month,
        "7 days {week} against 30 days {month}"
    );
    let legend_all = browser
        .execute(
            "return document.querySelector('.legend .legend-item strong').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(number(legend_all.as_str().unwrap().to_string()), week);
    let dashes = browser
        .execute(
            "const lines = document.querySelector('svg.chart').querySelectorAll('polyline.series'); \
             return new Set([...lines].map((l) => l.getAttribute('stroke-dasharray'))).size;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(dashes, 4, "one pattern per line");

    // The week's best members, as the week's leaderboard ranks them.
    let reader = as_admin(&panel).await;
    let board = reader
        .get(&reader.path("/leaderboards?period=week&limit=5"))
        .await
        .json();
    let leaders = board["entries"].as_array().unwrap().len() as u64;
    assert!(leaders > 0, "{board}");
    assert_eq!(browser.count(".top-week-row").await.unwrap(), leaders);
    let first = browser.text(".top-week-row").await.unwrap().unwrap();
    let username = board["entries"][0]["label"]["username"].as_str().unwrap();
    assert!(first.contains(username), "{first} (expected @{username})");

    // Counts read as bars: one a day of the week for the active and the new members.
    assert_eq!(browser.count("svg.chart rect.bar").await.unwrap(), 14);
    // The seed's adjustment is older than a week; one made now is counted (live, no reload).
    assert_eq!(
        browser.text("#stat-adjustments").await.unwrap().unwrap(),
        "0"
    );
    let newcomer = panel.app.t.member().await;
    let bonus = reader.adjust(newcomer, json!(15), "Welcome").await;
    assert_eq!(bonus.status, axum::http::StatusCode::OK, "{}", bonus.body);
    browser
        .wait_for_text("#stat-adjustments", "1")
        .await
        .unwrap();
    let coupons = browser.text("#period-totals").await.unwrap().unwrap();
    assert!(coupons.contains("Coupons issued"), "{coupons}");

    // A custom period: the seed's first week only.
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (
        today - chrono::Duration::days(13),
        today - chrono::Duration::days(7),
    );
    browser
        .execute(
            "document.getElementById('dash-from').value = arguments[0]; \
             document.getElementById('dash-to').value = arguments[1]; \
             document.querySelector('#dashboard-custom button').click();",
            vec![json!(from.to_string()), json!(to.to_string())],
        )
        .await
        .unwrap();
    let custom = format!("#/dashboard?from={from}&to={to}");
    browser
        .wait_for(&format!(
            "document.body.dataset.ready === {}",
            json!(custom)
        ))
        .await
        .unwrap();
    let earlier = number(browser.text("#stat-awarded").await.unwrap().unwrap());
    assert!(
        0 < earlier && earlier + week <= month,
        "days 13..7 ago {earlier}, the last 7 {week}, 30 days {month}"
    );
    let same = reader
        .get(&reader.path(&format!("/dashboard?from={from}&to={to}")))
        .await
        .json();
    assert_eq!(
        browser.text("#stat-adjustments").await.unwrap().unwrap(),
        same["totals"]["adjustments"].to_string(),
        "the page shows the period's count"
    );

    browser.click("#lang-switch").await.unwrap();
    open(&browser, "#/dashboard?days=30").await;
    let axis = browser.text("svg.chart").await.unwrap().unwrap();
    assert!(axis.contains("дек.") || axis.contains("нояб."), "{axis}");
    browser.screenshot("admin-dashboard-ru").await.unwrap();
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_manager_links_telegram_on_the_account_page_and_signs_in_with_it(pool: PgPool) {
    use crate::harness::admin::login_widget_fields;
    use crate::harness::mini_app::BOT_TOKEN;
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let app = crate::harness::TestApp::with_config(pool, |config, _| {
        config.telegram.bot_token = BOT_TOKEN.to_string().into();
    })
    .await;
    let panel = AdminClient::on(std::sync::Arc::new(app));
    let _server = signed_in_at(&browser, &panel, 768).await;
    let fields = || login_widget_fields(77, "admin_tg", chrono::Utc::now().timestamp(), BOT_TOKEN);

    browser.click("#whoami").await.unwrap();
    browser
        .wait_for("document.body.dataset.ready === '#/account'")
        .await
        .unwrap();
    let before = browser.text("#account-telegram").await.unwrap().unwrap();
    assert!(before.contains("password only"), "{before}");
    // Telegram's popup is not reachable here: the page is handed the fields it would return.
    browser
        .execute(
            "Manage.linkTelegram(document.getElementById('telegram-link'), arguments[0]);",
            vec![fields()],
        )
        .await
        .unwrap();
    browser
        .wait_for_text("#account-telegram", "@admin_tg")
        .await
        .unwrap();
    browser.click("#lang-switch").await.unwrap();
    browser
        .wait_for_text("#account-telegram", "Привязан")
        .await
        .unwrap();
    browser.screenshot("admin-account-ru").await.unwrap();

    browser.click("#logout").await.unwrap();
    browser.wait_visible("#telegram-submit").await.unwrap();
    let mut forged = fields();
    forged["id"] = json!(78);
    browser
        .execute("LoginPage.telegram(arguments[0]);", vec![forged])
        .await
        .unwrap();
    let refused = browser
        .wait_for_text("#login-error", "Telegram не подтвердил")
        .await
        .unwrap();
    assert!(refused.contains("Telegram"), "{refused}");
    browser
        .execute("LoginPage.telegram(arguments[0]);", vec![fields()])
        .await
        .unwrap();
    browser.wait_visible("#nav").await.unwrap();
    let whoami = browser.wait_for_text("#whoami", "admin").await.unwrap();
    assert!(whoami.starts_with("admin"), "{whoami}");
    browser.quit().await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_dashboard_and_a_member_card_follow_new_activity_without_a_reload(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let member = panel.app.t.member().await;
    let _server = signed_in_at(&browser, &panel, 1440).await;
    let manager = as_admin(&panel).await;
    let first = manager.adjust(member, json!(30), "Welcome bonus").await;
    assert_eq!(first.status, axum::http::StatusCode::OK, "{}", first.body);
    panel.drain().await;
    browser
        .wait_for("document.body.dataset.ready === '#/dashboard'")
        .await
        .unwrap();
    browser
        .wait_for("document.body.dataset.live === 'on'")
        .await
        .unwrap();
    let badge = browser.text("#live").await.unwrap().unwrap();
    assert!(
        badge.contains("Live") || badge.contains("реальном"),
        "{badge}"
    );
    // A reload would lose this mark.
    browser
        .execute("window.notReloaded = true;", vec![])
        .await
        .unwrap();

    open(&browser, &format!("#/members/{member}")).await;
    let balance = browser.text("#member-balance").await.unwrap().unwrap();
    assert!(balance.contains("30"), "{balance}");
    let second = manager.adjust(member, json!(45), "Contest prize").await;
    assert_eq!(second.status, axum::http::StatusCode::OK, "{}", second.body);
    browser
        .wait_for_text("#member-balance", "75")
        .await
        .unwrap();

    open(&browser, "#/dashboard?days=7").await;
    let before = browser.text("#stat-outstanding").await.unwrap().unwrap();
    let third = manager.adjust(member, json!(25), "Survey").await;
    assert_eq!(third.status, axum::http::StatusCode::OK, "{}", third.body);
    browser
        .wait_for_text("#stat-outstanding", "100")
        .await
        .unwrap();
    assert!(before.contains("75"), "{before}");
    let stayed = browser
        .execute("return window.notReloaded === true && Number(document.body.dataset.liveRefreshes) >= 2;", vec![])
        .await
        .unwrap();
    assert_eq!(stayed, true, "updated in place, twice");

    // A form being filled in is not replaced: the header offers the news instead.
    open(&browser, &format!("#/members/{member}")).await;
    browser.type_into("#adjust-points", "5").await.unwrap();
    let fourth = manager.adjust(member, json!(10), "Late entry").await;
    assert_eq!(fourth.status, axum::http::StatusCode::OK, "{}", fourth.body);
    browser
        .wait_for("document.getElementById('live').classList.contains('waiting')")
        .await
        .unwrap();
    let typed = browser
        .execute(
            "return document.getElementById('adjust-points').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(typed, "5", "the manager's input stays");
    browser.click("#live").await.unwrap();
    browser
        .wait_for_text("#member-balance", "110")
        .await
        .unwrap();
    browser.quit().await;
}

/// The rules are a form at 768 pixels: a wrong field says why next to it and nothing is sent;
/// the panel says in words what a change does, asks, records a new version, and the history
/// shows who changed what.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn rules_are_a_form_that_says_what_changes_and_keeps_every_version(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 768).await;
    open(&browser, "#/rules").await;
    let shown = browser.text("#view").await.unwrap().unwrap();
    assert!(
        !shown.is_empty() && browser.count("#view-error").await.unwrap() == 0,
        "{shown}"
    );
    let comment = browser
        .execute(
            "return document.getElementById('rule-vk-comment').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(comment, "10", "the standard rules");
    assert_eq!(
        browser.text("#rules-preview").await.unwrap().unwrap(),
        "Nothing changes."
    );

    browser.type_into("#rules-daily_cap", "x").await.unwrap();
    let error = browser
        .text("#rules-daily_cap-error")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(error, "A whole number, please.");
    browser.click("#rules-save").await.unwrap();
    assert_eq!(
        browser.count("#confirm-dialog").await.unwrap(),
        0,
        "nothing to confirm"
    );
    browser
        .execute(
            "const cap = document.getElementById('rules-daily_cap'); cap.value = '';
             cap.dispatchEvent(new Event('input', { bubbles: true }));
             const vk = document.getElementById('rule-vk-comment'); vk.value = '15';
             vk.dispatchEvent(new Event('input', { bubbles: true }));
             const reaction = document.getElementById('rule-instagram-reaction'); reaction.value = '';
             reaction.dispatchEvent(new Event('input', { bubbles: true }));
             const relink = document.getElementById('rules-relink_cooldown_days'); relink.value = '14';
             relink.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![],
        )
        .await
        .unwrap();
    let preview = browser.text("#rules-preview").await.unwrap().unwrap();
    for expected in [
        "A comment on VK will earn 15 points instead of 10 from now on.",
        "A reaction on Instagram will no longer earn points (it earned 2).",
        "Daily cap: none instead of 500.",
        "An account given up is closed to other members for: 14",
    ] {
        assert!(preview.contains(expected), "{preview} lacks {expected}");
    }
    browser.click("#rules-save").await.unwrap();
    let asked = browser
        .wait_for_text("#confirm-consequence", "15 points instead of 10")
        .await
        .unwrap();
    assert!(asked.contains("Daily cap"), "{asked}");
    browser.click("#confirm-yes").await.unwrap();
    browser
        .wait_for_text("#rules-history", "Version 2")
        .await
        .unwrap();

    let reader = as_admin(&panel).await;
    let rules = reader.get(&reader.path("/rules")).await.json();
    assert_eq!(rules["version"], 2);
    assert_eq!(rules["rules"]["daily_cap"], serde_json::Value::Null);
    assert_eq!(rules["rules"]["relink_cooldown_days"], 14);
    let vk_comment = rules["rules"]["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["network"] == "vk" && r["kind"] == "comment")
        .unwrap()
        .clone();
    assert_eq!(
        (
            vk_comment["points"].clone(),
            vk_comment["cooldown_seconds"].clone()
        ),
        (json!(15), json!(60))
    );
    let history = browser.text("#rules-history").await.unwrap().unwrap();
    assert!(history.contains("manager:admin"), "{history}");
    assert!(history.contains("15 points instead of 10"), "{history}");
    assert!(
        history.contains("The rules the program started with."),
        "{history}"
    );

    browser.click("#lang-switch").await.unwrap();
    browser
        .wait_for_text("#rules-history", "Версия 2")
        .await
        .unwrap();
    let russian = browser.text("#rules-history").await.unwrap().unwrap();
    assert!(
        russian.contains("Комментарий (ВКонтакте) с этого момента приносит 15 баллов вместо 10."),
        "{russian}"
    );
    browser.screenshot("admin-rules-ru").await.unwrap();
    browser.quit().await;
}

/// The member card suggests the member with the same handle on Instagram; linking it asks for a
/// reason, says what happens, and the card then lists both accounts with the points.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_manager_links_the_same_person_from_the_card_at_768(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let observed = anna_from_instagram(&panel, "anna.runs").await;
    let anna = super::member_links::telegram_member(&panel, "5550001", "anna.runs").await;
    panel.drain().await;
    let _server = signed_in_at(&browser, &panel, 768).await;
    open(&browser, &format!("#/members/{anna}")).await;
    assert_eq!(browser.count("tr.account-row").await.unwrap(), 1);
    let suggested = browser.text("#same-person-card").await.unwrap().unwrap();
    assert!(suggested.contains("@anna.runs"), "{suggested}");
    browser
        .click("#same-person-card .link-account")
        .await
        .unwrap();
    let consequence = browser.text("#reason-consequence").await.unwrap().unwrap();
    assert!(consequence.contains("points move here"), "{consequence}");
    browser
        .type_into("#reason-input", "same handle")
        .await
        .unwrap();
    browser.click("#reason-confirm").await.unwrap();
    browser
        .wait_for("document.querySelectorAll('tr.account-row').length === 2")
        .await
        .unwrap();
    let reader = as_admin(&panel).await;
    let moved = reader.card(observed).await;
    assert_eq!(moved["balance"], 0, "{moved}");
    browser.click("#lang-switch").await.unwrap();
    browser
        .wait_for_text("#same-person-card", "Тот же человек")
        .await
        .unwrap();
    browser
        .screenshot("admin-member-same-person-ru")
        .await
        .unwrap();
    browser.quit().await;
}

/// Every page of the panel, in Russian, at 1440 and 768 pixels wide: each shows what the
/// program holds (not only that it loads), none shows an error, and none is wider than the
/// window. The Russian screenshots at 1440 are the ones in docs/screenshots.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn every_page_shows_the_programs_data_in_russian_at_1440_and_768(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let (panel, _server) = seeded_at(&browser, pool, 1440).await;
    let reader = as_admin(&panel).await;
    let campaigns = reader.get(&reader.path("/campaigns")).await.json();
    let campaign = campaigns["campaigns"][0]["campaign_id"]
        .as_str()
        .unwrap()
        .to_string();
    let rewards = reader.get(&reader.path("/rewards")).await.json();
    let reward = rewards["rewards"][0]["reward_id"]
        .as_str()
        .unwrap()
        .to_string();
    let reward_title = rewards["rewards"][0]["title"].as_str().unwrap().to_string();
    let list = reader
        .get(&reader.path("/members?sort=balance"))
        .await
        .json();
    let top = list["members"][0].clone();
    let (top_id, top_name) = (
        top["member_id"].as_str().unwrap().to_string(),
        top["name"].as_str().unwrap().to_string(),
    );
    let dashboard = reader.get(&reader.path("/dashboard?days=30")).await.json();
    let members = dashboard["members"].as_i64().unwrap().to_string();

    browser
        .wait_for("document.body.dataset.ready === '#/dashboard'")
        .await
        .unwrap();
    browser.click("#lang-switch").await.unwrap();
    // (page, what must be on it, screenshot name)
    let pages: Vec<(String, Vec<String>, &str)> = vec![
        (
            "#/dashboard?days=30".into(),
            vec!["Обзор".into(), members.clone()],
            "dashboard",
        ),
        (
            "#/members?sort=balance".into(),
            vec![top_name.clone()],
            "members",
        ),
        (
            format!("#/members/{top_id}"),
            vec![top_name.clone(), "История".into()],
            "member-card",
        ),
        (
            "#/campaigns".into(),
            vec!["Secret word".into(), "СЕКРЕТ".into()],
            "campaigns",
        ),
        (
            format!("#/campaigns/{campaign}"),
            vec!["СЕКРЕТ".into()],
            "campaign",
        ),
        ("#/rewards".into(), vec![reward_title.clone()], "rewards"),
        (
            format!("#/rewards/{reward}"),
            vec![reward_title.clone()],
            "reward",
        ),
        ("#/polls".into(), vec!["Опросы".into()], "polls"),
        (
            "#/bulk".into(),
            vec!["Массовые начисления".into(), "Загруженные файлы".into()],
            "bulk",
        ),
        (
            "#/leaderboards".into(),
            vec![top_name.clone()],
            "leaderboards",
        ),
        (
            "#/rules".into(),
            vec!["Дневной лимит".into(), "Прежние версии".into()],
            "rules",
        ),
        (
            "#/audit-log".into(),
            vec!["Photo contest: 1st place".into()],
            "audit-log",
        ),
        ("#/auditor".into(), vec!["Аудит".into()], "auditor"),
        ("#/users".into(), vec!["admin".into()], "users"),
        (
            "#/account".into(),
            vec!["admin".into(), "Вход через Telegram".into()],
            "account",
        ),
    ];
    for width in [1440u32, 768] {
        browser.set_window_size(width, 900).await.unwrap();
        for (hash, expected, name) in &pages {
            reopen(&browser, &panel, hash).await;
            let shown = browser.text("#view").await.unwrap().unwrap();
            assert_eq!(
                browser.count("#view-error").await.unwrap(),
                0,
                "{hash} at {width}: {shown}"
            );
            for needle in expected {
                assert!(
                    shown.contains(needle.as_str()),
                    "{hash} at {width} lacks {needle:?}: {shown}"
                );
            }
            // What sticks out past the window's right edge, if anything.
            let wide = browser
                .execute(
                    "if (document.documentElement.scrollWidth <= window.innerWidth + 1) return [];
                     return [...document.querySelectorAll('#view *')]
                       .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
                       .slice(0, 5).map((e) => e.tagName + '.' + e.className + '#' + e.id);",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(wide, json!([]), "{hash} is wider than {width} px");
            if width == 1440 {
                browser
                    .screenshot(&format!("admin-{name}-ru"))
                    .await
                    .unwrap();
            }
        }
    }
    browser.quit().await;
}

/// The brand card on the Rules page: an admin types the name, colour and links (a wrong link is
/// refused with the field named), uploads a logo from a file, and sees it.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_admin_sets_the_mini_apps_brand_and_logo_on_the_rules_page(pool: PgPool) {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let panel = AdminClient::new(pool).await;
    let _server = signed_in_at(&browser, &panel, 1440).await;
    open(&browser, "#/rules").await;
    browser.wait_visible("#brand-form").await.unwrap();
    browser
        .type_into("#brand-name", "Кофейня «Зерно»")
        .await
        .unwrap();
    browser.type_into("#brand-color", "#1f6feb").await.unwrap();
    browser
        .type_into("#brand-telegram", "t.me/ab")
        .await
        .unwrap();
    browser.click("#brand-submit").await.unwrap();
    browser.wait_for_text("#toast", "telegram:").await.unwrap();
    let brand = app::brand::load(&panel.app.pool, panel.app.t.program_id())
        .await
        .unwrap();
    assert_eq!(brand.display_name, None, "a refused form changes nothing");

    browser
        .type_into("#brand-telegram", "@zerno_news")
        .await
        .unwrap();
    browser.click("#brand-submit").await.unwrap();
    browser
        .wait_for_text("#brand-changed", "manager:admin")
        .await
        .unwrap();
    assert_eq!(
        browser
            .execute(
                "return document.getElementById('brand-telegram').value;",
                vec![]
            )
            .await
            .unwrap(),
        json!("https://t.me/zerno_news"),
        "shown as stored"
    );

    let logo = std::env::temp_dir().join(format!("logo-{}.png", Uuid::new_v4()));
    std::fs::write(
        &logo,
        base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGOQz3+NFTEMLQkAoOReQWgyRl8AAAAASUVORK5CYII=",
        )
        .unwrap(),
    )
    .unwrap();
    browser
        .send_file("#brand-logo-file", logo.to_str().unwrap())
        .await
        .unwrap();
    browser
        .wait_for("(document.querySelector('#brand-logo') || {}).naturalWidth === 8")
        .await
        .unwrap();
    std::fs::remove_file(&logo).unwrap();
    let brand = app::brand::load(&panel.app.pool, panel.app.t.program_id())
        .await
        .unwrap();
    assert_eq!(brand.display_name.as_deref(), Some("Кофейня «Зерно»"));
    assert_eq!(brand.accent_color.as_deref(), Some("#1f6feb"));
    assert!(brand.logo_hash.is_some());
    browser.screenshot("admin-brand").await.unwrap();
    browser.quit().await;
}
