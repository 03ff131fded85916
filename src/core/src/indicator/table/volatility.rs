//! Volatility indicators, and the two multi-purpose ones built on Bollinger Bands and Keltner
//! Channels (Bollinger Band Width, Squeeze Intensity).

use super::*;
use crate::indicator::math::volatility as m;

/// The price columns the original's schemas allow for `source` (no volume).
fn price_source(p: &Params) -> Result<(), ParamError> {
    let s = p.str("source");
    if s == "volume" {
        return Err(ParamError::new(
            "source",
            format!("must be one of open, high, low, close (got {s:?})"),
        ));
    }
    Ok(())
}

/// Bollinger's band multiplier: `multiplier`, or `std_dev` (the name the original's strategy
/// files use) when that one is given. `std_dev`'s default 0 means "not given".
fn bb_multiplier(p: &Params) -> f64 {
    let sd = p.f64("std_dev");
    if sd > 0.0 {
        sd
    } else {
        p.f64("multiplier")
    }
}

/// `multiplier` as the original writes it in column names (`2.0`).
fn bb_suffix(p: &Params) -> String {
    format!(
        "{}_{}",
        p.show("period"),
        ParamValue::Float(bb_multiplier(p))
    )
}

fn bb_check(p: &Params) -> Result<(), ParamError> {
    price_source(p)?;
    let (sd, k) = (p.f64("std_dev"), p.f64("multiplier"));
    if sd > 0.0 && k != 2.0 && sd != k {
        return Err(ParamError::new(
            "std_dev",
            "is another name for multiplier: give one of them",
        ));
    }
    Ok(())
}

fn keltner_check(p: &Params) -> Result<(), ParamError> {
    if p.f64("multiplier") <= 0.0 {
        return Err(ParamError::new("multiplier", "must be > 0"));
    }
    Ok(())
}

fn keltner_suffix(p: &Params) -> String {
    format!(
        "{}_{}_{}",
        p.show("period"),
        p.show("atr_period"),
        p.show("multiplier")
    )
}

const fn boolean(name: &'static str, default: bool, description: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Bool { default },
        description,
    }
}

