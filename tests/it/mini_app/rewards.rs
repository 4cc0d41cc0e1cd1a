//! Redeeming rewards: atomic, and a repeated key pays once.

use crate::harness::json_of;
use crate::harness::mini_app::{MiniApp, anna};
use axum::http::StatusCode;
use domain::StreamId;
use domain::reward::RewardState;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn redeeming_is_atomic_and_a_repeated_key_pays_once(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 150).await;
    let coffee = m.list_reward("Coffee", 100, 5).await;
    let mug = m.list_reward("Mug", 10, 5).await;
    let path = format!("/api/v1/app/rewards/{}/redeem", coffee.0);
    let signed_in = anna();
    let tap = || {
        m.call(
            "POST",
            &path,
            Some(&signed_in),
            None,
            &[("Idempotency-Key", "tap-1")],
        )
    };

    // A double tap: two requests at once with one key.
    let (first, second) = futures::join!(tap(), tap());
    assert_eq!(
        (first.status, second.status),
        (StatusCode::OK, StatusCode::OK),
        "{}",
        second.body
    );
    let (first, second) = (json_of(&first), json_of(&second));
    let code = first["coupon_code"].as_str().unwrap();
    assert!(code.starts_with("CPN-") && code.len() == 13, "{code}");
    assert_eq!(second["coupon_code"], code);
    assert_eq!(second["redemption_id"], first["redemption_id"]);
    assert_eq!(first["balance"], 50);
    assert_eq!(second["balance"], 50);
    assert_eq!(first["title"], "Coffee");
    assert!(first["repeated"] != second["repeated"]);
    // Later retries of the key, by header or body, get the same coupon.
    let again = m
        .call(
            "POST",
            &path,
            Some(&anna()),
            Some(json!({"idempotency_key": "tap-1"})),
            &[],
        )
        .await;
    assert_eq!(json_of(&again)["coupon_code"], code);
    assert_eq!(json_of(&again)["repeated"], true);
    assert_eq!(m.events_of_type("RewardRedeemed").await, 1);
    assert_eq!(m.events_of_type("RewardIssued").await, 1);
    assert_eq!(m.app.t.balance(member).await, 50);
    let stock = m
        .app
        .t
        .ledger
        .load::<RewardState>(&StreamId::Reward(coffee))
        .await
        .unwrap();
    assert_eq!(stock.state.stock, 4);

    // Not enough points: 409 in the envelope, and nothing recorded.
    let events = m.app.event_count().await;
    let poor = m
        .call(
            "POST",
            &path,
            Some(&anna()),
            None,
            &[("Idempotency-Key", "tap-2")],
        )
        .await;
    assert_eq!(poor.status, StatusCode::CONFLICT, "{}", poor.body);
    assert_eq!(json_of(&poor)["error"]["code"], "insufficient_balance");
    assert!(
        json_of(&poor)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("50 points")
    );
    assert_eq!(m.app.event_count().await, events);

    // A key names one redemption: reusing it for another reward is refused.
    let mug_path = format!("/api/v1/app/rewards/{}/redeem", mug.0);
    let reused = m
        .call(
            "POST",
            &mug_path,
            Some(&anna()),
            None,
            &[("Idempotency-Key", "tap-1")],
        )
        .await;
    assert_eq!(reused.status, StatusCode::CONFLICT);
    assert_eq!(json_of(&reused)["error"]["code"], "idempotency_key_reused");
    let keyless = m.call("POST", &mug_path, Some(&anna()), None, &[]).await;
    assert_eq!(keyless.status, StatusCode::BAD_REQUEST);
    let unknown = format!("/api/v1/app/rewards/{}/redeem", Uuid::new_v4());
    let missing = m
        .call(
            "POST",
            &unknown,
            Some(&anna()),
            None,
            &[("Idempotency-Key", "x")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // The read models show the coupon and the stock.
    m.drain().await;
    let (_, rewards) = m.get("/api/v1/app/rewards", &anna()).await;
    assert_eq!(rewards["coupons"][0]["coupon_code"], code);
    assert_eq!(rewards["coupons"][0]["title"], "Coffee");
    let listed = rewards["rewards"].as_array().unwrap();
    let coffee_row = listed.iter().find(|r| r["title"] == "Coffee").unwrap();
    assert_eq!(coffee_row["stock"], 4);
    assert_eq!(coffee_row["cost"], 100);
}

/// A coupon from the shop's own pool: the member gets the pool's next code, and once the shop
/// accepts it the app shows it used (no QR to show again) and the history says so.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_pool_coupon_shows_the_shops_code_and_then_that_it_was_used(pool: PgPool) {
    use domain::ids::{ProgramId, RedemptionId, RewardId};
    use domain::points::Points;
    use domain::reward::{RewardCommand, RewardTerms};
    let m = MiniApp::new(pool).await;
    let member = m.sign_in(&anna()).await;
    m.give(member, 500).await;
    let ledger = &m.app.t.ledger;
    let program: ProgramId = m.app.t.program_id();
    let reward = RewardId(Uuid::new_v4());
    let action = crate::harness::mini_app::now_action();
    ledger
        .reward_command(program, reward, &action, || RewardCommand::List {
            reward_id: reward,
            program_id: program,
            title: "−15% online".into(),
            cost: Points::new(100).unwrap(),
            stock: 0,
            terms: RewardTerms {
                coupon_pool: true,
                ..RewardTerms::default()
            },
            by: action.manager.clone(),
            at: action.at,
        })
        .await
        .unwrap();
    let codes = ["WEB15-AAA".to_string(), "WEB15-BBB".to_string()];
    let uploaded = ledger
        .add_codes(program, reward, &codes, &action)
        .await
        .unwrap();
    assert_eq!((uploaded.added, uploaded.skipped), (2, 0));
    let path = format!("/api/v1/app/rewards/{}/redeem", reward.0);
    let tap = m
        .call(
            "POST",
            &path,
            Some(&anna()),
            None,
            &[("Idempotency-Key", "t1")],
        )
        .await;
    assert_eq!(tap.status, StatusCode::OK, "{}", tap.body);
    let redeemed = json_of(&tap);
    assert_eq!(
        redeemed["coupon_code"], "WEB15-AAA",
        "the pool's first code"
    );
    let redemption = RedemptionId(redeemed["redemption_id"].as_str().unwrap().parse().unwrap());
    ledger
        .use_coupon(
            program,
            member,
            redemption,
            Uuid::new_v4(),
            "shop:till",
            chrono::Utc::now().into(),
        )
        .await
        .unwrap();
    m.drain().await;
    let (_, view) = m.get("/api/v1/app/rewards", &anna()).await;
    let coupon = &view["coupons"][0];
    assert_eq!(coupon["coupon_code"], "WEB15-AAA");
    assert!(coupon["used_at"].is_string(), "{coupon}");
    assert_eq!(
        coupon["qr"],
        serde_json::Value::Null,
        "nothing to show at the till"
    );
    let stock = view["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == "−15% online")
        .unwrap()["stock"]
        .clone();
    assert_eq!(stock, 1);
    let (_, history) = m.get("/api/v1/app/history", &anna()).await;
    assert_eq!(
        history["entries"][0]["text"],
        "Купон на «−15% online» использован"
    );
}
