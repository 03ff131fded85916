//! Websocket progress: `/api/v1/operations/{id}/ws` (one operation) and
//! `/api/v1/ws/operations` (all of them).
//!
//! Each connection is a [`WsSession`] actor subscribed to the tracker. Events arrive as
//! `{"type": "snapshot"|"progress"|"completed"|"failed"|"cancelled", "seq": n, "operation": {...}}`.
//! The handler of an event returns only once the frame is queued on the socket, which is what
//! lets the tracker coalesce for a slow client. A single-operation stream closes (1000) after the
//! operation's final event; an unknown operation closes with 1008 and the reason.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message, ProtocolError, Session};
use ktrdr_actors::subscribers::SubscriberId;
use ktrdr_actors::tracker::{Subscribe, Unsubscribe};
use ktrdr_actors::{EventKind, OperationEvent, OperationId, ProgressTracker};
use serde::Deserialize;

use super::AppState;
use crate::http::error::ApiError;

/// How often the server pings.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A client silent this long (no pong, no message) is disconnected.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);

/// The open websockets, so a shutdown can close each one (1001) before the server stops.
#[derive(Debug, Default)]
pub struct WsRegistry {
    sessions: std::sync::Mutex<std::collections::HashMap<u64, Addr<WsSession>>>,
    next: AtomicUsize,
    open: AtomicUsize,
    changed: tokio::sync::Notify,
}

/// Tells a session to close for the server's shutdown. A mailbox message, so it comes after
/// the events the tracker already sent it (the last ones of its operations).
#[derive(Message)]
#[rtype(result = "()")]
struct CloseForShutdown;

impl WsRegistry {
    /// Sends every open websocket a close frame (1001, "server shutdown") after what it was
    /// already sent, and waits until they have all closed, at most `limit`; returns how many
    /// were still open then.
    pub async fn close_all(&self, limit: Duration) -> usize {
        let sessions: Vec<Addr<WsSession>> = self
            .sessions
            .lock()
            .expect("lock")
            .drain()
            .map(|(_, a)| a)
            .collect();
        for s in sessions {
            s.do_send(CloseForShutdown);
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.changed.notified();
            let open = self.open.load(Ordering::SeqCst);
            if open == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.open.load(Ordering::SeqCst);
            }
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/operations/{id}/ws", web::get().to(one))
        .route("/ws/operations", web::get().to(all));
}

#[derive(Debug, Deserialize)]
struct StreamQuery {
    since: Option<String>,
}

impl StreamQuery {
    fn since(&self) -> Result<Option<u64>, ApiError> {
        self.since
            .as_deref()
            .map(|s| {
                s.parse::<u64>().map_err(|_| {
                    ApiError::field("query -> since", "must be a whole number (an event's seq)")
                })
            })
            .transpose()
    }
}

async fn one(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let since = query.since()?;
    // A malformed id is still upgraded, then closed with the reason, as an unknown one is.
    let target = Target::One(path.parse().map_err(|_| path.into_inner()));
    start(&req, body, &state, target, since)
}

async fn all(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let since = query.since()?;
    start(&req, body, &state, Target::All, since)
}

enum Target {
    /// One operation, or the raw id that did not parse.
    One(Result<OperationId, String>),
    All,
}

fn start(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
    target: Target,
    since: Option<u64>,
) -> Result<HttpResponse, actix_web::Error> {
    let (response, session, stream) = actix_ws::handle(req, body)?;
    WsSession::create(|ctx| {
        ctx.add_stream(stream);
        WsSession {
            session,
            tracker: state.tracker.clone(),
            target,
            since,
            subscription: None,
            last_heard: Instant::now(),
            registry: state.ws.clone(),
            key: 0,
        }
    });
    Ok(response)
}

/// One websocket connection (see the module docs).
pub struct WsSession {
    session: Session,
    tracker: Addr<ProgressTracker>,
    target: Target,
    since: Option<u64>,
    subscription: Option<SubscriberId>,
    /// Last time the client said anything (pong included).
    last_heard: Instant,
    registry: Arc<WsRegistry>,
    /// This session's key in the registry.
    key: u64,
}

impl WsSession {
    fn close(&mut self, ctx: &mut Context<Self>, code: CloseCode, description: String) {
        let session = self.session.clone();
        let reason = CloseReason {
            code,
            description: Some(description),
        };
        // Stop only once the close frame is queued behind what was already sent.
        ctx.wait(
            actix::fut::wrap_future(async move {
                let _ = session.close(Some(reason)).await;
            })
            .map(|_, _: &mut Self, ctx: &mut Context<Self>| ctx.stop()),
        );
    }
}

impl Actor for WsSession {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.registry.open.fetch_add(1, Ordering::SeqCst);
        self.key = self.registry.next.fetch_add(1, Ordering::SeqCst) as u64;
        self.registry
            .sessions
            .lock()
            .expect("lock")
            .insert(self.key, ctx.address());
        ctx.run_interval(HEARTBEAT_INTERVAL, |act, ctx| {
            if act.last_heard.elapsed() > CLIENT_TIMEOUT {
                act.close(ctx, CloseCode::Away, "heartbeat timeout".into());
                return;
            }
            let mut session = act.session.clone();
            ctx.spawn(actix::fut::wrap_future(async move {
                let _ = session.ping(b"").await;
            }));
        });
        let operation = match &self.target {
            Target::All => None,
            Target::One(Ok(id)) => Some(id.clone()),
            Target::One(Err(raw)) => {
                let reason = format!("Operation not found: {raw}");
                self.close(ctx, CloseCode::Policy, reason);
                return;
            }
        };
        let subscribe = self.tracker.send(Subscribe {
            recipient: ctx.address().recipient(),
            operation,
            since: self.since,
        });
        ctx.wait(
            actix::fut::wrap_future(subscribe).map(|res, act: &mut Self, ctx| match res {
                Ok(Ok(id)) => act.subscription = Some(id),
                Ok(Err(e)) => act.close(ctx, CloseCode::Policy, e.to_string()),
                Err(e) => act.close(ctx, CloseCode::Error, format!("tracker unavailable: {e}")),
            }),
        );
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        if let Some(id) = self.subscription.take() {
            self.tracker.do_send(Unsubscribe(id));
        }
        self.registry
            .sessions
            .lock()
            .expect("lock")
            .remove(&self.key);
        self.registry.open.fetch_sub(1, Ordering::SeqCst);
        self.registry.changed.notify_waiters();
    }
}

