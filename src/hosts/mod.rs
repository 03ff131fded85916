//! The two host-service servers: the IB host (historical bars) and the training host.

pub mod ib;
pub mod training;
