//! The ProgressTracker, operation actors and subscribers, driven in-process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use ktrdr_actors::tracker::{
    CancelAll, CancelError, CancelOperation, GetOperation, ListFilter, ListOperations, Subscribe,
};
use ktrdr_actors::{
    start_operation, EventKind, JobContext, JobError, OperationEvent, OperationId, OperationSpec,
    OperationStatus, OperationType, Progress, ProgressTracker,
};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Semaphore};

/// Forwards every event it handles into a channel; with a gate, handles one per permit.
struct Collector {
    tx: mpsc::UnboundedSender<OperationEvent>,
    gate: Option<Arc<Semaphore>>,
}

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<OperationEvent> for Collector {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, ev: OperationEvent, _: &mut Context<Self>) -> Self::Result {
        let tx = self.tx.clone();
        let gate = self.gate.clone();
        Box::pin(async move {
            if let Some(gate) = gate {
                gate.acquire().await.unwrap().forget();
            }
            let _ = tx.send(ev);
        })
    }
}

fn collector(
    gate: Option<Arc<Semaphore>>,
) -> (
    Recipient<OperationEvent>,
    mpsc::UnboundedReceiver<OperationEvent>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Collector { tx, gate }.start().recipient(), rx)
}

/// Subscribes `recipient` to operation `id`.
async fn subscribe(
    tracker: &Addr<ProgressTracker>,
    recipient: Recipient<OperationEvent>,
    id: &OperationId,
    since: Option<u64>,
) {
    tracker
        .send(Subscribe {
            recipient,
            operation: Some(id.clone()),
            since,
        })
        .await
        .unwrap()
        .unwrap();
}

fn spec(kind: &str) -> OperationSpec {
    OperationSpec {
        kind: OperationType::new(kind).unwrap(),
        metadata: json!({}),
        timeout: None,
    }
}

fn status_of(ev: &OperationEvent) -> Value {
    let v: Value = serde_json::from_str(&ev.json).unwrap();
    v["operation"]["status"].clone()
}

/// A job that reports `steps` progress updates, each after its gate lets it through.
fn stepping_job(
    steps: u64,
    gate: Arc<Semaphore>,
) -> impl FnOnce(JobContext) -> futures_util::future::LocalBoxFuture<'static, Result<Value, JobError>>
{
    move |ctx: JobContext| {
        Box::pin(async move {
            for i in 1..=steps {
                gate.acquire().await.unwrap().forget();
                let mut p = Progress::default();
                p.set_steps(i, steps);
                ctx.progress.report(p);
            }
            Ok(json!({"steps": steps}))
        })
    }
}

async fn recv_until_terminal(
    rx: &mut mpsc::UnboundedReceiver<OperationEvent>,
) -> Vec<OperationEvent> {
    let mut out = Vec::new();
    while let Some(ev) = rx.recv().await {
        let done = ev.status.is_terminal();
        out.push(ev);
        if done {
            break;
        }
    }
    out
}

/// A subscriber sees the snapshot, then every progress in order with rising seq, then completed.
#[actix_rt::test]
async fn subscriber_sees_snapshot_progress_completed_in_order() {
    let tracker = ProgressTracker::new(100).start();
    let gate = Arc::new(Semaphore::new(0));
    let id = start_operation(&tracker, spec("dummy"), stepping_job(5, gate.clone()));
    let (rcpt, mut rx) = collector(None);
    subscribe(&tracker, rcpt, &id, None).await;
    gate.add_permits(5);
    let events = recv_until_terminal(&mut rx).await;
    assert_eq!(events[0].kind, EventKind::Snapshot);
    assert_eq!(events.last().unwrap().kind, EventKind::Completed);
    let seqs: Vec<u64> = events[1..].iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let percents: Vec<f64> = events[1..events.len() - 1]
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.json).unwrap()["operation"]["progress"]["percentage"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    assert_eq!(*percents.last().unwrap(), 100.0);
    let rec = tracker.send(GetOperation(id)).await.unwrap().unwrap();
    assert_eq!(rec.status, OperationStatus::Completed);
    assert_eq!(rec.result_summary, Some(json!({"steps": 5})));
}

