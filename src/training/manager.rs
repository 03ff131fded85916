//! The TrainingManager actor: starts `training` operations whose job reads the bars from the
//! local store and runs the pipeline on a blocking thread (checking the operation's token), or
//! hands the run to the training host service and mirrors its session's progress and metrics.
//!
//! With the host: cancelling the operation drops the job's future, whose guard asks the host to
//! stop the session; a host that stops answering fails the operation with a message naming it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use ktrdr_actors::host_client::{HostClient, HostServiceError};
use ktrdr_actors::{
    start_operation, JobContext, JobError, JobResult, OperationId, OperationSpec, OperationType,
    Progress, ProgressTracker,
};
use serde_json::{json, Map, Value};

use super::model::TrainError;
use super::pipeline::{self, RunInput};
use super::progress::ProgressObserver;
use crate::data::calendar::Calendar;
use crate::data::manager::{DataManager, LoadRequest, MakeLoadJob};
use crate::data::store::{bars_to_parquet, BarStore};
use crate::operations::metadata;
use ktrdr_core::bars::Bars;
use ktrdr_core::mode::LoadMode;
use ktrdr_core::protocol::training::{
    encode_run, SeriesHeader, SessionAnswer, SessionStatus, StartRequest, StatusAnswer,
    RUN_CONTENT_TYPE,
};
use ktrdr_core::strategy::Strategy;
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// How often the backend asks the training host for a session's status.
const HOST_POLL: Duration = Duration::from_millis(200);

/// A checked training request.
#[derive(Debug, Clone)]
pub struct TrainingRequest {
    /// The strategy, scoped to the request's symbols and timeframes.
    pub strategy: Strategy,
    pub strategy_path: PathBuf,
    pub strategy_yaml: String,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// A load to run first for every (symbol, timeframe); `None` or `local` reads the store
    /// as it is.
    pub data_mode: Option<LoadMode>,
}

/// Starts a training; answers with the operation's id at once.
#[derive(Message)]
#[rtype(result = "OperationId")]
pub struct StartTraining(pub TrainingRequest);

/// The TrainingManager (see the module docs).
pub struct TrainingManager {
    tracker: Addr<ProgressTracker>,
    data: Addr<DataManager>,
    store: BarStore,
    models_dir: PathBuf,
    /// The training host service, when training is delegated to it.
    host: Option<HostClient>,
    timeout: Option<Duration>,
}

impl TrainingManager {
    pub fn new(
        tracker: Addr<ProgressTracker>,
        data: Addr<DataManager>,
        store: BarStore,
        models_dir: PathBuf,
        host: Option<HostClient>,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            tracker,
            data,
            store,
            models_dir,
            host,
            timeout,
        }
    }
}

impl Actor for TrainingManager {
    type Context = Context<Self>;
}

impl Handler<StartTraining> for TrainingManager {
    type Result = MessageResult<StartTraining>;

    fn handle(&mut self, StartTraining(req): StartTraining, _: &mut Context<Self>) -> Self::Result {
        let s = &req.strategy;
        let symbols: Vec<&str> = s.symbols.iter().map(|x| x.as_str()).collect();
        let timeframes: Vec<&str> = s.timeframes.iter().map(|t| t.as_str()).collect();
        let mode = if self.host.is_some() { "host" } else { "local" };
        let mut params = Map::new();
        for (k, v) in [
            ("strategy_name", json!(s.name)),
            // The file's name only: paths of this machine stay out of API answers.
            (
                "strategy_path",
                json!(req
                    .strategy_path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())),
            ),
            ("training_type", json!("mlp")),
            ("symbols", json!(symbols)),
            ("timeframes", json!(timeframes)),
            ("epochs", json!(s.model.training.epochs)),
            ("data_mode", json!(req.data_mode.map(|m| m.to_string()))),
            ("use_host_service", json!(self.host.is_some())),
            ("training_mode", json!(mode)),
            ("operation_name", json!("training")),
            ("service_name", json!("TrainingService")),
        ] {
            params.insert(k.into(), v);
        }
        let spec = OperationSpec {
            kind: OperationType::new("training").expect("valid type name"),
            metadata: metadata(
                symbols.first().copied(),
                timeframes.first().copied(),
                Some("training"),
                req.start.map(|d| d.to_rfc3339()),
                req.end.map(|d| d.to_rfc3339()),
                params,
            ),
            timeout: self.timeout,
        };
        let store = self.store.clone();
        let models_dir = self.models_dir.clone();
        let host = self.host.clone();
        let data = self.data.clone();
        MessageResult(start_operation(
            &self.tracker,
            spec,
            move |ctx| async move {
                load_first(&req, &data, &ctx).await?;
                match host {
                    None => run_local(req, store, models_dir, ctx).await,
                    Some(host) => run_on_host(req, store, host, ctx).await,
                }
            },
        ))
    }
}

