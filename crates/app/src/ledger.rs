pub use super::cache::StateCache;
use super::{AppError, Outcome};
use domain::campaign::CampaignState;
use domain::identity::IdentityState;
use domain::ids::{MemberId, ProgramId};
use domain::member::MemberState;
use domain::network::LinkedAccount;
use domain::program::ProgramState;
use domain::raffle::RaffleState;
use domain::reward::RewardState;
use domain::season::SeasonState;
use domain::{Aggregate, DomainError, Event, StreamId};
use std::sync::Arc;
use store::codec;
use store::{
    AppendOutcome, Appender, Commit, EventStore, ExpectedVersion, Metadata, RecordedEvent,
    StoreError, StreamAppend,
};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// Streams kept in memory per aggregate kind.
    pub cache_capacity: usize,
    /// Concurrent writer tasks of the group-commit appender.
    pub writers: usize,
    /// Most commits one writer sends in one round trip.
    pub max_commits_per_batch: usize,
    /// Attempts before a command that keeps conflicting gives up.
    pub max_attempts: u32,
    /// How long after an activity raffle's end its draw waits, so awards decided before the
    /// end but committed just after it are in the log the draw reads (`app::raffles`).
    pub raffle_settle: std::time::Duration,
    /// How long a program's rules are used from memory before they are read from the log again:
    /// another process may have changed them, and nothing else here would notice.
    pub program_fresh_for: std::time::Duration,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            cache_capacity: 200_000,
            writers: 1,
            max_commits_per_batch: 512,
            max_attempts: 16,
            raffle_settle: std::time::Duration::from_secs(60),
            program_fresh_for: std::time::Duration::from_secs(2),
        }
    }
}

pub struct Caches {
    member: StateCache<MemberState>,
    campaign: StateCache<CampaignState>,
    reward: StateCache<RewardState>,
    identity: StateCache<IdentityState>,
    program: StateCache<ProgramState>,
    raffle: StateCache<RaffleState>,
    season: StateCache<SeasonState>,
}

/// A stream state the ledger keeps hot in memory; alone it is the [`Streams`] of a command
/// over one stream.
pub trait CachedState: Aggregate {
    fn cache(caches: &Caches) -> &StateCache<Self>;
}

macro_rules! cached_state {
    ($($state:ty => $field:ident),*) => {
        $(impl CachedState for $state {
            fn cache(caches: &Caches) -> &StateCache<Self> {
                &caches.$field
            }
        }

        impl Streams for $state {
            type Ids = StreamId;
            type Loaded = Loaded<Self>;
            type States<'a> = &'a Self;

            fn load(
                ledger: &Ledger,
                id: &StreamId,
            ) -> impl Future<Output = Result<Loaded<Self>, AppError>> + Send {
                ledger.load(id)
            }
            fn states(loaded: &Loaded<Self>) -> &Self {
                &loaded.state
            }
            fn heads(loaded: &Loaded<Self>) -> Heads<'_> {
                Heads::new(&[(loaded.stream.as_str(), loaded.version)])
            }
            fn remember(
                ledger: &Ledger,
                loaded: &Loaded<Self>,
                events: &[Event],
                outcome: &Option<AppendOutcome>,
            ) {
                ledger.remember(loaded, events, outcome);
            }
            fn forget(ledger: &Ledger, loaded: &Loaded<Self>) {
                ledger.forget::<Self>(&loaded.stream);
            }
        })*
    };
}

cached_state!(
    MemberState => member,
    CampaignState => campaign,
    RewardState => reward,
    IdentityState => identity,
    ProgramState => program,
    RaffleState => raffle,
    SeasonState => season
);

/// The streams one command decides over: a single stream state, or a tuple of them. Knows how
/// to load them, the versions the append expects, and how the cache learns the outcome, so
/// [`Ledger::execute`] has one retry loop for any number of streams.
pub trait Streams {
    /// The stream ids, shaped like `Self`.
    type Ids: Sync;
    /// The loaded streams, shaped like `Self`.
    type Loaded: Send;
    /// The states the decision reads, shaped like `Self`.
    type States<'a>;

