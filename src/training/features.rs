//! From bars to a labelled sample matrix: indicators -> fuzzy memberships -> other timeframes
//! aligned onto the base one -> lags -> zigzag labels -> chronological split -> scaling.
//!
//! Samples are the base timeframe's bars. A higher timeframe's bar is used by a base bar only
//! once it has closed (its start + length <= the base bar's close), so no sample sees the
//! future. Each symbol is split chronologically on its own (train, then validation, then test)
//! and the parts are concatenated, so no symbol's test rows precede its training rows.

use std::collections::BTreeMap;

use polars::prelude::PolarsError;
use serde::{Deserialize, Serialize};

use super::indicators::add_indicators;
use super::labels;
use crate::data::store::to_frame;
use ktrdr_core::bars::Bars;
use ktrdr_core::strategy::Strategy;
use ktrdr_core::timeframe::{Symbol, Timeframe};

/// Samples in rows of `cols` f32 values, with their labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    pub x: Vec<f32>,
    pub y: Vec<i64>,
    pub cols: usize,
    /// Bar start (ms) of each sample's base bar.
    pub time: Vec<i64>,
}

impl Samples {
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    fn extend(&mut self, other: &Samples) {
        self.x.extend_from_slice(&other.x);
        self.y.extend_from_slice(&other.y);
        self.time.extend_from_slice(&other.time);
    }

    fn slice(&self, from: usize, to: usize) -> Samples {
        Samples {
            x: self.x[from * self.cols..to * self.cols].to_vec(),
            y: self.y[from..to].to_vec(),
            cols: self.cols,
            time: self.time[from..to].to_vec(),
        }
    }

    /// How many samples of each class (BUY, HOLD, SELL).
    pub fn class_counts(&self) -> [usize; 3] {
        let mut c = [0; 3];
        for &y in &self.y {
            c[y as usize] += 1;
        }
        c
    }
}

/// Standardisation fitted on the training rows; stored with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Scaler {
    pub fn fit(s: &Samples) -> Self {
        let (n, cols) = (s.rows().max(1) as f64, s.cols);
        let mut mean = vec![0.0; cols];
        for row in s.x.chunks(cols) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += *v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; cols];
        for row in s.x.chunks(cols) {
            for ((acc, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *acc += (*v as f64 - m).powi(2);
            }
        }
        // A constant column keeps std 1 (it is only centred).
        let std = var
            .into_iter()
            .map(|v| {
                let sd = (v / n).sqrt();
                if sd > 1e-12 {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        Self { mean, std }
    }

    pub fn apply(&self, x: &mut [f32]) {
        let cols = self.mean.len();
        for row in x.chunks_mut(cols) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = ((*v as f64 - m) / s) as f32;
            }
        }
    }
}

/// The prepared data of a training run.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub feature_names: Vec<String>,
    pub train: Samples,
    pub validation: Samples,
    pub test: Samples,
    pub scaler: Option<Scaler>,
    /// Base-timeframe bars read, over all symbols.
    pub total_bars: usize,
}

/// Why features could not be made from the bars given.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// The indicator or fuzzy frame work failed.
    #[error("computing indicators: {0}")]
    Frame(#[from] PolarsError),
    /// The strategy needs a series the run was not given.
    #[error("no {symbol} {timeframe} data was given")]
    MissingSeries {
        symbol: Symbol,
        timeframe: Timeframe,
    },
    /// A series is empty in the run's range.
    #[error("no {symbol} {timeframe} data in the range: load it first (ktrdr data load {symbol} -t {timeframe})")]
    EmptySeries {
        symbol: Symbol,
        timeframe: Timeframe,
    },
    /// Too few rows left to train on.
    #[error(
        "only {0} training samples after indicators warm-up and labelling: use more bars or \
         shorter indicator periods"
    )]
    TooFewSamples(usize),
}

/// Feature values of one timeframe of one symbol: columns by name, one value per bar.
struct TimeframeFeatures {
    time: Vec<i64>,
    columns: Vec<Vec<f64>>,
}

fn fuzzify(strategy: &Strategy, bars: &Bars) -> Result<TimeframeFeatures, FeatureError> {
    let frame = to_frame(bars)?;
    let frame = add_indicators(&frame, &strategy.indicators)?;
    let column = |name: &str| -> Result<Vec<f64>, FeatureError> {
        let c = frame.column(name)?;
        Ok(c.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let mut columns = Vec::new();
    for f in &strategy.fuzzy {
        let values = column(&f.key)?;
        let reference = match &f.transform {
            Some(ktrdr_core::fuzzy::InputTransform::PriceRatio { reference }) => {
                Some(column(reference)?)
            }
            None => None,
        };
        for (_, m) in &f.sets {
            columns.push(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let x = f.input(v, |_| reference.as_ref().map_or(f64::NAN, |r| r[i]));
                        m.eval(x)
                    })
                    .collect(),
            );
        }
    }
    Ok(TimeframeFeatures {
        time: bars.time.clone(),
        columns,
    })
}