fn stage(ctx: &JobContext, step: &str) {
    ctx.progress.report(Progress {
        current_step: Some(step.to_owned()),
        ..Default::default()
    });
}

/// Runs the request's `data_mode` load for every (symbol, timeframe) inside this operation
/// (its progress shows here; a cancel stops it).
async fn load_first(
    req: &TrainingRequest,
    data: &Addr<DataManager>,
    ctx: &JobContext,
) -> Result<(), JobError> {
    let Some(mode) = req.data_mode.filter(|m| *m != LoadMode::Local) else {
        return Ok(());
    };
    for symbol in &req.strategy.symbols {
        for tf in &req.strategy.timeframes {
            let job = data
                .send(MakeLoadJob(LoadRequest {
                    symbol: symbol.clone(),
                    timeframe: *tf,
                    mode,
                    start: req.start,
                    end: req.end,
                    calendar: Calendar::for_symbol(symbol.as_str()),
                }))
                .await
                .map_err(|e| JobError::Failed(format!("data manager: {e}")))?;
            // A load that did not get its whole range stops the training.
            job.run(ctx.clone()).await.map_err(|e| match e {
                JobError::Failed(m) | JobError::FailedWith { error: m, .. } => {
                    JobError::Failed(format!("loading {symbol} {tf} ({mode}): {m}"))
                }
                cancelled => cancelled,
            })?;
        }
    }
    Ok(())
}

/// Reads every (symbol, timeframe) the strategy needs from the store, cut to [start, end).
async fn read_series(
    req: &TrainingRequest,
    store: BarStore,
    ctx: &JobContext,
) -> Result<BTreeMap<(Symbol, Timeframe), Bars>, JobError> {
    stage(ctx, "Reading bars from the local store");
    let s = &req.strategy;
    let keys: Vec<(Symbol, Timeframe)> = s
        .symbols
        .iter()
        .flat_map(|sym| s.timeframes.iter().map(move |tf| (sym.clone(), *tf)))
        .collect();
    let (start, end) = (
        req.start.map(|d| d.timestamp_millis()),
        req.end.map(|d| d.timestamp_millis()),
    );
    ctx.spawn_blocking(move || {
        let mut out = BTreeMap::new();
        for (sym, tf) in keys {
            let bars = store
                .read(&sym, tf)
                .map_err(|e| JobError::Failed(e.to_string()))?
                .slice_range(start, end);
            if bars.is_empty() {
                return Err(JobError::Failed(format!(
                    "no {sym} {tf} bars in the local store for the requested range: \
                     load them first (ktrdr data load {sym} -t {tf})"
                )));
            }
            out.insert((sym, tf), bars);
        }
        Ok(out)
    })
    .await?
}

fn job_error(e: TrainError) -> JobError {
    match e {
        TrainError::Cancelled => JobError::Cancelled,
        TrainError::Failed(m) => JobError::Failed(m),
    }
}

async fn run_local(
    req: TrainingRequest,
    store: BarStore,
    models_dir: PathBuf,
    ctx: JobContext,
) -> JobResult {
    let series = read_series(&req, store, &ctx).await?;
    let (reporter, metrics, token) = (
        ctx.progress.clone(),
        ctx.progress.clone(),
        ctx.token.clone(),
    );
    let input = RunInput {
        strategy: req.strategy,
        strategy_yaml: req.strategy_yaml,
        series,
        models_dir,
        run_id: ctx.id.to_string(),
        mode: "local",
    };
    ctx.spawn_blocking(move || {
        let mut obs = ProgressObserver::new(
            |p| reporter.report(p),
            |m| metrics.set_metrics(m),
            || token.is_cancelled(),
        );
        pipeline::run(input, &mut obs)
    })
    .await?
    .map_err(job_error)
}

