//! The error of a strategy file (and of the specs inside it): the YAML path and the reason.
//! Its own module so that the strategy and the indicator specs both use it without importing
//! each other.

use std::fmt;

/// Why a strategy cannot be used: the YAML path and the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct StrategyError {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for StrategyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() || self.path == "." {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

pub(crate) fn err(path: impl Into<String>, reason: impl Into<String>) -> StrategyError {
    StrategyError {
        path: path.into(),
        reason: reason.into(),
    }
}