/// For each base bar, the index of the latest bar of `other` that has closed by the base bar's
/// close; `None` before the first.
fn align(base: &[i64], base_len: i64, other: &[i64], other_len: i64) -> Vec<Option<usize>> {
    let mut j = 0usize;
    let mut out = Vec::with_capacity(base.len());
    for &t in base {
        let known_by = t + base_len;
        while j < other.len() && other[j] + other_len <= known_by {
            j += 1;
        }
        out.push(j.checked_sub(1));
    }
    out
}

/// Builds the samples of one symbol (all rows, before the split).
fn symbol_samples(
    strategy: &Strategy,
    series: &BTreeMap<Timeframe, Bars>,
) -> Result<Samples, FeatureError> {
    let base_tf = strategy.base_timeframe;
    let base = &series[&base_tf];
    let mut per_tf: Vec<(Timeframe, TimeframeFeatures)> = Vec::new();
    for tf in &strategy.timeframes {
        per_tf.push((*tf, fuzzify(strategy, &series[tf])?));
    }
    // Base-row feature columns: each timeframe's columns, aligned.
    let n = base.len();
    let mut base_cols: Vec<Vec<f64>> = Vec::new();
    for (tf, f) in &per_tf {
        if *tf == base_tf {
            base_cols.extend(f.columns.iter().cloned());
        } else {
            let idx = align(
                &base.time,
                base_tf.duration().num_milliseconds(),
                &f.time,
                tf.duration().num_milliseconds(),
            );
            for c in &f.columns {
                base_cols.push(idx.iter().map(|i| i.map_or(f64::NAN, |i| c[i])).collect());
            }
        }
    }
    let lags = strategy.model.features.lookback_periods;
    let labels = labels::zigzag(
        &base.close,
        strategy.labels.zigzag_threshold,
        strategy.labels.label_lookahead,
    );
    let width = base_cols.len() * (lags + 1);
    let mut out = Samples {
        cols: width,
        ..Default::default()
    };
    let mut row = Vec::with_capacity(width);
    for i in lags..n {
        let Some(label) = labels[i] else { continue };
        row.clear();
        for lag in 0..=lags {
            row.extend(base_cols.iter().map(|c| c[i - lag]));
        }
        if row.iter().all(|v| v.is_finite()) {
            out.x.extend(row.iter().map(|&v| v as f32));
            out.y.push(label);
            out.time.push(base.time[i]);
        }
    }
    Ok(out)
}

