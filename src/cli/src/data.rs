//! `ktrdr data ...`: load, show and range of stored bars on a running backend.

use serde_json::{json, Value};

use super::{operations, CliError, Client, Format};
use ktrdr_core::mode::LoadMode;
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// Checks a symbol and timeframe before any request is made.
fn checked(symbol: &str, timeframe: &str) -> Result<(Symbol, Timeframe), CliError> {
    let s = symbol
        .parse()
        .map_err(|e: ktrdr_core::timeframe::SymbolError| CliError::Input(e.to_string()))?;
    let t = timeframe
        .parse()
        .map_err(|e: ktrdr_core::timeframe::TimeframeError| CliError::Input(e.to_string()))?;
    Ok((s, t))
}

/// What `data load` asks for.
pub struct LoadArgs<'a> {
    pub symbol: &'a str,
    pub timeframe: &'a str,
    pub mode: &'a str,
    pub start: Option<&'a str>,
    pub end: Option<&'a str>,
    pub progress: bool,
    pub quiet: bool,
    pub format: Format,
}

/// Starts a load, follows it, prints the summary.
pub async fn load(client: &Client, a: LoadArgs<'_>) -> Result<(), CliError> {
    let (symbol, tf) = checked(a.symbol, a.timeframe)?;
    let mode: LoadMode = a
        .mode
        .parse()
        .map_err(|e: ktrdr_core::mode::LoadModeError| CliError::Input(e.to_string()))?;
    let body = json!({
        "symbol": symbol, "timeframe": tf, "mode": mode,
        "start_date": a.start, "end_date": a.end,
    });
    let started = client.post("/data/load", &body).await?;
    let id = started["data"]["operation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let op = operations::follow(client, &id, a.progress && !a.quiet).await?;
    let s = &op["result_summary"];
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&op).unwrap_or_default()),
        _ if a.quiet => {}
        _ => {
            println!(
                "Loaded {symbol} {tf} ({mode}): {} new bars, {} requests, {:.2} s [{}]",
                s["fetched_bars"],
                s["requests_made"],
                s["execution_time_seconds"].as_f64().unwrap_or(0.0),
                s["status"].as_str().unwrap_or("?")
            );
            if let Some(failed) = s["failed_ranges"].as_array().filter(|f| !f.is_empty()) {
                println!("{} segments failed:", failed.len());
                for f in failed {
                    println!("  {} - {}: {}", f["start"], f["end"], f["error"]);
                }
            }
        }
    }
    Ok(())
}

/// Prints the last `rows` stored bars in the range.
pub async fn show(
    client: &Client,
    symbol: &str,
    timeframe: &str,
    rows: usize,
    start: Option<&str>,
    end: Option<&str>,
    format: Format,
) -> Result<(), CliError> {
    let (symbol, tf) = checked(symbol, timeframe)?;
    let mut path = format!("/data/{symbol}/{tf}?");
    if let Some(s) = start {
        path.push_str(&format!("start_date={s}&"));
    }
    if let Some(e) = end {
        path.push_str(&format!("end_date={e}"));
    }
    let body = client.get(&path).await?;
    let data = &body["data"];
    let dates = data["dates"].as_array().cloned().unwrap_or_default();
    let ohlcv = data["ohlcv"].as_array().cloned().unwrap_or_default();
    let from = dates.len().saturating_sub(rows);
    match format {
        Format::Json => {
            let out = json!({"dates": &dates[from..], "ohlcv": &ohlcv[from..], "metadata": data["metadata"]});
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
        Format::Csv => {
            println!("date,open,high,low,close,volume");
            for (d, r) in dates[from..].iter().zip(&ohlcv[from..]) {
                let r: Vec<String> = r
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(Value::to_string)
                    .collect();
                println!("{},{}", d.as_str().unwrap_or(""), r.join(","));
            }
        }
        Format::Table => {
            println!(
                "{symbol} {tf}: {} bars stored in range, last {}",
                dates.len(),
                dates.len() - from
            );
            println!(
                "{:<20} {:>12} {:>12} {:>12} {:>12} {:>14}",
                "date", "open", "high", "low", "close", "volume"
            );
            for (d, r) in dates[from..].iter().zip(&ohlcv[from..]) {
                let v = |i: usize| r[i].as_f64().unwrap_or(f64::NAN);
                println!(
                    "{:<20} {:>12.4} {:>12.4} {:>12.4} {:>12.4} {:>14.0}",
                    d.as_str().unwrap_or(""),
                    v(0),
                    v(1),
                    v(2),
                    v(3),
                    v(4)
                );
            }
        }
    }
    Ok(())
}

/// Prints the stored range.
pub async fn range(client: &Client, symbol: &str, timeframe: &str) -> Result<(), CliError> {
    let (symbol, tf) = checked(symbol, timeframe)?;
    let body = client
        .post("/data/range", &json!({"symbol": symbol, "timeframe": tf}))
        .await?;
    let d = &body["data"];
    println!(
        "{symbol} {tf}: {} bars from {} to {}",
        d["point_count"],
        d["start_date"].as_str().unwrap_or("?"),
        d["end_date"].as_str().unwrap_or("?")
    );
    Ok(())
}
