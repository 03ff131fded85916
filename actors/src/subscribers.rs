//! Per-subscriber delivery with coalescing.
//!
//! Each subscriber has at most one event in flight (`Recipient::send`, whose future resolves
//! when the subscriber has handled it: a websocket session answers once the frame is written).
//! Events that arrive meanwhile wait in the subscriber's queue, where a newer progress event of
//! an operation replaces the older one still waiting. Terminal events and snapshots are never
//! replaced, so the final event is always delivered. The queue holds at most a few events per
//! operation, so a stalled subscriber costs bounded memory and delays nobody else.

use std::collections::{HashMap, VecDeque};

use actix::prelude::*;

use crate::events::{EventKind, OperationEvent};
use crate::operation::OperationId;

/// Identifies one subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriberId(u64);

/// An actor that owns a [`Subscribers`] set.
pub trait HasSubscribers: Actor<Context = Context<Self>> {
    fn subscribers(&mut self) -> &mut Subscribers;
}

struct Subscriber {
    recipient: Recipient<OperationEvent>,
    /// `Some`: only this operation's events, and the subscription ends after its final event.
    operation: Option<OperationId>,
    /// Events waiting for the one in flight to be handled.
    queue: VecDeque<OperationEvent>,
    in_flight: bool,
    /// Set once the final event of a single-operation subscription is queued.
    closing: bool,
}

impl Subscriber {
    fn enqueue(&mut self, event: OperationEvent) {
        if event.kind == EventKind::Progress {
            if let Some(waiting) = self
                .queue
                .iter_mut()
                .find(|e| e.kind == EventKind::Progress && e.operation_id == event.operation_id)
            {
                *waiting = event;
                return;
            }
        }
        self.queue.push_back(event);
    }
}

/// The subscriber set of the tracker (see the module docs).
#[derive(Default)]
pub struct Subscribers {
    next_id: u64,
    by_id: HashMap<SubscriberId, Subscriber>,
}

impl Subscribers {
    /// Adds a subscriber and queues its initial events (snapshot or replay).
    pub fn add<A: HasSubscribers>(
        &mut self,
        recipient: Recipient<OperationEvent>,
        operation: Option<OperationId>,
        initial: Vec<OperationEvent>,
        ctx: &mut Context<A>,
    ) -> SubscriberId {
        self.next_id += 1;
        let id = SubscriberId(self.next_id);
        let mut sub = Subscriber {
            recipient,
            operation,
            queue: VecDeque::new(),
            in_flight: false,
            closing: false,
        };
        for event in initial {
            sub.closing |= sub.operation.is_some() && ends_stream(&event);
            sub.queue.push_back(event);
        }
        self.by_id.insert(id, sub);
        pump(self, id, ctx);
        id
    }

    pub fn remove(&mut self, id: SubscriberId) {
        self.by_id.remove(&id);
    }

    /// Number of live subscriptions.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Queues `event` for every interested subscriber and starts deliveries.
    pub fn publish<A: HasSubscribers>(&mut self, event: OperationEvent, ctx: &mut Context<A>) {
        let ids: Vec<SubscriberId> = self
            .by_id
            .iter_mut()
            .filter(|(_, s)| {
                !s.closing
                    && s.operation
                        .as_ref()
                        .is_none_or(|op| *op == event.operation_id)
            })
            .map(|(id, s)| {
                s.closing |= s.operation.is_some() && ends_stream(&event);
                s.enqueue(event.clone());
                *id
            })
            .collect();
        for id in ids {
            pump(self, id, ctx);
        }
    }
}

impl Subscribers {
    /// Queues `event` for every subscriber, after what each has waiting, and ends every
    /// subscription once it is delivered (the server's shutdown).
    pub fn broadcast_last<A: HasSubscribers>(
        &mut self,
        event: OperationEvent,
        ctx: &mut Context<A>,
    ) {
        let ids: Vec<SubscriberId> = self
            .by_id
            .iter_mut()
            .map(|(id, s)| {
                s.closing = true;
                s.queue.push_back(event.clone());
                *id
            })
            .collect();
        for id in ids {
            pump(self, id, ctx);
        }
    }
}

/// A single-operation stream ends with the event that shows the operation finished: its final
/// event, or the snapshot of an operation that had already ended.
fn ends_stream(event: &OperationEvent) -> bool {
    event.status.is_terminal()
}

/// Sends the next queued event of `id` if none is in flight.
fn pump<A: HasSubscribers>(subs: &mut Subscribers, id: SubscriberId, ctx: &mut Context<A>) {
    let Some(sub) = subs.by_id.get_mut(&id) else {
        return;
    };
    if sub.in_flight {
        return;
    }
    let Some(event) = sub.queue.pop_front() else {
        if sub.closing {
            subs.by_id.remove(&id);
        }
        return;
    };
    sub.in_flight = true;
    let delivery = actix::fut::wrap_future::<_, A>(sub.recipient.send(event));
    ctx.spawn(delivery.map(move |res, owner: &mut A, ctx| {
        let subs = owner.subscribers();
        match res {
            // The subscriber is gone: drop its subscription.
            Err(_) => subs.remove(id),
            Ok(()) => {
                if let Some(sub) = subs.by_id.get_mut(&id) {
                    sub.in_flight = false;
                }
                pump(subs, id, ctx);
            }
        }
    }));
}
