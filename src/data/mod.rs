//! The data domain: bar sizes and symbols, trading calendars, gap analysis, request segments,
//! validation, the local store, and the DataManager actor.

pub mod bars;
pub mod calendar;
pub mod csv;
pub mod gaps;
pub mod manager;
pub mod plan;
pub mod segments;
pub mod source;
pub mod store;
pub mod validation;
