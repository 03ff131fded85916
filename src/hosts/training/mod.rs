//! `ktrdr training-host`: runs training sessions for a remote backend. So far its health
//! endpoint, which reports the device libtorch trains on.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::training::device;

/// Routes of the training host service.
pub fn configure(cfg: &mut web::ServiceConfig, started: Instant) {
    cfg.route(
        "/health",
        web::get().to(move || async move {
            let mut body = json!({
                "status": "healthy",
                "service": "training-host",
                "uptime_seconds": started.elapsed().as_secs_f64(),
                "active_sessions": 0,
            });
            if let (Value::Object(b), Value::Object(d)) = (&mut body, device::describe()) {
                b.extend(d);
            }
            HttpResponse::Ok().json(body)
        }),
    );
}
