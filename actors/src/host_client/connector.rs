//! A TCP connector that counts the connections it opens, so the client's statistics can tell
//! opened connections from reused ones.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_service::Service;

/// Wraps a connector service and counts its calls (connection attempts).
#[derive(Clone)]
pub struct CountingConnector<S> {
    pub inner: S,
    pub opened: Arc<AtomicU64>,
}

impl<S, Req> Service<Req> for CountingConnector<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    actix_service::forward_ready!(inner);

    fn call(&self, req: Req) -> Self::Future {
        self.opened.fetch_add(1, Ordering::Relaxed);
        self.inner.call(req)
    }
}
