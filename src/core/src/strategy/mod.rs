//! Strategy YAML in KTRDR's v2 format, parsed and checked before any work starts.
//!
//! Parsing has two stages: serde (with the YAML path of a type mistake) into the raw shape, then
//! [`Strategy::validate`]-style checks into typed values, each failure naming its path
//! (`model.training.learning_rate: must be > 0`). Keys KTRDR files carry that ktrdr does not use
//! (`deployment`, `decisions`, `hypothesis`, ...) are accepted and ignored.
//!
//! The types are here; [`raw`] is the shape serde reads, [`check`] turns it into the types,
//! [`lookup`] finds strategy files by name.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub(crate) mod check;
mod lookup;
mod raw;

pub use lookup::{list, load, locate, StrategyFile, StrategyFileError};
use raw::Raw;

use crate::fuzzy::FuzzyFeature;
use crate::indicator::Indicator;
use crate::timeframe::{Symbol, Timeframe};

use crate::error::err;
pub use crate::error::StrategyError;

/// A checked strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Strategy {
    pub name: String,
    pub description: Option<String>,
    pub symbols: Vec<Symbol>,
    pub timeframes: Vec<Timeframe>,
    /// The timeframe the samples are taken on (labels come from its closes).
    pub base_timeframe: Timeframe,
    pub indicators: Vec<Indicator>,
    /// Features in a fixed order (sorted by key).
    pub fuzzy: Vec<FuzzyFeature>,
    pub model: ModelConfig,
    pub labels: LabelConfig,
    pub split: DataSplit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Tanh,
    Sigmoid,
    LeakyRelu,
    Gelu,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    Adam,
    Sgd,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    pub hidden_layers: Vec<i64>,
    #[serde(default = "relu")]
    pub activation: Activation,
    #[serde(default)]
    pub dropout: f64,
}

fn relu() -> Activation {
    Activation::Relu
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// How many earlier bars' features are added (`_lag_1` .. `_lag_N`).
    #[serde(default)]
    pub lookback_periods: usize,
    #[serde(default = "yes")]
    pub scale_features: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            lookback_periods: 0,
            scale_features: true,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "ten")]
    pub patience: usize,
    #[serde(default)]
    pub min_delta: f64,
}

