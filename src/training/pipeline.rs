//! One training run, from bars to a stored model: the part shared by the backend's local
//! training and the training host. Blocking: call it on a blocking thread.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::device;
use super::features::{prepare, Prepared};
use super::labels::CLASS_NAMES;
use super::model::{test_metrics, train, Mlp, Observer, TrainError};
use super::storage::{self, ModelFiles};
use ktrdr_core::bars::Bars;
use ktrdr_core::strategy::Strategy;
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// What a run needs.
pub struct RunInput {
    pub strategy: Strategy,
    /// The YAML the strategy came from, stored with the model.
    pub strategy_yaml: String,
    pub series: BTreeMap<(Symbol, Timeframe), Bars>,
    pub models_dir: PathBuf,
    /// The operation (or host session) id, for the summary.
    pub run_id: String,
    /// "local" or "host".
    pub mode: &'static str,
}

fn date(ms: Option<i64>) -> Value {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or(Value::Null, |d| json!(d.format("%Y-%m-%d").to_string()))
}

/// Runs the pipeline; returns the result summary (KTRDR's shape) with the model's folder.
pub fn run(input: RunInput, obs: &mut dyn Observer) -> Result<Value, TrainError> {
    let s = &input.strategy;
    obs.stage("Preparing features");
    let prepared: Prepared =
        prepare(s, &input.series).map_err(|e| TrainError::Failed(e.to_string()))?;
    if obs.cancelled() {
        return Err(TrainError::Cancelled);
    }
    let device = device::best_device();
    tch::manual_seed(42);
    let mut model = Mlp::new(prepared.feature_names.len(), &s.model.architecture, device);
    obs.stage("Training");
    let outcome = train(
        &mut model,
        &prepared.train,
        &prepared.validation,
        &s.model.training,
        obs,
    )?;
    obs.stage("Evaluating on the test set");
    let test = test_metrics(&model, &prepared.test);
    let h = &outcome.history;
    let last = h.last();
    let max = |f: fn(&super::model::EpochMetrics) -> Option<f64>| {
        h.iter()
            .filter_map(f)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    };
    let training_metrics = json!({
        "epochs_trained": h.len(),
        "best_epoch": outcome.best_epoch,
        "early_stopped": outcome.early_stopped,
        "final_train_loss": last.map(|m| m.train_loss),
        "final_train_accuracy": last.map(|m| m.train_accuracy),
        "best_train_accuracy": max(|m| Some(m.train_accuracy)),
        "final_val_loss": last.and_then(|m| m.val_loss),
        "final_val_accuracy": last.and_then(|m| m.val_accuracy),
        "best_val_accuracy": max(|m| m.val_accuracy),
        "training_time": outcome.seconds,
    });
    let all_times = prepared
        .train
        .time
        .iter()
        .chain(&prepared.validation.time)
        .chain(&prepared.test.time);
    let (first, last_t) = (all_times.clone().min().copied(), all_times.max().copied());
    let counts = prepared.train.class_counts();
    let symbols: Vec<&str> = s.symbols.iter().map(|x| x.as_str()).collect();
    let timeframes: Vec<&str> = s.timeframes.iter().map(|t| t.as_str()).collect();
    let data_summary = json!({
        "symbols": symbols,
        "timeframes": timeframes,
        "base_timeframe": s.base_timeframe,
        "start_date": date(first),
        "end_date": date(last_t),
        "total_bars": prepared.total_bars,
        "total_samples": prepared.train.rows() + prepared.validation.rows() + prepared.test.rows(),
        "train_samples": prepared.train.rows(),
        "validation_samples": prepared.validation.rows(),
        "test_samples": prepared.test.rows(),
        "feature_count": prepared.feature_names.len(),
        "train_label_distribution": CLASS_NAMES.iter().zip(counts)
            .map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
    });
    let model_info = json!({
        "parameters_count": model.parameter_count(),
        "trainable_parameters": model.parameter_count(),
        "architecture": "mlp",
        "hidden_layers": s.model.architecture.hidden_layers,
        "device": if device.is_cuda() { "cuda" } else { "cpu" },
    });
    let metrics = json!({
        "epochs": h,
        "best_epoch": outcome.best_epoch,
        "training_metrics": training_metrics,
        "test_metrics": test,
    });
    let metadata = json!({
        "strategy_name": s.name,
        "symbols": symbols,
        "timeframes": timeframes,
        "timeframe": s.base_timeframe,
        "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "run_id": input.run_id,
        "training_mode": input.mode,
        "data_summary": data_summary,
        "model_info": model_info,
        "test_metrics": test,
    });
    obs.stage("Saving the model");
    let path = storage::save(
        &input.models_dir,
        &model,
        &ModelFiles {
            strategy: s,
            strategy_yaml: &input.strategy_yaml,
            feature_names: &prepared.feature_names,
            scaler: prepared.scaler.as_ref(),
            metrics,
            metadata,
        },
    )
    .map_err(|e| TrainError::Failed(e.to_string()))?;
    let shown = storage::relative(&input.models_dir, &path);
    obs.stage(&format!("Model saved to {shown}"));
    Ok(json!({
        "model_path": shown,
        "training_metrics": training_metrics,
        "test_metrics": test,
        "model_info": model_info,
        "data_summary": data_summary,
        "session_info": {
            "operation_id": input.run_id,
            "strategy_name": s.name,
            "symbols": symbols,
            "timeframes": timeframes,
            "training_mode": input.mode,
            "use_host_service": input.mode == "host",
        },
        "resource_usage": { "training_mode": input.mode },
    }))
}
