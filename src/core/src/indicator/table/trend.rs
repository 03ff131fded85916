//! Trend indicators (and Distance from MA, which the original files under multi_purpose).
//! Parameters, names and columns follow the original at the version its API captures show
//! (ADX with eight columns, Ichimoku `Ichimoku_9_26_52_26_*`, SuperTrend `SuperTrend_10_3.0`).

use super::*;
use crate::indicator::math;
use crate::indicator::math::trend as m;

fn period(p: &Params) -> usize {
    p.usize("period")
}

fn zigzag_check(p: &Params) -> Result<(), ParamError> {
    let t = p.f64("threshold");
    if t <= 0.0 || t >= 1.0 {
        return Err(ParamError::new(
            "threshold",
            "must be between 0 and 1 (exclusive)",
        ));
    }
    Ok(())
}

fn supertrend_check(p: &Params) -> Result<(), ParamError> {
    if p.f64("multiplier") <= 0.0 {
        return Err(ParamError::new("multiplier", "must be > 0"));
    }
    Ok(())
}

/// The ZigZag column: `ZigZag_{int(threshold * 100)}` (Python's truncating `int`).
fn zigzag_name(p: &Params) -> String {
    format!("ZigZag_{}", (p.f64("threshold") * 100.0).trunc() as i64)
}

fn psar_name(p: &Params) -> String {
    format!(
        "ParabolicSAR_{}_{}_{}",
        p.show("initial_af"),
        p.show("step_af"),
        p.show("max_af")
    )
}

fn ichimoku_base(p: &Params) -> String {
    format!(
        "Ichimoku_{}_{}_{}_{}",
        p.show("tenkan_period"),
        p.show("kijun_period"),
        p.show("senkou_b_period"),
        p.show("displacement")
    )
}

fn st_suffix(p: &Params) -> String {
    format!("{}_{}", p.show("period"), p.show("multiplier"))
}

