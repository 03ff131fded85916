//! `/api/v1/data/...`, `/api/v1/symbols`, `/api/v1/timeframes`: loads and the local store.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::AppState;
use crate::data::calendar::Calendar;
use crate::data::manager::{check_request_budget, LoadRequest, StartLoad};
use crate::data::store::BarStore;
use crate::http::error::{ok, ApiError};
use crate::http::json::{date_range, parse_field, within_bounds, ValidJson};
use ktrdr_actors::OperationId;
use ktrdr_core::bars::Bars;
use ktrdr_core::timeframe::{Symbol, Timeframe};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/data/load", web::post().to(load))
        .route("/data/range", web::post().to(range))
        .route("/data/{symbol}/{timeframe}", web::get().to(bars))
        .route("/symbols", web::get().to(symbols))
        .route("/timeframes", web::get().to(timeframes));
}

/// `POST /data/load` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LoadBody {
    symbol: String,
    timeframe: String,
    #[serde(default = "default_mode")]
    mode: String,
    start_date: Option<String>,
    end_date: Option<String>,
    /// `us_equity`, `forex` or `crypto`; by default from the symbol's shape.
    calendar: Option<String>,
    /// KTRDR's filters, accepted: the store keeps every bar a load fetches, and the filters
    /// apply when reading (`GET /data/{symbol}/{timeframe}?trading_hours_only=true`).
    #[serde(default)]
    #[allow(dead_code)]
    filters: Option<Filters>,
}

/// KTRDR's trading-hours filters.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Filters {
    #[serde(default)]
    trading_hours_only: bool,
    #[serde(default)]
    include_extended: bool,
}

fn default_mode() -> String {
    "tail".into()
}

impl LoadBody {
    fn validate(self) -> Result<LoadRequest, ApiError> {
        let symbol: Symbol = parse_field("body -> symbol", &self.symbol)?;
        let timeframe = parse_field("body -> timeframe", &self.timeframe)?;
        let mode = parse_field("body -> mode", &self.mode)?;
        let (start, end) = within_bounds(
            date_range(&self.start_date, &self.end_date, "body -> ")?,
            "body -> ",
        )?;
        let calendar = match &self.calendar {
            Some(c) => parse_field("body -> calendar", c)?,
            None => Calendar::for_symbol(symbol.as_str()),
        };
        Ok(LoadRequest {
            symbol,
            timeframe,
            mode,
            start,
            end,
            calendar,
        })
    }
}

#[tracing::instrument(skip_all)]
async fn load(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    ValidJson(body): ValidJson<LoadBody>,
) -> Result<HttpResponse, ApiError> {
    let client = state.limits.admit(&req, &state.tracker).await?;
    let id = start_load(&state, body).await?;
    state.limits.started(client, &id);
    Ok(ok(json!({
        "status": "started",
        "operation_id": id,
        "fetched_bars": 0,
        "cached_before": false,
        "merged_file": "",
        "gaps_analyzed": 0,
        "segments_fetched": 0,
        "ib_requests_made": 0,
        "execution_time_seconds": 0.0,
        "error_message": null,
    })))
}

/// Checks a load request (its budget too) and starts it.
pub(super) async fn start_load(state: &AppState, body: LoadBody) -> Result<OperationId, ApiError> {
    let req = body.validate()?;
    let (store, limit) = (
        state.store.clone(),
        state.settings.data.max_requests_per_load,
    );
    let checked = req.clone();
    web::block(move || check_request_budget(&store, &checked, limit))
        .await?
        .map_err(|e| ApiError::field("body -> start_date", e.to_string()))?;
    state
        .data
        .send(StartLoad(req))
        .await
        .map_err(ApiError::mailbox("DataManager"))
}

/// The load a `data_load` operation ran, from its metadata (for a retry).
pub(super) fn load_of(metadata: &Value) -> LoadBody {
    let text = |k: &str| metadata[k].as_str().map(str::to_owned);
    LoadBody {
        symbol: text("symbol").unwrap_or_default(),
        timeframe: text("timeframe").unwrap_or_default(),
        mode: text("mode").unwrap_or_else(default_mode),
        start_date: text("start_date"),
        end_date: text("end_date"),
        calendar: metadata["parameters"]["calendar"]
            .as_str()
            .map(str::to_owned),
        filters: None,
    }
}

/// Reads a series off the arbiter thread.
async fn read(store: &BarStore, symbol: Symbol, tf: Timeframe) -> Result<Bars, ApiError> {
    let store = store.clone();
    Ok(web::block(move || store.read(&symbol, tf)).await??)
}

