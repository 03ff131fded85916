//! Strategy YAML in KTRDR's v2 format, parsed and checked before any work starts.
//!
//! Parsing has two stages: serde (with the YAML path of a type mistake) into the raw shape, then
//! [`Strategy::validate`]-style checks into typed values, each failure naming its path
//! (`model.training.learning_rate: must be > 0`). Keys KTRDR files carry that ktrdr does not use
//! (`deployment`, `decisions`, `hypothesis`, ...) are accepted and ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_yaml::Value as Yaml;

use super::fuzzy::{FuzzyFeature, InputTransform, Membership};
use super::indicators::Indicator;
use crate::data::timeframe::{Symbol, Timeframe};

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

fn err(path: impl Into<String>, reason: impl Into<String>) -> StrategyError {
    StrategyError {
        path: path.into(),
        reason: reason.into(),
    }
}

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

// ---- the raw shape, as serde reads it ----

#[derive(Deserialize)]
struct Raw {
    name: String,
    #[serde(default)]
    description: Option<String>,
    training_data: RawTrainingData,
    indicators: Vec<RawIndicator>,
    fuzzy_sets: BTreeMap<String, BTreeMap<String, Yaml>>,
    model: ModelConfig,
    training: RawTraining,
}

#[derive(Deserialize)]
struct RawTrainingData {
    symbols: RawSymbols,
    timeframes: RawTimeframes,
}

#[derive(Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
enum RawSymbols {
    Single { symbol: String },
    MultiSymbol { list: Vec<String> },
}

#[derive(Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
enum RawTimeframes {
    Single {
        timeframe: String,
    },
    MultiTimeframe {
        list: Vec<String>,
        base_timeframe: Option<String>,
    },
}

#[derive(Deserialize)]
struct RawIndicator {
    name: String,
    feature_id: String,
    #[serde(flatten)]
    params: BTreeMap<String, Yaml>,
}

#[derive(Deserialize)]
struct RawTraining {
    labels: LabelConfig,
    #[serde(default)]
    data_split: DataSplit,
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
        check(raw)
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

/// The file for a strategy name in `dir`: `{dir}/{name}.yaml` (or `.yml`). The name must be
/// a plain name, so a request cannot reach outside the folder.
pub fn locate(dir: &Path, name: &str) -> Result<PathBuf, StrategyError> {
    let stem = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
        .unwrap_or(name);
    if !valid_name(stem) {
        return Err(err(
            "strategy_name",
            format!("invalid strategy name {name:?}: use letters, digits, '_' and '-'"),
        ));
    }
    for ext in ["yaml", "yml"] {
        let p = dir.join(format!("{stem}.{ext}"));
        if p.is_file() {
            return Ok(p);
        }
    }
    let known: Vec<String> = list(dir).into_iter().map(|(n, _)| n).collect();
    Err(err(
        "strategy_name",
        format!(
            "strategy not found: {stem} (in {}; available: {})",
            dir.display(),
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ),
    ))
}

/// The strategy files in `dir`: (name, path), sorted by name.
pub fn list(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let ext = p.extension()?.to_str()?;
            if ext != "yaml" && ext != "yml" {
                return None;
            }
            Some((p.file_stem()?.to_str()?.to_owned(), p))
        })
        .collect();
    out.sort();
    out
}

fn valid_name(s: &str) -> bool {
    (1..=100).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn finite(path: &str, v: f64) -> Result<f64, StrategyError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(err(path, "must be a finite number"))
    }
}

