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

/// The operations each client started that may still run, and the starts under way.
#[derive(Debug, Default)]
pub struct ClientLimits {
    /// Most operations one client may run at once; 0: no limit.
    max_active: usize,
    clients: Mutex<HashMap<IpAddr, Client>>,
}

#[derive(Debug, Default)]
struct Client {
    started: Vec<OperationId>,
    /// Admitted, not started yet (a slot each, so parallel requests cannot all pass).
    pending: usize,
}

/// A slot taken by [`ClientLimits::admit`]: [`ClientLimits::started`] turns it into the
/// operation; dropped without that (the start failed), it is given back.
#[derive(Debug)]
pub struct Admission<'a> {
    limits: &'a ClientLimits,
    client: Option<IpAddr>,
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if let Some(ip) = self.client.take() {
            if let Some(c) = self.limits.clients.lock().expect("lock").get_mut(&ip) {
                c.pending = c.pending.saturating_sub(1);
            }
        }
    }
}

impl ClientLimits {
    pub fn new(max_active: usize) -> Self {
        Self {
            max_active,
            clients: Mutex::default(),
        }
    }

    /// A slot for one more operation of the client of `req` (429 naming the limit when it
    /// runs its most already). Its finished operations are forgotten first.
    pub async fn admit(
        &self,
        req: &HttpRequest,
        tracker: &Addr<ProgressTracker>,
    ) -> Result<Admission<'_>, ApiError> {
        let ip = match req.peer_addr().map(|a| a.ip()) {
            Some(ip) if self.max_active > 0 => ip,
            _ => {
                return Ok(Admission {
                    limits: self,
                    client: None,
                })
            }
        };
        let ids = self
            .clients
            .lock()
            .expect("lock")
            .get(&ip)
            .map(|c| c.started.clone())
            .unwrap_or_default();
        let mut finished = Vec::new();
        for id in ids {
            let record = tracker
                .send(GetOperation(id.clone()))
                .await
                .map_err(ApiError::mailbox("ProgressTracker"))?;
            if record.is_none_or(|r| r.status.is_terminal()) {
                finished.push(id);
            }
        }
        let mut clients = self.clients.lock().expect("lock");
        let c = clients.entry(ip).or_default();
        c.started.retain(|id| !finished.contains(id));
        let count = c.started.len() + c.pending;
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
        c.pending += 1;
        Ok(Admission {
            limits: self,
            client: Some(ip),
        })
    }

    /// The admitted start made operation `id`.
    pub fn started(&self, mut slot: Admission<'_>, id: &OperationId) {
        if let Some(ip) = slot.client.take() {
            let mut clients = self.clients.lock().expect("lock");
            let c = clients.entry(ip).or_default();
            c.pending = c.pending.saturating_sub(1);
            c.started.push(id.clone());
        }
    }
}
