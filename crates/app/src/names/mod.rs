//! The name directory: the names shown beside ranks (Mini App leaderboards, the bot's /top),
//! held per program by each serving process, so a leaderboard answer never waits for the
//! database once its program is loaded.
//!
//! A program loads on first use with one streaming query (concurrent first users wait for
//! that one load). A refresh then re-resolves, in one query per program, the members whose
//! profiles changed since a watermark on `profiles.updated_at`; a member's own change in the
//! Mini App is written here at once. What no profile change shows (an unlinked or claimed
//! account, a deleted profile) is caught by reading the program whole again now and then.
//! Programs nobody asked about in a while are dropped.

mod queries;
mod table;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::{Mutex, RwLock};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use table::{NameTable, shown_name};
use tokio::sync::{OnceCell, watch};
use uuid::Uuid;

/// How far before the watermark a refresh looks again: `identities` is a projection, so an
/// account's row may land after its profile was written (and seen without a member), and a
/// profile's `updated_at` is its transaction's start, which may commit after a later one.
const WATERMARK_OVERLAP: TimeDelta = TimeDelta::seconds(30);

/// The names of this process, per program. Cheap to clone (one shared state).
#[derive(Clone)]
pub struct NameDirectory(Arc<Shared>);

struct Shared {
    pool: PgPool,
    programs: RwLock<HashMap<Uuid, Arc<Program>>>,
    /// One refresh at a time (the follower, and tests that drive it).
    refreshing: tokio::sync::Mutex<()>,
    epoch: Instant,
}

struct Program {
    /// Set once the first load succeeded.
    loaded: OnceCell<Mutex<Read>>,
    state: RwLock<State>,
    /// Milliseconds since the directory was created, at the last question.
    last_used: AtomicU64,
}

/// Where a program's names stand in the database.
struct Read {
    /// The database's time up to which every profile change is in `state` (less
    /// [`WATERMARK_OVERLAP`]).
    watermark: DateTime<Utc>,
    /// When the program was last read whole (milliseconds since the directory was created).
    whole_at_ms: u64,
}

#[derive(Default)]
struct State {
    names: NameTable,
    /// While a load or refresh reads the database: members' own changes written meanwhile,
    /// put back over what that (older) read brings.
    own_during_read: Option<HashMap<Uuid, String>>,
}

impl NameDirectory {
    pub fn new(pool: PgPool) -> Self {
        Self(Arc::new(Shared {
            pool,
            programs: RwLock::default(),
            refreshing: tokio::sync::Mutex::new(()),
            epoch: Instant::now(),
        }))
    }

    /// The shown names of `members`, in their order (`None`: no name). The first question
    /// about a program waits for its load; a failed load is an error, and the next question
    /// tries again.
    pub async fn names(
        &self,
        program: Uuid,
        members: &[Uuid],
    ) -> sqlx::Result<Vec<Option<String>>> {
        let entry = self.program(program);
        entry
            .loaded
            .get_or_try_init(|| async {
                let watermark = self.read_whole(program, &entry).await?;
                Ok::<_, sqlx::Error>(Mutex::new(Read {
                    watermark,
                    whole_at_ms: self.now_ms(),
                }))
            })
            .await?;
        let state = entry.state.read();
        Ok(members
            .iter()
            .map(|m| state.names.get(m).map(str::to_owned))
            .collect())
    }

    /// A member's own Telegram profile, just written by them through the Mini App. Their
    /// Telegram account comes first, so its name is theirs at once; without one, the refresh
    /// finds what their other accounts give.
    pub fn own_telegram_profile(
        &self,
        program: Uuid,
        member: Uuid,
        display_name: Option<&str>,
        username: Option<&str>,
    ) {
        let Some(name) = shown_name(display_name, username) else {
            return;
        };
        // Not here: whoever loads the program later reads the profile just written.
        let Some(entry) = self.0.programs.read().get(&program).cloned() else {
            return;
        };
        let mut state = entry.state.write();
        state.names.set(member, Some(&name));
        if let Some(own) = &mut state.own_during_read {
            own.insert(member, name);
        }
    }

    /// Drops an erased member's name at once in this process (other processes' directories
    /// drop it at their next whole reload of the program).
    pub fn forget(&self, program: Uuid, member: Uuid) {
        let Some(entry) = self.0.programs.read().get(&program).cloned() else {
            return;
        };
        let mut state = entry.state.write();
        state.names.set(member, None);
        if let Some(own) = &mut state.own_during_read {
            own.remove(&member);
        }
    }