/// Asks the host to stop a session when the job ends early (cancel, timeout, shutdown).
struct StopSession {
    host: HostClient,
    session: String,
    armed: bool,
}

impl Drop for StopSession {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (host, path) = (
            self.host.clone(),
            format!("/training/stop/{}", self.session),
        );
        actix::spawn(async move {
            if let Err(e) = host.post(&path, json!({})).await {
                tracing::warn!(error = %e, "could not stop the training host session");
            }
        });
    }
}

fn host_failed(host: &HostClient, what: &str, e: HostServiceError) -> JobError {
    JobError::Failed(format!(
        "training host service at {} {what}: {e}",
        host.base_url()
    ))
}

/// The frame of the host's `POST /training/start`: the request and each series' bars as
/// Parquet bytes (blocking: it encodes).
pub fn host_start_frame(
    req: &TrainingRequest,
    run_id: &str,
    series: &BTreeMap<(Symbol, Timeframe), Bars>,
) -> Result<Vec<u8>, JobError> {
    let s = &req.strategy;
    let blobs = series
        .values()
        .map(bars_to_parquet)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| JobError::Failed(format!("encoding the bars: {e}")))?;
    let header = StartRequest {
        run_id: Some(run_id.to_owned()),
        strategy_yaml: req.strategy_yaml.clone(),
        symbols: s.symbols.iter().map(ToString::to_string).collect(),
        timeframes: s.timeframes.iter().map(ToString::to_string).collect(),
        start_date: req.start.map(|d| d.to_rfc3339()),
        end_date: req.end.map(|d| d.to_rfc3339()),
        series: series
            .keys()
            .zip(&blobs)
            .map(|((sym, tf), blob)| SeriesHeader {
                symbol: sym.to_string(),
                timeframe: tf.to_string(),
                bytes: blob.len() as u64,
            })
            .collect(),
    };
    Ok(encode_run(&header, &blobs))
}

async fn run_on_host(
    req: TrainingRequest,
    store: BarStore,
    host: HostClient,
    ctx: JobContext,
) -> JobResult {
    let series = read_series(&req, store, &ctx).await?;
    stage(&ctx, "Sending the run to the training host");
    let (run_id, request) = (ctx.id.to_string(), req.clone());
    let frame = ctx
        .spawn_blocking(move || host_start_frame(&request, &run_id, &series))
        .await??;
    let started: SessionAnswer = host
        .post_bytes_as("/training/start", RUN_CONTENT_TYPE, frame.into())
        .await
        .map_err(|e| host_failed(&host, "did not start the run", e))?;
    let session = started.session_id;
    let mut guard = StopSession {
        host: host.clone(),
        session: session.clone(),
        armed: true,
    };
    let mut epochs_seen = 0usize;
    let mut last_progress = Value::Null;
    let mut tick = tokio::time::interval(HOST_POLL);
    loop {
        tick.tick().await;
        let status: StatusAnswer = host
            .get_as(&format!("/training/status/{session}"))
            .await
            .map_err(|e| host_failed(&host, "stopped answering during the run", e))?;
        if status.progress != last_progress {
            if let Ok(p) = serde_json::from_value::<Progress>(status.progress.clone()) {
                ctx.progress.report(p);
            }
            last_progress = status.progress;
        }
        let epochs = status.metrics["epochs"].as_array().map_or(0, Vec::len);
        if epochs != epochs_seen {
            epochs_seen = epochs;
            ctx.progress.set_metrics(status.metrics);
        }
        match status.status {
            SessionStatus::Running | SessionStatus::Stopping => continue,
            SessionStatus::Completed => {
                guard.armed = false;
                return Ok(status.result.unwrap_or_default());
            }
            SessionStatus::Cancelled => {
                guard.armed = false;
                return Err(JobError::Failed(format!(
                    "the session was stopped on the training host at {}",
                    host.base_url()
                )));
            }
            SessionStatus::Failed => {
                guard.armed = false;
                return Err(JobError::Failed(status.error.unwrap_or_else(|| {
                    "the training host reported a failure".to_owned()
                })));
            }
        }
    }
}
