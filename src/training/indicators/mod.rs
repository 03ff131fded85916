//! Technical indicators on polars frames of bars (`open high low close volume`).
//!
//! Each indicator reads its input columns from the frame and adds its outputs as `f64`
//! columns: the primary output under the indicator's `feature_id`, others under
//! `feature_id.output` (`macd.signal`, `bb.upper`). Warm-up rows are NaN. The specs (names,
//! parameters, output names) are `ktrdr_core::indicator`; the arithmetic is [`math`].

pub mod math;

use polars::prelude::*;

pub use ktrdr_core::indicator::{Indicator, IndicatorKind, Source};
use math::*;

/// Computes the outputs from `frame`'s columns.
pub fn compute(indicator: &Indicator, frame: &DataFrame) -> PolarsResult<Vec<Column>> {
    let col = |name: &str| -> PolarsResult<Vec<f64>> {
        let c = frame.column(name)?.cast(&DataType::Float64)?;
        Ok(c.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let values: Vec<Vec<f64>> = match indicator.kind {
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
    Ok(indicator
        .output_names()
        .into_iter()
        .zip(values)
        .map(|(name, v)| Column::new(name.into(), v))
        .collect())
}

/// Adds every indicator's outputs to `frame`.
pub fn add_indicators(frame: &DataFrame, indicators: &[Indicator]) -> PolarsResult<DataFrame> {
    let mut out = frame.clone();
    for ind in indicators {
        for c in compute(ind, frame)? {
            out.with_column(c)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_yaml::Value as Yaml;

    use super::*;

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
        assert!(got[0].is_nan(), "warm-up row");
        assert_eq!(&got[1..], &[1.5, 2.5, 3.5]);
        for c in ["m", "m.signal", "m.histogram"] {
            assert!(out.column(c).is_ok(), "missing {c}");
        }
    }
}
