//! `X-Hub-Signature-256` verification and the `hub.*` subscription handshake.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::SignatureError;
use crate::secret::secret_matches;

/// Verifies `X-Hub-Signature-256: sha256=<hex>` against HMAC-SHA256(app secret, raw body).
/// Hash the bytes exactly as received: never parse and re-serialise first.
/// Upper-case hex is accepted (hex decoding is case-insensitive; Meta sends lower case).
pub fn verify_signature(
    app_secret: &[u8],
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    verify_signature_any(&[app_secret], raw_body, header)
}

/// Like [`verify_signature`] with several candidate secrets (Meta app secret and Instagram app
/// secret: which one signs is not settled by the docs). Every candidate is tried, in constant
/// time each.
pub fn verify_signature_any(
    app_secrets: &[&[u8]],
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let expected = decode_header(header)?;
    let mut matched = false;
    for secret in app_secrets {
        // HMAC takes keys of any length, so this cannot fail; treat failure as a mismatch.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            continue;
        };
        mac.update(raw_body);
        matched |= mac.verify_slice(&expected).is_ok();
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn decode_header(header: Option<&str>) -> Result<Vec<u8>, SignatureError> {
    let value = header.ok_or(SignatureError::MissingHeader)?.trim();
    if value.starts_with("sha1=") {
        return Err(SignatureError::Sha1NotAccepted);
    }
    let hex_digest = value
        .strip_prefix("sha256=")
        .ok_or(SignatureError::MissingPrefix)?;
    let digest = hex::decode(hex_digest).map_err(|_| SignatureError::NotHex)?;
    if digest.len() != 32 {
        return Err(SignatureError::NotHex);
    }
    Ok(digest)
}

/// Outcome of the `GET ?hub.mode&hub.challenge&hub.verify_token` handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// Answer 200 with exactly this body (text/plain).
    Confirmed(String),
    /// Answer 403; never echo the challenge.
    Forbidden,
    /// Answer 400: no usable `hub.challenge`.
    BadRequest,
}

impl Subscription {
    pub fn status_code(&self) -> u16 {
        match self {
            Subscription::Confirmed(_) => 200,
            Subscription::Forbidden => 403,
            Subscription::BadRequest => 400,
        }
    }
}

/// Meta's challenges are integers; anything else is not echoed back.
const MAX_CHALLENGE_LEN: usize = 64;

/// Checks the handshake: `mode == "subscribe"` and the verify token (constant time).
pub fn verify_subscription(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    expected_token: &str,
) -> Subscription {
    let challenge = match challenge {
        Some(c)
            if !c.is_empty()
                && c.len() <= MAX_CHALLENGE_LEN
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            c
        }
        _ => return Subscription::BadRequest,
    };
    let token_ok = secret_matches(expected_token, token);
    if mode == Some("subscribe") && token_ok {
        Subscription::Confirmed(challenge.to_owned())
    } else {
        Subscription::Forbidden
    }
}
