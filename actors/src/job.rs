//! Operation actors: every running operation is its own actor. Cancel = stop that actor.
//!
//! A domain describes its work as an [`OperationJob`] and starts it with [`start_operation`].
//! The actor registers the operation with the tracker, runs the job's future in its own context,
//! and records the outcome when it stops. Stopping (user cancel, timeout, shutdown) drops the
//! job's future, which closes its in-flight HTTP requests, and trips the job's
//! [`CancellationToken`], which blocking loops check. `cancelled` is recorded only after the
//! job's blocking tasks (started through [`JobContext::spawn_blocking`]) have returned too, so a
//! cancel that has answered has really stopped the work.

use std::future::Future;
use std::time::Duration;

use actix::prelude::*;
use chrono::Utc;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::events::StopOperation;
use crate::operation::{OperationId, OperationRecord, OperationType, Progress};
use crate::tracker::{
    AddWarning, FinishOperation, MarkRunning, Outcome, ProgressTracker, RegisterOperation,
    SetMetrics, UpdateProgress,
};

/// How a job ends when it does not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// The work failed; the message is shown to the user as the operation's error.
    #[error("{0}")]
    Failed(String),
    /// The work failed part-way; what it did is kept as the operation's result summary (a
    /// load that kept some segments says which).
    #[error("{error}")]
    FailedWith {
        error: String,
        result_summary: Value,
    },
    /// The job saw its token tripped and stopped; recorded as `cancelled`, not as a failure.
    #[error("cancelled")]
    Cancelled,
}

/// What a job's future resolves to: the result summary, or why there is none.
pub type JobResult = Result<Value, JobError>;

/// The work of one operation.
pub trait OperationJob: 'static {
    fn run(self: Box<Self>, ctx: JobContext) -> LocalBoxFuture<'static, JobResult>;
}

impl<F, Fut> OperationJob for F
where
    F: FnOnce(JobContext) -> Fut + 'static,
    Fut: Future<Output = JobResult> + 'static,
{
    fn run(self: Box<Self>, ctx: JobContext) -> LocalBoxFuture<'static, JobResult> {
        Box::pin((*self)(ctx))
    }
}

/// Sends an operation's progress, metrics and warnings to the tracker. Cheap to clone and
/// `Send`, so blocking code can report too.
#[derive(Clone)]
pub struct ProgressReporter {
    id: OperationId,
    tracker: Addr<ProgressTracker>,
}

impl ProgressReporter {
    /// Replaces the operation's progress.
    pub fn report(&self, progress: Progress) {
        self.tracker.do_send(UpdateProgress {
            id: self.id.clone(),
            progress,
        });
    }

    /// Replaces the operation's metrics.
    pub fn set_metrics(&self, metrics: Value) {
        self.tracker.do_send(SetMetrics {
            id: self.id.clone(),
            metrics,
        });
    }

    /// Adds a warning to the operation's record.
    pub fn warn(&self, warning: impl Into<String>) {
        self.tracker.do_send(AddWarning {
            id: self.id.clone(),
            warning: warning.into(),
        });
    }
}

/// What a running job gets: its id, its token, its progress reporter and a place for blocking
/// work.
#[derive(Clone)]
pub struct JobContext {
    pub id: OperationId,
    /// Tripped when the operation's actor stops.
    pub token: CancellationToken,
    pub progress: ProgressReporter,
    /// Blocking tasks of this job: the actor waits for them before it records `cancelled`.
    tasks: TaskTracker,
}

impl JobContext {
    /// Runs CPU or blocking work on a blocking thread. The closure should check
    /// [`Self::token`] between steps and return early when it is cancelled.
    pub fn spawn_blocking<F, T>(&self, f: F) -> impl Future<Output = Result<T, JobError>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let handle = self.tasks.spawn_blocking(f);
        async move {
            handle
                .await
                .map_err(|e| JobError::Failed(format!("worker thread failed: {e}")))
        }
    }
}

/// What to start: the operation's type, the metadata it shows, and an optional time limit.
pub struct OperationSpec {
    pub kind: OperationType,
    pub metadata: Value,
    /// Past this the operation is cancelled with a "timed out" reason.
    pub timeout: Option<Duration>,
}

