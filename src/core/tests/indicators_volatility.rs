//! The volatility indicators (and Bollinger Band Width, Squeeze Intensity) against the
//! reference table written by `tests/reference/volatility.py` (plain loops over the
//! published definitions with the original KTRDR's choices), the original API's capture
//! for Bollinger Bands on GOOG 1d, and their parameter checks.

use std::path::PathBuf;

use ktrdr_core::bars::{Bar, Bars};
use ktrdr_core::indicator::{find, Params, RawValue};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn json(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// `bars.json`'s series by name.
fn reference_bars(name: &str) -> Bars {
    let all = json(dir().join("tests/reference/bars.json"));
    let rows = all[name].as_array().expect("a series of bars");
    let mut bars = Bars::with_capacity(rows.len());
    for r in rows {
        let time = chrono::DateTime::parse_from_rfc3339(r["time"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        let f = |k: &str| r[k].as_f64().unwrap();
        bars.push(Bar {
            time,
            open: f("open"),
            high: f("high"),
            low: f("low"),
            close: f("close"),
            volume: f("volume"),
        });
    }
    bars
}

fn params(id: &str, given: &Value) -> Params {
    let spec = find(id).unwrap_or_else(|| panic!("{id} is not in the registry"));
    let given = given.as_object().expect("params are a map");
    spec.params(given.iter().map(|(k, v)| (k.as_str(), RawValue::from(v))))
        .unwrap_or_else(|e| panic!("{id} {given:?}: {e}"))
}

fn same(got: f64, want: Option<f64>) -> bool {
    match want {
        None => got.is_nan(),
        Some(w) => !got.is_nan() && (got - w).abs() <= 1e-9 + 1e-9 * w.abs(),
    }
}

#[test]
fn reference_table() {
    let table = json(dir().join("tests/reference/volatility.json"));
    let table = table.as_object().unwrap();
    let mut checked = 0;
    for (id, cases) in table {
        let spec = find(id).unwrap_or_else(|| panic!("{id} is not in the registry"));
        assert_eq!(spec.id, id.as_str());
        for case in cases.as_array().unwrap() {
            let bars = reference_bars(case["series"].as_str().unwrap());
            let p = params(id, &case["params"]);
            let outputs = case["outputs"].as_object().unwrap();
            let want_names: Vec<&String> = outputs.keys().collect();
            let names = (spec.columns)(&p);
            assert_eq!(
                names.iter().collect::<Vec<_>>(),
                want_names,
                "{id} {}: columns",
                case["params"]
            );
            assert_eq!(spec.suffixes.len(), names.len(), "{id}: suffixes");
            assert!((spec.min_bars)(&p) <= bars.len());
            let got = (spec.compute)(&p, &bars);
            assert_eq!(got.len(), names.len(), "{id}: outputs");
            for (col, name) in got.iter().zip(&names) {
                let want = outputs[name.as_str()].as_array().unwrap();
                assert_eq!(col.len(), want.len(), "{id} {name}: length");
                for (i, (g, w)) in col.iter().zip(want).enumerate() {
                    assert!(
                        same(*g, w.as_f64()),
                        "{id} {} {name}[{i}]: got {g}, want {w}",
                        case["params"]
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} values checked");
}

/// The repo's GOOG daily bars (`sample_data/GOOG_1d.csv`, the file the captures were made on).
fn goog() -> Bars {
    let path = dir().join("../../sample_data/GOOG_1d.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut bars = Bars::default();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let day = chrono::NaiveDate::parse_from_str(f[0], "%Y-%m-%d").unwrap();
        let num = |i: usize| f[i].trim().parse::<f64>().unwrap();
        bars.push(Bar {
            time: day
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis(),
            open: num(1),
            high: num(2),
            low: num(3),
            close: num(4),
            volume: num(5),
        });
    }
    bars
}

/// `indicators_calculate_bbands.json`: BollingerBandsIndicator {period 20, multiplier 2.0} on
/// GOOG 1d (2148 bars) answered the keys below, each starting 0.0, 0.0, 0.0 (warm-up NaN sent
/// as 0.0); the rest of the arrays was cut from the capture.
#[test]
fn goog_capture_bbands() {
    let bars = goog();
    assert_eq!(bars.len(), 2148);
    for id in [
        "BollingerBandsIndicator",
        "bbands",
        "bollinger_bands",
        "BollingerBands",
    ] {
        let spec = find(id).unwrap();
        assert_eq!(spec.id, "BollingerBandsIndicator");
    }
    let spec = find("BollingerBandsIndicator").unwrap();
    let p = params(
        "BollingerBandsIndicator",
        &serde_json::json!({"period": 20, "multiplier": 2.0}),
    );
    assert_eq!(
        (spec.columns)(&p),
        ["upper_20_2.0", "middle_20_2.0", "lower_20_2.0"]
    );
    let out = (spec.compute)(&p, &bars);
    for col in &out {
        assert_eq!(col.len(), 2148);
        assert!(col[..19].iter().all(|v| v.is_nan()));
        assert!(col[19..].iter().all(|v| v.is_finite()));
    }
    // Middle = the 20-bar mean of close; the bands straddle it.
    let mean: f64 = bars.close[..20].iter().sum::<f64>() / 20.0;
    assert!((out[1][19] - mean).abs() < 1e-9);
    assert!(out[0][19] > out[1][19] && out[2][19] < out[1][19]);
}

#[test]
fn std_dev_is_another_name_for_multiplier() {
    let spec = find("bbands").unwrap();
    let a = params("bbands", &serde_json::json!({"period": 5, "std_dev": 2.5}));
    let b = params(
        "bbands",
        &serde_json::json!({"period": 5, "multiplier": 2.5}),
    );
    assert_eq!((spec.columns)(&a), (spec.columns)(&b));
    let bars = reference_bars("main");
    let (ga, gb) = ((spec.compute)(&a, &bars), (spec.compute)(&b, &bars));
    for (x, y) in ga.iter().flatten().zip(gb.iter().flatten()) {
        assert!((x.is_nan() && y.is_nan()) || x == y);
    }
    let both = spec.params([
        ("std_dev", RawValue::Float(1.5)),
        ("multiplier", RawValue::Float(2.5)),
    ]);
    assert_eq!(both.unwrap_err().param, "std_dev");
}

fn refused(id: &str, given: Vec<(&str, RawValue)>, param: &str) {
    let spec = find(id).unwrap();
    let err = spec
        .params(given.clone())
        .expect_err(&format!("{id} {given:?} should be refused"));
    assert_eq!(err.param, param, "{id} {given:?}: {err}");
}

#[test]
fn bad_parameters_are_refused_by_name() {
    use RawValue::{Float, Int, Str};
    refused("ATRIndicator", vec![("period", Int(0))], "period");
    refused("atr", vec![("period", Int(101))], "period");
    refused(
        "BollingerBandsIndicator",
        vec![("period", Int(1))],
        "period",
    );
    refused("bbands", vec![("multiplier", Float(0.05))], "multiplier");
    refused("bbands", vec![("source", Str("volume".into()))], "source");
    refused(
        "DonchianChannelsIndicator",
        vec![("period", Int(501))],
        "period",
    );
    refused(
        "DonchianChannels",
        vec![("include_middle", Int(1))],
        "include_middle",
    );
    refused(
        "KeltnerChannelsIndicator",
        vec![("atr_period", Int(1))],
        "atr_period",
    );
    refused(
        "keltner_channels",
        vec![("multiplier", Float(0.0))],
        "multiplier",
    );
    refused(
        "keltner_channels",
        vec![("multiplier", Float(10.5))],
        "multiplier",
    );
    refused(
        "BollingerBandWidthIndicator",
        vec![("period", Int(1))],
        "period",
    );
    refused(
        "bollinger_band_width",
        vec![("source", Str("volume".into()))],
        "source",
    );
    refused(
        "SqueezeIntensityIndicator",
        vec![("kc_period", Int(101))],
        "kc_period",
    );
    refused(
        "squeeze_intensity",
        vec![("bb_multiplier", Float(6.0))],
        "bb_multiplier",
    );
    refused("SqueezeIntensity", vec![("period", Int(20))], "period");
}

#[test]
fn defaults_names_and_thresholds() {
    let cases: &[(&str, &[&str], usize)] = &[
        ("ATRIndicator", &["atr_14"], 15),
        (
            "BollingerBandsIndicator",
            &["upper_20_2.0", "middle_20_2.0", "lower_20_2.0"],
            20,
        ),
        (
            "DonchianChannelsIndicator",
            &[
                "DC_Upper_20",
                "DC_Lower_20",
                "DC_Middle_20",
                "DC_Width_20",
                "DC_Position_20",
            ],
            20,
        ),
        (
            "KeltnerChannelsIndicator",
            &[
                "KC_Middle_20",
                "KC_Upper_20_10_2.0",
                "KC_Lower_20_10_2.0",
                "KC_ATR_10",
                "KC_Width_20_10_2.0",
                "KC_Position_20_10_2.0",
                "KC_Squeeze_20_10_2.0",
            ],
            21,
        ),
        (
            "BollingerBandWidthIndicator",
            &["bollingerbandwidth_20_2.0"],
            20,
        ),
        (
            "SqueezeIntensityIndicator",
            &["squeezeintensity_20_2.0_20_2.0"],
            21,
        ),
    ];
    for (id, cols, min) in cases {
        let spec = find(id).unwrap();
        let p = spec.defaults();
        assert_eq!((spec.columns)(&p), *cols, "{id}");
        assert_eq!((spec.min_bars)(&p), *min, "{id}");
        assert_eq!(spec.suffixes.len(), cols.len(), "{id}");
        assert_eq!(spec.suffixes[0], "", "{id}");
    }
}

/// One pass each: 1M bars stay well under a second even in a debug build's worst case;
/// the release target is < 100 ms per indicator.
#[test]
fn long_series_is_linear() {
    let n = 200_000;
    let mut bars = Bars::with_capacity(n);
    for i in 0..n {
        let c = 100.0 + (i as f64 * 0.01).sin() * 5.0 + (i % 7) as f64 * 0.1;
        bars.push(Bar {
            time: i as i64 * 60_000,
            open: c - 0.1,
            high: c + 0.5,
            low: c - 0.5,
            close: c,
            volume: 1000.0,
        });
    }
    let start = std::time::Instant::now();
    for id in [
        "ATRIndicator",
        "BollingerBandsIndicator",
        "DonchianChannelsIndicator",
        "KeltnerChannelsIndicator",
        "BollingerBandWidthIndicator",
        "SqueezeIntensityIndicator",
    ] {
        let spec = find(id).unwrap();
        let p = spec
            .params(
                [("period", RawValue::Int(100))]
                    .into_iter()
                    .filter(|_| id != "SqueezeIntensityIndicator"),
            )
            .unwrap();
        let out = (spec.compute)(&p, &bars);
        assert!(out.iter().all(|c| c.len() == n));
    }
    assert!(start.elapsed().as_secs_f64() < 5.0, "{:?}", start.elapsed());
}
