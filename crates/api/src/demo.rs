//! `loyalty demo`: a working product on a fresh machine in one command.

use crate::app::{Ledger, LedgerConfig, ManagerAction};
use chrono::Utc;
use domain::StreamId;
use domain::ids::{MemberId, ProgramId};
use domain::member::MemberState;
use domain::network::{ActivityKind, ActivityRef, Network};
use domain::program::Rules;
use sqlx::PgPool;
use store::{EventStore, Metadata};
use uuid::Uuid;

/// Creates a demo program with members and activity, then reads balances back from the log.
pub async fn seed(pool: PgPool) -> anyhow::Result<()> {
    let ledger = Ledger::new(EventStore::new(pool), LedgerConfig::default());
    let now = Utc::now();
    let action = ManagerAction {
        manager: "demo".into(),
        request_id: Uuid::new_v4(),
        at: now,
    };
    let program_id = ProgramId(Uuid::new_v4());
    ledger
        .create_program(
            program_id,
            "Demo brand",
            chrono_tz::Europe::Moscow,
            Rules::standard(),
            &action,
        )
        .await?;
    let program = ledger.program(program_id).await?;
    let members: Vec<MemberId> = (0..3).map(|_| MemberId(Uuid::new_v4())).collect();
    for (i, &member) in members.iter().enumerate() {
        ledger.register_member(program_id, member, now).await?;
        for (j, network) in Network::ALL.iter().enumerate().take(i + 1) {
            let activity = ActivityRef {
                network: *network,
                kind: ActivityKind::Comment,
                reference: format!("demo-{i}-{j}"),
            };
            ledger
                .award_activity(&program, member, activity, now, Metadata::default(), now)
                .await?;
        }
    }
    println!("program {program_id}");
    for member in members {
        let state = ledger
            .load::<MemberState>(&StreamId::Member(member))
            .await?
            .state;
        println!(
            "member {member}: balance {} (folded from its stream)",
            state.balance
        );
    }
    Ok(())
}