impl Handler<CloseForShutdown> for WsSession {
    type Result = ();
    fn handle(&mut self, _: CloseForShutdown, ctx: &mut Context<Self>) {
        self.close(ctx, CloseCode::Away, "server shutdown".into());
    }
}

impl Handler<OperationEvent> for WsSession {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, event: OperationEvent, ctx: &mut Context<Self>) -> Self::Result {
        if event.kind == EventKind::Shutdown {
            self.subscription = None; // the tracker ended it with this event
            self.close(ctx, CloseCode::Away, "server shutdown".into());
            return Box::pin(actix::fut::ready(()));
        }
        let mut session = self.session.clone();
        let ends = matches!(self.target, Target::One(_)) && event.status.is_terminal();
        let json = event.json.clone();
        Box::pin(
            actix::fut::wrap_future(async move { session.text(json).await.is_ok() }).map(
                move |sent, act: &mut Self, ctx| {
                    if !sent {
                        ctx.stop();
                    } else if ends {
                        act.subscription = None; // the tracker ends it after this event
                        act.close(ctx, CloseCode::Normal, "operation finished".into());
                    }
                },
            ),
        )
    }
}

impl StreamHandler<Result<Message, ProtocolError>> for WsSession {
    fn handle(&mut self, msg: Result<Message, ProtocolError>, ctx: &mut Context<Self>) {
        self.last_heard = Instant::now();
        match msg {
            Ok(Message::Ping(bytes)) => {
                let mut session = self.session.clone();
                ctx.spawn(actix::fut::wrap_future(async move {
                    let _ = session.pong(&bytes).await;
                }));
            }
            Ok(Message::Close(_)) | Err(_) => ctx.stop(),
            Ok(_) => {}
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