/// Cancel answers after the actor stopped, records `cancelled`, and nothing follows it.
#[actix_rt::test]
async fn cancel_stops_actor_and_records_cancelled() {
    let tracker = ProgressTracker::new(100).start();
    let gate = Arc::new(Semaphore::new(0));
    let id = start_operation(&tracker, spec("dummy"), stepping_job(1000, gate.clone()));
    let (rcpt, mut rx) = collector(None);
    subscribe(&tracker, rcpt, &id, None).await;
    gate.add_permits(3);
    let rec = tracker
        .send(CancelOperation {
            id: id.clone(),
            reason: "user request".into(),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status, OperationStatus::Cancelled);
    assert_eq!(rec.cancellation_reason.as_deref(), Some("user request"));
    // Let the (dropped) job have all the permits it wants: no progress may follow.
    gate.add_permits(1000);
    let events = recv_until_terminal(&mut rx).await;
    assert_eq!(events.last().unwrap().kind, EventKind::Cancelled);
    assert!(rx.recv().await.is_none(), "events after the final one");
    let again = tracker
        .send(CancelOperation {
            id: id.clone(),
            reason: "again".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        again,
        Err(CancelError::AlreadyFinished(id, OperationStatus::Cancelled))
    );
    let unknown: OperationId = "op_dummy_20260101_000000_00000000".parse().unwrap();
    let res = tracker
        .send(CancelOperation {
            id: unknown.clone(),
            reason: "x".into(),
        })
        .await
        .unwrap();
    assert_eq!(res, Err(CancelError::NotFound(unknown)));
}

/// A cancel answers only after blocking work has seen the token and returned.
#[actix_rt::test]
async fn cancel_waits_for_blocking_work() {
    let tracker = ProgressTracker::new(100).start();
    let exited = Arc::new(AtomicBool::new(false));
    let started = Arc::new(Semaphore::new(0));
    let (exited2, started2) = (exited.clone(), started.clone());
    let id = start_operation(
        &tracker,
        spec("blocking"),
        move |ctx: JobContext| async move {
            let token = ctx.token.clone();
            ctx.spawn_blocking(move || {
                started2.add_permits(1);
                while !token.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(2));
                }
                // Still busy a while after the token trips, as a real batch would be.
                std::thread::sleep(Duration::from_millis(50));
                exited2.store(true, Ordering::SeqCst);
            })
            .await?;
            Err(JobError::Cancelled)
        },
    );
    started.acquire().await.unwrap().forget();
    let rec = tracker
        .send(CancelOperation {
            id,
            reason: "user".into(),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status, OperationStatus::Cancelled);
    assert!(
        exited.load(Ordering::SeqCst),
        "cancel answered before the blocking work returned"
    );
}

/// A stalled subscriber neither delays the operation nor another subscriber, gets coalesced
/// events when it resumes, and still receives the final event.
#[actix_rt::test]
async fn stalled_subscriber_is_coalesced_and_gets_final_event() {
    let tracker = ProgressTracker::new(100).start();
    let gate = Arc::new(Semaphore::new(0));
    let id = start_operation(&tracker, spec("dummy"), stepping_job(200, gate.clone()));
    let stall = Arc::new(Semaphore::new(0));
    let (slow, mut slow_rx) = collector(Some(stall.clone()));
    let (fast, mut fast_rx) = collector(None);
    for r in [slow, fast] {
        subscribe(&tracker, r, &id, None).await;
    }
    gate.add_permits(200);
    // The operation runs to completion and the other subscriber sees it through to the final
    // event, in order, while the stalled one has handled nothing at all.
    let fast_events = recv_until_terminal(&mut fast_rx).await;
    assert_eq!(fast_events[0].kind, EventKind::Snapshot);
    assert_eq!(fast_events.last().unwrap().kind, EventKind::Completed);
    assert!(fast_events.windows(2).all(|w| w[0].seq <= w[1].seq));
    assert!(slow_rx.try_recv().is_err());
    let rec = tracker.send(GetOperation(id)).await.unwrap().unwrap();
    assert_eq!(rec.status, OperationStatus::Completed);
    // Resume the slow one: it gets the snapshot it was stuck on, at most one coalesced progress
    // and the final event.
    stall.add_permits(1000);
    let slow_events = recv_until_terminal(&mut slow_rx).await;
    assert!(
        slow_events.len() <= 3,
        "not coalesced: {} events",
        slow_events.len()
    );
    assert_eq!(slow_events.last().unwrap().kind, EventKind::Completed);
    assert_eq!(status_of(slow_events.last().unwrap()), "completed");
}

fn percentage(ev: &OperationEvent) -> f64 {
    let v: Value = serde_json::from_str(&ev.json).unwrap();
    v["operation"]["progress"]["percentage"].as_f64().unwrap()
}

async fn recv_until_percentage(
    rx: &mut mpsc::UnboundedReceiver<OperationEvent>,
    pct: f64,
) -> OperationEvent {
    loop {
        let ev = rx.recv().await.unwrap();
        if ev.kind == EventKind::Progress && percentage(&ev) >= pct {
            return ev;
        }
    }
}

/// Reconnecting with `since` replays exactly the events after it, none coalesced away.
#[actix_rt::test]
async fn since_replays_missed_events() {
    let tracker = ProgressTracker::new(100).start();
    let gate = Arc::new(Semaphore::new(0));
    let id = start_operation(&tracker, spec("dummy"), stepping_job(10, gate.clone()));
    let (rcpt, mut rx) = collector(None);
    subscribe(&tracker, rcpt, &id, None).await;
    gate.add_permits(2);
    let cut = recv_until_percentage(&mut rx, 20.0).await.seq;
    // The first subscriber "disconnects" here; the operation goes on to 60%.
    gate.add_permits(4);
    recv_until_percentage(&mut rx, 60.0).await;
    let (rcpt, mut rx2) = collector(None);
    subscribe(&tracker, rcpt, &id, Some(cut)).await;
    let mut replayed = Vec::new();
    for _ in 0..4 {
        let ev = rx2.recv().await.unwrap();
        assert!(ev.seq > cut);
        replayed.push(percentage(&ev));
    }
    assert_eq!(replayed, vec![30.0, 40.0, 50.0, 60.0]);
    gate.add_permits(4);
    let rest = recv_until_terminal(&mut rx2).await;
    assert_eq!(rest.last().unwrap().kind, EventKind::Completed);
}

/// A time limit cancels the operation with a "timed out" reason.
#[actix_rt::test]
async fn timeout_cancels_operation() {
    let tracker = ProgressTracker::new(100).start();
    let mut s = spec("dummy");
    s.timeout = Some(Duration::from_millis(50));
    let id = start_operation(&tracker, s, stepping_job(1, Arc::new(Semaphore::new(0))));
    let (rcpt, mut rx) = collector(None);
    subscribe(&tracker, rcpt, &id, None).await;
    let events = recv_until_terminal(&mut rx).await;
    assert_eq!(events.last().unwrap().kind, EventKind::Cancelled);
    let rec = tracker.send(GetOperation(id)).await.unwrap().unwrap();
    assert!(rec.cancellation_reason.unwrap().contains("timed out"));
}

/// Listing is newest first, filters, paginates, and retention bounds the finished operations.
#[actix_rt::test]
async fn list_filters_paginates_and_retains() {
    let tracker = ProgressTracker::new(3).start();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let gate = Arc::new(Semaphore::new(1));
        let id = start_operation(&tracker, spec("quick"), stepping_job(1, gate));
        let (rcpt, mut rx) = collector(None);
        subscribe(&tracker, rcpt, &id, None).await;
        recv_until_terminal(&mut rx).await;
        ids.push(id);
    }
    let running = start_operation(
        &tracker,
        spec("slow"),
        stepping_job(1, Arc::new(Semaphore::new(0))),
    );
    let list = |f: ListFilter| tracker.send(ListOperations(f));
    let all = list(ListFilter {
        limit: 100,
        ..Default::default()
    })
    .await
    .unwrap();
    let got: Vec<&OperationId> = all.operations.iter().map(|r| &r.operation_id).collect();
    assert_eq!(
        got,
        vec![&running, &ids[4], &ids[3], &ids[2]],
        "newest first, 3 finished kept"
    );
    assert_eq!((all.total_count, all.active_count), (4, 1));
    let page = list(ListFilter {
        limit: 2,
        offset: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        page.operations
            .iter()
            .map(|r| &r.operation_id)
            .collect::<Vec<_>>(),
        vec![&ids[4], &ids[3]]
    );
    assert_eq!(page.total_count, 4);
    let active = list(ListFilter {
        limit: 100,
        active_only: true,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(active.operations.len(), 1);
    let by_type = list(ListFilter {
        limit: 100,
        operation_type: Some(OperationType::new("quick").unwrap()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(by_type.total_count, 3);
    let done = list(ListFilter {
        limit: 100,
        status: Some(OperationStatus::Completed),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(done.total_count, 3);
}

/// Cancel-all (server shutdown) stops every running operation and records each one.
#[actix_rt::test]
async fn cancel_all_records_every_operation() {
    let tracker = ProgressTracker::new(100).start();
    let ids: Vec<OperationId> = (0..3)
        .map(|_| {
            start_operation(
                &tracker,
                spec("dummy"),
                stepping_job(1, Arc::new(Semaphore::new(0))),
            )
        })
        .collect();
    let t0 = Instant::now();
    let n = tracker
        .send(CancelAll {
            reason: "server shutdown".into(),
        })
        .await
        .unwrap();
    assert_eq!(n, 3);
    assert!(t0.elapsed() < Duration::from_secs(5));
    for id in ids {
        let rec = tracker.send(GetOperation(id)).await.unwrap().unwrap();
        assert_eq!(rec.status, OperationStatus::Cancelled);
        assert_eq!(rec.cancellation_reason.as_deref(), Some("server shutdown"));
    }
}
