//! The ProgressTracker actor: the registry of operations and the broadcaster of their events.
//!
//! One per backend. It owns every operation's record, turns each change into an
//! [`OperationEvent`] with a global sequence number, retains recent events for `since` replay,
//! and delivers them to subscribers through [`crate::subscribers::Subscribers`], which coalesces
//! per subscriber so that a slow one never holds up an operation or another subscriber.
//!
//! With an [`OperationStore`] it is also the store's one writer: registrations and endings are
//! written at once, other changes (progress, metrics, warnings) at most every
//! [`FLUSH_EVERY`]; lists, and records no longer in memory, come from the store, and memory
//! keeps only the active operations and the [`FINISHED_IN_MEMORY`] newest finished ones.

mod messages;

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::time::Duration;

use actix::prelude::*;
use chrono::Utc;
use tokio::sync::oneshot;

use crate::events::{EventKind, OperationEvent, StopOperation};
use crate::operation::{OperationId, OperationRecord, OperationStatus};
use crate::store::{OperationStore, Retention};
use crate::subscribers::{SubscriberId, Subscribers};

pub use messages::*;

/// Events retained per running operation for `since` replay.
const EVENTS_PER_ACTIVE_OPERATION: usize = 256;
/// Events kept per operation once it has finished.
const EVENTS_PER_FINISHED_OPERATION: usize = 8;
/// Events retained for the all-operations stream.
const GLOBAL_EVENTS: usize = 4096;
/// With a store: how often changes other than registration and ending are written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// With a store: finished operations kept in memory (the store keeps the rest).
pub const FINISHED_IN_MEMORY: usize = 256;
/// With a store: how often old records are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// A bounded log of events: what was dropped is remembered by its last seq.
#[derive(Default)]
struct EventLog {
    events: VecDeque<OperationEvent>,
    /// Seq of the newest event no longer retained (0: none dropped).
    last_dropped_seq: u64,
}

impl EventLog {
    fn push(&mut self, event: OperationEvent, cap: usize) {
        self.events.push_back(event);
        self.trim(cap);
    }

    fn trim(&mut self, cap: usize) {
        while self.events.len() > cap {
            if let Some(old) = self.events.pop_front() {
                self.last_dropped_seq = old.seq;
            }
        }
    }

    /// Events after `since`, or `None` when some of them were dropped.
    fn after(&self, since: u64) -> Option<Vec<OperationEvent>> {
        if self.last_dropped_seq > since {
            return None;
        }
        Some(
            self.events
                .iter()
                .filter(|e| e.seq > since)
                .cloned()
                .collect(),
        )
    }
}

/// One operation as the tracker holds it.
struct Entry {
    record: OperationRecord,
    /// The running actor; `None` once it has ended.
    stop: Option<Recipient<StopOperation>>,
    events: EventLog,
    /// Cancel requests waiting for the operation to end.
    waiters: Vec<oneshot::Sender<OperationRecord>>,
}

/// The registry of operations (see the module docs).
pub struct ProgressTracker {
    /// Operations by id.
    entries: HashMap<OperationId, Entry>,
    /// Ids in creation order, oldest first: listing walks it backwards.
    order: VecDeque<OperationId>,
    /// Finished operations kept before the oldest are dropped, so memory stays bounded.
    retention: usize,
    /// Last sequence number handed out.
    seq: u64,
    /// Recent events of all operations.
    global: EventLog,
    subscribers: Subscribers,
    /// Where records are kept across restarts, if anywhere.
    store: Option<Durable>,
}

/// The tracker's side of the store.
struct Durable {
    store: OperationStore,
    retention: Retention,
    /// Operations changed since their last write.
    dirty: HashSet<OperationId>,
    /// Records whose write failed, written again with the next flush (a record may have
    /// left memory meanwhile: it is kept here until a write succeeds).
    retry: HashMap<OperationId, OperationRecord>,
    /// The tracker itself, to hand failed writes back.
    me: Option<Addr<ProgressTracker>>,
}

/// Records whose write failed: the next flush writes them again.
#[derive(Message)]
#[rtype(result = "()")]
struct WriteFailed(Vec<OperationRecord>);

