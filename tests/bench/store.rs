//! The operation store: what 1000 operations reporting progress at once cost it in writes,
//! and listing from 100,000 stored records.

use std::time::{Duration, Instant};

use actix::Actor;
use chrono::Utc;
use ktrdr_actors::store::{Identity, OperationStore, Retention};
use ktrdr_actors::tracker::{FlushStore, ListFilter, ListOperations};
use ktrdr_actors::{
    start_operation, JobContext, OperationRecord, OperationSpec, OperationStatus, OperationType,
    Progress, ProgressTracker,
};
use serde_json::json;

use crate::{percentile, row, sorted};

/// A SQLite store in a folder kept for the process's lifetime (the bench's only).
pub(crate) fn sqlite_store(name: &str) -> OperationStore {
    let dir = tempfile::tempdir().unwrap().keep();
    let url = format!("sqlite://{}", dir.join("operations.db").display());
    OperationStore::open(&url, Identity::this_process(name)).unwrap()
}

/// `n` operations each reporting progress every 5 ms for `seconds`: progress reports made vs
/// records and transactions the store wrote.
pub async fn progress_writes(n: usize, seconds: u64) {
    let store = sqlite_store("bench-writes");
    let tracker = ProgressTracker::with_store(store.clone(), Retention::default()).start();
    let (t0, r0) = store.written();
    let started = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(start_operation(
            &tracker,
            OperationSpec {
                kind: OperationType::new("bench").unwrap(),
                metadata: json!({}),
                timeout: None,
            },
            move |ctx: JobContext| async move {
                let steps = seconds * 200;
                for i in 1..=steps {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    let mut p = Progress::default();
                    p.set_steps(i, steps);
                    ctx.progress.report(p);
                }
                Ok(json!({}))
            },
        ));
    }
    // Until every operation has ended (each its last write at once), then what was pending.
    loop {
        let list = tracker
            .send(ListOperations(ListFilter {
                active_only: true,
                limit: 1,
                ..Default::default()
            }))
            .await
            .unwrap();
        if list.active_count == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tracker.send(FlushStore).await.unwrap();
    let wall = started.elapsed().as_secs_f64();
    let (t1, r1) = store.written();
    let reports = n as u64 * seconds * 200;
    let (tx, records) = (t1 - t0, r1 - r0);
    row(
        &format!("operation store writes, {n} operations reporting progress at once"),
        format!(
            "{records} records in {tx} transactions for {reports} progress reports ({:.1} records per operation per second)",
            records as f64 / n as f64 / wall
        ),
        "bounded: a few writes per operation per second",
        &format!(
            "each reports every 5 ms for {seconds} s ({wall:.1} s wall on a shared 2-core machine); SQLite file, WAL; registration, start and end written at once, progress at most every 250 ms"
        ),
    );
}

/// `GET /operations`'s query on a store of `n` records: a page of 100, newest first, plain
/// and filtered, deep and shallow.
pub async fn list_from(n: usize) {
    let store = sqlite_store("bench-list");
    let now = Utc::now();
    let kinds = [
        OperationType::new("data_load").unwrap(),
        OperationType::new("training").unwrap(),
    ];
    let statuses = [
        OperationStatus::Completed,
        OperationStatus::Failed,
        OperationStatus::Cancelled,
    ];
    let fill = Instant::now();
    for chunk in 0..n / 1000 {
        let batch: Vec<OperationRecord> = (0..1000)
            .map(|i| {
                let k = chunk * 1000 + i;
                let mut r = OperationRecord::new(
                    kinds[k % 2].clone(),
                    json!({"symbol": "GOOG", "timeframe": "1d", "k": k}),
                    now - chrono::Duration::seconds((n - k) as i64),
                );
                r.status = statuses[k % 3];
                r.result_summary = Some(json!({"fetched_bars": k, "status": "ok"}));
                r
            })
            .collect();
        store.upsert(batch).await.unwrap();
    }
    let fill = fill.elapsed().as_secs_f64();
    assert_eq!(store.count().await.unwrap(), n as u64);
    for (what, filter) in [
        (
            "newest 100",
            ListFilter {
                limit: 100,
                ..Default::default()
            },
        ),
        (
            "status=failed, type=training, 100 from offset 10000",
            ListFilter {
                status: Some(OperationStatus::Failed),
                operation_type: Some(kinds[1].clone()),
                limit: 100,
                offset: 10_000,
                ..Default::default()
            },
        ),
    ] {
        let mut times = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let page = store.list(filter.clone()).await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(page.operations.len(), 100);
        }
        let s = sorted(times);
        row(
            &format!("operation list from {n} stored records: {what}"),
            format!("p50 {:.2} ms, p99 {:.2} ms", percentile(&s, 0.5), percentile(&s, 0.99)),
            "< 10 ms",
            &format!(
                "SQLite file, exact total_count included; 20 runs; filled in {fill:.1} s ({} records/s)",
                (n as f64 / fill) as u64
            ),
        );
    }
}
