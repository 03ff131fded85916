//! The REST API under `/api/v1` and its websocket streams. Handlers are thin: extract and
//! validate, send one message, map the answer. Status codes are decided in
//! [`crate::http::error`] alone.

pub mod data;
pub mod dummy;
pub mod fuzzy;
pub mod gaps;
pub mod health;
pub mod ib;
pub mod indicators;
pub mod limits;
pub mod operations;
pub mod strategies;
pub mod training;
pub mod ws;

use std::sync::Arc;

use actix::Addr;
use actix_web::web;
use ktrdr_actors::ProgressTracker;

use crate::config::Settings;
use crate::data::manager::DataManager;
use crate::data::source::BarSource;
use crate::data::store::BarStore;
use crate::http::error::ApiError;
use crate::training::manager::TrainingManager;

/// What every handler can reach.
pub struct AppState {
    pub tracker: Addr<ProgressTracker>,
    pub data: Addr<DataManager>,
    pub training: Addr<TrainingManager>,
    /// The local bar store, read directly (off the arbiter) by the data routes.
    pub store: BarStore,
    /// Where loads get bars (the IB host service or an in-process provider), for `/ib/...`.
    pub source: BarSource,
    pub settings: Arc<Settings>,
    /// The open websockets (closed first on shutdown).
    pub ws: Arc<ws::WsRegistry>,
    /// Operations each client runs at once.
    pub limits: limits::ClientLimits,
}

/// Mounts every route under `/api/v1`, with envelope errors for bad queries, paths and
/// unknown routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::QueryConfig::default()
            .error_handler(|err, _| ApiError::field("query", err.to_string()).into()),
    )
    .app_data(
        web::PathConfig::default()
            .error_handler(|err, _| ApiError::field("path", err.to_string()).into()),
    )
    .service(
        web::scope("/api/v1")
            .configure(health::configure)
            .configure(operations::configure)
            .configure(ws::configure)
            .configure(dummy::configure)
            .configure(data::configure)
            .configure(training::configure)
            .configure(strategies::configure)
            .configure(gaps::configure)
            .configure(ib::configure)
            .configure(indicators::configure)
            .configure(fuzzy::configure),
    )
    .default_service(web::to(|req: actix_web::HttpRequest| async move {
        Err::<actix_web::HttpResponse, _>(ApiError::NotFound(format!(
            "No route for {} {}",
            req.method(),
            req.path()
        )))
    }));
}
