//! Personal data: erasure leaves no platform id, username or name anywhere in the database while
//! balances and `audit verify` stay exactly right; export holds exactly one member's data; only
//! admins may do either; a member erases themselves from the Mini App or the bot; the same
//! account seen again is a new member.

use crate::bot::support::{ANNA, BotApp};
use crate::harness::admin::AdminClient;
use crate::harness::mini_app::{MiniApp, anna as anna_init_data};
use crate::harness::{IG_BRAND, TestApp, anna_tg, anna_vk, json_of};
use api::admin::Role;
use axum::http::{Method, StatusCode};
use domain::StreamId;
use domain::event::LinkMethod;
use domain::ids::MemberId;
use domain::member::MemberState;
use domain::network::{ActivityKind, ExternalIdentity, Network};
use serde_json::{Value, json};
use sqlx::PgPool;
use store::Metadata;

fn anna_ig() -> ExternalIdentity {
    ExternalIdentity::new(Network::Instagram, IG_BRAND, "1122334455667788")
}

/// Anna's platform ids, usernames and names as the fixtures give them.
const ANNA_DATA: [&str; 7] = [
    "715002001",
    "5000000001",
    "1122334455667788",
    "anna_runs",
    "anna.runs",
    "Анна",
    "Смирнова",
];

/// Anna earns on all three networks (a VK comment, a Telegram group message, an Instagram
/// comment), proves the VK and Instagram accounts are hers (their points move to her), and the
/// bot and notifier keep records of her chat. Returns her member.
async fn anna_everywhere(app: &TestApp) -> MemberId {
    app.vk_fixture("wall_reply_new.json").await;
    app.telegram_fixture("message_group.json").await;
    app.instagram_fixture("comment.json").await;
    let anna = app
        .member_of(&anna_tg())
        .await
        .expect("Anna's Telegram member");
    for identity in [anna_vk(), anna_ig()] {
        let account = app.account(&identity).await;
        app.t
            .ledger
            .link_account(
                app.t.program_id(),
                anna,
                account,
                LinkMethod::Code,
                Metadata::default(),
                chrono::Utc::now().into(),
            )
            .await
            .unwrap();
    }
    let update = json!({"update_id": 1, "message": {"from": {"id": 5000000001i64,
        "first_name": "Анна", "last_name": "Смирнова", "username": "anna_runs"}, "text": "/start"}});
    for sql in [
        "INSERT INTO bot_chats (user_id, language_code) VALUES (5000000001, 'ru')",
        "INSERT INTO notification_deliveries (key, chat_id, outcome) VALUES ('n1', 5000000001, 'delivered')",
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }
    bot::inbox::store(
        &app.pool,
        0,
        1,
        Some(5_000_000_001),
        update.to_string().as_bytes(),
    )
    .await
    .unwrap();
    app.drain().await;
    anna
}

/// Every place in the database (any column of any table, cast to text; raw bytes as bytes)
/// that holds `needle`.
async fn places_holding(pool: &PgPool, needle: &str) -> Vec<String> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t USING (table_schema, table_name) \
         WHERE table_schema = 'public' AND t.table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(columns.len() > 100, "the whole schema is searched");
    let mut found = Vec::new();
    for (table, column, data_type) in columns {
        let test = if data_type == "bytea" {
            format!("position(convert_to($1, 'UTF8') in \"{column}\") > 0")
        } else {
            format!("\"{column}\"::text LIKE '%' || $1 || '%'")
        };
        let hits: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM \"{table}\" WHERE {test}"))
                .bind(needle)
                .fetch_one(pool)
                .await
                .unwrap();
        if hits > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

async fn balance(app: &TestApp, member: MemberId) -> i64 {
    app.t
        .ledger
        .load::<MemberState>(&StreamId::Member(member))
        .await
        .unwrap()
        .state
        .balance
}

