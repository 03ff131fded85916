//! Interactive Brokers value types that settings and the IB adapter share: which prices a
//! historical request asks for, and per-symbol contract overrides from config.

use serde::{Deserialize, Serialize};

/// Which prices a historical request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WhatToShow {
    Trades,
    Midpoint,
    Bid,
    Ask,
    /// IB's crypto volume (PAXOS).
    Aggtrades,
}

/// A per-symbol override from config (`[ib_gateway.symbols.SYMBOL]`); fields left out keep
/// the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractOverride {
    /// `stock`, `forex` or `crypto`.
    pub kind: Option<String>,
    pub exchange: Option<String>,
    pub currency: Option<String>,
    pub what_to_show: Option<WhatToShow>,
}
