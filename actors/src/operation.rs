//! The operation record: ids, types, statuses and progress, serialised in KTRDR API v1's shape.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Why a string could not be parsed into one of this module's types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// An operation id that is not `op_{type}_{YYYYmmdd_HHMMSS}_{8 hex}`.
    #[error(
        "invalid operation id {0:?}: expected op_{{type}}_{{YYYYmmdd_HHMMSS}}_{{8 hex digits}}"
    )]
    OperationId(String),
    /// An operation type that is not a lower-case identifier.
    #[error("invalid operation type {0:?}: expected lower-case letters, digits and '_', starting with a letter")]
    OperationType(String),
    /// A status outside the five known ones.
    #[error(
        "invalid status {0:?}: expected one of pending, running, completed, failed, cancelled"
    )]
    Status(String),
}

/// The kind of work an operation does. Each domain picks its own name (`data_load`,
/// `training`, `dummy`); this crate does not enumerate them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OperationType(String);

impl OperationType {
    /// Builds a type from a lower-case identifier such as `data_load`.
    pub fn new(name: &str) -> Result<Self, ParseError> {
        let mut chars = name.chars();
        let ok = matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
            && name.len() <= 32
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(ParseError::OperationType(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OperationType {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<OperationType> for String {
    fn from(t: OperationType) -> String {
        t.0
    }
}

impl fmt::Display for OperationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `op_{type}_{YYYYmmdd_HHMMSS}_{8 hex}`, as KTRDR names its operations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OperationId(String);

impl OperationId {
    /// A fresh id for an operation of `kind` created at `now`.
    pub fn generate(kind: &OperationType, now: DateTime<Utc>) -> Self {
        let suffix: u32 = rand::thread_rng().gen();
        Self(format!(
            "op_{}_{}_{:08x}",
            kind,
            now.format("%Y%m%d_%H%M%S"),
            suffix
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for OperationId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::OperationId(s.to_owned());
        let rest = s.strip_prefix("op_").ok_or_else(bad)?;
        // From the right: 8 hex, HHMMSS, YYYYmmdd; what is left is the type.
        let mut parts = rest.rsplitn(4, '_');
        let hex = parts.next().ok_or_else(bad)?;
        let time = parts.next().ok_or_else(bad)?;
        let date = parts.next().ok_or_else(bad)?;
        let kind = parts.next().ok_or_else(bad)?;
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        if !digits(time, 6) || !digits(date, 8) || OperationType::new(kind).is_err() {
            return Err(bad());
        }
        Ok(Self(s.to_owned()))
    }
}

impl TryFrom<String> for OperationId {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<OperationId> for String {
    fn from(id: OperationId) -> String {
        id.0
    }
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an operation is in its life. `completed`, `failed` and `cancelled` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl OperationStatus {
    /// True for the three final statuses.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OperationStatus {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return Err(ParseError::Status(s.to_owned())),
        })
    }
}

/// How far an operation has come: the one view that `GET` and the stream both show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// 0..=100.
    pub percentage: f64,
    /// Human-readable description of the step in progress.
    pub current_step: Option<String>,
    pub steps_completed: u64,
    pub steps_total: u64,
    pub items_processed: u64,
    pub items_total: Option<u64>,
    pub current_item: Option<String>,
    /// Domain-specific detail (segment numbers, epochs, ...), opaque to this crate.
    pub context: Map<String, Value>,
}

impl Progress {
    /// Sets steps and derives the percentage from them.
    pub fn set_steps(&mut self, completed: u64, total: u64) {
        self.steps_completed = completed;
        self.steps_total = total;
        self.percentage = if total == 0 {
            0.0
        } else {
            (completed as f64 * 100.0 / total as f64).clamp(0.0, 100.0)
        };
    }
}

/// Everything the tracker knows about one operation, in the shape of KTRDR's
/// `GET /api/v1/operations/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationRecord {
    pub operation_id: OperationId,
    pub operation_type: OperationType,
    pub status: OperationStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub progress: Progress,
    /// What the operation works on; the domain that starts it fills this in.
    pub metadata: Value,
    pub error_message: Option<String>,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
    pub result_summary: Option<Value>,
    /// Domain metrics (training history, ...), shown by `GET .../metrics`.
    pub metrics: Option<Value>,
    /// Why it was cancelled (user request, timeout, server shutdown), when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
}

impl OperationRecord {
    /// A new `pending` record.
    pub fn new(kind: OperationType, metadata: Value, now: DateTime<Utc>) -> Self {
        Self {
            operation_id: OperationId::generate(&kind, now),
            operation_type: kind,
            status: OperationStatus::Pending,
            created_at: now,
            started_at: None,
            completed_at: None,
            progress: Progress::default(),
            metadata,
            error_message: None,
            warnings: Vec::new(),
            errors: Vec::new(),
            result_summary: None,
            metrics: None,
            cancellation_reason: None,
        }
    }

    /// Seconds from start (or creation) to completion, or to `now` while it runs.
    pub fn duration_seconds(&self, now: DateTime<Utc>) -> f64 {
        let from = self.started_at.unwrap_or(self.created_at);
        let to = self.completed_at.unwrap_or(now);
        (to - from).num_microseconds().unwrap_or(0) as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generated ids follow KTRDR's format and parse back.
    #[test]
    fn generated_id_has_ktrdr_format() {
        let kind = OperationType::new("data_load").unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-22T21:43:41Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = OperationId::generate(&kind, now);
        let s = id.as_str();
        assert!(s.starts_with("op_data_load_20261122_214341_"), "{s}");
        assert_eq!(s.len(), "op_data_load_20261122_214341_".len() + 8);
        assert_eq!(s.parse::<OperationId>().unwrap(), id);
    }

    /// Ids that are not KTRDR-shaped are refused, so a path segment cannot be anything.
    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "op_nope",
            "op_dummy_20261122_214338_6803a48",
            "op_dummy_20261122_214338_6803a48z",
            "op_dummy_2026112_214338_6803a488",
            "op__20261122_214338_6803a488",
            "xx_dummy_20261122_214338_6803a488",
            "op_../x_20261122_214338_6803a488",
        ] {
            assert!(bad.parse::<OperationId>().is_err(), "{bad} accepted");
        }
        assert!("op_dummy_20261122_214338_6803a488"
            .parse::<OperationId>()
            .is_ok());
    }

    /// Status parsing names the valid values in its error.
    #[test]
    fn status_parse_error_lists_values() {
        assert_eq!(
            "Running".parse::<OperationStatus>().unwrap(),
            OperationStatus::Running
        );
        let err = "done".parse::<OperationStatus>().unwrap_err().to_string();
        assert!(
            err.contains("pending, running, completed, failed, cancelled"),
            "{err}"
        );
    }

    /// Percentage follows the steps and stays within 0..=100.
    #[test]
    fn percentage_from_steps() {
        let mut p = Progress::default();
        p.set_steps(1, 4);
        assert_eq!(p.percentage, 25.0);
        p.set_steps(9, 4);
        assert_eq!(p.percentage, 100.0);
        p.set_steps(0, 0);
        assert_eq!(p.percentage, 0.0);
    }
}
