//! The HostServiceClient actor: one pooled HTTP client per host service.
//!
//! `awc::Client` is `!Send`, so the actor lives on an arbiter of its own and requests reach it
//! as messages. [`HostClient`] is the `Send + Clone` handle callers use: each request carries a
//! cancellation token tied to the caller's future, so dropping that future (an operation
//! stopped, a caller gone) closes the HTTP exchange instead of letting it run on.
//!
//! Retries: connection errors, timeouts and 5xx answers are retried with exponential backoff and
//! jitter, up to `max_retries` times; 4xx answers and undecodable bodies are not.

mod connector;
mod error;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backoff::Backoff;
use actix::prelude::*;
use awc::http::Method;
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use error::HostServiceError;

/// Largest answer body accepted from a host service.
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

/// How to reach one host service.
#[derive(Debug, Clone)]
pub struct HostClientConfig {
    /// Name used in errors and logs ("IB host service").
    pub service: String,
    /// Base URL, e.g. `http://localhost:5001`.
    pub base_url: String,
    /// Time allowed for one attempt, answer body included.
    pub timeout: Duration,
    /// Attempts after the first one, for retryable errors.
    pub max_retries: u32,
    /// Backoff before the first retry; doubles each time.
    pub backoff_base: Duration,
    /// Upper bound of one backoff.
    pub backoff_max: Duration,
    /// Most connections open at once.
    pub connection_limit: usize,
    /// How long an idle connection is kept for reuse.
    pub keep_alive: Duration,
    /// Sent as `Authorization: Bearer ...` on every request, when the service wants one.
    pub token: Option<String>,
}

impl HostClientConfig {
    /// Defaults for a service at `base_url`.
    pub fn new(service: impl Into<String>, base_url: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            timeout: Duration::from_secs(30),
            max_retries: 3,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            connection_limit: 32,
            keep_alive: Duration::from_secs(30),
            token: None,
        }
    }
}

/// Counters of one client since it started.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClientStats {
    /// Requests asked for (retries not counted).
    pub requests: u64,
    /// Requests that ended in an error after all retries.
    pub failures: u64,
    /// Extra attempts made for retryable errors.
    pub retries: u64,
    /// HTTP attempts sent.
    pub attempts: u64,
    /// New TCP connections opened.
    pub connections_opened: u64,
    /// Attempts that went over a pooled connection.
    pub connections_reused: u64,
    /// Mean and largest latency of finished requests, retries and backoff included.
    pub mean_latency_ms: f64,
    pub max_latency_ms: f64,
}

/// One JSON request to the service.
#[derive(Debug, Message)]
#[rtype(result = "Result<Value, HostServiceError>")]
pub struct ServiceRequest {
    pub method: Method,
    /// Path under the base URL, with its query string: `/data/historical`.
    pub path: String,
    pub body: Option<RequestBody>,
    /// Tripped when the caller gives up; the exchange is then dropped.
    pub cancel: CancellationToken,
}

/// What a request sends: JSON, or bytes of a given content type (cheap to clone, so a retry
/// sends them again without a copy).
#[derive(Debug, Clone)]
pub enum RequestBody {
    Json(Value),
    Bytes {
        content_type: &'static str,
        bytes: bytes::Bytes,
    },
}

/// The client's counters.
#[derive(Debug, Message)]
#[rtype(result = "ClientStats")]
pub struct GetStats;

/// The actor (see the module docs).
pub struct HostServiceClient {
    config: HostClientConfig,
    client: awc::Client,
    /// Counted by the connector on every new connection.
    connections_opened: Arc<AtomicU64>,
    stats: ClientStats,
    latency_total_ms: f64,
}

impl HostServiceClient {
    fn new(config: HostClientConfig, force_close: bool) -> Self {
        let opened = Arc::new(AtomicU64::new(0));
        let tcp =
            actix_tls::connect::Connector::new(actix_tls::connect::Resolver::default()).service();
        let mut connector = awc::Connector::new()
            .connector(connector::CountingConnector {
                inner: tcp,
                opened: opened.clone(),
            })
            .limit(config.connection_limit)
            .timeout(config.timeout);
        connector = if force_close {
            connector.conn_keep_alive(Duration::ZERO)
        } else {
            connector.conn_keep_alive(config.keep_alive)
        };
        let mut builder = awc::Client::builder()
            .connector(connector)
            .timeout(config.timeout)
            .disable_redirects();
        if let Some(token) = &config.token {
            builder = builder.bearer_auth(token);
        }
        let client = builder.finish();
        Self {
            config,
            client,
            connections_opened: opened,
            stats: ClientStats::default(),
            latency_total_ms: 0.0,
        }
    }

