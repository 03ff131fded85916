//! `ktrdr indicators ...`: the indicator registry and indicators computed over stored bars on
//! a running backend. Names and parameters are checked against the registry (the same table
//! the backend reads) before any request.

use serde_json::{json, Map, Value};

use super::{CliError, Client, Format};
use ktrdr_core::indicator::{self, RawValue};
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// Prints every indicator with its parameters (defaults and ranges) and output columns.
pub async fn list(client: &Client, format: Format) -> Result<(), CliError> {
    let body = client.get("/indicators/").await?;
    let data = body["data"].as_array().cloned().unwrap_or_default();
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&data).unwrap_or_default()
        ),
        Format::Csv => {
            println!("id,name,category,parameters,outputs");
            for d in &data {
                println!(
                    "{},{},{},\"{}\",\"{}\"",
                    text(&d["id"]),
                    text(&d["name"]),
                    text(&d["type"]),
                    params_line(d),
                    outputs_line(d)
                );
            }
        }
        Format::Table => {
            println!("{} indicators", data.len());
            println!(
                "{:<28} {:<18} {:<14} parameters (default [min..max]) -> outputs",
                "id", "name", "category"
            );
            for d in &data {
                println!(
                    "{:<28} {:<18} {:<14} {} -> {}",
                    text(&d["id"]),
                    text(&d["name"]),
                    text(&d["type"]),
                    params_line(d),
                    outputs_line(d)
                );
            }
        }
    }
    Ok(())
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn params_line(d: &Value) -> String {
    d["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let range = match (&p["min_value"], &p["max_value"]) {
                (Value::Null, Value::Null) => String::new(),
                (lo, hi) => format!(" [{}..{}]", text(lo), text(hi)),
            };
            format!("{}={}{range}", text(&p["name"]), text(&p["default"]))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn outputs_line(d: &Value) -> String {
    d["outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `--param k=v` value: an integer, a number, true/false, or a word.
fn raw(value: &str) -> (RawValue, Value) {
    if let Ok(i) = value.parse::<i64>() {
        (RawValue::Int(i), json!(i))
    } else if let Ok(x) = value.parse::<f64>() {
        (RawValue::Float(x), json!(x))
    } else if let Ok(b) = value.parse::<bool>() {
        (RawValue::Bool(b), json!(b))
    } else {
        (RawValue::Str(value.to_owned()), json!(value))
    }
}

/// What `indicators compute` asks for.
pub struct ComputeArgs<'a> {
    pub symbol: &'a str,
    pub timeframe: &'a str,
    pub name: &'a str,
    pub params: &'a [String],
    pub start: Option<&'a str>,
    pub end: Option<&'a str>,
    pub rows: usize,
    pub format: Format,
}

/// Computes one indicator over a stored series and prints its last `rows` values.
pub async fn compute(client: &Client, a: ComputeArgs<'_>) -> Result<(), CliError> {
    let symbol: Symbol = a
        .symbol
        .parse()
        .map_err(|e: ktrdr_core::timeframe::SymbolError| CliError::Input(e.to_string()))?;
    let tf: Timeframe = a
        .timeframe
        .parse()
        .map_err(|e: ktrdr_core::timeframe::TimeframeError| CliError::Input(e.to_string()))?;
    let spec = indicator::find(a.name).ok_or_else(|| {
        CliError::Input(format!(
            "unknown indicator {:?}: `ktrdr indicators list` shows the {} known ones",
            a.name,
            indicator::all().count()
        ))
    })?;
    let mut given = Vec::new();
    let mut parameters = Map::new();
    for p in a.params {
        let Some((k, v)) = p.split_once('=') else {
            return Err(CliError::Input(format!(
                "--param {p:?}: expected NAME=VALUE (e.g. --param period=14)"
            )));
        };
        let (r, j) = raw(v.trim());
        given.push((k.trim().to_owned(), r));
        parameters.insert(k.trim().to_owned(), j);
    }
    spec.params(given.iter().map(|(k, r)| (k.as_str(), r.clone())))
        .map_err(|e| CliError::Input(format!("{} --param {e}", spec.name)))?;
    if a.rows == 0 {
        return Err(CliError::Input("--rows must be at least 1".into()));
    }
    let body = json!({
        "symbol": symbol, "timeframe": tf,
        "indicators": [{"id": spec.id, "parameters": parameters}],
        "start_date": a.start, "end_date": a.end,
    });
    // Pages are `rows` long: the last `rows` values lie on the last two pages at most.
    let page = |n: usize| format!("/indicators/calculate?page={n}&page_size={}", a.rows);
    let first = client.post(&page(1), &body).await?;
    let total = first["metadata"]["total_items"].as_u64().unwrap_or(0) as usize;
    let pages = total.div_ceil(a.rows).max(1);
    let from_page = total.saturating_sub(a.rows) / a.rows + 1;
    let mut dates: Vec<Value> = Vec::new();
    let mut columns: Vec<(String, Vec<Value>)> = Vec::new();
    for n in from_page..=pages {
        let answer = if n == 1 {
            first.clone()
        } else {
            client.post(&page(n), &body).await?
        };
        dates.extend(answer["dates"].as_array().cloned().unwrap_or_default());
        for (k, v) in answer["indicators"].as_object().into_iter().flatten() {
            let values = v.as_array().cloned().unwrap_or_default();
            match columns.iter_mut().find(|(name, _)| name == k) {
                Some((_, c)) => c.extend(values),
                None => columns.push((k.clone(), values)),
            }
        }
    }
    let skip = dates.len().saturating_sub(a.rows);
    let dates = &dates[skip..];
    let columns: Vec<(String, &[Value])> = columns
        .iter()
        .map(|(k, v)| (k.clone(), &v[v.len().saturating_sub(a.rows)..]))
        .collect();
    match a.format {
        Format::Json => {
            let indicators: Map<String, Value> = columns
                .iter()
                .map(|(k, v)| (k.clone(), Value::Array(v.to_vec())))
                .collect();
            let out =
                json!({"dates": dates, "indicators": indicators, "metadata": first["metadata"]});
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
        Format::Csv => {
            let names: Vec<&str> = columns.iter().map(|(k, _)| k.as_str()).collect();
            println!("date,{}", names.join(","));
            for (i, d) in dates.iter().enumerate() {
                let row: Vec<String> = columns.iter().map(|(_, v)| cell(&v[i])).collect();
                println!("{},{}", text(d), row.join(","));
            }
        }
        Format::Table => {
            println!(
                "{} on {symbol} {tf}: {total} values, last {}",
                spec.name,
                dates.len()
            );
            let mut header = format!("{:<20}", "date");
            for (k, _) in &columns {
                header.push_str(&format!(" {:>w$}", k, w = k.len().max(12)));
            }
            println!("{header}");
            for (i, d) in dates.iter().enumerate() {
                let mut line = format!("{:<20}", text(d));
                for (k, v) in &columns {
                    let c = match v[i].as_f64() {
                        Some(x) => format!("{x:.4}"),
                        None => "-".into(),
                    };
                    line.push_str(&format!(" {:>w$}", c, w = k.len().max(12)));
                }
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// A CSV cell: the number, or empty for a warm-up row.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