impl ProgressTracker {
    /// A tracker that keeps at most `retention` finished operations, in memory only.
    pub fn new(retention: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            retention: retention.max(1),
            seq: 0,
            global: EventLog::default(),
            subscribers: Subscribers::default(),
            store: None,
        }
    }

    /// A tracker that writes every operation to `store`, which keeps finished ones as
    /// `retention` says. On start it marks the operations a stopped backend left running as
    /// failed ([`crate::store::INTERRUPTED`]).
    pub fn with_store(store: OperationStore, retention: Retention) -> Self {
        Self {
            store: Some(Durable {
                store,
                retention,
                dirty: HashSet::new(),
                retry: HashMap::new(),
                me: None,
            }),
            ..Self::new(FINISHED_IN_MEMORY)
        }
    }

    /// Notes that `id` changed; `now` writes it (with every other pending change) at once.
    fn changed(&mut self, id: &OperationId, now: bool) {
        if let Some(d) = &mut self.store {
            d.dirty.insert(id.clone());
            if now {
                // Sent now (in order); the future only reports a failed write.
                actix::spawn(self.flush());
            }
        }
    }

    /// Sends every pending change to the store (in order: the store thread takes requests as
    /// they are sent) and returns a future that resolves once they, and every write sent
    /// before them, are written. A failed write comes back to be tried again.
    fn flush(&mut self) -> impl Future<Output = ()> + 'static {
        let entries = &self.entries;
        let sent = self.store.as_mut().map(|d| {
            let mut records: HashMap<OperationId, OperationRecord> = d.retry.drain().collect();
            for id in d.dirty.drain() {
                if let Some(e) = entries.get(&id) {
                    records.insert(id, e.record.clone());
                }
            }
            let records: Vec<OperationRecord> = records.into_values().collect();
            // Even with nothing to write, the (empty) request is answered only after every
            // write sent before it: a barrier for shutdown.
            (d.store.send_upsert(records.clone()), records, d.me.clone())
        });
        async move {
            if let Some((rx, records, me)) = sent {
                if let Err(e) = rx.await {
                    tracing::error!(error = %e, records = records.len(), "operation store: write failed; will try again");
                    if let Some(me) = me {
                        me.do_send(WriteFailed(records));
                    }
                }
            }
        }
    }

    /// Records a change of `id` as an event and hands it to the subscribers; `write_now`:
    /// a change the store gets at once (registration, start, end), not at the next flush.
    fn emit(&mut self, id: &OperationId, write_now: bool, ctx: &mut Context<Self>) {
        let Some(entry) = self.entries.get_mut(id) else {
            return;
        };
        self.seq += 1;
        let kind = EventKind::for_status(entry.record.status);
        let event = OperationEvent::new(kind, self.seq, &entry.record);
        let cap = if kind.is_terminal() {
            EVENTS_PER_FINISHED_OPERATION
        } else {
            EVENTS_PER_ACTIVE_OPERATION
        };
        entry.events.push(event.clone(), cap);
        self.global.push(event.clone(), GLOBAL_EVENTS);
        self.subscribers.publish(event, ctx);
        self.changed(id, write_now);
    }

    fn snapshot(&self, entry: &Entry) -> OperationEvent {
        OperationEvent::new(EventKind::Snapshot, self.seq, &entry.record)
    }

    /// Drops the oldest finished operations beyond the retention limit.
    fn enforce_retention(&mut self) {
        let finished = self
            .entries
            .values()
            .filter(|e| e.record.status.is_terminal())
            .count();
        let mut excess = finished.saturating_sub(self.retention);
        let mut i = 0;
        while excess > 0 && i < self.order.len() {
            let terminal = self
                .entries
                .get(&self.order[i])
                .is_none_or(|e| e.record.status.is_terminal());
            if terminal {
                if let Some(id) = self.order.remove(i) {
                    self.entries.remove(&id);
                }
                excess -= 1;
            } else {
                i += 1;
            }
        }
    }

    fn finish(&mut self, id: &OperationId, outcome: Outcome, ctx: &mut Context<Self>) {
        let Some(entry) = self.entries.get_mut(id) else {
            return;
        };
        if entry.record.status.is_terminal() {
            return;
        }
        let now = Utc::now();
        let record = &mut entry.record;
        record.completed_at = Some(now);
        record.started_at.get_or_insert(now);
        match outcome {
            Outcome::Completed { result_summary } => {
                record.status = OperationStatus::Completed;
                record.progress.percentage = 100.0;
                record.progress.steps_completed = record.progress.steps_total;
                record.result_summary = Some(result_summary);
            }
            Outcome::Failed {
                error,
                result_summary,
            } => {
                record.status = OperationStatus::Failed;
                record.result_summary = result_summary;
                record.errors.push(error.clone());
                record.error_message = Some(error);
            }
            Outcome::Cancelled { reason } => {
                record.status = OperationStatus::Cancelled;
                record.error_message = Some(format!("Operation cancelled: {reason}"));
                record.cancellation_reason = Some(reason);
            }
        }
        entry.stop = None;
        entry.events.trim(EVENTS_PER_FINISHED_OPERATION);
        for waiter in entry.waiters.drain(..) {
            let _ = waiter.send(entry.record.clone());
        }
        tracing::info!(operation_id = %id, status = %entry.record.status, "operation finished");
        self.emit(id, true, ctx);
        self.enforce_retention();
    }
}

