//! `loyalty members erase | export`: a member's personal data from the command line, for
//! written requests. The member's program is read from their stream.

use anyhow::Context;
use app::personal_data::{self, Erased, MemberExport};
use app::{Ledger, LedgerConfig};
use domain::StreamId;
use domain::event::{Eraser, ErasureReason};
use domain::ids::{MemberId, ProgramId};
use domain::member::MemberState;
use sqlx::PgPool;
use store::EventStore;
use uuid::Uuid;

async fn program_of(ledger: &Ledger, member: MemberId) -> anyhow::Result<ProgramId> {
    let state = ledger
        .load::<MemberState>(&StreamId::Member(member))
        .await?;
    state
        .state
        .program_id
        .with_context(|| format!("no member {} in this ledger", member.0))
}

/// Erases the member's personal data; `by` is recorded as the admin who did it.
pub async fn erase(
    pool: &PgPool,
    member: Uuid,
    reason: ErasureReason,
    by: &str,
) -> anyhow::Result<Erased> {
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let member = MemberId(member);
    let program = program_of(&ledger, member).await?;
    let by = Eraser::Manager {
        by: format!("manager:{by}"),
    };
    let erasure = personal_data::erase(&ledger, pool, program, member, by, reason).await?;
    Ok(erasure.erased)
}

/// Everything the program holds about the member.
pub async fn export(pool: &PgPool, member: Uuid) -> anyhow::Result<MemberExport> {
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let member = MemberId(member);
    let program = program_of(&ledger, member).await?;
    Ok(personal_data::export(&ledger, pool, program, member).await?)
}
