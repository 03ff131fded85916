//! Typed errors of a host-service request.

/// Why a request to a host service did not produce a decoded answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HostServiceError {
    /// ServiceConnectionError: no connection could be made or kept (refused, reset, DNS).
    #[error("cannot reach {service} at {url}: {reason}")]
    Connection {
        service: String,
        url: String,
        reason: String,
    },
    /// ServiceTimeoutError: no full answer within the request's timeout.
    #[error("{service} did not answer {url} within {timeout_ms} ms")]
    Timeout {
        service: String,
        url: String,
        timeout_ms: u64,
    },
    /// ServiceStatus: the service answered with a non-success HTTP status.
    #[error("{service} answered {status} for {url}: {body}")]
    Status {
        service: String,
        url: String,
        status: u16,
        body: String,
    },
    /// The answer was not the JSON expected.
    #[error("{service} sent an unreadable answer for {url}: {reason}")]
    Decode {
        service: String,
        url: String,
        reason: String,
    },
    /// The caller dropped or cancelled the request; its HTTP exchange was closed.
    #[error("request to {service} cancelled")]
    Cancelled { service: String },
    /// The client actor is not running.
    #[error("{service} client is not running")]
    Unavailable { service: String },
}

impl HostServiceError {
    /// Connection errors, timeouts and 5xx answers are worth another try; 4xx and decode
    /// errors are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connection { .. } | Self::Timeout { .. } => true,
            Self::Status { status, .. } => *status >= 500,
            Self::Decode { .. } | Self::Cancelled { .. } | Self::Unavailable { .. } => false,
        }
    }
}
