//! What the original KTRDR's CLI sends, as it sends it (the requests of `../shared/ktrdr-api`
//! and of its CLI): each gets an answer with the fields its client reads.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::helpers::{
    assert_ktrdr_shape, run_ktrdr, spawn_app, spawn_app_with, test_settings, verb_args,
};

/// Hourly equity bars around the clock (extended hours included) on `days` weekdays from
/// `start`, as a CSV file's text.
fn around_the_clock(start: DateTime<Utc>, days: i64) -> String {
    let mut out = String::from("datetime,open,high,low,close,volume\n");
    for d in 0..days {
        for h in 0..24 {
            let t = start + Duration::days(d) + Duration::hours(h);
            out.push_str(&format!(
                "{},10,11,9,10.5,100\n",
                t.format("%Y-%m-%d %H:%M:%S")
            ));
        }
    }
    out
}

/// `data load --trading-hours`: the body's `filters` are accepted; `data show --trading-hours`
/// (`?trading_hours_only=true`) keeps the regular session, `include_extended` the pre- and
/// post-market; `data range` before any load says "not found" (what the CLI looks for).
#[actix_web::test]
async fn trading_hours_filters_and_not_found() {
    let src = tempfile::tempdir().unwrap();
    // Mon 2024-06-10 .. Tue 2024-06-11, EDT (New York = UTC-4).
    let t0: DateTime<Utc> = "2024-06-10T00:00:00Z".parse().unwrap();
    std::fs::write(src.path().join("AAPL_1h.csv"), around_the_clock(t0, 2)).unwrap();
    let store = tempfile::tempdir().unwrap();
    let mut settings = test_settings();
    settings.data.csv_dir = src.path().to_owned();
    settings.paths.data_dir = store.path().to_owned();
    let app = spawn_app_with(settings).await;

    let (status, res) = app
        .post("/data/range", json!({"symbol": "AAPL", "timeframe": "1h"}))
        .await;
    assert_eq!(status, 404, "{res}");
    assert!(
        res["detail"].as_str().unwrap().contains("not found"),
        "{res}"
    );

    let op = app
        .load(json!({
            "symbol": "AAPL", "timeframe": "1h", "mode": "full",
            "start_date": "2024-06-10", "end_date": "2024-06-12",
            "filters": {"trading_hours_only": true, "include_extended": false},
        }))
        .await;
    assert_eq!(op["status"], "completed", "{op}");
    let count = |body: &serde_json::Value| body["data"]["dates"].as_array().unwrap().len();
    let (_, all) = app.get("/data/AAPL/1h").await;
    let (_, regular) = app.get("/data/AAPL/1h?trading_hours_only=true").await;
    let (_, extended) = app
        .get("/data/AAPL/1h?trading_hours_only=true&include_extended=true")
        .await;
    // Bars start on the hour: 10:00..15:00 New York are in the regular session (6 a day),
    // 04:00..19:00 in the extended one (16 a day).
    assert_eq!(count(&regular), 12, "{regular}");
    assert_eq!(count(&extended), 32, "{extended}");
    assert!(count(&all) > count(&extended));
    assert_eq!(regular["data"]["dates"][0], "2024-06-10T14:00:00");
    let (status, res) = app
        .post(
            "/data/load",
            json!({"symbol": "AAPL", "timeframe": "1h", "filters": {"trading_hours": true}}),
        )
        .await;
    assert_eq!(status, 400, "an unknown filter is named: {res}");
}

