//! `/api/v1/fuzzy/...`: the default fuzzy sets by indicator (`config/fuzzy.yaml`, the
//! original's), memberships of given values, and memberships over a stored series.
//!
//! Where the original fuzzified something other than the indicator (its `GET /fuzzy/data`
//! computed only four indicators over the requested window alone, with no price ratio for
//! the moving averages; its `POST /fuzzy/data` fuzzified the raw price column), ktrdr computes
//! the named indicator from the registry over the whole stored series (so a window has no
//! warm-up gaps) and fuzzifies that, with `close / MA` for the moving averages whose sets are
//! ratios. The shapes are the original's.

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::DateTime;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::indicators::{nullable, resolve, series_request, spaced, stored_window};
use super::AppState;
use crate::http::error::ApiError;
use crate::http::json::{parse_field, ValidJson};
use ktrdr_core::bars::Bars;
use ktrdr_core::fuzzy::{parse_set_tables, SetTable};
use ktrdr_core::timeframe::{Symbol, Timeframe};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/fuzzy/indicators", web::get().to(indicators))
        .route("/fuzzy/sets/{indicator}", web::get().to(sets))
        .route("/fuzzy/evaluate", web::post().to(evaluate))
        .route("/fuzzy/data", web::get().to(data_overlay))
        .route("/fuzzy/data", web::post().to(data_columns));
}

/// The default sets, embedded at build time.
const DEFAULTS_YAML: &str = include_str!("../../config/fuzzy.yaml");

/// How a fuzzy indicator's input is computed: a registry indicator with its parameters, and
/// whether the sets are for `close / value` (the moving averages').
struct Source {
    indicator: &'static str,
    params: &'static [(&'static str, i64)],
    price_ratio: bool,
}

/// The registry indicator behind each fuzzy indicator of the defaults.
fn source_of(fuzzy_id: &str) -> Option<Source> {
    let s = |indicator, params, price_ratio| Source {
        indicator,
        params,
        price_ratio,
    };
    Some(match fuzzy_id {
        "rsi" => s("RSIIndicator", &[("period", 14)], false),
        "williams_r" => s("WilliamsRIndicator", &[("period", 14)], false),
        "roc" => s("ROCIndicator", &[("period", 10)], false),
        "mfi" => s("MFIIndicator", &[("period", 14)], false),
        "stochastic" => s("StochasticIndicator", &[], false),
        "sma" => s("SimpleMovingAverage", &[("period", 20)], true),
        "ema" => s("ExponentialMovingAverage", &[("period", 20)], true),
        "macd" => s("MACDIndicator", &[], false),
        "distance_from_ma" => s("DistanceFromMAIndicator", &[], false),
        "atr" => s("ATRIndicator", &[("period", 14)], false),
        "volume_ratio" => s("VolumeRatioIndicator", &[], false),
        "cmf" => s("CMFIndicator", &[], false),
        "bollinger_band_width" => s("BollingerBandWidthIndicator", &[], false),
        _ => return None,
    })
}

fn defaults() -> &'static [(String, SetTable)] {
    static TABLES: OnceLock<Vec<(String, SetTable)>> = OnceLock::new();
    TABLES.get_or_init(|| {
        parse_set_tables(DEFAULTS_YAML).expect("config/fuzzy.yaml is valid (a test checks it)")
    })
}

fn unknown(indicator: &str) -> ApiError {
    let known: Vec<&str> = defaults().iter().map(|(k, _)| k.as_str()).collect();
    ApiError::Coded {
        status: StatusCode::BAD_REQUEST,
        code: "CONFIG-UnknownFuzzyIndicator",
        message: format!(
            "Unknown fuzzy indicator: {indicator} (known: {})",
            known.join(", ")
        ),
        details: json!({"indicator": indicator, "available_indicators": known}),
    }
}

fn table(indicator: &str) -> Result<&'static SetTable, ApiError> {
    defaults()
        .iter()
        .find(|(k, _)| k == indicator)
        .map(|(_, t)| t)
        .ok_or_else(|| unknown(indicator))
}

async fn indicators() -> HttpResponse {
    let data: Vec<Value> = defaults()
        .iter()
        .map(|(id, sets)| {
            let names: Vec<&str> = sets.iter().map(|(n, _)| n.as_str()).collect();
            let columns: Vec<String> = names.iter().map(|n| format!("{id}_{n}")).collect();
            json!({"id": id, "name": id.to_uppercase(), "fuzzy_sets": names, "output_columns": columns})
        })
        .collect();
    HttpResponse::Ok().json(json!({"success": true, "data": data}))
}

