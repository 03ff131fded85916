//! The momentum indicators against their reference table (`reference/momentum.json`, written
//! by `reference/momentum.py` in plain Python from the definitions), against the original's
//! captured API answers on GOOG 1d, and their parameter checks.

use std::path::PathBuf;

use ktrdr_core::bars::{Bar, Bars};
use ktrdr_core::indicator::{find, IndicatorSpec, Params, RawValue};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bar series of `reference/bars.json` by name ("main", "flat").
fn reference_bars(name: &str) -> Bars {
    let all = read_json(root().join("tests/reference/bars.json"));
    let rows = all[name].as_array().expect("a bar series");
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

fn spec(id: &str) -> &'static IndicatorSpec {
    find(id).unwrap_or_else(|| panic!("{id} is not in the registry"))
}

fn params(spec: &IndicatorSpec, given: &Value) -> Params {
    let map = given.as_object().expect("params as a map");
    spec.params(map.iter().map(|(k, v)| (k.as_str(), RawValue::from(v))))
        .unwrap_or_else(|e| panic!("{}: {e}", spec.id))
}

fn same(got: f64, want: f64) -> bool {
    if got.is_nan() || want.is_nan() {
        return got.is_nan() && want.is_nan();
    }
    (got - want).abs() <= 1e-9 + 1e-9 * want.abs()
}

