//! Fuzzy membership functions: how much a value belongs to "oversold", "neutral", ...

use serde::Serialize;

use crate::error::StrategyError;

/// A membership function; values are in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "type", content = "parameters", rename_all = "snake_case")]
pub enum Membership {
    /// Rises from `a` to 1 at `b`, falls to 0 at `c`.
    Triangular(f64, f64, f64),
    /// Rises from `a` to 1 at `b`, 1 until `c`, falls to 0 at `d`.
    Trapezoidal(f64, f64, f64, f64),
    /// exp(-(x - mu)^2 / (2 sigma^2)).
    Gaussian(f64, f64),
}

impl Membership {
    /// The degree of membership of `x`; NaN stays NaN (warm-up rows are dropped later).
    pub fn eval(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        match *self {
            Membership::Triangular(a, b, c) => {
                if x < a || x > c {
                    0.0
                } else if x <= b {
                    if b == a {
                        1.0
                    } else {
                        (x - a) / (b - a)
                    }
                } else if c == b {
                    1.0
                } else {
                    (c - x) / (c - b)
                }
            }
            Membership::Trapezoidal(a, b, c, d) => {
                if x < a || x > d {
                    0.0
                } else if x < b {
                    (x - a) / (b - a)
                } else if x <= c {
                    1.0
                } else {
                    (d - x) / (d - c)
                }
            }
            Membership::Gaussian(mu, sigma) => (-(x - mu).powi(2) / (2.0 * sigma * sigma)).exp(),
        }
    }
}

/// How the indicator value is turned into the fuzzified input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputTransform {
    /// `reference / indicator` (e.g. close / SMA: above 1 means the price is above its average).
    PriceRatio { reference: String },
}

/// The fuzzy sets of one indicator output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FuzzyFeature {
    /// The indicator output (`rsi_14`, `macd.histogram`).
    pub key: String,
    pub transform: Option<InputTransform>,
    /// (set name, function), in order.
    pub sets: Vec<(String, Membership)>,
}

impl FuzzyFeature {
    /// The input after the transform: `value`, or `reference / value`.
    pub fn input(&self, value: f64, reference: impl Fn(&str) -> f64) -> f64 {
        match &self.transform {
            None => value,
            Some(InputTransform::PriceRatio { reference: r }) => {
                if value == 0.0 {
                    f64::NAN
                } else {
                    reference(r) / value
                }
            }
        }
    }
}

/// Named fuzzy sets for one indicator, in file order.
pub type SetTable = Vec<(String, Membership)>;

/// Parses a table of fuzzy sets by indicator (`rsi: {oversold: {type, parameters}, ...}`), as
/// the fuzzy routes' defaults file writes it; a mistake names its path.
pub fn parse_set_tables(yaml: &str) -> Result<Vec<(String, SetTable)>, StrategyError> {
    let doc: serde_yaml::Mapping = serde_yaml::from_str(yaml).map_err(|e| StrategyError {
        path: String::new(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (k, v) in doc {
        let key = k.as_str().unwrap_or_default().to_owned();
        let serde_yaml::Value::Mapping(sets) = v else {
            return Err(StrategyError {
                path: key,
                reason: "expected a map of fuzzy sets".into(),
            });
        };
        let mut table = Vec::new();
        for (name, m) in sets {
            let name = name.as_str().unwrap_or_default().to_owned();
            let path = format!("{key}.{name}");
            table.push((name, crate::strategy::check::parse_membership(m, &path)?));
        }
        out.push((key, table));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triangular_by_hand() {
        let m = Membership::Triangular(0.0, 20.0, 40.0);
        assert_eq!(m.eval(-1.0), 0.0);
        assert_eq!(m.eval(0.0), 0.0);
        assert_eq!(m.eval(10.0), 0.5);
        assert_eq!(m.eval(20.0), 1.0);
        assert_eq!(m.eval(35.0), 0.25);
        assert_eq!(m.eval(40.0), 0.0);
        assert_eq!(m.eval(41.0), 0.0);
        // A shoulder: a == b is 1 at the left edge.
        assert_eq!(Membership::Triangular(0.0, 0.0, 10.0).eval(0.0), 1.0);
        assert!(m.eval(f64::NAN).is_nan());
    }

    #[test]
    fn trapezoidal_by_hand() {
        let m = Membership::Trapezoidal(0.0, 10.0, 20.0, 40.0);
        assert_eq!(m.eval(5.0), 0.5);
        assert_eq!(m.eval(10.0), 1.0);
        assert_eq!(m.eval(15.0), 1.0);
        assert_eq!(m.eval(30.0), 0.5);
        assert_eq!(m.eval(40.0), 0.0);
        assert_eq!(m.eval(50.0), 0.0);
    }

    #[test]
    fn gaussian_by_hand() {
        let m = Membership::Gaussian(50.0, 10.0);
        assert_eq!(m.eval(50.0), 1.0);
        assert!((m.eval(60.0) - (-0.5f64).exp()).abs() < 1e-15);
        assert!((m.eval(40.0) - m.eval(60.0)).abs() < 1e-15);
    }

    #[test]
    fn price_ratio_divides_the_reference_by_the_indicator() {
        let f = FuzzyFeature {
            key: "sma_20".into(),
            transform: Some(InputTransform::PriceRatio {
                reference: "close".into(),
            }),
            sets: vec![],
        };
        assert_eq!(
            f.input(100.0, |r| if r == "close" { 110.0 } else { 0.0 }),
            1.1
        );
        assert!(f.input(0.0, |_| 1.0).is_nan());
    }
}
