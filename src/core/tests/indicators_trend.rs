//! The trend indicators (and Distance from MA) against the plain-Python reference table
//! `tests/reference/trend.json` (made by `trend.py` from `bars.json`), their parameter checks,
//! and the first values the original's API answered on GOOG 1d
//! (`/work/shared/ktrdr-api/indicators_calculate_*.json`; warm-up NaN came back as 0.0 there).

mod common;

use common::{
    bars_from_fn, check_reference_table, close_enough, params_ok, refused, time_defaults,
};
use ktrdr_core::bars::{Bar, Bars};
use ktrdr_core::indicator::find;
use serde_json::Value;

#[test]
fn trend_indicators_match_the_reference_table() {
    let checked = check_reference_table("trend.json", |_| {});
    assert!(checked > 3000, "only {checked} values checked");
}

fn bad(id: &str, json: &str, param: &str) {
    refused(id, &serde_json::from_str(json).unwrap(), param);
}

#[test]
fn bad_parameters_are_refused_by_name() {
    bad("SimpleMovingAverage", r#"{"period": 1}"#, "period");
    bad("SMA", r#"{"period": 501}"#, "period");
    bad("SMA", r#"{"source": "vwap"}"#, "source");
    bad("EMA", r#"{"period": 1}"#, "period");
    bad("ema", r#"{"adjust": "yes"}"#, "adjust");
    bad("ZigZag", r#"{"threshold": 0}"#, "threshold");
    bad("zigzag", r#"{"threshold": 1.0}"#, "threshold");
    bad("ZigZagIndicator", r#"{"threshold": 1.5}"#, "threshold");
    bad("psar", r#"{"initial_af": 0.0005}"#, "initial_af");
    bad("ParabolicSAR", r#"{"max_af": 2}"#, "max_af");
    bad("ParabolicSARIndicator", r#"{"step_af": 0.2}"#, "step_af");
    bad("Ichimoku", r#"{"tenkan_period": 0}"#, "tenkan_period");
    bad("ichimoku", r#"{"senkou_b_period": 201}"#, "senkou_b_period");
    bad(
        "IchimokuIndicator",
        r#"{"displacement": 101}"#,
        "displacement",
    );
    bad("Aroon", r#"{"period": 0}"#, "period");
    bad(
        "aroon",
        r#"{"include_oscillator": 1}"#,
        "include_oscillator",
    );
    bad("ADX", r#"{"period": 1}"#, "period");
    bad("AverageDirectionalIndex", r#"{"period": 201}"#, "period");
    bad("SuperTrend", r#"{"multiplier": 0}"#, "multiplier");
    bad("supertrend", r#"{"multiplier": 10.5}"#, "multiplier");
    bad("SuperTrendIndicator", r#"{"period": 1}"#, "period");
    bad("DistanceFromMA", r#"{"ma_type": "WMA"}"#, "ma_type");
    bad("distancefromma", r#"{"period": 201}"#, "period");
    bad("DistanceFromMAIndicator", r#"{"window": 5}"#, "window");
}

#[test]
fn names_and_categories_follow_the_original() {
    let want = [
        ("SimpleMovingAverage", "SMA", "trend"),
        ("ExponentialMovingAverage", "EMA", "trend"),
        ("ZigZagIndicator", "ZigZag_5", "trend"),
        ("ParabolicSARIndicator", "ParabolicSAR", "trend"),
        ("IchimokuIndicator", "Ichimoku", "trend"),
        ("AroonIndicator", "Aroon", "trend"),
        ("ADXIndicator", "ADX", "trend"),
        ("SuperTrendIndicator", "SuperTrend", "trend"),
        ("DistanceFromMAIndicator", "DistanceFromMA", "multi_purpose"),
    ];
    for (id, name, cat) in want {
        let s = find(id).unwrap();
        assert_eq!((s.id, s.name, s.category.as_str()), (id, name, cat));
    }
    for (alias, id) in [
        ("sma", "SimpleMovingAverage"),
        ("ema", "ExponentialMovingAverage"),
        ("ZigZag", "ZigZagIndicator"),
        ("psar", "ParabolicSARIndicator"),
        ("parabolicsar", "ParabolicSARIndicator"),
        ("AverageDirectionalIndex", "ADXIndicator"),
        ("supertrend", "SuperTrendIndicator"),
        ("distancefromma", "DistanceFromMAIndicator"),
    ] {
        assert_eq!(find(alias).map(|s| s.id), Some(id), "{alias}");
    }
}

// ------------------------------------------------------------ the original's API answers

/// GOOG 1d, the first three bars: (high, low, close, open).
const GOOG_FIRST: [(f64, f64, f64, f64); 3] = [
    (104.06, 95.96, 100.34, 100.0),
    (109.08, 100.5, 108.31, 101.01),
    (113.48, 109.05, 109.4, 110.75),
];

fn goog_first() -> Bars {
    bars_from_fn(GOOG_FIRST.len(), |i| {
        let (high, low, close, open) = GOOG_FIRST[i];
        Bar {
            time: i as i64 * 86_400_000,
            open,
            high,
            low,
            close,
            volume: 1.0,
        }
    })
}

fn closes(c: &[f64]) -> Bars {
    bars_from_fn(c.len(), |i| Bar {
        time: i as i64 * 86_400_000,
        open: c[i],
        high: c[i],
        low: c[i],
        close: c[i],
        volume: 1.0,
    })
}

/// Compares with a capture, where NaN was sent as 0.0.
fn captured(id: &str, params: &str, bars: &Bars, want: &[(&str, &[f64])], from: usize) {
    let spec = find(id).unwrap();
    let p = params_ok(id, &serde_json::from_str::<Value>(params).unwrap());
    let cols = (spec.columns)(&p);
    let out = (spec.compute)(&p, bars);
    let names: Vec<&str> = want.iter().map(|(n, _)| *n).collect();
    assert_eq!(cols, names, "{id}: columns");
    for ((name, values), got) in want.iter().zip(&out) {
        for (i, w) in values.iter().enumerate() {
            let g = got[from + i];
            let g = if g.is_nan() { 0.0 } else { g };
            assert!(
                close_enough(g, *w),
                "{id} {name}[{i}]: got {g}, captured {w}"
            );
        }
    }
}

#[test]
fn first_values_match_the_captured_api() {
    let b = goog_first();
    // indicators_calculate_adx.json
    captured(
        "ADXIndicator",
        r#"{"period": 14}"#,
        &b,
        &[
            ("ADX_14", &[0.0, 7.142857142857142, 13.775510204081632]),
            ("DI_Plus_14", &[0.0, 4.401964223079614, 8.158724033699912]),
            ("DI_Minus_14", &[0.0, 0.0, 0.0]),
            ("DX_14", &[0.0, 100.0, 100.0]),
            (
                "TR_14",
                &[8.100000000000009, 8.739999999999995, 5.170000000000002],
            ),
            ("ADX_Slope_14", &[0.0, 0.0, 0.0]),
            ("DI_Spread_14", &[0.0, 4.401964223079614, 8.158724033699912]),
            ("ADX_Momentum_14", &[0.0, 0.0, 0.0]),
        ],
        0,
    );
    // indicators_calculate_ichimoku.json (defaults; only Chikou has values this early)
    let z: &[f64] = &[0.0, 0.0, 0.0];
    captured(
        "IchimokuIndicator",
        "{}",
        &b,
        &[
            ("Ichimoku_9_26_52_26_Tenkan_sen", z),
            ("Ichimoku_9_26_52_26_Kijun_sen", z),
            ("Ichimoku_9_26_52_26_Senkou_Span_A", z),
            ("Ichimoku_9_26_52_26_Senkou_Span_B", z),
            ("Ichimoku_9_26_52_26_Chikou_Span", &[100.34, 108.31, 109.4]),
        ],
        0,
    );
    // indicators_calculate_supertrend.json
    captured(
        "SuperTrendIndicator",
        r#"{"period": 10, "multiplier": 3.0}"#,
        &b,
        &[
            ("SuperTrend_10_3.0", z),
            ("ST_Direction_10_3.0", &[1.0, 1.0, 1.0]),
            ("ST_Upper_Band_10_3.0", z),
            ("ST_Lower_Band_10_3.0", z),
            ("ST_ATR_10", z),
            ("ST_Distance_10_3.0", z),
            ("ST_Strength_10_3.0", &[1.0, 2.0, 3.0]),
            ("ST_Slope_10_3.0", z),
        ],
        0,
    );
    // indicators_calculate_sma.json
    captured(
        "SimpleMovingAverage",
        r#"{"period": 20, "source": "close"}"#,
        &b,
        &[("sma_20", z)],
        0,
    );
    // indicators_calculate_date_range.json: EMA 10 over 2012-12-03.. (computed on the range)
    captured(
        "EMA",
        r#"{"period": 10}"#,
        &closes(&[695.25, 691.03, 687.82]),
        &[("ema_10", &[695.25, 692.929, 690.8752159468439])],
        0,
    );
    // indicators_calculate_multi_page.json: page 3 (rows 2000..) of SMA 20; closes of rows
    // 1981..=2002.
    let c = [
        580.07, 580.47, 587.83, 595.92, 585.98, 586.01, 581.7, 571.19, 570.48, 576.52, 574.92,
        576.73, 580.76, 593.06, 610.82, 615.51, 607.57, 607.99, 613.36, 634.96, 632.3, 632.97,
    ];
    captured(
        "SMA",
        r#"{"period": 20}"#,
        &closes(&c),
        &[("sma_20", &[591.5925, 594.2040000000001, 596.829])],
        19,
    );
}

/// Every entry computes on no bars and on one bar without panicking, each output as long as
/// the bars.
#[test]
fn short_inputs_do_not_panic() {
    for id in [
        "SimpleMovingAverage",
        "ExponentialMovingAverage",
        "ZigZagIndicator",
        "ParabolicSARIndicator",
        "IchimokuIndicator",
        "AroonIndicator",
        "ADXIndicator",
        "SuperTrendIndicator",
        "DistanceFromMAIndicator",
    ] {
        let spec = find(id).unwrap();
        let p = spec.defaults();
        for n in [0, 1, 2] {
            let b = closes(&vec![10.0; n]);
            for out in (spec.compute)(&p, &b) {
                assert_eq!(out.len(), n, "{id}");
            }
        }
    }
}

/// Speed on 1M bars (run with `cargo test --release -- --ignored`): each entry < 100 ms.
#[test]
#[ignore]
fn a_million_bars_are_quick() {
    let mut x = 100.0f64;
    let bars = bars_from_fn(1_000_000, |i| {
        x *= 1.0 + 0.01 * ((i as f64 * 0.37).sin() + 0.3 * (i as f64 * 0.011).cos());
        Bar {
            time: i as i64 * 60_000,
            open: x,
            high: x * 1.004,
            low: x * 0.996,
            close: x * 1.001,
            volume: 1000.0,
        }
    });
    let specs = ktrdr_core::indicator::all()
        .filter(|s| s.category.as_str() == "trend" || s.id == "DistanceFromMAIndicator");
    let slow: Vec<_> = time_defaults(specs, &bars)
        .into_iter()
        .filter(|(_, ms, _)| *ms >= 100.0)
        .collect();
    assert!(slow.is_empty(), "slow: {slow:?}");
}
