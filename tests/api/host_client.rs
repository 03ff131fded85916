//! The HostServiceClient actor against a small real actix-web server on port 0.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use ktrdr_actors::host_client::{HostClient, HostClientConfig, HostServiceError};
use serde_json::json;
use tokio::sync::oneshot;

use crate::helpers::dead_port;

/// What the test server saw.
#[derive(Default)]
struct Seen {
    /// Client ports: one per TCP connection.
    peers: HashSet<u16>,
    /// Hits per path.
    hits: std::collections::HashMap<String, u32>,
    /// Fired when /hold starts answering.
    hold_started: Option<oneshot::Sender<()>>,
    /// Fired when the /hold answer is dropped (its connection closed).
    hold_dropped: Option<oneshot::Sender<()>>,
}

type Shared = web::Data<Mutex<Seen>>;

fn note(seen: &Shared, req: &HttpRequest) -> u32 {
    let mut s = seen.lock().unwrap();
    if let Some(peer) = req.peer_addr() {
        s.peers.insert(peer.port());
    }
    let n = s.hits.entry(req.path().to_owned()).or_default();
    *n += 1;
    *n
}

/// A body that never ends (a space every 20 ms, so a closed peer is noticed on write); tells
/// when the server drops it.
struct Hold(Option<oneshot::Sender<()>>, tokio::time::Interval);

