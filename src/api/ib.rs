//! `/api/v1/ib/...`: KTRDR's IB status routes, answered from where loads get their bars (the
//! IB host service's `/health/detailed`, or the in-process provider) and the settings.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::AppState;
use crate::http::error::{ok, ApiError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ib/status", web::get().to(status))
        .route("/ib/health", web::get().to(health))
        .route("/ib/config", web::get().to(config))
        .route("/ib/resilience", web::get().to(resilience));
}

/// The source's health, or why it could not be had (the host service down).
async fn source_health(state: &AppState) -> Result<Value, String> {
    state.source.health().await.map_err(|e| e.to_string())
}

/// `host:port` of the gateway when the provider is IB's, else the configured one.
fn gateway_address(state: &AppState, h: &Value) -> (String, u16) {
    let g = &state.settings.ib_gateway;
    h["gateway"]["address"]
        .as_str()
        .and_then(|a| a.rsplit_once(':'))
        .and_then(|(host, port)| Some((host.to_owned(), port.parse().ok()?)))
        .unwrap_or_else(|| (g.host.clone(), g.port))
}

async fn status(state: web::Data<AppState>) -> HttpResponse {
    let health = source_health(&state).await;
    let h = health.clone().unwrap_or_default();
    let connected = h["status"] == "healthy";
    let (host, port) = gateway_address(&state, &h);
    let requests = h["requests"].as_u64().unwrap_or(0);
    let errors = h["errors"].as_u64().unwrap_or(0);
    ok(json!({
        "connection": {
            "connected": connected,
            "host": host,
            "port": port,
            "client_id": h["gateway"]["client_id"]
                .as_i64()
                .unwrap_or(i64::from(state.settings.ib_gateway.client_id)),
            "connection_time": h["gateway"]["connected_since"],
        },
        "connection_metrics": {
            "total_connections": u64::from(connected),
            "failed_connections": h["gateway"]["failed_attempts"].as_u64().unwrap_or(0),
            "last_connect_time": h["gateway"]["connected_since"],
            "last_disconnect_time": null,
            "uptime_seconds": h["uptime_seconds"],
        },
        "data_metrics": {
            "total_requests": requests,
            "successful_requests": requests.saturating_sub(errors),
            "failed_requests": errors,
            "total_bars_fetched": null,
            "success_rate": if requests > 0 {
                (requests - errors.min(requests)) as f64 / requests as f64
            } else {
                0.0
            },
        },
        "ib_available": connected,
        // ktrdr's additions: which provider serves, and why it cannot when it cannot.
        "provider": h["provider"],
        "error": health.err(),
    }))
}

async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let h = source_health(&state)
        .await
        .map_err(|e| ApiError::Unavailable(format!("IB connection is unhealthy: {e}")))?;
    if h["status"] != "healthy" {
        let why = h["gateway"]["last_error"]
            .as_str()
            .unwrap_or("the provider is not connected");
        return Err(ApiError::Unavailable(format!(
            "IB connection is unhealthy: {why}"
        )));
    }
    Ok(ok(json!({
        "healthy": true,
        "connection_ok": true,
        "data_fetching_ok": true,
        "provider": h["provider"],
        "error_message": null,
    })))
}

async fn config(state: web::Data<AppState>) -> HttpResponse {
    let g = &state.settings.ib_gateway;
    ok(json!({
        "host": g.host,
        "port": g.port,
        "client_id_range": {"min": 1, "max": 999},
        "client_id": g.client_id,
        "timeout": g.request_timeout_secs,
        "readonly": true,
        "rate_limit": {"max_requests": 60, "period_seconds": 600, "pacing_delay": 0.6},
    }))
}

async fn resilience(state: web::Data<AppState>) -> HttpResponse {
    let h = source_health(&state).await.unwrap_or_default();
    let (host, port) = gateway_address(&state, &h);
    let connected = h["status"] == "healthy";
    ok(json!({
        "new_architecture_status": "active",
        "connection_pool_health": {
            "total_connections": u64::from(connected),
            "healthy_connections": u64::from(connected),
            "max_connections": 1,
            "host": host,
            "port": port,
        },
        "features": {
            "dedicated_threads": "enabled",
            "persistent_event_loops": "not used (async client)",
            "auto_cleanup": "enabled",
            "idle_timeout": "none",
        },
        "pacing": h["pacing"],
        "timestamp": chrono::Utc::now().to_rfc3339(),
    }))
}
