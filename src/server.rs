//! Starting and stopping the HTTP servers: bind (port 0 picks a free port), announce
//! `listening on http://HOST:PORT` as the first line on stdout, run until a signal, then shut
//! down gracefully.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr};
use actix_web::middleware::from_fn;
use actix_web::{dev::ServerHandle, rt::task::JoinHandle, web, App, HttpServer};
use ktrdr_actors::host_client::{HostClient, HostClientConfig};
use ktrdr_actors::store::{Identity, OperationStore, Retention};
use ktrdr_actors::tracker::{CancelAll, CloseStreams, FlushStore};
use ktrdr_actors::ProgressTracker;

use crate::api::{self, AppState};
use crate::config::Settings;
use crate::data::manager::DataManager;
use crate::data::source::BarSource;
use crate::data::store::BarStore;
use crate::hosts::ib::csv_provider::CsvProvider;
use crate::http::guard::{Guard, Role};
use crate::training::manager::TrainingManager;

/// Binds `host:port` (0 = any free port).
pub fn bind(host: &str, port: u16) -> io::Result<TcpListener> {
    TcpListener::bind((host, port))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {host}:{port}: {e}")))
}

/// Prints the first stdout line that scripts and tests wait for.
pub fn announce(addr: SocketAddr) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "listening on http://{addr}");
    let _ = out.flush();
}

/// A running backend.
pub struct Backend {
    pub addr: SocketAddr,
    pub tracker: Addr<ProgressTracker>,
    /// The open websockets.
    pub ws: Arc<crate::api::ws::WsRegistry>,
    /// How long in-flight work gets at shutdown (`server.shutdown_timeout_secs`).
    pub grace: Duration,
    pub handle: ServerHandle,
    /// The server's task; resolves when it stops.
    pub task: JoinHandle<io::Result<()>>,
}

