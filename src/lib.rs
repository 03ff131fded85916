//! ktrdr: market data and neuro-fuzzy model training backend, an actix actor system.
//!
//! # Layout
//! - [`config`]: settings from `config/default.toml` and the environment.
//! - [`api`]: actix-web routes under `/api/v1`, websocket sessions, error -> HTTP mapping.
//! - [`server`]: binding, the `listening on` line, graceful shutdown.
//! - [`operations`]: KTRDR's operation metadata shape, shared by the domains.
//! - [`dummy`]: the reference operation (timed steps with progress).
//! - [`data`]: bars, calendars, gap analysis, segments, validation, the store, the DataManager.
//! - [`hosts`]: the IB host and training host services.
//! - [`training`]: strategy YAML, indicators, fuzzy sets, features, labels, the MLP (tch),
//!   model folders, the TrainingManager.
//! - [`cli`]: the client verbs (the `ktrdr` binary compiles them without this library, so it
//!   links no libtorch: see `src/main.rs`).
//! - [`launcher`]: the server roles as `ktrdr-server` runs them.
//!
//! The generic operations machinery (tracker, operation actors, host-service client) is the
//! `ktrdr-actors` crate in `actors/`.

pub mod api;
pub mod cli;
pub mod config;
pub mod data;
pub mod dummy;
pub mod hosts;
pub mod launcher;
pub mod operations;
pub mod server;
pub mod training;
