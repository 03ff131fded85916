//! HTTP helpers shared by the backend's API and the host services (a neutral module: it is
//! neither the API layer nor a host): the one JSON error shape and the only place errors
//! become HTTP statuses ([`error`]), and JSON bodies and fields checked with the field named
//! ([`json`]), and who may drive a server: token, `Host`, `Origin`, CORS, body types
//! ([`guard`]).

pub mod error;
pub mod guard;
pub mod json;
