//! Errors of the inbound adapters. Each maps to one HTTP answer in the api crate.

/// The body is not a delivery of the expected platform at all (answer 400).
/// Odd items inside a well-formed delivery are `Signal::Ignored`, never this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("body is not valid JSON: {0}")]
    Json(String),
    #[error("delivery lacks a usable `{0}`")]
    Missing(&'static str),
    #[error("`{0}` has an unexpected shape: {1}")]
    Shape(&'static str, String),
}

impl ParseError {
    pub(crate) fn json(e: serde_json::Error) -> Self {
        ParseError::Json(e.to_string())
    }
}

/// Why an Instagram `X-Hub-Signature-256` header was refused (answer 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature header missing")]
    MissingHeader,
    #[error("signature header lacks the `sha256=` prefix")]
    MissingPrefix,
    #[error("SHA-1 signatures are not accepted")]
    Sha1NotAccepted,
    #[error("signature is not 64 hex digits")]
    NotHex,
    #[error("signature does not match the body")]
    Mismatch,
}

/// Why Telegram Mini App `initData` or Login Widget data was refused (answer 401).
/// Variants map 1:1 to the outcomes in `webapp_init_data_vectors.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    #[error("init data is malformed")]
    Malformed,
    #[error("init data has no hash")]
    MissingHash,
    #[error("init data hash does not match")]
    InvalidHash,
    #[error("init data Ed25519 signature is missing or does not match")]
    InvalidSignature,
    #[error("init data auth_date is missing, not an integer, or in the future")]
    InvalidAuthDate,
    #[error("init data is older than the allowed age")]
    Expired,
}

impl InitDataError {
    /// The outcome name used by the test vectors and in logs.
    pub fn code(self) -> &'static str {
        match self {
            InitDataError::Malformed => "malformed",
            InitDataError::MissingHash => "missing_hash",
            InitDataError::InvalidHash => "invalid_hash",
            InitDataError::InvalidSignature => "invalid_signature",
            InitDataError::InvalidAuthDate => "invalid_auth_date",
            InitDataError::Expired => "expired",
        }
    }
}
