//! Domain events to rows and back. The payload is the event's own JSON (its `type` included),
//! so a row can be decoded without looking at any other column.

use crate::append::{Metadata, NewEvent};
use crate::error::StoreError;
use crate::read::RecordedEvent;
use domain::Event;
use uuid::Uuid;

/// A domain event as a row to append, under `event_id` with `metadata`.
pub fn encode(event: &Event, event_id: Uuid, metadata: Metadata) -> Result<NewEvent, StoreError> {
    Ok(NewEvent {
        event_id,
        event_type: event.event_type().to_string(),
        schema_version: Event::SCHEMA_VERSION,
        payload: serde_json::to_value(event)?,
        metadata,
    })
}

/// The domain event a row holds, upcast from its schema version; a payload no `Event` variant
/// matches is [`StoreError::UnknownEvent`], naming the row's position.
pub fn decode(recorded: &RecordedEvent) -> Result<Event, StoreError> {
    crate::upcast::decode_value(
        recorded.schema_version,
        recorded.program_id,
        &recorded.payload,
    )
    .map_err(|e| StoreError::UnknownEvent {
        position: recorded.position,
        message: e.to_string(),
    })
}

/// Event ids of one decision: derived from the command's id, so retrying a command (or a
/// platform redelivering it) produces the same ids and the store reports a duplicate.
pub fn event_id(command_id: Uuid, index: usize) -> Uuid {
    if index == 0 {
        command_id
    } else {
        domain::ids::derived_id(&format!("{command_id}/{index}"))
    }
}
