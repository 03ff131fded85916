//! The reference operation, as KTRDR has it: timed steps with progress, to prove the operations
//! machinery (progress, streaming, cancellation) without any domain.

use std::time::Duration;

use ktrdr_actors::{JobContext, JobResult, Progress};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Limits of a dummy operation.
pub const MAX_DURATION_SECONDS: f64 = 86_400.0;
pub const MAX_STEPS: u64 = 100_000;

/// `POST /api/v1/dummy/start` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DummyRequest {
    /// Total run time, spread evenly over the steps.
    #[serde(default = "default_duration")]
    pub duration_seconds: f64,
    #[serde(default = "default_steps")]
    pub steps: u64,
}

/// KTRDR's defaults: 200 s in 200 iterations (its CLI says so to the user).
fn default_duration() -> f64 {
    200.0
}

fn default_steps() -> u64 {
    200
}

impl DummyRequest {
    /// Checks the ranges; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(self.duration_seconds.is_finite()
            && self.duration_seconds >= 0.0
            && self.duration_seconds <= MAX_DURATION_SECONDS)
        {
            return Err((
                "duration_seconds",
                format!("must be between 0 and {MAX_DURATION_SECONDS}"),
            ));
        }
        if !(1..=MAX_STEPS).contains(&self.steps) {
            return Err(("steps", format!("must be between 1 and {MAX_STEPS}")));
        }
        Ok(())
    }

    /// The operation's `metadata.parameters`.
    pub fn parameters(&self) -> Map<String, Value> {
        let mut p = Map::new();
        p.insert("operation_name".into(), json!("dummy_task"));
        p.insert("service_name".into(), json!("DummyService"));
        p.insert("duration_seconds".into(), json!(self.duration_seconds));
        p.insert("steps".into(), json!(self.steps));
        p
    }
}

/// Runs the steps; a cancel drops this future at its next await.
pub async fn run(request: DummyRequest, ctx: JobContext) -> JobResult {
    let steps = request.steps;
    let pause = Duration::from_secs_f64(request.duration_seconds / steps as f64);
    for i in 1..=steps {
        tokio::time::sleep(pause).await;
        let mut p = Progress::default();
        p.set_steps(i, steps);
        p.items_processed = i;
        p.current_step = Some(format!(
            "Working hard on iteration {i}! [{i}/{steps}] ({:.1}%)",
            p.percentage
        ));
        p.context = serde_json::from_value(json!({
            "operation": "dummy_task",
            "service": "DummyService",
            "context": {
                "current_step": format!("Iteration {i}/{steps}"),
                "current_item": format!("Processing step {i}"),
            },
        }))
        .unwrap_or_default();
        ctx.progress.report(p);
    }
    Ok(json!({"status": "success", "iterations_completed": steps}))
}
