//! `ktrdr operations ...`: list, status, cancel and watch operations on a running backend.

use std::time::Duration;

use awc::ws;
use futures_util::StreamExt;
use serde_json::Value;

use super::progress::ProgressView;
use super::{CliError, Client};

/// Prints the operations as a table.
pub async fn list(client: &Client, query: &str) -> Result<(), CliError> {
    let body = client.get(&format!("/operations{query}")).await?;
    let ops = body["data"].as_array().cloned().unwrap_or_default();
    println!(
        "{:<44} {:<10} {:<10} {:>7}  CURRENT STEP",
        "OPERATION", "TYPE", "STATUS", "PCT"
    );
    for op in &ops {
        println!(
            "{:<44} {:<10} {:<10} {:>6.1}%  {}",
            op["operation_id"].as_str().unwrap_or(""),
            op["operation_type"].as_str().unwrap_or(""),
            op["status"].as_str().unwrap_or(""),
            op["progress_percentage"].as_f64().unwrap_or(0.0),
            op["current_step"].as_str().unwrap_or("")
        );
    }
    println!(
        "{} shown, {} matching, {} active",
        ops.len(),
        body["total_count"],
        body["active_count"]
    );
    Ok(())
}

/// Prints one operation's record as JSON.
pub async fn status(client: &Client, id: &str) -> Result<(), CliError> {
    let body = client.get(&format!("/operations/{id}")).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&body["data"]).unwrap_or_default()
    );
    Ok(())
}

/// Cancels and waits for the backend's confirmation.
pub async fn cancel(client: &Client, id: &str, reason: Option<&str>) -> Result<(), CliError> {
    let body = client.cancel(id, reason).await?;
    println!(
        "Operation {} {}",
        body["data"]["operation_id"].as_str().unwrap_or(id),
        body["data"]["status"].as_str().unwrap_or("cancelled")
    );
    Ok(())
}

/// Starts a failed or cancelled operation again; prints the new id (and, with `watch`,
/// follows it).
pub async fn retry(client: &Client, id: &str, watch: bool) -> Result<(), CliError> {
    let body = client
        .post(&format!("/operations/{id}/retry"), &serde_json::json!({}))
        .await?;
    let new = body["data"]["operation_id"].as_str().unwrap_or_default();
    println!("Retrying {id} as {new}");
    if watch {
        return self::watch(client, new).await;
    }
    Ok(())
}

/// Follows an operation over its websocket until it ends, one line per event.
pub async fn watch(client: &Client, id: &str) -> Result<(), CliError> {
    follow(client, id, true).await?;
    println!("Operation completed");
    Ok(())
}

/// Waits over the websocket until the operation ends and returns its final record; with
/// `show_progress`, prints a line per event. Ctrl+C cancels the operation and waits (at most a
/// few seconds) for the backend to confirm; a second Ctrl+C exits at once.
pub async fn follow(client: &Client, id: &str, show_progress: bool) -> Result<Value, CliError> {
    let mut view = ProgressView::new(show_progress);
    let result = follow_with(client, id, &mut view).await;
    match &result {
        Ok(op) => view.finish(op),
        Err(_) => view.abandon(),
    }
    result
}

async fn follow_with(
    client: &Client,
    id: &str,
    view: &mut ProgressView,
) -> Result<Value, CliError> {
    let url = client
        .url(&format!("/operations/{id}/ws"))
        .replacen("http", "ws", 1);
    let (_, mut framed) = client
        .http()
        .ws(url)
        .connect()
        .await
        .map_err(|e| client.unreachable(e.to_string()))?;
    loop {
        tokio::select! {
            frame = framed.next() => match frame {
                Some(Ok(ws::Frame::Text(bytes))) => {
                    let ev: Value = serde_json::from_slice(&bytes).unwrap_or_default();
                    let op = &ev["operation"];
                    let status = op["status"].as_str().unwrap_or("");
                    // The final event repeats the last progress; say how it ended instead.
                    if !matches!(status, "completed" | "failed" | "cancelled") {
                        view.update(op);
                    }
                    match op["status"].as_str() {
                        Some("completed") => return Ok(op.clone()),
                        Some("failed") => {
                            return Err(CliError::Failed(
                                op["error_message"].as_str().unwrap_or("failed").to_owned(),
                            ))
                        }
                        Some("cancelled") => return Err(CliError::Cancelled),
                        _ => {}
                    }
                }
                Some(Ok(ws::Frame::Close(reason))) => {
                    let why = reason.and_then(|r| r.description).unwrap_or_default();
                    return Err(CliError::Failed(format!("stream closed: {why}")));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(CliError::Failed(format!("stream error: {e}"))),
                None => return Err(CliError::Failed("stream ended".into())),
            },
            _ = tokio::signal::ctrl_c() => {
                eprintln!("Cancelling {id} ... (Ctrl+C again to quit at once)");
                let confirm = tokio::time::timeout(
                    Duration::from_secs(5),
                    client.cancel(id, Some("cancelled from CLI")),
                );
                tokio::select! {
                    res = confirm => match res {
                        Ok(Ok(_)) => return Err(CliError::Cancelled),
                        Ok(Err(e)) => return Err(e),
                        Err(_) => {
                            return Err(CliError::Failed("no cancel confirmation within 5 s".into()))
                        }
                    },
                    _ = tokio::signal::ctrl_c() => return Err(CliError::Cancelled),
                }
            }
        }
    }
}
