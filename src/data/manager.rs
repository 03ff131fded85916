//! The DataManager actor and the data-load job.
//!
//! `StartLoad` starts a `data_load` operation whose job runs the pipeline: read the store ->
//! GapAnalyzer -> SegmentManager -> fetch segments through the bar source with bounded
//! concurrency -> validate -> merge and save as segments arrive (those that arrive together are
//! saved together), so a cancelled or failed load keeps what it got. A cancel drops the in-flight fetches; a save under way finishes first
//! (it is atomic either way).

use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt};
use ktrdr_actors::{
    start_operation, JobContext, JobError, JobResult, OperationId, OperationSpec, OperationType,
    Progress, ProgressTracker,
};
use serde_json::{json, Map, Value};

use super::bars::Bars;
use super::calendar::Calendar;
use super::gaps::{GapAnalyzer, LoadMode};
use super::segments::segments;
use super::source::BarSource;
use super::store::BarStore;
use super::timeframe::{Symbol, Timeframe};
use super::validation::{validate, Issue};
use crate::operations::metadata;

/// A validated load request.
#[derive(Debug, Clone)]
pub struct LoadRequest {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub mode: LoadMode,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub calendar: Calendar,
}

/// Starts a load; answers with the operation's id at once.
#[derive(Message)]
#[rtype(result = "OperationId")]
pub struct StartLoad(pub LoadRequest);

/// The DataManager (see the module docs).
pub struct DataManager {
    tracker: Addr<ProgressTracker>,
    store: BarStore,
    source: BarSource,
    /// Segments fetched at once.
    concurrency: usize,
    timeout: Option<Duration>,
}

impl DataManager {
    pub fn new(
        tracker: Addr<ProgressTracker>,
        store: BarStore,
        source: BarSource,
        concurrency: usize,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            tracker,
            store,
            source,
            concurrency: concurrency.max(1),
            timeout,
        }
    }
}

impl Actor for DataManager {
    type Context = Context<Self>;
}

impl Handler<StartLoad> for DataManager {
    type Result = MessageResult<StartLoad>;

    fn handle(&mut self, StartLoad(req): StartLoad, _ctx: &mut Context<Self>) -> Self::Result {
        let mut params = Map::new();
        params.insert("operation_name".into(), json!("data_load"));
        params.insert("service_name".into(), json!("DataManager"));
        params.insert("calendar".into(), json!(req.calendar.to_string()));
        let spec = OperationSpec {
            kind: OperationType::new("data_load").expect("valid type name"),
            metadata: metadata(
                Some(req.symbol.as_str()),
                Some(req.timeframe.as_str()),
                Some(&req.mode.to_string()),
                req.start.map(|d| d.to_rfc3339()),
                req.end.map(|d| d.to_rfc3339()),
                params,
            ),
            timeout: self.timeout,
        };
        let job = LoadJob {
            req,
            store: self.store.clone(),
            source: self.source.clone(),
            concurrency: self.concurrency,
        };
        MessageResult(start_operation(&self.tracker, spec, move |ctx| {
            job.run(ctx)
        }))
    }
}

/// A load job to run inside another operation (a training's `data_mode` load): its progress
/// goes to that operation, and cancelling it stops the load too.
#[derive(Message)]
#[rtype(result = "LoadJob")]
pub struct MakeLoadJob(pub LoadRequest);

impl Handler<MakeLoadJob> for DataManager {
    type Result = MessageResult<MakeLoadJob>;

    fn handle(&mut self, MakeLoadJob(req): MakeLoadJob, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(LoadJob {
            req,
            store: self.store.clone(),
            source: self.source.clone(),
            concurrency: self.concurrency,
        })
    }
}

/// Renders a load's progress: "Loading AAPL 1h (tail) segment 3/5".
struct LoadProgress {
    req: LoadRequest,
    ctx: JobContext,
}

impl LoadProgress {
    fn report(&self, step: &str, done: u64, total: u64, segment: (usize, usize), bars: usize) {
        let mut p = Progress::default();
        p.set_steps(done, total);
        p.current_step = Some(step.to_owned());
        p.items_processed = bars as u64;
        p.context = serde_json::from_value(json!({
            "symbol": self.req.symbol,
            "timeframe": self.req.timeframe,
            "mode": self.req.mode,
            "current_segment": segment.0,
            "total_segments": segment.1,
            "bars_processed": bars,
        }))
        .unwrap_or_default();
        self.ctx.progress.report(p);
    }

    fn title(&self) -> String {
        format!(
            "Loading {} {} ({})",
            self.req.symbol, self.req.timeframe, self.req.mode
        )
    }
}

fn failed(e: impl std::fmt::Display) -> JobError {
    JobError::Failed(e.to_string())
}

/// One load: the pipeline of the module docs.
pub struct LoadJob {
    req: LoadRequest,
    store: BarStore,
    source: BarSource,
    concurrency: usize,
}

