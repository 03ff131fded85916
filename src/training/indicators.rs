//! Technical indicators on polars frames of bars (`open high low close volume`).
//!
//! Each indicator reads its input columns from the frame and adds its outputs as `f64`
//! columns: the primary output under the indicator's `feature_id`, others under
//! `feature_id.output` (`macd.signal`, `bb.upper`). Warm-up rows are NaN. The arithmetic lives
//! in plain slice functions below (one pass each), which the tests check against hand-computed
//! values; the formulas are the usual ones (pandas' `ewm(span, adjust=False)` for EMA, Wilder's
//! smoothing for RSI and ATR, sample standard deviation for Bollinger Bands).

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Serialize;
use serde_yaml::Value as Yaml;

use super::strategy::StrategyError;

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

    /// Computes the outputs from `frame`'s columns.
    pub fn compute(&self, frame: &DataFrame) -> PolarsResult<Vec<Column>> {
        let col = |name: &str| -> PolarsResult<Vec<f64>> {
            let c = frame.column(name)?.cast(&DataType::Float64)?;
            Ok(c.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        };
        let values: Vec<Vec<f64>> = match self.kind {
            IndicatorKind::Sma { period, source } => vec![sma(&col(source.column())?, period)],
            IndicatorKind::Ema { period, source } => vec![ema(&col(source.column())?, period)],
            IndicatorKind::Rsi { period, source } => vec![rsi(&col(source.column())?, period)],
            IndicatorKind::Macd {
                fast_period,
                slow_period,
                signal_period,
                source,
            } => {
                let (line, signal, hist) = macd(
                    &col(source.column())?,
                    fast_period,
                    slow_period,
                    signal_period,
                );
                vec![line, signal, hist]
            }
            IndicatorKind::BollingerBands {
                period,
                multiplier,
                source,
            } => {
                let b = bollinger(&col(source.column())?, period, multiplier);
                vec![b.middle, b.upper, b.lower, b.width]
            }
            IndicatorKind::Atr { period } => {
                vec![atr(&col("high")?, &col("low")?, &col("close")?, period)]
            }
            IndicatorKind::Stochastic {
                k_period,
                d_period,
                smooth_k,
            } => {
                let (k, d) = stochastic(
                    &col("high")?,
                    &col("low")?,
                    &col("close")?,
                    k_period,
                    smooth_k,
                    d_period,
                );
                vec![k, d]
            }
            IndicatorKind::Roc { period, source } => vec![roc(&col(source.column())?, period)],
            IndicatorKind::Momentum { period, source } => {
                vec![momentum(&col(source.column())?, period)]
            }
            IndicatorKind::VolumeSma { period } => vec![sma(&col("volume")?, period)],
        };
        Ok(self
            .output_names()
            .into_iter()
            .zip(values)
            .map(|(name, v)| Column::new(name.into(), v))
            .collect())
    }
}

/// Adds every indicator's outputs to `frame`.
pub fn add_indicators(frame: &DataFrame, indicators: &[Indicator]) -> PolarsResult<DataFrame> {
    let mut out = frame.clone();
    for ind in indicators {
        for c in ind.compute(frame)? {
            out.with_column(c)?;
        }
    }
    Ok(out)
}

// ---- the arithmetic ----

/// Simple moving average; NaN until `n` values are in the window. A NaN input poisons the
/// windows that contain it (no silent skipping).
pub fn sma(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut sum = 0.0;
    let mut nans = 0usize;
    for i in 0..x.len() {
        if x[i].is_nan() {
            nans += 1;
        } else {
            sum += x[i];
        }
        if i >= n {
            if x[i - n].is_nan() {
                nans -= 1;
            } else {
                sum -= x[i - n];
            }
        }
        if i + 1 >= n && nans == 0 {
            out[i] = sum / n as f64;
        }
    }
    out
}

