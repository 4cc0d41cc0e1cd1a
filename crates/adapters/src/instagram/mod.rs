//! Instagram (Meta Graph API) webhooks: signature check, GET handshake, and the change parser.
//!
//! The handler verifies `X-Hub-Signature-256` over the raw bytes first, then calls [`parse`].

mod parse;
mod signature;

pub use parse::{addressed_accounts, parse};
/// Header carrying `sha256=<hex>` of the raw body.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

pub use signature::{Subscription, verify_signature, verify_signature_any, verify_subscription};