    fn record(&mut self, outcome: &Attempted) {
        self.stats.requests += 1;
        self.stats.attempts += u64::from(outcome.attempts);
        self.stats.retries += u64::from(outcome.attempts.saturating_sub(1));
        if outcome.result.is_err() {
            self.stats.failures += 1;
        }
        let ms = outcome.elapsed.as_secs_f64() * 1000.0;
        self.latency_total_ms += ms;
        self.stats.max_latency_ms = self.stats.max_latency_ms.max(ms);
        self.stats.mean_latency_ms = self.latency_total_ms / self.stats.requests as f64;
    }
}

impl Actor for HostServiceClient {
    type Context = Context<Self>;
}

/// The result of one request with its attempts, for the statistics.
struct Attempted {
    result: Result<Value, HostServiceError>,
    attempts: u32,
    elapsed: Duration,
}

impl Handler<ServiceRequest> for HostServiceClient {
    type Result = ResponseActFuture<Self, Result<Value, HostServiceError>>;

    fn handle(&mut self, msg: ServiceRequest, _ctx: &mut Context<Self>) -> Self::Result {
        let client = self.client.clone();
        let config = self.config.clone();
        let fut = async move {
            let started = Instant::now();
            let mut attempts = 0;
            let result = loop {
                attempts += 1;
                let attempt = send_once(&client, &config, &msg);
                let result = tokio::select! {
                    r = attempt => r,
                    _ = msg.cancel.cancelled() => Err(HostServiceError::Cancelled {
                        service: config.service.clone(),
                    }),
                };
                match result {
                    Err(e) if e.is_retryable() && attempts <= config.max_retries => {
                        let backoff = backoff(&config, attempts);
                        tracing::debug!(service = %config.service, error = %e, ?backoff, "retrying");
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = msg.cancel.cancelled() => break Err(HostServiceError::Cancelled {
                                service: config.service.clone(),
                            }),
                        }
                    }
                    other => break other,
                }
            };
            Attempted {
                result,
                attempts,
                elapsed: started.elapsed(),
            }
        };
        Box::pin(
            actix::fut::wrap_future(fut).map(|outcome: Attempted, act: &mut Self, _| {
                act.record(&outcome);
                outcome.result
            }),
        )
    }
}

impl Handler<GetStats> for HostServiceClient {
    type Result = MessageResult<GetStats>;
    fn handle(&mut self, _: GetStats, _ctx: &mut Context<Self>) -> Self::Result {
        let mut stats = self.stats.clone();
        stats.connections_opened = self.connections_opened.load(Ordering::Relaxed);
        stats.connections_reused = stats.attempts.saturating_sub(stats.connections_opened);
        MessageResult(stats)
    }
}

/// The wait before retry `attempt` ([`Backoff`] with jitter).
fn backoff(config: &HostClientConfig, attempt: u32) -> Duration {
    Backoff {
        base: config.backoff_base,
        max: config.backoff_max,
        jitter: true,
    }
    .delay(attempt)
}

