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
use ktrdr_core::strategy::{self, Strategy};
use ktrdr_core::strategy::{StrategyFile, StrategyFileError};
use ktrdr_core::timeframe::{Symbol, Timeframe};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/trainings/start", web::post().to(start))
        .route("/models", web::get().to(models))
        .route("/strategies", web::get().to(strategies));
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
    ValidJson(body): ValidJson<StartBody>,
) -> Result<HttpResponse, ApiError> {
    let Started {
        id,
        symbols,
        timeframes,
        strategy_name,
        epochs,
    } = start_training(&state, body).await?;
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
        strategy_name: p["strategy_name"].as_str().unwrap_or_default().to_owned(),
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

/// Builds a list off the server threads (it reads files) and answers it in KTRDR's list shape.
async fn file_list(
    build: impl FnOnce() -> Vec<serde_json::Value> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let list = web::block(build).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "data": list,
        "total_count": list.len(),
        "error": null,
    })))
}

async fn models(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let dir = state.settings.paths.models_dir.clone();
    file_list(move || storage::list(&dir)).await
}

async fn strategies(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let dir = state.settings.paths.strategies_dir.clone();
    file_list(move || {
        strategy::list(&dir)
            .into_iter()
            .map(|(name, path)| match Strategy::from_file(&path) {
                Ok(s) => json!({
                    "name": name,
                    "description": s.description,
                    "symbols": s.symbols,
                    "timeframes": s.timeframes.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                    "indicators": s.indicators.iter().map(|i| &i.feature_id).collect::<Vec<_>>(),
                    "feature_count": s.feature_names().len(),
                    "valid": true,
                    "error": null,
                }),
                Err(e) => json!({ "name": name, "valid": false, "error": e.to_string() }),
            })
            .collect()
    })
    .await
}