/// Exponential moving average as pandas' `ewm(span=n, adjust=False)`: alpha = 2/(n+1),
/// starting at the first non-NaN value.
pub fn ema(x: &[f64], n: usize) -> Vec<f64> {
    ewm(x, 2.0 / (n as f64 + 1.0))
}

fn ewm(x: &[f64], alpha: f64) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut prev: Option<f64> = None;
    for (i, &v) in x.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        let e = match prev {
            None => v,
            Some(p) => alpha * v + (1.0 - alpha) * p,
        };
        out[i] = e;
        prev = Some(e);
    }
    out
}

/// Wilder's smoothing: the first value is the mean of the first `n` inputs, then
/// `(prev * (n - 1) + x) / n`. `x[..start]` are skipped (warm-up of the input).
fn wilder(x: &[f64], n: usize, start: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    if x.len() < start + n {
        return out;
    }
    let mut avg = x[start..start + n].iter().sum::<f64>() / n as f64;
    out[start + n - 1] = avg;
    for i in start + n..x.len() {
        avg = (avg * (n as f64 - 1.0) + x[i]) / n as f64;
        out[i] = avg;
    }
    out
}

/// Relative strength index (Wilder). 100 when there were no losses, 50 when nothing moved.
pub fn rsi(x: &[f64], n: usize) -> Vec<f64> {
    let len = x.len();
    let mut gains = vec![0.0; len];
    let mut losses = vec![0.0; len];
    for i in 1..len {
        let d = x[i] - x[i - 1];
        gains[i] = d.max(0.0);
        losses[i] = (-d).max(0.0);
    }
    let g = wilder(&gains, n, 1);
    let l = wilder(&losses, n, 1);
    g.iter()
        .zip(&l)
        .map(|(&g, &l)| {
            if g.is_nan() || l.is_nan() {
                f64::NAN
            } else if l == 0.0 {
                if g == 0.0 {
                    50.0
                } else {
                    100.0
                }
            } else {
                100.0 - 100.0 / (1.0 + g / l)
            }
        })
        .collect()
}

/// MACD line (EMA fast - EMA slow), its signal line (EMA of the line) and the histogram.
pub fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let f = ema(x, fast);
    let s = ema(x, slow);
    let line: Vec<f64> = f.iter().zip(&s).map(|(a, b)| a - b).collect();
    let sig = ema(&line, signal);
    let hist = line.iter().zip(&sig).map(|(a, b)| a - b).collect();
    (line, sig, hist)
}

pub struct Bands {
    pub middle: Vec<f64>,
    pub upper: Vec<f64>,
    pub lower: Vec<f64>,
    /// (upper - lower) / middle.
    pub width: Vec<f64>,
}

/// Bollinger Bands: SMA(n) ± k · sample standard deviation over the same window.
pub fn bollinger(x: &[f64], n: usize, k: f64) -> Bands {
    let middle = sma(x, n);
    let len = x.len();
    let (mut upper, mut lower, mut width) = (
        vec![f64::NAN; len],
        vec![f64::NAN; len],
        vec![f64::NAN; len],
    );
    for i in 0..len {
        let m = middle[i];
        if m.is_nan() {
            continue;
        }
        let w = &x[i + 1 - n..=i];
        let var = if n > 1 {
            w.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        let sd = var.sqrt();
        upper[i] = m + k * sd;
        lower[i] = m - k * sd;
        width[i] = if m != 0.0 {
            (upper[i] - lower[i]) / m
        } else {
            f64::NAN
        };
    }
    Bands {
        middle,
        upper,
        lower,
        width,
    }
}

/// Average true range (Wilder). The first bar's true range is its high - low.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    let tr: Vec<f64> = (0..high.len())
        .map(|i| {
            let hl = high[i] - low[i];
            if i == 0 {
                hl
            } else {
                hl.max((high[i] - close[i - 1]).abs())
                    .max((low[i] - close[i - 1]).abs())
            }
        })
        .collect();
    wilder(&tr, n, 0)
}

