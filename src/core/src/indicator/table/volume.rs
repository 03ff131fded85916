//! Volume indicators (and the original's Volume Ratio, listed as multi-purpose), plus ktrdr's
//! own volume SMA.

use super::*;
use crate::bars::Bars;
use crate::indicator::math::volume as m;

/// A true/false parameter.
const fn flag(name: &'static str, default: bool, description: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Bool { default },
        description,
    }
}

fn ad_line_columns(p: &Params) -> Vec<String> {
    let mut cols: Vec<String> = [
        "AD_Line",
        "AD_MF_Multiplier",
        "AD_MF_Volume",
        "AD_ROC_10",
        "AD_Momentum_21",
        "AD_Relative_Strength",
    ]
    .map(String::from)
    .into();
    if p.bool("use_sma_smoothing") {
        cols.push(format!("AD_Line_SMA_{}", p.show("smoothing_period")));
    }
    cols
}

fn ad_line_compute(p: &Params, b: &Bars) -> Vec<Vec<f64>> {
    let smoothing = p
        .bool("use_sma_smoothing")
        .then(|| p.usize("smoothing_period"));
    let r = m::ad_line(&b.high, &b.low, &b.close, &b.volume, smoothing);
    let mut out = vec![
        r.line,
        r.mf_multiplier,
        r.mf_volume,
        r.roc_10,
        r.momentum_21,
        r.relative_strength,
    ];
    out.extend(r.sma);
    out
}

fn cmf_compute(p: &Params, b: &Bars) -> Vec<Vec<f64>> {
    let r = m::cmf(&b.high, &b.low, &b.close, &b.volume, p.usize("period"));
    vec![
        r.cmf,
        r.mf_multiplier,
        r.mf_volume,
        r.momentum,
        r.signal,
        r.histogram,
        r.above_zero,
        r.below_zero,
    ]
}

pub(super) const SPECS: &[IndicatorSpec] = &[
    IndicatorSpec {
        id: "OBVIndicator",
        name: "OBV",
        aliases: &["obv"],
        listed_aliases: &[],
        category: Category::Volume,
        description: "On-Balance Volume (OBV) momentum indicator.",
        params: &[],
        check: no_check,
        columns: |_| vec!["obv".to_owned()],
        suffixes: &[""],
        min_bars: |_| 2,
        compute: |_, b| vec![m::obv(&b.close, &b.volume)],
    },
    IndicatorSpec {
        id: "VWAPIndicator",
        name: "VWAP",
        aliases: &["vwap"],
        listed_aliases: &[],
        category: Category::Volume,
        description: "Volume Weighted Average Price (VWAP) technical indicator.",
        params: &[
            int(
                "period",
                20,
                0,
                200,
                "Bars in the rolling window (0: cumulative from the first bar; no daily reset)",
            ),
            flag(
                "use_typical_price",
                true,
                "Use the typical price (H+L+C)/3 instead of the close",
            ),
        ],
        check: no_check,
        // The original's get_column_name: lowercased name, period, then the other parameters
        // as Python prints them (`vwap_20_True`).
        columns: |p| {
            vec![format!(
                "vwap_{}_{}",
                p.show("period"),
                p.show("use_typical_price")
            )]
        },
        suffixes: &[""],
        min_bars: |p| p.usize("period").max(1),
        compute: |p, b| {
            vec![m::vwap(
                &b.high,
                &b.low,
                &b.close,
                &b.volume,
                p.usize("period"),
                p.bool("use_typical_price"),
            )]
        },
    },
    IndicatorSpec {
        id: "MFIIndicator",
        name: "MFI",
        aliases: &["mfi"],
        listed_aliases: &[],
        category: Category::Volume,
        description: "Money Flow Index (MFI) technical indicator.",
        params: &[int("period", 14, 1, 100, "Bars in the money flow window")],
        check: no_check,
        columns: |p| vec![format!("mfi_{}", p.show("period"))],
        suffixes: &[""],
        min_bars: |p| p.usize("period") + 1,
        compute: |p, b| {
            vec![m::mfi(
                &b.high,
                &b.low,
                &b.close,
                &b.volume,
                p.usize("period"),
            )]
        },
    },
    IndicatorSpec {
        id: "ADLineIndicator",
        name: "ADLine",
        aliases: &["adline"],
        listed_aliases: &["AccumulationDistribution"],
        category: Category::Volume,
        description: "Accumulation/Distribution Line indicator implementation.",
        params: &[
            flag(
                "use_sma_smoothing",
                false,
                "Also output an SMA of the line (AD_Line_SMA_<smoothing_period>)",
            ),
            int(
                "smoothing_period",
                21,
                2,
                200,
                "Bars in the SMA of the line when smoothing",
            ),
        ],
        check: no_check,
        // The original inserts AD_Line_SMA_<n> after AD_MF_Volume when smoothing; here it
        // comes last (suffix `sma`), so the other columns keep their places either way.
        columns: ad_line_columns,
        suffixes: &[
            "",
            "mf_multiplier",
            "mf_volume",
            "roc_10",
            "momentum_21",
            "relative_strength",
            "sma",
        ],
        min_bars: |p| {
            if p.bool("use_sma_smoothing") {
                p.usize("smoothing_period")
            } else {
                1
            }
        },
        compute: ad_line_compute,
    },
    IndicatorSpec {
        id: "CMFIndicator",
        name: "CMF",
        aliases: &["cmf"],
        listed_aliases: &["ChaikinMoneyFlow"],
        category: Category::Volume,
        description: "Chaikin Money Flow (CMF) indicator implementation.",
        params: &[int("period", 21, 2, 500, "Bars in the money flow window")],
        check: no_check,
        columns: |p| {
            let n = p.show("period");
            [
                "CMF",
                "CMF_MF_Multiplier",
                "CMF_MF_Volume",
                "CMF_Momentum",
                "CMF_Signal",
                "CMF_Histogram",
                "CMF_Above_Zero",
                "CMF_Below_Zero",
            ]
            .iter()
            .map(|c| format!("{c}_{n}"))
            .collect()
        },
        suffixes: &[
            "",
            "mf_multiplier",
            "mf_volume",
            "momentum",
            "signal",
            "histogram",
            "above_zero",
            "below_zero",
        ],
        min_bars: |p| p.usize("period"),
        compute: cmf_compute,
    },
    IndicatorSpec {
        id: "VolumeRatioIndicator",
        name: "VolumeRatio",
        aliases: &["volumeratio"],
        listed_aliases: &[],
        category: Category::MultiPurpose,
        description: "Volume Ratio technical indicator.",
        params: &[int("period", 20, 2, 100, "Bars in the volume average")],
        check: no_check,
        columns: |p| vec![format!("volumeratio_{}", p.show("period"))],
        suffixes: &[""],
        min_bars: |p| p.usize("period"),
        compute: |p, b| vec![m::volume_ratio(&b.volume, p.usize("period"))],
    },
    IndicatorSpec {
        id: "VolumeSMAIndicator",
        name: "VolumeSMA",
        aliases: &["volume_sma"],
        listed_aliases: &[],
        category: Category::Volume,
        description: "Simple moving average of volume (a ktrdr addition, not in the original).",
        params: &[int("period", 20, 1, 10_000, "Number of bars averaged")],
        check: no_check,
        columns: |p| vec![format!("volume_sma_{}", p.show("period"))],
        suffixes: &[""],
        min_bars: |p| p.usize("period"),
        compute: |p, b| vec![m::volume_sma(&b.volume, p.usize("period"))],
    },
];
