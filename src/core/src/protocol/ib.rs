//! The IB host service (`ktrdr ib-host`): `POST /data/historical`,
//! `GET /data/head-timestamp?symbol=&timeframe=`, `POST /data/validate`. Requests carry the
//! user's strings (the host checks them and names the field it refuses); answers are typed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bars::Bars;
use crate::timeframe::{Symbol, Timeframe};

/// `POST /data/historical`: bars with `start <= time < end`. Dates are `YYYY-MM-DD` or
/// RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoricalRequest {
    pub symbol: String,
    pub timeframe: String,
    pub start: String,
    pub end: String,
}

impl HistoricalRequest {
    pub fn new(
        symbol: &Symbol,
        timeframe: Timeframe,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Self {
        Self {
            symbol: symbol.to_string(),
            timeframe: timeframe.to_string(),
            start: start.to_rfc3339(),
            end: end.to_rfc3339(),
        }
    }
}

/// The answer to [`HistoricalRequest`]. Bars travel as columns (`time` in ms UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoricalAnswer {
    pub success: bool,
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub count: usize,
    pub bars: Bars,
    /// Time the request waited in the IB pacing queue.
    pub pacing_wait_ms: f64,
    /// The whole request, pacing included.
    pub elapsed_ms: f64,
}

/// The answer to `GET /data/head-timestamp`: the first available bar's time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadTimestampAnswer {
    pub success: bool,
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub head_timestamp: Option<DateTime<Utc>>,
}

/// `POST /data/validate`: whether the symbol exists, and with which timeframes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    pub symbol: String,
    #[serde(default)]
    pub timeframes: Vec<String>,
}

/// The answer to [`ValidateRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidateAnswer {
    pub success: bool,
    /// True when every asked timeframe is available.
    pub valid: bool,
    pub symbol: String,
    pub available_timeframes: Vec<Timeframe>,
    pub missing_timeframes: Vec<Timeframe>,
}

/// Whether the IB host service can serve now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    /// Up, but its provider cannot serve (the gateway is not connected).
    Degraded,
}

/// `GET /health` and `GET /health/detailed` (which adds the request counts and pacing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthAnswer {
    pub status: HealthStatus,
    /// `ib-host`, or `in-process` when the backend reads a provider itself.
    pub service: String,
    /// `csv` or `ib`.
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_seconds: Option<f64>,
    /// The IB Gateway link (address, client id, connected, since, failed attempts, last
    /// error), when the provider is IB's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<serde_json::Value>,
    /// IB pacing (queued, requests, waits, violations), when the provider is IB's (detailed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing: Option<serde_json::Value>,
    /// Requests served and failed since start (detailed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}
