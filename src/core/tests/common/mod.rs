//! What the four indicator test files share: the plain-Python reference tables
//! (`tests/reference/*.json`) and their bars, the comparison at 1e-9, parameter checks, the
//! repo's GOOG daily bars, and the timing of each indicator on a long series.

// Each test file is its own crate and uses only part of this.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ktrdr_core::bars::{Bar, Bars};
use ktrdr_core::indicator::{find, IndicatorSpec, ParamError, Params, RawValue};
use serde_json::Value;

/// `src/core`.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read_json(path: impl AsRef<Path>) -> Value {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// A file of `tests/reference/`.
pub fn reference(name: &str) -> Value {
    read_json(manifest_dir().join("tests/reference").join(name))
}

/// One series ("main", "flat") of a parsed `bars.json`.
pub fn bars_of(all: &Value, series: &str) -> Bars {
    let rows = all[series]
        .as_array()
        .unwrap_or_else(|| panic!("no bar series {series}"));
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

/// One series of `reference/bars.json`.
pub fn reference_bars(series: &str) -> Bars {
    bars_of(&reference("bars.json"), series)
}

pub fn spec(id: &str) -> &'static IndicatorSpec {
    find(id).unwrap_or_else(|| panic!("{id} is not in the registry"))
}

/// The registry's check of `given` (a JSON map) for `id`.
pub fn params(id: &str, given: &Value) -> Result<Params, ParamError> {
    let map = given.as_object().expect("params as a map");
    spec(id).params(map.iter().map(|(k, v)| (k.as_str(), RawValue::from(v))))
}

/// [`params`] that must pass.
pub fn params_ok(id: &str, given: &Value) -> Params {
    params(id, given).unwrap_or_else(|e| panic!("{id} {given}: {e}"))
}

/// Asserts that `given` is refused, naming `param`.
pub fn refused(id: &str, given: &Value, param: &str) {
    match params(id, given) {
        Ok(p) => panic!("{id} accepted {given}: {p:?}"),
        Err(e) => assert_eq!(e.param, param, "{id} with {given}: {e}"),
    }
}

/// A reference value: null is NaN, the strings "inf" / "-inf" are ±inf.
pub fn expected(v: &Value) -> f64 {
    match v {
        Value::Null => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => other
            .as_f64()
            .unwrap_or_else(|| panic!("not a reference value: {other}")),
    }
}

/// Within 1e-9 (absolute plus relative); NaN matches only NaN, ±inf only itself.
pub fn close_enough(got: f64, want: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return want == got;
    }
    (got - want).abs() <= 1e-9 + 1e-9 * want.abs()
}

/// One case of a reference table, for the extra checks of a test file.
pub struct Case<'a> {
    pub spec: &'static IndicatorSpec,
    pub params: &'a Params,
    pub bars: &'a Bars,
    pub columns: &'a [String],
    pub label: &'a str,
}

/// Every case of `tests/reference/<file>` (`{id: [{series, params, outputs: {column: values}
/// [, columns]}]}`): the id is the registry's, the columns are the outputs' (in the file's
/// order, serde_json keeping it) and no more than the spec's suffixes, and every value
/// matches within 1e-9 ([`close_enough`]). `extra` adds a file's own checks on each case.
/// Returns the number of values compared.
pub fn check_reference_table(file: &str, extra: impl Fn(&Case)) -> usize {
    let all_bars = reference("bars.json");
    let table = reference(file);
    let mut checked = 0;
    for (id, cases) in table.as_object().unwrap() {
        let spec = spec(id);
        assert_eq!(spec.id, id, "{id}: not the registry's id");
        for case in cases.as_array().unwrap() {
            let series = case["series"].as_str().unwrap();
            let label = format!("{id} on {series} with {}", case["params"]);
            let bars = bars_of(&all_bars, series);
            let p = params_ok(id, &case["params"]);
            let outputs = case["outputs"].as_object().unwrap();
            let want_cols: Vec<&String> = outputs.keys().collect();
            let cols = (spec.columns)(&p);
            assert_eq!(
                cols.iter().collect::<Vec<_>>(),
                want_cols,
                "{label}: columns"
            );
            if let Some(listed) = case.get("columns") {
                assert_eq!(&Value::from(cols.clone()), listed, "{label}: columns");
            }
            assert!(
                cols.len() <= spec.suffixes.len(),
                "{label}: a strategy name for every column"
            );
            extra(&Case {
                spec,
                params: &p,
                bars: &bars,
                columns: &cols,
                label: &label,
            });
            let got = (spec.compute)(&p, &bars);
            assert_eq!(got.len(), cols.len(), "{label}: outputs vs columns");
            for (name, out) in cols.iter().zip(&got) {
                let want = outputs[name].as_array().unwrap();
                assert_eq!(out.len(), bars.len(), "{label} {name}: length");
                assert_eq!(want.len(), bars.len(), "{label} {name}: reference length");
                for (i, (g, w)) in out.iter().zip(want).enumerate() {
                    let w = expected(w);
                    assert!(
                        close_enough(*g, w),
                        "{label} {name}[{i}]: got {g}, want {w}"
                    );
                    checked += 1;
                }
            }
        }
    }
    checked
}

/// The repo's GOOG daily bars (`sample_data/GOOG_1d.csv`, the file the original's captures
/// were computed on; 2148 bars).
pub fn goog() -> Bars {
    let path = manifest_dir().join("../../sample_data/GOOG_1d.csv");
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

/// `n` bars made by `bar(i)`.
pub fn bars_from_fn(n: usize, bar: impl FnMut(usize) -> Bar) -> Bars {
    let mut bars = Bars::with_capacity(n);
    for b in (0..n).map(bar) {
        bars.push(b);
    }
    bars
}

/// Runs each spec with its defaults on `bars` once and prints the time; returns
/// `(id, milliseconds, columns)` for each. Every output is as long as the bars.
pub fn time_defaults(
    specs: impl IntoIterator<Item = &'static IndicatorSpec>,
    bars: &Bars,
) -> Vec<(&'static str, f64, usize)> {
    specs
        .into_iter()
        .map(|spec| {
            let p = spec.defaults();
            let t = std::time::Instant::now();
            let out = (spec.compute)(&p, bars);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            eprintln!("{}: {ms:.1} ms ({} columns)", spec.id, out.len());
            assert!(out.iter().all(|c| c.len() == bars.len()), "{}", spec.id);
            (spec.id, ms, out.len())
        })
        .collect()
}
