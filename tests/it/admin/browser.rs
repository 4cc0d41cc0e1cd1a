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
    create_user(&panel.app.pool, "admin", PASSWORD, Role::Admin)
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
    browser
        .click("#member-search-form button[type=submit]")
        .await
        .unwrap();
    browser
        .wait_for_text("#member-results", "@anna.runs")
        .await
        .unwrap();
    browser.screenshot("admin-members").await.unwrap();
    browser.click("a.member-link").await.unwrap();
    browser
        .wait_for_text("#member-balance", "10")
        .await
        .unwrap();
    assert!(
        browser
            .text("h1")
            .await
            .unwrap()
            .unwrap()
            .contains(&anna.to_string())
    );

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
    let server = serve(&panel).await;
    browser.set_window_size(1280, 900).await.unwrap();
    sign_in(&browser, &server, PASSWORD).await;
    browser.wait_visible("#nav").await.unwrap();

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