impl futures_util::Stream for Hold {
    type Item = Result<web::Bytes, actix_web::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.1
            .poll_tick(cx)
            .map(|_| Some(Ok(web::Bytes::from_static(b" "))))
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

async fn start_server() -> (String, Shared) {
    let seen: Shared = web::Data::new(Mutex::new(Seen::default()));
    let data = seen.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(
                "/health",
                web::get().to(|s: Shared, r: HttpRequest| async move {
                    note(&s, &r);
                    HttpResponse::Ok().json(json!({"status": "healthy"}))
                }),
            )
            .route(
                "/ok",
                web::get().to(|s: Shared, r: HttpRequest| async move {
                    let n = note(&s, &r);
                    HttpResponse::Ok().json(json!({"n": n}))
                }),
            )
            .route(
                "/flaky",
                web::post().to(
                    |s: Shared, r: HttpRequest, body: web::Json<serde_json::Value>| async move {
                        let n = note(&s, &r);
                        if n <= body["fail"].as_u64().unwrap() as u32 {
                            HttpResponse::ServiceUnavailable().body("busy")
                        } else {
                            HttpResponse::Ok().json(json!({"attempt": n}))
                        }
                    },
                ),
            )
            .route(
                "/missing",
                web::get().to(|s: Shared, r: HttpRequest| async move {
                    note(&s, &r);
                    HttpResponse::NotFound().json(json!({"detail": "no such thing"}))
                }),
            )
            .route(
                "/garbage",
                web::get().to(|s: Shared, r: HttpRequest| async move {
                    note(&s, &r);
                    HttpResponse::Ok().body("not json")
                }),
            )
            .route(
                "/hold",
                web::get().to(|s: Shared, r: HttpRequest| async move {
                    note(&s, &r);
                    let (tx, started) = {
                        let mut s = s.lock().unwrap();
                        (s.hold_dropped.take(), s.hold_started.take())
                    };
                    if let Some(started) = started {
                        let _ = started.send(());
                    }
                    HttpResponse::Ok()
                        .streaming(Hold(tx, tokio::time::interval(Duration::from_millis(20))))
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .disable_signals()
    .run();
    actix_web::rt::spawn(server);
    (format!("http://{addr}"), seen)
}

fn config(base: &str) -> HostClientConfig {
    let mut c = HostClientConfig::new("test service", base);
    c.backoff_base = Duration::from_millis(5);
    c.backoff_max = Duration::from_millis(20);
    c
}

/// 100 sequential requests share pooled connections.
#[actix_web::test]
async fn connections_are_reused() {
    let (base, seen) = start_server().await;
    let client = HostClient::start(config(&base));
    for i in 1..=100 {
        assert_eq!(client.get("/ok").await.unwrap()["n"], i);
    }
    let peers = seen.lock().unwrap().peers.len();
    assert!(peers <= 2, "{peers} connections for 100 requests");
    let stats = client.stats().await.unwrap();
    assert_eq!(stats.requests, 100);
    assert_eq!(stats.failures, 0);
    assert!(stats.connections_opened <= 2, "{stats:?}");
    assert!(stats.connections_reused >= 98, "{stats:?}");
}

/// 503 is retried until it succeeds; the retries are counted.
#[actix_web::test]
async fn retries_503_then_succeeds() {
    let (base, seen) = start_server().await;
    let client = HostClient::start(config(&base));
    let got = client.post("/flaky", json!({"fail": 2})).await.unwrap();
    assert_eq!(got["attempt"], 3);
    assert_eq!(seen.lock().unwrap().hits["/flaky"], 3);
    let stats = client.stats().await.unwrap();
    assert_eq!((stats.requests, stats.retries, stats.failures), (1, 2, 0));
}

/// 404 is not retried and comes back as a status error with the body.
#[actix_web::test]
async fn no_retry_on_404() {
    let (base, seen) = start_server().await;
    let client = HostClient::start(config(&base));
    match client.get("/missing").await {
        Err(HostServiceError::Status { status, body, .. }) => {
            assert_eq!(status, 404);
            assert!(body.contains("no such thing"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(seen.lock().unwrap().hits["/missing"], 1);
    match client.get("/garbage").await {
        Err(HostServiceError::Decode { .. }) => {}
        other => panic!("{other:?}"),
    }
}

/// An answer slower than the timeout is a timeout error (retried, then given up).
#[actix_web::test]
async fn slow_answer_times_out() {
    let (base, seen) = start_server().await;
    let mut c = config(&base);
    c.timeout = Duration::from_millis(200);
    c.max_retries = 1;
    let client = HostClient::start(c);
    match client.get("/hold").await {
        Err(HostServiceError::Timeout { timeout_ms, .. }) => assert_eq!(timeout_ms, 200),
        other => panic!("{other:?}"),
    }
    assert_eq!(seen.lock().unwrap().hits["/hold"], 2, "one retry");
}

/// Nobody listening: a connection error after the configured retries.
#[actix_web::test]
async fn server_down_is_connection_error_after_retries() {
    let base = format!("http://127.0.0.1:{}", dead_port());
    let mut c = config(&base);
    c.max_retries = 2;
    let client = HostClient::start(c);
    match client.health_check().await {
        Err(HostServiceError::Connection { url, .. }) => assert!(url.ends_with("/health")),
        other => panic!("{other:?}"),
    }
    let stats = client.stats().await.unwrap();
    assert_eq!((stats.attempts, stats.retries, stats.failures), (3, 2, 1));
}

/// Health check against a live service.
#[actix_web::test]
async fn health_check_answers() {
    let (base, _) = start_server().await;
    let client = HostClient::start(config(&base));
    assert_eq!(client.health_check().await.unwrap()["status"], "healthy");
}

/// Dropping a request's future closes its HTTP exchange: the server sees its answer dropped.
#[actix_web::test]
async fn dropped_request_closes_exchange() {
    let (base, seen) = start_server().await;
    let (tx, rx) = oneshot::channel();
    let (started_tx, started_rx) = oneshot::channel();
    seen.lock().unwrap().hold_dropped = Some(tx);
    seen.lock().unwrap().hold_started = Some(started_tx);
    let client = Arc::new(HostClient::start(config(&base)));
    let c = client.clone();
    let request = actix_web::rt::spawn(async move { c.get("/hold").await });
    // Wait until the server is answering, then give up on the request.
    started_rx.await.unwrap();
    request.abort();
    tokio::time::timeout(Duration::from_secs(5), rx)
        .await
        .expect("the server's answer was not dropped: exchange still open")
        .unwrap();
}