impl Actor for ProgressTracker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let me = ctx.address();
        let Some(d) = &mut self.store else {
            return;
        };
        d.me = Some(me);
        // Before any message: what a stopped backend left running is marked interrupted.
        let (store, retention) = (d.store.clone(), d.retention);
        ctx.wait(
            async move {
                match store.mark_interrupted(true).await {
                    Ok(v) if !v.is_empty() => {
                        for r in &v {
                            tracing::warn!(operation_id = %r.operation_id, "{}", crate::store::INTERRUPTED);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "operation store: cannot mark interrupted operations"),
                }
                prune(&store, retention).await;
            }
            .into_actor(self),
        );
        ctx.run_interval(FLUSH_EVERY, |act, ctx| {
            ctx.spawn(act.flush().into_actor(act));
        });
        // A sign of life for the backends sharing the store, and a look for stopped ones.
        ctx.run_interval(crate::store::HEARTBEAT_EVERY, |act, ctx| {
            if let Some(d) = &act.store {
                let store = d.store.clone();
                ctx.spawn(
                    async move {
                        if let Err(e) = store.heartbeat().await {
                            tracing::error!(error = %e, "operation store: heartbeat failed");
                        }
                    }
                    .into_actor(act),
                );
            }
        });
        ctx.run_interval(crate::store::HEARTBEAT_STALE, |act, ctx| {
            if let Some(d) = &act.store {
                let store = d.store.clone();
                ctx.spawn(
                    async move {
                        match store.mark_interrupted(false).await {
                            Ok(v) => {
                                for r in &v {
                                    tracing::warn!(operation_id = %r.operation_id, "another backend stopped: {}", crate::store::INTERRUPTED);
                                }
                            }
                            Err(e) => tracing::error!(error = %e, "operation store: cannot look for stopped backends"),
                        }
                    }
                    .into_actor(act),
                );
            }
        });
        ctx.run_interval(PRUNE_EVERY, move |act, ctx| {
            if let Some(d) = &act.store {
                let (store, retention) = (d.store.clone(), d.retention);
                ctx.spawn(async move { prune(&store, retention).await }.into_actor(act));
            }
        });
    }
}

async fn prune(store: &OperationStore, retention: Retention) {
    match store.prune(retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "operation store: old records pruned"),
        Err(e) => tracing::error!(error = %e, "operation store: pruning failed"),
    }
}

impl Handler<RegisterOperation> for ProgressTracker {
    type Result = ();
    fn handle(&mut self, msg: RegisterOperation, ctx: &mut Context<Self>) {
        let id = msg.record.operation_id.clone();
        self.order.push_back(id.clone());
        self.entries.insert(
            id.clone(),
            Entry {
                record: msg.record,
                stop: Some(msg.stop),
                events: EventLog::default(),
                waiters: Vec::new(),
            },
        );
        self.emit(&id, true, ctx);
    }
}

impl Handler<MarkRunning> for ProgressTracker {
    type Result = ();
    fn handle(&mut self, msg: MarkRunning, ctx: &mut Context<Self>) {
        if let Some(entry) = self.entries.get_mut(&msg.0) {
            if entry.record.status == OperationStatus::Pending {
                entry.record.status = OperationStatus::Running;
                entry.record.started_at = Some(Utc::now());
                self.emit(&msg.0, true, ctx);
            }
        }
    }
}

impl Handler<UpdateProgress> for ProgressTracker {
    type Result = ();
    fn handle(&mut self, msg: UpdateProgress, ctx: &mut Context<Self>) {
        if let Some(entry) = self.entries.get_mut(&msg.id) {
            if !entry.record.status.is_terminal() {
                entry.record.progress = msg.progress;
                self.emit(&msg.id, false, ctx);
            }
        }
    }
}

