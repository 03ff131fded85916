//! Technical indicators on polars frames of bars (`date open high low close volume`).
//!
//! The registry (names, parameters, outputs) and the arithmetic on slices are
//! `ktrdr_core::indicator`; this module feeds them a frame's columns and adds the outputs as
//! `f64` columns: the primary output under the indicator's `feature_id`, others under
//! `feature_id.<suffix>` (`macd.signal`, `bb.upper`). Warm-up rows are NaN.

use polars::prelude::*;

use crate::data::store::bars_of_frame;
pub use ktrdr_core::indicator::Indicator;

/// Adds every indicator's outputs to `frame`.
pub fn add_indicators(frame: &DataFrame, indicators: &[Indicator]) -> PolarsResult<DataFrame> {
    let bars = bars_of_frame(frame)?;
    let mut out = frame.clone();
    for ind in indicators {
        for (name, v) in ind.output_names().into_iter().zip(ind.compute(&bars)) {
            out.with_column(Column::new(name.into(), v))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ktrdr_core::bars::Bars;
    use serde_yaml::Value as Yaml;

    use super::*;
    use crate::data::store::to_frame;

    #[test]
    fn frame_outputs_are_named_by_feature_id() {
        let df = to_frame(&Bars {
            time: vec![0, 1, 2, 3],
            open: vec![1.0, 2.0, 3.0, 4.0],
            high: vec![1.5, 2.5, 3.5, 4.5],
            low: vec![0.5, 1.5, 2.5, 3.5],
            close: vec![1.0, 2.0, 3.0, 4.0],
            volume: vec![100.0, 200.0, 300.0, 400.0],
        })
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
