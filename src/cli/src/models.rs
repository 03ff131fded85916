//! `ktrdr models ...`: train a strategy with live progress, list the stored models.

use std::path::Path;

use serde_json::{json, Value};

use super::{operations, CliError, Client, Format};
use ktrdr_core::strategy::Strategy;
use ktrdr_core::timeframe::{Symbol, Timeframe, TimeframeError};

/// What `models train` asks for.
pub struct TrainArgs<'a> {
    /// A strategy file (checked here first) or a strategy name known to the backend.
    pub strategy: &'a str,
    pub symbol: Option<&'a str>,
    pub timeframe: Option<&'a str>,
    pub start_date: Option<&'a str>,
    pub end_date: Option<&'a str>,
    pub dry_run: bool,
    pub progress: bool,
    pub format: Format,
}

fn check_date(flag: &str, d: Option<&str>) -> Result<(), CliError> {
    let Some(d) = d else { return Ok(()) };
    let ok = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()
        || chrono::DateTime::parse_from_rfc3339(d).is_ok();
    if ok {
        Ok(())
    } else {
        Err(CliError::Input(format!(
            "{flag} {d:?}: expected YYYY-MM-DD or an RFC 3339 time"
        )))
    }
}

/// The strategy's name, and the strategy itself when given as a file (checked locally).
fn strategy_of(arg: &str) -> Result<(String, Option<Strategy>), CliError> {
    let path = Path::new(arg);
    if path.is_file() {
        let s = Strategy::from_file(path)
            .map_err(|e| CliError::Input(format!("{arg}: invalid strategy: {e}")))?;
        return Ok((s.name.clone(), Some(s)));
    }
    if arg.ends_with(".yaml") || arg.ends_with(".yml") || arg.contains('/') {
        return Err(CliError::Input(format!("{arg}: no such strategy file")));
    }
    Ok((arg.to_owned(), None))
}

/// Starts a training, follows it, prints the summary.
pub async fn train(client: &Client, a: TrainArgs<'_>) -> Result<(), CliError> {
    let (name, strategy) = strategy_of(a.strategy)?;
    let symbol: Option<Symbol> = a
        .symbol
        .map(|s| s.parse())
        .transpose()
        .map_err(|e: ktrdr_core::timeframe::SymbolError| CliError::Input(e.to_string()))?;
    let timeframe: Option<Timeframe> = a
        .timeframe
        .map(|t| t.parse())
        .transpose()
        .map_err(|e: TimeframeError| CliError::Input(e.to_string()))?;
    check_date("--start-date", a.start_date)?;
    check_date("--end-date", a.end_date)?;
    if a.dry_run {
        let (symbols, timeframes) = match &strategy {
            Some(s) => {
                let s = s
                    .clone()
                    .with_scope(
                        symbol.into_iter().collect(),
                        timeframe.into_iter().collect(),
                    )
                    .map_err(|e| CliError::Input(e.to_string()))?;
                let sym: Vec<String> = s.symbols.iter().map(|x| x.to_string()).collect();
                let tfs: Vec<&str> = s.timeframes.iter().map(|t| t.as_str()).collect();
                println!(
                    "Strategy {name}: {} indicators, {} features, {} epochs (batch {})",
                    s.indicators.len(),
                    s.feature_names().len(),
                    s.model.training.epochs,
                    s.model.training.batch_size
                );
                (sym.join(", "), tfs.join(", "))
            }
            None => (
                symbol.map_or("(the strategy's)".into(), |s| s.to_string()),
                timeframe.map_or("(the strategy's)".into(), |t| t.to_string()),
            ),
        };
        println!("Dry run: would train {name} on {symbols} {timeframes}; nothing was sent");
        return Ok(());
    }
    let body = json!({
        "strategy_name": name,
        "symbols": symbol.into_iter().collect::<Vec<_>>(),
        "timeframes": timeframe.map(|t| t.as_str()).into_iter().collect::<Vec<_>>(),
        "start_date": a.start_date,
        "end_date": a.end_date,
    });
    let started = client.post("/trainings/start", &body).await?;
    let id = started["task_id"].as_str().unwrap_or_default().to_owned();
    let show = a.progress && a.format != Format::Json;
    if show {
        println!(
            "Training {name} on {} {} ({id})",
            joined(&started["symbols"], ", "),
            joined(&started["timeframes"], ", "),
        );
    }
    let op = operations::follow(client, &id, show).await?;
    if a.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&op).unwrap_or_default());
        return Ok(());
    }
    let s = &op["result_summary"];
    let tm = &s["training_metrics"];
    let test = &s["test_metrics"];
    println!("Model saved to {}", s["model_path"].as_str().unwrap_or("?"));
    println!(
        "Epochs trained {} (best {}{}), {:.1} s; final train loss {:.4}, val accuracy {:.3}",
        tm["epochs_trained"],
        tm["best_epoch"],
        if tm["early_stopped"] == true {
            ", stopped early"
        } else {
            ""
        },
        tm["training_time"].as_f64().unwrap_or(0.0),
        tm["final_train_loss"].as_f64().unwrap_or(f64::NAN),
        tm["final_val_accuracy"].as_f64().unwrap_or(f64::NAN),
    );
    println!(
        "Test accuracy {:.3}, precision {:.3}, recall {:.3}, F1 {:.3} ({} samples)",
        test["test_accuracy"].as_f64().unwrap_or(f64::NAN),
        test["precision"].as_f64().unwrap_or(f64::NAN),
        test["recall"].as_f64().unwrap_or(f64::NAN),
        test["f1_score"].as_f64().unwrap_or(f64::NAN),
        test["samples"],
    );
    Ok(())
}

/// A JSON list of strings joined by `sep` ("" when it is not a list).
fn joined(v: &Value, sep: &str) -> String {
    v.as_array()
        .map(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(sep)
        })
        .unwrap_or_default()
}

/// Lists the stored models.
pub async fn list(client: &Client, format: Format) -> Result<(), CliError> {
    let body = client.get("/models").await?;
    let models = body["data"].as_array().cloned().unwrap_or_default();
    if format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&models).unwrap_or_default()
        );
        return Ok(());
    }
    println!(
        "{:<28} {:<9} {:>4} {:<16} {:>8}  {:<20}  PATH",
        "STRATEGY", "TIMEFRAME", "VER", "SYMBOLS", "TEST ACC", "CREATED"
    );
    for m in &models {
        let symbols = m["symbols"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        println!(
            "{:<28} {:<9} {:>4} {:<16} {:>8}  {:<20}  {}",
            m["strategy_name"].as_str().unwrap_or(""),
            m["timeframe"].as_str().unwrap_or(""),
            m["version"],
            symbols,
            m["test_metrics"]["test_accuracy"]
                .as_f64()
                .map_or("-".into(), |a| format!("{a:.3}")),
            m["created_at"].as_str().unwrap_or(""),
            m["model_path"].as_str().unwrap_or("")
        );
    }
    println!("{} models", models.len());
    Ok(())
}