impl Handler<SetMetrics> for ProgressTracker {
    type Result = ();
    fn handle(&mut self, msg: SetMetrics, _ctx: &mut Context<Self>) {
        // Metrics are not part of stream events; no event for them.
        if let Some(entry) = self.entries.get_mut(&msg.id) {
            entry.record.metrics = Some(msg.metrics);
            self.changed(&msg.id, false);
        }
    }
}

impl Handler<AddWarning> for ProgressTracker {
    type Result = ();
    fn handle(&mut self, msg: AddWarning, _ctx: &mut Context<Self>) {
        if let Some(entry) = self.entries.get_mut(&msg.id) {
            entry.record.warnings.push(msg.warning);
            self.changed(&msg.id, false);
        }
    }
}

impl Handler<FinishOperation> for ProgressTracker {
    type Result = ();
    fn handle(&mut self, msg: FinishOperation, ctx: &mut Context<Self>) {
        self.finish(&msg.id, msg.outcome, ctx);
    }
}

impl Handler<GetOperation> for ProgressTracker {
    type Result = ResponseFuture<Option<OperationRecord>>;
    fn handle(&mut self, msg: GetOperation, _ctx: &mut Context<Self>) -> Self::Result {
        if let Some(e) = self.entries.get(&msg.0) {
            let record = e.record.clone();
            return Box::pin(async move { Some(record) });
        }
        let store = self.store.as_ref().map(|d| d.store.clone());
        Box::pin(async move { stored(store, msg.0).await.map(|s| s.record) })
    }
}

/// A record no longer in memory, from the store (errors logged: an unreadable store reads as
/// "not found").
async fn stored(
    store: Option<OperationStore>,
    id: OperationId,
) -> Option<crate::store::StoredOperation> {
    match store?.get(id).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "operation store: read failed");
            None
        }
    }
}

impl ProgressTracker {
    /// A page of the operations in memory (the tracker without a store).
    fn list_in_memory(&self, f: &ListFilter) -> OperationList {
        let mut total_count = 0;
        let mut active_count = 0;
        let mut operations = Vec::new();
        for id in self.order.iter().rev() {
            let Some(entry) = self.entries.get(id) else {
                continue;
            };
            let r = &entry.record;
            let active = !r.status.is_terminal();
            active_count += usize::from(active);
            let matches = f.status.is_none_or(|s| s == r.status)
                && f.operation_type
                    .as_ref()
                    .is_none_or(|t| *t == r.operation_type)
                && (!f.active_only || active)
                && f.created_after.is_none_or(|t| r.created_at >= t)
                && f.created_before.is_none_or(|t| r.created_at < t);
            if matches {
                if total_count >= f.offset && operations.len() < f.limit {
                    operations.push(r.clone());
                }
                total_count += 1;
            }
        }
        OperationList {
            operations,
            total_count,
            active_count,
        }
    }
}

impl Handler<ListOperations> for ProgressTracker {
    type Result = ResponseFuture<OperationList>;
    fn handle(&mut self, msg: ListOperations, _ctx: &mut Context<Self>) -> Self::Result {
        let Some(store) = self.store.as_ref().map(|d| d.store.clone()) else {
            let list = self.list_in_memory(&msg.0);
            return Box::pin(async move { list });
        };
        // Pending changes go first, so the store answers with them.
        let written = self.flush();
        let fallback = self.list_in_memory(&msg.0);
        Box::pin(async move {
            written.await;
            match store.list(msg.0).await {
                Ok(list) => list,
                Err(e) => {
                    tracing::error!(error = %e, "operation store: list failed; answering from memory");
                    fallback
                }
            }
        })
    }
}

impl Handler<CancelOperation> for ProgressTracker {
    type Result = ResponseFuture<Result<OperationRecord, CancelError>>;
    fn handle(&mut self, msg: CancelOperation, ctx: &mut Context<Self>) -> Self::Result {
        let id = msg.id;
        let Some(entry) = self.entries.get_mut(&id) else {
            // Not in memory: finished long ago, run by another backend, or unknown.
            let store = self.store.as_ref().map(|d| d.store.clone());
            return Box::pin(async move {
                match stored(store, id.clone()).await {
                    Some(s) if s.record.status.is_terminal() => {
                        Err(CancelError::AlreadyFinished(id, s.record.status))
                    }
                    Some(s) => Err(CancelError::Elsewhere(id, s.owner)),
                    None => Err(CancelError::NotFound(id)),
                }
            });
        };
        if entry.record.status.is_terminal() {
            let status = entry.record.status;
            return Box::pin(async move { Err(CancelError::AlreadyFinished(id, status)) });
        }
        let (tx, rx) = oneshot::channel();
        entry.waiters.push(tx);
        let delivered = entry.stop.as_ref().map(|stop| {
            stop.try_send(StopOperation {
                reason: msg.reason.clone(),
            })
        });
        if !matches!(delivered, Some(Ok(()))) {
            // The actor is gone (or its mailbox is full): record the cancel ourselves.
            self.finish(&id, Outcome::Cancelled { reason: msg.reason }, ctx);
        }
        Box::pin(async move { rx.await.map_err(|_| CancelError::TrackerGone) })
    }
}

