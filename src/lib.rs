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
//! - [`http`]: the JSON error shape and checked JSON bodies, shared by the API and the hosts.
//! - [`training`]: strategy YAML, indicators, fuzzy sets, features, labels, the MLP (tch),
//!   model folders, the TrainingManager.
//! - [`launcher`]: the server roles as `ktrdr-server` runs them.
//!
//! The workspace's other packages:
//! - `ktrdr-actors` (`actors/`): the generic operations machinery (tracker, operation actors,
//!   host-service client), domain-free.
//! - `ktrdr-core` (`src/core/`): value types (symbols, timeframes, load modes), the strategy
//!   spec and the indicator and fuzzy specs; no polars, no tch.
//! - `ktrdr-cli` (`src/cli/`): the command line, from which the light `ktrdr` binary is built.

pub mod api;
pub mod config;
pub mod data;
pub mod dummy;
pub mod hosts;
pub mod http;
pub mod launcher;
pub mod operations;
pub mod server;
pub mod training;
