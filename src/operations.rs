//! KTRDR's operation metadata shape, filled in by each domain when it starts an operation.

use serde_json::{json, Map, Value};

/// `{symbol, timeframe, mode, start_date, end_date, parameters}`, with KTRDR's `"N/A"` for what
/// an operation does not have.
pub fn metadata(
    symbol: Option<&str>,
    timeframe: Option<&str>,
    mode: Option<&str>,
    start_date: Option<String>,
    end_date: Option<String>,
    parameters: Map<String, Value>,
) -> Value {
    json!({
        "symbol": symbol.unwrap_or("N/A"),
        "timeframe": timeframe.unwrap_or("N/A"),
        "mode": mode.unwrap_or("N/A"),
        "start_date": start_date,
        "end_date": end_date,
        "parameters": parameters,
    })
}
