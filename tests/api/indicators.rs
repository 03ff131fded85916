//! The indicator and fuzzy routes against the original's captured answers (shapes, and values
//! on the real GOOG daily sample), their mistakes, the CLI verbs, and the original's example
//! strategies loading and training end to end.

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::training::Project;

/// The original sent NaN (warm-up rows) as 0.0; ktrdr sends null.
fn same_value(original: &Value, ours: &Value) -> bool {
    match (original.as_f64(), ours.as_f64()) {
        (Some(o), Some(m)) => (o - m).abs() <= 1e-9 * o.abs().max(1.0),
        (Some(o), None) => o == 0.0 && ours.is_null(),
        _ => false,
    }
}

/// Sends the captured request and checks ktrdr's answer: the same keys in the same order, the
/// same dates and metadata, and the same values (as far as the capture keeps them).
async fn check_calculate_capture(app: &TestApp, file: &str) {
    let exchange = ktrdr_exchange(file);
    let path = exchange["request"]["path"]
        .as_str()
        .unwrap()
        .trim_start_matches("/api/v1");
    let (status, ours) = app.post(path, exchange["request"]["body"].clone()).await;
    assert_eq!(status, 200, "{file}: {ours}");
    let original = &exchange["response"];
    let keys = |v: &Value| -> Vec<String> {
        v["indicators"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(keys(&ours), keys(original), "{file}: output keys");
    for (k, want) in original["indicators"].as_object().unwrap() {
        for (i, w) in want.as_array().unwrap().iter().enumerate() {
            if w.is_string() {
                break; // "..." where the capture cut the array
            }
            let got = &ours["indicators"][k][i];
            assert!(
                same_value(w, got),
                "{file} {k}[{i}]: original {w}, ktrdr {got}"
            );
        }
    }
    let dates = original["dates"].as_array().unwrap();
    for (i, d) in dates
        .iter()
        .take_while(|d| d.as_str() != Some("..."))
        .enumerate()
    {
        assert_eq!(&ours["dates"][i], d, "{file} dates[{i}]");
    }
    assert_eq!(ours["metadata"], original["metadata"], "{file} metadata");
}

#[actix_web::test]
async fn calculate_gives_the_originals_columns_and_values_on_goog() {
    let project = Project::new(&[]);
    let app = spawn_app_with(project.settings()).await;
    for file in [
        "indicators_calculate_sma.json",
        "indicators_calculate_rsi.json",
        "indicators_calculate_macd.json",
        "indicators_calculate_bbands.json",
        "indicators_calculate_adx.json",
        "indicators_calculate_cci.json",
        "indicators_calculate_ichimoku.json",
        "indicators_calculate_supertrend.json",
        "indicators_calculate_multi_page.json",
        "indicators_calculate_date_range.json",
    ] {
        check_calculate_capture(&app, file).await;
    }
    // A page past the end is the last page, as in the original.
    let (status, last) = app
        .post(
            "/indicators/calculate?page=9&page_size=1000",
            json!({"symbol": "GOOG", "timeframe": "1d", "indicators": [{"id": "rsi"}]}),
        )
        .await;
    assert_eq!(status, 200, "{last}");
    assert_eq!(last["metadata"]["current_page"], 3);
    assert_eq!(last["dates"].as_array().unwrap().len(), 148);
    // Warm-up rows are null, not 0.0: RSI(14) has its first value on the 15th bar.
    let (_, first) = app
        .post(
            "/indicators/calculate?page_size=20",
            json!({"symbol": "GOOG", "timeframe": "1d", "indicators": [{"id": "RSIIndicator", "parameters": {"period": 14}}]}),
        )
        .await;
    let rsi = first["indicators"]["rsi_14"].as_array().unwrap();
    assert!(rsi[..14].iter().all(Value::is_null), "{first}");
    assert!(rsi[14..]
        .iter()
        .all(|v| v.as_f64().is_some_and(|x| (0.0..=100.0).contains(&x))));
}

#[actix_web::test]
async fn the_list_and_categories_have_the_originals_shapes_and_true_parameters() {
    let app = spawn_app().await;
    let (status, list) = app.get("/indicators/").await;
    assert_eq!(status, 200);
    assert_ktrdr_shape("indicators_list.json", &list);
    let original = ktrdr_sample("indicators_list.json");
    let ours: Vec<&Value> = list["data"].as_array().unwrap().iter().collect();
    for o in original["data"].as_array().unwrap() {
        let mine = ours
            .iter()
            .find(|m| m["id"] == o["id"])
            .unwrap_or_else(|| panic!("{} missing", o["id"]));
        assert_eq!(mine["name"], o["name"], "{}", o["id"]);
        assert_eq!(mine["type"], o["type"], "{}", o["id"]);
    }
    // The true parameters, not the original list's `period` + `source` for everyone.
    let param = |id: &str, name: &str| -> Value {
        let ind = ours.iter().find(|m| m["id"] == id).unwrap();
        ind["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(param("ADXIndicator", "period")["min_value"], 2);
    assert_eq!(
        param("ADXIndicator", "source"),
        Value::Null,
        "ADX reads high/low/close"
    );
    assert_eq!(param("MACDIndicator", "slow_period")["default"], 26);
    assert_eq!(param("SuperTrendIndicator", "multiplier")["type"], "float");
    assert_eq!(param("ParabolicSARIndicator", "max_af")["default"], 0.2);
    assert_eq!(
        param("RSIIndicator", "source")["options"],
        json!(["open", "high", "low", "close", "volume"])
    );

    let (status, cats) = app.get("/indicators/categories").await;
    assert_eq!(status, 200);
    assert_ktrdr_shape("indicators_categories.json", &cats);
    let original = ktrdr_sample("indicators_categories.json");
    for (c, v) in original["categories"].as_object().unwrap() {
        let mine = cats["categories"][c]["indicators"].as_array().unwrap();
        for name in v["indicators"].as_array().unwrap() {
            assert!(mine.contains(name), "{c}: {name} missing from {mine:?}");
        }
        assert_eq!(cats["categories"][c]["info"], v["info"], "{c}");
    }
    let (status, trend) = app.get("/indicators/categories/trend").await;
    assert_eq!(status, 200);
    assert_ktrdr_shape("indicators_category_trend.json", &trend);
    let (status, names) = app.get("/indicators/category-names").await;
    assert_eq!(status, 200);
    assert_ktrdr_shape("indicators_category_names.json", &names);
    assert_eq!(names["count"], 6);
    let (status, e) = app.get("/indicators/categories/nosuch").await;
    assert_eq!(status, 404, "{e}");
    assert_eq!(e["error"]["code"], "CATEGORY_NOT_FOUND");
    assert_eq!(e["error"]["details"]["available_categories"][0], "trend");
}

#[actix_web::test]
async fn calculate_mistakes_are_refused_with_the_field_named() {
    let project = Project::new(&[]);
    let app = spawn_app_with(project.settings()).await;
    let goog =
        |indicators: Value| json!({"symbol": "GOOG", "timeframe": "1d", "indicators": indicators});
    let cases = [
        (
            goog(json!([{"id": "NoSuchIndicator", "parameters": {}}])),
            400,
            "CONFIG-IndicatorCreationFailed",
            "body -> indicators[0].id",
        ),
        (
            goog(json!([{"id": "sma"}, {"id": "RSIIndicator", "parameters": {"period": 0}}])),
            400,
            "CONFIG-IndicatorCreationFailed",
            "body -> indicators[1].parameters.period",
        ),
        (
            goog(json!([{"id": "macd", "parameters": {"fast_period": 30, "slow_period": 26}}])),
            400,
            "CONFIG-IndicatorCreationFailed",
            "body -> indicators[0].parameters.fast_period",
        ),
        (
            goog(json!([{"id": "adx", "parameters": {"period": "fourteen"}}])),
            400,
            "CONFIG-IndicatorCreationFailed",
            "body -> indicators[0].parameters.period",
        ),
        (
            goog(json!([{"id": "rsi", "parameters": {"perod": 14}}])),
            400,
            "CONFIG-IndicatorCreationFailed",
            "body -> indicators[0].parameters.perod",
        ),
    ];
    for (body, want_status, code, field) in cases {
        let (status, e) = app.post("/indicators/calculate", body.clone()).await;
        assert_eq!(status, want_status, "{body}: {e}");
        assert_eq!(e["error"]["code"], code, "{e}");
        assert_eq!(e["error"]["details"]["field"], field, "{e}");
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .contains("Failed to create indicator"),
            "{e}"
        );
    }
    let (status, e) = app
        .post("/indicators/calculate", json!({"symbol": "GOOG", "timeframe": "1d", "indicators": [{"id": "rsi", "parameters": {"period": 1}}]}))
        .await;
    assert_eq!(status, 400);
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("period: must be >= 2"),
        "{e}"
    );

    for (body, want) in [
        (
            json!({"symbol": "NOPE", "timeframe": "1d", "indicators": [{"id": "rsi"}]}),
            (404, "DATA-LoadFailed"),
        ),
        (
            json!({"symbol": "GOOG", "timeframe": "3d", "indicators": [{"id": "rsi"}]}),
            (400, "VALIDATION_ERROR"),
        ),
    ] {
        let (status, e) = app.post("/indicators/calculate", body).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (want.0, Some(want.1)),
            "{e}"
        );
    }
    // Too few bars in the window for the indicator: the client's to fix, not a 500.
    let (status, e) = app
        .post(
            "/indicators/calculate",
            json!({"symbol": "GOOG", "timeframe": "1d", "indicators": [{"id": "EMA", "parameters": {"period": 10}}],
                   "start_date": "2013-01-01", "end_date": "2013-01-10"}),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["error"]["code"], "PROC-CalculationFailed");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("7 points available, 10 required"),
        "{e}"
    );
    for (query, field) in [
        ("?page=0", "query -> page"),
        ("?page_size=20000", "query -> page_size"),
    ] {
        let (status, e) = app
            .post(
                &format!("/indicators/calculate{query}"),
                goog(json!([{"id": "rsi"}])),
            )
            .await;
        assert_eq!(status, 400, "{e}");
        assert_eq!(e["error"]["details"][0]["field"], field, "{e}");
    }
    let (status, e) = app.post("/indicators/calculate", goog(json!([]))).await;
    assert_eq!(
        (status, &e["error"]["details"][0]["field"]),
        (400, &json!("body -> indicators"))
    );
}

