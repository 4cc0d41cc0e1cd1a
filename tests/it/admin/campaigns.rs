//! Campaigns, rewards, rules and the dashboard as the panel manages them.

use crate::harness::admin::AdminClient;
use api::admin::Role;
use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

/// A campaign whose codeword another campaign not ended holds on an overlapping window and
/// network is 409 `codeword_taken` (the panel words it from the code), and nothing changes.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_campaign_with_a_codeword_another_holds_is_409(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Manager).await;
    let now = chrono::Utc::now();
    let autumn = json!({
        "name": "Autumn", "codeword": "ОСЕНЬ", "points": 30,
        "starts_at": now - chrono::Duration::hours(1), "ends_at": now + chrono::Duration::days(7),
        "networks": ["instagram", "vk"],
    });
    let created = panel
        .change(Method::POST, &panel.path("/campaigns"), Some(autumn))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let campaign_id = created.json()["created_id"].as_str().unwrap().to_string();
    // The same codeword as matched (Latin look-alikes, other case) on an overlapping window
    // and network: one comment would pay both, so it is refused and nothing is recorded.
    let events = panel.app.event_count().await;
    let same_word = json!({
        "name": "Lookalike", "codeword": "oceнь", "points": 10,
        "starts_at": now + chrono::Duration::days(6), "ends_at": now + chrono::Duration::days(9),
        "networks": ["vk", "telegram"],
    });
    let taken = panel
        .change(Method::POST, &panel.path("/campaigns"), Some(same_word))
        .await;
    assert_eq!(
        (taken.status, taken.code().as_str()),
        (StatusCode::CONFLICT, "codeword_taken"),
        "{}",
        taken.body
    );
    assert!(
        taken.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&campaign_id)
    );
    assert_eq!(panel.app.event_count().await, events);
    // After its window, or on another network, the codeword is free.
    for (from, to, networks) in [(7, 9, json!(["vk"])), (0, 3, json!(["telegram"]))] {
        let apart = json!({
            "name": "Later", "codeword": "ОСЕНЬ", "points": 10,
            "starts_at": now + chrono::Duration::days(from),
            "ends_at": now + chrono::Duration::days(to), "networks": networks,
        });
        let answer = panel
            .change(Method::POST, &panel.path("/campaigns"), Some(apart))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    // Paused, it still holds the codeword (it may resume); ended, it does not.
    let pause = panel
        .change(
            Method::POST,
            &panel.path(&format!("/campaigns/{campaign_id}/pause")),
            None,
        )
        .await;
    assert_eq!(pause.json()["outcome"], "recorded");
    let again = json!({
        "name": "Again", "codeword": "осень", "points": 10,
        "starts_at": now, "ends_at": now + chrono::Duration::days(1), "networks": ["vk"],
    });
    let taken = panel
        .change(Method::POST, &panel.path("/campaigns"), Some(again.clone()))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    let end = panel
        .change(
            Method::POST,
            &panel.path(&format!("/campaigns/{campaign_id}/end")),
            None,
        )
        .await;
    assert_eq!(end.json()["outcome"], "recorded");
    let free = panel
        .change(Method::POST, &panel.path("/campaigns"), Some(again))
        .await;
    assert_eq!(free.status, StatusCode::OK, "{}", free.body);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn campaigns_rewards_rules_and_dashboard(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let now = chrono::Utc::now();
    let campaign = json!({
        "name": "Autumn", "codeword": "ОСЕНЬ", "points": 30,
        "starts_at": now - chrono::Duration::hours(1), "ends_at": now + chrono::Duration::days(7),
        "total_cap": 2, "networks": ["instagram", "vk"], "target_post": null,
    });
    let created = panel
        .change_keyed(
            Method::POST,
            &panel.path("/campaigns"),
            Some(campaign.clone()),
            "camp-1",
        )
        .await
        .json();
    let campaign_id = created["created_id"].as_str().unwrap().to_string();
    let twice = panel
        .change_keyed(
            Method::POST,
            &panel.path("/campaigns"),
            Some(campaign),
            "camp-1",
        )
        .await
        .json();
    assert_eq!(
        (twice["outcome"].as_str(), twice["created_id"].as_str()),
        (Some("duplicate"), Some(campaign_id.as_str()))
    );
    let pause = panel
        .change(
            Method::POST,
            &panel.path(&format!("/campaigns/{campaign_id}/pause")),
            None,
        )
        .await;
    assert_eq!(pause.json()["outcome"], "recorded");
    let bad_word = json!({ "name": "x", "codeword": "!!", "points": 5, "starts_at": now, "ends_at": now, "networks": ["vk"] });
    let refused = panel
        .change(Method::POST, &panel.path("/campaigns"), Some(bad_word))
        .await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_codeword")
    );

    let reward = panel
        .change(
            Method::POST,
            &panel.path("/rewards"),
            Some(json!({ "title": "Mug", "cost": 100, "stock": 3 })),
        )
        .await
        .json();
    let reward_id = reward["created_id"].as_str().unwrap().to_string();
    let stock = panel
        .change(
            Method::POST,
            &panel.path(&format!("/rewards/{reward_id}/stock")),
            Some(json!({ "delta": 2 })),
        )
        .await;
    assert_eq!(stock.json()["outcome"], "recorded");
    let zero = panel
        .change(
            Method::POST,
            &panel.path(&format!("/rewards/{reward_id}/stock")),
            Some(json!({ "delta": 0 })),
        )
        .await;
    assert_eq!(zero.status, StatusCode::UNPROCESSABLE_ENTITY);

    let rules = panel.get(&panel.path("/rules")).await.json();
    assert_eq!(rules["version"], 1);
    let mut changed = rules["rules"].clone();
    changed["daily_cap"] = json!(900);
    let put = panel
        .change(
            Method::PUT,
            &panel.path("/rules"),
            Some(json!({ "rules": changed })),
        )
        .await;
    assert_eq!(put.json()["outcome"], "recorded", "{}", put.body);
    let invalid =
        json!({ "rules": { "points": [], "daily_cap": -1, "daily_cap_per_network": null } });
    let refused = panel
        .change(Method::PUT, &panel.path("/rules"), Some(invalid))
        .await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_rules")
    );
    assert_eq!(panel.get(&panel.path("/rules")).await.json()["version"], 2);
    let history = panel.get(&panel.path("/rules/history")).await.json();
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{history}");
    assert_eq!(
        (versions[0]["version"].as_u64(), versions[0]["by"].as_str()),
        (Some(2), Some("manager:admin1")),
        "newest first, with who changed them"
    );
    assert_eq!(versions[0]["rules"]["daily_cap"], 900);
    assert_eq!(versions[1]["version"], 1);
    assert_eq!(versions[1]["rules"]["daily_cap"], 500);

    panel.drain().await;
    let campaigns = panel.get(&panel.path("/campaigns")).await.json();
    assert_eq!(campaigns["campaigns"][0]["status"], "paused");
    assert_eq!(campaigns["campaigns"][0]["remaining"], 2);
    let redemptions = panel
        .get(&panel.path(&format!("/campaigns/{campaign_id}/redemptions")))
        .await
        .json();
    assert_eq!(redemptions["redeemed"], json!([]));
    let rewards = panel.get(&panel.path("/rewards")).await.json();
    assert_eq!(
        (
            rewards["rewards"][0]["title"].as_str(),
            rewards["rewards"][0]["stock"].as_i64()
        ),
        (Some("Mug"), Some(5))
    );
    let dashboard = panel.get(&panel.path("/dashboard?days=7")).await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    let board = panel.get(&panel.path("/leaderboards?period=week")).await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    let log = panel.get(&panel.path("/audit-log")).await.json();
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "CampaignCreated",
        "CampaignPaused",
        "RewardListed",
        "RewardStockChanged",
        "RulesChanged",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

