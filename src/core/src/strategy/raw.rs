//! The raw shape of a strategy file, as serde reads it (types checked, values not yet).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml::Value as Yaml;

use super::*;

#[derive(Deserialize)]
pub(super) struct Raw {
    pub(super) name: String,
    #[serde(default)]
    pub(super) description: Option<String>,
    /// KTRDR's v2 `scope` (`universal` or `symbol_specific`); optional here.
    #[serde(default)]
    pub(super) scope: Option<String>,
    pub(super) training_data: RawTrainingData,
    pub(super) indicators: Vec<RawIndicator>,
    pub(super) fuzzy_sets: BTreeMap<String, BTreeMap<String, Yaml>>,
    pub(super) model: ModelConfig,
    pub(super) training: RawTraining,
}

#[derive(Deserialize)]
pub(super) struct RawTrainingData {
    pub(super) symbols: RawSymbols,
    pub(super) timeframes: RawTimeframes,
}

#[derive(Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub(super) enum RawSymbols {
    Single { symbol: String },
    MultiSymbol { list: Vec<String> },
}

#[derive(Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub(super) enum RawTimeframes {
    Single {
        timeframe: String,
    },
    MultiTimeframe {
        list: Vec<String>,
        base_timeframe: Option<String>,
    },
}

#[derive(Deserialize)]
pub(super) struct RawIndicator {
    pub(super) name: String,
    pub(super) feature_id: String,
    #[serde(flatten)]
    pub(super) params: BTreeMap<String, Yaml>,
}

#[derive(Deserialize)]
pub(super) struct RawTraining {
    pub(super) labels: LabelConfig,
    #[serde(default)]
    pub(super) data_split: DataSplit,
}
