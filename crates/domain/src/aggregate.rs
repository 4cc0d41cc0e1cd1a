//! What every stream's state has in common: it starts empty and folds events.

use crate::Event;
use crate::campaign::CampaignState;
use crate::identity::IdentityState;
use crate::member::MemberState;
use crate::program::ProgramState;
use crate::raffle::RaffleState;
use crate::reward::RewardState;
use crate::season::SeasonState;

/// A stream's state: empty by default, advanced one event at a time. Loading a stream is folding
/// its events; events of other streams leave a state unchanged.
pub trait Aggregate: Default + Clone + Send + Sync + 'static {
    /// The state after `event`.
    fn apply(self, event: &Event) -> Self;

    /// The state after all of `events`, in order, from empty.
    fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        events.into_iter().fold(Self::default(), Self::apply)
    }
}

macro_rules! aggregate {
    ($($state:ty),*) => {
        $(impl Aggregate for $state {
            fn apply(self, event: &Event) -> Self {
                self.evolve(event)
            }
        })*
    };
}

aggregate!(
    MemberState,
    CampaignState,
    RewardState,
    IdentityState,
    ProgramState,
    RaffleState,
    SeasonState
);
