//! The load modes (`local tail backfill full`); apart from the gap analysis so that the `ktrdr`
//! client binary can check a mode without the rest of the data path.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a load decides what to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadMode {
    /// The store only; nothing is fetched.
    Local,
    /// From the last stored bar to the end.
    Tail,
    /// From the start to the first stored bar.
    Backfill,
    /// Everything missing in the range, internal gaps included.
    Full,
}

/// A mode outside the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid mode {0:?}: expected one of local, tail, backfill, full")]
pub struct LoadModeError(pub String);

impl FromStr for LoadMode {
    type Err = LoadModeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" => Ok(Self::Local),
            "tail" => Ok(Self::Tail),
            "backfill" => Ok(Self::Backfill),
            "full" => Ok(Self::Full),
            _ => Err(LoadModeError(s.to_owned())),
        }
    }
}

impl fmt::Display for LoadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Local => "local",
            Self::Tail => "tail",
            Self::Backfill => "backfill",
            Self::Full => "full",
        })
    }
}
