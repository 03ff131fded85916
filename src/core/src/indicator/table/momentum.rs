//! Momentum indicators.
//!
//! Column names follow the original's API (the version whose answers are captured): a
//! single output without a name of its own takes `get_column_name()` (lowercased short name,
//! `_period`, then the other parameters but `source`: `rsi_14`, `cci_20`); indicators that
//! named their output (Williams %R, Momentum, ROC) or returned a frame (MACD, Stochastic, RVI,
//! Fisher) keep those names.

use super::*;
use crate::indicator::math::momentum as m;

fn macd_check(p: &Params) -> Result<(), ParamError> {
    if p.int("fast_period") >= p.int("slow_period") {
        return Err(ParamError::new(
            "fast_period",
            "Fast period must be less than slow period for meaningful MACD calculation",
        ));
    }
    Ok(())
}

pub(super) const SPECS: &[IndicatorSpec] = &[
    IndicatorSpec {
        id: "RSIIndicator",
        name: "RSI",
        aliases: &["rsi"],
        listed_aliases: &[],
        category: Category::Momentum,
        description: "Relative Strength Index (RSI) technical indicator.",
        params: &[
            int("period", 14, 2, 100, "RSI lookback period"),
            source("close"),
        ],
        check: no_check,
        columns: |p| vec![format!("rsi_{}", p.show("period"))],
        suffixes: &[""],
        min_bars: |p| p.usize("period") + 1,
        compute: |p, bars| vec![m::rsi(p.source(bars), p.usize("period"))],
    },
    IndicatorSpec {
        id: "MACDIndicator",
        name: "MACD",
        aliases: &["macd"],
        listed_aliases: &[],
        category: Category::Momentum,
        description: "Moving Average Convergence Divergence (MACD) indicator.",
        params: &[
            int("fast_period", 12, 1, 50, "Period for fast EMA"),
            int("slow_period", 26, 2, 100, "Period for slow EMA"),
            int("signal_period", 9, 1, 50, "Period for signal line EMA"),
            source("close"),
        ],
        check: macd_check,
        columns: |p| {
            let (f, s, g) = (
                p.show("fast_period"),
                p.show("slow_period"),
                p.show("signal_period"),
            );
            vec![
                format!("MACD_{f}_{s}"),
                format!("MACD_signal_{f}_{s}_{g}"),
                format!("MACD_hist_{f}_{s}_{g}"),
            ]
        },
        suffixes: &["", "signal", "histogram"],
        min_bars: |p| p.usize("slow_period").max(p.usize("fast_period")) + p.usize("signal_period"),
        compute: |p, bars| {
            let r = m::macd(
                p.source(bars),
                p.usize("fast_period"),
                p.usize("slow_period"),
                p.usize("signal_period"),
            );
            vec![r.line, r.signal, r.histogram]
        },
    },
    IndicatorSpec {
        id: "StochasticIndicator",
        name: "Stochastic",
        aliases: &["stochastic", "stoch"],
        listed_aliases: &[],
        category: Category::Momentum,
        description: "Stochastic Oscillator momentum indicator.",
        params: &[
            int("k_period", 14, 1, 100, "Period for %K calculation"),
            int("d_period", 3, 1, 20, "Period for %D smoothing"),
            int("smooth_k", 3, 1, 20, "Period for %K smoothing"),
        ],
        check: no_check,
        columns: |p| {
            let (k, d, s) = (p.show("k_period"), p.show("d_period"), p.show("smooth_k"));
            vec![
                format!("Stochastic_K_{k}_{s}"),
                format!("Stochastic_D_{k}_{d}_{s}"),
            ]
        },
        suffixes: &["", "d"],
        min_bars: |p| p.usize("k_period").max(p.usize("smooth_k")) + p.usize("d_period"),
        compute: |p, bars| {
            let (k, d) = m::stochastic(
                &bars.high,
                &bars.low,
                &bars.close,
                p.usize("k_period"),
                p.usize("smooth_k"),
                p.usize("d_period"),
            );
            vec![k, d]
        },
    },
    IndicatorSpec {
        id: "WilliamsRIndicator",
        name: "WilliamsR",
        aliases: &["williamsr", "williams_r"],
        listed_aliases: &[],
        category: Category::Momentum,
        description: "Williams %R momentum indicator.",
        params: &[int("period", 14, 1, 100, "Lookback period for Williams %R")],
        check: no_check,
        columns: |p| vec![format!("WilliamsR_{}", p.show("period"))],
        suffixes: &[""],
        min_bars: |p| p.usize("period"),
        compute: |p, bars| {
            vec![m::williams_r(
                &bars.high,
                &bars.low,
                &bars.close,
                p.usize("period"),
            )]
        },
    },
    IndicatorSpec {
        id: "CCIIndicator",
        name: "CCI",
        aliases: &["cci"],
        listed_aliases: &[],
        category: Category::Momentum,
        description: "Commodity Channel Index (CCI) technical indicator.",
        params: &[int("period", 20, 2, 100, "Period for CCI calculation")],
        check: no_check,
        columns: |p| vec![format!("cci_{}", p.show("period"))],
        suffixes: &[""],
        min_bars: |p| p.usize("period"),
        compute: |p, bars| {
            vec![m::cci(
                &bars.high,
                &bars.low,
                &bars.close,
                p.usize("period"),
            )]
        },
    },
    IndicatorSpec {
        id: "MomentumIndicator",
        name: "Momentum",
        aliases: &["momentum"],
        listed_aliases: &[],
        category: Category::Momentum,
        description: "Momentum technical indicator.",
        params: &[
            int(
                "period",
                10,
                1,
                100,
                "Lookback period for momentum calculation",
            ),
            source("close"),
        ],
        check: no_check,
        columns: |p| {
            vec![format!(
                "Momentum_{}_{}",
                p.show("period"),
                p.show("source")
            )]
        },
        suffixes: &[""],
        min_bars: |p| p.usize("period") + 1,
        compute: |p, bars| vec![m::momentum(p.source(bars), p.usize("period"))],
    },
    IndicatorSpec {
        id: "ROCIndicator",
        name: "ROC",
        aliases: &["roc", "rate_of_change"],
        listed_aliases: &[],
        category: Category::Momentum,
        description: "Rate of Change (ROC) technical indicator.",
        params: &[
            int("period", 10, 1, 100, "Lookback period for ROC calculation"),
            source("close"),
        ],
        check: no_check,
        columns: |p| vec![format!("ROC_{}_{}", p.show("period"), p.show("source"))],
        suffixes: &[""],
        min_bars: |p| p.usize("period") + 1,
        compute: |p, bars| vec![m::roc(p.source(bars), p.usize("period"))],
    },
    IndicatorSpec {
        id: "RVIIndicator",
        name: "RVI",
        aliases: &["rvi"],
        listed_aliases: &[],
        category: Category::Momentum,
        description: "Relative Vigor Index (RVI) technical indicator.",
        params: &[
            int("period", 10, 4, 100, "Period for RVI calculation"),
            int(
                "signal_period",
                4,
                1,
                50,
                "Period for signal line calculation",
            ),
        ],
        check: no_check,
        columns: |p| {
            let (n, s) = (p.show("period"), p.show("signal_period"));
            vec![format!("RVI_{n}_{s}_RVI"), format!("RVI_{n}_{s}_Signal")]
        },
        suffixes: &["", "signal"],
        min_bars: |p| p.usize("period") + 3,
        compute: |p, bars| {
            let (r, s) = m::rvi(
                &bars.open,
                &bars.high,
                &bars.low,
                &bars.close,
                p.usize("period"),
                p.usize("signal_period"),
            );
            vec![r, s]
        },
    },
    IndicatorSpec {
        id: "FisherTransformIndicator",
        name: "FisherTransform",
        aliases: &["fishertransform", "fisher_transform"],
        listed_aliases: &[],
        category: Category::Momentum,
        description: "Fisher Transform indicator implementation.",
        params: &[
            int(
                "period",
                10,
                2,
                100,
                "Lookback period for price normalization",
            ),
            int(
                "smoothing",
                3,
                1,
                20,
                "EMA smoothing period for the Fisher Transform",
            ),
        ],
        check: no_check,
        columns: |p| {
            let sfx = format!("{}_{}", p.show("period"), p.show("smoothing"));
            [
                "Fisher",
                "Fisher_Trigger",
                "Fisher_Raw",
                "Fisher_Normalized",
                "Fisher_Momentum",
                "Fisher_Histogram",
                "Fisher_Above_Zero",
                "Fisher_Below_Zero",
                "Fisher_Overbought",
                "Fisher_Oversold",
            ]
            .iter()
            .map(|c| format!("{c}_{sfx}"))
            .collect()
        },
        suffixes: &[
            "",
            "trigger",
            "raw",
            "normalized",
            "momentum",
            "histogram",
            "above_zero",
            "below_zero",
            "overbought",
            "oversold",
        ],
        min_bars: |p| p.usize("period") + p.usize("smoothing"),
        compute: |p, bars| {
            let f = m::fisher_transform(
                &bars.high,
                &bars.low,
                p.usize("period"),
                p.usize("smoothing"),
            );
            vec![
                f.fisher,
                f.trigger,
                f.raw,
                f.normalized,
                f.momentum,
                f.histogram,
                f.above_zero,
                f.below_zero,
                f.overbought,
                f.oversold,
            ]
        },
    },
];
