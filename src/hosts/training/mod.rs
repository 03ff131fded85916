//! `ktrdr training-host`: runs training sessions for a remote backend (CUDA when the machine
//! has it).
//!
//! `POST /training/start` takes a frame of the strategy's YAML and the scope (JSON) and each
//! series' bars as Parquet bytes (`ktrdr_core::protocol::training`; the backend reads its
//! store, the host needs no data folder) and starts a session on a blocking thread;
//! `GET /training/status/{id}` answers its status, progress (the operations' shape) and
//! metrics; `POST /training/stop/{id}` trips its token (the run stops within one batch
//! window); `GET /health` reports the device and the sessions. Models are written under the
//! host's models folder (shared with the backend in a deployment).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use ktrdr_actors::Progress;
use ktrdr_core::bars::Bars;
use ktrdr_core::protocol::training::{
    decode_run, HealthAnswer, SessionAnswer, SessionStatus, StartRequest, StatusAnswer,
    RUN_CONTENT_TYPE,
};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::data::store::bars_from_parquet;
use crate::http::error::ApiError;
use crate::http::json::parse_date;
use crate::training::device;
use crate::training::model::TrainError;
use crate::training::pipeline::{self, RunInput};
use crate::training::progress::ProgressObserver;
use ktrdr_core::strategy::Strategy;
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// Largest `POST /training/start` body by default: a run frame carries its bars as Parquet
/// (1M one-minute bars are about 3 MB), so 64 MB is many series of years of minutes.
pub const DEFAULT_MAX_START_BYTES: usize = 64 * 1024 * 1024;
/// Finished sessions kept for status queries.
const KEEP_FINISHED: usize = 100;

/// What the host knows of one session.
#[derive(Debug, Clone)]
struct SessionState {
    status: SessionStatus,
    strategy_name: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    progress: Progress,
    metrics: Value,
    result: Option<Value>,
    error: Option<String>,
}

struct Session {
    state: Mutex<SessionState>,
    token: CancellationToken,
}

impl Session {
    fn lock(&self) -> std::sync::MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The host's state: its sessions and where models go.
pub struct TrainingHost {
    started: Instant,
    models_dir: PathBuf,
    max_sessions: usize,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    max_start_bytes: usize,
}

impl TrainingHost {
    pub fn new(models_dir: impl Into<PathBuf>, max_sessions: usize) -> Self {
        Self {
            started: Instant::now(),
            models_dir: models_dir.into(),
            max_sessions: max_sessions.max(1),
            sessions: Mutex::new(HashMap::new()),
            max_start_bytes: DEFAULT_MAX_START_BYTES,
        }
    }

    /// The largest `POST /training/start` body this host reads (bigger ones are refused with
    /// 413 before they are read into memory).
    pub fn with_max_start_bytes(mut self, bytes: usize) -> Self {
        self.max_start_bytes = bytes.max(1024);
        self
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn active(&self) -> usize {
        self.sessions()
            .values()
            .filter(|s| s.lock().finished_at.is_none())
            .count()
    }
}

/// The routes of the training host with its state.
pub fn app(host: TrainingHost) -> impl Fn(&mut web::ServiceConfig) + Send + Clone + 'static {
    let state = web::Data::new(host);
    move |cfg| configure(cfg, state.clone())
}

pub fn configure(cfg: &mut web::ServiceConfig, state: web::Data<TrainingHost>) {
    let limit = state.max_start_bytes;
    cfg.app_data(state)
        .app_data(web::PayloadConfig::new(limit))
        .route("/health", web::get().to(health))
        .route("/training/start", web::post().to(start))
        .route("/training/status/{id}", web::get().to(status))
        .route("/training/stop/{id}", web::post().to(stop))
        .default_service(web::to(|req: actix_web::HttpRequest| async move {
            Err::<HttpResponse, _>(ApiError::NotFound(format!(
                "No route for {} {}",
                req.method(),
                req.path()
            )))
        }));
}

async fn health(state: web::Data<TrainingHost>, req: actix_web::HttpRequest) -> HttpResponse {
    use actix_web::HttpMessage;
    // The machine's memory, devices and load only to callers with the host token.
    if req
        .extensions()
        .get::<crate::http::guard::Authenticated>()
        .is_none()
    {
        return HttpResponse::Ok().json(json!({"status": "healthy", "service": "training-host"}));
    }
    HttpResponse::Ok().json(HealthAnswer {
        status: "healthy".into(),
        service: "training-host".into(),
        uptime_seconds: state.started.elapsed().as_secs_f64(),
        active_sessions: state.active(),
        max_sessions: state.max_sessions,
        memory: memory(),
        device: match device::describe() {
            Value::Object(d) => d,
            _ => Default::default(),
        },
    })
}

/// The machine's memory from /proc/meminfo (kB), where there is one.
fn memory() -> Value {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return Value::Null;
    };
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    json!({
        "total_mb": field("MemTotal:").map(|k| k / 1024),
        "available_mb": field("MemAvailable:").map(|k| k / 1024),
    })
}

