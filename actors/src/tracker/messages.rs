//! The tracker's vocabulary: events, outcomes, filters, errors and messages.

use actix::prelude::*;
use bytestring::ByteString;
use serde_json::Value;

use crate::job::StopOperation;
use crate::operation::{OperationId, OperationRecord, OperationStatus, OperationType, Progress};
use crate::subscribers::SubscriberId;

/// What an event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Snapshot,
    Progress,
    Completed,
    Failed,
    Cancelled,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot",
            Self::Progress => "progress",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// True for the events that end an operation's stream.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    pub(super) fn for_status(status: OperationStatus) -> Self {
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
    pub(super) fn new(kind: EventKind, seq: u64, record: &OperationRecord) -> Self {
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

/// How an operation ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Completed {
        result_summary: Value,
    },
    /// `result_summary`: what the work did before it failed, when it says.
    Failed {
        error: String,
        result_summary: Option<Value>,
    },
    Cancelled {
        reason: String,
    },
}

/// Filters and pagination for [`ListOperations`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<OperationStatus>,
    pub operation_type: Option<OperationType>,
    pub active_only: bool,
    pub limit: usize,
    pub offset: usize,
}

/// A page of operations, newest first.
#[derive(Debug, Clone)]
pub struct OperationList {
    pub operations: Vec<OperationRecord>,
    /// Operations matching the filter, all pages.
    pub total_count: usize,
    /// Operations pending or running, whatever the filter.
    pub active_count: usize,
}

/// Why a cancel was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CancelError {
    /// No operation has this id (or it is no longer retained).
    #[error("Operation not found: {0}")]
    NotFound(OperationId),
    /// The operation had already ended.
    #[error("Operation {0} cannot be cancelled (status: {1})")]
    AlreadyFinished(OperationId, OperationStatus),
    /// The tracker went away before the operation stopped.
    #[error("operation tracker unavailable")]
    TrackerGone,
}

/// Why a subscription was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubscribeError {
    #[error("Operation not found: {0}")]
    NotFound(OperationId),
}

/// Adds a new `pending` operation; `stop` is how a cancel reaches the actor running it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterOperation {
    pub record: OperationRecord,
    pub stop: Recipient<StopOperation>,
}

/// The operation's actor has started its work.
#[derive(Message)]
#[rtype(result = "()")]
pub struct MarkRunning(pub OperationId);

/// The latest progress of an operation; replaces the previous one.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UpdateProgress {
    pub id: OperationId,
    pub progress: Progress,
}

/// Domain metrics (a learning curve, say) replacing the previous ones.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetMetrics {
    pub id: OperationId,
    pub metrics: Value,
}

/// A warning to show with the operation.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AddWarning {
    pub id: OperationId,
    pub warning: String,
}

/// The operation has ended; the first outcome recorded wins.
#[derive(Message)]
#[rtype(result = "()")]
pub struct FinishOperation {
    pub id: OperationId,
    pub outcome: Outcome,
}

/// The record of one operation.
#[derive(Message)]
#[rtype(result = "Option<OperationRecord>")]
pub struct GetOperation(pub OperationId);

/// A filtered page of operations.
#[derive(Message)]
#[rtype(result = "OperationList")]
pub struct ListOperations(pub ListFilter);

/// Stops a running operation and answers once its actor has stopped and `cancelled` is recorded.
#[derive(Message)]
#[rtype(result = "Result<OperationRecord, CancelError>")]
pub struct CancelOperation {
    pub id: OperationId,
    pub reason: String,
}

/// Cancels every active operation (server shutdown) and answers with how many were stopped,
/// once all of them are recorded.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CancelAll {
    pub reason: String,
}

/// Subscribes to one operation (`operation: Some`) or to all. Without `since`, a snapshot
/// comes first (of the one operation, or of each active one); with it, retained events after
/// `since` are replayed, preceded by a snapshot when some were no longer retained.
#[derive(Message)]
#[rtype(result = "Result<SubscriberId, SubscribeError>")]
pub struct Subscribe {
    pub recipient: Recipient<OperationEvent>,
    pub operation: Option<OperationId>,
    pub since: Option<u64>,
}

/// Ends a subscription.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe(pub SubscriberId);
