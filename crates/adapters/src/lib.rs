#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
//! Platform adapters, inbound: verify and parse Instagram, VK and Telegram webhook deliveries
//! into [`Signal`]s, and validate Telegram Mini App / Login Widget data. The outbound calls
//! (VK API, VK ID OAuth, Telegram Bot API) are the `clients` crate.
//!
//! Invariants: nothing here does IO, is async or reads the clock (`now` is a parameter; `.ci/run`
//! checks the dependency tree); nothing panics on outside input; text never carries U+0000 out
//! of this crate.
//! Handlers pass raw body bytes: signatures cover bytes, never re-serialised JSON.

pub mod error;
pub mod instagram;
pub mod mini_app;
pub mod signal;
pub mod telegram;
pub mod vk;

mod secret;
mod text;
mod wire;

pub use error::{InitDataError, ParseError, SignatureError};
pub use secret::secret_matches;
pub use signal::{
    Activity, BotCommand, BotMessage, BotRole, BotStatus, CommandName, Edit, MembershipChange,
    MembershipEvent, Retraction, Signal,
};

use domain::network::{ActivityKind, Network};

/// Whether deliveries from `network` can tell that a member did `kind`: what the adapters
/// here turn into activities. The Mini App lists only these as ways to earn; a rule for
/// anything else can never pay (Instagram tells no one who liked or followed). A mention is
/// the brand's handle in a comment or message (and on VK in a member's post on the wall).
pub fn detects(network: Network, kind: ActivityKind) -> bool {
    use ActivityKind::*;
    match network {
        Network::Instagram => matches!(kind, Comment | Mention | Message),
        Network::Vk => matches!(
            kind,
            Comment | Mention | Repost | Reaction | PollVote | Message | Subscription
        ),
        Network::Telegram => matches!(kind, Comment | Mention | Reaction | PollVote | Subscription),
    }
}