async fn sets(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let t = table(&path)?;
    let data: Map<String, Value> = t
        .iter()
        .map(|(name, m)| (name.clone(), serde_json::to_value(m).unwrap_or_default()))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

/// Memberships of `values` in each set of `t`, keyed `{indicator}_{set}`; NaN as null.
fn memberships(indicator: &str, t: &SetTable, values: &[f64]) -> Map<String, Value> {
    t.iter()
        .map(|(name, m)| {
            let col: Vec<f64> = values.iter().map(|&v| m.eval(v)).collect();
            (format!("{indicator}_{name}"), json!(nullable(&col)))
        })
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluateBody {
    indicator: String,
    values: Vec<Option<f64>>,
    #[serde(default)]
    dates: Option<Vec<String>>,
}

async fn evaluate(ValidJson(body): ValidJson<EvaluateBody>) -> Result<HttpResponse, ApiError> {
    let t = table(&body.indicator)?;
    if body.values.is_empty() {
        return Err(ApiError::field(
            "body -> values",
            "must hold at least one value",
        ));
    }
    if let Some(d) = &body.dates {
        if d.len() != body.values.len() {
            return Err(ApiError::field(
                "body -> dates",
                format!("has {} dates for {} values", d.len(), body.values.len()),
            ));
        }
    }
    let values: Vec<f64> = body.values.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
    let names: Vec<&str> = t.iter().map(|(n, _)| n.as_str()).collect();
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "data": {
            "indicator": body.indicator,
            "fuzzy_sets": names,
            "values": memberships(&body.indicator, t, &values),
            "points": values.len(),
        },
    })))
}

/// The input a fuzzy indicator's sets apply to, over all of `bars`: the registry indicator's
/// primary output (as `close / value` for the moving averages). `source` replaces the
/// indicator's price column when it takes one.
fn fuzzy_input(fuzzy_id: &str, bars: &Bars, source: Option<&str>) -> Result<Vec<f64>, ApiError> {
    let s = source_of(fuzzy_id).ok_or_else(|| unknown(fuzzy_id))?;
    let mut params: Map<String, Value> = s
        .params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let takes_source = ktrdr_core::indicator::find(s.indicator)
        .is_some_and(|spec| spec.params.iter().any(|p| p.name == "source"));
    if let (Some(col), true) = (source, takes_source) {
        params.insert("source".into(), json!(col));
    }
    let (spec, p) = resolve(s.indicator, &params, "body -> indicators")?;
    let primary = (spec.compute)(&p, bars)
        .into_iter()
        .next()
        .unwrap_or_default();
    Ok(if s.price_ratio {
        primary
            .iter()
            .zip(&bars.close)
            .map(|(&v, &c)| if v == 0.0 { f64::NAN } else { c / v })
            .collect()
    } else {
        primary
    })
}

/// The whole stored series (so the indicators warm up on history) and the index range of the
/// requested window in it.
async fn series_and_window(
    state: &AppState,
    symbol: &Symbol,
    tf: Timeframe,
    start: &Option<String>,
    end: &Option<String>,
    prefix: &str,
) -> Result<(Bars, std::ops::Range<usize>), ApiError> {
    let window = stored_window(state, symbol, tf, start, end, prefix).await?;
    let all = stored_window(state, symbol, tf, &None, &None, prefix).await?;
    let lo = all.time.partition_point(|&t| t < window.time[0]);
    Ok((all, lo..lo + window.len()))
}

/// Query of `GET /fuzzy/data`: `indicators` may repeat.
#[derive(Debug, Default)]
struct OverlayQuery {
    symbol: Option<String>,
    timeframe: Option<String>,
    indicators: Vec<String>,
    start_date: Option<String>,
    end_date: Option<String>,
}

fn overlay_query(req: &HttpRequest) -> Result<OverlayQuery, ApiError> {
    let pairs: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map_err(|e| ApiError::field("query", e.to_string()))?
            .into_inner();
    let mut q = OverlayQuery::default();
    for (k, v) in pairs {
        match k.as_str() {
            "symbol" => q.symbol = Some(v),
            "timeframe" => q.timeframe = Some(v),
            "indicators" => q.indicators.push(v),
            "start_date" => q.start_date = Some(v),
            "end_date" => q.end_date = Some(v),
            other => {
                return Err(ApiError::field(
                    format!("query -> {other}"),
                    "unknown parameter (symbol, timeframe, indicators, start_date, end_date)",
                ))
            }
        }
    }
    Ok(q)
}

