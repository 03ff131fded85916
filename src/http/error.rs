//! The one JSON error shape and the only place where errors become HTTP statuses.
//!
//! Every error answer is KTRDR's envelope plus a top-level `detail` that KTRDR's own CLI reads:
//! `{"success": false, "error": {"code", "message", "details"}, "detail": "..."}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use ktrdr_actors::tracker::{CancelError, SubscribeError};
use serde::Serialize;

use crate::data::provider::ProviderError;
use crate::data::store::StoreError;
use serde_json::json;

/// One field that failed validation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldError {
    /// Where, as KTRDR writes it: `body -> duration_seconds`, `query -> limit`.
    pub field: String,
    pub message: String,
    /// `json_invalid`, `value_error`, `missing`, ...
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>, kind: &str) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            kind: kind.to_owned(),
        }
    }
}

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or a value is out of range (400).
    #[error("{message}")]
    Validation {
        message: String,
        details: Vec<FieldError>,
    },
    /// The thing named does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but not in the current state (400), e.g. cancelling a finished
    /// operation.
    #[error("{0}")]
    InvalidState(String),
    /// What the request names is in a state that stops it, and the message says how to get
    /// out of it (409), e.g. a damaged stored series.
    #[error("{0}")]
    Conflict(String),
    /// A strategy file that is not a valid strategy (400). Its `detail` is KTRDR's object
    /// `{error_code, message, context, suggestion}`, which KTRDR's CLI prints.
    #[error("{message}")]
    StrategyConfig {
        message: String,
        strategy: String,
        /// The YAML path of the mistake (`indicators[2].name`).
        path: String,
    },
    /// A service this request needs is not available (503).
    #[error("{0}")]
    Unavailable(String),
    /// Our fault (500).
    #[error("{0}")]
    Internal(String),
    /// An error with the original KTRDR's own code for it (`CONFIG-IndicatorCreationFailed`,
    /// `DATA-LoadFailed`...) and its details, so its clients find what they look for.
    #[error("{message}")]
    Coded {
        status: StatusCode,
        code: &'static str,
        message: String,
        details: serde_json::Value,
    },
}

impl ApiError {
    /// A validation error about one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let detail = FieldError::new(field, message, "value_error");
        Self::Validation {
            message: format!("{}: {}", detail.field, detail.message),
            details: vec![detail],
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "VALIDATION_ERROR",
            Self::NotFound(_) => "NOT_FOUND",
            Self::InvalidState(_) => "INVALID_STATE",
            Self::StrategyConfig { .. } => "STRATEGY_CONFIG_ERROR",
            Self::Conflict(_) => "CONFLICT",
            Self::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Self::Internal(_) => "INTERNAL_ERROR",
            Self::Coded { code, .. } => code,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation { .. } | Self::InvalidState(_) | Self::StrategyConfig { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Coded { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let details = match self {
            Self::Validation { details, .. } => json!(details),
            Self::Coded { details, .. } => details.clone(),
            Self::NotFound(_)
            | Self::InvalidState(_)
            | Self::Conflict(_)
            | Self::StrategyConfig { .. }
            | Self::Unavailable(_)
            | Self::Internal(_) => {
                json!({})
            }
        };
        let message = self.to_string();
        let detail = match self {
            Self::StrategyConfig { strategy, path, .. } => json!({
                "error_code": "CONFIG-InvalidStrategy",
                "message": message,
                "context": {"strategy_name": strategy, "path": path},
                "suggestion": format!(
                    "fix `{path}` in the strategy file of {strategy}, then check it with \
                     `ktrdr models train {strategy} --dry-run`"
                ),
            }),
            _ => json!(message),
        };
        HttpResponse::build(self.status_code()).json(json!({
            "success": false,
            "error": {"code": self.code(), "message": message, "details": details},
            "detail": detail,
        }))
    }
}

impl From<CancelError> for ApiError {
    fn from(e: CancelError) -> Self {
        match e {
            CancelError::NotFound(_) => Self::NotFound(e.to_string()),
            CancelError::AlreadyFinished(..) => Self::InvalidState(e.to_string()),
            CancelError::TrackerGone => Self::Unavailable(e.to_string()),
            CancelError::Elsewhere(..) => Self::Conflict(e.to_string()),
        }
    }
}

impl From<SubscribeError> for ApiError {
    fn from(e: SubscribeError) -> Self {
        match e {
            SubscribeError::NotFound(_) => Self::NotFound(e.to_string()),
        }
    }
}

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::UnknownSymbol(_) | ProviderError::TimeframeUnavailable { .. } => {
                Self::NotFound(e.to_string())
            }
            ProviderError::Unavailable(_) => Self::Unavailable(e.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Damaged { .. } => Self::Conflict(e.to_string()),
            StoreError::Io { .. } | StoreError::Invalid { .. } => Self::Internal(e.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(format!("a worker thread failed: {e}"))
    }
}

impl ApiError {
    /// For a message to an actor that did not answer (its mailbox closed): names the actor.
    pub fn mailbox(actor: &'static str) -> impl FnOnce(actix::MailboxError) -> Self {
        move |e| Self::Unavailable(format!("{actor} unavailable: {e}"))
    }
}

/// The success envelope: `{"success": true, "data": ..., "error": null}`.
pub fn ok(data: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "data": data, "error": null}))
}
