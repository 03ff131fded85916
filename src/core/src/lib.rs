//! ktrdr-core: what the client, the backend and the host services share, with no polars and
//! no tch (the light `ktrdr` client builds on it and nothing heavier).
//!
//! - [`bars`]: OHLCV bars in columns.
//! - [`timeframe`]: bar sizes and symbols.
//! - [`mode`]: data-load modes (`local`, `tail`, `backfill`, `full`).
//! - [`strategy`]: KTRDR's v2 strategy YAML, checked with YAML paths in its errors.
//! - [`indicator`]: indicator specs (names, parameters, output columns).
//! - [`fuzzy`]: fuzzy-set specs and memberships.
//! - [`ib`]: IB value types shared by settings and the IB adapter.
//! - [`protocol`]: the host services' request and answer types, shared by both ends.

pub mod bars;
pub mod error;
pub mod fuzzy;
pub mod ib;
pub mod indicator;
pub mod mode;
pub mod protocol;
pub mod strategy;
pub mod timeframe;
