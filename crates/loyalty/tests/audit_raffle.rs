//! `loyalty audit raffle ID` as an auditor runs it: it recomputes the draw from the log alone
//! and says whether the revealed seed matches the commitment and gives the recorded winners.

mod support;

use app::raffles::RaffleTerms;
use app::{Ledger, LedgerConfig, ManagerAction};
use domain::ids::{EntryId, MemberId, RaffleId};
use domain::points::{Points, PointsDelta};
use sqlx::PgPool;
use std::process::Command;
use store::EventStore;
use support::database_url;
use uuid::Uuid;

fn action() -> ManagerAction {
    ManagerAction {
        manager: "manager:auditor-test".into(),
        request_id: Uuid::new_v4(),
        at: chrono::Utc::now().into(),
    }
}

async fn audit(url: &str, raffle: RaffleId) -> (bool, serde_json::Value, String) {
    let mut command = tokio::process::Command::from(Command::new(env!("CARGO_BIN_EXE_loyalty")));
    command
        .env("DATABASE_URL", url)
        .args(["audit", "raffle", &raffle.0.to_string()]);
    let out = command.output().await.expect("loyalty runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (
        out.status.success(),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_auditor_recomputes_a_draw_from_the_log(pool: PgPool) {
    let secrets = support::secret_box();
    let program = loyalty::demo::seed(&pool, &secrets).await.unwrap();
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let terms = RaffleTerms {
        title: "Audit".into(),
        prize: "A mug".into(),
        ticket_cost: Points::new(10).unwrap(),
        max_tickets_per_member: 1,
        winners: 2,
        ends_at: (chrono::Utc::now() + chrono::Duration::milliseconds(500)).into(),
    };
    let (raffle, _) = ledger
        .open_raffle(&pool, &secrets, program, terms, &action())
        .await
        .unwrap();
    for _ in 0..3 {
        let member = MemberId(Uuid::new_v4());
        let now = chrono::Utc::now().into();
        ledger.register_member(program, member, now).await.unwrap();
        let gift = PointsDelta::new(20).unwrap();
        ledger
            .adjust_points(program, member, gift, "test", None, &action())
            .await
            .unwrap();
        let ticket = EntryId(Uuid::new_v4());
        ledger
            .buy_raffle_ticket(program, member, raffle, ticket, now)
            .await
            .unwrap();
    }
    let url = database_url(&pool);
    let (ok, report, said) = audit(&url, raffle).await;
    assert!(ok, "{said}");
    assert!(said.contains("not drawn yet"), "{said}");
    assert_eq!(report["proof"]["seed"], serde_json::Value::Null);

    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    ledger
        .draw_raffle(&pool, &secrets, program, raffle, &action())
        .await
        .unwrap();
    let (ok, report, said) = audit(&url, raffle).await;
    assert!(ok, "{said}");
    assert!(said.contains("the draw checks out"), "{said}");
    assert_eq!(report["proof"]["verified"], true);
    assert_eq!(report["proof"]["tickets"].as_array().unwrap().len(), 3);
    assert_eq!(
        report["proof"]["recorded_winners"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let (ok, _, said) = audit(&url, RaffleId(Uuid::new_v4())).await;
    assert!(!ok && said.contains("no raffle"), "{said}");
}