/// Registers a new operation and starts its actor on the current arbiter; returns its id at once.
pub fn start_operation(
    tracker: &Addr<ProgressTracker>,
    spec: OperationSpec,
    job: impl OperationJob,
) -> OperationId {
    let record = OperationRecord::new(spec.kind, spec.metadata, Utc::now());
    let id = record.operation_id.clone();
    let tracker = tracker.clone();
    OperationActor::create(|ctx| {
        // Sent before the actor's `started` can run, so the tracker knows the operation first.
        tracker.do_send(RegisterOperation {
            record,
            stop: ctx.address().recipient(),
        });
        let token = CancellationToken::new();
        OperationActor {
            context: JobContext {
                id: id.clone(),
                token,
                progress: ProgressReporter {
                    id: id.clone(),
                    tracker: tracker.clone(),
                },
                tasks: TaskTracker::new(),
            },
            tracker,
            job: Some(Box::new(job)),
            timeout: spec.timeout,
            outcome: None,
            stop_reason: None,
        }
    });
    id
}

/// The actor that runs one operation (see the module docs).
pub struct OperationActor {
    context: JobContext,
    tracker: Addr<ProgressTracker>,
    /// Taken when the actor starts.
    job: Option<Box<dyn OperationJob>>,
    timeout: Option<Duration>,
    /// Set when the job's future finished on its own.
    outcome: Option<Outcome>,
    /// Why the actor was asked to stop, when it was.
    stop_reason: Option<String>,
}

impl Actor for OperationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let id = self.context.id.clone();
        self.tracker.do_send(MarkRunning(id.clone()));
        if let Some(timeout) = self.timeout {
            ctx.run_later(timeout, move |act, ctx| {
                act.stop_reason = Some(format!("timed out after {:.1}s", timeout.as_secs_f64()));
                ctx.stop();
            });
        }
        let Some(job) = self.job.take() else {
            return;
        };
        let span = tracing::info_span!("operation", operation_id = %id);
        let fut = tracing::Instrument::instrument(job.run(self.context.clone()), span);
        ctx.spawn(
            actix::fut::wrap_future(fut).map(|result, act: &mut Self, ctx| {
                act.outcome = Some(match result {
                    Ok(result_summary) => Outcome::Completed { result_summary },
                    Err(JobError::Failed(error)) => Outcome::Failed {
                        error,
                        result_summary: None,
                    },
                    Err(JobError::FailedWith {
                        error,
                        result_summary,
                    }) => Outcome::Failed {
                        error,
                        result_summary: Some(result_summary),
                    },
                    Err(JobError::Cancelled) => Outcome::Cancelled {
                        reason: act
                            .stop_reason
                            .clone()
                            .unwrap_or_else(|| "cancelled".into()),
                    },
                });
                ctx.stop();
            }),
        );
    }

    fn stopping(&mut self, _ctx: &mut Context<Self>) -> Running {
        self.context.token.cancel();
        Running::Stop
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        let outcome = self.outcome.take().unwrap_or_else(|| Outcome::Cancelled {
            reason: self
                .stop_reason
                .take()
                .unwrap_or_else(|| "operation actor stopped".into()),
        });
        let finish = FinishOperation {
            id: self.context.id.clone(),
            outcome,
        };
        let tasks = self.context.tasks.clone();
        tasks.close();
        if tasks.is_empty() {
            self.tracker.do_send(finish);
        } else {
            // Blocking work is still returning: record the end once it has.
            let tracker = self.tracker.clone();
            actix::spawn(async move {
                tasks.wait().await;
                tracker.do_send(finish);
            });
        }
    }
}

impl Handler<StopOperation> for OperationActor {
    type Result = ();
    fn handle(&mut self, msg: StopOperation, ctx: &mut Context<Self>) {
        tracing::info!(operation_id = %self.context.id, reason = %msg.reason, "stopping operation");
        self.stop_reason.get_or_insert(msg.reason);
        ctx.stop();
    }
}
