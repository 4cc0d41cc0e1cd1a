use app::{Ledger, LedgerConfig, ManagerAction, ProgramContext};
use chrono::{TimeZone, Utc};
use domain::Timestamp;
use domain::ids::{MemberId, ProgramId};
use domain::network::{ExternalIdentity, LinkedAccount};
use domain::program::Rules;
use sqlx::PgPool;
use store::EventStore;
use uuid::Uuid;

pub fn at(hour: u32) -> Timestamp {
    Timestamp::new(Utc.with_ymd_and_hms(2026, 11, 23, hour, 0, 0).unwrap())
}

pub fn manager() -> ManagerAction {
    ManagerAction {
        manager: "manager:olga".into(),
        request_id: Uuid::new_v4(),
        at: at(12),
    }
}

/// A ledger over a fresh database with one program (standard rules, Moscow time).
pub struct TestLedger {
    pub ledger: Ledger,
    pub program: ProgramContext,
    /// The mapping of platform ids to account references, under the tests' (development) key.
    pub accounts: app::accounts::Accounts,
}

impl TestLedger {
    pub async fn new(pool: PgPool) -> Self {
        let accounts = app::accounts::Accounts::new(pool.clone(), app::config::dev_privacy_keys());
        // Raffles drawn right after their end: tests commit their activity before it.
        let config = LedgerConfig {
            raffle_settle: std::time::Duration::ZERO,
            ..LedgerConfig::default()
        };
        let ledger = Ledger::new(EventStore::new(pool), config);
        let program_id = ProgramId(Uuid::new_v4());
        ledger
            .create_program(
                program_id,
                "Brand",
                chrono_tz::Europe::Moscow,
                Rules::standard(),
                &manager(),
            )
            .await
            .unwrap();
        let program = ledger.program(program_id).await.unwrap();
        Self {
            ledger,
            program,
            accounts,
        }
    }

    /// The account's reference in the test program, issued now if it is new.
    pub async fn account(&self, identity: &ExternalIdentity) -> LinkedAccount {
        self.accounts
            .resolve(self.program_id(), identity)
            .await
            .unwrap()
    }

    /// Who owns a platform account in the test program.
    pub async fn owner_of(&self, identity: &ExternalIdentity) -> Option<MemberId> {
        let account = self
            .accounts
            .find(self.program_id(), identity)
            .await
            .unwrap()?;
        self.ledger
            .identity_owner(self.program_id(), &account)
            .await
            .unwrap()
    }

    pub fn program_id(&self) -> ProgramId {
        self.program.program_id
    }

    pub async fn member(&self) -> MemberId {
        let member = MemberId(Uuid::new_v4());
        self.ledger
            .register_member(self.program_id(), member, at(8))
            .await
            .unwrap();
        member
    }

    pub async fn member_with(&self, points: i64) -> MemberId {
        let member = self.member().await;
        let delta = domain::points::PointsDelta::new(points).unwrap();
        self.ledger
            .adjust_points(
                self.program_id(),
                member,
                delta,
                "welcome bonus",
                None,
                &manager(),
            )
            .await
            .unwrap();
        member
    }

    pub async fn balance(&self, member: MemberId) -> i64 {
        self.ledger
            .load::<domain::member::MemberState>(&domain::StreamId::Member(member))
            .await
            .unwrap()
            .state
            .balance
    }
}
