//! The volume indicators against their reference table (`reference/volume.json`, written by
//! `reference/volume.py` in plain Python from the published definitions with the original's
//! choices), their parameter checks, and the original's list of names and categories.
//!
//! The original's captured `calculate` answers hold no volume indicator, so there are no
//! GOOG values to compare here; the list and category captures are checked when present.

use std::path::PathBuf;

use ktrdr_core::bars::{Bar, Bars};
use ktrdr_core::indicator::{find, Category, ParamError, Params, RawValue};
use serde_json::Value;

const OURS: &[&str] = &[
    "OBVIndicator",
    "VWAPIndicator",
    "MFIIndicator",
    "ADLineIndicator",
    "CMFIndicator",
    "VolumeRatioIndicator",
    "VolumeSMAIndicator",
];

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

fn read_json(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The bars of one series of `bars.json`.
fn load_bars(all: &Value, series: &str) -> Bars {
    let rows = all[series]
        .as_array()
        .unwrap_or_else(|| panic!("no series {series}"));
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

fn params_of(id: &str, given: &Value) -> Result<Params, ParamError> {
    let spec = find(id).unwrap_or_else(|| panic!("{id} not in the registry"));
    let map = given.as_object().expect("params is a map");
    spec.params(map.iter().map(|(k, v)| (k.as_str(), RawValue::from(v))))
}

fn same(got: f64, want: Option<f64>) -> bool {
    match want {
        None => got.is_nan(),
        Some(w) => !got.is_nan() && (got - w).abs() <= 1e-9 + 1e-9 * w.abs(),
    }
}

#[test]
fn values_match_the_reference_table() {
    let bars_json = read_json(reference_dir().join("bars.json"));
    let table = read_json(reference_dir().join("volume.json"));
    let table = table.as_object().unwrap();
    for id in OURS {
        assert!(table.contains_key(*id), "{id} has no reference cases");
    }
    let mut checked = 0;
    for (id, cases) in table {
        let spec = find(id).unwrap_or_else(|| panic!("{id} not in the registry"));
        assert_eq!(spec.id, id);
        for case in cases.as_array().unwrap() {
            let series = case["series"].as_str().unwrap();
            let label = format!("{id} on {series} with {}", case["params"]);
            let bars = load_bars(&bars_json, series);
            let params = params_of(id, &case["params"]).unwrap_or_else(|e| panic!("{label}: {e}"));
            let want_cols: Vec<String> = case["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect();
            assert_eq!((spec.columns)(&params), want_cols, "{label}: columns");
            assert!(bars.len() >= (spec.min_bars)(&params), "{label}: min_bars");
            let out = (spec.compute)(&params, &bars);
            assert_eq!(out.len(), want_cols.len(), "{label}: number of outputs");
            for (col, got) in want_cols.iter().zip(&out) {
                let want = case["outputs"][col].as_array().unwrap();
                assert_eq!(got.len(), bars.len(), "{label} {col}: length");
                assert_eq!(want.len(), bars.len(), "{label} {col}: reference length");
                for (i, (g, w)) in got.iter().zip(want).enumerate() {
                    assert!(
                        same(*g, w.as_f64()),
                        "{label} {col}[{i}]: got {g}, reference {w}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} values checked");
}

fn refused(id: &str, given: Value, param: &str) {
    match params_of(id, &given) {
        Ok(p) => panic!("{id} accepted {given}: {p:?}"),
        Err(e) => assert_eq!(e.param, param, "{id} with {given}: {e}"),
    }
}

#[test]
fn obv_takes_no_parameters() {
    refused("OBVIndicator", serde_json::json!({"period": 14}), "period");
    refused("obv", serde_json::json!({"source": "close"}), "source");
}

#[test]
fn vwap_parameters() {
    refused(
        "VWAPIndicator",
        serde_json::json!({"period": 201}),
        "period",
    );
    refused("vwap", serde_json::json!({"period": -1}), "period");
    refused(
        "vwap",
        serde_json::json!({"use_typical_price": "maybe"}),
        "use_typical_price",
    );
    // 0 is the cumulative form.
    assert!(params_of("vwap", &serde_json::json!({"period": 0})).is_ok());
}

#[test]
fn mfi_parameters() {
    refused("MFIIndicator", serde_json::json!({"period": 0}), "period");
    refused("mfi", serde_json::json!({"period": 101}), "period");
    refused("mfi", serde_json::json!({"period": 2.5}), "period");
}

#[test]
fn ad_line_parameters() {
    refused(
        "ADLineIndicator",
        serde_json::json!({"smoothing_period": 1}),
        "smoothing_period",
    );
    refused(
        "AccumulationDistribution",
        serde_json::json!({"smoothing_period": 201}),
        "smoothing_period",
    );
    refused(
        "adline",
        serde_json::json!({"use_sma_smoothing": 1}),
        "use_sma_smoothing",
    );
    refused("ad_line", serde_json::json!({"period": 14}), "period");
}

#[test]
fn cmf_parameters() {
    refused("CMFIndicator", serde_json::json!({"period": 1}), "period");
    refused(
        "ChaikinMoneyFlow",
        serde_json::json!({"period": 501}),
        "period",
    );
}

#[test]
fn volume_ratio_parameters() {
    refused(
        "VolumeRatioIndicator",
        serde_json::json!({"period": 1}),
        "period",
    );
    refused("volume_ratio", serde_json::json!({"period": 101}), "period");
}

#[test]
fn volume_sma_parameters() {
    refused("volume_sma", serde_json::json!({"period": 0}), "period");
    refused(
        "VolumeSMA",
        serde_json::json!({"source": "close"}),
        "source",
    );
    let p = params_of("volume_sma", &serde_json::json!({})).unwrap();
    let spec = find("volume_sma").unwrap();
    assert_eq!((spec.columns)(&p), vec!["volume_sma_20"]);
}

#[test]
fn names_categories_and_shapes() {
    for (name, id) in [
        ("obv", "OBVIndicator"),
        ("OBV", "OBVIndicator"),
        ("vwap", "VWAPIndicator"),
        ("mfi", "MFIIndicator"),
        ("adline", "ADLineIndicator"),
        ("ad_line", "ADLineIndicator"),
        ("AccumulationDistribution", "ADLineIndicator"),
        ("cmf", "CMFIndicator"),
        ("ChaikinMoneyFlow", "CMFIndicator"),
        ("volumeratio", "VolumeRatioIndicator"),
        ("volume_ratio", "VolumeRatioIndicator"),
        ("volume_sma", "VolumeSMAIndicator"),
    ] {
        assert_eq!(find(name).map(|s| s.id), Some(id), "{name}");
    }
    for id in OURS {
        let spec = find(id).unwrap();
        let want = if *id == "VolumeRatioIndicator" {
            Category::MultiPurpose
        } else {
            Category::Volume
        };
        assert_eq!(spec.category, want, "{id}");
        let d = spec.defaults();
        assert!((spec.columns)(&d).len() <= spec.suffixes.len(), "{id}");
        assert_eq!(spec.suffixes[0], "", "{id}");
    }
    let d = find("vwap").unwrap().defaults();
    assert_eq!((find("vwap").unwrap().columns)(&d), vec!["vwap_20_True"]);
}

/// Empty input and the shortest input give outputs of the right length (no panics).
#[test]
fn short_inputs() {
    for id in OURS {
        let spec = find(id).unwrap();
        let p = spec.defaults();
        let empty = Bars::with_capacity(0);
        for col in (spec.compute)(&p, &empty) {
            assert!(col.is_empty(), "{id}");
        }
        let mut bars = Bars::with_capacity(1);
        bars.push(Bar {
            time: 0,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 0.0,
        });
        for col in (spec.compute)(&p, &bars) {
            assert_eq!(col.len(), 1, "{id}");
        }
    }
}

/// The original's list and categories answers (when the captures are at hand): ids, short
/// names, categories and the extra names listed under each category.
#[test]
fn agrees_with_the_original_lists() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/ktrdr-api");
    let (list, cats) = (
        dir.join("indicators_list.json"),
        dir.join("indicators_categories.json"),
    );
    if !list.exists() || !cats.exists() {
        eprintln!("captures not found at {dir:?}: skipped");
        return;
    }
    let list = read_json(list);
    let entries = list["response"]["data"]
        .as_array()
        .or_else(|| list["data"].as_array())
        .expect("list data");
    for id in &OURS[..6] {
        let spec = find(id).unwrap();
        let e = entries
            .iter()
            .find(|e| e["id"] == *id)
            .unwrap_or_else(|| panic!("{id} not in the original's list"));
        assert_eq!(e["name"], spec.name, "{id}");
        assert_eq!(e["type"], spec.category.as_str(), "{id}");
    }
    let cats = read_json(cats);
    let volume: Vec<&str> = cats["response"]["categories"]["volume"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for id in &OURS[..5] {
        let spec = find(id).unwrap();
        for n in [spec.id, spec.name]
            .into_iter()
            .chain(spec.listed_aliases.iter().copied())
        {
            assert!(volume.contains(&n), "{n} not listed under volume");
        }
    }
}

/// Each indicator on 1M bars (run in release: `cargo test --release -- --ignored`).
#[test]
#[ignore]
fn speed_on_a_million_bars() {
    let n = 1_000_000;
    let mut bars = Bars::with_capacity(n);
    let mut price = 100.0;
    for i in 0..n {
        let step = ((i * 7919) % 13) as f64 / 13.0 - 0.5;
        price += step;
        bars.push(Bar {
            time: i as i64 * 60_000,
            open: price,
            high: price + 0.5,
            low: price - 0.5,
            close: price + step / 2.0,
            volume: 1000.0 + ((i * 31) % 97) as f64,
        });
    }
    for id in OURS {
        let spec = find(id).unwrap();
        let p = spec.defaults();
        let t = std::time::Instant::now();
        let out = (spec.compute)(&p, &bars);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        eprintln!("{id}: {ms:.1} ms ({} columns)", out.len());
        assert!(ms < 100.0 * out.len() as f64, "{id} took {ms} ms");
    }
}