#[actix_web::test]
async fn fuzzy_sets_and_evaluate_answer_as_the_original() {
    let app = spawn_app().await;
    let (status, list) = app.get("/fuzzy/indicators").await;
    assert_eq!(status, 200);
    assert_ktrdr_shape("fuzzy_indicators.json", &list);
    let original = ktrdr_sample("fuzzy_indicators.json");
    assert_eq!(list["data"].as_array().unwrap().len(), 13);
    for (i, o) in original["data"].as_array().unwrap().iter().enumerate() {
        if o.is_object() {
            assert_eq!(&list["data"][i], o);
        }
    }
    let (status, rsi) = app.get("/fuzzy/sets/rsi").await;
    assert_eq!(status, 200);
    assert_eq!(rsi, ktrdr_sample("fuzzy_sets_rsi.json"));
    for file in ["fuzzy_evaluate.json", "fuzzy_evaluate_no_dates.json"] {
        let exchange = ktrdr_exchange(file);
        let (status, ours) = app
            .post("/fuzzy/evaluate", exchange["request"]["body"].clone())
            .await;
        assert_eq!(status, 200, "{ours}");
        let want = &exchange["response"]["data"];
        assert_eq!(ours["data"]["fuzzy_sets"], want["fuzzy_sets"]);
        assert_eq!(ours["data"]["points"], want["points"]);
        for (k, col) in want["values"].as_object().unwrap() {
            for (i, w) in col.as_array().unwrap().iter().enumerate() {
                assert!(
                    same_value(w, &ours["data"]["values"][k][i]),
                    "{file} {k}[{i}]: {ours}"
                );
            }
        }
    }
    for (path, body, status_code, code) in [
        (
            "/fuzzy/evaluate",
            json!({"indicator": "nosuch", "values": [1.0]}),
            400,
            "CONFIG-UnknownFuzzyIndicator",
        ),
        (
            "/fuzzy/evaluate",
            json!({"indicator": "rsi"}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "/fuzzy/evaluate",
            json!({"indicator": "rsi", "values": []}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            "/fuzzy/evaluate",
            json!({"indicator": "rsi", "values": [1.0], "dates": []}),
            400,
            "VALIDATION_ERROR",
        ),
    ] {
        let (status, e) = app.post(path, body.clone()).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (status_code, Some(code)),
            "{body}: {e}"
        );
    }
    let (status, e) = app.get("/fuzzy/sets/nosuch").await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (400, Some("CONFIG-UnknownFuzzyIndicator"))
    );
}

