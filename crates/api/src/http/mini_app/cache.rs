//! What the Mini App asks on every request, remembered briefly so the hot read paths
//! (leaderboards, balance) need no database round trip: who a Telegram user is (their member
//! and the program's context) and the names shown beside ranks. Both change rarely and are
//! harmless when a few seconds old; nothing that decides or appends reads from here.

use crate::app::ProgramContext;
use domain::ids::MemberId;
use moka::sync::Cache;
use std::time::Duration;
use uuid::Uuid;

/// How long a caller's member and program context are reused.
const CALLER_TTL: Duration = Duration::from_secs(10);
/// How long a shown name is reused (profiles change when people rename themselves).
const NAME_TTL: Duration = Duration::from_secs(5);
const MAX_CALLERS: u64 = 200_000;
const MAX_NAMES: u64 = 500_000;

#[derive(Clone)]
pub struct MiniAppCache {
    callers: Cache<(Uuid, i64), (ProgramContext, MemberId)>,
    names: Cache<(Uuid, Uuid), Option<String>>,
}

impl Default for MiniAppCache {
    fn default() -> Self {
        Self {
            callers: Cache::builder()
                .max_capacity(MAX_CALLERS)
                .time_to_live(CALLER_TTL)
                .build(),
            names: Cache::builder()
                .max_capacity(MAX_NAMES)
                .time_to_live(NAME_TTL)
                .build(),
        }
    }
}

impl MiniAppCache {
    /// The member and program context of a Telegram user, if seen within [`CALLER_TTL`].
    pub fn caller(&self, program: Uuid, telegram_user: i64) -> Option<(ProgramContext, MemberId)> {
        self.callers.get(&(program, telegram_user))
    }

    pub fn remember_caller(&self, telegram_user: i64, program: &ProgramContext, member: MemberId) {
        self.callers.insert(
            (program.program_id.0, telegram_user),
            (program.clone(), member),
        );
    }

    /// The shown name of a member (`Some(None)`: known to have none), if seen lately.
    pub fn name(&self, program: Uuid, member: Uuid) -> Option<Option<String>> {
        self.names.get(&(program, member))
    }

    pub fn remember_name(&self, program: Uuid, member: Uuid, name: Option<String>) {
        self.names.insert((program, member), name);
    }

    /// Forgets a member's name at once (they just changed their profile here).
    pub fn forget_name(&self, program: Uuid, member: Uuid) {
        self.names.invalidate(&(program, member));
    }
}
