//! The tracker's vocabulary: outcomes, filters, errors and messages.

use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::events::{OperationEvent, StopOperation};
use crate::operation::{OperationId, OperationRecord, OperationStatus, OperationType, Progress};
use crate::subscribers::SubscriberId;

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
    /// Created at or after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this time.
    pub created_before: Option<DateTime<Utc>>,
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
    /// Another backend sharing the store runs it: cancel it there.
    #[error("Operation {0} runs on another backend ({1}): cancel it there")]
    Elsewhere(OperationId, String),
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

/// Writes every change not yet in the store and answers once it is written (shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct FlushStore;

/// Ends every subscription after the events already queued for it, with a `shutdown` event
/// (the server is stopping).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseStreams;