/// `operations cancel ID --force` sends `"force": "True"`: accepted; a value that is no
/// boolean is refused naming the field.
#[actix_web::test]
async fn cancel_with_force_as_python_sends_it() {
    let app = spawn_app().await;
    let id = app.start_dummy(30.0, 30).await;
    let res = awc::Client::default()
        .delete(app.url(&format!("/operations/{id}")))
        .send_json(&json!({"force": "maybe"}))
        .await
        .unwrap()
        .status();
    assert_eq!(res, 400);
    let mut res = awc::Client::default()
        .delete(app.url(&format!("/operations/{id}")))
        .send_json(&json!({"force": "True", "reason": "compat"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["data"]["status"], "cancelled", "{body}");
}

/// A cancelled dummy operation retried from ktrdr's CLI runs again with the same parameters.
#[actix_web::test]
async fn retry_a_cancelled_operation_from_the_cli() {
    let app = spawn_app().await;
    let id = app.start_dummy(30.0, 15).await;
    app.delete(&format!("/operations/{id}")).await;
    let out = run_ktrdr(verb_args("operations", &app.base, &["retry", &id])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let new_id = stdout.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(
        stdout.starts_with(&format!("Retrying {id} as op_dummy_")),
        "{stdout}"
    );
    let (_, op) = app.get(&format!("/operations/{new_id}")).await;
    assert_eq!(op["data"]["metadata"]["parameters"]["steps"], 15, "{op}");
    assert_eq!(
        op["data"]["metadata"]["parameters"]["duration_seconds"],
        30.0
    );
    app.delete(&format!("/operations/{new_id}")).await;
}

/// KTRDR's gap-analysis routes over the real GOOG daily bars with January 2013 cut out: one
/// critical gap, the coverage of what is there; a symbol with no data is all gap; the batch
/// sums them; bad windows and modes are named.
#[actix_web::test]
async fn gap_analysis_routes() {
    use ktrdr::data::store::BarStore;
    use ktrdr_core::timeframe::Timeframe;
    let store = tempfile::tempdir().unwrap();
    let all = ktrdr::data::validation::validate(
        &ktrdr::data::csv::parse(crate::helpers::GOOG_1D).unwrap(),
        Timeframe::D1,
    )
    .0;
    let cut = |d: &str| {
        format!("{d}T00:00:00Z")
            .parse::<DateTime<Utc>>()
            .unwrap()
            .timestamp_millis()
    };
    let (hole_start, hole_end) = (cut("2013-01-01"), cut("2013-02-01"));
    let kept = all.retain_indices(|i| all.time[i] < hole_start || all.time[i] >= hole_end);
    BarStore::new(store.path())
        .write(&"GOOG".parse().unwrap(), Timeframe::D1, &kept)
        .unwrap();
    let mut settings = test_settings();
    settings.paths.data_dir = store.path().to_owned();
    let app = spawn_app_with(settings).await;

    let window = "start_date=2012-06-01&end_date=2013-03-01";
    let (status, res) = app
        .get(&format!("/gap-analysis/data/GOOG/1d/gaps?{window}"))
        .await;
    assert_eq!(status, 200, "{res}");
    let d = &res["data"];
    assert_eq!(d["success"], true);
    assert_eq!(d["summary"]["total_gaps"], 1, "{d}");
    assert_eq!(d["summary"]["critical_gaps"], 1);
    assert_eq!(
        d["gaps"][0]["start_time"], "2013-01-01T00:00:00+00:00",
        "{d}"
    );
    assert_eq!(d["gaps"][0]["severity"], "critical");
    // The calendar expects exactly the bars that were cut (21 NYSE days in January 2013).
    let removed = all.len() - kept.len();
    assert_eq!(removed, 21);
    assert_eq!(d["gaps"][0]["missing_bars"], removed as f64);
    let coverage = d["summary"]["coverage_percentage"].as_f64().unwrap();
    assert!((80.0..95.0).contains(&coverage), "{coverage}");
    assert_eq!(d["analysis_mode"], "normal");

    let (_, res) = app
        .get(&format!(
            "/gap-analysis/data/GOOG/1d/summary?{window}&mode=quick"
        ))
        .await;
    assert_eq!(res["data"]["summary"]["total_gaps"], 1, "{res}");
    assert_eq!(res["data"]["analysis_mode"], "quick");
    let (_, res) = app
        .get(&format!("/gap-analysis/data/NOPE/1d/gaps?{window}"))
        .await;
    assert_eq!(res["data"]["summary"]["coverage_percentage"], 0.0, "{res}");

    let (status, res) = app
        .post(
            "/gap-analysis/data/batch",
            json!({"symbols": ["GOOG", "NOPE"], "timeframe": "1d", "start_date": "2012-06-01",
                   "end_date": "2013-03-01", "mode": "normal", "include_expected": false}),
        )
        .await;
    assert_eq!(status, 200, "{res}");
    assert_ktrdr_shape("gap_analysis_batch.json", &res);
    let b = &res["data"];
    assert_eq!(b["overall_summary"]["total_symbols"], 2);
    assert_eq!(b["results"]["GOOG"]["summary"]["total_gaps"], 1);
    assert_eq!(b["results"]["NOPE"]["summary"]["actual_bars"], 0);
    assert_eq!(
        b["overall_summary"]["total_actual_bars"],
        b["results"]["GOOG"]["summary"]["actual_bars"]
    );

    for (path, field) in [
        ("/gap-analysis/data/GOOG/1d/gaps", "query -> start_date"),
        ("/gap-analysis/data/GOOG/1d/gaps?start_date=2013-03-01&end_date=2012-01-01", "query -> end_date"),
        ("/gap-analysis/data/GOOG/1d/gaps?start_date=2012-11-01&end_date=2013-01-15&mode=verbose", "query -> mode"),
    ] {
        let (status, res) = app.get(path).await;
        assert_eq!(status, 400, "{path}: {res}");
        assert_eq!(res["error"]["details"][0]["field"], field, "{path}");
    }
    let (status, res) = app
        .post("/gap-analysis/data/batch", json!({"symbols": [], "timeframe": "1d", "start_date": "2012-01-01", "end_date": "2013-03-01"}))
        .await;
    assert_eq!(status, 400, "{res}");
    let (status, res) = app.get("/gap-analysis/health").await;
    assert_eq!(
        (status, res["data"]["status"].as_str()),
        (200, Some("healthy"))
    );
}

/// KTRDR's `/ib/...` routes, answered from the IB host service's health: up (CSV provider)
/// after a load, a host that is down, and an IB Gateway that is not there.
#[actix_web::test]
async fn ib_status_routes() {
    let src = crate::helpers::goog_source();
    let store = tempfile::tempdir().unwrap();
    let ib = crate::helpers::spawn_ib_host(src.path(), 0);
    let app = spawn_app_with(crate::helpers::data_settings(&ib, store.path())).await;
    let op = app
        .load(json!({"symbol": "GOOG", "timeframe": "1d", "mode": "full", "start_date": "2012-01-01", "end_date": "2013-01-01"}))
        .await;
    assert_eq!(op["status"], "completed");
    let (status, res) = app.get("/ib/status").await;
    assert_eq!(status, 200, "{res}");
    assert_ktrdr_shape("ib_status.json", &res);
    let d = &res["data"];
    assert_eq!(d["connection"]["connected"], true, "{d}");
    assert_eq!(d["ib_available"], true);
    assert_eq!(d["provider"], "csv");
    assert!(
        d["data_metrics"]["total_requests"].as_u64().unwrap() >= 2,
        "{d}"
    );
    assert_eq!(d["data_metrics"]["failed_requests"], 0);
    let (status, res) = app.get("/ib/health").await;
    assert_eq!(
        (status, res["data"]["healthy"].as_bool()),
        (200, Some(true)),
        "{res}"
    );
    let (_, res) = app.get("/ib/config").await;
    assert_ktrdr_shape("ib_config.json", &res);
    assert_eq!(res["data"]["port"], 4002);
    assert_eq!(res["data"]["rate_limit"]["max_requests"], 60);
    let (_, res) = app.get("/ib/resilience").await;
    assert_ktrdr_shape("ib_resilience.json", &res);
    let (_, res) = app.get("/ib/circuit-breakers").await;
    assert_ktrdr_shape("ib_circuit_breakers.json", &res);
    let (_, res) = app.get("/ib/symbols/discovered").await;
    assert_ktrdr_shape("ib_symbols_discovered.json", &res);
    assert_eq!(res["data"]["symbols"], json!(["GOOG"]), "{res}");
    let (_, res) = app.get("/ib/ranges?symbols=GOOG&timeframes=1d").await;
    assert_ktrdr_shape("ib_ranges.json", &res);
    let r = &res["data"]["symbols"][0]["ranges"]["1d"];
    assert_eq!(r["earliest_date"], "2004-08-19T00:00:00Z", "{res}");
    assert_eq!(r["stored_bars"], 250);
    let (status, res) = app.get("/ib/ranges?symbols=GOOG&timeframes=2d").await;
    assert_eq!(status, 400, "{res}");
    assert_eq!(res["error"]["details"][0]["field"], "query -> timeframes");

    // The IB host service is not there.
    let dead = format!("http://127.0.0.1:{}", crate::helpers::dead_port());
    let app = spawn_app_with(crate::helpers::data_settings(&dead, store.path())).await;
    let (status, res) = app.get("/ib/status").await;
    assert_eq!(status, 200);
    assert_eq!(res["data"]["ib_available"], false, "{res}");
    assert!(
        res["data"]["error"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{res}"
    );
    let (status, res) = app.get("/ib/health").await;
    assert_eq!(status, 503, "{res}");

    // The in-process IB Gateway provider with no gateway listening.
    let mut settings = test_settings();
    settings.data.provider = "ib".into();
    settings.ib_gateway.port = crate::helpers::dead_port();
    settings.paths.data_dir = store.path().to_owned();
    let port = settings.ib_gateway.port;
    let app = spawn_app_with(settings).await;
    let (_, res) = app.get("/ib/status").await;
    assert_eq!(res["data"]["connection"]["connected"], false, "{res}");
    assert_eq!(res["data"]["connection"]["port"], port);
    assert_eq!(res["data"]["provider"], "ib");
    let (status, res) = app.get("/ib/health").await;
    assert_eq!(status, 503, "{res}");
    assert!(res["detail"]
        .as_str()
        .unwrap()
        .starts_with("IB connection is unhealthy"));
}