/// Everything from bars to split and scaled samples. `series` holds every (symbol, timeframe)
/// the strategy needs.
pub fn prepare(
    strategy: &Strategy,
    series: &BTreeMap<(Symbol, Timeframe), Bars>,
) -> Result<Prepared, FeatureError> {
    let names = strategy.feature_names();
    let mut prepared = Prepared {
        feature_names: names.clone(),
        train: Samples {
            cols: names.len(),
            ..Default::default()
        },
        validation: Samples {
            cols: names.len(),
            ..Default::default()
        },
        test: Samples {
            cols: names.len(),
            ..Default::default()
        },
        scaler: None,
        total_bars: 0,
    };
    for symbol in &strategy.symbols {
        let mut by_tf = BTreeMap::new();
        for tf in &strategy.timeframes {
            let bars =
                series
                    .get(&(symbol.clone(), *tf))
                    .ok_or_else(|| FeatureError::MissingSeries {
                        symbol: symbol.clone(),
                        timeframe: *tf,
                    })?;
            if bars.is_empty() {
                return Err(FeatureError::EmptySeries {
                    symbol: symbol.clone(),
                    timeframe: *tf,
                });
            }
            by_tf.insert(*tf, bars.clone());
        }
        prepared.total_bars += by_tf[&strategy.base_timeframe].len();
        let s = symbol_samples(strategy, &by_tf)?;
        debug_assert_eq!(s.cols, names.len());
        let n = s.rows();
        let n_train = (n as f64 * strategy.split.train).floor() as usize;
        let n_val = ((n as f64 * strategy.split.validation).floor() as usize).min(n - n_train);
        prepared.train.extend(&s.slice(0, n_train));
        prepared
            .validation
            .extend(&s.slice(n_train, n_train + n_val));
        prepared.test.extend(&s.slice(n_train + n_val, n));
    }
    if prepared.train.rows() < 10 {
        return Err(FeatureError::TooFewSamples(prepared.train.rows()));
    }
    if strategy.model.features.scale_features {
        let scaler = Scaler::fit(&prepared.train);
        for part in [
            &mut prepared.train,
            &mut prepared.validation,
            &mut prepared.test,
        ] {
            scaler.apply(&mut part.x);
        }
        prepared.scaler = Some(scaler);
    }
    Ok(prepared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_higher_timeframe_bar_is_used_only_once_closed() {
        let h = 3_600_000;
        // Base 1h bars at 0h..7h; 4h bars at 0h and 4h.
        let base: Vec<i64> = (0..8).map(|i| i * h).collect();
        let four = vec![0, 4 * h];
        let got = align(&base, h, &four, 4 * h);
        // The 0h-4h bar closes at 4h: known from the bar starting at 3h (closing at 4h).
        assert_eq!(
            got,
            vec![
                None,
                None,
                None,
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(1)
            ]
        );
    }

    #[test]
    fn scaler_standardises_train_columns() {
        let s = Samples {
            x: vec![1.0, 5.0, 3.0, 5.0],
            y: vec![0, 1],
            cols: 2,
            time: vec![0, 1],
        };
        let sc = Scaler::fit(&s);
        assert_eq!(sc.mean, vec![2.0, 5.0]);
        assert_eq!(sc.std, vec![1.0, 1.0]); // second column is constant: std kept at 1
        let mut x = s.x.clone();
        sc.apply(&mut x);
        assert_eq!(x, vec![-1.0, 0.0, 1.0, 0.0]);
    }

    fn bars(n: usize, step_ms: i64, phase: f64) -> Bars {
        let mut b = Bars::default();
        for i in 0..n {
            let c = 100.0 + 10.0 * ((i as f64) * 0.07 + phase).sin() + (i as f64) * 0.01;
            b.push(ktrdr_core::bars::Bar {
                time: i as i64 * step_ms,
                open: c,
                high: c + 1.0,
                low: c - 1.0,
                close: c,
                volume: 1000.0,
            });
        }
        b
    }

    /// Two symbols on 1h + 4h: columns per timeframe, each symbol split on its own and the
    /// parts concatenated.
    #[test]
    fn multi_symbol_multi_timeframe() {
        let yaml = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config/strategies/neuro_mean_reversion.yaml"),
        )
        .unwrap()
        .replace(
            "    mode: single\n    symbol: GOOG",
            "    mode: multi_symbol\n    list: [AAA, BBB]",
        )
        .replace(
            "    mode: single\n    timeframe: 1d\n  history",
            "    mode: multi_timeframe\n    list: [4h, 1h]\n    base_timeframe: 1h\n  history",
        );
        let s = Strategy::from_yaml(&yaml).unwrap();
        assert_eq!(s.timeframes.len(), 2);
        let h = 3_600_000;
        let mut series = BTreeMap::new();
        for (sym, phase) in [("AAA", 0.0), ("BBB", 1.0)] {
            let sym: Symbol = sym.parse().unwrap();
            series.insert((sym.clone(), Timeframe::H1), bars(2000, h, phase));
            series.insert((sym, Timeframe::H4), bars(500, 4 * h, phase));
        }
        let p = prepare(&s, &series).unwrap();
        // 9 sets per timeframe, 2 timeframes, 2 lags.
        assert_eq!(p.feature_names.len(), 9 * 2 * 3);
        assert!(p.feature_names.iter().any(|n| n == "4h_rsi_14_oversold"));
        assert!(p.feature_names.iter().any(|n| n == "1h_sma_20_near_lag_2"));
        assert_eq!(p.train.cols, 54);
        // Each symbol alone gives its share; together they are concatenated.
        let mut rows = (0, 0, 0);
        for sym in ["AAA", "BBB"] {
            let one = s
                .clone()
                .with_scope(vec![sym.parse().unwrap()], vec![])
                .unwrap();
            let q = prepare(&one, &series).unwrap();
            rows.0 += q.train.rows();
            rows.1 += q.validation.rows();
            rows.2 += q.test.rows();
            // Chronological within the symbol.
            assert!(q.train.time.last() < q.validation.time.first());
            assert!(q.validation.time.last() < q.test.time.first());
        }
        assert_eq!((p.train.rows(), p.validation.rows(), p.test.rows()), rows);
        assert_eq!(p.total_bars, 4000);
    }
}