/// KTRDR writes bar dates as naive UTC: `2013-02-25T00:00:00`.
fn naive(t: i64) -> String {
    DateTime::from_timestamp_millis(t)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

fn iso(t: Option<DateTime<Utc>>) -> Value {
    json!(t.map(|t| t.to_rfc3339()))
}

#[derive(Debug, Deserialize)]
struct BarsQuery {
    start_date: Option<String>,
    end_date: Option<String>,
    /// Only bars in the calendar's trading hours (intraday bars; daily and longer are kept).
    #[serde(default)]
    trading_hours_only: bool,
    /// With `trading_hours_only`: pre- and post-market too.
    #[serde(default)]
    include_extended: bool,
}

#[tracing::instrument(skip_all, fields(symbol = %path.0, timeframe = %path.1))]
async fn bars(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<BarsQuery>,
) -> Result<HttpResponse, ApiError> {
    let symbol: Symbol = parse_field("path -> symbol", &path.0)?;
    let tf: Timeframe = parse_field("path -> timeframe", &path.1)?;
    let (start, end) = date_range(&query.start_date, &query.end_date, "query -> ")?;
    let all = read(&state.store, symbol.clone(), tf).await?;
    if all.is_empty() {
        return Err(ApiError::NotFound(format!(
            "Data not found for {symbol} ({tf}): nothing stored yet; load it first"
        )));
    }
    let mut b = all.slice_range(
        start.map(|s| s.timestamp_millis()),
        end.map(|e| e.timestamp_millis() + 1),
    );
    if query.trading_hours_only && !tf.is_daily_or_longer() {
        let calendar = Calendar::for_symbol(symbol.as_str());
        let extended = query.include_extended;
        b = b.retain_indices(|i| {
            DateTime::from_timestamp_millis(b.time[i])
                .is_some_and(|t| calendar.in_trading_hours(t, extended))
        });
    }
    let dates: Vec<String> = b.time.iter().map(|&t| naive(t)).collect();
    let ohlcv: Vec<[f64; 5]> = (0..b.len())
        .map(|i| [b.open[i], b.high[i], b.low[i], b.close[i], b.volume[i]])
        .collect();
    Ok(ok(json!({
        "dates": dates,
        "ohlcv": ohlcv,
        "points": null,
        "metadata": {
            "symbol": symbol,
            "timeframe": tf,
            "start_date": iso(b.first_time()),
            "end_date": iso(b.last_time()),
            "point_count": b.len(),
        },
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeBody {
    symbol: String,
    timeframe: String,
}

async fn range(
    state: web::Data<AppState>,
    ValidJson(body): ValidJson<RangeBody>,
) -> Result<HttpResponse, ApiError> {
    let symbol: Symbol = parse_field("body -> symbol", &body.symbol)?;
    let tf: Timeframe = parse_field("body -> timeframe", &body.timeframe)?;
    let b = read(&state.store, symbol.clone(), tf).await?;
    if b.is_empty() {
        return Err(ApiError::NotFound(format!(
            "Data not found for {symbol} ({tf}): nothing stored yet; load it first"
        )));
    }
    Ok(ok(json!({
        "symbol": symbol,
        "timeframe": tf,
        "start_date": b.time.first().map(|&t| naive(t)),
        "end_date": b.time.last().map(|&t| naive(t)),
        "point_count": b.len(),
    })))
}

async fn symbols(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let listed = web::block(move || {
        let mut out: Vec<(Symbol, Vec<Value>)> = Vec::new();
        for s in store.list() {
            let series = match store.summary(&s.symbol, s.timeframe) {
                Ok((first, last, count)) => json!({
                    "timeframe": s.timeframe,
                    "start_date": iso(first.and_then(DateTime::from_timestamp_millis)),
                    "end_date": iso(last.and_then(DateTime::from_timestamp_millis)),
                    "point_count": count,
                }),
                Err(e) => json!({"timeframe": s.timeframe, "error": e.to_string()}),
            };
            match out.last_mut() {
                Some((sym, list)) if *sym == s.symbol => list.push(series),
                _ => out.push((s.symbol, vec![series])),
            }
        }
        out
    })
    .await?;
    let data: Vec<Value> = listed
        .into_iter()
        .map(|(symbol, series)| {
            json!({
                "symbol": symbol,
                "name": symbol,
                "type": "unknown",
                "exchange": "unknown",
                "currency": "unknown",
                "available_timeframes": series.iter().map(|s| s["timeframe"].clone()).collect::<Vec<_>>(),
                "trading_hours": null,
                "series": series,
            })
        })
        .collect();
    Ok(ok(data))
}

async fn timeframes() -> HttpResponse {
    let data: Vec<Value> = Timeframe::ALL
        .iter()
        .map(|t| {
            let (name, description) = t.describe();
            json!({"id": t, "name": name, "description": description})
        })
        .collect();
    ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktrdr_core::mode::LoadMode;

    /// Modes and calendars parse; each bad field is named.
    #[test]
    fn load_body_validation() {
        let body = |v: Value| serde_json::from_value::<LoadBody>(v).unwrap().validate();
        let r = body(json!({"symbol": "EURUSD", "timeframe": "1h"})).unwrap();
        assert_eq!((r.mode, r.calendar), (LoadMode::Tail, Calendar::Forex));
        for (v, field) in [
            (
                json!({"symbol": "../x", "timeframe": "1h"}),
                "body -> symbol",
            ),
            (
                json!({"symbol": "A", "timeframe": "3h"}),
                "body -> timeframe",
            ),
            (
                json!({"symbol": "A", "timeframe": "1h", "mode": "all"}),
                "body -> mode",
            ),
            (
                json!({"symbol": "A", "timeframe": "1h", "start_date": "yesterday"}),
                "body -> start_date",
            ),
            (
                json!({"symbol": "A", "timeframe": "1h", "start_date": "2024-02-01", "end_date": "2024-01-01"}),
                "body -> end_date",
            ),
            (
                json!({"symbol": "A", "timeframe": "1h", "calendar": "moon"}),
                "body -> calendar",
            ),
            (
                json!({"symbol": "A", "timeframe": "1h", "start_date": "1850-01-01"}),
                "body -> start_date",
            ),
            (
                json!({"symbol": "A", "timeframe": "1h", "end_date": "3000-01-01"}),
                "body -> end_date",
            ),
        ] {
            match body(v) {
                Err(ApiError::Validation { details, .. }) => assert_eq!(details[0].field, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
