//! Identifiers. They are chosen outside the domain (random, or derived from other ids) and
//! arrive on commands, so deciding stays deterministic.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A brand's loyalty program: the tenant every key starts with.
    ProgramId
);
id_type!(
    /// A member of one program; owns a balance and may own external accounts.
    MemberId
);
id_type!(
    /// An external account as the log knows it: a random id issued the first time a program
    /// sees the account. Only the mutable `external_accounts` table says which platform account
    /// it stands for, and erasing the member deletes that row.
    AccountRef
);
id_type!(
    /// A codeword campaign.
    CampaignId
);
id_type!(
    /// A reward in a program's catalogue.
    RewardId
);
id_type!(
    /// A raffle: tickets bought with points, winners drawn from a committed seed.
    RaffleId
);
id_type!(
    /// A leaderboard season: a board with a start, an end and prizes.
    SeasonId
);
id_type!(
    /// One reward redemption (a coupon issued to a member).
    RedemptionId
);
id_type!(
    /// The id of one ledger entry that changes a balance (award, adjustment, redemption),
    /// so that corrections can name exactly what they compensate.
    EntryId
);

/// Namespace for ids derived with UUIDv5, so the same platform object always maps to the same id.
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6c6f_7961_6c74_792d_6c65_6467_6572_0001);

/// A deterministic id from a name: the way duplicate deliveries become the same event id.
pub fn derived_id(name: &str) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, name.as_bytes())
}
