//! Platform adapters. Inbound (every module but `clients`): verify and parse Instagram, VK and
//! Telegram webhook deliveries into [`Signal`]s, and validate Telegram Mini App / Login Widget
//! data. Outbound (`clients`): the VK API, VK ID OAuth, the Telegram Bot API and the
//! rate-limited notification dispatcher, with timeouts and retries.
//!
//! Invariants: the inbound modules do no IO, are not async and read no clock (`now` is a
//! parameter); nothing panics on outside input; text never carries U+0000 out of this crate.
//! Handlers pass raw body bytes: signatures cover bytes, never re-serialised JSON.

pub mod clients;
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