/// Stochastic oscillator: raw %K over `k` bars, smoothed by an SMA of `smooth`; %D is the SMA of
/// %K over `d`. A flat window (high == low) gives 50.
pub fn stochastic(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k: usize,
    smooth: usize,
    d: usize,
) -> (Vec<f64>, Vec<f64>) {
    let len = close.len();
    let mut raw = vec![f64::NAN; len];
    for i in (k.max(1) - 1)..len {
        let hh = high[i + 1 - k..=i].iter().cloned().fold(f64::MIN, f64::max);
        let ll = low[i + 1 - k..=i].iter().cloned().fold(f64::MAX, f64::min);
        raw[i] = if hh > ll {
            100.0 * (close[i] - ll) / (hh - ll)
        } else {
            50.0
        };
    }
    let kk = sma(&raw, smooth);
    let dd = sma(&kk, d);
    (kk, dd)
}

/// Rate of change in percent over `n` bars.
pub fn roc(x: &[f64], n: usize) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            if i < n || x[i - n] == 0.0 {
                f64::NAN
            } else {
                100.0 * (x[i] - x[i - n]) / x[i - n]
            }
        })
        .collect()
}

/// Momentum: the change over `n` bars.
pub fn momentum(x: &[f64], n: usize) -> Vec<f64> {
    (0..x.len())
        .map(|i| if i < n { f64::NAN } else { x[i] - x[i - n] })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-9,
                "at {i}: {x} != {y} ({a:?} vs {b:?})"
            );
        }
    }
    const N: f64 = f64::NAN;

    #[test]
    fn sma_by_hand() {
        close(&sma(&[1.0, 2.0, 3.0, 4.0, 5.0], 3), &[N, N, 2.0, 3.0, 4.0]);
        // A NaN in the window gives NaN until it leaves the window.
        close(&sma(&[1.0, N, 3.0, 4.0, 5.0], 2), &[N, N, N, 3.5, 4.5]);
    }

    #[test]
    fn ema_by_hand() {
        // span 3: alpha 0.5. 1, 0.5*2+0.5*1 = 1.5, 0.5*3+0.5*1.5 = 2.25, 0.5*4+0.5*2.25 = 3.125
        close(&ema(&[1.0, 2.0, 3.0, 4.0], 3), &[1.0, 1.5, 2.25, 3.125]);
    }

    #[test]
    fn rsi_by_hand() {
        // changes: +1, -1, +2, +1 ; n = 2
        // first avg gain = (1 + 0)/2 = 0.5, avg loss = (0 + 1)/2 = 0.5 -> RSI 50 at index 2
        // next: gain (0.5*1 + 2)/2 = 1.25, loss (0.5*1 + 0)/2 = 0.25 -> RS 5 -> 83.333..
        // next: gain (1.25 + 1)/2 = 1.125, loss 0.125 -> RS 9 -> 90
        let got = rsi(&[10.0, 11.0, 10.0, 12.0, 13.0], 2);
        close(&got, &[N, N, 50.0, 100.0 - 100.0 / 6.0, 90.0]);
        // Only gains: 100. Flat: 50.
        assert_eq!(rsi(&[1.0, 2.0, 3.0, 4.0], 2)[3], 100.0);
        assert_eq!(rsi(&[1.0, 1.0, 1.0], 2)[2], 50.0);
    }

    #[test]
    fn macd_from_its_emas() {
        let x: Vec<f64> = (0..40)
            .map(|i| (i as f64 * 0.3).sin() * 10.0 + 50.0)
            .collect();
        let (line, sig, hist) = macd(&x, 3, 6, 4);
        let (f, s) = (ema(&x, 3), ema(&x, 6));
        for i in 0..x.len() {
            assert!((line[i] - (f[i] - s[i])).abs() < 1e-12);
            assert!((hist[i] - (line[i] - sig[i])).abs() < 1e-12);
        }
        // The signal is the EMA of the line, checked by its recurrence with alpha 2/5.
        for i in 1..x.len() {
            assert!((sig[i] - (0.4 * line[i] + 0.6 * sig[i - 1])).abs() < 1e-12);
        }
    }

    #[test]
    fn bollinger_by_hand() {
        // window [1, 2, 3]: mean 2, sample sd 1 -> 2 ± 2
        let b = bollinger(&[1.0, 2.0, 3.0, 5.0], 3, 2.0);
        close(&b.middle, &[N, N, 2.0, 10.0 / 3.0]);
        close(&b.upper[..3], &[N, N, 4.0]);
        close(&b.lower[..3], &[N, N, 0.0]);
        close(&b.width[..3], &[N, N, 2.0]);
        // window [2, 3, 5]: mean 10/3, var = ((4/3)^2 + (1/3)^2 + (5/3)^2)/2 = 7/3
        let sd = (7.0f64 / 3.0).sqrt();
        assert!((b.upper[3] - (10.0 / 3.0 + 2.0 * sd)).abs() < 1e-12);
    }

    #[test]
    fn atr_by_hand() {
        let h = [10.0, 12.0, 11.0, 15.0];
        let l = [8.0, 9.0, 9.0, 12.0];
        let c = [9.0, 11.0, 10.0, 14.0];
        // TR: 2, max(3, 3, 0) = 3, max(2, 0, 2) = 2, max(3, 5, 2) = 5
        // n=2: first ATR at 1 = 2.5, then (2.5 + 2)/2 = 2.25, (2.25 + 5)/2 = 3.625
        close(&atr(&h, &l, &c, 2), &[N, 2.5, 2.25, 3.625]);
    }

    #[test]
    fn stochastic_by_hand() {
        let h = [10.0, 12.0, 11.0, 15.0];
        let l = [8.0, 9.0, 9.0, 12.0];
        let c = [9.0, 11.0, 10.0, 14.0];
        // k=2 raw: i1: hh 12 ll 8 -> 75; i2: hh 12 ll 9 -> 33.33; i3: hh 15 ll 9 -> 83.33
        let (k, d) = stochastic(&h, &l, &c, 2, 1, 2);
        close(&k, &[N, 75.0, 100.0 / 3.0, 250.0 / 3.0]);
        close(
            &d,
            &[
                N,
                N,
                (75.0 + 100.0 / 3.0) / 2.0,
                (100.0 / 3.0 + 250.0 / 3.0) / 2.0,
            ],
        );
    }

    #[test]
    fn roc_and_momentum_by_hand() {
        close(&roc(&[10.0, 11.0, 12.1], 1), &[N, 10.0, 10.0]);
        close(&momentum(&[10.0, 11.0, 13.0], 2), &[N, N, 3.0]);
    }

    #[test]
    fn frame_outputs_are_named_by_feature_id() {
        let df = df!(
            "open" => [1.0, 2.0, 3.0, 4.0],
            "high" => [1.5, 2.5, 3.5, 4.5],
            "low" => [0.5, 1.5, 2.5, 3.5],
            "close" => [1.0, 2.0, 3.0, 4.0],
            "volume" => [100.0, 200.0, 300.0, 400.0],
        )
        .unwrap();
        let mut params = BTreeMap::new();
        params.insert("period".into(), Yaml::from(2));
        let sma = Indicator::from_params("SMA", "sma_2", &params, "indicators[0]").unwrap();
        let macd = Indicator::from_params("macd", "m", &BTreeMap::new(), "i").unwrap();
        let out = add_indicators(&df, &[sma, macd]).unwrap();
        let got: Vec<f64> = out
            .column("sma_2")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        close(&got, &[N, 1.5, 2.5, 3.5]);
        for c in ["m", "m.signal", "m.histogram"] {
            assert!(out.column(c).is_ok(), "missing {c}");
        }
    }

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
}