#[actix_web::test]
async fn fuzzy_data_fuzzifies_the_indicator_over_stored_bars() {
    let project = Project::new(&[]);
    let app = spawn_app_with(project.settings()).await;
    let (status, overlay) = app
        .get("/fuzzy/data?symbol=GOOG&timeframe=1d&indicators=rsi&indicators=macd&indicators=nosuch&start_date=2012-06-01&end_date=2013-03-01")
        .await;
    assert_eq!(status, 200, "{overlay}");
    assert_ktrdr_shape("fuzzy_data_get.json", &overlay);
    assert_eq!(
        overlay["warnings"],
        json!(["Unknown indicator 'nosuch' - skipping"])
    );
    let sets = overlay["data"]["rsi"].as_array().unwrap();
    assert_eq!(sets.len(), 5);
    // Computed over the whole series: the window starts with values, not warm-up gaps.
    let first = &sets[0]["membership"][0];
    assert_eq!(first["timestamp"], "2012-06-01T00:00:00+00:00");
    assert!(first["value"].is_number(), "{first}");

    // POST: the same memberships as evaluating the calculated RSI over the same window.
    let window = json!({"start_date": "2013-01-01", "end_date": "2013-03-01"});
    let (status, cols) = app
        .post(
            "/fuzzy/data",
            json!({"symbol": "GOOG", "timeframe": "1d", "indicators": [{"name": "rsi", "source_column": "close"}, {"name": "sma"}],
                   "start_date": window["start_date"], "end_date": window["end_date"]}),
        )
        .await;
    assert_eq!(status, 200, "{cols}");
    assert_ktrdr_shape(
        "fuzzy_data_post.json",
        &json!({"success": true, "data": cols["data"].clone()}),
    );
    assert_eq!(cols["data"]["metadata"]["points"], 41);
    let (_, calc) = app
        .post("/indicators/calculate?page_size=10000", json!({"symbol": "GOOG", "timeframe": "1d", "indicators": [{"id": "rsi", "parameters": {"period": 14}}]}))
        .await;
    let dates = calc["dates"].as_array().unwrap();
    let lo = dates
        .iter()
        .position(|d| d == "2013-01-02 00:00:00")
        .unwrap();
    let rsi: Vec<Value> = calc["indicators"]["rsi_14"].as_array().unwrap()[lo..lo + 41].to_vec();
    let (_, eval) = app
        .post(
            "/fuzzy/evaluate",
            json!({"indicator": "rsi", "values": rsi}),
        )
        .await;
    assert_eq!(cols["data"]["indicators"]["rsi"], eval["data"]["values"]);
    assert_eq!(cols["data"]["dates"][0], "2013-01-02 00:00:00");

    for (path, want) in [
        ("/fuzzy/data?timeframe=1d", (400, "query -> symbol")),
        (
            "/fuzzy/data?symbol=GOOG&timeframe=1d&color=red",
            (400, "query -> color"),
        ),
    ] {
        let (status, e) = app.get(path).await;
        assert_eq!(
            (status, e["error"]["details"][0]["field"].as_str()),
            (want.0, Some(want.1)),
            "{e}"
        );
    }
    let (status, e) = app
        .get("/fuzzy/data?symbol=NOPE&timeframe=1d&indicators=rsi")
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (404, Some("DATA-LoadFailed")),
        "{e}"
    );
    let (status, e) = app
        .post("/fuzzy/data", json!({"symbol": "GOOG", "timeframe": "1d"}))
        .await;
    assert_eq!(
        status, 400,
        "a missing field is the client's mistake, not a 500: {e}"
    );
}