fn ten() -> usize {
    10
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingParams {
    #[serde(default = "lr")]
    pub learning_rate: f64,
    #[serde(default = "batch")]
    pub batch_size: usize,
    #[serde(default = "epochs")]
    pub epochs: usize,
    #[serde(default = "adam")]
    pub optimizer: OptimizerKind,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub early_stopping: Option<EarlyStopping>,
}

fn lr() -> f64 {
    0.001
}
fn batch() -> usize {
    32
}
fn epochs() -> usize {
    100
}
fn adam() -> OptimizerKind {
    OptimizerKind::Adam
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub architecture: Architecture,
    #[serde(default)]
    pub features: FeatureConfig,
    pub training: TrainingParams,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelConfig {
    #[serde(default = "zigzag")]
    pub source: String,
    pub zigzag_threshold: f64,
    pub label_lookahead: usize,
}

fn zigzag() -> String {
    "zigzag".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DataSplit {
    pub train: f64,
    pub validation: f64,
    pub test: f64,
}

impl Default for DataSplit {
    fn default() -> Self {
        Self {
            train: 0.7,
            validation: 0.15,
            test: 0.15,
        }
    }
}

impl Strategy {
    /// Parses and checks a strategy's YAML text.
    pub fn from_yaml(text: &str) -> Result<Self, StrategyError> {
        let de = serde_yaml::Deserializer::from_str(text);
        let raw: Raw = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let reason = e.into_inner().to_string();
            // serde_yaml appends " at line L column C"; the path says where already, but the
            // line helps in a long file, so it stays.
            err(if path == "." { String::new() } else { path }, reason)
        })?;
        check::check(raw)
    }

    /// Reads and checks a strategy file.
    pub fn from_file(path: &Path) -> Result<Self, StrategyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err("", format!("cannot read {}: {e}", path.display())))?;
        Self::from_yaml(&text)
    }

    /// The strategy with the symbols and timeframes of a request instead of its own (either
    /// may be empty: the strategy's are kept). The base timeframe stays when it is still in
    /// the list, else becomes the shortest one.
    pub fn with_scope(
        mut self,
        symbols: Vec<Symbol>,
        timeframes: Vec<Timeframe>,
    ) -> Result<Self, StrategyError> {
        if !symbols.is_empty() {
            self.symbols = symbols;
        }
        if !timeframes.is_empty() {
            if !timeframes.contains(&self.base_timeframe) {
                self.base_timeframe = *timeframes
                    .iter()
                    .min_by_key(|t| t.duration())
                    .expect("not empty");
            }
            self.timeframes = timeframes;
        }
        Ok(self)
    }

    /// Names of the feature columns the model reads, in order.
    pub fn feature_names(&self) -> Vec<String> {
        let mut base = Vec::new();
        for tf in &self.timeframes {
            for f in &self.fuzzy {
                for (set, _) in &f.sets {
                    base.push(self.column_name(*tf, &format!("{}_{set}", f.key)));
                }
            }
        }
        let mut names = base.clone();
        for lag in 1..=self.model.features.lookback_periods {
            names.extend(base.iter().map(|n| format!("{n}_lag_{lag}")));
        }
        names
    }

    /// A column's name: plain on a single timeframe, prefixed by the timeframe otherwise.
    pub fn column_name(&self, tf: Timeframe, name: &str) -> String {
        if self.timeframes.len() == 1 {
            name.to_owned()
        } else {
            format!("{tf}_{name}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzzy::InputTransform;

    fn example() -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../config/strategies/neuro_mean_reversion.yaml"),
        )
        .unwrap()
    }

    #[test]
    fn the_example_strategy_parses() {
        let s = Strategy::from_yaml(&example()).unwrap();
        assert_eq!(s.name, "neuro_mean_reversion");
        assert_eq!(s.symbols, vec!["GOOG".parse::<Symbol>().unwrap()]);
        assert_eq!(s.timeframes, vec![Timeframe::D1]);
        assert_eq!(s.indicators.len(), 3);
        // 3 features x 3 sets, plus two lags of each.
        let names = s.feature_names();
        assert_eq!(names.len(), 27);
        assert_eq!(names[0], "roc_10_falling");
        assert!(names.contains(&"rsi_14_oversold_lag_2".to_owned()));
        assert_eq!(
            s.fuzzy
                .iter()
                .find(|f| f.key == "sma_20")
                .unwrap()
                .transform,
            Some(InputTransform::PriceRatio {
                reference: "close".into()
            })
        );
    }

    /// Each kind of mistake fails with the YAML path and a reason.
    #[test]
    fn mistakes_name_their_path() {
        let base = example();
        let cases: &[(&str, &str, &str)] = &[
            ("name: neuro_mean_reversion", "name: 'no spaces'", "name"),
            ("scope: universal", "scope: everywhere", "scope"),
            (
                "    symbol: GOOG",
                "    symbol: 'GO OG'",
                "training_data.symbols.symbol",
            ),
            (
                "    mode: single\n    symbol",
                "    mode: several\n    symbol",
                "training_data.symbols.mode",
            ),
            (
                "    timeframe: 1d\n  history",
                "    timeframe: 7d\n  history",
                "training_data.timeframes.timeframe",
            ),
            ("  - name: roc", "  - name: vwapp", "indicators[2].name"),
            ("    period: 14", "    perod: 14", "indicators[0].perod"),
            ("    period: 20", "    period: -3", "indicators[1].period"),
            (
                "[0, 20, 40]",
                "[40, 20, 0]",
                "fuzzy_sets.rsi_14.oversold.parameters",
            ),
            ("[-6, 4]", "[-6, 0]", "fuzzy_sets.roc_10.falling.parameters"),
            (
                "type: gaussian, parameters: [0, 2]",
                "type: bell, parameters: [0, 2]",
                "fuzzy_sets.roc_10.flat.type",
            ),
            ("  roc_10:\n", "  roc_11:\n", "fuzzy_sets.roc_11"),
            (
                "type: price_ratio",
                "type: log_ratio",
                "fuzzy_sets.sma_20.input_transform.type",
            ),
            (
                "hidden_layers: [32, 16]",
                "hidden_layers: []",
                "model.architecture.hidden_layers",
            ),
            (
                "activation: relu",
                "activation: swish",
                "model.architecture.activation",
            ),
            ("dropout: 0.3", "dropout: 1.5", "model.architecture.dropout"),
            (
                "learning_rate: 0.0003",
                "learning_rate: 0",
                "model.training.learning_rate",
            ),
            (
                "batch_size: 32",
                "batch_size: lots",
                "model.training.batch_size",
            ),
            (
                "optimizer: adam",
                "optimizer: rmsprop",
                "model.training.optimizer",
            ),
            (
                "patience: 15",
                "patience: 0",
                "model.training.early_stopping.patience",
            ),
            (
                "zigzag_threshold: 0.05",
                "zigzag_threshold: 5",
                "training.labels.zigzag_threshold",
            ),
            (
                "label_lookahead: 20",
                "label_lookahead: 0",
                "training.labels.label_lookahead",
            ),
            ("source: zigzag", "source: oracle", "training.labels.source"),
            ("test: 0.15", "test: 0.25", "training.data_split"),
        ];
        for (from, to, path) in cases {
            assert!(base.contains(from), "fixture lacks {from:?}");
            let text = base.replacen(from, to, 1);
            let e = Strategy::from_yaml(&text).expect_err(to);
            assert_eq!(&e.path, path, "{to:?}: {e}");
            assert!(!e.reason.is_empty());
        }
        // A missing section and a document that is not a mapping.
        let e = Strategy::from_yaml(&base.replace("training_data:", "training_dat:")).unwrap_err();
        assert!(e.to_string().contains("training_data"), "{e}");
        assert!(Strategy::from_yaml("- a\n- b\n").is_err());
        assert!(Strategy::from_yaml("name: [unclosed").is_err());
    }

    #[test]
    fn strategy_names_cannot_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "x").unwrap();
        assert_eq!(locate(dir.path(), "a").unwrap(), dir.path().join("a.yaml"));
        assert_eq!(
            locate(dir.path(), "a.yaml").unwrap(),
            dir.path().join("a.yaml")
        );
        assert!(locate(dir.path(), "../a").is_err());
        let e = locate(dir.path(), "nope").unwrap_err();
        assert!(e.reason.contains("available: a"), "{e}");
    }

    #[test]
    fn a_request_can_narrow_the_scope() {
        let s = Strategy::from_yaml(&example()).unwrap();
        let s = s
            .with_scope(vec!["AAPL".parse().unwrap()], vec![Timeframe::H1])
            .unwrap();
        assert_eq!(s.base_timeframe, Timeframe::H1);
        assert_eq!(s.symbols[0].as_str(), "AAPL");
    }
}