async fn verify(app: &TestApp) {
    app.drain().await;
    let report = projections::audit::verify(&app.pool).await.unwrap();
    assert_eq!(report.differences, vec![], "{report:?}");
    assert!(report.broken_chains.is_empty(), "{report:?}");
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn erasure_leaves_no_personal_data_and_the_ledger_still_proves_every_balance(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &panel.app;
    let anna = anna_everywhere(app).await;
    let before = balance(app, anna).await;
    assert!(before > 0);
    for needle in ANNA_DATA {
        assert!(
            !places_holding(&app.pool, needle).await.is_empty(),
            "{needle} is held before"
        );
    }
    let events = app.event_count().await;

    let reply = panel
        .change(
            Method::POST,
            &panel.path(&format!("/members/{}/erasure", anna.0)),
            Some(json!({"reason": "manager_request"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(json_of(&reply)["recorded"], true);

    for needle in ANNA_DATA {
        assert_eq!(
            places_holding(&app.pool, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }
    assert_eq!(app.event_count().await, events + 1, "one MemberErased");
    assert_eq!(
        balance(app, anna).await,
        before,
        "the anonymous member keeps the points"
    );
    verify(app).await;
    let card = panel.card(anna).await;
    assert_eq!(card["erased"], true);
    assert_eq!(card["accounts"], json!([]));
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn erasing_twice_changes_nothing_the_second_time(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let anna = anna_everywhere(&panel.app).await;
    let path = panel.path(&format!("/members/{}/erasure", anna.0));
    let body = json!({"reason": "legal_order"});
    let first = panel.change(Method::POST, &path, Some(body.clone())).await;
    assert_eq!(json_of(&first)["recorded"], true);
    let events = panel.app.event_count().await;
    let again = panel.change(Method::POST, &path, Some(body)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(json_of(&again)["recorded"], false);
    assert_eq!(json_of(&again)["rows_deleted"], 0);
    assert_eq!(panel.app.event_count().await, events);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn only_admins_erase_or_export_and_a_refusal_changes_nothing(pool: PgPool) {
    for role in [Role::Manager, Role::Auditor] {
        let panel = AdminClient::signed_in(pool.clone(), role).await;
        let anna = anna_everywhere(&panel.app).await;
        let events = panel.app.event_count().await;
        let accounts = panel.count("SELECT count(*) FROM external_accounts").await;
        let erase = panel
            .change(
                Method::POST,
                &panel.path(&format!("/members/{}/erasure", anna.0)),
                Some(json!({"reason": "manager_request"})),
            )
            .await;
        assert_eq!(
            erase.status,
            StatusCode::FORBIDDEN,
            "{role:?}: {}",
            erase.body
        );
        let export = panel
            .get(&panel.path(&format!("/members/{}/export", anna.0)))
            .await;
        assert_eq!(export.status, StatusCode::FORBIDDEN, "{role:?}");
        assert_eq!(panel.app.event_count().await, events);
        assert_eq!(
            panel.count("SELECT count(*) FROM external_accounts").await,
            accounts
        );
        // The next role gets a database of its own.
        sqlx::query(
            "TRUNCATE external_accounts, bot_chats, notification_deliveries, bot_updates CASCADE",
        )
        .execute(&panel.app.pool)
        .await
        .unwrap();
    }
    let admin = AdminClient::signed_in(pool, Role::Admin).await;
    let bad = admin
        .change(
            Method::POST,
            &admin.path(&format!("/members/{}/erasure", uuid::Uuid::new_v4())),
            Some(json!({"reason": "because I said so"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn export_holds_exactly_that_members_data(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &panel.app;
    let anna = anna_everywhere(app).await;
    // Boris: another member with data of his own.
    let body = crate::harness::mini_app::instagram_comment(
        "2233445566778899",
        "boris.b",
        "17990000000009001",
        "Отличный кофе!",
    );
    let signature = crate::harness::sign(&body, crate::harness::IG_APP_SECRET);
    let reply = app.instagram(body, Some(&signature)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let boris = app
        .member_of(&crate::harness::boris_ig())
        .await
        .expect("Boris");
    let reply = panel
        .get(&panel.path(&format!("/members/{}/export", anna.0)))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let export = json_of(&reply);
    assert_eq!(export["member_id"], anna.0.to_string());
    let ids: Vec<&str> = export["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["platform_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{export}");
    for id in ["715002001", "5000000001", "1122334455667788"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    assert!(
        export["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["username"] == "anna_runs")
    );
    let history = export["history"].as_array().unwrap();
    assert!(!history.is_empty());
    for entry in history {
        assert_eq!(entry["event"]["member_id"], anna.0.to_string(), "{entry}");
    }
    let text = export.to_string();
    for boris_data in ["2233445566778899", "boris.b", &boris.0.to_string()] {
        assert!(!text.contains(boris_data), "{boris_data} in {text}");
    }
    assert_eq!(export["balance"], balance(app, anna).await);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_same_account_after_erasure_is_a_new_member_with_no_old_points(pool: PgPool) {
    let panel = AdminClient::signed_in(pool, Role::Admin).await;
    let app = &panel.app;
    app.vk_fixture("wall_reply_new.json").await;
    let old = app.member_of(&anna_vk()).await.unwrap();
    let old_balance = balance(app, old).await;
    let erased = app
        .state
        .erase_member(
            app.t.program_id(),
            old,
            domain::event::Eraser::Manager {
                by: "manager:admin1".into(),
            },
            domain::event::ErasureReason::ManagerRequest,
        )
        .await
        .unwrap();
    assert!(erased.recorded);
    assert_eq!(app.member_of(&anna_vk()).await, None, "the mapping is gone");
    // The same comment redelivered: the account is new to the program, so it stands for a new
    // member, but the comment was paid once already and pays nobody again.
    app.vk_fixture("wall_reply_new.json").await;
    let new = app.member_of(&anna_vk()).await.expect("a new member");
    assert_ne!(new, old);
    assert_eq!(
        balance(app, new).await,
        0,
        "no old points, no second payment"
    );
    // A new comment pays the new member.
    let body = json!({"type": "wall_reply_new", "group_id": 229871234, "event_id": "after-erasure",
        "secret": crate::harness::VK_SECRET, "object": {"id": 99001, "from_id": 715002001,
        "post_id": 1, "owner_id": -229871234, "date": 1767268800, "text": "Снова с вами!"}});
    assert_eq!(
        app.vk(body.to_string().into_bytes()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        balance(app, new).await,
        old_balance,
        "a comment pays as it did before"
    );
    assert_eq!(
        balance(app, old).await,
        old_balance,
        "the anonymous member keeps its points"
    );
    verify(app).await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn erasure_under_concurrent_activity_loses_no_other_members_event(pool: PgPool) {
    let app = std::sync::Arc::new(TestApp::new(pool).await);
    app.vk_fixture("wall_reply_new.json").await;
    let anna = app.member_of(&anna_vk()).await.unwrap();
    let others: Vec<String> = (0..20).map(|n| format!("{}", 800_000_000 + n)).collect();
    let mut deliveries = Vec::new();
    for (n, user) in others.iter().enumerate() {
        let (other, user) = (app.clone(), user.clone());
        deliveries.push(tokio::spawn(async move {
            let body = json!({"type": "wall_reply_new", "group_id": 229871234, "event_id": format!("e{n}"),
                "secret": crate::harness::VK_SECRET, "object": {"id": 9000 + n, "from_id": user.parse::<i64>().unwrap(),
                "post_id": 1, "owner_id": -229871234, "date": 1767268800, "text": format!("Комментарий номер {n}")}});
            other.vk(body.to_string().into_bytes()).await
        }));
        // Anna's own activity races her erasure too.
        if n % 5 == 0 {
            let anna_app = app.clone();
            deliveries.push(tokio::spawn(async move {
                let body = json!({"type": "wall_reply_new", "group_id": 229871234, "event_id": format!("anna{n}"),
                    "secret": crate::harness::VK_SECRET, "object": {"id": 7000 + n, "from_id": 715002001,
                    "post_id": 1, "owner_id": -229871234, "date": 1767268800, "text": format!("Ещё комментарий {n}")}});
                anna_app.vk(body.to_string().into_bytes()).await
            }));
        }
    }
    let erase = app.state.erase_member(
        app.t.program_id(),
        anna,
        domain::event::Eraser::Member,
        domain::event::ErasureReason::MemberRequest,
    );
    erase.await.unwrap();
    for delivery in deliveries {
        assert_eq!(delivery.await.unwrap().status, StatusCode::OK);
    }
    for user in &others {
        let identity = ExternalIdentity::new(Network::Vk, "", user.as_str());
        let member = app
            .member_of(&identity)
            .await
            .expect("every other member recorded");
        assert!(balance(&app, member).await > 0, "{user} was paid");
    }
    verify(&app).await;
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_member_downloads_and_deletes_their_data_in_the_mini_app(pool: PgPool) {
    let app = MiniApp::new(pool).await;
    let init = anna_init_data();
    let member = app.sign_in(&init).await;
    app.give(member, 40).await;
    let (status, export) = app.get("/api/v1/app/me/export", &init).await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(export["member_id"], member.0.to_string());
    assert_eq!(export["balance"], 40);
    assert_eq!(export["accounts"][0]["platform_id"], ANNA.to_string());

    let unconfirmed = app
        .call(
            "POST",
            "/api/v1/app/me/erasure",
            Some(&init),
            Some(json!({"confirm": false})),
            &[],
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.events_of_type("MemberErased").await, 0);
    let forged = app
        .call(
            "POST",
            "/api/v1/app/me/erasure",
            Some("user=%7B%7D&hash=00"),
            Some(json!({"confirm": true})),
            &[],
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.events_of_type("MemberErased").await, 0);

    let erased = app
        .call(
            "POST",
            "/api/v1/app/me/erasure",
            Some(&init),
            Some(json!({"confirm": true})),
            &[],
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    assert_eq!(app.events_of_type("MemberErased").await, 1);
    assert!(
        places_holding(&app.app.pool, &ANNA.to_string())
            .await
            .is_empty()
    );
    // Opening the app again starts anew.
    let again = app.sign_in(&init).await;
    assert_ne!(again, member);
    let (_, me) = app.get("/api/v1/app/me", &init).await;
    assert_eq!(me["balance"]["current"], 0);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn forget_in_the_bot_asks_first_then_erases(pool: PgPool) {
    let bot = BotApp::new(pool).await;
    bot.say(1, "/start").await;
    let asked = bot.say(2, "/forget").await;
    assert!(
        asked["text"].as_str().unwrap().contains("/forget yes"),
        "{asked}"
    );
    assert_eq!(bot.app.events_of_type("MemberErased").await, 0);
    let done = bot.say(3, "/forget yes").await;
    assert_eq!(done["chat_id"], ANNA);
    assert_eq!(bot.app.events_of_type("MemberErased").await, 1);
    assert!(
        places_holding(&bot.app.pool, &ANNA.to_string())
            .await
            .is_empty()
    );
}

/// The CLI's erase and export work on the member's own program.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_command_line_erases_and_exports(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.vk_fixture("wall_reply_new.json").await;
    let anna = app.member_of(&anna_vk()).await.unwrap();
    let export = loyalty::members::export(&app.pool, anna.0).await.unwrap();
    assert_eq!(export.accounts.len(), 1);
    let reason = domain::event::ErasureReason::LegalOrder;
    let erased = loyalty::members::erase(&app.pool, anna.0, reason, "olga")
        .await
        .unwrap();
    assert!(erased.recorded);
    let actor: Value =
        sqlx::query_scalar("SELECT payload FROM events WHERE event_type = 'MemberErased'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        actor["by"],
        json!({"kind": "manager", "by": "manager:olga"})
    );
    assert_eq!(actor["reason"], "legal_order");
    assert!(
        loyalty::members::export(&app.pool, uuid::Uuid::new_v4())
            .await
            .is_err()
    );
}

/// New accounts whose first comments reach two processes at once: each account gets one
/// reference (the loser of the race to insert it reads the winner's), every comment is decided
/// for one member, and every reference the log names is in the mapping.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn first_comments_of_new_accounts_on_two_processes_make_one_member_each(pool: PgPool) {
    let first = std::sync::Arc::new(TestApp::new(pool).await);
    let second = std::sync::Arc::new(first.another_process().await);
    let users: Vec<i64> = (0..12).map(|n| 810_000_000 + n).collect();
    let mut deliveries = Vec::new();
    for (n, user) in users.iter().enumerate() {
        for (copy, process) in [&first, &second].into_iter().enumerate() {
            let process = process.clone();
            let comment = 2 * n + copy;
            let body = json!({"type": "wall_reply_new", "group_id": 229871234,
                "event_id": format!("first-sight-{comment}"), "secret": crate::harness::VK_SECRET,
                "object": {"id": 50_000 + comment, "from_id": user, "post_id": 1,
                "owner_id": -229871234, "date": 1767268800,
                "text": format!("Первый комментарий {comment}")}});
            deliveries.push(tokio::spawn(async move {
                process.vk(body.to_string().into_bytes()).await
            }));
        }
    }
    for delivery in deliveries {
        let reply = delivery.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    // The second comment of the same minute meets the comment cooldown: one award each.
    let points = first
        .t
        .program
        .rules
        .rule_for(Network::Vk, ActivityKind::Comment)
        .unwrap()
        .points;
    for user in &users {
        let identity = ExternalIdentity::new(Network::Vk, "", user.to_string());
        let rows: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM external_accounts WHERE network = 'vk' AND platform_id = $1",
        )
        .bind(user.to_string())
        .fetch_one(&first.pool)
        .await
        .unwrap();
        assert_eq!(rows, 1, "{user} has one reference");
        assert_eq!(
            first.balance_of(&identity).await,
            points,
            "{user} paid once"
        );
        assert_eq!(second.balance_of(&identity).await, points);
    }
    let unmapped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events e WHERE e.stream_id LIKE 'identity-%' AND NOT EXISTS \
         (SELECT 1 FROM external_accounts a WHERE e.stream_id LIKE '%' || a.account_ref::text)",
    )
    .fetch_one(&first.pool)
    .await
    .unwrap();
    assert_eq!(unmapped, 0, "every reference in the log is mapped");
    verify(&first).await;
}
