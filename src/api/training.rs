//! `/api/v1/trainings/start`, `/api/v1/models`, `/api/v1/strategies`.

use actix_web::{web, HttpResponse};
use ktrdr_actors::OperationId;
use serde::Deserialize;
use serde_json::{json, Value};

use super::AppState;
use crate::http::error::ApiError;
use crate::http::json::{date_range, parse_field, within_bounds, ValidJson};
use crate::training::manager::{StartTraining, TrainingRequest};
use crate::training::storage;
use ktrdr_core::mode::LoadMode;
use ktrdr_core::strategy;
use ktrdr_core::strategy::{StrategyFile, StrategyFileError};
use ktrdr_core::timeframe::{Symbol, Timeframe};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/trainings/start", web::post().to(start))
        .route("/models", web::get().to(models))
        .route("/trainings/{id}/performance", web::get().to(performance));
}

/// `POST /trainings/start` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StartBody {
    strategy_name: String,
    /// The strategy's own when empty.
    #[serde(default)]
    symbols: Vec<String>,
    #[serde(default)]
    timeframes: Vec<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    /// A load to run first (`local` = the store as it is, the default; `tail`, `backfill`,
    /// `full`).
    #[serde(default)]
    data_mode: Option<String>,
    /// Accepted for KTRDR clients; ktrdr has no separate analytics.
    #[serde(default)]
    #[allow(dead_code)]
    detailed_analytics: Option<bool>,
}

async fn start(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    ValidJson(body): ValidJson<StartBody>,
) -> Result<HttpResponse, ApiError> {
    let client = state.limits.admit(&req, &state.tracker).await?;
    let Started {
        id,
        symbols,
        timeframes,
        strategy_name,
        epochs,
    } = start_training(&state, body).await?;
    state.limits.started(client, &id);
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "task_id": id,
        "status": "training_started",
        "message": format!(
            "Neural network training started for {} using {strategy_name} strategy",
            symbols.join(", ")
        ),
        "symbols": symbols,
        "timeframes": timeframes,
        "strategy_name": strategy_name,
        "epochs": epochs,
    })))
}

/// A training that started.
pub(super) struct Started {
    pub id: OperationId,
    symbols: Vec<String>,
    timeframes: Vec<String>,
    strategy_name: String,
    epochs: usize,
}

/// Checks a training request (the strategy file included) and starts it.
pub(super) async fn start_training(state: &AppState, body: StartBody) -> Result<Started, ApiError> {
    let symbols: Vec<Symbol> = parse_list("body -> symbols", &body.symbols)?;
    let timeframes: Vec<Timeframe> = parse_list("body -> timeframes", &body.timeframes)?;
    // The range may be loaded first (`data_mode`): the same bounds as a load's.
    let (start, end) = within_bounds(
        date_range(&body.start_date, &body.end_date, "body -> ")?,
        "body -> ",
    )?;
    let data_mode = body
        .data_mode
        .as_deref()
        .map(|m| parse_field::<LoadMode>("body -> data_mode", m))
        .transpose()?;
    let dir = state.settings.paths.strategies_dir.clone();
    let name = body.strategy_name.clone();
    let StrategyFile {
        path,
        yaml,
        strategy,
    } = web::block(move || strategy::load(&dir, &name))
        .await?
        .map_err(|e| match &e {
            StrategyFileError::Invalid { error, .. } => ApiError::StrategyConfig {
                message: e.to_string(),
                strategy: body.strategy_name.clone(),
                path: error.path.clone(),
            },
            _ => ApiError::field("body -> strategy_name", e.to_string()),
        })?;
    let strategy = strategy
        .with_scope(symbols, timeframes)
        .map_err(|e| ApiError::field("body", e.to_string()))?;
    let symbols: Vec<String> = strategy.symbols.iter().map(|s| s.to_string()).collect();
    let timeframes: Vec<String> = strategy.timeframes.iter().map(|t| t.to_string()).collect();
    let strategy_name = strategy.name.clone();
    let epochs = strategy.model.training.epochs;
    let id = state
        .training
        .send(StartTraining(TrainingRequest {
            strategy,
            strategy_path: path,
            strategy_yaml: yaml,
            start,
            end,
            data_mode,
        }))
        .await
        .map_err(ApiError::mailbox("TrainingManager"))?;
    Ok(Started {
        id,
        symbols,
        timeframes,
        strategy_name,
        epochs,
    })
}

