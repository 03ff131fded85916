//! `ktrdr ib-host`: serves historical bars from a provider. So far only its health endpoint;
//! the providers and data endpoints come with the data path.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use serde_json::json;

/// Routes of the IB host service.
pub fn configure(cfg: &mut web::ServiceConfig, started: Instant) {
    cfg.route(
        "/health",
        web::get().to(move || async move {
            HttpResponse::Ok().json(json!({
                "status": "healthy",
                "service": "ib-host",
                "uptime_seconds": started.elapsed().as_secs_f64(),
            }))
        }),
    );
}