/// The header of a start frame and each series' bars, decoded (blocking).
fn decode_start(frame: &[u8]) -> Result<(StartRequest, Vec<Bars>), ApiError> {
    let (header, blobs) = decode_run(frame).map_err(|e| ApiError::field("body", e.to_string()))?;
    let bars = blobs
        .iter()
        .enumerate()
        .map(|(i, blob)| {
            bars_from_parquet(blob)
                .map_err(|e| ApiError::field(format!("body -> series[{i}] -> bars"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((header, bars))
}

async fn start(
    state: web::Data<TrainingHost>,
    req: HttpRequest,
    frame: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type != RUN_CONTENT_TYPE {
        return Err(ApiError::field(
            "header -> content-type",
            format!("a start request is a {RUN_CONTENT_TYPE} frame, not {content_type:?}"),
        ));
    }
    // A run's bars can be large: decode them off the server's threads.
    let (body, all_bars) = web::block(move || decode_start(&frame)).await??;
    let strategy = Strategy::from_yaml(&body.strategy_yaml)
        .map_err(|e| ApiError::field("body -> strategy_yaml", e.to_string()))?;
    let symbols = body
        .symbols
        .iter()
        .map(|s| crate::http::json::parse_field::<Symbol>("body -> symbols", s))
        .collect::<Result<Vec<_>, _>>()?;
    let timeframes = body
        .timeframes
        .iter()
        .map(|s| crate::http::json::parse_field::<Timeframe>("body -> timeframes", s))
        .collect::<Result<Vec<_>, _>>()?;
    let strategy = strategy
        .with_scope(symbols, timeframes)
        .map_err(|e| ApiError::field("body", e.to_string()))?;
    let (start, end) = (
        body.start_date
            .as_deref()
            .map(|d| parse_date("body -> start_date", d))
            .transpose()?,
        body.end_date
            .as_deref()
            .map(|d| parse_date("body -> end_date", d))
            .transpose()?,
    );
    let mut series = std::collections::BTreeMap::new();
    for (i, (s, bars)) in body.series.into_iter().zip(all_bars).enumerate() {
        let path = format!("body -> series[{i}]");
        let sym: Symbol = crate::http::json::parse_field(&format!("{path} -> symbol"), &s.symbol)?;
        let tf: Timeframe =
            crate::http::json::parse_field(&format!("{path} -> timeframe"), &s.timeframe)?;
        let bars = bars.slice_range(
            start.map(|d| d.timestamp_millis()),
            end.map(|d| d.timestamp_millis()),
        );
        series.insert((sym, tf), bars);
    }
    for sym in &strategy.symbols {
        for tf in &strategy.timeframes {
            if !series.contains_key(&(sym.clone(), *tf)) {
                return Err(ApiError::field(
                    "body -> series",
                    format!("no bars for {sym} {tf}"),
                ));
            }
        }
    }

    let id = format!("session_{:016x}", rand_id());
    let session = Arc::new(Session {
        state: Mutex::new(SessionState {
            status: SessionStatus::Running,
            strategy_name: strategy.name.clone(),
            started_at: Utc::now(),
            finished_at: None,
            progress: Progress::default(),
            metrics: json!({ "epochs": [], "best_epoch": null }),
            result: None,
            error: None,
        }),
        token: CancellationToken::new(),
    });
    {
        let mut sessions = state.sessions();
        let active = sessions
            .values()
            .filter(|s| s.lock().finished_at.is_none())
            .count();
        if active >= state.max_sessions {
            return Err(ApiError::Unavailable(format!(
                "the training host is busy ({active} of {} sessions running); try again later",
                state.max_sessions
            )));
        }
        forget_old(&mut sessions);
        sessions.insert(id.clone(), session.clone());
    }
    let input = RunInput {
        strategy,
        strategy_yaml: body.strategy_yaml,
        series,
        models_dir: state.models_dir.clone(),
        run_id: body.run_id.unwrap_or_else(|| id.clone()),
        mode: "host",
    };
    let s = session.clone();
    tokio::task::spawn_blocking(move || {
        let outcome = {
            let (a, b, c) = (s.clone(), s.clone(), s.clone());
            let mut obs = ProgressObserver::new(
                move |p| a.lock().progress = p,
                move |m| b.lock().metrics = m,
                move || c.token.is_cancelled(),
            );
            // A panic must end the session as failed, not leave it `running` for ever.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pipeline::run(input, &mut obs)
            }))
            .unwrap_or_else(|panic| {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(TrainError::Failed(format!(
                    "training failed unexpectedly: {why}"
                )))
            })
        };
        let mut st = s.lock();
        st.finished_at = Some(Utc::now());
        match outcome {
            Ok(result) => {
                st.status = SessionStatus::Completed;
                st.progress.percentage = 100.0;
                st.result = Some(result);
            }
            Err(TrainError::Cancelled) => st.status = SessionStatus::Cancelled,
            Err(TrainError::Failed(m)) => {
                st.status = SessionStatus::Failed;
                st.error = Some(m);
            }
        }
    });
    tracing::info!(session = %id, "training session started");
    Ok(HttpResponse::Ok().json(SessionAnswer {
        success: true,
        session_id: id,
        status: SessionStatus::Running,
    }))
}

fn rand_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Drops the oldest finished sessions beyond [`KEEP_FINISHED`].
fn forget_old(sessions: &mut HashMap<String, Arc<Session>>) {
    let mut finished: Vec<(DateTime<Utc>, String)> = sessions
        .iter()
        .filter_map(|(id, s)| s.lock().finished_at.map(|t| (t, id.clone())))
        .collect();
    if finished.len() < KEEP_FINISHED {
        return;
    }
    finished.sort();
    for (_, id) in finished.iter().take(finished.len() + 1 - KEEP_FINISHED) {
        sessions.remove(id);
    }
}

fn session(state: &TrainingHost, id: &str) -> Result<Arc<Session>, ApiError> {
    state
        .sessions()
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("Training session not found: {id}")))
}

async fn status(
    state: web::Data<TrainingHost>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let s = session(&state, &id)?;
    let st = s.lock().clone();
    Ok(HttpResponse::Ok().json(StatusAnswer {
        success: true,
        session_id: id.into_inner(),
        status: st.status,
        strategy_name: st.strategy_name,
        started_at: st.started_at,
        finished_at: st.finished_at,
        progress: serde_json::to_value(&st.progress).unwrap_or_default(),
        metrics: st.metrics,
        result: st.result,
        error: st.error,
    }))
}

async fn stop(
    state: web::Data<TrainingHost>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let s = session(&state, &id)?;
    s.token.cancel();
    let status = s.lock().status;
    Ok(HttpResponse::Ok().json(SessionAnswer {
        success: true,
        session_id: id.into_inner(),
        status: match status {
            SessionStatus::Running => SessionStatus::Stopping,
            done => done,
        },
    }))
}
