//! Replay: folding a stream from scratch gives the state the ledger kept while deciding, the
//! same state every time, and the same state when folded in chunks (resuming from a snapshot).

use crate::common::generators::{history, setup, time_zone};
use crate::common::ledger::MEMBERS;
use crate::common::{Ledger, account, campaign, fold_stream, member, reward, stream_of};
use domain::campaign::CampaignState;
use domain::folds::{Balances, CodewordRedemptions, Leaderboards};
use domain::identity::IdentityState;
use domain::member::MemberState;
use domain::program::ProgramState;
use domain::reward::RewardState;
use domain::{Aggregate, Event, StreamId};
use proptest::prelude::*;
use std::fmt::Debug;

/// Folds `events` chunk by chunk, carrying a clone of the state across each cut.
fn fold_in_chunks<S: Aggregate>(events: &[&Event], cuts: &[usize]) -> S {
    let mut state = S::default();
    for chunk in chunks(events, cuts) {
        let snapshot = state.clone();
        state = chunk.iter().copied().fold(snapshot, S::apply);
    }
    state
}

/// Splits `items` at the given cut points (taken modulo its length).
fn chunks<'a, T>(items: &'a [T], cuts: &[usize]) -> Vec<&'a [T]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (items.len() + 1)).collect();
    points.extend([0, items.len()]);
    points.sort_unstable();
    points.windows(2).map(|w| &items[w[0]..w[1]]).collect()
}

fn all_streams(ledger: &Ledger) -> Vec<StreamId> {
    let mut streams: Vec<StreamId> = (0..MEMBERS).map(|m| StreamId::Member(member(m))).collect();
    streams.extend((0..3).map(|c| StreamId::Campaign(campaign(c))));
    streams.extend((0..3).map(|r| StreamId::Reward(reward(r))));
    streams
        .extend((0..6).map(|a| StreamId::Identity(crate::common::program(), account(a).account)));
    streams.retain(|s| !stream_of(&ledger.log, s).is_empty());
    streams
}

fn check_chunks<S: Aggregate + PartialEq + Debug>(
    log: &[Event],
    stream: &StreamId,
    cuts: &[usize],
) -> Result<(), TestCaseError> {
    let events = stream_of(log, stream);
    prop_assert_eq!(
        fold_in_chunks::<S>(&events, cuts),
        S::fold(events.iter().copied())
    );
    Ok(())
}

fn check_stream_in_chunks(
    log: &[Event],
    stream: &StreamId,
    cuts: &[usize],
) -> Result<(), TestCaseError> {
    match stream {
        StreamId::Member(_) => check_chunks::<MemberState>(log, stream, cuts),
        StreamId::Campaign(_) => check_chunks::<CampaignState>(log, stream, cuts),
        StreamId::Reward(_) => check_chunks::<RewardState>(log, stream, cuts),
        StreamId::Identity(..) => check_chunks::<IdentityState>(log, stream, cuts),
        StreamId::Program(_) => check_chunks::<ProgramState>(log, stream, cuts),
        StreamId::Raffle(_) => check_chunks::<domain::raffle::RaffleState>(log, stream, cuts),
        StreamId::Season(_) => check_chunks::<domain::season::SeasonState>(log, stream, cuts),
    }
}

/// The folds of the whole log that read models keep and the audit recomputes.
#[derive(Debug, PartialEq)]
struct ReadModels {
    balances: Balances,
    boards: Leaderboards,
    codewords: CodewordRedemptions,
}

impl ReadModels {
    fn new(tz: chrono_tz::Tz) -> Self {
        let (balances, codewords) = (Balances::default(), CodewordRedemptions::default());
        ReadModels {
            balances,
            boards: Leaderboards::new(tz),
            codewords,
        }
    }

    fn apply(&mut self, event: &Event) {
        self.balances.apply(event);
        self.boards.apply(event);
        self.codewords.apply(event);
    }
}

proptest! {
    #[test]
    fn replay_gives_the_state_the_ledger_kept(setup in setup(), steps in history()) {
        let ledger = Ledger::run_all(setup, &steps);
        for m in 0..MEMBERS {
            let stream = StreamId::Member(member(m));
            let replayed: MemberState = fold_stream(&ledger.log, &stream);
            prop_assert_eq!(&replayed, &fold_stream(&ledger.log, &stream));
            prop_assert_eq!(replayed, ledger.member(m));
        }
        for (n, state) in &ledger.campaigns {
            let replayed: CampaignState =
                fold_stream(&ledger.log, &StreamId::Campaign(campaign(*n)));
            prop_assert_eq!(&replayed, state);
        }
        for (n, state) in &ledger.rewards {
            let replayed: RewardState =
                fold_stream(&ledger.log, &StreamId::Reward(reward(*n)));
            prop_assert_eq!(&replayed, state);
        }
    }

    #[test]
    fn folding_in_chunks_equals_folding_whole(
        setup in setup(),
        steps in history(),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        tz in time_zone(),
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        for stream in all_streams(&ledger) {
            check_stream_in_chunks(&ledger.log, &stream, &cuts)?;
        }
        let mut resumed = ReadModels::new(tz);
        for chunk in chunks(&ledger.log, &cuts) {
            chunk.iter().for_each(|e| resumed.apply(e));
        }
        let mut whole = ReadModels::new(tz);
        ledger.log.iter().for_each(|e| whole.apply(e));
        prop_assert_eq!(resumed, whole);
    }
}