/// The training request an operation ran, from its metadata (for a retry).
pub(super) fn training_of(metadata: &Value) -> StartBody {
    let p = &metadata["parameters"];
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    StartBody {
        // The file the training read (its stem is the name `locate` finds), not the YAML's
        // own `name:`, which may differ from the file's.
        strategy_name: p["strategy_path"]
            .as_str()
            .and_then(|f| std::path::Path::new(f).file_stem())
            .and_then(|f| f.to_str())
            .or_else(|| p["strategy_name"].as_str())
            .unwrap_or_default()
            .to_owned(),
        symbols: list(&p["symbols"]),
        timeframes: list(&p["timeframes"]),
        start_date: metadata["start_date"].as_str().map(str::to_owned),
        end_date: metadata["end_date"].as_str().map(str::to_owned),
        data_mode: p["data_mode"].as_str().map(str::to_owned),
        detailed_analytics: None,
    }
}

/// Parses every item of a list, naming the failing one (`body -> symbols -> 2`).
fn parse_list<T: std::str::FromStr>(field: &str, items: &[String]) -> Result<Vec<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    items
        .iter()
        .enumerate()
        .map(|(i, s)| parse_field::<T>(&format!("{field} -> {i}"), s))
        .collect()
}

/// `GET /models`: ktrdr's list (`data`, `total_count`) and, additively, KTRDR's `models` with
/// the fields its clients read.
async fn models(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let dir = state.settings.paths.models_dir.clone();
    let list = web::block(move || storage::list(&dir)).await?;
    let ktrdr_shape: Vec<Value> = list.iter().map(original_model).collect();
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "data": list,
        "total_count": list.len(),
        "models": ktrdr_shape,
        "error": null,
    })))
}

/// A model's entry as KTRDR lists it.
fn original_model(m: &Value) -> Value {
    let tf = m["timeframe"].as_str().unwrap_or_default();
    json!({
        "model_id": format!(
            "{}/{tf}_v{}",
            m["strategy_name"].as_str().unwrap_or_default(),
            m["version"]
        ),
        "model_name": m["strategy_name"],
        "symbol": m["symbols"][0],
        "timeframe": tf,
        "created_at": m["created_at"],
        "training_accuracy": m["training_metrics"]["final_train_accuracy"].as_f64().unwrap_or(0.0),
        "test_accuracy": m["test_metrics"]["test_accuracy"].as_f64().unwrap_or(0.0),
        "description": "",
    })
}

/// `GET /trainings/{id}/performance`: a training's metrics in KTRDR's shape, from its result.
async fn performance(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let not_found = || ApiError::NotFound(format!("Training task {raw} not found"));
    let id = raw.parse().map_err(|_| not_found())?;
    let record = state
        .tracker
        .send(ktrdr_actors::tracker::GetOperation(id))
        .await
        .map_err(ApiError::mailbox("ProgressTracker"))?
        .filter(|r| r.operation_type.as_str() == "training")
        .ok_or_else(not_found)?;
    let r = record.result_summary.clone().unwrap_or_default();
    let t = &r["training_metrics"];
    let (training_metrics, test_metrics, model_info) = if r.is_null() {
        (Value::Null, Value::Null, Value::Null)
    } else {
        (
            json!({
                "final_train_loss": t["final_train_loss"],
                "final_val_loss": t["final_val_loss"],
                "final_train_accuracy": t["final_train_accuracy"],
                "final_val_accuracy": t["final_val_accuracy"],
                "epochs_completed": t["epochs_trained"],
                "early_stopped": t["early_stopped"],
                "training_time_minutes": t["training_time"].as_f64().map(|s| s / 60.0),
            }),
            json!({
                "test_loss": r["test_metrics"]["test_loss"],
                "test_accuracy": r["test_metrics"]["test_accuracy"],
                "precision": r["test_metrics"]["precision"],
                "recall": r["test_metrics"]["recall"],
                "f1_score": r["test_metrics"]["f1_score"],
            }),
            json!({
                "model_size_bytes": null,
                "parameters_count": r["model_info"]["parameters_count"],
                "architecture": r["model_info"]["architecture"],
            }),
        )
    };
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "task_id": record.operation_id,
        "status": record.status,
        "training_metrics": training_metrics,
        "test_metrics": test_metrics,
        "model_info": model_info,
    })))
}
