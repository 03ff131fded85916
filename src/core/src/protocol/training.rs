//! The training host service (`ktrdr training-host`): `POST /training/start`,
//! `GET /training/status/{session_id}`, `POST /training/stop/{session_id}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bars::Bars;

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Running,
    /// Asked to stop, not stopped yet (only in the answer to a stop).
    Stopping,
    Completed,
    Failed,
    Cancelled,
}

impl SessionStatus {
    /// True once the session has ended.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// One series of a run: a symbol at a timeframe, with its bars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub symbol: String,
    pub timeframe: String,
    pub bars: Bars,
}

/// `POST /training/start`: the strategy, the scope and every series the run reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartRequest {
    /// The backend's operation id, for the host's logs.
    #[serde(default)]
    pub run_id: Option<String>,
    pub strategy_yaml: String,
    #[serde(default)]
    pub symbols: Vec<String>,
    #[serde(default)]
    pub timeframes: Vec<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    pub series: Vec<Series>,
}

/// The answer to [`StartRequest`] and to a stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionAnswer {
    pub success: bool,
    pub session_id: String,
    pub status: SessionStatus,
}

/// `GET /training/status/{session_id}`. `progress` is an operation's progress
/// (`ktrdr_actors::Progress` as JSON); `metrics` is `{epochs, best_epoch}`; `result` is the
/// run's result summary once completed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusAnswer {
    pub success: bool,
    pub session_id: String,
    pub status: SessionStatus,
    pub strategy_name: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub progress: Value,
    pub metrics: Value,
    pub result: Option<Value>,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statuses travel as the lowercase words both ends used before they were typed.
    #[test]
    fn statuses_as_words() {
        assert_eq!(
            serde_json::to_value(SessionStatus::Cancelled).unwrap(),
            serde_json::json!("cancelled")
        );
        let s: SessionStatus = serde_json::from_value(serde_json::json!("running")).unwrap();
        assert!(!s.is_finished());
        assert!(serde_json::from_value::<SessionStatus>(serde_json::json!("starting")).is_err());
    }
}