impl Handler<CancelAll> for ProgressTracker {
    type Result = ResponseFuture<usize>;
    fn handle(&mut self, msg: CancelAll, ctx: &mut Context<Self>) -> Self::Result {
        let active: Vec<OperationId> = self
            .entries
            .iter()
            .filter(|(_, e)| !e.record.status.is_terminal())
            .map(|(id, _)| id.clone())
            .collect();
        let me = ctx.address();
        Box::pin(async move {
            let cancels = active.into_iter().map(|id| {
                me.send(CancelOperation {
                    id,
                    reason: msg.reason.clone(),
                })
            });
            futures_util::future::join_all(cancels)
                .await
                .into_iter()
                .filter(|r| matches!(r, Ok(Ok(_))))
                .count()
        })
    }
}

impl Handler<Subscribe> for ProgressTracker {
    type Result = ResponseActFuture<Self, Result<SubscriberId, SubscribeError>>;
    fn handle(&mut self, msg: Subscribe, ctx: &mut Context<Self>) -> Self::Result {
        let initial: Vec<OperationEvent> = match &msg.operation {
            Some(id) => match self.entries.get(id) {
                Some(entry) => match msg.since.and_then(|since| entry.events.after(since)) {
                    Some(replay) => replay,
                    None => vec![self.snapshot(entry)],
                },
                None => {
                    // Not in memory: a finished one from the store gets its final snapshot.
                    let store = self.store.as_ref().map(|d| d.store.clone());
                    let id = id.clone();
                    return Box::pin(stored(store, id.clone()).into_actor(self).map(
                        move |found, act, ctx| {
                            let s = found.ok_or(SubscribeError::NotFound(id))?;
                            let event =
                                OperationEvent::new(EventKind::Snapshot, act.seq, &s.record);
                            Ok(act
                                .subscribers
                                .add(msg.recipient, msg.operation, vec![event], ctx))
                        },
                    ));
                }
            },
            None => match msg.since.and_then(|since| self.global.after(since)) {
                Some(replay) => replay,
                None => self
                    .order
                    .iter()
                    .filter_map(|id| self.entries.get(id))
                    .filter(|e| !e.record.status.is_terminal())
                    .map(|e| self.snapshot(e))
                    .collect(),
            },
        };
        let id = self
            .subscribers
            .add(msg.recipient, msg.operation, initial, ctx);
        Box::pin(actix::fut::ready(Ok(id)))
    }
}

impl Handler<CloseStreams> for ProgressTracker {
    type Result = ();
    fn handle(&mut self, _: CloseStreams, ctx: &mut Context<Self>) {
        self.seq += 1;
        let marker = OperationId::generate(
            &crate::operation::OperationType::new("shutdown").expect("a valid type name"),
            Utc::now(),
        );
        self.subscribers
            .broadcast_last(OperationEvent::shutdown(self.seq, marker), ctx);
    }
}

impl Handler<WriteFailed> for ProgressTracker {
    type Result = ();
    fn handle(&mut self, msg: WriteFailed, _ctx: &mut Context<Self>) {
        if let Some(d) = &mut self.store {
            for r in msg.0 {
                // A newer change of it (dirty, in memory) wins over the failed copy.
                if !d.dirty.contains(&r.operation_id) {
                    d.retry.insert(r.operation_id.clone(), r);
                }
            }
        }
    }
}

impl Handler<FlushStore> for ProgressTracker {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, _: FlushStore, _ctx: &mut Context<Self>) -> Self::Result {
        Box::pin(self.flush())
    }
}

impl Handler<Unsubscribe> for ProgressTracker {
    type Result = ();
    fn handle(&mut self, msg: Unsubscribe, _ctx: &mut Context<Self>) {
        self.subscribers.remove(msg.0);
    }
}

/// Lets the subscriber set drive its deliveries from the tracker's context.
impl crate::subscribers::HasSubscribers for ProgressTracker {
    fn subscribers(&mut self) -> &mut Subscribers {
        &mut self.subscribers
    }
}
