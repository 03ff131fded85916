//! The training host service (`ktrdr training-host`): `POST /training/start`,
//! `GET /training/status/{session_id}`, `POST /training/stop/{session_id}`.
//!
//! A run's bars travel in binary: the start request is a frame ([`encode_run`]) of a JSON
//! header ([`StartRequest`]) and, per series, its bars as a Parquet file (exact f64, about a
//! third of JSON's size, and decoded without parsing numbers from text).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// The content type of a start request's frame.
pub const RUN_CONTENT_TYPE: &str = "application/vnd.ktrdr.training-run";

/// One series of a run: a symbol at a timeframe, and the length of its Parquet bytes in the
/// frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesHeader {
    pub symbol: String,
    pub timeframe: String,
    pub bytes: u64,
}

/// `POST /training/start`: the strategy, the scope and every series the run reads (the
/// frame's header; the series' bars follow it).
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
    pub series: Vec<SeriesHeader>,
}

/// Why a start frame cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunFrameError {
    #[error("the frame ends before its {0}")]
    Truncated(&'static str),
    #[error("the frame's header is not a start request: {0}")]
    Header(String),
    #[error("{0} bytes follow the last series")]
    Trailing(usize),
}

/// `[u32 LE: header length][header: the request as JSON][each series' bytes, in header
/// order]`. `series` are the blobs the header's [`SeriesHeader::bytes`] announce.
pub fn encode_run(header: &StartRequest, series: &[Vec<u8>]) -> Vec<u8> {
    let json = serde_json::to_vec(header).unwrap_or_default();
    let total = 4 + json.len() + series.iter().map(Vec::len).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    for blob in series {
        out.extend_from_slice(blob);
    }
    out
}

/// The header and each series' bytes of a frame made by [`encode_run`].
pub fn decode_run(frame: &[u8]) -> Result<(StartRequest, Vec<&[u8]>), RunFrameError> {
    let len = frame
        .get(..4)
        .ok_or(RunFrameError::Truncated("header length"))?;
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let json = frame
        .get(4..4 + len)
        .ok_or(RunFrameError::Truncated("header"))?;
    let header: StartRequest =
        serde_json::from_slice(json).map_err(|e| RunFrameError::Header(e.to_string()))?;
    let mut at = 4 + len;
    let mut blobs = Vec::with_capacity(header.series.len());
    for s in &header.series {
        let end = at
            .checked_add(usize::try_from(s.bytes).unwrap_or(usize::MAX))
            .ok_or(RunFrameError::Truncated("series"))?;
        blobs.push(
            frame
                .get(at..end)
                .ok_or(RunFrameError::Truncated("series"))?,
        );
        at = end;
    }
    if at != frame.len() {
        return Err(RunFrameError::Trailing(frame.len() - at));
    }
    Ok((header, blobs))
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

/// `GET /health` of the training host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthAnswer {
    /// Always `healthy` when the host answers.
    pub status: String,
    pub service: String,
    pub uptime_seconds: f64,
    pub active_sessions: usize,
    pub max_sessions: usize,
    /// `{total_mb, available_mb}` where the machine says.
    pub memory: Value,
    /// What libtorch sees: `device` (`cpu` or `cuda`) and its details.
    #[serde(flatten)]
    pub device: serde_json::Map<String, Value>,
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

    /// A frame decodes to its header and blobs; a cut or padded frame is refused.
    #[test]
    fn run_frame_round_trip() {
        let header = StartRequest {
            run_id: Some("op".into()),
            strategy_yaml: "name: x".into(),
            symbols: vec!["GOOG".into()],
            timeframes: vec!["1d".into()],
            start_date: None,
            end_date: None,
            series: vec![
                SeriesHeader {
                    symbol: "GOOG".into(),
                    timeframe: "1d".into(),
                    bytes: 3,
                },
                SeriesHeader {
                    symbol: "GOOG".into(),
                    timeframe: "1h".into(),
                    bytes: 2,
                },
            ],
        };
        let frame = encode_run(&header, &[vec![1, 2, 3], vec![4, 5]]);
        let (back, blobs) = decode_run(&frame).unwrap();
        assert_eq!(back, header);
        assert_eq!(blobs, vec![&[1u8, 2, 3][..], &[4u8, 5][..]]);
        assert_eq!(
            decode_run(&frame[..frame.len() - 1]).unwrap_err(),
            RunFrameError::Truncated("series")
        );
        let mut longer = frame.clone();
        longer.push(0);
        assert_eq!(decode_run(&longer).unwrap_err(), RunFrameError::Trailing(1));
        assert!(matches!(
            decode_run(&[9, 0, 0, 0, b'{']),
            Err(RunFrameError::Truncated(_))
        ));
    }
}