/// `GET /fuzzy/data`: memberships over a stored window for charts, per indicator and set.
#[tracing::instrument(skip_all)]
async fn data_overlay(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q = overlay_query(&req)?;
    let symbol: Symbol = parse_field(
        "query -> symbol",
        q.symbol
            .as_deref()
            .ok_or_else(|| ApiError::field("query -> symbol", "Field required"))?,
    )?;
    let tf: Timeframe = parse_field(
        "query -> timeframe",
        q.timeframe
            .as_deref()
            .ok_or_else(|| ApiError::field("query -> timeframe", "Field required"))?,
    )?;
    let names: Vec<String> = if q.indicators.is_empty() {
        defaults().iter().map(|(k, _)| k.clone()).collect()
    } else {
        q.indicators.clone()
    };
    let (bars, range) =
        series_and_window(&state, &symbol, tf, &q.start_date, &q.end_date, "query -> ").await?;
    let answer = web::block(move || {
        let stamps: Vec<String> = bars.time[range.clone()]
            .iter()
            .map(|&t| {
                DateTime::from_timestamp_millis(t)
                    .unwrap_or_default()
                    .format("%Y-%m-%dT%H:%M:%S+00:00")
                    .to_string()
            })
            .collect();
        let mut data = Map::new();
        let mut warnings = Vec::new();
        for name in &names {
            let Ok(t) = table(name) else {
                warnings.push(format!("Unknown indicator '{name}' - skipping"));
                continue;
            };
            let input = match fuzzy_input(name, &bars, None) {
                Ok(v) => v,
                Err(e) => {
                    warnings.push(format!(
                        "Failed to calculate indicator '{name}': {e} - skipping"
                    ));
                    continue;
                }
            };
            let sets: Vec<Value> = t
                .iter()
                .map(|(set, m)| {
                    let points: Vec<Value> = stamps
                        .iter()
                        .zip(&input[range.clone()])
                        .map(|(ts, &x)| {
                            let v = m.eval(x);
                            json!({"timestamp": ts, "value": v.is_finite().then_some(v)})
                        })
                        .collect();
                    json!({"set": set, "membership": points})
                })
                .collect();
            data.insert(name.clone(), json!(sets));
        }
        let mut out = json!({"symbol": symbol, "timeframe": tf, "data": data});
        if !warnings.is_empty() {
            out["warnings"] = json!(warnings);
        }
        out
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataBody {
    symbol: String,
    timeframe: String,
    indicators: Vec<DataIndicator>,
    start_date: Option<String>,
    end_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataIndicator {
    name: String,
    /// The price column the indicator reads (when it takes one).
    #[serde(default)]
    source_column: Option<String>,
}

/// `POST /fuzzy/data`: membership columns over a stored window, per indicator.
#[tracing::instrument(skip_all)]
async fn data_columns(
    state: web::Data<AppState>,
    ValidJson(body): ValidJson<DataBody>,
) -> Result<HttpResponse, ApiError> {
    let (symbol, tf) = series_request(&body.symbol, &body.timeframe, body.indicators.len())?;
    for (i, ind) in body.indicators.iter().enumerate() {
        table(&ind.name)?;
        if let Some(c) = &ind.source_column {
            if !ktrdr_core::indicator::SOURCES.contains(&c.as_str()) {
                return Err(ApiError::field(
                    format!("body -> indicators[{i}] -> source_column"),
                    format!(
                        "must be one of {}",
                        ktrdr_core::indicator::SOURCES.join(", ")
                    ),
                ));
            }
        }
    }
    let (bars, range) = series_and_window(
        &state,
        &symbol,
        tf,
        &body.start_date,
        &body.end_date,
        "body -> ",
    )
    .await?;
    let answer = web::block(move || -> Result<Value, ApiError> {
        let mut indicators = Map::new();
        for ind in &body.indicators {
            let input = fuzzy_input(&ind.name, &bars, ind.source_column.as_deref())?;
            let t = table(&ind.name)?;
            indicators.insert(
                ind.name.clone(),
                json!(memberships(&ind.name, t, &input[range.clone()])),
            );
        }
        let times = &bars.time[range.clone()];
        Ok(json!({
            "success": true,
            "data": {
                "symbol": symbol,
                "timeframe": tf,
                "dates": times.iter().map(|&t| spaced(t)).collect::<Vec<_>>(),
                "indicators": indicators,
                "metadata": {
                    "start_date": times.first().map(|&t| spaced(t)),
                    "end_date": times.last().map(|&t| spaced(t)),
                    "points": times.len(),
                },
            },
        }))
    })
    .await??;
    Ok(HttpResponse::Ok().json(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every default fuzzy indicator parses and is computed by a registry indicator whose
    /// parameters are valid.
    #[test]
    fn every_default_has_a_registry_indicator() {
        assert_eq!(defaults().len(), 13);
        for (id, sets) in defaults() {
            assert!(!sets.is_empty(), "{id}");
            let s = source_of(id).unwrap_or_else(|| panic!("no source for {id}"));
            let params: Map<String, Value> = s
                .params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            assert!(resolve(s.indicator, &params, "x").is_ok(), "{id}");
        }
    }
}
