//! Old payload shapes read as the current `Event`. A stored payload is never rewritten (its
//! digest is in the hash chain); it is upcast in memory each time it is read.
//!
//! Version 1 named external accounts by their platform ids and fingerprinted texts without a
//! key. Version 2 names accounts by a reference ([`domain::network::LinkedAccount`]); a version
//! 1 account reads as a reference derived from the program and the platform id, which exists
//! only in memory. Version 1 text fingerprints are dropped: unkeyed, they can never equal a
//! keyed one. Activity references are kept as they were stored.

use domain::Event;
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Why a stored payload could not be read as an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpcastError {
    /// The schema version is not one this build knows.
    #[error("unknown schema version {0}")]
    UnknownVersion(i16),
    /// The payload is not an event of its version.
    #[error("{0}")]
    Shape(String),
}

/// The event a stored payload of `schema_version` holds, upcast to the current version.
/// `program_id` is the row's program (version 1 account references are derived from it).
pub fn decode_value(
    schema_version: i16,
    program_id: Uuid,
    payload: &Value,
) -> Result<Event, UpcastError> {
    match schema_version {
        Event::SCHEMA_VERSION => {
            Event::deserialize(payload).map_err(|e| UpcastError::Shape(e.to_string()))
        }
        1 => {
            let upcast = v1_to_v2(program_id, payload.clone())?;
            Event::deserialize(&upcast).map_err(|e| UpcastError::Shape(e.to_string()))
        }
        other => Err(UpcastError::UnknownVersion(other)),
    }
}

/// As [`decode_value`], from the payload's JSON text; the current version decodes without an
/// intermediate `Value`.
pub fn decode_str(
    schema_version: i16,
    program_id: Uuid,
    payload: &str,
) -> Result<Event, UpcastError> {
    if schema_version == Event::SCHEMA_VERSION {
        return serde_json::from_str(payload).map_err(|e| UpcastError::Shape(e.to_string()));
    }
    let value: Value =
        serde_json::from_str(payload).map_err(|e| UpcastError::Shape(e.to_string()))?;
    decode_value(schema_version, program_id, &value)
}

/// The reference a version 1 account reads as: the same for the same program and platform
/// account, so identity streams and member states fold as they did.
pub fn legacy_account_ref(program_id: Uuid, network: &str, scope: &str, external_id: &str) -> Uuid {
    domain::ids::derived_id(&format!(
        "legacy-account/{program_id}/{network}:{scope}:{external_id}"
    ))
}

/// Whether the log was started by a build of an older schema version (its first event is
/// older). `serve` refuses to continue such a log: new events could not meet its accounts and
/// digests. Reads one row, so it costs nothing at any size.
pub async fn is_legacy_log(pool: &sqlx::PgPool) -> Result<bool, sqlx::Error> {
    let first: Option<i16> =
        sqlx::query_scalar("SELECT schema_version FROM events ORDER BY position LIMIT 1")
            .fetch_optional(pool)
            .await?;
    Ok(first.is_some_and(|v| v < Event::SCHEMA_VERSION))
}

fn v1_to_v2(program_id: Uuid, mut payload: Value) -> Result<Value, UpcastError> {
    let Some(fields) = payload.as_object_mut() else {
        return Err(UpcastError::Shape("a payload must be a JSON object".into()));
    };
    if let Some(identity) = fields.remove("identity") {
        fields.insert("account".into(), legacy_account(program_id, &identity)?);
    }
    fields.remove("text_fingerprint");
    fields.remove("paid_texts");
    Ok(payload)
}

fn legacy_account(program_id: Uuid, identity: &Value) -> Result<Value, UpcastError> {
    let part = |name: &str| {
        identity
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| UpcastError::Shape(format!("a version 1 identity needs `{name}`")))
    };
    let network = part("network")?;
    let reference = legacy_account_ref(program_id, network, part("scope")?, part("external_id")?);
    let mut account = Map::new();
    account.insert("network".into(), Value::from(network));
    account.insert("account".into(), Value::from(reference.to_string()));
    Ok(Value::Object(account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::network::{LinkedAccount, Network};
    use serde_json::json;

    const PROGRAM: Uuid = Uuid::from_u128(1);

    fn v1_link() -> Value {
        json!({"type": "AccountLinked", "member_id": "00000000-0000-0000-0000-000000000002",
               "identity": {"network": "vk", "scope": "", "external_id": "715002001"},
               "method": "code", "at": "2026-01-01T12:00:00Z"})
    }

    #[test]
    fn a_version_1_account_reads_as_a_stable_reference() {
        let Event::AccountLinked { account, .. } =
            decode_value(1, PROGRAM, &v1_link()).expect("upcasts")
        else {
            panic!("not AccountLinked");
        };
        let expected = LinkedAccount {
            network: Network::Vk,
            account: domain::ids::AccountRef(legacy_account_ref(PROGRAM, "vk", "", "715002001")),
        };
        assert_eq!(account, expected);
        let again = decode_value(1, PROGRAM, &v1_link()).expect("upcasts");
        assert!(matches!(again, Event::AccountLinked { account, .. } if account == expected));
    }

    #[test]
    fn version_1_fingerprints_are_dropped() {
        let award = json!({"type": "PointsAwarded", "member_id": "00000000-0000-0000-0000-000000000002",
            "entry_id": "00000000-0000-0000-0000-000000000003",
            "activity": {"network": "vk", "kind": "comment", "reference": "-1_2_3"},
            "points": 5, "rule_version": 1, "campaign_id": null,
            "occurred_at": "2026-01-01T12:00:00Z", "at": "2026-01-01T12:00:00Z",
            "text_fingerprint": "0cd381b9bfe829f6"});
        let Event::PointsAwarded {
            text_fingerprint,
            activity,
            ..
        } = decode_value(1, PROGRAM, &award).expect("upcasts")
        else {
            panic!("not PointsAwarded");
        };
        assert_eq!(text_fingerprint, None);
        assert_eq!(activity.reference, "-1_2_3");
    }

    #[test]
    fn the_current_version_is_not_changed_and_unknown_versions_are_refused() {
        let current = serde_json::to_string(&Event::MemberRegistered {
            member_id: domain::ids::MemberId(Uuid::from_u128(2)),
            program_id: domain::ids::ProgramId(PROGRAM),
            at: domain::Timestamp::new(chrono::DateTime::UNIX_EPOCH),
        })
        .expect("encodes");
        assert!(decode_str(Event::SCHEMA_VERSION, PROGRAM, &current).is_ok());
        assert_eq!(
            decode_str(3, PROGRAM, &current),
            Err(UpcastError::UnknownVersion(3))
        );
        assert!(matches!(
            decode_value(2, PROGRAM, &v1_link()),
            Err(UpcastError::Shape(_))
        ));
    }
}