#[test]
fn every_case_of_the_reference_table() {
    let table = read_json(root().join("tests/reference/momentum.json"));
    let table = table.as_object().unwrap();
    let mut checked = 0;
    for (id, cases) in table {
        let spec = spec(id);
        assert_eq!(spec.id, id);
        for case in cases.as_array().unwrap() {
            let series = case["series"].as_str().unwrap();
            let bars = reference_bars(series);
            let p = params(spec, &case["params"]);
            let outputs = case["outputs"].as_object().unwrap();
            let want_cols: Vec<&String> = outputs.keys().collect();
            let cols = (spec.columns)(&p);
            assert_eq!(
                cols.iter().collect::<Vec<_>>(),
                want_cols,
                "{id} {p:?}: columns"
            );
            assert_eq!(spec.suffixes.len(), cols.len(), "{id}: suffixes");
            let got = (spec.compute)(&p, &bars);
            assert_eq!(got.len(), cols.len(), "{id}: outputs");
            for (col, values) in cols.iter().zip(&got) {
                let want: Vec<f64> = outputs[col]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap_or(f64::NAN))
                    .collect();
                assert_eq!(values.len(), bars.len(), "{id} {col}: length");
                for (i, (g, w)) in values.iter().zip(&want).enumerate() {
                    assert!(
                        same(*g, *w),
                        "{id} {series} {p:?} {col}[{i}]: got {g}, want {w}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 9 * 2, "only {checked} columns checked");
}

#[test]
fn the_nine_are_registered_with_their_names() {
    let names: &[(&str, &[&str])] = &[
        ("RSIIndicator", &["RSI", "rsi"]),
        ("MACDIndicator", &["MACD", "macd"]),
        (
            "StochasticIndicator",
            &["Stochastic", "stochastic", "stoch"],
        ),
        (
            "WilliamsRIndicator",
            &["WilliamsR", "williamsR", "williamsr", "williams_r"],
        ),
        ("CCIIndicator", &["CCI", "cci"]),
        ("MomentumIndicator", &["Momentum", "momentum"]),
        ("ROCIndicator", &["ROC", "roc", "rate_of_change"]),
        ("RVIIndicator", &["RVI", "rvi"]),
        (
            "FisherTransformIndicator",
            &["FisherTransform", "fishertransform", "fisher_transform"],
        ),
    ];
    for (id, aliases) in names {
        let s = spec(id);
        assert_eq!(s.category.as_str(), "momentum", "{id}");
        for a in *aliases {
            assert_eq!(find(a).map(|s| s.id), Some(*id), "{a}");
        }
        // Defaults pass their own checks and name as many columns as suffixes.
        let p = s.defaults();
        assert_eq!((s.columns)(&p).len(), s.suffixes.len(), "{id}");
        assert_eq!(s.suffixes[0], "", "{id}");
    }
}

#[test]
fn default_column_names_as_the_original_names_them() {
    let cols = |id: &str| (spec(id).columns)(&spec(id).defaults());
    assert_eq!(cols("RSIIndicator"), ["rsi_14"]);
    assert_eq!(
        cols("MACDIndicator"),
        ["MACD_12_26", "MACD_signal_12_26_9", "MACD_hist_12_26_9"]
    );
    assert_eq!(
        cols("StochasticIndicator"),
        ["Stochastic_K_14_3", "Stochastic_D_14_3_3"]
    );
    assert_eq!(cols("WilliamsRIndicator"), ["WilliamsR_14"]);
    assert_eq!(cols("CCIIndicator"), ["cci_20"]);
    assert_eq!(cols("MomentumIndicator"), ["Momentum_10_close"]);
    assert_eq!(cols("ROCIndicator"), ["ROC_10_close"]);
    assert_eq!(cols("RVIIndicator"), ["RVI_10_4_RVI", "RVI_10_4_Signal"]);
    assert_eq!(cols("FisherTransformIndicator")[0], "Fisher_10_3");
    assert_eq!(cols("FisherTransformIndicator").len(), 10);
}

#[test]
fn bad_parameters_are_refused_naming_the_parameter() {
    let cases: &[(&str, &str, Value)] = &[
        ("RSIIndicator", "period", Value::from(0)),
        ("RSIIndicator", "period", Value::from(1)),
        ("RSIIndicator", "source", Value::from("nope")),
        ("MACDIndicator", "fast_period", Value::from(0)),
        ("MACDIndicator", "slow_period", Value::from(101)),
        ("MACDIndicator", "signal_period", Value::from(2.5)),
        ("StochasticIndicator", "k_period", Value::from(0)),
        ("StochasticIndicator", "d_period", Value::from(21)),
        ("StochasticIndicator", "smooth_k", Value::from("3")),
        ("WilliamsRIndicator", "period", Value::from(0)),
        ("CCIIndicator", "period", Value::from(1)),
        ("MomentumIndicator", "period", Value::from(0)),
        ("ROCIndicator", "period", Value::from(101)),
        ("RVIIndicator", "period", Value::from(3)),
        ("RVIIndicator", "signal_period", Value::from(51)),
        ("FisherTransformIndicator", "period", Value::from(1)),
        ("FisherTransformIndicator", "smoothing", Value::from(21)),
    ];
    for (id, param, value) in cases {
        let err = spec(id)
            .params([(*param, RawValue::from(value))])
            .expect_err(&format!("{id} {param}={value} should be refused"));
        assert_eq!(err.param, *param, "{id}: {err}");
    }
    // Parameters the class does not take.
    for id in ["WilliamsRIndicator", "CCIIndicator", "StochasticIndicator"] {
        let err = spec(id)
            .params([("source", RawValue::from(&Value::from("close")))])
            .expect_err(id);
        assert_eq!(err.param, "source");
    }
    // MACD's rule across parameters: fast must be below slow.
    let macd = spec("MACDIndicator");
    let err = macd
        .params([
            ("fast_period", RawValue::Int(26)),
            ("slow_period", RawValue::Int(12)),
        ])
        .unwrap_err();
    assert_eq!(err.param, "fast_period");
    assert!(macd
        .params([
            ("fast_period", RawValue::Int(26)),
            ("slow_period", RawValue::Int(26)),
        ])
        .is_err());
}

#[test]
fn min_bars_as_the_original() {
    let min = |id: &str| (spec(id).min_bars)(&spec(id).defaults());
    assert_eq!(min("RSIIndicator"), 15);
    assert_eq!(min("MACDIndicator"), 35);
    assert_eq!(min("StochasticIndicator"), 17);
    assert_eq!(min("WilliamsRIndicator"), 14);
    assert_eq!(min("CCIIndicator"), 20);
    assert_eq!(min("MomentumIndicator"), 11);
    assert_eq!(min("ROCIndicator"), 11);
    assert_eq!(min("RVIIndicator"), 13);
    assert_eq!(min("FisherTransformIndicator"), 13);
}

/// GOOG daily bars, as the original's captures were computed on.
fn goog() -> Bars {
    let path = root().join("../../../shared/data/GOOG_1d.csv");
    let path = if path.exists() {
        path
    } else {
        PathBuf::from("/work/shared/data/GOOG_1d.csv")
    };
    let text = std::fs::read_to_string(&path).expect("GOOG_1d.csv");
    let mut bars = Bars::default();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let date = chrono::NaiveDate::parse_from_str(f[0], "%Y-%m-%d").unwrap();
        let num = |i: usize| f[i].parse::<f64>().unwrap();
        bars.push(Bar {
            time: date
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

/// The first values a capture file holds for `column`, in `(index offset, values)`; the
/// original sent NaN as 0.0.
fn captured(file: &str, column: &str) -> Vec<f64> {
    let dir = PathBuf::from("/work/shared/ktrdr-api");
    let v = read_json(dir.join(file));
    v["response"]["indicators"][column]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: no {column}"))
        .iter()
        .filter_map(Value::as_f64)
        .collect()
}

fn capture_dir_present() -> bool {
    PathBuf::from("/work/shared/ktrdr-api").exists()
        && (root().join("../../../shared/data/GOOG_1d.csv").exists()
            || PathBuf::from("/work/shared/data/GOOG_1d.csv").exists())
}

fn check_capture(file: &str, id: &str, given: Value, col_index: usize, offset: usize) {
    let s = spec(id);
    let p = params(s, &given);
    let bars = goog();
    assert_eq!(bars.len(), 2148);
    let column = &(s.columns)(&p)[col_index];
    let want = captured(file, column);
    assert!(!want.is_empty(), "{file}: {column}");
    let got = &(s.compute)(&p, &bars)[col_index];
    for (i, w) in want.iter().enumerate() {
        let g = got[offset + i];
        let g = if g.is_nan() { 0.0 } else { g };
        assert!(
            same(g, *w),
            "{file} {column}[{}]: got {g}, want {w}",
            offset + i
        );
    }
}

#[test]
fn goog_captures_of_the_original() {
    if !capture_dir_present() {
        eprintln!("captures or GOOG data not here: skipped");
        return;
    }
    let rsi = serde_json::json!({"period": 14, "source": "close"});
    check_capture(
        "indicators_calculate_rsi.json",
        "RSIIndicator",
        rsi.clone(),
        0,
        0,
    );
    // Page 3 of 1000: bars 2000.. (alias "RSI" in that request).
    assert_eq!(spec("RSI").id, "RSIIndicator");
    check_capture("indicators_calculate_multi_page.json", "RSI", rsi, 0, 2000);
    let macd = serde_json::json!({"fast_period": 12, "slow_period": 26, "signal_period": 9});
    for col in 0..3 {
        check_capture(
            "indicators_calculate_macd.json",
            "MACDIndicator",
            macd.clone(),
            col,
            0,
        );
    }
    check_capture(
        "indicators_calculate_cci.json",
        "CCIIndicator",
        serde_json::json!({"period": 20}),
        0,
        0,
    );
    // The capture's error: RSI period 0 is refused on `period`.
    let bad = read_json(PathBuf::from(
        "/work/shared/ktrdr-api/indicators_calculate_bad_params_error.json",
    ));
    let given = &bad["request"]["body"]["indicators"][0];
    let s = spec(given["id"].as_str().unwrap());
    let err = s
        .params(
            given["parameters"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), RawValue::from(v))),
        )
        .unwrap_err();
    assert_eq!(err.param, "period");
    let original = bad["response"]["detail"]["error"]["details"]["error"]
        .as_str()
        .unwrap();
    assert!(original.contains("at least 2"), "{original}");
    assert!(err.reason.contains('2'), "{err}");
}

/// Speed on a million bars, defaults (run with `--release -- --ignored`).
#[test]
#[ignore]
fn a_million_bars() {
    let mut bars = Bars::with_capacity(1_000_000);
    let mut x = 100.0f64;
    for i in 0..1_000_000i64 {
        x += ((i * 7919 % 1000) as f64 - 499.5) * 0.001;
        bars.push(Bar {
            time: i * 60_000,
            open: x - 0.1,
            high: x + 0.5,
            low: x - 0.5,
            close: x,
            volume: 1000.0,
        });
    }
    for s in ktrdr_core::indicator::all().filter(|s| s.category.as_str() == "momentum") {
        let p = s.defaults();
        let t = std::time::Instant::now();
        let out = (s.compute)(&p, &bars);
        let ms = t.elapsed().as_millis();
        eprintln!("{}: {ms} ms", s.id);
        assert_eq!(out[0].len(), bars.len());
    }
}
