//! The data domain: trading calendars, gap analysis, load plans, request segments,
//! validation, the local store, the bar-provider port, and the DataManager actor. (Symbols,
//! timeframes and load modes are `ktrdr_core` types.)

pub mod calendar;
pub mod csv;
pub mod gap_report;
pub mod gaps;
pub mod manager;
pub mod plan;
pub mod provider;
pub mod segments;
pub mod source;
pub mod store;
pub mod validation;
