//! The content digest each event contributes to its stream's hash chain. It is computed from
//! the stored fields alone, so the audit can recompute it from the table.

use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// sha256(event id || type || 0 || schema version || canonical payload JSON).
pub fn content_digest(
    event_id: Uuid,
    event_type: &str,
    schema_version: i16,
    payload: &Value,
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(event_id.as_bytes());
    hasher.update(event_type.as_bytes());
    hasher.update([0u8]);
    hasher.update(schema_version.to_be_bytes());
    let mut canonical = Vec::with_capacity(256);
    write_canonical(payload, &mut canonical);
    hasher.update(&canonical);
    hasher.finalize().into()
}

/// The link the database computes on append: sha256(prev || version (8 bytes BE) || digest).
pub fn chain_hash(previous: &[u8], stream_version: i64, digest: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(stream_version.to_be_bytes());
    hasher.update(digest);
    hasher.finalize().into()
}

/// JSON with object keys sorted, whatever order the map kept them in: jsonb reorders keys, so
/// the bytes must not depend on it.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(&Value::String(key.clone()), out);
                out.push(b':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Serialising a scalar Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_digest() {
        let id = Uuid::nil();
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "é"}});
        let b: Value =
            serde_json::from_str(r#"{"a":{"x":"é","y":[1,2]},"b":1}"#).unwrap_or_default();
        assert_eq!(
            content_digest(id, "T", 1, &a),
            content_digest(id, "T", 1, &b)
        );
        assert_ne!(
            content_digest(id, "T", 1, &a),
            content_digest(id, "U", 1, &a)
        );
    }
}