async fn send_once(
    client: &awc::Client,
    config: &HostClientConfig,
    msg: &ServiceRequest,
) -> Result<Value, HostServiceError> {
    let url = format!("{}{}", config.base_url, msg.path);
    let service = || config.service.clone();
    let timed_out = || HostServiceError::Timeout {
        service: service(),
        url: url.clone(),
        timeout_ms: config.timeout.as_millis() as u64,
    };
    let request = client.request(msg.method.clone(), &url);
    let sent = match &msg.body {
        Some(RequestBody::Json(body)) => request.send_json(body).await,
        Some(RequestBody::Bytes {
            content_type,
            bytes,
        }) => {
            request
                .insert_header((awc::http::header::CONTENT_TYPE, *content_type))
                .send_body(bytes.clone())
                .await
        }
        None => request.send().await,
    };
    let mut response = sent.map_err(|e| match e {
        awc::error::SendRequestError::Timeout => timed_out(),
        other => HostServiceError::Connection {
            service: service(),
            url: url.clone(),
            reason: other.to_string(),
        },
    })?;
    let status = response.status();
    let body = tokio::time::timeout(config.timeout, response.body().limit(MAX_BODY_BYTES))
        .await
        .map_err(|_| timed_out())?
        .map_err(|e| HostServiceError::Connection {
            service: service(),
            url: url.clone(),
            reason: format!("reading the answer: {e}"),
        })?;
    if !status.is_success() {
        return Err(HostServiceError::Status {
            service: service(),
            url,
            status: status.as_u16(),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    serde_json::from_slice(&body).map_err(|e| HostServiceError::Decode {
        service: service(),
        url,
        reason: e.to_string(),
    })
}

/// The `Send + Clone` handle to a [`HostServiceClient`] (see the module docs).
#[derive(Clone)]
pub struct HostClient {
    addr: Addr<HostServiceClient>,
    service: String,
    base_url: String,
}

impl HostClient {
    /// Starts the client actor on an arbiter of its own.
    pub fn start(config: HostClientConfig) -> Self {
        Self::start_with(config, false)
    }

    /// A client that opens a new connection for every request (benchmarks compare it with the
    /// pooled one).
    pub fn start_unpooled(config: HostClientConfig) -> Self {
        Self::start_with(config, true)
    }

    fn start_with(config: HostClientConfig, force_close: bool) -> Self {
        let service = config.service.clone();
        let base_url = config.base_url.clone();
        let arbiter = Arbiter::new();
        let addr = HostServiceClient::start_in_arbiter(&arbiter.handle(), move |_| {
            HostServiceClient::new(config, force_close)
        });
        Self {
            addr,
            service,
            base_url,
        }
    }

    /// The service's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends a request; dropping the returned future closes the exchange.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<RequestBody>,
    ) -> Result<Value, HostServiceError> {
        let cancel = CancellationToken::new();
        let guard = cancel.clone().drop_guard();
        let answer = self
            .addr
            .send(ServiceRequest {
                method,
                path: path.to_owned(),
                body,
                cancel,
            })
            .await;
        guard.disarm();
        answer.map_err(|_| HostServiceError::Unavailable {
            service: self.service.clone(),
        })?
    }

    pub async fn get(&self, path: &str) -> Result<Value, HostServiceError> {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value, HostServiceError> {
        self.request(Method::POST, path, Some(RequestBody::Json(body)))
            .await
    }

    /// `POST path` with `bytes` of `content_type`, the answer decoded as `T`.
    pub async fn post_bytes_as<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        content_type: &'static str,
        bytes: bytes::Bytes,
    ) -> Result<T, HostServiceError> {
        let body = RequestBody::Bytes {
            content_type,
            bytes,
        };
        let answer = self.request(Method::POST, path, Some(body)).await?;
        self.decode(path, answer)
    }

    /// `GET path`, decoded as `T` (a protocol's answer type).
    pub async fn get_as<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, HostServiceError> {
        let answer = self.get(path).await?;
        self.decode(path, answer)
    }

    /// `POST path` with `body` (a protocol's request type), decoded as `T`.
    pub async fn post_as<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HostServiceError> {
        let body = serde_json::to_value(body).map_err(|e| self.decode_error(path, e))?;
        let answer = self.post(path, body).await?;
        self.decode(path, answer)
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        answer: Value,
    ) -> Result<T, HostServiceError> {
        serde_json::from_value(answer).map_err(|e| self.decode_error(path, e))
    }

    fn decode_error(&self, path: &str, e: serde_json::Error) -> HostServiceError {
        HostServiceError::Decode {
            service: self.service.clone(),
            url: format!("{}{path}", self.base_url),
            reason: e.to_string(),
        }
    }

    /// `GET /health` of the service.
    pub async fn health_check(&self) -> Result<Value, HostServiceError> {
        self.get("/health").await
    }

    /// The client's counters.
    pub async fn stats(&self) -> Result<ClientStats, HostServiceError> {
        self.addr
            .send(GetStats)
            .await
            .map_err(|_| HostServiceError::Unavailable {
                service: self.service.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Backoff doubles per attempt within its jitter band and never passes the cap.
    #[test]
    fn backoff_grows_and_is_capped() {
        let mut c = HostClientConfig::new("svc", "http://x");
        c.backoff_base = Duration::from_millis(100);
        c.backoff_max = Duration::from_millis(1000);
        for _ in 0..50 {
            let b1 = backoff(&c, 1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b3 = backoff(&c, 3);
            assert!(b3 >= Duration::from_millis(200) && b3 <= Duration::from_millis(400));
            assert!(backoff(&c, 30) <= Duration::from_millis(1000));
        }
    }

    /// Only connection errors, timeouts and 5xx are retried.
    #[test]
    fn retry_classification() {
        let status = |s| HostServiceError::Status {
            service: "s".into(),
            url: "u".into(),
            status: s,
            body: String::new(),
        };
        assert!(status(503).is_retryable());
        assert!(!status(404).is_retryable());
        assert!(!status(400).is_retryable());
        assert!(HostServiceError::Timeout {
            service: "s".into(),
            url: "u".into(),
            timeout_ms: 1
        }
        .is_retryable());
    }
}
