//! What flows between the tracker, its subscribers and the operation actors: events of an
//! operation's changes, and the message that stops an operation. A leaf module: it depends on
//! the operation types alone, so the tracker, the subscribers and the jobs all build on it
//! without depending on each other in a circle.

use actix::prelude::*;
use bytestring::ByteString;
use serde_json::Value;

use crate::operation::{OperationId, OperationRecord, OperationStatus};

/// Asks an operation's actor to stop; the reason is recorded with `cancelled`.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct StopOperation {
    pub reason: String,
}

/// What an event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Snapshot,
    Progress,
    Completed,
    Failed,
    Cancelled,
    /// Not about an operation: the stream ends because the server is shutting down. It comes
    /// after every event queued before it.
    Shutdown,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot",
            Self::Progress => "progress",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Shutdown => "shutdown",
        }
    }

    /// True for the events that end an operation's stream.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    pub(crate) fn for_status(status: OperationStatus) -> Self {
        match status {
            OperationStatus::Completed => Self::Completed,
            OperationStatus::Failed => Self::Failed,
            OperationStatus::Cancelled => Self::Cancelled,
            OperationStatus::Pending | OperationStatus::Running => Self::Progress,
        }
    }
}

/// One change of one operation, serialised once for every subscriber:
/// `{"type": ..., "seq": n, "operation": {...}}` (the record without `metrics`).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct OperationEvent {
    pub kind: EventKind,
    pub seq: u64,
    pub operation_id: OperationId,
    /// The operation's status in this event.
    pub status: OperationStatus,
    /// The event's JSON text, shared by all subscribers (reference-counted: a websocket frame
    /// is made of it without a copy).
    pub json: ByteString,
}

impl OperationEvent {
    /// The last event of every stream when the server shuts down (`operation_id` names no
    /// operation).
    pub(crate) fn shutdown(seq: u64, marker: OperationId) -> Self {
        Self {
            kind: EventKind::Shutdown,
            seq,
            operation_id: marker,
            status: OperationStatus::Cancelled,
            json: serde_json::json!({"type": "shutdown", "seq": seq})
                .to_string()
                .into(),
        }
    }

    pub(crate) fn new(kind: EventKind, seq: u64, record: &OperationRecord) -> Self {
        let mut operation = serde_json::to_value(record).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut operation {
            map.remove("metrics");
        }
        let json = serde_json::json!({"type": kind.as_str(), "seq": seq, "operation": operation});
        Self {
            kind,
            seq,
            operation_id: record.operation_id.clone(),
            status: record.status,
            json: json.to_string().into(),
        }
    }
}
