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
        entry_rule: domain::raffle::EntryRule::Tickets,
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

/// An activity raffle: the audit recomputes its entries from the program's log, and fails
/// when the raffle's stream holds an entry the log does not justify.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_auditor_recomputes_an_activity_raffles_entries_and_catches_a_forged_one(pool: PgPool) {
    use domain::network::{ActivityKind, ActivityRef, Network};
    use domain::raffle::{ActivityRule, EntryRule, RaffleState};
    let secrets = support::secret_box();
    let program = loyalty::demo::seed(&pool, &secrets).await.unwrap();
    let config = LedgerConfig {
        raffle_settle: std::time::Duration::ZERO,
        ..LedgerConfig::default()
    };
    let ledger = Ledger::new(EventStore::new(pool.clone()), config);
    let context = ledger.program(program).await.unwrap();
    let now = chrono::Utc::now();
    let mut members = Vec::new();
    for n in 0..3u32 {
        let member = MemberId(Uuid::new_v4());
        ledger
            .register_member(program, member, now.into())
            .await
            .unwrap();
        members.push(member);
        if n < 2 {
            let at = (now - chrono::Duration::minutes(10)).into();
            let comment = ActivityRef {
                network: Network::Telegram,
                kind: ActivityKind::Comment,
                reference: format!("{:032x}", 0xc0ffee + n),
            };
            ledger
                .award_activity(
                    &context,
                    member,
                    comment,
                    None,
                    at,
                    store::Metadata::default(),
                    at,
                )
                .await
                .unwrap();
        }
    }
    let open = |title: &str| RaffleTerms {
        title: title.into(),
        prize: "A mug".into(),
        entry_rule: EntryRule::Activity(ActivityRule {
            kind: Some(ActivityKind::Comment),
            network: Some(Network::Telegram),
            from: (now - chrono::Duration::hours(1)).into(),
        }),
        ticket_cost: Points::new(1).unwrap(),
        max_tickets_per_member: 1,
        winners: 1,
        ends_at: (chrono::Utc::now() + chrono::Duration::milliseconds(500)).into(),
    };
    let (honest, _) = ledger
        .open_raffle(&pool, &secrets, program, open("Honest"), &action())
        .await
        .unwrap();
    let (forged, _) = ledger
        .open_raffle(&pool, &secrets, program, open("Forged"), &action())
        .await
        .unwrap();
    // An entry for the member who never commented, slipped past the domain's rules.
    let intruder = members[2];
    ledger
        .execute::<RaffleState>(
            program.0,
            Uuid::new_v4(),
            store::Metadata::default(),
            &domain::StreamId::Raffle(forged),
            |_| {
                Ok(vec![domain::Event::RaffleEntered {
                    raffle_id: forged,
                    entry_id: EntryId(Uuid::new_v4()),
                    member_id: intruder,
                    at: chrono::Utc::now().into(),
                }])
            },
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    for raffle in [honest, forged] {
        ledger
            .draw_raffle(&pool, &secrets, program, raffle, &action())
            .await
            .unwrap();
    }
    let url = database_url(&pool);
    let (ok, report, said) = audit(&url, honest).await;
    assert!(ok, "{said}");
    assert!(said.contains("the draw checks out"), "{said}");
    assert_eq!(report["proof"]["entries_match_log"], true);
    assert_eq!(report["proof"]["entry_rule"]["rule"], "activity");
    assert_eq!(report["proof"]["tickets"].as_array().unwrap().len(), 2);

    let (ok, report, said) = audit(&url, forged).await;
    assert!(!ok, "a forged entry fails the audit: {said}");
    assert!(said.contains("entries do NOT match"), "{said}");
    assert_eq!(report["proof"]["entries_match_log"], false);
}
