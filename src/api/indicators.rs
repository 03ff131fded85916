//! `/api/v1/indicators/...`: the registry as the original lists it, and indicators computed
//! over stored bars. Everything here reads the one registry (`ktrdr_core::indicator`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::DateTime;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::AppState;
use crate::http::error::ApiError;
use crate::http::json::{date_range, parse_field, ValidJson};
use ktrdr_core::bars::Bars;
use ktrdr_core::indicator::{self, Category, IndicatorSpec, ParamKind, Params, RawValue};
use ktrdr_core::timeframe::{Symbol, Timeframe};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/indicators/", web::get().to(list))
        .route("/indicators", web::get().to(list))
        .route("/indicators/categories", web::get().to(categories))
        .route("/indicators/categories/{name}", web::get().to(category))
        .route("/indicators/category-names", web::get().to(category_names))
        .route("/indicators/calculate", web::post().to(calculate));
}

/// One registry entry as the original's list shows it, with its true parameters.
pub fn describe(spec: &IndicatorSpec) -> Value {
    let parameters: Vec<Value> = spec
        .params
        .iter()
        .map(|p| {
            let (default, min, max, options) = match p.kind {
                ParamKind::Int { default, min, max } => {
                    (json!(default), json!(min), json!(max), Value::Null)
                }
                ParamKind::Float { default, min, max } => {
                    (json!(default), json!(min), json!(max), Value::Null)
                }
                ParamKind::Source { default } => (
                    json!(default),
                    Value::Null,
                    Value::Null,
                    json!(indicator::SOURCES),
                ),
                ParamKind::Choice { default, options } => {
                    (json!(default), Value::Null, Value::Null, json!(options))
                }
                ParamKind::Bool { default } => {
                    (json!(default), Value::Null, Value::Null, Value::Null)
                }
            };
            json!({
                "name": p.name,
                "type": indicator::type_name(p.kind),
                "description": p.description,
                "default": default,
                "min_value": min,
                "max_value": max,
                "options": options,
            })
        })
        .collect();
    let defaults = spec.defaults();
    json!({
        "id": spec.id,
        "name": spec.name,
        "description": spec.description,
        "type": spec.category.as_str(),
        "parameters": parameters,
        "aliases": spec.aliases,
        "outputs": (spec.columns)(&defaults),
        "feature_suffixes": spec.suffixes,
        "resources": {},
    })
}

async fn list() -> HttpResponse {
    let data: Vec<Value> = indicator::all().map(describe).collect();
    HttpResponse::Ok().json(json!({"success": true, "data": data, "error": null}))
}

/// The names listed under a category: each indicator's id, short name and listed aliases.
fn category_names_of(category: Category) -> Vec<&'static str> {
    indicator::all()
        .filter(|s| s.category == category)
        .flat_map(|s| {
            [s.id, s.name]
                .into_iter()
                .chain(s.listed_aliases.iter().copied())
        })
        .collect()
}

async fn categories() -> HttpResponse {
    let mut out = Map::new();
    let mut total = 0;
    for c in Category::ALL {
        let names = category_names_of(c);
        total += names.len();
        out.insert(
            c.as_str().to_owned(),
            json!({"info": c.info(), "indicators": names, "count": names.len()}),
        );
    }
    HttpResponse::Ok().json(json!({
        "success": true,
        "categories": out,
        "total_categories": Category::ALL.len(),
        "total_indicators": total,
    }))
}

fn category_list() -> Vec<&'static str> {
    Category::ALL.iter().map(|c| c.as_str()).collect()
}

async fn category(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    let Some(c) = Category::parse(&name) else {
        return Err(ApiError::Coded {
            status: StatusCode::NOT_FOUND,
            code: "CATEGORY_NOT_FOUND",
            message: format!("Category '{name}' not found"),
            details: json!({"available_categories": category_list()}),
        });
    };
    let names = category_names_of(c);
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "category": {
            "name": c.as_str(),
            "info": c.info(),
            "indicators": names,
            "count": names.len(),
        },
    })))
}

async fn category_names() -> HttpResponse {
    let names = category_list();
    HttpResponse::Ok().json(json!({"success": true, "categories": names, "count": names.len()}))
}

/// `POST /indicators/calculate` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalculateBody {
    symbol: String,
    timeframe: String,
    indicators: Vec<IndicatorRequest>,
    start_date: Option<String>,
    end_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorRequest {
    id: String,
    #[serde(default)]
    parameters: Map<String, Value>,
    /// Accepted for the original's clients; as there, the outputs keep their own names.
    #[serde(default)]
    #[allow(dead_code)]
    output_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    #[serde(default = "first_page")]
    page: usize,
    #[serde(default = "default_page_size")]
    page_size: usize,
}

fn first_page() -> usize {
    1
}

fn default_page_size() -> usize {
    1000
}

/// The largest page the calculate route answers.
const MAX_PAGE_SIZE: usize = 10_000;

