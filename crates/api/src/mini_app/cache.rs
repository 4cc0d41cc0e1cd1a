//! What the Mini App asks on every request, remembered briefly so the hot read paths
//! (leaderboards, balance) need no database round trip: who a Telegram user is (their member,
//! their account's reference and the program's context). It changes rarely and is harmless when a few seconds old;
//! nothing that decides or appends reads from here. The names shown beside ranks are not a
//! cache but a directory kept current per program (`app::names`).

use app::ProgramContext;
use app::cache::Expiring;
use domain::ids::MemberId;
use domain::network::LinkedAccount;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// What is remembered of a caller: the program's context, their member and their account.
pub type Caller = (Arc<ProgramContext>, MemberId, LinkedAccount);

/// How long a caller's member and program context are reused.
const CALLER_TTL: Duration = Duration::from_secs(10);
const MAX_CALLERS: usize = 100_000;

#[derive(Clone)]
pub struct MiniAppCache {
    callers: Expiring<(Uuid, i64), Caller>,
}

impl Default for MiniAppCache {
    fn default() -> Self {
        Self {
            callers: Expiring::new(MAX_CALLERS, CALLER_TTL),
        }
    }
}

impl MiniAppCache {
    /// The program context, member and account of a Telegram user, if seen within the last
    /// 10 seconds (`CALLER_TTL`).
    pub fn caller(&self, program: Uuid, telegram_user: i64) -> Option<Caller> {
        self.callers.get(&(program, telegram_user))
    }

    /// Forgets a caller at once (their member was just erased).
    pub fn forget_caller(&self, program: Uuid, telegram_user: i64) {
        self.callers.remove(&(program, telegram_user));
    }

    pub fn remember_caller(&self, telegram_user: i64, caller: Caller) {
        self.callers
            .insert((caller.0.program_id.0, telegram_user), caller);
    }
}
