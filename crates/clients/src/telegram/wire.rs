//! The Bot API envelope: `{"ok":true,"result":…}` or `{"ok":false,"error_code","description",
//! "parameters"}`, read into a result or a typed [`ClientError`].

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::ClientError;
use crate::http::{Answer, excerpt};

#[derive(Deserialize)]
struct Envelope<'a> {
    ok: bool,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    error_code: Option<i64>,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
    migrate_to_chat_id: Option<i64>,
}

/// Telegram omits `retry_after` only rarely; a second is the per-chat pace anyway.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Longer waits than a day are read as a day, so no arithmetic on them can overflow.
const MAX_RETRY_AFTER_SECS: u64 = 86_400;

pub(super) fn result<T: DeserializeOwned>(answer: &Answer) -> Result<T, ClientError> {
    let envelope: Envelope = match serde_json::from_slice(&answer.body) {
        Ok(envelope) => envelope,
        Err(_) if answer.status >= 500 || answer.status == 429 => {
            return Err(ClientError::Status {
                status: answer.status,
            });
        }
        Err(e) => {
            return Err(ClientError::Malformed(format!(
                "HTTP {}: not a Bot API envelope ({e}): {}",
                answer.status,
                excerpt(&answer.body)
            )));
        }
    };
    if !envelope.ok {
        return Err(api_error(answer.status, envelope));
    }
    let raw = envelope
        .result
        .ok_or_else(|| ClientError::Malformed("`ok` without `result`".to_owned()))?;
    serde_json::from_str(raw.get())
        .map_err(|e| ClientError::Malformed(format!("unexpected `result`: {e}")))
}

fn api_error(status: u16, envelope: Envelope) -> ClientError {
    let code = envelope.error_code.unwrap_or(i64::from(status));
    let description = envelope.description.unwrap_or_default();
    let parameters = envelope.parameters.unwrap_or(Parameters {
        retry_after: None,
        migrate_to_chat_id: None,
    });
    if let Some(new_chat_id) = parameters.migrate_to_chat_id {
        return ClientError::ChatMigrated { new_chat_id };
    }
    if code == 429 || parameters.retry_after.is_some() {
        let retry_after = parameters.retry_after.map_or(DEFAULT_RETRY_AFTER, |secs| {
            Duration::from_secs(secs.min(MAX_RETRY_AFTER_SECS))
        });
        return ClientError::TooManyRequests { retry_after };
    }
    if code == 403 {
        return ClientError::Forbidden { description };
    }
    if code == 400 && description.to_ascii_lowercase().contains("chat not found") {
        return ClientError::ChatNotFound;
    }
    ClientError::Telegram { code, description }
}
