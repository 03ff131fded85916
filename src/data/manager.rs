//! The DataManager actor and the data-load job.
//!
//! `StartLoad` starts a `data_load` operation whose job runs the pipeline: wait for the
//! series (one load of a symbol and timeframe at a time) -> read the store -> plan (gaps,
//! segments, the request budget) -> fetch segments through the bar source with bounded
//! concurrency -> keep only the bars each request asked for -> validate -> merge and save as
//! segments arrive (those that arrive together are saved together), so a cancelled or failed
//! load keeps what it got. A cancel drops the in-flight fetches; a save under way finishes
//! first (it is atomic either way).
//!
//! Outcomes are honest: `completed` means every planned segment arrived; a load in which any
//! segment failed ends `failed`, naming the failed and the kept ranges, with its result
//! summary kept. A later `full` load fetches only what is still missing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt};
use ktrdr_actors::{
    start_operation, JobContext, JobError, JobResult, OperationId, OperationSpec, OperationType,
    Progress, ProgressTracker,
};
use serde_json::{json, Map};

use super::calendar::Calendar;
use super::gaps::GapAnalyzer;
use super::plan::{check_budget, max_requests, plan, LoadPlan, TooManyRequests};
use super::segments::Segment;
use super::source::{BarSource, SourceError};
use super::store::{BarStore, StoreError};
use super::validation::{keep_within, validate, Bounds, Issue};
use crate::operations::metadata;
use ktrdr_core::bars::Bars;
use ktrdr_core::mode::LoadMode;
use ktrdr_core::timeframe::{Symbol, Timeframe};

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

/// One async lock per series: loads of the same symbol and timeframe run one after the other
/// (the store's file lock also guards writers in other processes).
#[derive(Clone, Default)]
pub struct SeriesLocks(Arc<Mutex<SeriesLockMap>>);

type SeriesLockMap = HashMap<(Symbol, Timeframe), Arc<tokio::sync::Mutex<()>>>;

impl SeriesLocks {
    fn get(&self, symbol: &Symbol, tf: Timeframe) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry((symbol.clone(), tf)).or_default().clone()
    }
}

/// What every load of a DataManager shares.
#[derive(Clone)]
struct LoadEnv {
    store: BarStore,
    source: BarSource,
    /// Segments fetched at once.
    concurrency: usize,
    /// Provider requests one load may plan.
    max_requests: usize,
    locks: SeriesLocks,
}

/// The DataManager (see the module docs).
pub struct DataManager {
    tracker: Addr<ProgressTracker>,
    env: LoadEnv,
    timeout: Option<Duration>,
}

impl DataManager {
    pub fn new(
        tracker: Addr<ProgressTracker>,
        store: BarStore,
        source: BarSource,
        concurrency: usize,
        max_requests: usize,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            tracker,
            env: LoadEnv {
                store,
                source,
                concurrency: concurrency.max(1),
                max_requests,
                locks: SeriesLocks::default(),
            },
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
            env: self.env.clone(),
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
            env: self.env.clone(),
        })
    }
}

/// Refuses, before any operation starts, a load whose plan is over `limit` requests. Blocking
/// (reads the stored dates, and only when the range could be over the limit at all). A load
/// whose start is not known yet (the provider's first bar) is checked by its job instead.
pub fn check_request_budget(
    store: &BarStore,
    req: &LoadRequest,
    limit: usize,
) -> Result<(), TooManyRequests> {
    let Some(start) = req.start else {
        return Ok(());
    };
    let end = load_end(req);
    if req.mode == LoadMode::Local || max_requests(req.timeframe, start, end) <= limit {
        return Ok(());
    }
    // Unreadable series: the job reports that (and a `full` load rebuilds it).
    let Ok(stored) = store.times(&req.symbol, req.timeframe) else {
        return Ok(());
    };
    let planned = plan(
        req.timeframe,
        req.calendar,
        req.mode,
        &stored,
        Some(start),
        end,
    );
    check_budget(planned.segments.len(), limit)
}

