//! `/api/v1/strategies`: the strategy files, in ktrdr's list shape and KTRDR's.
//!
//! `GET /strategies` (and `/strategies/`) answers ktrdr's `data` (checked summaries) and,
//! additively, KTRDR's `strategies` (StrategyInfo objects); `GET /strategies/{name}` answers
//! one StrategyInfo; `POST /strategies/validate/{name}` checks a file and lists its issues.

use std::path::Path;

use actix_web::{web, HttpResponse};
use ktrdr_core::indicator;
use ktrdr_core::strategy::{self, Strategy, StrategyFileError};
use serde_json::{json, Value};

use super::AppState;
use crate::http::error::ApiError;
use crate::training::storage;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/strategies", web::get().to(list))
        .route("/strategies/", web::get().to(list))
        .route("/strategies/validate/{name}", web::post().to(validate))
        .route("/strategies/{name}", web::get().to(get));
}

/// KTRDR's StrategyInfo: the file's own indicators and fuzzy sets (as written), and what
/// the models folder holds for the strategy.
fn strategy_info(name: &str, path: &Path, models: &[Value]) -> Value {
    let yaml: serde_yaml::Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_yaml::from_str(&t).ok())
        .unwrap_or_default();
    let as_json = |v: &serde_yaml::Value| serde_json::to_value(v).unwrap_or(Value::Null);
    let mine: Vec<&Value> = models
        .iter()
        .filter(|m| m["strategy_name"] == name)
        .collect();
    let latest = mine.last();
    json!({
        "name": name,
        "description": yaml["description"].as_str().unwrap_or_default(),
        "symbol": "",
        "timeframe": "",
        "indicators": as_json(&yaml["indicators"]),
        "fuzzy_config": as_json(&yaml["fuzzy_sets"]),
        "training_status": if mine.is_empty() { "untrained" } else { "trained" },
        "available_versions": mine.iter().map(|m| m["version"].clone()).collect::<Vec<_>>(),
        "latest_version": latest.map(|m| m["version"].clone()),
        "latest_training_date": latest.map(|m| m["created_at"].clone()),
        "latest_metrics": latest.map(|m| m["test_metrics"].clone()),
    })
}

/// ktrdr's summary of a strategy file.
fn summary(name: &str, path: &Path) -> Value {
    match Strategy::from_file(path) {
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
    }
}

async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let dir = state.settings.paths.strategies_dir.clone();
    let models_dir = state.settings.paths.models_dir.clone();
    let (data, strategies) = web::block(move || {
        let models = storage::list(&models_dir);
        let files = strategy::list(&dir);
        let data: Vec<Value> = files.iter().map(|(n, p)| summary(n, p)).collect();
        let info: Vec<Value> = files
            .iter()
            .map(|(n, p)| strategy_info(n, p, &models))
            .collect();
        (data, info)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "data": data,
        "total_count": data.len(),
        "strategies": strategies,
        "error": null,
    })))
}

fn not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("Strategy '{name}' not found"))
}

async fn get(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    let dir = state.settings.paths.strategies_dir.clone();
    let models_dir = state.settings.paths.models_dir.clone();
    let info = web::block(move || {
        let path = strategy::locate(&dir, &name).map_err(|_| not_found(&name))?;
        Ok::<_, ApiError>(strategy_info(&name, &path, &storage::list(&models_dir)))
    })
    .await??;
    Ok(HttpResponse::Ok().json(info))
}

async fn validate(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    let dir = state.settings.paths.strategies_dir.clone();
    let checked = {
        let name = name.clone();
        web::block(move || strategy::load(&dir, &name)).await?
    };
    let issues = match checked {
        Ok(_) => vec![],
        Err(StrategyFileError::Name(_)) => return Err(not_found(&name)),
        Err(StrategyFileError::Unreadable { reason, .. }) => vec![json!({
            "severity": "error",
            "category": "file",
            "message": reason,
            "details": {},
        })],
        Err(StrategyFileError::Invalid { error, .. }) => vec![json!({
            "severity": "error",
            "category": error.path.split(['.', '[']).next().unwrap_or_default(),
            "message": error.to_string(),
            "details": {"path": error.path},
        })],
    };
    let valid = issues.is_empty();
    let mut available: Vec<&str> = indicator::all().flat_map(|s| s.names()).collect();
    available.sort_unstable();
    available.dedup();
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "valid": valid,
        "strategy_name": name,
        "issues": issues,
        "available_indicators": available,
        "message": if valid {
            format!("Strategy '{name}' is valid")
        } else {
            format!("Strategy '{name}' has {} issue(s)", issues.len())
        },
    })))
}
