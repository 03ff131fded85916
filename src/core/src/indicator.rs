//! Indicator specs as strategies name them: which indicator, its parameters (with the
//! original's defaults and checks) and the names of the columns it adds. The computation
//! lives with the training domain (`ktrdr::training::indicators`), which this crate does not
//! reach: no polars here.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_yaml::Value as Yaml;

use crate::error::StrategyError;

/// Every name (and alias) a strategy may give an indicator.
pub const INDICATOR_NAMES: &[&str] = &[
    "sma",
    "simple_moving_average",
    "ema",
    "exponential_moving_average",
    "rsi",
    "macd",
    "bbands",
    "bollinger_bands",
    "bollingerbands",
    "atr",
    "stochastic",
    "stoch",
    "roc",
    "rate_of_change",
    "momentum",
    "volume_sma",
];

/// Which price column an indicator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl Source {
    pub fn column(self) -> &'static str {
        match self {
            Source::Open => "open",
            Source::High => "high",
            Source::Low => "low",
            Source::Close => "close",
            Source::Volume => "volume",
        }
    }
}

/// An indicator and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IndicatorKind {
    Sma {
        period: usize,
        source: Source,
    },
    Ema {
        period: usize,
        source: Source,
    },
    Rsi {
        period: usize,
        source: Source,
    },
    Macd {
        fast_period: usize,
        slow_period: usize,
        signal_period: usize,
        source: Source,
    },
    BollingerBands {
        period: usize,
        multiplier: f64,
        source: Source,
    },
    Atr {
        period: usize,
    },
    Stochastic {
        k_period: usize,
        d_period: usize,
        smooth_k: usize,
    },
    Roc {
        period: usize,
        source: Source,
    },
    Momentum {
        period: usize,
        source: Source,
    },
    VolumeSma {
        period: usize,
    },
}

/// One configured indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    pub feature_id: String,
    pub kind: IndicatorKind,
}

/// Reads an indicator's parameters, refusing unknown names.
struct Params<'a> {
    map: &'a BTreeMap<String, Yaml>,
    path: &'a str,
    known: Vec<&'static str>,
}

