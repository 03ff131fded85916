//! `/api/v1/ib/...`: KTRDR's IB status routes, answered from where loads get their bars (the
//! IB host service's `/health/detailed`, or the in-process provider) and the settings.

use actix_web::{web, HttpResponse};
use ktrdr_core::protocol::ib::{HealthAnswer, HealthStatus};
use ktrdr_core::timeframe::{Symbol, Timeframe};
use serde::Deserialize;
use serde_json::{json, Value};

use super::AppState;
use crate::http::error::{ok, ApiError};
use crate::http::json::parse_field;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ib/status", web::get().to(status))
        .route("/ib/health", web::get().to(health))
        .route("/ib/config", web::get().to(config))
        .route("/ib/resilience", web::get().to(resilience))
        .route("/ib/circuit-breakers", web::get().to(circuit_breakers))
        .route("/ib/ranges", web::get().to(ranges))
        .route("/ib/symbols/discovered", web::get().to(discovered));
}

/// The source's health, or why it could not be had (the host service down).
async fn source_health(state: &AppState) -> Result<HealthAnswer, String> {
    state.source.health().await.map_err(|e| e.to_string())
}

/// The gateway block of a health answer (`null` when the provider is not IB's or the
/// health could not be had).
fn gateway(h: &Option<HealthAnswer>) -> Value {
    h.as_ref()
        .and_then(|h| h.gateway.clone())
        .unwrap_or_default()
}

fn is_healthy(h: &Option<HealthAnswer>) -> bool {
    h.as_ref()
        .is_some_and(|h| h.status == HealthStatus::Healthy)
}

/// `host:port` of the gateway when the provider is IB's, else the configured one.
fn gateway_address(state: &AppState, gateway: &Value) -> (String, u16) {
    let g = &state.settings.ib_gateway;
    gateway["address"]
        .as_str()
        .and_then(|a| a.rsplit_once(':'))
        .and_then(|(host, port)| Some((host.to_owned(), port.parse().ok()?)))
        .unwrap_or_else(|| (g.host.clone(), g.port))
}

async fn status(state: web::Data<AppState>) -> HttpResponse {
    let health = source_health(&state).await;
    let (h, error) = match health {
        Ok(h) => (Some(h), None),
        Err(e) => (None, Some(e)),
    };
    let g = gateway(&h);
    let connected = is_healthy(&h);
    let (host, port) = gateway_address(&state, &g);
    let requests = h.as_ref().and_then(|h| h.requests).unwrap_or(0);
    let errors = h.as_ref().and_then(|h| h.errors).unwrap_or(0);
    ok(json!({
        "connection": {
            "connected": connected,
            "host": host,
            "port": port,
            "client_id": g["client_id"]
                .as_i64()
                .unwrap_or(i64::from(state.settings.ib_gateway.client_id)),
            "connection_time": g["connected_since"],
        },
        "connection_metrics": {
            "total_connections": u64::from(connected),
            "failed_connections": g["failed_attempts"].as_u64().unwrap_or(0),
            "last_connect_time": g["connected_since"],
            "last_disconnect_time": null,
            "uptime_seconds": h.as_ref().and_then(|h| h.uptime_seconds),
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
        "provider": h.as_ref().map(|h| h.provider.clone()),
        "error": error,
    }))
}

async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let h = source_health(&state)
        .await
        .map_err(|e| ApiError::Unavailable(format!("IB connection is unhealthy: {e}")))?;
    if h.status != HealthStatus::Healthy {
        let g = h.gateway.unwrap_or_default();
        let why = g["last_error"]
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
        "provider": h.provider,
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
    let h = source_health(&state).await.ok();
    let (host, port) = gateway_address(&state, &gateway(&h));
    let connected = is_healthy(&h);
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
        "pacing": h.and_then(|h| h.pacing),
        "timestamp": chrono::Utc::now().to_rfc3339(),
    }))
}

/// ktrdr has no circuit breakers: the host client retries with backoff, the IB provider
/// reconnects with backoff. KTRDR's empty answer.
async fn circuit_breakers() -> HttpResponse {
    ok(json!({
        "circuit_breakers": {},
        "summary": {"total_breakers": 0, "open_breakers": 0, "half_open_breakers": 0},
    }))
}

#[derive(Debug, Deserialize)]
struct RangesQuery {
    symbols: Option<String>,
    timeframes: Option<String>,
}

/// `GET /ib/ranges?symbols=A,B&timeframes=1h,1d`: the first bar the provider has for each
/// (its head timestamp) and what the store holds.
async fn ranges(
    state: web::Data<AppState>,
    q: web::Query<RangesQuery>,
) -> Result<HttpResponse, ApiError> {
    let list = |v: &Option<String>| -> Vec<String> {
        v.as_deref()
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let symbols = list(&q.symbols)
        .iter()
        .map(|s| parse_field::<Symbol>("query -> symbols", s))
        .collect::<Result<Vec<_>, _>>()?;
    let timeframes = list(&q.timeframes)
        .iter()
        .map(|t| parse_field::<Timeframe>("query -> timeframes", t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    let mut lookups = 0;
    for symbol in &symbols {
        let mut by_tf = serde_json::Map::new();
        for &tf in &timeframes {
            lookups += 1;
            let head = state.source.head_timestamp(symbol, tf).await;
            let (store, s) = (state.store.clone(), symbol.clone());
            let stored = web::block(move || store.summary(&s, tf)).await?.ok();
            let ms = |t: Option<i64>| t.and_then(chrono::DateTime::from_timestamp_millis);
            by_tf.insert(
                tf.to_string(),
                json!({
                    "earliest_date": head.as_ref().ok().cloned().flatten(),
                    "error": head.err().map(|e| e.to_string()),
                    "stored_start": stored.and_then(|(first, _, _)| ms(first)),
                    "stored_end": stored.and_then(|(_, last, _)| ms(last)),
                    "stored_bars": stored.map_or(0, |(_, _, n)| n),
                }),
            );
        }
        out.push(json!({"symbol": symbol, "ranges": by_tf}));
    }
    Ok(ok(json!({
        "symbols": out,
        "requested_timeframes": timeframes,
        "cache_stats": {"error": null, "cached_ranges": 0, "fresh_lookups": lookups},
    })))
}

/// The symbols ktrdr knows: the series in its store.
async fn discovered(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let series = web::block(move || store.list()).await?;
    let mut symbols: Vec<String> = series.iter().map(|s| s.symbol.to_string()).collect();
    symbols.dedup();
    Ok(ok(json!({
        "symbols": symbols,
        "total_count": symbols.len(),
        "instrument_types": {},
        "cache_stats": {},
    })))
}
