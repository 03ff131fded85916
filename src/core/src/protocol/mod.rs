//! The host services' wire protocols: request and answer types for every route, used by the
//! host that serves it and by the backend's client of it, so both ends cannot drift apart.

pub mod ib;
pub mod training;
