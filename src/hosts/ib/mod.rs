//! `ktrdr ib-host`: serves historical bars from a provider: a folder of CSV files
//! (`--provider csv --csv-dir DIR`, [`csv_provider`]) or IB Gateway / TWS (`--provider ib`,
//! [`gateway`], paced by [`pacing`], contracts from [`contracts`]). Endpoints as KTRDR's IB
//! host service:
//! `POST /data/historical {symbol, timeframe, start, end}`,
//! `GET /data/head-timestamp?symbol=&timeframe=`, `POST /data/validate {symbol, timeframes}`,
//! `GET /health`, `GET /health/detailed`.
//!
//! Bars travel as columns: `{"time": [ms since epoch, UTC], "open": [...], ...}`. The request
//! and answer types are `ktrdr_core::protocol::ib`, shared with the backend's client.

pub mod contracts;
pub mod csv_provider;
pub mod gateway;
pub mod pacing;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::{web, HttpResponse};
use ktrdr_core::protocol::ib::{
    HeadTimestampAnswer, HealthAnswer, HistoricalAnswer, HistoricalRequest, ValidateAnswer,
    ValidateRequest,
};
use serde::Deserialize;

use crate::data::provider::{describe, BarProvider};
use crate::http::error::ApiError;
use crate::http::json::{parse_date, parse_field, ValidJson};
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// Shared state of the IB host service.
pub struct IbHostState {
    pub provider: Arc<dyn BarProvider>,
    started: Instant,
    requests: AtomicU64,
    errors: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl IbHostState {
    pub fn new(provider: Arc<dyn BarProvider>) -> Self {
        Self {
            provider,
            started: Instant::now(),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }

    /// Counts a request and, when it failed, its error.
    fn count<T>(&self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = &result {
            self.errors.fetch_add(1, Ordering::Relaxed);
            *self.last_error.lock().expect("lock") = Some(e.to_string());
        }
        result
    }
}

/// The IB host service's app over `provider`, for [`crate::server::serve_app`] and
/// [`crate::server::spawn_app`].
pub fn app(
    provider: Arc<dyn BarProvider>,
) -> impl Fn(&mut web::ServiceConfig) + Send + Clone + 'static {
    let state = web::Data::new(IbHostState::new(provider));
    move |cfg| configure(cfg, state.clone())
}

/// Routes of the IB host service.
pub fn configure(cfg: &mut web::ServiceConfig, state: web::Data<IbHostState>) {
    cfg.app_data(state)
        .route("/health", web::get().to(health))
        .route("/health/detailed", web::get().to(health_detailed))
        .route("/data/historical", web::post().to(historical))
        .route("/data/head-timestamp", web::get().to(head_timestamp))
        .route("/data/validate", web::post().to(validate));
}

/// The service's own fields plus the provider's ([`crate::data::provider::describe`]).
fn health_body(state: &IbHostState, detailed: bool) -> HealthAnswer {
    let mut h = describe(state.provider.as_ref(), "ib-host");
    h.uptime_seconds = Some(state.started.elapsed().as_secs_f64());
    if detailed {
        h.requests = Some(state.requests.load(Ordering::Relaxed));
        h.errors = Some(state.errors.load(Ordering::Relaxed));
        h.last_error = state.last_error.lock().expect("lock").clone();
    } else {
        h.pacing = None;
    }
    h
}

async fn health(state: web::Data<IbHostState>, req: actix_web::HttpRequest) -> HttpResponse {
    use actix_web::HttpMessage;
    let mut h = health_body(&state, false);
    // The gateway's address and state only to callers with the host token.
    if req
        .extensions()
        .get::<crate::http::guard::Authenticated>()
        .is_none()
    {
        h.gateway = None;
    }
    HttpResponse::Ok().json(h)
}

async fn health_detailed(state: web::Data<IbHostState>) -> HttpResponse {
    HttpResponse::Ok().json(health_body(&state, true))
}

async fn historical(
    state: web::Data<IbHostState>,
    ValidJson(req): ValidJson<HistoricalRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = async {
        let symbol: Symbol = parse_field("body -> symbol", &req.symbol)?;
        let timeframe: Timeframe = parse_field("body -> timeframe", &req.timeframe)?;
        let start = parse_date("body -> start", &req.start)?;
        let end = parse_date("body -> end", &req.end)?;
        if end <= start {
            return Err(ApiError::field("body -> end", "must be after start"));
        }
        let t0 = Instant::now();
        let (bars, waited) = state
            .provider
            .historical_timed(symbol.clone(), timeframe, start, end)
            .await?;
        Ok(HttpResponse::Ok().json(HistoricalAnswer {
            success: true,
            symbol,
            timeframe,
            count: bars.len(),
            bars,
            pacing_wait_ms: waited.as_secs_f64() * 1000.0,
            elapsed_ms: t0.elapsed().as_secs_f64() * 1000.0,
        }))
    }
    .await;
    state.count(result)
}

#[derive(Debug, Deserialize)]
struct HeadQuery {
    symbol: Option<String>,
    timeframe: Option<String>,
}

async fn head_timestamp(
    state: web::Data<IbHostState>,
    query: web::Query<HeadQuery>,
) -> Result<HttpResponse, ApiError> {
    let result = async {
        let required = |name: &str, v: &Option<String>| {
            v.clone()
                .ok_or_else(|| ApiError::field(format!("query -> {name}"), "is required"))
        };
        let symbol: Symbol = parse_field("query -> symbol", &required("symbol", &query.symbol)?)?;
        let timeframe: Timeframe = parse_field(
            "query -> timeframe",
            &required("timeframe", &query.timeframe)?,
        )?;
        let head = state
            .provider
            .head_timestamp(symbol.clone(), timeframe)
            .await?;
        Ok(HttpResponse::Ok().json(HeadTimestampAnswer {
            success: true,
            symbol,
            timeframe,
            head_timestamp: head,
        }))
    }
    .await;
    state.count(result)
}

async fn validate(
    state: web::Data<IbHostState>,
    ValidJson(req): ValidJson<ValidateRequest>,
) -> Result<HttpResponse, ApiError> {
    let result = async {
        let symbol: Symbol = parse_field("body -> symbol", &req.symbol)?;
        let wanted = req
            .timeframes
            .iter()
            .map(|t| parse_field::<Timeframe>("body -> timeframes", t))
            .collect::<Result<Vec<_>, _>>()?;
        let info = state.provider.validate(symbol).await?;
        let missing: Vec<Timeframe> = wanted
            .into_iter()
            .filter(|t| !info.available_timeframes.contains(t))
            .collect();
        Ok(HttpResponse::Ok().json(ValidateAnswer {
            success: true,
            valid: missing.is_empty(),
            symbol: info.symbol,
            available_timeframes: info.available_timeframes,
            missing_timeframes: missing,
        }))
    }
    .await;
    state.count(result)
}