#[actix_web::test]
async fn cli_lists_and_computes_indicators() {
    let project = Project::new(&[]);
    let app = spawn_app_with(project.settings()).await;
    let base = app.url("");
    let base = base.trim_end_matches("/api/v1");
    let out = run_ktrdr(verb_args("indicators", base, &["list"])).await;
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ADXIndicator") && text.contains("ADX_14 DI_Plus_14"),
        "{text}"
    );

    let out = run_ktrdr(verb_args(
        "indicators",
        base,
        &[
            "compute",
            "GOOG",
            "1d",
            "bbands",
            "--param",
            "period=20",
            "-r",
            "3",
            "-f",
            "csv",
        ],
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "date,upper_20_2.0,middle_20_2.0,lower_20_2.0",
        "{text}"
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[3].starts_with("2013-03-01 00:00:00,"), "{text}");
    // The last 3 rows agree with the route's last page of 3.
    let (_, page) = app
        .post(
            "/indicators/calculate?page=716&page_size=3",
            json!({"symbol": "GOOG", "timeframe": "1d", "indicators": [{"id": "bbands", "parameters": {"period": 20}}]}),
        )
        .await;
    let upper: f64 = lines[3].split(',').nth(1).unwrap().parse().unwrap();
    assert_eq!(
        Some(upper),
        page["indicators"]["upper_20_2.0"][2].as_f64(),
        "{page}"
    );

    // Mistakes are refused before any request, naming what is wrong (exit 2).
    for (args, needle) in [
        (vec!["compute", "GOOG", "1d", "nosuch"], "unknown indicator"),
        (
            vec!["compute", "GOOG", "1d", "rsi", "--param", "period=1"],
            "period: must be >= 2",
        ),
        (
            vec!["compute", "GOOG", "1d", "rsi", "--param", "period"],
            "expected NAME=VALUE",
        ),
    ] {
        let out = run_ktrdr(verb_args("indicators", base, &args)).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{args:?}: {out:?}"
        );
    }
}

