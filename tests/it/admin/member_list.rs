//! The members list: sorting, every filter, keyset pages that neither skip nor repeat a member,
//! and the CSV export a Russian Excel opens.

use crate::harness::admin::AdminClient;
use crate::harness::encode;
use api::admin::Role;
use axum::http::{Method, StatusCode, header};
use domain::event::LinkMethod;
use domain::ids::MemberId;
use domain::network::{ExternalIdentity, Network};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::BTreeMap;

/// A member with points, accounts on `networks` (named `<name>` on each) and a profile.
async fn member(panel: &AdminClient, name: &str, points: i64, networks: &[Network]) -> MemberId {
    let t = &panel.app.t;
    // Registered now (not at the helpers' fixed time), so join dates follow creation.
    let member = MemberId(uuid::Uuid::new_v4());
    t.ledger
        .register_member(t.program_id(), member, chrono::Utc::now().into())
        .await
        .unwrap();
    for network in networks {
        let identity = ExternalIdentity::new(*network, "", format!("{name}-{network}"));
        let account = panel.app.account(&identity).await;
        t.ledger
            .link_account(
                t.program.program_id,
                member,
                account,
                LinkMethod::Code,
                store::Metadata::default(),
                chrono::Utc::now().into(),
            )
            .await
            .unwrap();
        let profile = app::ingest::profiles::Profile {
            program_id: panel.program(),
            account: account.account,
            username: Some(format!("{name}_{network}")),
            display_name: Some(name.to_string()),
            language_code: None,
        };
        app::ingest::profiles::upsert_profile(&panel.app.pool, &profile)
            .await
            .unwrap();
    }
    if points != 0 {
        let reply = panel.adjust(member, json!(points), "seed").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    member
}

async fn list(panel: &AdminClient, query: &str) -> Value {
    let reply = panel.get(&panel.path(&format!("/members?{query}"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
    reply.json()
}

/// The names of a page, in order.
fn names(page: &Value) -> Vec<String> {
    page["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Five members: Vera (telegram+vk, 500), Gleb (vk, 300, blocked), Olga (instagram, 120),
/// Ivan (telegram, 40, last active 40 days ago), Nina (telegram, 0).
async fn seed(panel: &AdminClient) -> BTreeMap<&'static str, MemberId> {
    use Network::*;
    let mut members = BTreeMap::new();
    members.insert("Vera", member(panel, "Vera", 500, &[Telegram, Vk]).await);
    members.insert("Gleb", member(panel, "Gleb", 300, &[Vk]).await);
    members.insert("Olga", member(panel, "Olga", 120, &[Instagram]).await);
    members.insert("Ivan", member(panel, "Ivan", 40, &[Telegram]).await);
    members.insert("Nina", member(panel, "Nina", 0, &[Telegram]).await);
    let blocked = panel
        .change(
            Method::POST,
            &panel.path(&format!("/members/{}/block", members["Gleb"])),
            Some(json!({ "reason": "bought followers" })),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.body);
    panel.drain().await;
    // The log stamps each event with its commit time, so a member quiet for 40 days is made
    // by ageing their read-model row.
    sqlx::query("UPDATE balances SET updated_at = now() - interval '40 days' WHERE member_id = $1")
        .bind(members["Ivan"].0)
        .execute(&panel.app.pool)
        .await
        .unwrap();
    members
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_list_sorts_and_filters_by_every_field(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let members = seed(&panel).await;

    let by_balance = list(&panel, "sort=balance").await;
    assert_eq!(names(&by_balance), ["Vera", "Gleb", "Olga", "Ivan", "Nina"]);
    assert_eq!(by_balance["next"], Value::Null);
    let vera = &by_balance["members"][0];
    assert_eq!(vera["member_id"], members["Vera"].to_string());
    assert_eq!(vera["balance"], 500);
    assert_eq!(vera["earned"], 500);
    let vera_networks: Vec<&str> = vera["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["network"].as_str().unwrap())
        .collect();
    assert_eq!(vera_networks, ["telegram", "vk"]);
    assert_eq!(vera["accounts"][0]["username"], "Vera_telegram");
    assert!(vera["joined_at"].is_string(), "{vera}");
    assert_eq!(
        names(&list(&panel, "sort=balance&order=asc").await),
        ["Nina", "Ivan", "Olga", "Gleb", "Vera"]
    );
    // Newest change first: Ivan's is 40 days old.
    assert_eq!(names(&list(&panel, "").await).last().unwrap(), "Ivan");
    assert_eq!(
        names(&list(&panel, "sort=joined&order=asc").await),
        ["Vera", "Gleb", "Olga", "Ivan", "Nina"],
        "registered in that order"
    );

    let filtered = |query: &'static str| {
        let panel = &panel;
        async move { names(&list(panel, &format!("sort=balance&{query}")).await) }
    };
    assert_eq!(filtered("network=telegram").await, ["Vera", "Ivan", "Nina"]);
    assert_eq!(filtered("network=vk").await, ["Vera", "Gleb"]);
    assert_eq!(filtered("linked=true").await, ["Vera"]);
    assert_eq!(
        filtered("linked=false").await,
        ["Gleb", "Olga", "Ivan", "Nina"]
    );
    assert_eq!(filtered("blocked=true").await, ["Gleb"]);
    assert_eq!(
        filtered("blocked=false").await,
        ["Vera", "Olga", "Ivan", "Nina"]
    );
    assert_eq!(
        filtered("active_days=30").await,
        ["Vera", "Gleb", "Olga", "Nina"]
    );
    assert_eq!(
        filtered("min_balance=40&max_balance=300").await,
        ["Gleb", "Olga", "Ivan"]
    );
    assert_eq!(
        filtered("network=telegram&min_balance=1&active_days=30").await,
        ["Vera"]
    );
    assert_eq!(filtered("q=olga_inst").await, ["Olga"]);
    assert_eq!(filtered("q=%40VERA_vk").await, ["Vera"]);
    assert_eq!(
        filtered("q=Ivan-telegram").await,
        ["Ivan"],
        "by platform id"
    );
    assert_eq!(
        filtered("q=%25").await,
        Vec::<String>::new(),
        "LIKE wildcards are literal"
    );
    let by_id = list(&panel, &format!("q={}", members["Nina"])).await;
    assert_eq!(names(&by_id), ["Nina"]);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn pages_follow_each_other_without_skipping_or_repeating_ties(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    // Twelve members in four balance ties: the member id breaks each tie.
    let mut expected = Vec::new();
    for i in 0..12 {
        let m = member(&panel, &format!("m{i:02}"), 10 * (i % 4), &[Network::Vk]).await;
        expected.push(m.0);
    }
    panel.drain().await;
    for (sort, order) in [
        ("balance", "desc"),
        ("balance", "asc"),
        ("joined", "desc"),
        ("last_activity", "asc"),
        ("earned", "desc"),
    ] {
        let mut seen = Vec::new();
        let mut after = String::new();
        let mut pages = 0;
        loop {
            let page = list(
                &panel,
                &format!("sort={sort}&order={order}&limit=5&after={}", encode(&after)),
            )
            .await;
            pages += 1;
            for m in page["members"].as_array().unwrap() {
                seen.push(
                    m["member_id"]
                        .as_str()
                        .unwrap()
                        .parse::<uuid::Uuid>()
                        .unwrap(),
                );
            }
            match page["next"].as_str() {
                Some(next) => after = next.to_string(),
                None => break,
            }
        }
        assert_eq!(pages, 3, "{sort} {order}: 5 + 5 + 2");
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            12,
            "{sort} {order}: no member repeated or skipped"
        );
        let mut all = expected.clone();
        all.sort();
        assert_eq!(sorted, all, "{sort} {order}");
        if sort == "balance" {
            let whole = list(&panel, &format!("sort={sort}&order={order}&limit=12")).await;
            let at_once: Vec<uuid::Uuid> = whole["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["member_id"].as_str().unwrap().parse().unwrap())
                .collect();
            assert_eq!(seen, at_once, "pages in the order of one long page");
        }
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn wrong_list_parameters_are_refused_with_a_reason(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    for (query, says) in [
        ("network=myspace", "unknown network"),
        ("min_balance=10&max_balance=5", "above max_balance"),
        ("active_days=0", "active_days"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("after=garbage", "cursor"),
        ("sort=balance&after=1~not-a-member", "cursor"),
        (
            "sort=joined&after=9223372036854775807~00000000-0000-0000-0000-000000000000",
            "cursor",
        ),
    ] {
        let reply = panel.get(&panel.path(&format!("/members?{query}"))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(reply.body.contains(says), "{query}: {}", reply.body);
    }
    let reply = panel.get(&panel.path("/members?sort=rank")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_filtered_list_downloads_as_csv_for_russian_excel(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    seed(&panel).await;
    let csv = panel
        .get(&panel.path("/members.csv?sort=balance&network=telegram&lang=ru"))
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    // Named by the day in the program's zone (Moscow), not the server's.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Moscow)
        .date_naive();
    assert!(
        disposition.contains(&format!("-members-{today}.csv\"")),
        "an ASCII fallback name: {disposition}"
    );
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    assert!(csv.body.starts_with('\u{feff}'), "a byte order mark");
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "ID участника;Имя;Telegram;VK;Instagram;Баланс;Заработано всего;Уровень;Заблокирован;\
         Дата регистрации;Последняя активность"
    );
    assert_eq!(lines.len(), 4, "Vera, Ivan, Nina: {}", csv.body);
    let vera: Vec<&str> = lines[1].split(';').collect();
    assert_eq!(
        &vera[1..9],
        [
            "Vera",
            "Vera_telegram",
            "Vera_vk",
            "",
            "500",
            "500",
            "",
            "false"
        ]
    );
    assert!(lines[2].contains(";Ivan;"), "{}", lines[2]);

    // Every member, across export pages, with commas when asked.
    let all = panel.get(&panel.path("/members.csv?separator=comma")).await;
    let lines: Vec<&str> = all.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(
        lines[0].starts_with("member_id,name,telegram,vk,instagram,balance"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 6);
    let wrong = panel.get(&panel.path("/members.csv?separator=tab")).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
}
