//! A training run's progress in the operations' shape, for whoever shows it: the backend's
//! operation (through its reporter) or a training-host session (through its status).

use std::time::{Duration, Instant};

use ktrdr_actors::Progress;
use serde_json::{json, Value};

use super::model::{EpochMetrics, Observer};

/// Batch progress is sent at most this often (epoch ends and stages always).
pub const REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// An [`Observer`] that renders progress and metrics and hands them to callbacks.
pub struct ProgressObserver<R, M, C>
where
    R: FnMut(Progress),
    M: FnMut(Value),
    C: Fn() -> bool,
{
    pub report: R,
    pub metrics: M,
    pub cancelled: C,
    last: Option<Instant>,
    /// The last stage shown, kept in the context while epochs run.
    stage: String,
    /// An epoch has ended: later stages show 100%.
    trained: bool,
}

impl<R, M, C> ProgressObserver<R, M, C>
where
    R: FnMut(Progress),
    M: FnMut(Value),
    C: Fn() -> bool,
{
    pub fn new(report: R, metrics: M, cancelled: C) -> Self {
        Self {
            report,
            metrics,
            cancelled,
            last: None,
            stage: String::new(),
            trained: false,
        }
    }

    fn send(&mut self, epoch: usize, epochs: usize, batch: usize, batches: usize) {
        let mut p = Progress::default();
        let done = epoch as f64 + batch as f64 / batches.max(1) as f64;
        p.percentage = (100.0 * done / epochs.max(1) as f64).clamp(0.0, 100.0);
        p.steps_completed = if batch == batches {
            epoch as u64 + 1
        } else {
            epoch as u64
        };
        p.steps_total = epochs as u64;
        p.items_processed = (epoch * batches + batch) as u64;
        p.items_total = Some((epochs * batches) as u64);
        p.current_step = Some(format!(
            "Epoch {}/{epochs} · Batch {batch}/{batches}",
            epoch + 1
        ));
        p.context = serde_json::from_value(json!({
            "stage": self.stage,
            "current_epoch": epoch + 1,
            "total_epochs": epochs,
            "current_batch": batch,
            "total_batches": batches,
        }))
        .unwrap_or_default();
        (self.report)(p);
        self.last = Some(Instant::now());
    }
}

impl<R, M, C> Observer for ProgressObserver<R, M, C>
where
    R: FnMut(Progress),
    M: FnMut(Value),
    C: Fn() -> bool,
{
    fn stage(&mut self, step: &str) {
        self.stage = step.to_owned();
        (self.report)(Progress {
            current_step: Some(step.to_owned()),
            context: serde_json::from_value(json!({ "stage": step })).unwrap_or_default(),
            // Stages after the epochs (evaluating, saving) keep the training's 100%.
            percentage: if self.trained { 100.0 } else { 0.0 },
            ..Default::default()
        });
    }

    fn batch(&mut self, epoch: usize, epochs: usize, batch: usize, batches: usize) {
        if batch == batches || self.last.is_none_or(|t| t.elapsed() >= REPORT_INTERVAL) {
            self.send(epoch, epochs, batch, batches);
        }
    }

    fn epoch(&mut self, history: &[EpochMetrics], best_epoch: usize) {
        self.trained = true;
        (self.metrics)(json!({ "epochs": history, "best_epoch": best_epoch }));
    }

    fn cancelled(&self) -> bool {
        (self.cancelled)()
    }
}
