//! The volume indicators against their reference table (`reference/volume.json`, written by
//! `reference/volume.py` in plain Python from the published definitions with the original's
//! choices), their parameter checks, and the original's list of names and categories.
//!
//! The original's captured `calculate` answers hold no volume indicator, so there are no
//! GOOG values to compare here; the list and category captures are checked when present.

mod common;

use std::path::PathBuf;

use common::{
    bars_from_fn, check_reference_table, params, params_ok, read_json, reference, refused,
    time_defaults,
};
use ktrdr_core::bars::{Bar, Bars};
use ktrdr_core::indicator::{find, Category};
use serde_json::json;

const OURS: &[&str] = &[
    "OBVIndicator",
    "VWAPIndicator",
    "MFIIndicator",
    "ADLineIndicator",
    "CMFIndicator",
    "VolumeRatioIndicator",
    "VolumeSMAIndicator",
];

#[test]
fn values_match_the_reference_table() {
    let table = reference("volume.json");
    for id in OURS {
        assert!(table.get(*id).is_some(), "{id} has no reference cases");
    }
    let checked = check_reference_table("volume.json", |c| {
        assert!(
            c.bars.len() >= (c.spec.min_bars)(c.params),
            "{}: min_bars",
            c.label
        );
    });
    assert!(checked > 1000, "only {checked} values checked");
}

#[test]
fn obv_takes_no_parameters() {
    refused("OBVIndicator", &json!({"period": 14}), "period");
    refused("obv", &json!({"source": "close"}), "source");
}

#[test]
fn vwap_parameters() {
    refused("VWAPIndicator", &json!({"period": 201}), "period");
    refused("vwap", &json!({"period": -1}), "period");
    refused(
        "vwap",
        &json!({"use_typical_price": "maybe"}),
        "use_typical_price",
    );
    // 0 is the cumulative form.
    assert!(params("vwap", &json!({"period": 0})).is_ok());
}

#[test]
fn mfi_parameters() {
    refused("MFIIndicator", &json!({"period": 0}), "period");
    refused("mfi", &json!({"period": 101}), "period");
    refused("mfi", &json!({"period": 2.5}), "period");
}

#[test]
fn ad_line_parameters() {
    refused(
        "ADLineIndicator",
        &json!({"smoothing_period": 1}),
        "smoothing_period",
    );
    refused(
        "AccumulationDistribution",
        &json!({"smoothing_period": 201}),
        "smoothing_period",
    );
    refused(
        "adline",
        &json!({"use_sma_smoothing": 1}),
        "use_sma_smoothing",
    );
    refused("ad_line", &json!({"period": 14}), "period");
}

#[test]
fn cmf_parameters() {
    refused("CMFIndicator", &json!({"period": 1}), "period");
    refused("ChaikinMoneyFlow", &json!({"period": 501}), "period");
}

#[test]
fn volume_ratio_parameters() {
    refused("VolumeRatioIndicator", &json!({"period": 1}), "period");
    refused("volume_ratio", &json!({"period": 101}), "period");
}

#[test]
fn volume_sma_parameters() {
    refused("volume_sma", &json!({"period": 0}), "period");
    refused("VolumeSMA", &json!({"source": "close"}), "source");
    let p = params_ok("volume_sma", &json!({}));
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
    let mut price = 100.0;
    let bars = bars_from_fn(1_000_000, |i| {
        let step = ((i * 7919) % 13) as f64 / 13.0 - 0.5;
        price += step;
        Bar {
            time: i as i64 * 60_000,
            open: price,
            high: price + 0.5,
            low: price - 0.5,
            close: price + step / 2.0,
            volume: 1000.0 + ((i * 31) % 97) as f64,
        }
    });
    for (id, ms, columns) in time_defaults(OURS.iter().map(|id| find(id).unwrap()), &bars) {
        assert!(ms < 100.0 * columns as f64, "{id} took {ms} ms");
    }
}