/// A checked indicator request: the entry and its parameters.
pub fn resolve(
    id: &str,
    parameters: &Map<String, Value>,
    field: &str,
) -> Result<(&'static IndicatorSpec, Params), ApiError> {
    let failed = |error: String, field: String| ApiError::Coded {
        status: StatusCode::BAD_REQUEST,
        code: "CONFIG-IndicatorCreationFailed",
        message: format!("Failed to create indicator {id}: {error}"),
        details: json!({
            "indicator_id": id,
            "parameters": parameters,
            "error": error,
            "field": field,
        }),
    };
    let Some(spec) = indicator::find(id) else {
        return Err(failed(
            format!(
                "Unknown indicator: {id} (GET /api/v1/indicators/ lists the {} known ones)",
                indicator::all().count()
            ),
            format!("{field}.id"),
        ));
    };
    let params = spec
        .params(
            parameters
                .iter()
                .map(|(k, v)| (k.as_str(), RawValue::from(v))),
        )
        .map_err(|e| {
            failed(
                format!("{} {}", spec.name, e),
                format!("{field}.parameters.{}", e.param),
            )
        })?;
    Ok((spec, params))
}

/// The symbol and timeframe of a request over a stored series, which must name at least one
/// indicator (`count`).
pub fn series_request(
    symbol: &str,
    timeframe: &str,
    count: usize,
) -> Result<(Symbol, Timeframe), ApiError> {
    let symbol: Symbol = parse_field("body -> symbol", symbol)?;
    let tf: Timeframe = parse_field("body -> timeframe", timeframe)?;
    if count == 0 {
        return Err(ApiError::field(
            "body -> indicators",
            "must name at least one indicator",
        ));
    }
    Ok((symbol, tf))
}

/// The original writes dates in these answers as `2004-08-19 00:00:00` (naive UTC).
pub fn spaced(t: i64) -> String {
    DateTime::from_timestamp_millis(t)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A column for JSON: NaN (warm-up rows) as null.
pub fn nullable(values: &[f64]) -> Vec<Option<f64>> {
    values.iter().map(|v| v.is_finite().then_some(*v)).collect()
}

/// Reads a stored series (off the arbiter thread), cut to `[start, end]`; a series with no
/// bars is the original's `DATA-LoadFailed` (404).
pub async fn stored_window(
    state: &AppState,
    symbol: &Symbol,
    tf: Timeframe,
    start: &Option<String>,
    end: &Option<String>,
    prefix: &str,
) -> Result<Bars, ApiError> {
    let (from, to) = date_range(start, end, prefix)?;
    let store = state.store.clone();
    let (s, t) = (symbol.clone(), tf);
    let bars = web::block(move || store.read(&s, t)).await??;
    let not_found = |why: &str| ApiError::Coded {
        status: StatusCode::NOT_FOUND,
        code: "DATA-LoadFailed",
        message: format!("Failed to load data for {symbol} ({tf}): {why}"),
        details: json!({
            "symbol": symbol,
            "timeframe": tf,
            "start_date": start,
            "end_date": end,
            "error": why,
        }),
    };
    if bars.is_empty() {
        return Err(not_found("nothing stored yet; load it first"));
    }
    let window = bars.slice_range(
        from.map(|s| s.timestamp_millis()),
        to.map(|e| e.timestamp_millis() + 1),
    );
    if window.is_empty() {
        return Err(not_found("no stored bars in the requested range"));
    }
    Ok(window)
}

#[tracing::instrument(skip_all)]
async fn calculate(
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
    ValidJson(body): ValidJson<CalculateBody>,
) -> Result<HttpResponse, ApiError> {
    let (symbol, tf) = series_request(&body.symbol, &body.timeframe, body.indicators.len())?;
    if query.page == 0 {
        return Err(ApiError::field("query -> page", "must be >= 1"));
    }
    if !(1..=MAX_PAGE_SIZE).contains(&query.page_size) {
        return Err(ApiError::field(
            "query -> page_size",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    let resolved = body
        .indicators
        .iter()
        .enumerate()
        .map(|(i, r)| resolve(&r.id, &r.parameters, &format!("body -> indicators[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let bars = stored_window(
        &state,
        &symbol,
        tf,
        &body.start_date,
        &body.end_date,
        "body -> ",
    )
    .await?;
    for (spec, params) in &resolved {
        let need = (spec.min_bars)(params);
        if bars.len() < need {
            return Err(ApiError::Coded {
                status: StatusCode::BAD_REQUEST,
                code: "PROC-CalculationFailed",
                message: format!(
                    "Failed to compute indicator {}: Insufficient data: {} points available, \
                     {need} required",
                    spec.id,
                    bars.len()
                ),
                details: json!({"indicator_id": spec.id, "available": bars.len(), "required": need}),
            });
        }
    }
    let (page, page_size) = (query.page, query.page_size);
    let answer = web::block(move || {
        let total = bars.len();
        let pages = total.div_ceil(page_size);
        // As the original: a page past the end is the last page.
        let page = page.min(pages.max(1));
        let lo = ((page - 1) * page_size).min(total);
        let hi = (lo + page_size).min(total);
        let mut indicators = Map::new();
        for (spec, params) in &resolved {
            let columns = (spec.columns)(params);
            for (name, values) in columns.into_iter().zip((spec.compute)(params, &bars)) {
                indicators.insert(name, json!(nullable(&values[lo..hi])));
            }
        }
        let dates: Vec<String> = bars.time[lo..hi].iter().map(|&t| spaced(t)).collect();
        json!({
            "success": true,
            "dates": dates,
            "indicators": indicators,
            "metadata": {
                "symbol": symbol,
                "timeframe": tf,
                "start_date": bars.time.first().map(|&t| spaced(t)),
                "end_date": bars.time.last().map(|&t| spaced(t)),
                "points": total,
                "total_items": total,
                "total_pages": pages,
                "current_page": page,
                "page_size": page_size,
                "has_next": page < pages,
                "has_prev": page > 1,
            },
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}