/// The end of a load's range: the requested end, never after now.
fn load_end(req: &LoadRequest) -> DateTime<Utc> {
    req.end.unwrap_or_else(Utc::now).min(Utc::now())
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
        p.current_step = Some(format!("{}{step}", self.title()));
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

    /// A step before the segment count is known: 0%, so the percentage never goes back.
    fn preparing(&self, step: &str) {
        self.report(step, 0, 0, (0, 0), 0);
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

/// What the fetch loop gathered.
#[derive(Default)]
struct Fetched {
    /// Segments whose answer was accepted (possibly empty).
    kept: Vec<Segment>,
    /// Segments that failed, with why.
    failed: Vec<(Segment, String)>,
    /// Requests answered, well or not.
    done: usize,
    bars: usize,
    issues: Vec<Issue>,
}

/// One load: the pipeline of the module docs.
pub struct LoadJob {
    req: LoadRequest,
    env: LoadEnv,
}

impl LoadJob {
    /// Runs the load, reporting to `ctx`'s operation; the result summary on success.
    pub async fn run(self, ctx: JobContext) -> JobResult {
        let t0 = Instant::now();
        let progress = LoadProgress {
            req: self.req.clone(),
            ctx: ctx.clone(),
        };
        let lock = self.env.locks.get(&self.req.symbol, self.req.timeframe);
        let _series = match lock.clone().try_lock_owned() {
            Ok(guard) => guard,
            Err(_) => {
                progress.preparing(": waiting for another load of this series to finish");
                lock.lock_owned().await
            }
        };
        progress.preparing(": reading the local store");
        let stored = self.read_stored(&ctx).await?;
        let cached_before = !stored.is_empty();
        let (start, head) = self.start_of_range(&stored).await?;
        let end = load_end(&self.req);
        progress.preparing(": analyzing gaps");
        let tf = self.req.timeframe;
        let times = Arc::new(stored.time);
        let mut planned = self.plan(&ctx, &times, start, end).await?;
        let head = match head {
            Some(h) => Some(h),
            // The first available bar bounds what may be stored; best effort.
            None if !planned.segments.is_empty() => self
                .env
                .source
                .head_timestamp(&self.req.symbol, tf)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        // Nothing exists before the first bar: a range that starts earlier starts at the bar
        // holding the head's time (IB's head is a time of day; daily bars are dated midnight).
        if let (Some(h), Some(s)) = (head, start) {
            let from = GapAnalyzer::new(tf, self.req.calendar).start_of_bar_at(h);
            if from > s {
                planned = self.plan(&ctx, &times, Some(from), end).await?;
            }
        }
        check_budget(planned.segments.len(), self.env.max_requests).map_err(failed)?;
        let LoadPlan { analysis, segments } = planned;
        let fetched = self.fetch(&ctx, &progress, segments, head).await?;

        let summary = json!({
            "status": if fetched.failed.is_empty() { "success" } else { "failed" },
            "fetched_bars": fetched.bars,
            "cached_before": cached_before,
            "merged_file": format!("{}_{tf}.parquet", self.req.symbol),
            "gaps_analyzed": analysis.gaps.len() + analysis.expected,
            "gaps_to_fetch": analysis.gaps.len(),
            "expected_gaps": analysis.expected,
            "segments_fetched": fetched.kept.len(),
            "segments_failed": fetched.failed.len(),
            "failed_ranges": fetched.failed.iter().map(|(seg, error)| {
                json!({"start": seg.start, "end": seg.end, "error": error})
            }).collect::<Vec<_>>(),
            "kept_ranges": ranges(&fetched.kept).iter().map(|(s, e)| {
                json!({"start": s, "end": e})
            }).collect::<Vec<_>>(),
            "ib_requests_made": fetched.done,
            "requests_made": fetched.done,
            "validation_issues": fetched.issues,
            "execution_time_seconds": t0.elapsed().as_secs_f64(),
        });
        if fetched.failed.is_empty() {
            return Ok(summary);
        }
        Err(JobError::FailedWith {
            error: incomplete_message(&fetched, tf),
            result_summary: summary,
        })
    }

    /// The stored bars. A damaged file fails the load, except a `full` load, which moves it
    /// aside (kept, renamed) and rebuilds the series, saying so in its warnings.
    async fn read_stored(&self, ctx: &JobContext) -> Result<Bars, JobError> {
        let (store, s, tf) = (
            self.env.store.clone(),
            self.req.symbol.clone(),
            self.req.timeframe,
        );
        let full = self.req.mode == LoadMode::Full;
        let (bars, moved) = ctx
            .spawn_blocking(move || match store.read(&s, tf) {
                // Moved only if still damaged under the series lock: another process may
                // have rebuilt it meanwhile, and then it is read as it is now.
                Err(StoreError::Damaged { reason, .. }) if full => {
                    match store.move_aside(&s, tf)? {
                        Some(name) => Ok((Bars::default(), Some((name, reason)))),
                        None => store.read(&s, tf).map(|b| (b, None)),
                    }
                }
                other => other.map(|b| (b, None)),
            })
            .await?
            .map_err(failed)?;
        if let Some((name, reason)) = moved {
            ctx.progress.warn(format!(
                "the stored file of {} {} was unreadable ({reason}); kept as {name} and the \
                 series rebuilt",
                self.req.symbol, self.req.timeframe
            ));
        }
        Ok(bars)
    }

    /// The plan over `[start, end)` against the stored times, off the arbiter.
    async fn plan(
        &self,
        ctx: &JobContext,
        times: &Arc<Vec<i64>>,
        start: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
    ) -> Result<LoadPlan, JobError> {
        let (tf, calendar, mode) = (self.req.timeframe, self.req.calendar, self.req.mode);
        let times = times.clone();
        ctx.spawn_blocking(move || plan(tf, calendar, mode, &times, start, end))
            .await
    }

    /// Where the range starts, and the provider's first bar when it was asked for it.
    async fn start_of_range(
        &self,
        stored: &Bars,
    ) -> Result<(Option<DateTime<Utc>>, Option<DateTime<Utc>>), JobError> {
        Ok(match (self.req.start, self.req.mode) {
            (Some(s), _) => (Some(s), None),
            (None, LoadMode::Local) => (None, None),
            (None, LoadMode::Tail) if !stored.is_empty() => (stored.first_time(), None),
            (None, mode) => {
                let (symbol, tf) = (&self.req.symbol, self.req.timeframe);
                let head = self
                    .env
                    .source
                    .head_timestamp(symbol, tf)
                    .await
                    .map_err(failed)?;
                match head {
                    // The range starts at the bar holding the first bar's time.
                    Some(h) => (
                        Some(GapAnalyzer::new(tf, self.req.calendar).start_of_bar_at(h)),
                        Some(h),
                    ),
                    // No first bar known: a `full` load still checks what is stored.
                    None if mode == LoadMode::Full && !stored.is_empty() => {
                        (stored.first_time(), None)
                    }
                    None => {
                        return Err(JobError::Failed(format!(
                            "the provider knows no first bar of {symbol} {tf}: give a \
                             start_date for this {mode} load"
                        )))
                    }
                }
            }
        })
    }

    /// Fetches the segments, saving what arrives; a save that fails ends the load.
    async fn fetch(
        &self,
        ctx: &JobContext,
        progress: &LoadProgress,
        segments: Vec<Segment>,
        head: Option<DateTime<Utc>>,
    ) -> Result<Fetched, JobError> {
        let (symbol, tf) = (self.req.symbol.clone(), self.req.timeframe);
        let total = segments.len();
        let steps = 2 + total as u64;
        progress.report(
            &format!(": {total} segments to fetch"),
            2,
            steps,
            (0, total),
            0,
        );
        let source = &self.env.source;
        let mut answers = futures_util::stream::iter(segments)
            .map(|seg| {
                let symbol = symbol.clone();
                async move {
                    (
                        seg,
                        source.historical(&symbol, tf, seg.start, seg.end).await,
                    )
                }
            })
            .buffer_unordered(self.env.concurrency);
        let mut out = Fetched::default();
        while let Some(first) = answers.next().await {
            // Segments that arrived together are checked, merged and saved once: a save
            // rewrites the whole file, and the stored state is the same either way.
            let mut batch = vec![first];
            while let Some(Some(more)) = answers.next().now_or_never() {
                batch.push(more);
            }
            out.done += batch.len();
            let arrived = self.accept(batch, head, &mut out);
            if !arrived.is_empty() {
                let (store, s) = (self.env.store.clone(), symbol.clone());
                let (count, found) = ctx
                    .spawn_blocking(move || {
                        let mut fresh = Bars::default();
                        let mut found = Vec::new();
                        for bars in &arrived {
                            let (clean, report) = validate(bars, tf);
                            fresh = Bars::merge(&fresh, &clean);
                            found.extend(report.issues);
                        }
                        store
                            .merge_and_save(&s, tf, &fresh)
                            .map(|_| (fresh.len(), found))
                    })
                    .await?
                    .map_err(failed)?;
                out.bars += count;
                out.issues.extend(found);
            }
            progress.report(
                &format!(" segment {}/{total}", out.done),
                2 + out.done as u64,
                steps,
                (out.done, total),
                out.bars,
            );
        }
        Ok(out)
    }

    /// Sorts a batch of answers into failed segments and bars to save: a malformed answer
    /// fails its segment; bars the request did not ask for are dropped and reported.
    fn accept(
        &self,
        batch: Vec<(Segment, Result<Bars, SourceError>)>,
        head: Option<DateTime<Utc>>,
        out: &mut Fetched,
    ) -> Vec<Bars> {
        let tf = self.req.timeframe;
        let bar_ms = tf.duration().num_milliseconds();
        let mut arrived = Vec::new();
        for (seg, result) in batch {
            let bars = match result.and_then(|b| well_formed(b, tf)) {
                Ok(bars) => bars,
                Err(e) => {
                    tracing::warn!(error = %e, start = %seg.start, end = %seg.end, "segment failed");
                    out.failed.push((seg, e.to_string()));
                    continue;
                }
            };
            let bounds = Bounds {
                start: seg.start.timestamp_millis(),
                end: seg.end.timestamp_millis(),
                latest: Utc::now().timestamp_millis() + bar_ms,
                head: head.map(|h| h.timestamp_millis()),
                bar_ms,
            };
            let (kept, dropped) = keep_within(&bars, &bounds);
            out.issues.extend(dropped);
            out.kept.push(seg);
            if !kept.is_empty() {
                arrived.push(kept);
            }
        }
        arrived
    }
}

/// An answer whose columns differ in length is malformed: its segment fails.
fn well_formed(bars: Bars, tf: Timeframe) -> Result<Bars, SourceError> {
    if bars.is_consistent() {
        return Ok(bars);
    }
    Err(SourceError::Malformed {
        timeframe: tf,
        reason: format!(
            "columns of different lengths (time {}, open {}, high {}, low {}, close {}, \
             volume {})",
            bars.time.len(),
            bars.open.len(),
            bars.high.len(),
            bars.low.len(),
            bars.close.len(),
            bars.volume.len()
        ),
    })
}

/// Segments joined into contiguous ranges, in time order.
fn ranges(segments: &[Segment]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        segments.iter().map(|s| (s.start, s.end)).collect();
    spans.sort();
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if last.1 >= s => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn day_or_time(t: DateTime<Utc>, tf: Timeframe) -> String {
    if tf.is_daily_or_longer() {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// Ranges in words, at most `max` of them.
fn describe(ranges: &[(DateTime<Utc>, DateTime<Utc>)], tf: Timeframe, max: usize) -> String {
    let mut parts: Vec<String> = ranges
        .iter()
        .take(max)
        .map(|(s, e)| format!("{} - {}", day_or_time(*s, tf), day_or_time(*e, tf)))
        .collect();
    if ranges.len() > max {
        parts.push(format!("and {} more", ranges.len() - max));
    }
    parts.join(", ")
}

/// The error of a load in which some segments failed: how many, which ranges and why, what
/// was kept, and how to get the rest.
fn incomplete_message(fetched: &Fetched, tf: Timeframe) -> String {
    let failed_segments: Vec<Segment> = fetched.failed.iter().map(|(s, _)| *s).collect();
    let total = fetched.failed.len() + fetched.kept.len();
    let first_error = fetched
        .failed
        .iter()
        .min_by_key(|(s, _)| s.start)
        .map(|(_, e)| e.as_str())
        .unwrap_or_default();
    let kept = if fetched.kept.is_empty() {
        "nothing was kept".to_owned()
    } else {
        format!(
            "kept {} segments ({} bars): {}",
            fetched.kept.len(),
            fetched.bars,
            describe(&ranges(&fetched.kept), tf, 3)
        )
    };
    format!(
        "load incomplete: {} of {total} segments failed ({}; first error: {first_error}); \
         {kept}; a retry or another `full` load fetches only the missing ranges",
        fetched.failed.len(),
        describe(&ranges(&failed_segments), tf, 3),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::gaps::GapKind;

    fn seg(s: &str, e: &str) -> Segment {
        let t = |x: &str| format!("{x}T00:00:00Z").parse::<DateTime<Utc>>().unwrap();
        Segment {
            start: t(s),
            end: t(e),
            kind: GapKind::Head,
        }
    }

    /// The error names the failed ranges (joined), the first error, and what was kept.
    #[test]
    fn incomplete_load_message() {
        let fetched = Fetched {
            kept: vec![
                seg("2020-01-01", "2020-02-01"),
                seg("2020-02-01", "2020-03-01"),
            ],
            failed: vec![
                (seg("2020-04-01", "2020-05-01"), "later".into()),
                (seg("2020-03-01", "2020-04-01"), "host gone".into()),
            ],
            done: 4,
            bars: 42,
            issues: vec![],
        };
        let msg = incomplete_message(&fetched, Timeframe::D1);
        assert_eq!(
            msg,
            "load incomplete: 2 of 4 segments failed (2020-03-01 - 2020-05-01; first error: \
             host gone); kept 2 segments (42 bars): 2020-01-01 - 2020-03-01; a retry or another \
             `full` load fetches only the missing ranges"
        );
    }
}