/// The original's example strategies (v2.1, with feature ids) in `tests/api/ktrdr_strategies`.
fn original_strategies() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/ktrdr_strategies");
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(p).unwrap())
        })
        .collect();
    v.sort();
    v
}

#[actix_web::test]
async fn the_originals_example_strategies_load_and_train() {
    let strategies = original_strategies();
    assert_eq!(strategies.len(), 8);
    let project = Project::new(&[]);
    for (name, yaml) in &strategies {
        // Each loads as is (every indicator known, every parameter in range).
        let s = ktrdr_core::strategy::Strategy::from_yaml(yaml)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!s.indicators.is_empty());
        std::fs::write(
            project.path("strategies").join(format!("{name}.yaml")),
            two_epochs(yaml),
        )
        .unwrap();
    }
    // A parameter out of the original's range fails when the strategy loads, with its path.
    let trend = &strategies
        .iter()
        .find(|(n, _)| n == "trend_momentum")
        .unwrap()
        .1;
    let broken = trend.replace(
        "feature_id: adx_14\n  period: 14",
        "feature_id: adx_14\n  period: 1",
    );
    assert_ne!(&broken, trend);
    std::fs::write(
        project.path("strategies/bad_adx.yaml"),
        broken.replace("trend_momentum", "bad_adx"),
    )
    .unwrap();
    let app = spawn_app_with(project.settings()).await;
    let (status, e) = app
        .post(
            "/trainings/start",
            json!({"strategy_name": "bad_adx", "symbols": ["GOOG"], "timeframes": ["1d"]}),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(
        e["detail"]["context"]["path"], "indicators[3].period",
        "{e}"
    );
    assert!(
        e["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("indicators[3].period: must be >= 2"),
        "{e}"
    );
    for (name, _) in &strategies {
        let (status, res) = app
            .post(
                "/trainings/start",
                json!({"strategy_name": name, "symbols": ["GOOG"], "timeframes": ["1d"]}),
            )
            .await;
        assert_eq!(status, 200, "{name}: {res}");
        let id = res["task_id"].as_str().unwrap().to_owned();
        let op = app.wait_for(&id).await;
        assert_eq!(op["status"], "completed", "{name}: {op}");
        let acc = op["result_summary"]["test_metrics"]["test_accuracy"].as_f64();
        assert!(
            acc.is_some_and(|a| (0.0..=1.0).contains(&a)),
            "{name}: {op}"
        );
    }
}

/// The strategy with 2 epochs (the examples ask for 50-200), so the test trains each quickly.
fn two_epochs(yaml: &str) -> String {
    yaml.lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("epochs:") {
                format!("{}epochs: 2", &l[..l.len() - t.len()])
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
