//! `/api/v1/gap-analysis/...`: KTRDR's gap-analysis routes over the local store, with the
//! data domain's calendars and gap analyzer (`data::gap_report`).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::AppState;
use crate::data::calendar::Calendar;
use crate::data::gap_report::{report, GapReport};
use crate::data::store::BarStore;
use crate::http::error::{ok, ApiError};
use crate::http::json::{parse_date, parse_field, ValidJson};
use ktrdr_core::timeframe::{Symbol, Timeframe};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/gap-analysis/health", web::get().to(health))
        .route(
            "/gap-analysis/data/{symbol}/{timeframe}/gaps",
            web::get().to(gaps),
        )
        .route(
            "/gap-analysis/data/{symbol}/{timeframe}/summary",
            web::get().to(summary),
        )
        .route("/gap-analysis/data/batch", web::post().to(batch));
}

const MODES: [&str; 4] = ["quick", "normal", "detailed", "comprehensive"];

async fn health(state: web::Data<AppState>) -> HttpResponse {
    let folder = state
        .settings
        .paths
        .data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ok(json!({
        "status": "healthy",
        "service": "gap_analysis",
        "data_directory": folder,
        "gap_classifier_symbols": 0,
        "supported_timeframes": Timeframe::ALL,
        "version": "1.0.0",
    }))
}

#[derive(Debug, Deserialize)]
struct WindowQuery {
    start_date: Option<String>,
    end_date: Option<String>,
    mode: Option<String>,
    /// Accepted; expected (closed-market) holes are counted, never listed.
    #[serde(default)]
    #[allow(dead_code)]
    include_expected: Option<String>,
}

fn required(v: Option<&str>, field: String) -> Result<&str, ApiError> {
    v.ok_or_else(|| ApiError::field(field, "Field required"))
}

/// A checked window: dates (both required, start before end) and the mode.
#[derive(Clone)]
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    mode: String,
}

fn window(
    start: Option<&str>,
    end: Option<&str>,
    mode: Option<&str>,
    prefix: &str,
) -> Result<Window, ApiError> {
    let start = parse_date(
        &format!("{prefix}start_date"),
        required(start, format!("{prefix}start_date"))?,
    )?;
    let end = parse_date(
        &format!("{prefix}end_date"),
        required(end, format!("{prefix}end_date"))?,
    )?;
    if end <= start {
        return Err(ApiError::field(
            format!("{prefix}end_date"),
            "Start date must be before end date",
        ));
    }
    let mode = mode.unwrap_or("normal");
    if !MODES.contains(&mode) {
        return Err(ApiError::field(
            format!("{prefix}mode"),
            "Input should be 'quick', 'normal', 'detailed' or 'comprehensive'",
        ));
    }
    Ok(Window {
        start,
        end,
        mode: mode.to_owned(),
    })
}

/// The report of one series (blocking: reads the stored dates).
fn analyse(
    store: &BarStore,
    symbol: &Symbol,
    tf: Timeframe,
    w: &Window,
) -> Result<GapReport, ApiError> {
    let times = store.times(symbol, tf)?;
    Ok(report(
        &times,
        tf,
        Calendar::for_symbol(symbol.as_str()),
        w.start,
        w.end,
    ))
}

/// KTRDR's `GapAnalysisResponse`.
fn response(symbol: &Symbol, tf: Timeframe, w: &Window, r: &GapReport) -> Value {
    json!({
        "success": true,
        "symbol": symbol,
        "timeframe": tf,
        "start_date": w.start.to_rfc3339(),
        "end_date": w.end.to_rfc3339(),
        "summary": r.summary,
        "gaps": r.gaps,
        "analysis_mode": w.mode,
        "generated_at": Utc::now().to_rfc3339(),
    })
}