pub(super) const SPECS: &[IndicatorSpec] = &[
    IndicatorSpec {
        id: "SimpleMovingAverage",
        name: "SMA",
        aliases: &["sma"],
        listed_aliases: &[],
        category: Category::Trend,
        description: "Simple Moving Average (SMA) technical indicator.",
        params: &[
            int("period", 20, 2, 500, "Number of bars averaged"),
            source("close"),
        ],
        check: no_check,
        columns: |p| vec![format!("sma_{}", p.show("period"))],
        suffixes: &[""],
        min_bars: period,
        compute: |p, bars| {
            let n = period(p);
            vec![math::rolling_mean(p.source(bars), n, n)]
        },
    },
    IndicatorSpec {
        id: "ExponentialMovingAverage",
        name: "EMA",
        aliases: &["ema"],
        listed_aliases: &[],
        category: Category::Trend,
        description: "Exponential Moving Average (EMA) technical indicator.",
        params: &[
            int(
                "period",
                20,
                2,
                500,
                "Span of the average (alpha = 2 / (period + 1))",
            ),
            source("close"),
            ParamSpec {
                name: "adjust",
                kind: ParamKind::Bool { default: true },
                description:
                    "Bias-corrected (pandas adjust=True) average instead of the recursive one",
            },
        ],
        check: no_check,
        columns: |p| vec![format!("ema_{}", p.show("period"))],
        suffixes: &[""],
        min_bars: period,
        compute: |p, bars| vec![math::ema_span(p.source(bars), period(p), p.bool("adjust"))],
    },
    IndicatorSpec {
        id: "ZigZagIndicator",
        name: "ZigZag_5",
        aliases: &["zigzag"],
        listed_aliases: &["ZigZag"],
        category: Category::Trend,
        description: "ZigZag indicator that identifies significant price reversals.",
        params: &[
            float(
                "threshold",
                0.05,
                0.0,
                1.0,
                "Smallest move (fraction, 0.05 = 5%) that makes a reversal; 0 < threshold < 1",
            ),
            source("close"),
        ],
        check: zigzag_check,
        columns: |p| vec![zigzag_name(p)],
        suffixes: &[""],
        min_bars: |_| 3,
        compute: |p, bars| vec![m::zigzag(p.source(bars), p.f64("threshold"))],
    },
    IndicatorSpec {
        id: "ParabolicSARIndicator",
        name: "ParabolicSAR",
        aliases: &["psar"],
        listed_aliases: &[],
        category: Category::Trend,
        description: "Parabolic SAR (Stop and Reverse) technical indicator.",
        params: &[
            float(
                "initial_af",
                0.02,
                0.001,
                0.1,
                "Initial acceleration factor",
            ),
            float("step_af", 0.02, 0.001, 0.1, "Acceleration factor increment"),
            float("max_af", 0.2, 0.01, 1.0, "Maximum acceleration factor"),
        ],
        check: no_check,
        columns: |p| vec![psar_name(p)],
        suffixes: &[""],
        min_bars: |_| 2,
        compute: |p, bars| {
            vec![m::parabolic_sar(
                &bars.high,
                &bars.low,
                &bars.close,
                p.f64("initial_af"),
                p.f64("step_af"),
                p.f64("max_af"),
            )]
        },
    },
    IndicatorSpec {
        id: "IchimokuIndicator",
        name: "Ichimoku",
        aliases: &[],
        listed_aliases: &[],
        category: Category::Trend,
        description: "Ichimoku Cloud (Ichimoku Kinko Hyo) technical indicator.",
        params: &[
            int(
                "tenkan_period",
                9,
                1,
                50,
                "Bars of the Tenkan-sen (conversion line)",
            ),
            int(
                "kijun_period",
                26,
                1,
                100,
                "Bars of the Kijun-sen (base line)",
            ),
            int("senkou_b_period", 52, 1, 200, "Bars of the Senkou Span B"),
            int(
                "displacement",
                26,
                1,
                100,
                "Displacement (only named in the columns: the original shifts nothing)",
            ),
        ],
        check: no_check,
        columns: |p| {
            let b = ichimoku_base(p);
            [
                "Tenkan_sen",
                "Kijun_sen",
                "Senkou_Span_A",
                "Senkou_Span_B",
                "Chikou_Span",
            ]
            .iter()
            .map(|c| format!("{b}_{c}"))
            .collect()
        },
        suffixes: &["", "kijun", "senkou_a", "senkou_b", "chikou"],
        min_bars: |p| {
            p.usize("tenkan_period")
                .max(p.usize("kijun_period"))
                .max(p.usize("senkou_b_period"))
        },
        compute: |p, bars| {
            let i = m::ichimoku(
                &bars.high,
                &bars.low,
                &bars.close,
                p.usize("tenkan_period"),
                p.usize("kijun_period"),
                p.usize("senkou_b_period"),
            );
            vec![i.tenkan, i.kijun, i.senkou_a, i.senkou_b, i.chikou]
        },
    },
    IndicatorSpec {
        id: "AroonIndicator",
        name: "Aroon",
        aliases: &[],
        listed_aliases: &[],
        category: Category::Trend,
        description: "Aroon technical indicator.",
        params: &[
            int(
                "period",
                14,
                1,
                200,
                "Bars in the window (the current one included)",
            ),
            ParamSpec {
                name: "include_oscillator",
                kind: ParamKind::Bool { default: false },
                description: "Also output the Aroon Oscillator (Up - Down)",
            },
        ],
        check: no_check,
        columns: |p| {
            let n = p.show("period");
            let mut c = vec![format!("Aroon_{n}_Up"), format!("Aroon_{n}_Down")];
            if p.bool("include_oscillator") {
                c.push(format!("Aroon_{n}_Oscillator"));
            }
            c
        },
        // `oscillator` only with include_oscillator.
        suffixes: &["", "down", "oscillator"],
        min_bars: period,
        compute: |p, bars| {
            let (up, down, osc) = m::aroon(&bars.high, &bars.low, period(p));
            let mut out = vec![up, down];
            if p.bool("include_oscillator") {
                out.push(osc);
            }
            out
        },
    },
    IndicatorSpec {
        id: "ADXIndicator",
        name: "ADX",
        aliases: &["adx", "AverageDirectionalIndex"],
        listed_aliases: &["AverageDirectionalIndex"],
        category: Category::Trend,
        description: "Average Directional Index (ADX) indicator implementation.",
        params: &[int(
            "period",
            14,
            2,
            200,
            "Smoothing period (alpha = 1 / period)",
        )],
        check: no_check,
        columns: |p| {
            let n = p.show("period");
            [
                "ADX",
                "DI_Plus",
                "DI_Minus",
                "DX",
                "TR",
                "ADX_Slope",
                "DI_Spread",
                "ADX_Momentum",
            ]
            .iter()
            .map(|c| format!("{c}_{n}"))
            .collect()
        },
        suffixes: &[
            "",
            "plus_di",
            "minus_di",
            "dx",
            "tr",
            "slope",
            "di_spread",
            "momentum",
        ],
        min_bars: |p| 2 * period(p) + 1,
        compute: |p, bars| {
            let a = m::adx(&bars.high, &bars.low, &bars.close, period(p));
            vec![
                a.adx,
                a.di_plus,
                a.di_minus,
                a.dx,
                a.tr,
                a.slope,
                a.di_spread,
                a.momentum,
            ]
        },
    },
    IndicatorSpec {
        id: "SuperTrendIndicator",
        name: "SuperTrend",
        aliases: &["supertrend"],
        listed_aliases: &[],
        category: Category::Trend,
        description: "SuperTrend indicator implementation.",
        params: &[
            int(
                "period",
                10,
                2,
                200,
                "ATR period (simple mean of the true range)",
            ),
            float(
                "multiplier",
                3.0,
                0.0,
                10.0,
                "ATR multiplier of the bands (> 0)",
            ),
        ],
        check: supertrend_check,
        columns: |p| {
            let s = st_suffix(p);
            vec![
                format!("SuperTrend_{s}"),
                format!("ST_Direction_{s}"),
                format!("ST_Upper_Band_{s}"),
                format!("ST_Lower_Band_{s}"),
                format!("ST_ATR_{}", p.show("period")),
                format!("ST_Distance_{s}"),
                format!("ST_Strength_{s}"),
                format!("ST_Slope_{s}"),
            ]
        },
        suffixes: &[
            "",
            "direction",
            "upper_band",
            "lower_band",
            "atr",
            "distance",
            "strength",
            "slope",
        ],
        min_bars: |p| period(p) + 1,
        compute: |p, bars| {
            let s = m::supertrend(
                &bars.high,
                &bars.low,
                &bars.close,
                period(p),
                p.f64("multiplier"),
            );
            vec![
                s.supertrend,
                s.direction,
                s.upper,
                s.lower,
                s.atr,
                s.distance,
                s.strength,
                s.slope,
            ]
        },
    },
    IndicatorSpec {
        id: "DistanceFromMAIndicator",
        name: "DistanceFromMA",
        aliases: &[],
        listed_aliases: &[],
        category: Category::MultiPurpose,
        description: "Distance from Moving Average technical indicator.",
        params: &[
            int("period", 20, 2, 200, "Bars of the moving average"),
            ParamSpec {
                name: "ma_type",
                kind: ParamKind::Choice {
                    default: "SMA",
                    options: &["SMA", "EMA"],
                },
                description: "Moving average: SMA or EMA",
            },
            source("close"),
        ],
        check: no_check,
        columns: |p| {
            vec![format!(
                "distancefromma_{}_{}",
                p.show("period"),
                p.show("ma_type")
            )]
        },
        suffixes: &[""],
        min_bars: period,
        compute: |p, bars| {
            vec![m::distance_from_ma(
                p.source(bars),
                period(p),
                p.str("ma_type") == "EMA",
            )]
        },
    },
];