    fn load(
        ledger: &Ledger,
        ids: &Self::Ids,
    ) -> impl Future<Output = Result<Self::Loaded, AppError>> + Send;
    fn states(loaded: &Self::Loaded) -> Self::States<'_>;
    fn heads(loaded: &Self::Loaded) -> Heads<'_>;
    fn remember(
        ledger: &Ledger,
        loaded: &Self::Loaded,
        events: &[Event],
        outcome: &Option<AppendOutcome>,
    );
    fn forget(ledger: &Ledger, loaded: &Self::Loaded);
}

/// Most streams one command decides over.
const MAX_STREAMS: usize = 4;

/// The (stream, version) pairs an append expects, one per stream a command loaded; kept in
/// an array, so no allocation.
pub struct Heads<'a> {
    pairs: [(&'a str, i64); MAX_STREAMS],
    len: usize,
}

impl<'a> Heads<'a> {
    fn new(given: &[(&'a str, i64)]) -> Self {
        let mut pairs = [("", 0); MAX_STREAMS];
        pairs[..given.len()].copy_from_slice(given);
        Self {
            pairs,
            len: given.len(),
        }
    }

    fn as_slice(&self) -> &[(&'a str, i64)] {
        &self.pairs[..self.len]
    }
}

/// `StreamId`, once per repeated type in a tuple's ids.
macro_rules! stream_id {
    ($state:ident) => {
        StreamId
    };
}

/// Tuples of stream states: the first two are read in one round trip, any others after.
macro_rules! stream_tuple {
    ($A:ident $a:ident, $B:ident $b:ident $(, $R:ident $r:ident)*) => {
        impl<$A: CachedState, $B: CachedState $(, $R: CachedState)*> Streams
            for ($A, $B $(, $R)*)
        {
            type Ids = (StreamId, StreamId $(, stream_id!($R))*);
            type Loaded = (Loaded<$A>, Loaded<$B> $(, Loaded<$R>)*);
            type States<'a> = (&'a $A, &'a $B $(, &'a $R)*);

            async fn load(
                ledger: &Ledger,
                ($a, $b $(, $r)*): &Self::Ids,
            ) -> Result<Self::Loaded, AppError> {
                let ($a, $b) = ledger.load_pair::<$A, $B>($a, $b).await?;
                $(let $r = ledger.load::<$R>($r).await?;)*
                Ok(($a, $b $(, $r)*))
            }
            fn states(($a, $b $(, $r)*): &Self::Loaded) -> Self::States<'_> {
                (&$a.state, &$b.state $(, &$r.state)*)
            }
            fn heads(($a, $b $(, $r)*): &Self::Loaded) -> Heads<'_> {
                Heads::new(&[
                    ($a.stream.as_str(), $a.version),
                    ($b.stream.as_str(), $b.version)
                    $(, ($r.stream.as_str(), $r.version))*
                ])
            }
            fn remember(
                ledger: &Ledger,
                ($a, $b $(, $r)*): &Self::Loaded,
                events: &[Event],
                outcome: &Option<AppendOutcome>,
            ) {
                ledger.remember($a, events, outcome);
                ledger.remember($b, events, outcome);
                $(ledger.remember($r, events, outcome);)*
            }
            fn forget(ledger: &Ledger, ($a, $b $(, $r)*): &Self::Loaded) {
                ledger.forget::<$A>(&$a.stream);
                ledger.forget::<$B>(&$b.stream);
                $(ledger.forget::<$R>(&$r.stream);)*
            }
        }
    };
}

stream_tuple!(A a, B b);
stream_tuple!(A a, B b, C c);
stream_tuple!(A a, B b, C c, D d);