impl LoadJob {
    /// Runs the load, reporting to `ctx`'s operation; the result summary on success.
    pub async fn run(self, ctx: JobContext) -> JobResult {
        let t0 = Instant::now();
        let Self {
            req,
            store,
            source,
            concurrency,
        } = self;
        let (symbol, tf) = (req.symbol.clone(), req.timeframe);
        let progress = LoadProgress {
            req: req.clone(),
            ctx: ctx.clone(),
        };
        progress.report(
            &format!("{}: reading the local store", progress.title()),
            // The step count is known once the segments are: until then 0%, so the
            // percentage never goes back.
            0,
            0,
            (0, 0),
            0,
        );
        let reader = store.clone();
        let (s, t) = (symbol.clone(), tf);
        let stored = ctx
            .spawn_blocking(move || reader.read(&s, t))
            .await?
            .map_err(failed)?;
        let cached_before = !stored.is_empty();
        let merged_file = format!("{symbol}_{tf}.parquet");

        let end = req.end.unwrap_or_else(Utc::now).min(Utc::now());
        let start = match (req.start, req.mode) {
            (Some(s), _) => Some(s),
            (None, LoadMode::Local) => None,
            (None, LoadMode::Tail) if cached_before => stored.first_time(),
            (None, _) => source.head_timestamp(&symbol, tf).await.map_err(failed)?,
        };
        progress.report(
            &format!("{}: analyzing gaps", progress.title()),
            0,
            0,
            (0, 0),
            0,
        );
        let analysis = match start {
            Some(start) if req.mode != LoadMode::Local => {
                let analyzer = GapAnalyzer::new(tf, req.calendar);
                let times = stored.time.clone();
                let mode = req.mode;
                ctx.spawn_blocking(move || analyzer.analyze(&times, mode, start, end))
                    .await?
            }
            _ => Default::default(),
        };
        drop(stored);
        let segs = segments(&analysis.gaps, tf);
        let total = segs.len();
        let steps = 2 + total as u64;
        progress.report(
            &format!("{}: {} segments to fetch", progress.title(), total),
            2,
            steps,
            (0, total),
            0,
        );

        let mut fetches = futures_util::stream::iter(segs)
            .map(|seg| {
                let (source, symbol) = (source.clone(), symbol.clone());
                async move {
                    (
                        seg,
                        source.historical(&symbol, tf, seg.start, seg.end).await,
                    )
                }
            })
            .buffer_unordered(concurrency);
        let (mut done, mut fetched_bars, mut fetched_segments) = (0, 0, 0);
        let mut failures: Vec<Value> = Vec::new();
        let mut issues: Vec<Issue> = Vec::new();
        while let Some(first) = fetches.next().await {
            // Segments that arrived together are validated, merged and saved once: a save
            // rewrites the whole file, and the stored state is the same either way.
            let mut batch = vec![first];
            while let Some(Some(more)) = fetches.next().now_or_never() {
                batch.push(more);
            }
            done += batch.len();
            let mut arrived = Vec::new();
            for (seg, result) in batch {
                match result {
                    Ok(bars) => {
                        fetched_segments += 1;
                        if !bars.is_empty() {
                            arrived.push(bars);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, start = %seg.start, end = %seg.end, "segment failed");
                        failures.push(json!({"start": seg.start, "end": seg.end, "error": e.0}));
                    }
                }
            }
            if !arrived.is_empty() {
                let (writer, s) = (store.clone(), symbol.clone());
                let (count, found) = ctx
                    .spawn_blocking(move || {
                        let mut fresh = Bars::default();
                        let mut found = Vec::new();
                        for bars in &arrived {
                            let (clean, report) = validate(bars, tf);
                            fresh = Bars::merge(&fresh, &clean);
                            found.extend(report.issues);
                        }
                        writer
                            .merge_and_save(&s, tf, &fresh)
                            .map(|_| (fresh.len(), found))
                    })
                    .await?
                    .map_err(failed)?;
                fetched_bars += count;
                issues.extend(found);
            }
            progress.report(
                &format!("{} segment {done}/{total}", progress.title()),
                2 + done as u64,
                steps,
                (done, total),
                fetched_bars,
            );
        }
        if total > 0 && failures.len() == total {
            let first = failures[0]["error"]
                .as_str()
                .unwrap_or("unknown error")
                .to_owned();
            return Err(JobError::Failed(format!(
                "all {total} segments failed; first error: {first}"
            )));
        }
        for f in &failures {
            ctx.progress.warn(format!(
                "segment {} - {} failed: {}",
                f["start"], f["end"], f["error"]
            ));
        }
        Ok(json!({
            "status": if failures.is_empty() { "success" } else { "partial" },
            "fetched_bars": fetched_bars,
            "cached_before": cached_before,
            "merged_file": merged_file,
            "gaps_analyzed": analysis.gaps.len() + analysis.expected,
            "gaps_to_fetch": analysis.gaps.len(),
            "expected_gaps": analysis.expected,
            "segments_fetched": fetched_segments,
            "segments_failed": failures.len(),
            "failed_ranges": failures,
            "ib_requests_made": done,
            "requests_made": done,
            "validation_issues": issues,
            "execution_time_seconds": t0.elapsed().as_secs_f64(),
        }))
    }
}
