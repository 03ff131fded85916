//! From the raw shape to a checked [`Strategy`]: every value checked, every failure naming
//! its YAML path.

use std::collections::BTreeMap;

use serde_yaml::Value as Yaml;

use super::lookup::valid_name;
use super::raw::*;
use super::*;
use crate::fuzzy::{FuzzyFeature, InputTransform, Membership};
use crate::indicator::Indicator;

fn finite(path: &str, v: f64) -> Result<f64, StrategyError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(err(path, "must be a finite number"))
    }
}

/// Checks the raw shape step by step; the first mistake ends it, named by its YAML path.
pub(super) fn check(raw: Raw) -> Result<Strategy, StrategyError> {
    if !valid_name(&raw.name) {
        return Err(err("name", "must be 1-100 letters, digits, '_' or '-'"));
    }
    if let Some(scope) = &raw.scope {
        if scope != "universal" && scope != "symbol_specific" {
            return Err(err(
                "scope",
                format!("unknown scope {scope:?} (universal or symbol_specific)"),
            ));
        }
    }
    let symbols = check_symbols(raw.training_data.symbols)?;
    let (timeframes, base_timeframe) = check_timeframes(raw.training_data.timeframes)?;
    let indicators = check_indicators(raw.indicators)?;
    let fuzzy = check_fuzzy(raw.fuzzy_sets, &indicators)?;
    check_model(&raw.model)?;
    let labels = raw.training.labels;
    check_labels(&labels)?;
    let split = raw.training.data_split;
    check_split(&split)?;
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

/// `training_data.symbols`: one symbol or a list.
fn check_symbols(raw: RawSymbols) -> Result<Vec<Symbol>, StrategyError> {
    let symbols = match raw {
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
    symbols
        .into_iter()
        .map(|(s, p)| s.parse::<Symbol>().map_err(|e| err(p, e.to_string())))
        .collect::<Result<Vec<_>, _>>()
}

/// `training_data.timeframes`: one, or a list with its base (the shortest by default).
fn check_timeframes(raw: RawTimeframes) -> Result<(Vec<Timeframe>, Timeframe), StrategyError> {
    let tf = |s: &str, p: String| s.parse::<Timeframe>().map_err(|e| err(p, e.to_string()));
    match raw {
        RawTimeframes::Single { timeframe } => {
            let t = tf(&timeframe, "training_data.timeframes.timeframe".into())?;
            Ok((vec![t], t))
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
            Ok((list, base))
        }
    }
}

/// `indicators`: each a known indicator with valid parameters and a unique feature id.
fn check_indicators(raw: Vec<RawIndicator>) -> Result<Vec<Indicator>, StrategyError> {
    if raw.is_empty() {
        return Err(err("indicators", "must list at least one indicator"));
    }
    let mut indicators = Vec::with_capacity(raw.len());
    for (i, ind) in raw.into_iter().enumerate() {
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
    Ok(indicators)
}

/// `fuzzy_sets`: each keyed by an output of the indicators.
fn check_fuzzy(
    raw: BTreeMap<String, BTreeMap<String, Yaml>>,
    indicators: &[Indicator],
) -> Result<Vec<FuzzyFeature>, StrategyError> {
    if raw.is_empty() {
        return Err(err("fuzzy_sets", "must define at least one fuzzy feature"));
    }
    let mut fuzzy = Vec::new();
    for (key, sets) in raw {
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
    Ok(fuzzy)
}

/// `model`: architecture, features and training parameters in range.
fn check_model(m: &ModelConfig) -> Result<(), StrategyError> {
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
    Ok(())
}

/// `training.labels`: zigzag with a threshold in (0, 1) and a lookahead.
fn check_labels(labels: &LabelConfig) -> Result<(), StrategyError> {
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
    Ok(())
}

/// `training.data_split`: fractions in [0, 1] that add up to 1.
fn check_split(split: &DataSplit) -> Result<(), StrategyError> {
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
    Ok(())
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

pub(crate) fn parse_membership(v: Yaml, path: &str) -> Result<Membership, StrategyError> {
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
