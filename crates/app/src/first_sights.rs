//! Accounts seen for the first time by a command still running. Their reference is recorded
//! in `external_accounts` by the first commit that appends to a stream named after it, in
//! that commit's transaction (see `store::NewAccount`), so a first sight costs no statement of
//! its own and no event can name a reference the mapping lacks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use store::NewAccount;

pub(crate) struct Sight {
    account: NewAccount,
    streams: Vec<String>,
    recorded: AtomicBool,
}

/// The accounts of running first sights, by the names of the streams named after them.
#[derive(Clone, Default)]
pub struct FirstSights {
    by_stream: Arc<Mutex<HashMap<String, Arc<Sight>>>>,
}

impl FirstSights {
    /// Until the returned guard is dropped, the first commit appending to any of `streams`
    /// carries `account`.
    pub fn start(&self, account: NewAccount, streams: Vec<String>) -> FirstSight {
        let sight = Arc::new(Sight {
            account,
            streams,
            recorded: AtomicBool::new(false),
        });
        let mut map = self.lock();
        for stream in &sight.streams {
            map.insert(stream.clone(), sight.clone());
        }
        FirstSight {
            sights: self.clone(),
            sight,
        }
    }

    /// The accounts a commit over these streams must carry, each once.
    pub(crate) fn carried_by<'a>(&self, streams: impl Iterator<Item = &'a str>) -> Vec<Arc<Sight>> {
        let map = self.lock();
        if map.is_empty() {
            return Vec::new();
        }
        let mut carried: Vec<Arc<Sight>> = Vec::new();
        for stream in streams {
            if let Some(sight) = map.get(stream)
                && !carried.iter().any(|s| Arc::ptr_eq(s, sight))
            {
                carried.push(sight.clone());
            }
        }
        carried
    }

    /// The commit carrying these accounts was appended: later commits need not carry them.
    pub(crate) fn recorded(&self, sights: &[Arc<Sight>]) {
        for sight in sights {
            sight.recorded.store(true, Ordering::Release);
            self.remove(sight);
        }
    }

    fn remove(&self, sight: &Arc<Sight>) {
        let mut map = self.lock();
        for stream in &sight.streams {
            if map.get(stream).is_some_and(|s| Arc::ptr_eq(s, sight)) {
                map.remove(stream);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Sight>>> {
        // The map holds no invariant a panicking holder could break halfway.
        self.by_stream
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Sight {
    pub(crate) fn account(&self) -> &NewAccount {
        &self.account
    }
}

/// One running first sight; dropping it stops commits from carrying the account.
pub struct FirstSight {
    sights: FirstSights,
    sight: Arc<Sight>,
}

impl FirstSight {
    pub fn account(&self) -> &NewAccount {
        &self.sight.account
    }

    /// Whether a commit recorded the account (then `external_accounts` has it).
    pub fn recorded(&self) -> bool {
        self.sight.recorded.load(Ordering::Acquire)
    }
}

impl Drop for FirstSight {
    fn drop(&mut self) {
        self.sights.remove(&self.sight);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn account() -> NewAccount {
        NewAccount {
            account_ref: Uuid::new_v4(),
            program_id: Uuid::new_v4(),
            network: "vk".into(),
            scope: String::new(),
            platform_id: "1".into(),
        }
    }

    #[test]
    fn a_sight_is_carried_once_until_recorded_or_dropped() {
        let sights = FirstSights::default();
        let first = sights.start(account(), vec!["identity-a".into(), "member-a".into()]);
        let carried = sights.carried_by(["member-a", "identity-a", "other"].into_iter());
        assert_eq!(carried.len(), 1);
        assert_eq!(carried[0].account(), first.account());
        assert!(!first.recorded());

        sights.recorded(&carried);
        assert!(first.recorded());
        assert!(sights.carried_by(["member-a"].into_iter()).is_empty());

        let second = sights.start(account(), vec!["identity-b".into()]);
        drop(second);
        assert!(sights.carried_by(["identity-b"].into_iter()).is_empty());
    }
}
