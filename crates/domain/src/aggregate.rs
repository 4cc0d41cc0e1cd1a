//! What every stream's state has in common: it starts empty and folds events.

use crate::Event;
use crate::campaign::CampaignState;
use crate::identity::IdentityState;
use crate::member::MemberState;
use crate::program::ProgramState;
use crate::reward::RewardState;

pub trait Aggregate: Default + Clone + Send + Sync + 'static {
    fn apply(self, event: &Event) -> Self;

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
    ProgramState
);