/// Runs commands against the log. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    store: EventStore,
    appender: Appender,
    caches: Arc<Caches>,
    max_attempts: u32,
    hot: Arc<HotStreams>,
    raffle_settle: std::time::Duration,
    /// Programs whose state was read from the log within `program_fresh_for`.
    programs_read: crate::cache::Expiring<ProgramId, ()>,
}

/// Locks that take this process's commands on one shared stream (a reward every member
/// redeems) in turn. Racing, all but one would lose on the stream's version, reload and
/// decide again, and under a crowd some would run out of attempts; in turn, each decides on
/// the state the previous one left in the cache. Striped, so the set stays small.
struct HotStreams([tokio::sync::Mutex<()>; 64]);

/// One command's share of a commit: its events take their ids from its own command id.
pub struct Decided<'a> {
    pub command_id: Uuid,
    pub metadata: &'a Metadata,
    pub events: &'a [Event],
}

/// A stream a command reads and may append to, with the state it had.
pub struct Loaded<S> {
    pub stream: String,
    pub version: i64,
    pub state: S,
}

impl Ledger {
    /// Must be called inside a tokio runtime (it starts the appender's writers).
    pub fn new(store: EventStore, config: LedgerConfig) -> Self {
        let appender = Appender::spawn(store.clone(), config.writers, config.max_commits_per_batch);
        let cap = config.cache_capacity;
        Self {
            store,
            appender,
            caches: Arc::new(Caches {
                member: StateCache::new(cap),
                campaign: StateCache::new(cap / 10 + 64),
                reward: StateCache::new(cap / 10 + 64),
                identity: StateCache::new(cap),
                program: StateCache::new(1024),
                raffle: StateCache::new(cap / 10 + 64),
                season: StateCache::new(64),
            }),
            max_attempts: config.max_attempts,
            raffle_settle: config.raffle_settle,
            programs_read: crate::cache::Expiring::new(1024, config.program_fresh_for),
            hot: Arc::new(HotStreams(std::array::from_fn(|_| {
                tokio::sync::Mutex::new(())
            }))),
        }
    }

