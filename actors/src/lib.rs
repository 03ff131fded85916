//! ktrdr-actors: generic, domain-free actor infrastructure for long-running operations.
//!
//! Nothing here knows about market data or models; domains plug in by describing their work as
//! an [`OperationJob`] and their metadata as JSON.
//!
//! # Layout
//! - [`operation`]: ids (`op_{type}_{YYYYmmdd_HHMMSS}_{8 hex}`), types, statuses, progress and
//!   the operation record in KTRDR API v1's shape.
//! - [`tracker`]: the ProgressTracker actor: registry, list/filter/paginate, retention, events
//!   with sequence numbers, replay, cancel and cancel-all.
//! - [`events`]: operation events and the stop message (a leaf: tracker, subscribers and jobs
//!   build on it, not on each other in a circle).
//! - [`subscribers`]: per-subscriber delivery with coalescing, so a slow subscriber delays no one.
//! - [`job`]: operation actors (cancel = stop the actor), the job trait, the progress reporter,
//!   blocking work that the cancel waits for.
//! - [`store`]: the durable operation store (SQLite by default, Postgres when configured) that
//!   the tracker writes and reads; operation records only, nothing of any domain.
//! - [`backoff`]: exponential backoff with jitter, the one retry schedule.
//! - [`host_client`]: the HostServiceClient actor: pooled awc client, retries with backoff and
//!   jitter, typed errors, health check and statistics.

pub mod backoff;
pub mod events;
pub mod host_client;
pub mod job;
pub mod operation;
pub mod store;
pub mod subscribers;
pub mod tracker;

pub use events::{EventKind, OperationEvent, StopOperation};
pub use job::{
    start_operation, JobContext, JobError, JobResult, OperationJob, OperationSpec, ProgressReporter,
};
pub use operation::{OperationId, OperationRecord, OperationStatus, OperationType, Progress};
pub use tokio_util::sync::CancellationToken;
pub use tracker::ProgressTracker;
