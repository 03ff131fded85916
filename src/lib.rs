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
//! - [`training`]: the training domain (libtorch through tch).
//! - [`cli`]: the command line.
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