    /// Re-resolves, in every loaded program, the members whose profiles changed since its
    /// watermark; returns how many names changed. The follower calls it every few seconds;
    /// tests call it directly.
    pub async fn refresh(&self) -> sqlx::Result<usize> {
        let _alone = self.0.refreshing.lock().await;
        let mut changed = 0;
        for (id, program) in self.loaded_programs() {
            let Some(read) = program.loaded.get() else {
                continue; // its first user is loading it
            };
            let after = read.lock().watermark - WATERMARK_OVERLAP;
            program.state.write().own_during_read = Some(HashMap::new());
            let read_at = queries::changed(&self.0.pool, id, after).await;
            let mut state = program.state.write();
            let own = state.own_during_read.take().unwrap_or_default();
            let (started, rows) = read_at?;
            // Every change committed before the read is in: the window slides with time, so a
            // burst of profiles written just before the whole read is re-read only until it
            // falls out of the overlap, not at every pass until the next change.
            let mut latest = read.lock().watermark.max(started);
            for row in rows {
                changed += usize::from(state.names.set(row.member, row.name.as_deref()));
                latest = latest.max(row.changed_at);
            }
            for (member, name) in own {
                state.names.set(member, Some(&name));
            }
            read.lock().watermark = latest;
        }
        Ok(changed)
    }

    /// Reads whole again every loaded program last read whole longer than `age` ago; returns
    /// how many. Questions meanwhile are answered from the names held until then.
    pub async fn reload_older_than(&self, age: Duration) -> sqlx::Result<usize> {
        let _alone = self.0.refreshing.lock().await;
        let age = age.as_millis() as u64;
        let mut reloaded = 0;
        for (id, program) in self.loaded_programs() {
            let Some(read) = program.loaded.get() else {
                continue;
            };
            let started = self.now_ms();
            if started.saturating_sub(read.lock().whole_at_ms) < age {
                continue;
            }
            let watermark = self.read_whole(id, &program).await?;
            *read.lock() = Read {
                watermark,
                whole_at_ms: started,
            };
            reloaded += 1;
        }
        Ok(reloaded)
    }

    /// Drops the programs nobody asked about within `idle`; returns how many.
    pub fn evict_idle(&self, idle: Duration) -> usize {
        let now = self.now_ms();
        let idle = idle.as_millis() as u64;
        let mut programs = self.0.programs.write();
        let before = programs.len();
        programs.retain(|_, p| now.saturating_sub(p.last_used.load(Ordering::Relaxed)) < idle);
        before - programs.len()
    }

    /// Programs in memory, the names they hold and about how many bytes, for metrics.
    pub fn loaded(&self) -> (usize, usize, usize) {
        let programs = self.0.programs.read();
        let (mut names, mut bytes) = (0, 0);
        for program in programs.values() {
            let state = program.state.read();
            names += state.names.len();
            bytes += state.names.heap_bytes();
        }
        (programs.len(), names, bytes)
    }

    /// Refreshes every `interval`, reads each program whole every `reload`, and drops programs
    /// idle for `idle`, until `shutdown` turns true.
    pub async fn follow(
        self,
        interval: Duration,
        reload: Duration,
        idle: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        while !*shutdown.borrow() {
            self.evict_idle(idle);
            if let Err(e) = self.reload_older_than(reload).await {
                tracing::warn!(error = %e, "the name directory could not reload a program");
            }
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "the name directory could not refresh");
            }
            let (programs, names, bytes) = self.loaded();
            metrics::gauge!("name_directory_programs").set(programs as f64);
            metrics::gauge!("name_directory_entries").set(names as f64);
            metrics::gauge!("name_directory_bytes").set(bytes as f64);
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                changed = shutdown.changed() => if changed.is_err() { break },
            }
        }
    }

    fn loaded_programs(&self) -> Vec<(Uuid, Arc<Program>)> {
        let programs = self.0.programs.read();
        programs.iter().map(|(id, p)| (*id, p.clone())).collect()
    }

    /// The program's entry, created (unloaded) on first use, and marked as used now.
    fn program(&self, id: Uuid) -> Arc<Program> {
        let now = self.now_ms();
        let found = self.0.programs.read().get(&id).cloned();
        let entry = found.unwrap_or_else(|| {
            let mut programs = self.0.programs.write();
            programs
                .entry(id)
                .or_insert_with(|| {
                    Arc::new(Program {
                        loaded: OnceCell::new(),
                        state: RwLock::default(),
                        last_used: AtomicU64::new(now),
                    })
                })
                .clone()
        });
        // Written once a second at most: every request reads it, few need to write it.
        if now.saturating_sub(entry.last_used.load(Ordering::Relaxed)) >= 1_000 {
            entry.last_used.store(now, Ordering::Relaxed);
        }
        entry
    }

    /// Reads all of a program's names and puts them in place of those it holds; returns the
    /// watermark to refresh from.
    async fn read_whole(&self, id: Uuid, program: &Program) -> sqlx::Result<DateTime<Utc>> {
        program.state.write().own_during_read = Some(HashMap::new());
        let mut names = NameTable::default();
        let read = queries::load(&self.0.pool, id, &mut names).await;
        let mut state = program.state.write();
        let own = state.own_during_read.take().unwrap_or_default();
        let watermark = read?;
        for (member, name) in own {
            names.set(member, Some(&name));
        }
        names.shrink_to_fit();
        let old = std::mem::replace(&mut state.names, names);
        drop(state);
        drop(old); // freed outside the lock
        Ok(watermark)
    }

    fn now_ms(&self) -> u64 {
        self.0.epoch.elapsed().as_millis() as u64
    }
}