fn check(raw: Raw) -> Result<Strategy, StrategyError> {
    if !valid_name(&raw.name) {
        return Err(err("name", "must be 1-100 letters, digits, '_' or '-'"));
    }
    let symbols = match raw.training_data.symbols {
        RawSymbols::Single { symbol } => vec![(symbol, "training_data.symbols.symbol".to_owned())],
        RawSymbols::MultiSymbol { list } => list
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s, format!("training_data.symbols.list[{i}]")))
            .collect(),
    };
    if symbols.is_empty() {
        return Err(err(
            "training_data.symbols.list",
            "must name at least one symbol",
        ));
    }
    let symbols = symbols
        .into_iter()
        .map(|(s, p)| s.parse::<Symbol>().map_err(|e| err(p, e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let tf = |s: &str, p: String| s.parse::<Timeframe>().map_err(|e| err(p, e.to_string()));
    let (timeframes, base_timeframe) = match raw.training_data.timeframes {
        RawTimeframes::Single { timeframe } => {
            let t = tf(&timeframe, "training_data.timeframes.timeframe".into())?;
            (vec![t], t)
        }
        RawTimeframes::MultiTimeframe {
            list,
            base_timeframe,
        } => {
            let list = list
                .iter()
                .enumerate()
                .map(|(i, s)| tf(s, format!("training_data.timeframes.list[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            let Some(first) = list.iter().min_by_key(|t| t.duration()).copied() else {
                return Err(err(
                    "training_data.timeframes.list",
                    "must name at least one timeframe",
                ));
            };
            let base = match base_timeframe {
                Some(b) => tf(&b, "training_data.timeframes.base_timeframe".into())?,
                None => first,
            };
            if !list.contains(&base) {
                return Err(err(
                    "training_data.timeframes.base_timeframe",
                    format!("{base} is not in the list"),
                ));
            }
            (list, base)
        }
    };

    if raw.indicators.is_empty() {
        return Err(err("indicators", "must list at least one indicator"));
    }
    let mut indicators = Vec::with_capacity(raw.indicators.len());
    for (i, ind) in raw.indicators.into_iter().enumerate() {
        let path = format!("indicators[{i}]");
        if !ind
            .feature_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || ind.feature_id.is_empty()
        {
            return Err(err(
                format!("{path}.feature_id"),
                "must be letters, digits and '_'",
            ));
        }
        if indicators
            .iter()
            .any(|x: &Indicator| x.feature_id == ind.feature_id)
        {
            return Err(err(
                format!("{path}.feature_id"),
                format!("duplicate feature_id {:?}", ind.feature_id),
            ));
        }
        indicators.push(Indicator::from_params(
            &ind.name,
            &ind.feature_id,
            &ind.params,
            &path,
        )?);
    }

    if raw.fuzzy_sets.is_empty() {
        return Err(err("fuzzy_sets", "must define at least one fuzzy feature"));
    }
    let mut fuzzy = Vec::new();
    for (key, sets) in raw.fuzzy_sets {
        let path = format!("fuzzy_sets.{key}");
        let outputs: Vec<String> = indicators.iter().flat_map(|i| i.output_names()).collect();
        if !outputs.contains(&key) {
            return Err(err(
                path,
                format!(
                    "no indicator output named {key:?} (outputs: {})",
                    outputs.join(", ")
                ),
            ));
        }
        fuzzy.push(parse_fuzzy(&key, sets, &path)?);
    }

    let m = &raw.model;
    if m.architecture.hidden_layers.is_empty() {
        return Err(err(
            "model.architecture.hidden_layers",
            "must list at least one layer size",
        ));
    }
    for (i, &n) in m.architecture.hidden_layers.iter().enumerate() {
        if !(1..=65_536).contains(&n) {
            return Err(err(
                format!("model.architecture.hidden_layers[{i}]"),
                "must be between 1 and 65536",
            ));
        }
    }
    let dropout = finite("model.architecture.dropout", m.architecture.dropout)?;
    if !(0.0..1.0).contains(&dropout) {
        return Err(err("model.architecture.dropout", "must be in [0, 1)"));
    }
    if m.features.lookback_periods > 100 {
        return Err(err(
            "model.features.lookback_periods",
            "must be at most 100",
        ));
    }
    let t = &m.training;
    if finite("model.training.learning_rate", t.learning_rate)? <= 0.0 {
        return Err(err("model.training.learning_rate", "must be > 0"));
    }
    if finite("model.training.weight_decay", t.weight_decay)? < 0.0 {
        return Err(err("model.training.weight_decay", "must be >= 0"));
    }
    if t.batch_size == 0 || t.batch_size > 1 << 20 {
        return Err(err(
            "model.training.batch_size",
            "must be between 1 and 1048576",
        ));
    }
    if t.epochs == 0 || t.epochs > 100_000 {
        return Err(err("model.training.epochs", "must be between 1 and 100000"));
    }
    if let Some(es) = &t.early_stopping {
        if es.patience == 0 {
            return Err(err(
                "model.training.early_stopping.patience",
                "must be >= 1",
            ));
        }
        if finite("model.training.early_stopping.min_delta", es.min_delta)? < 0.0 {
            return Err(err(
                "model.training.early_stopping.min_delta",
                "must be >= 0",
            ));
        }
    }

    let labels = raw.training.labels;
    if labels.source != "zigzag" {
        return Err(err(
            "training.labels.source",
            format!(
                "unknown label source {:?} (supported: zigzag)",
                labels.source
            ),
        ));
    }
    let th = finite("training.labels.zigzag_threshold", labels.zigzag_threshold)?;
    if !(th > 0.0 && th < 1.0) {
        return Err(err(
            "training.labels.zigzag_threshold",
            "must be a fraction in (0, 1), e.g. 0.05 for 5%",
        ));
    }
    if labels.label_lookahead == 0 {
        return Err(err("training.labels.label_lookahead", "must be >= 1"));
    }
    let split = raw.training.data_split;
    for (name, v) in [
        ("train", split.train),
        ("validation", split.validation),
        ("test", split.test),
    ] {
        let v = finite(&format!("training.data_split.{name}"), v)?;
        if !(0.0..=1.0).contains(&v) {
            return Err(err(
                format!("training.data_split.{name}"),
                "must be in [0, 1]",
            ));
        }
    }
    if split.train <= 0.0 {
        return Err(err("training.data_split.train", "must be > 0"));
    }
    let sum = split.train + split.validation + split.test;
    if (sum - 1.0).abs() > 1e-6 {
        return Err(err(
            "training.data_split",
            format!("train + validation + test must be 1 (is {sum})"),
        ));
    }

    Ok(Strategy {
        name: raw.name,
        description: raw.description,
        symbols,
        timeframes,
        base_timeframe,
        indicators,
        fuzzy,
        model: raw.model,
        labels,
        split,
    })
}

fn parse_fuzzy(
    key: &str,
    sets: BTreeMap<String, Yaml>,
    path: &str,
) -> Result<FuzzyFeature, StrategyError> {
    let mut transform = None;
    let mut out = Vec::new();
    for (name, value) in sets {
        let p = format!("{path}.{name}");
        if name == "input_transform" {
            transform = Some(parse_transform(value, &p)?);
            continue;
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
            return Err(err(p, "set names must be letters, digits and '_'"));
        }
        out.push((name, parse_membership(value, &p)?));
    }
    if out.is_empty() {
        return Err(err(path, "must define at least one fuzzy set"));
    }
    Ok(FuzzyFeature {
        key: key.to_owned(),
        transform,
        sets: out,
    })
}

fn parse_transform(v: Yaml, path: &str) -> Result<InputTransform, StrategyError> {
    #[derive(Deserialize)]
    struct T {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default = "close")]
        reference: String,
    }
    fn close() -> String {
        "close".into()
    }
    let t: T = serde_yaml::from_value(v).map_err(|e| err(path, e.to_string()))?;
    if t.kind != "price_ratio" {
        return Err(err(
            format!("{path}.type"),
            format!(
                "unknown input transform {:?} (supported: price_ratio)",
                t.kind
            ),
        ));
    }
    if !["open", "high", "low", "close"].contains(&t.reference.as_str()) {
        return Err(err(
            format!("{path}.reference"),
            "must be open, high, low or close",
        ));
    }
    Ok(InputTransform::PriceRatio {
        reference: t.reference,
    })
}

fn parse_membership(v: Yaml, path: &str) -> Result<Membership, StrategyError> {
    // `{type: triangular, parameters: [a, b, c]}`, or the bare list (3 = triangular,
    // 4 = trapezoidal).
    let (kind, params, ppath) = match v {
        Yaml::Sequence(_) => {
            let params: Vec<f64> =
                serde_yaml::from_value(v).map_err(|e| err(path, e.to_string()))?;
            let kind = match params.len() {
                3 => "triangular",
                4 => "trapezoidal",
                _ => {
                    return Err(err(
                        path,
                        "a bare list needs 3 (triangular) or 4 (trapezoidal) numbers",
                    ))
                }
            };
            (kind.to_owned(), params, path.to_owned())
        }
        Yaml::Mapping(_) => {
            #[derive(Deserialize)]
            struct M {
                #[serde(rename = "type")]
                kind: String,
                parameters: Vec<f64>,
            }
            let m: M = serde_yaml::from_value(v).map_err(|e| err(path, e.to_string()))?;
            (m.kind, m.parameters, format!("{path}.parameters"))
        }
        _ => {
            return Err(err(
                path,
                "expected {type, parameters} or a list of numbers",
            ))
        }
    };
    for (i, p) in params.iter().enumerate() {
        finite(&format!("{ppath}[{i}]"), *p)?;
    }
    let sorted = params.windows(2).all(|w| w[0] <= w[1]);
    let m = match (kind.as_str(), params.as_slice()) {
        ("triangular", &[a, b, c]) if sorted && a < c => Membership::Triangular(a, b, c),
        ("triangular", [_, _, _]) => {
            return Err(err(ppath, "triangular needs a <= b <= c with a < c"))
        }
        ("trapezoidal", &[a, b, c, d]) if sorted && a < d => Membership::Trapezoidal(a, b, c, d),
        ("trapezoidal", [_, _, _, _]) => {
            return Err(err(ppath, "trapezoidal needs a <= b <= c <= d with a < d"))
        }
        ("gaussian", &[mu, sigma]) if sigma > 0.0 => Membership::Gaussian(mu, sigma),
        ("gaussian", [_, _]) => {
            return Err(err(ppath, "gaussian needs [mu, sigma] with sigma > 0"))
        }
        ("triangular" | "trapezoidal" | "gaussian", p) => {
            let want = match kind.as_str() {
                "triangular" => 3,
                "trapezoidal" => 4,
                _ => 2,
            };
            return Err(err(
                ppath,
                format!("{kind} needs {want} parameters, got {}", p.len()),
            ));
        }
        (other, _) => {
            return Err(err(
                format!("{path}.type"),
                format!(
                    "unknown membership {other:?} (supported: triangular, trapezoidal, gaussian)"
                ),
            ))
        }
    };
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config/strategies/neuro_mean_reversion.yaml"),
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