    /// Waits for this process's turn on the shared stream keyed `key`; the turn lasts as long
    /// as the guard. Other processes still race through the stream's version.
    pub async fn turn_on(&self, key: Uuid) -> tokio::sync::MutexGuard<'_, ()> {
        let stripes = self.hot.0.len() as u128;
        self.hot.0[(key.as_u128() % stripes) as usize].lock().await
    }

    /// How long an activity raffle's draw waits after its end.
    pub fn raffle_settle(&self) -> std::time::Duration {
        self.raffle_settle
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// The current state of a stream: from the cache, or folded from the log.
    pub async fn load<S: CachedState>(&self, stream: &StreamId) -> Result<Loaded<S>, AppError> {
        if let Some(hit) = self.cached(stream) {
            return Ok(hit);
        }
        let name = stream.to_string();
        let recorded = self.store.read_stream(&name, 0).await?;
        self.fold_and_cache(name, &recorded)
    }

    /// A stream's state if it is in memory.
    pub fn cached<S: CachedState>(&self, stream: &StreamId) -> Option<Loaded<S>> {
        let name = stream.to_string();
        let (version, state) = S::cache(&self.caches).get(&name)?;
        Some(Loaded {
            stream: name,
            version,
            state,
        })
    }

    /// Two streams' states, read in one round trip when neither is cached (a new account's
    /// identity and the member standing in for it: the first thing its first comment needs).
    pub async fn load_pair<A: CachedState, B: CachedState>(
        &self,
        a: &StreamId,
        b: &StreamId,
    ) -> Result<(Loaded<A>, Loaded<B>), AppError> {
        match (self.cached::<A>(a), self.cached::<B>(b)) {
            (Some(a), Some(b)) => Ok((a, b)),
            (Some(a), None) => Ok((a, self.load(b).await?)),
            (None, Some(b)) => Ok((self.load(a).await?, b)),
            (None, None) => {
                let (a_name, b_name) = (a.to_string(), b.to_string());
                let (of_a, of_b) = self.store.read_stream_pair(&a_name, &b_name).await?;
                Ok((
                    self.fold_and_cache(a_name, &of_a)?,
                    self.fold_and_cache(b_name, &of_b)?,
                ))
            }
        }
    }

    /// Many streams' states: cached ones from memory, the rest read in one round trip.
    pub async fn load_many<S: CachedState>(
        &self,
        streams: &[StreamId],
    ) -> Result<Vec<Loaded<S>>, AppError> {
        let mut loaded: Vec<Option<Loaded<S>>> = streams.iter().map(|s| self.cached(s)).collect();
        let missing: Vec<String> = streams
            .iter()
            .zip(&loaded)
            .filter(|(_, hit)| hit.is_none())
            .map(|(stream, _)| stream.to_string())
            .collect();
        if !missing.is_empty() {
            let mut read = self.store.read_streams(&missing).await?;
            for (slot, stream) in loaded.iter_mut().zip(streams) {
                if slot.is_none() {
                    let name = stream.to_string();
                    let recorded = read.remove(&name).unwrap_or_default();
                    *slot = Some(self.fold_and_cache(name, &recorded)?);
                }
            }
        }
        Ok(loaded.into_iter().flatten().collect())
    }

    /// A stream's state from its whole history read elsewhere (in the same round trip as
    /// something else), kept hot as a read by [`Ledger::load`] is.
    pub fn load_read<S: CachedState>(
        &self,
        stream: &StreamId,
        recorded: &[RecordedEvent],
    ) -> Result<Loaded<S>, AppError> {
        self.fold_and_cache(stream.to_string(), recorded)
    }

    /// Folds a whole stream read from the log, and keeps the state hot.
    fn fold_and_cache<S: CachedState>(
        &self,
        stream: String,
        recorded: &[RecordedEvent],
    ) -> Result<Loaded<S>, AppError> {
        let mut version = 0;
        let mut state = S::default();
        for r in recorded {
            let event = codec::decode(r).map_err(|e| AppError::Corrupt(e.to_string()))?;
            state = state.apply(&event);
            version = r.stream_version;
        }
        S::cache(&self.caches).put(&stream, version, state.clone());
        Ok(Loaded {
            stream,
            version,
            state,
        })
    }

    /// Caches `stream` as empty: it is named after a reference issued a moment ago, so no event
    /// can be in it yet and the first decision about it reads nothing. Should a writer elsewhere
    /// append to it first, the append's expected version meets that, as for any stale entry.
    fn known_empty<S: CachedState>(&self, stream: &StreamId) {
        S::cache(&self.caches).put(&stream.to_string(), 0, S::default());
    }

    /// An account whose reference was issued a moment ago: its identity stream and the stream
    /// of the member standing in for it are known empty, so its first command reads neither.
    pub fn known_new_account(&self, program_id: ProgramId, account: LinkedAccount) {
        let member = crate::ingest::observed_member_id(program_id, account);
        self.known_empty::<IdentityState>(&StreamId::Identity(program_id, account.account));
        self.known_empty::<MemberState>(&StreamId::Member(member));
    }

    /// Drops the program's cached state, so its next use reads the rules from the log (a
    /// change appended by another process is otherwise met only by an append of this one).
    pub fn forget_program(&self, program: ProgramId) {
        self.forget::<ProgramState>(&StreamId::Program(program).to_string());
    }

    /// Reads a program's state from the log again when it was last read more than
    /// `program_fresh_for` ago, so rules another process changed are in force here within it.
    pub(crate) fn refresh_program_if_old(&self, program: ProgramId) {
        if self.programs_read.get(&program).is_none() {
            self.forget_program(program);
            self.programs_read.insert(program, ());
        }
    }

    /// Drops a member's cached state, so the next decision reads their whole stream again.
    pub(crate) fn forget_member(&self, member: MemberId) {
        self.forget::<MemberState>(&StreamId::Member(member).to_string());
    }

    fn forget<S: CachedState>(&self, stream: &str) {
        S::cache(&self.caches).invalidate(stream);
    }

    /// A command over one stream (`S` a stream state) or several (`S` a tuple of them, the
    /// streams a tuple of ids), its events appended atomically with every version it saw.
    /// On a conflict the states are dropped from the cache, reloaded and decided again.
    pub async fn execute<S: Streams>(
        &self,
        program_id: Uuid,
        command_id: Uuid,
        metadata: Metadata,
        streams: &S::Ids,
        mut decide: impl for<'s> FnMut(S::States<'s>) -> Result<Vec<Event>, DomainError>,
    ) -> Result<Outcome, AppError> {
        let mut retries = 0;
        loop {
            let loaded = S::load(self, streams).await?;
            let events = decide(S::states(&loaded))?;
            let heads = S::heads(&loaded);
            let result = self
                .append(program_id, command_id, &metadata, &events, heads.as_slice())
                .await;
            match result {
                Ok(outcome) => {
                    S::remember(self, &loaded, &events, &outcome);
                    return Ok(with_retries(outcome, events, retries));
                }
                Err(e) if e.is_conflict() && retries + 1 < self.max_attempts => {
                    S::forget(self, &loaded);
                    retries += 1;
                }
                Err(e) if e.is_conflict() => return Err(AppError::TooManyConflicts(retries + 1)),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Two commands over the same two streams in one commit, each keeping the event ids (and
    /// metadata) it would have had alone, so a redelivery of either is still a duplicate. Not
    /// retried: after a conflict or a duplicate nothing was recorded, both states are dropped
    /// from the cache, and the answer is `None`.
    pub async fn append_together<A: CachedState, B: CachedState>(
        &self,
        program_id: Uuid,
        loaded: (&Loaded<A>, &Loaded<B>),
        decided: &[Decided<'_>],
    ) -> Result<Option<Vec<i64>>, AppError> {
        let heads = [
            (loaded.0.stream.as_str(), loaded.0.version),
            (loaded.1.stream.as_str(), loaded.1.version),
        ];
        let outcome = match self.append_decided(program_id, decided, &heads).await {
            Ok(outcome) => outcome,
            Err(e) if e.is_conflict() => {
                self.forget::<A>(&loaded.0.stream);
                self.forget::<B>(&loaded.1.stream);
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        // Moves both cached states forward, or forgets them after a duplicate.
        let events: Vec<Event> = decided.iter().flat_map(|d| d.events).cloned().collect();
        self.remember(loaded.0, &events, &outcome);
        self.remember(loaded.1, &events, &outcome);
        Ok(match outcome {
            Some(AppendOutcome::Appended { positions }) => Some(positions),
            Some(AppendOutcome::Duplicate) => None,
            None => Some(Vec::new()),
        })
    }

    /// Many commands over one stream each, in one round trip but each its own commit: one
    /// command's conflict or duplicate leaves the others recorded (bulk work, where one row
    /// must not undo its neighbours). Cached states move forward as for `execute`; a stream
    /// should appear once per call, since each commit expects the version its state had.
    pub async fn append_each<S: CachedState>(
        &self,
        program_id: Uuid,
        commands: &[(Decided<'_>, &Loaded<S>)],
    ) -> Vec<Result<Option<AppendOutcome>, StoreError>> {
        let mut results: Vec<Option<Result<Option<AppendOutcome>, StoreError>>> =
            commands.iter().map(|_| None).collect();
        let mut commits = Vec::new();
        let mut sent = Vec::new();
        for (i, (decided, loaded)) in commands.iter().enumerate() {
            let heads = [(loaded.stream.as_str(), loaded.version)];
            match self.commit_of(program_id, std::slice::from_ref(decided), &heads) {
                Ok(None) => results[i] = Some(Ok(None)),
                Ok(Some(commit)) => {
                    commits.push(commit);
                    sent.push(i);
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let outcomes = self.store.append_batch(commits).await;
        for (i, outcome) in sent.into_iter().zip(outcomes) {
            let (decided, loaded) = &commands[i];
            match &outcome {
                Ok(appended) => self.remember(loaded, decided.events, &Some(appended.clone())),
                Err(e) if e.is_conflict() => self.forget::<S>(&loaded.stream),
                Err(_) => {}
            }
            results[i] = Some(outcome.map(Some));
        }
        results.into_iter().map(|r| r.unwrap_or(Ok(None))).collect()
    }

    /// One command's events in one commit.
    async fn append(
        &self,
        program_id: Uuid,
        command_id: Uuid,
        metadata: &Metadata,
        events: &[Event],
        heads: &[(&str, i64)],
    ) -> Result<Option<AppendOutcome>, StoreError> {
        let decided = Decided {
            command_id,
            metadata,
            events,
        };
        self.append_decided(program_id, &[decided], heads).await
    }

    /// Groups the decided events by the stream each names, with the version seen for it.
    async fn append_decided(
        &self,
        program_id: Uuid,
        decided: &[Decided<'_>],
        heads: &[(&str, i64)],
    ) -> Result<Option<AppendOutcome>, StoreError> {
        match self.commit_of(program_id, decided, heads)? {
            Some(commit) => self.appender.append(commit).await.map(Some),
            None => Ok(None),
        }
    }

    /// Decided events as one commit, each stream expecting the head it was loaded at; `None`
    /// when nothing was decided.
    fn commit_of(
        &self,
        program_id: Uuid,
        decided: &[Decided<'_>],
        heads: &[(&str, i64)],
    ) -> Result<Option<Commit>, StoreError> {
        let mut commit = Commit::default();
        let numbered = decided.iter().flat_map(|d| {
            d.events.iter().enumerate().map(move |(index, event)| {
                (codec::event_id(d.command_id, index), d.metadata, event)
            })
        });
        for (event_id, metadata, event) in numbered {
            let stream_id = event.stream().to_string();
            let new_event = codec::encode(event, event_id, metadata.clone())?;
            match commit.appends.iter_mut().find(|a| a.stream_id == stream_id) {
                Some(append) => append.events.push(new_event),
                None => {
                    let expected = heads
                        .iter()
                        .find(|(s, _)| *s == stream_id)
                        .map(|(_, v)| ExpectedVersion::from_head(*v))
                        .ok_or_else(|| {
                            StoreError::InvalidAppend(format!(
                                "decision appends to {stream_id}, which it did not load"
                            ))
                        })?;
                    commit.appends.push(StreamAppend {
                        program_id,
                        stream_id,
                        expected,
                        events: vec![new_event],
                    });
                }
            }
        }
        Ok((!commit.appends.is_empty()).then_some(commit))
    }

    /// After a successful append, the cached state moves forward without a read.
    /// A duplicate means someone else recorded it: the cached state may be behind.
    fn remember<S: CachedState>(
        &self,
        loaded: &Loaded<S>,
        events: &[Event],
        outcome: &Option<AppendOutcome>,
    ) {
        match outcome {
            Some(AppendOutcome::Appended { .. }) => {}
            Some(AppendOutcome::Duplicate) => return self.forget::<S>(&loaded.stream),
            None => return,
        }
        let mine: Vec<&Event> = events
            .iter()
            .filter(|e| e.stream().to_string() == loaded.stream)
            .collect();
        if mine.is_empty() {
            return;
        }
        let version = loaded.version + mine.len() as i64;
        let state = mine
            .into_iter()
            .fold(loaded.state.clone(), |s, e| s.apply(e));
        S::cache(&self.caches).put(&loaded.stream, version, state);
    }
}

fn with_retries(outcome: Option<AppendOutcome>, events: Vec<Event>, retries: u32) -> Outcome {
    match outcome {
        None => Outcome::Unchanged,
        Some(AppendOutcome::Duplicate) => Outcome::Duplicate,
        Some(AppendOutcome::Appended { positions }) => Outcome::Recorded {
            events,
            positions,
            retries,
        },
    }
}