impl Params<'_> {
    fn period(&mut self, name: &'static str, default: usize) -> Result<usize, StrategyError> {
        self.known.push(name);
        match self.map.get(name) {
            None => Ok(default),
            Some(v) => match v.as_u64() {
                Some(n) if (1..=10_000).contains(&n) => Ok(n as usize),
                _ => Err(self.error(name, "must be an integer between 1 and 10000")),
            },
        }
    }

    fn number(&mut self, name: &'static str, default: f64) -> Result<f64, StrategyError> {
        self.known.push(name);
        match self.map.get(name) {
            None => Ok(default),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && x > 0.0 => Ok(x),
                _ => Err(self.error(name, "must be a number > 0")),
            },
        }
    }

    fn source(&mut self) -> Result<Source, StrategyError> {
        self.known.push("source");
        match self.map.get("source").map(|v| v.as_str()) {
            None => Ok(Source::Close),
            Some(Some("open")) => Ok(Source::Open),
            Some(Some("high")) => Ok(Source::High),
            Some(Some("low")) => Ok(Source::Low),
            Some(Some("close")) => Ok(Source::Close),
            Some(Some("volume")) => Ok(Source::Volume),
            Some(_) => Err(self.error("source", "must be open, high, low, close or volume")),
        }
    }

    fn error(&self, name: &str, reason: &str) -> StrategyError {
        StrategyError {
            path: format!("{}.{name}", self.path),
            reason: reason.to_owned(),
        }
    }

    /// Fails on a parameter the indicator does not take (a typo would otherwise be ignored).
    fn finish(self, indicator: &str) -> Result<(), StrategyError> {
        match self.map.keys().find(|k| !self.known.contains(&k.as_str())) {
            Some(k) => Err(self.error(
                k,
                &format!(
                    "unknown parameter for {indicator} (it takes: {})",
                    self.known.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }
}

impl Indicator {
    /// Builds an indicator from its YAML entry (`name` and parameters).
    pub fn from_params(
        name: &str,
        feature_id: &str,
        params: &BTreeMap<String, Yaml>,
        path: &str,
    ) -> Result<Self, StrategyError> {
        let mut p = Params {
            map: params,
            path,
            known: Vec::new(),
        };
        let lower = name.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "sma" | "simple_moving_average" => IndicatorKind::Sma {
                period: p.period("period", 20)?,
                source: p.source()?,
            },
            "ema" | "exponential_moving_average" => IndicatorKind::Ema {
                period: p.period("period", 20)?,
                source: p.source()?,
            },
            "rsi" => IndicatorKind::Rsi {
                period: p.period("period", 14)?,
                source: p.source()?,
            },
            "macd" => {
                let fast_period = p.period("fast_period", 12)?;
                let slow_period = p.period("slow_period", 26)?;
                if fast_period >= slow_period {
                    return Err(p.error("fast_period", "must be less than slow_period"));
                }
                IndicatorKind::Macd {
                    fast_period,
                    slow_period,
                    signal_period: p.period("signal_period", 9)?,
                    source: p.source()?,
                }
            }
            "bbands" | "bollinger_bands" | "bollingerbands" => IndicatorKind::BollingerBands {
                period: p.period("period", 20)?,
                multiplier: p.number("multiplier", 2.0)?,
                source: p.source()?,
            },
            "atr" => IndicatorKind::Atr {
                period: p.period("period", 14)?,
            },
            "stochastic" | "stoch" => IndicatorKind::Stochastic {
                k_period: p.period("k_period", 14)?,
                d_period: p.period("d_period", 3)?,
                smooth_k: p.period("smooth_k", 3)?,
            },
            "roc" | "rate_of_change" => IndicatorKind::Roc {
                period: p.period("period", 10)?,
                source: p.source()?,
            },
            "momentum" => IndicatorKind::Momentum {
                period: p.period("period", 10)?,
                source: p.source()?,
            },
            "volume_sma" => IndicatorKind::VolumeSma {
                period: p.period("period", 20)?,
            },
            other => {
                return Err(StrategyError {
                    path: format!("{path}.name"),
                    reason: format!(
                        "unknown indicator {other:?} (supported: sma, ema, rsi, macd, \
                         bollinger_bands, atr, stochastic, roc, momentum, volume_sma)"
                    ),
                })
            }
        };
        p.finish(&lower)?;
        Ok(Self {
            feature_id: feature_id.to_owned(),
            kind,
        })
    }

    /// The names of the columns this indicator adds; the first is the primary output.
    pub fn output_names(&self) -> Vec<String> {
        let id = &self.feature_id;
        let extra: &[&str] = match self.kind {
            IndicatorKind::Macd { .. } => &["signal", "histogram"],
            IndicatorKind::BollingerBands { .. } => &["upper", "lower", "width"],
            IndicatorKind::Stochastic { .. } => &["d"],
            _ => &[],
        };
        std::iter::once(id.clone())
            .chain(extra.iter().map(|e| format!("{id}.{e}")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_mistakes_name_their_path() {
        let mut params = BTreeMap::new();
        params.insert("perod".into(), Yaml::from(14));
        let e = Indicator::from_params("rsi", "r", &params, "indicators[1]").unwrap_err();
        assert_eq!(e.path, "indicators[1].perod");
        params.clear();
        params.insert("period".into(), Yaml::from(0));
        let e = Indicator::from_params("rsi", "r", &params, "indicators[1]").unwrap_err();
        assert_eq!(e.path, "indicators[1].period");
        let e = Indicator::from_params("nope", "r", &BTreeMap::new(), "indicators[2]").unwrap_err();
        assert_eq!(e.path, "indicators[2].name");
    }

    /// Every listed name builds an indicator with its defaults; a name not listed does not.
    #[test]
    fn listed_names_are_the_known_ones() {
        for name in INDICATOR_NAMES {
            assert!(
                Indicator::from_params(name, "x", &BTreeMap::new(), "i").is_ok(),
                "{name}"
            );
        }
        assert!(Indicator::from_params("vwap", "x", &BTreeMap::new(), "i").is_err());
    }
}