pub(super) const SPECS: &[IndicatorSpec] = &[
    IndicatorSpec {
        id: "ATRIndicator",
        name: "ATR",
        aliases: &["atr"],
        listed_aliases: &[],
        category: Category::Volatility,
        description: "Average True Range (ATR) volatility indicator.",
        params: &[int(
            "period",
            14,
            1,
            100,
            "Bars in the average of the true range",
        )],
        check: no_check,
        columns: |p| vec![format!("atr_{}", p.show("period"))],
        suffixes: &[""],
        min_bars: |p| p.usize("period") + 1,
        compute: |p, b| vec![m::atr_sma(&b.high, &b.low, &b.close, p.usize("period"))],
    },
    IndicatorSpec {
        id: "BollingerBandsIndicator",
        name: "BollingerBands",
        aliases: &["bbands", "bollinger_bands"],
        listed_aliases: &[],
        category: Category::Volatility,
        description: "Bollinger Bands technical indicator.",
        params: &[
            int(
                "period",
                20,
                2,
                100,
                "Bars in the moving average and standard deviation",
            ),
            float(
                "multiplier",
                2.0,
                0.1,
                5.0,
                "Standard deviations from the middle band",
            ),
            float(
                "std_dev",
                0.0,
                0.1,
                5.0,
                "Another name for multiplier (the original's strategy files use it); 0: not given",
            ),
            source("close"),
        ],
        check: bb_check,
        columns: |p| {
            let s = bb_suffix(p);
            vec![
                format!("upper_{s}"),
                format!("middle_{s}"),
                format!("lower_{s}"),
            ]
        },
        suffixes: &["", "middle", "lower"],
        min_bars: |p| p.usize("period"),
        compute: |p, b| {
            let r = m::bollinger_bands(p.source(b), p.usize("period"), bb_multiplier(p));
            vec![r.upper, r.middle, r.lower]
        },
    },
    IndicatorSpec {
        id: "DonchianChannelsIndicator",
        name: "DonchianChannels",
        aliases: &["donchian_channels"],
        listed_aliases: &[],
        category: Category::Volatility,
        description: "Donchian Channels indicator implementation.",
        params: &[
            int(
                "period",
                20,
                2,
                500,
                "Bars in the highest high / lowest low",
            ),
            boolean(
                "include_middle",
                true,
                "Accepted for the original's sake; the middle line is always computed",
            ),
        ],
        check: no_check,
        columns: |p| {
            let n = p.show("period");
            vec![
                format!("DC_Upper_{n}"),
                format!("DC_Lower_{n}"),
                format!("DC_Middle_{n}"),
                format!("DC_Width_{n}"),
                format!("DC_Position_{n}"),
            ]
        },
        suffixes: &["", "lower", "middle", "width", "position"],
        min_bars: |p| p.usize("period"),
        compute: |p, b| {
            let d = m::donchian(&b.high, &b.low, &b.close, p.usize("period"));
            vec![d.upper, d.lower, d.middle, d.width, d.position]
        },
    },
    IndicatorSpec {
        id: "KeltnerChannelsIndicator",
        name: "KeltnerChannels",
        aliases: &["keltner_channels"],
        listed_aliases: &[],
        category: Category::Volatility,
        description: "Keltner Channels indicator implementation.",
        params: &[
            int("period", 20, 2, 500, "Span of the EMA middle line"),
            int("atr_period", 10, 2, 200, "Bars in the average true range"),
            float(
                "multiplier",
                2.0,
                0.0,
                10.0,
                "ATRs from the middle line (> 0)",
            ),
        ],
        check: keltner_check,
        columns: |p| {
            let s = keltner_suffix(p);
            vec![
                format!("KC_Middle_{}", p.show("period")),
                format!("KC_Upper_{s}"),
                format!("KC_Lower_{s}"),
                format!("KC_ATR_{}", p.show("atr_period")),
                format!("KC_Width_{s}"),
                format!("KC_Position_{s}"),
                format!("KC_Squeeze_{s}"),
            ]
        },
        suffixes: &["", "upper", "lower", "atr", "width", "position", "squeeze"],
        min_bars: |p| p.usize("period").max(p.usize("atr_period")) + 1,
        compute: |p, b| {
            let k = m::keltner(
                &b.high,
                &b.low,
                &b.close,
                p.usize("period"),
                p.usize("atr_period"),
                p.f64("multiplier"),
            );
            vec![
                k.middle, k.upper, k.lower, k.atr, k.width, k.position, k.squeeze,
            ]
        },
    },
    IndicatorSpec {
        id: "BollingerBandWidthIndicator",
        name: "BollingerBandWidth",
        aliases: &["bollinger_band_width"],
        listed_aliases: &[],
        category: Category::MultiPurpose,
        description: "Bollinger Band Width technical indicator.",
        params: &[
            int("period", 20, 2, 100, "Bars in the Bollinger Bands"),
            float(
                "multiplier",
                2.0,
                0.1,
                5.0,
                "Standard deviations of the bands",
            ),
            source("close"),
        ],
        check: price_source,
        columns: |p| {
            vec![format!(
                "bollingerbandwidth_{}_{}",
                p.show("period"),
                p.show("multiplier")
            )]
        },
        suffixes: &[""],
        min_bars: |p| p.usize("period"),
        compute: |p, b| {
            vec![m::bollinger_band_width(
                p.source(b),
                p.usize("period"),
                p.f64("multiplier"),
            )]
        },
    },
    IndicatorSpec {
        id: "SqueezeIntensityIndicator",
        name: "SqueezeIntensity",
        aliases: &["squeeze_intensity"],
        listed_aliases: &[],
        category: Category::MultiPurpose,
        description: "Squeeze Intensity technical indicator.",
        params: &[
            int("bb_period", 20, 2, 100, "Bars in the Bollinger Bands"),
            float(
                "bb_multiplier",
                2.0,
                0.1,
                5.0,
                "Standard deviations of the Bollinger Bands",
            ),
            int("kc_period", 20, 2, 100, "Span of the Keltner Channels' EMA"),
            float(
                "kc_multiplier",
                2.0,
                0.1,
                5.0,
                "ATRs (10 bars) of the Keltner Channels",
            ),
            source("close"),
        ],
        check: price_source,
        columns: |p| {
            vec![format!(
                "squeezeintensity_{}_{}_{}_{}",
                p.show("bb_period"),
                p.show("bb_multiplier"),
                p.show("kc_period"),
                p.show("kc_multiplier")
            )]
        },
        suffixes: &[""],
        min_bars: |p| {
            p.usize("bb_period")
                .max(p.usize("kc_period").max(m::SQUEEZE_KC_ATR_PERIOD) + 1)
        },
        compute: |p, b| {
            vec![m::squeeze_intensity(
                p.source(b),
                &b.high,
                &b.low,
                &b.close,
                p.usize("bb_period"),
                p.f64("bb_multiplier"),
                p.usize("kc_period"),
                p.f64("kc_multiplier"),
            )]
        },
    },
];