/// Past weeks and months keep their boards: the panel lists them, shows any of them overall
/// or per network, and downloads their final standings as CSV.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn past_weeks_and_months_are_browsable_and_export_their_standings(pool: PgPool) {
    use chrono::TimeZone;
    use domain::network::{ActivityKind, ActivityRef, Network};
    let panel = AdminClient::signed_in(pool, Role::Auditor).await;
    let t = &panel.app.t;
    let (anna, boris) = (t.member().await, t.member().await);
    // Tuesday 10 and Wednesday 11 November 2026, noon in Moscow: ISO week 46.
    for (member, day, reference) in [(anna, 10, "a1"), (boris, 10, "b1"), (boris, 11, "b2")] {
        let at = domain::Timestamp::new(
            chrono::Utc
                .with_ymd_and_hms(2026, 11, day, 9, 0, 0)
                .unwrap(),
        );
        let activity = ActivityRef {
            network: Network::Vk,
            kind: ActivityKind::Comment,
            reference: reference.into(),
        };
        t.ledger
            .award_activity(
                &t.program,
                member,
                activity,
                None,
                at,
                store::Metadata::default(),
                at,
            )
            .await
            .unwrap();
    }
    panel.drain().await;

    let periods = panel.get(&panel.path("/leaderboards/periods")).await.json();
    assert_eq!(
        periods,
        json!({ "weeks": ["w2026-46"], "months": ["m2026-11"] })
    );

    let week = panel
        .get(&panel.path("/leaderboards?period=w2026-46"))
        .await
        .json();
    assert_eq!(week["board_key"], "w2026-46");
    let ranked: Vec<(i64, String, i64)> = week["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let member = e["member_id"].as_str().unwrap().to_string();
            (
                e["rank"].as_i64().unwrap(),
                member,
                e["score"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ranked.len(), 2, "{week}");
    assert_eq!((ranked[0].0, ranked[0].1.clone()), (1, boris.to_string()));
    assert_eq!((ranked[1].0, ranked[1].1.clone()), (2, anna.to_string()));
    assert_eq!(ranked[0].2, 2 * ranked[1].2, "two comments against one");
    let vk = panel
        .get(&panel.path("/leaderboards?period=w2026-46&network=vk"))
        .await
        .json();
    assert_eq!(vk["board_key"], "w2026-46:vk");
    assert_eq!(vk["entries"].as_array().unwrap().len(), 2);
    let this_week = panel
        .get(&panel.path("/leaderboards?period=week"))
        .await
        .json();
    assert_eq!(this_week["entries"], json!([]), "nothing this week");

    for wrong in ["w2026-4", "all:vk", "m2026-13", "yesterday"] {
        let refused = panel
            .get(&panel.path(&format!("/leaderboards?period={wrong}")))
            .await;
        assert_eq!(refused.code(), "invalid_period", "{wrong}");
    }

    let csv = panel
        .get(&panel.path("/leaderboards.csv?period=m2026-11&lang=ru"))
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let disposition = csv.headers[axum::http::header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap();
    assert!(
        disposition.contains("-leaderboard-m2026-11-"),
        "{disposition}"
    );
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "Место;ID участника;Сеть;Имя пользователя;Имя;Баллы"
    );
    assert!(lines[1].starts_with(&format!("1;{boris};")), "{}", lines[1]);
    assert!(lines[2].starts_with(&format!("2;{anna};")), "{}", lines[2]);
    assert_eq!(lines.len(), 3);
}

/// The dashboard counts the period's manual adjustments (and their net points), the entries
/// managers reversed, codewords redeemed and coupons issued and cancelled; a custom period
/// that ended before them counts none, and a backwards period is refused.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_dashboard_counts_adjustments_reversals_codewords_and_coupons(pool: PgPool) {
    use domain::ids::{EntryId, RedemptionId, RewardId};
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let t = &panel.app.t;
    let (anna, boris) = (t.member().await, t.member().await);
    assert_eq!(
        panel.adjust(anna, json!(500), "Contest").await.status,
        StatusCode::OK
    );
    assert_eq!(
        panel.adjust(anna, json!(-20), "Duplicate").await.status,
        StatusCode::OK
    );
    let typo = panel.adjust(boris, json!(70), "Typo").await;
    assert_eq!(typo.status, StatusCode::OK, "{}", typo.body);
    panel.drain().await;
    let card = panel.card(boris).await;
    let entry = card["history"][0]["entry_id"].clone();
    let reversal = panel
        .change(
            Method::POST,
            &panel.path(&format!("/members/{boris}/reversals")),
            Some(json!({ "entry_id": entry, "reason": "typo" })),
        )
        .await;
    assert_eq!(reversal.json()["outcome"], "recorded", "{}", reversal.body);

    let campaign = panel.app.codeword_campaign().await;
    let now = domain::Timestamp::new(chrono::Utc::now());
    let redeem = domain::campaign::RedeemCodeword {
        entry_id: EntryId(uuid::Uuid::nil()),
        network: domain::network::Network::Vk,
        reference: "comment-1".into(),
        target: None,
        occurred_at: now,
        time_zone: chrono_tz::Europe::Moscow,
        review: Default::default(),
        at: now,
    };
    t.ledger
        .redeem_codeword(
            t.program_id(),
            campaign,
            anna,
            redeem,
            store::Metadata::default(),
        )
        .await
        .unwrap();
    let reward = panel
        .change(
            Method::POST,
            &panel.path("/rewards"),
            Some(json!({ "title": "Mug", "cost": 100, "stock": 5 })),
        )
        .await
        .json();
    let reward = RewardId(reward["created_id"].as_str().unwrap().parse().unwrap());
    let (first, second) = (
        RedemptionId(uuid::Uuid::new_v4()),
        RedemptionId(uuid::Uuid::new_v4()),
    );
    for (redemption, code) in [(first, "CPN-1"), (second, "CPN-2")] {
        t.ledger
            .redeem_reward(t.program_id(), anna, reward, redemption, code, now)
            .await
            .unwrap();
    }
    // The panel finds a coupon's member in the read model.
    panel.drain().await;
    let cancel = panel
        .change(
            Method::POST,
            &panel.path(&format!("/redemptions/{}/cancel", first.0)),
            Some(json!({ "reason": "out of mugs" })),
        )
        .await;
    assert_eq!(cancel.json()["outcome"], "recorded", "{}", cancel.body);
    panel.drain().await;

    let dashboard = panel.get(&panel.path("/dashboard?days=7")).await.json();
    assert_eq!(
        dashboard["totals"],
        json!({
            "adjustments": 3, "adjusted_points": 550, "manager_reversals": 1,
            "codewords": 1, "codeword_points": 50,
            "coupons_issued": 2, "points_spent": 200, "coupons_cancelled": 1,
        }),
        "{dashboard}"
    );
    let before = panel
        .get(&panel.path("/dashboard?from=2026-01-01&to=2026-01-31"))
        .await
        .json();
    assert_eq!(
        (before["from"].as_str(), before["to"].as_str()),
        (Some("2026-01-01"), Some("2026-01-31"))
    );
    assert_eq!(before["totals"]["adjustments"], 0);
    assert_eq!(before["totals"]["coupons_issued"], 0);
    for bad in [
        "from=2026-02-01&to=2026-01-01",
        "from=2025-01-01&to=2026-06-01",
        "from=2026-01-01",
    ] {
        let refused = panel.get(&panel.path(&format!("/dashboard?{bad}"))).await;
        assert_eq!(
            (refused.status, refused.code().as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_period"),
            "{bad}"
        );
    }
}
