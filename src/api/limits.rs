//! Per-client limits on operations running at once: a client (by its address) that already
//! runs `max_active` operations gets 429 for the next one, so no one client can fill the
//! backend with loads and trainings.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use actix::Addr;
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use ktrdr_actors::tracker::GetOperation;
use ktrdr_actors::{OperationId, ProgressTracker};
use serde_json::json;

use crate::http::error::ApiError;

/// The operations each client started that may still run.
#[derive(Debug, Default)]
pub struct ClientLimits {
    /// Most operations one client may run at once; 0: no limit.
    max_active: usize,
    started: Mutex<HashMap<IpAddr, Vec<OperationId>>>,
}

impl ClientLimits {
    pub fn new(max_active: usize) -> Self {
        Self {
            max_active,
            started: Mutex::default(),
        }
    }

    /// The client of `req`, if it may start one more operation (429 naming the limit if
    /// not). Its finished operations are forgotten first.
    pub async fn admit(
        &self,
        req: &HttpRequest,
        tracker: &Addr<ProgressTracker>,
    ) -> Result<Option<IpAddr>, ApiError> {
        let Some(ip) = req.peer_addr().map(|a| a.ip()) else {
            return Ok(None);
        };
        if self.max_active == 0 {
            return Ok(Some(ip));
        }
        let ids = self
            .started
            .lock()
            .expect("lock")
            .get(&ip)
            .cloned()
            .unwrap_or_default();
        let mut running = Vec::new();
        for id in ids {
            let record = tracker
                .send(GetOperation(id.clone()))
                .await
                .map_err(ApiError::mailbox("ProgressTracker"))?;
            if record.is_some_and(|r| !r.status.is_terminal()) {
                running.push(id);
            }
        }
        let count = running.len();
        self.started.lock().expect("lock").insert(ip, running);
        if count >= self.max_active {
            return Err(ApiError::Coded {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "TOO_MANY_OPERATIONS",
                message: format!(
                    "this client already runs {count} operations, the most it may run at once \
                     (KTRDR_MAX_ACTIVE_PER_CLIENT); wait for one to end or cancel one"
                ),
                details: json!({"running": count, "limit": self.max_active}),
            });
        }
        Ok(Some(ip))
    }

    /// Notes an operation the client started.
    pub fn started(&self, client: Option<IpAddr>, id: &OperationId) {
        if let (Some(ip), true) = (client, self.max_active > 0) {
            self.started
                .lock()
                .expect("lock")
                .entry(ip)
                .or_default()
                .push(id.clone());
        }
    }
}