async fn series(
    state: &AppState,
    path: (String, String),
    q: &WindowQuery,
) -> Result<(Symbol, Timeframe, Window, GapReport), ApiError> {
    let symbol: Symbol = parse_field("path -> symbol", &path.0)?;
    let tf: Timeframe = parse_field("path -> timeframe", &path.1)?;
    let w = window(
        q.start_date.as_deref(),
        q.end_date.as_deref(),
        q.mode.as_deref(),
        "query -> ",
    )?;
    let (store, sym, win) = (state.store.clone(), symbol.clone(), w.clone());
    let r = web::block(move || analyse(&store, &sym, tf, &win)).await??;
    Ok((symbol, tf, w, r))
}

async fn gaps(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let (symbol, tf, w, r) = series(&state, path.into_inner(), &q).await?;
    Ok(ok(response(&symbol, tf, &w, &r)))
}

async fn summary(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let (symbol, tf, w, r) = series(&state, path.into_inner(), &q).await?;
    Ok(ok(json!({
        "symbol": symbol,
        "timeframe": tf,
        "analysis_mode": w.mode,
        "summary": r.summary,
        "gaps": r.gaps,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    symbols: Vec<String>,
    timeframe: String,
    start_date: Option<String>,
    end_date: Option<String>,
    mode: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    include_expected: Option<bool>,
}

async fn batch(
    state: web::Data<AppState>,
    ValidJson(body): ValidJson<BatchBody>,
) -> Result<HttpResponse, ApiError> {
    if body.symbols.is_empty() {
        return Err(ApiError::field(
            "body -> symbols",
            "Symbols list cannot be empty",
        ));
    }
    let symbols = body
        .symbols
        .iter()
        .map(|s| parse_field::<Symbol>("body -> symbols", s))
        .collect::<Result<Vec<_>, _>>()?;
    let tf: Timeframe = parse_field("body -> timeframe", &body.timeframe)?;
    let w = window(
        body.start_date.as_deref(),
        body.end_date.as_deref(),
        body.mode.as_deref(),
        "body -> ",
    )?;
    let (store, syms, win) = (state.store.clone(), symbols.clone(), w.clone());
    // One series that cannot be read (damaged) is reported in `errors`; the others still are.
    let outcomes = web::block(move || {
        syms.iter()
            .map(|s| analyse(&store, s, tf, &win))
            .collect::<Vec<_>>()
    })
    .await?;
    let mut results = Map::new();
    let (mut reports, mut errors) = (Vec::new(), Vec::new());
    let (mut expected, mut actual) = (0.0, 0usize);
    for (symbol, outcome) in symbols.iter().zip(outcomes) {
        match outcome {
            Ok(r) => {
                expected += r.summary.expected_bars;
                actual += r.summary.actual_bars;
                results.insert(symbol.to_string(), response(symbol, tf, &w, &r));
                reports.push(r);
            }
            Err(e) => errors.push(json!({"symbol": symbol, "error": e.to_string()})),
        }
    }
    let n = (reports.len() as f64).max(1.0);
    Ok(ok(json!({
        "success": true,
        "timeframe": tf,
        "start_date": w.start.to_rfc3339(),
        "end_date": w.end.to_rfc3339(),
        "results": results,
        "overall_summary": {
            "total_symbols": reports.len(),
            "total_expected_bars": expected,
            "total_actual_bars": actual,
            "total_missing_bars": (expected - actual as f64).max(0.0),
            "average_completeness_pct":
                reports.iter().map(|r| r.summary.coverage_percentage).sum::<f64>() / n,
            "overall_completeness_pct": if expected > 0.0 {
                (actual as f64 / expected * 100.0).min(100.0)
            } else {
                100.0
            },
            // ktrdr reports only unexpected holes: closed-market time is never a gap.
            "aggregated_missing_breakdown": {
                "expected_weekend": 0,
                "expected_trading_hours": 0,
                "expected_holiday": 0,
                "market_closure": 0,
                "unexpected": reports.iter().map(|r| r.summary.total_gaps).sum::<usize>(),
            },
            "symbols_requested": symbols.len(),
            "symbols_successful": reports.len(),
            "symbols_failed": errors.len(),
            "mode": w.mode,
            "errors": errors,
            "total_gaps": reports.iter().map(|r| r.summary.total_gaps).sum::<usize>(),
        },
        "generated_at": Utc::now().to_rfc3339(),
    })))
}
