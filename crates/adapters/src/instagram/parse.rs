//! Batched Instagram deliveries: `entry[]` per brand account, each with `changes[]` and `messaging[]`.
//! One odd change never fails the batch: it becomes `Signal::Ignored`.

use domain::network::{ActivityKind, ExternalIdentity, Network};
use domain::privacy::PlatformActivity;
use serde::Deserialize;
use serde_json::Value;

use crate::error::ParseError;
use crate::signal::{Activity, Retraction, Signal};
use crate::text::at_handles;
use crate::wire::{RawId, clean_opt, id, unix_time};

#[derive(Deserialize)]
struct Envelope {
    object: Option<Value>,
    entry: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct Entry {
    id: Option<RawId>,
    time: Option<i64>,
    #[serde(default)]
    changes: Vec<Value>,
    #[serde(default)]
    messaging: Vec<Value>,
    // The Instagram-Login examples put one change straight into the entry.
    field: Option<String>,
    value: Option<Value>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct Comment {
    id: Option<RawId>,
    comment_id: Option<RawId>,
    text: Option<String>,
    from: Option<Party>,
    media: Option<Media>,
}

#[derive(Deserialize)]
struct Party {
    id: RawId,
    username: Option<String>,
}

#[derive(Deserialize)]
struct Media {
    id: Option<RawId>,
}

#[derive(Deserialize)]
struct Messaging {
    sender: Option<Party>,
    timestamp: Option<i64>,
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    mid: Option<RawId>,
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    #[serde(default)]
    is_deleted: bool,
    #[serde(default)]
    is_unsupported: bool,
}

/// The brand account an entry belongs to, and when Meta sent it.
struct Brand {
    account_id: String,
    sent_at: Option<i64>,
}

/// The brand accounts a delivery names (`entry[].id`), read without trusting anything else in
/// it: only to say which channel a delivery refused for its signature was meant for. At most
/// ten, each a plain number.
pub fn addressed_accounts(raw_body: &[u8]) -> Vec<String> {
    #[derive(Deserialize)]
    struct Addressed {
        #[serde(default)]
        entry: Vec<serde_json::Value>,
    }
    let Ok(addressed) = serde_json::from_slice::<Addressed>(raw_body) else {
        return Vec::new();
    };
    let mut accounts: Vec<String> = addressed
        .entry
        .iter()
        .filter_map(|e| match e.get("id")? {
            serde_json::Value::String(id) => Some(id.clone()),
            serde_json::Value::Number(id) => Some(id.to_string()),
            _ => None,
        })
        .filter(|id| !id.is_empty() && id.len() <= 25 && id.bytes().all(|b| b.is_ascii_digit()))
        .take(10)
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    accounts
}

/// Parses a webhook body (already signature-checked) into signals, in delivery order.
pub fn parse(raw_body: &[u8]) -> Result<Vec<Signal>, ParseError> {
    let envelope: Envelope = serde_json::from_slice(raw_body).map_err(ParseError::json)?;
    if envelope
        .object
        .as_ref()
        .is_some_and(|o| o.as_str() != Some("instagram"))
    {
        return Ok(vec![Signal::Ignored {
            reason: "not an instagram delivery",
        }]);
    }
    let entries = envelope.entry.ok_or(ParseError::Missing("entry"))?;
    let mut signals = Vec::new();
    for entry in entries {
        match serde_json::from_value::<Entry>(entry) {
            Ok(entry) => parse_entry(entry, &mut signals),
            Err(_) => signals.push(Signal::Ignored {
                reason: "malformed entry",
            }),
        }
    }
    Ok(signals)
}

fn parse_entry(entry: Entry, signals: &mut Vec<Signal>) {
    let Some(account_id) = id(entry.id) else {
        signals.push(Signal::Ignored {
            reason: "entry without a brand account id",
        });
        return;
    };
    let brand = Brand {
        account_id,
        sent_at: entry.time,
    };
    if let (Some(field), Some(value)) = (entry.field, entry.value) {
        signals.push(parse_change(&brand, Change { field, value }));
    }
    for change in entry.changes {
        signals.push(match serde_json::from_value::<Change>(change) {
            Ok(change) => parse_change(&brand, change),
            Err(_) => Signal::Ignored {
                reason: "malformed change",
            },
        });
    }
    for item in entry.messaging {
        signals.push(match serde_json::from_value::<Messaging>(item) {
            Ok(item) => parse_messaging(&brand, item),
            Err(_) => Signal::Ignored {
                reason: "malformed messaging item",
            },
        });
    }
}

fn parse_change(brand: &Brand, change: Change) -> Signal {
    match change.field.as_str() {
        "comments" | "live_comments" => match serde_json::from_value::<Comment>(change.value) {
            Ok(comment) => comment_signal(brand, comment),
            Err(_) => Signal::Ignored {
                reason: "malformed comment",
            },
        },
        // Only ids: the comment is looked up with the brand's token. A caption mention
        // (media id alone) names a post, whose author Meta does not give.
        "mentions" => match serde_json::from_value::<MentionIds>(change.value) {
            Ok(MentionIds {
                comment_id: Some(comment_id),
            }) => match id(Some(comment_id)) {
                Some(comment_id) => Signal::MentionedInComment {
                    destination: brand.account_id.clone(),
                    comment_id,
                    sent_at: brand.sent_at.and_then(unix_time),
                },
                None => Signal::Ignored {
                    reason: "malformed mention",
                },
            },
            Ok(MentionIds { comment_id: None }) => Signal::Ignored {
                reason: "caption mention: Meta does not say who posted it",
            },
            Err(_) => Signal::Ignored {
                reason: "malformed mention",
            },
        },
        _ => Signal::Ignored {
            reason: "field not used for points",
        },
    }
}

#[derive(Deserialize)]
struct MentionIds {
    comment_id: Option<RawId>,
}

fn comment_signal(brand: &Brand, comment: Comment) -> Signal {
    // The reference uses `id`; one examples page shows `comment_id`.
    let Some(comment_id) = id(comment.id).or_else(|| id(comment.comment_id)) else {
        return Signal::Ignored {
            reason: "comment without an id",
        };
    };
    let Some(from) = comment.from else {
        return Signal::Ignored {
            reason: "comment without an author",
        };
    };
    let Some(author) = from.id.into_id() else {
        return Signal::Ignored {
            reason: "comment without an author",
        };
    };
    if author == brand.account_id {
        return Signal::Ignored {
            reason: "comment by the brand itself",
        };
    }
    let text = clean_opt(comment.text);
    Signal::Activity(Activity {
        account: ExternalIdentity::new(Network::Instagram, &brand.account_id, author),
        username: clean_opt(from.username),
        display_name: None,
        language_code: None,
        kind: ActivityKind::Comment,
        reference: comment_id,
        destination: brand.account_id.clone(),
        target: comment.media.and_then(|m| id(m.id)),
        mentions: text.as_deref().map(at_handles).unwrap_or_default(),
        text,
        occurred_at: brand.sent_at.and_then(unix_time),
    })
}

fn parse_messaging(brand: &Brand, item: Messaging) -> Signal {
    let Some(message) = item.message else {
        return Signal::Ignored {
            reason: "messaging event not used",
        };
    };
    // The brand's own messages (echoes) are never member actions.
    if message.is_echo {
        return Signal::Ignored {
            reason: "message sent by the brand",
        };
    }
    let Some(sender) = item.sender.and_then(|s| s.id.into_id()) else {
        return Signal::Ignored {
            reason: "message without a sender",
        };
    };
    if sender == brand.account_id {
        return Signal::Ignored {
            reason: "message sent by the brand",
        };
    }
    let Some(mid) = id(message.mid) else {
        return Signal::Ignored {
            reason: "message without an id",
        };
    };
    let account = ExternalIdentity::new(Network::Instagram, &brand.account_id, sender);
    let occurred_at = item.timestamp.or(brand.sent_at).and_then(unix_time);
    if message.is_deleted {
        return Signal::Retraction(Retraction {
            activity: PlatformActivity {
                network: Network::Instagram,
                kind: ActivityKind::Message,
                reference: mid,
            },
            destination: brand.account_id.clone(),
            account: Some(account),
            retracted_by: None,
            occurred_at,
        });
    }
    if message.is_unsupported {
        return Signal::Ignored {
            reason: "unsupported message type",
        };
    }
    Signal::Activity(Activity {
        account,
        username: None,
        display_name: None,
        language_code: None,
        kind: ActivityKind::Message,
        reference: mid,
        destination: brand.account_id.clone(),
        target: None,
        mentions: Vec::new(),
        text: clean_opt(message.text),
        occurred_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addressed_accounts_are_plain_numbers_whatever_else_the_body_holds() {
        let body = br#"{"entry": [{"id": "17841400000000001"}, {"id": 17841400000000002},
            {"id": "17841400000000001"}, {"id": "<script>"}, {"id": null}, {}], "x": 1}"#;
        assert_eq!(
            addressed_accounts(body),
            vec![
                "17841400000000001".to_string(),
                "17841400000000002".to_string()
            ]
        );
        assert!(addressed_accounts(b"not json").is_empty());
        let many: Vec<String> = (0..50).map(|n| format!(r#"{{"id": "{n}"}}"#)).collect();
        let body = format!(r#"{{"entry": [{}]}}"#, many.join(","));
        assert_eq!(addressed_accounts(body.as_bytes()).len(), 10);
    }
}