impl Backend {
    /// Starts the backend on `listener`, spawned on the current actix system.
    pub fn start(settings: Settings, listener: TcpListener) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        let settings = Arc::new(settings);
        let ops = &settings.operations;
        std::fs::create_dir_all(&settings.paths.data_dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot create {}: {e}", settings.paths.data_dir.display()),
            )
        })?;
        let op_store = OperationStore::open(
            &ops.store_url(&settings.paths.data_dir),
            Identity::this_process(&ops.instance_name(&settings.paths.data_dir)),
        )
        .map_err(|e| io::Error::other(e.to_string()))?;
        tracing::info!(
            store = op_store.url(),
            instance = op_store.owner(),
            "operation store open"
        );
        let retention = Retention {
            count: ops.retention,
            days: ops.retention_days,
        };
        let tracker = ProgressTracker::with_store(op_store, retention).start();
        let store = BarStore::new(&settings.paths.data_dir);
        let guard = Guard::for_role(Role::Backend, addr, &settings.security)?;
        let host_token = settings.security.host_token()?;
        let host_client = |name: &str, service: &crate::config::HostServiceSettings| {
            let c = &settings.host_client;
            let mut config = HostClientConfig::new(name, &service.url);
            config.token = host_token.clone();
            let secs = if service.timeout_secs > 0 {
                service.timeout_secs
            } else {
                c.timeout_secs
            };
            config.timeout = Duration::from_secs(secs);
            config.max_retries = c.max_retries;
            config.connection_limit = c.connection_limit;
            HostClient::start(config)
        };
        let source = if settings.ib_host_service.enabled {
            BarSource::Host(host_client("IB host service", &settings.ib_host_service))
        } else if settings.data.provider == "ib" {
            // Direct mode: the IB Gateway provider in-process (pacing and reconnects included).
            BarSource::Local(Arc::new(crate::hosts::ib::gateway::GatewayProvider::start(
                crate::hosts::ib::gateway::GatewayConfig::from_settings(&settings.ib_gateway),
            )))
        } else {
            BarSource::Local(Arc::new(CsvProvider::new(
                &settings.data.csv_dir,
                Duration::ZERO,
            )))
        };
        let data = DataManager::new(
            tracker.clone(),
            store.clone(),
            source.clone(),
            settings.data.load_concurrency,
            settings.data.max_requests_per_load,
            settings.operations.timeout(),
        )
        .start();
        let training = TrainingManager::new(
            tracker.clone(),
            data.clone(),
            store.clone(),
            settings.paths.models_dir.clone(),
            settings
                .training_host_service
                .enabled
                .then(|| host_client("training host service", &settings.training_host_service)),
            settings.operations.timeout(),
        )
        .start();
        let ws = Arc::new(crate::api::ws::WsRegistry::default());
        let state = web::Data::new(AppState {
            limits: crate::api::limits::ClientLimits::new(
                settings.operations.max_active_per_client,
            ),
            ws: ws.clone(),
            tracker: tracker.clone(),
            data,
            training,
            store,
            source,
            settings: settings.clone(),
        });
        let server = HttpServer::new(move || {
            let g = Rc::new(guard.clone());
            App::new()
                .wrap(from_fn(move |req, next| {
                    crate::http::guard::guard(g.clone(), req, next)
                }))
                .app_data(state.clone())
                .configure(api::configure)
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .run();
        Ok(Self {
            addr,
            tracker,
            ws,
            grace: Duration::from_secs(settings.server.shutdown_timeout_secs.max(1)),
            handle: server.handle(),
            task: actix_web::rt::spawn(server),
        })
    }

    /// Cancels every running operation (recorded as cancelled by "server shutdown"), then
    /// stops the server.
    pub async fn shutdown(&self) {
        let cancelled = self
            .tracker
            .send(CancelAll {
                reason: "server shutdown".into(),
            })
            .await
            .unwrap_or(0);
        tracing::info!(cancelled, "shutting down");
        // Every change not yet written (progress, the cancels above) is in the store first.
        let _ = self.tracker.send(FlushStore).await;
        // Each stream ends after its last events with a close frame (1001), so no client
        // waits out the server's shutdown timeout for a dropped connection.
        let _ = self.tracker.send(CloseStreams).await;
        // Each stream closes itself after its last events; one whose client does not read
        // (its frames cannot go out) is closed after the server's grace period.
        let left = self.ws.close_all(self.grace).await;
        if left > 0 {
            tracing::warn!(left, "websockets still open after their close frame");
        }
        self.handle.stop(true).await;
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `ktrdr serve`: runs the backend until a signal, then shuts it down gracefully.
pub async fn serve(settings: Settings, host: &str, port: u16) -> io::Result<()> {
    let listener = bind(host, port)?;
    let mut backend = Backend::start(settings, listener)?;
    announce(backend.addr);
    tracing::info!(addr = %backend.addr, "backend started");
    let Backend { task, .. } = &mut backend;
    tokio::select! {
        res = task => return res.unwrap_or_else(|e| Err(io::Error::other(e))),
        _ = shutdown_signal() => {}
    }
    backend.shutdown().await;
    Ok(())
}

/// Spawns an app on `listener` in the current actix system (`workers` threads, no signal
/// handling, no guard: tests of an in-process host); returns the base URL and the server's
/// handle.
pub fn spawn_app<F>(
    listener: TcpListener,
    workers: usize,
    factory: F,
) -> io::Result<(String, ServerHandle)>
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    spawn_guarded_app(listener, workers, Guard::default(), factory)
}

/// [`spawn_app`] behind `guard` (token, `Host`, `Origin`, body types).
pub fn spawn_guarded_app<F>(
    listener: TcpListener,
    workers: usize,
    guard: Guard,
    factory: F,
) -> io::Result<(String, ServerHandle)>
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    let addr = listener.local_addr()?;
    let server = HttpServer::new(move || {
        let g = Rc::new(guard.clone());
        App::new()
            .wrap(from_fn(move |req, next| {
                crate::http::guard::guard(g.clone(), req, next)
            }))
            .configure(factory.clone())
    })
    // A client that hangs up (the backend cancelling a load) drops its handler at once, so
    // the provider's in-flight requests are cancelled (IB's cancel goes out) instead of
    // running to their time-out.
    .h1_allow_half_closed(false)
    .workers(workers)
    .listen(listener)?
    .disable_signals()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Ok((format!("http://{addr}"), handle))
}

/// Runs a host-service app until a signal.
pub async fn serve_app<F>(
    host: &str,
    port: u16,
    name: &str,
    guard: impl FnOnce(SocketAddr) -> io::Result<Guard>,
    factory: F,
) -> io::Result<()>
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    let listener = bind(host, port)?;
    let addr = listener.local_addr()?;
    let guard = guard(addr)?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (_, handle) = spawn_guarded_app(listener, workers, guard, factory)?;
    announce(addr);
    tracing::info!(%addr, "{name} started");
    shutdown_signal().await;
    handle.stop(true).await;
    Ok(())
}
