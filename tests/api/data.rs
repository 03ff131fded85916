//! The data path: the real backend loading through the real IB host service (CSV provider)
//! on port 0 into a temporary store.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use ktrdr::config::Settings;
use serde_json::json;

use crate::helpers::{
    data_settings, dead_port, spawn_app_with, spawn_ib_host, store_files, TestApp, WsClient,
};

const GOOG: &str = include_str!("../../sample_data/GOOG_1d.csv");

/// Hourly bars, every hour (crypto calendar), from `start` for `hours` hours.
fn hourly_csv(start: DateTime<Utc>, hours: i64, header: bool) -> String {
    let mut out = String::new();
    if header {
        out.push_str("datetime,open,high,low,close,volume\n");
    }
    for h in 0..hours {
        let t = start + Duration::hours(h);
        let p = 100.0 + (h % 50) as f64;
        writeln!(
            out,
            "{},{p},{},{},{},{}",
            t.format("%Y-%m-%d %H:%M:%S"),
            p + 1.0,
            p - 1.0,
            p + 0.5,
            10 + h
        )
        .unwrap();
    }
    out
}

/// A backend loading one segment at a time from an IB host answering after `latency_ms`.
fn slow_host_settings(src: &Path, store: &Path, latency_ms: u64) -> Settings {
    let mut settings = data_settings(&spawn_ib_host(src, latency_ms), store);
    settings.data.load_concurrency = 1;
    settings
}

/// Starts a load and waits on its stream until `segments` segments are done.
async fn start_and_await_segments(
    app: &TestApp,
    body: serde_json::Value,
    segments: u64,
) -> (String, WsClient) {
    let (_, res) = app.post("/data/load", body).await;
    let id = res["data"]["operation_id"].as_str().unwrap().to_owned();
    let mut ws = app.ws(&format!("/operations/{id}/ws")).await;
    loop {
        let ev = ws.event().await;
        let done = ev["operation"]["progress"]["context"]["current_segment"].as_u64();
        if done.unwrap_or(0) >= segments {
            return (id, ws);
        }
    }
}

/// A backend loading through an IB host that serves the real GOOG daily file; returns the app,
/// the source folder and the store folder (kept alive by the caller).
async fn goog_app() -> (TestApp, tempfile::TempDir, tempfile::TempDir) {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("GOOG_1d.csv"), GOOG).unwrap();
    let store = tempfile::tempdir().unwrap();
    let app = spawn_app_with(data_settings(&spawn_ib_host(src.path(), 0), store.path())).await;
    (app, src, store)
}

/// `full` into an empty store fetches GOOG's 2148 real daily bars; a second `full` over the
/// same range finds every hole (weekends, NYSE holidays) expected and fetches nothing.
#[actix_web::test]
async fn full_load_of_real_goog_daily() {
    let (app, _src, store) = goog_app().await;

    let op = app
        .load(json!({"symbol": "GOOG", "timeframe": "1d", "mode": "full", "start_date": "2004-01-01", "end_date": "2013-03-02"}))
        .await;
    assert_eq!(op["status"], "completed", "{op}");
    let summary = &op["result_summary"];
    assert_eq!(summary["fetched_bars"], 2148);
    assert_eq!(summary["cached_before"], false);
    assert_eq!(summary["segments_failed"], 0);
    // From the provider's first bar (2004-08-19, less one bar), not 2004-01-01: 365-day
    // segments to 2013-03-02.
    assert_eq!(
        summary["segments_fetched"].as_u64(),
        Some(9),
        "365-day segments: {summary}"
    );
    assert_eq!(store_files(store.path()), vec!["GOOG_1d.parquet"]);
    let (_, range) = app
        .post("/data/range", json!({"symbol": "GOOG", "timeframe": "1d"}))
        .await;
    assert_eq!(range["data"]["point_count"], 2148);
    assert_eq!(range["data"]["start_date"], "2004-08-19T00:00:00");
    // /symbols summarises the stored series (from the Parquet file's dates).
    let (_, symbols) = app.get("/symbols").await;
    assert_eq!(symbols["data"][0]["symbol"], "GOOG", "{symbols}");
    assert_eq!(symbols["data"][0]["available_timeframes"], json!(["1d"]));
    let series = &symbols["data"][0]["series"][0];
    assert_eq!(series["point_count"], 2148);
    assert!(series["start_date"]
        .as_str()
        .unwrap()
        .starts_with("2004-08-19"));
    assert!(series["end_date"]
        .as_str()
        .unwrap()
        .starts_with("2013-03-01"));
    let (_, bars) = app.get("/data/GOOG/1d?start_date=2013-02-25").await;
    assert_eq!(bars["data"]["dates"].as_array().unwrap().len(), 5);
    assert_eq!(
        bars["data"]["ohlcv"][4],
        json!([797.8, 807.14, 796.15, 806.19, 2175400.0])
    );

    let again = app
        .load(json!({"symbol": "GOOG", "timeframe": "1d", "mode": "full", "start_date": "2004-08-19", "end_date": "2013-03-02"}))
        .await;
    assert_eq!(again["result_summary"]["gaps_to_fetch"], 0, "{again}");
    assert!(again["result_summary"]["expected_gaps"].as_u64().unwrap() > 400);
    assert_eq!(again["result_summary"]["requests_made"], 0);
}

/// KTRDR's `1M`: the real BTCUSD monthly sample (bars dated on the month's last day, 2012-2024)
/// loads whole, is stored as `BTCUSD_1M`, and a second `full` finds no month missing.
#[actix_web::test]
async fn full_load_of_real_btcusd_monthly() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(
        src.path().join("BTCUSD_1M.csv"),
        include_str!("../../sample_data/BTCUSD_1M.csv"),
    )
    .unwrap();
    let store = tempfile::tempdir().unwrap();
    let app = spawn_app_with(data_settings(&spawn_ib_host(src.path(), 0), store.path())).await;
    let body = json!({"symbol": "BTCUSD", "timeframe": "1M", "mode": "full", "start_date": "2012-01-01", "end_date": "2025-01-01"});
    let op = app.load(body.clone()).await;
    assert_eq!(op["status"], "completed", "{op}");
    assert_eq!(op["metadata"]["parameters"]["calendar"], "crypto");
    assert_eq!(op["result_summary"]["fetched_bars"], 156);
    assert_eq!(store_files(store.path()), vec!["BTCUSD_1M.parquet"]);
    let (_, range) = app
        .post(
            "/data/range",
            json!({"symbol": "BTCUSD", "timeframe": "1M"}),
        )
        .await;
    assert_eq!(range["data"]["point_count"], 156);
    let again = app.load(body).await;
    assert_eq!(again["result_summary"]["gaps_to_fetch"], 0, "{again}");
    assert_eq!(again["result_summary"]["requests_made"], 0);
    let (_, tfs) = app.get("/timeframes").await;
    assert!(tfs["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == "1M"));
}

/// `tail` after rows were appended at the source fetches exactly the new rows; `local` never
/// asks the host.
#[actix_web::test]
async fn tail_after_append_and_local() {
    let src = tempfile::tempdir().unwrap();
    let csv = src.path().join("SYNTH_1h.csv");
    let t0: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
    std::fs::write(&csv, hourly_csv(t0, 24 * 40, true)).unwrap();
    let store = tempfile::tempdir().unwrap();
    let ib = spawn_ib_host(src.path(), 0);
    let app = spawn_app_with(data_settings(&ib, store.path())).await;
    let base = json!({"symbol": "SYNTH", "timeframe": "1h", "calendar": "crypto"});
    let with = |extra: serde_json::Value| {
        let mut b = base.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    let first = app
        .load(with(
            json!({"mode": "full", "start_date": "2024-01-01", "end_date": "2024-02-10"}),
        ))
        .await;
    assert_eq!(first["result_summary"]["fetched_bars"], 24 * 40, "{first}");

    let more = hourly_csv(t0 + Duration::hours(24 * 40), 30, false);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&csv)
        .unwrap()
        .write_all_str(&more);
    let tail = app
        .load(with(json!({"mode": "tail", "end_date": "2024-02-12"})))
        .await;
    assert_eq!(tail["result_summary"]["fetched_bars"], 30, "{tail}");
    assert_eq!(tail["result_summary"]["cached_before"], true);
    let (_, range) = app
        .post("/data/range", json!({"symbol": "SYNTH", "timeframe": "1h"}))
        .await;
    assert_eq!(range["data"]["point_count"], 24 * 40 + 30);

    let requests = |body: serde_json::Value| body["requests"].as_u64().unwrap();
    let (_, before) = crate::helpers::get_json(&format!("{ib}/health/detailed")).await;
    let local = app.load(with(json!({"mode": "local"}))).await;
    assert_eq!(local["status"], "completed");
    assert_eq!(local["result_summary"]["fetched_bars"], 0);
    let (_, after) = crate::helpers::get_json(&format!("{ib}/health/detailed")).await;
    assert_eq!(requests(before), requests(after), "local asked the host");
}

trait AppendStr {
    fn write_all_str(&mut self, s: &str);
}

impl AppendStr for std::fs::File {
    fn write_all_str(&mut self, s: &str) {
        use std::io::Write;
        self.write_all(s.as_bytes()).unwrap();
    }
}

/// Cancelling a slow multi-segment load keeps the segments already saved, whole, and leaves
/// no temporary file.
#[actix_web::test]
async fn cancel_mid_load_keeps_completed_segments() {
    let src = tempfile::tempdir().unwrap();
    let t0: DateTime<Utc> = "2023-01-01T00:00:00Z".parse().unwrap();
    std::fs::write(
        src.path().join("SLOW_1h.csv"),
        hourly_csv(t0, 24 * 300, true),
    )
    .unwrap();
    let store = tempfile::tempdir().unwrap();
    let app = spawn_app_with(slow_host_settings(src.path(), store.path(), 300)).await;
    let (id, _ws) = start_and_await_segments(&app, json!({"symbol": "SLOW", "timeframe": "1h", "calendar": "crypto", "mode": "full", "start_date": "2023-01-01", "end_date": "2023-10-28"}), 2).await;
    let (status, _) = app.delete(&format!("/operations/{id}")).await;
    assert_eq!(status, 200);
    let (_, op) = app.get(&format!("/operations/{id}")).await;
    assert_eq!(op["data"]["status"], "cancelled");
    let segments_done = op["data"]["progress"]["context"]["current_segment"]
        .as_u64()
        .unwrap();
    assert!(segments_done < 10, "ran to the end before the cancel");
    assert_eq!(
        store_files(store.path()),
        vec!["SLOW_1h.parquet"],
        "no temp file"
    );
    let (_, range) = app
        .post("/data/range", json!({"symbol": "SLOW", "timeframe": "1h"}))
        .await;
    let kept = range["data"]["point_count"].as_u64().unwrap();
    assert_eq!(kept % (24 * 30), 0, "whole 30-day segments only: {kept}");
    assert!((2 * 24 * 30..24 * 300).contains(&kept), "{kept}");
}

/// Host down: the load fails with a clear error and the store is untouched.
#[actix_web::test]
async fn host_down_fails_cleanly() {
    let store = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}", dead_port());
    let app = spawn_app_with(data_settings(&url, store.path())).await;
    let op = app
        .load(json!({"symbol": "GOOG", "timeframe": "1d", "mode": "full", "start_date": "2010-01-01", "end_date": "2011-01-01"}))
        .await;
    assert_eq!(op["status"], "failed");
    let msg = op["error_message"].as_str().unwrap();
    assert!(msg.contains("cannot reach IB host service"), "{msg}");
    assert!(store_files(store.path()).is_empty());
}

/// Unknown symbols fail with the host's reason; bad input is a 400 naming the field.
#[actix_web::test]
async fn unknown_symbol_and_bad_input() {
    let (app, _src, _store) = goog_app().await;
    let op = app
        .load(json!({"symbol": "NOPE", "timeframe": "1d", "mode": "full"}))
        .await;
    assert_eq!(op["status"], "failed");
    assert!(
        op["error_message"]
            .as_str()
            .unwrap()
            .contains("unknown symbol NOPE"),
        "{op}"
    );
    let op = app
        .load(json!({"symbol": "GOOG", "timeframe": "1h", "mode": "full"}))
        .await;
    assert!(
        op["error_message"]
            .as_str()
            .unwrap()
            .contains("no 1h data for GOOG"),
        "{op}"
    );

    for (body, field) in [
        (
            json!({"symbol": "../etc", "timeframe": "1d"}),
            "body -> symbol",
        ),
        (
            json!({"symbol": "GOOG", "timeframe": "2d"}),
            "body -> timeframe",
        ),
        (
            json!({"symbol": "GOOG", "timeframe": "1d", "mode": "everything"}),
            "body -> mode",
        ),
        (
            json!({"symbol": "GOOG", "timeframe": "1d", "start_date": "2020-13-01"}),
            "body -> start_date",
        ),
        (
            json!({"symbol": "GOOG", "timeframe": "1d", "start_date": "2020-02-01", "end_date": "2020-01-01"}),
            "body -> end_date",
        ),
        (json!({"timeframe": "1d"}), "body"),
    ] {
        let (status, res) = app.post("/data/load", body.clone()).await;
        assert_eq!(status, 400, "{body}: {res}");
        let got = res["error"]["details"][0]["field"].as_str().unwrap();
        assert!(got.starts_with(field), "{body}: {got}");
    }
    let (status, res) = app.get("/data/GOOG/3h").await;
    assert_eq!(status, 400, "{res}");
    let (status, _) = app.get("/data/NOTHING/1d").await;
    assert_eq!(status, 404);
    let (_, tfs) = app.get("/timeframes").await;
    assert_eq!(tfs["data"][0]["id"], "1m");
}

/// The IB host service's own endpoints: distinct errors for a bad timeframe (400), an unknown
/// symbol (404) and a missing bar size (404); an empty range is an empty result; validate and
/// detailed health report what happened.
#[actix_web::test]
async fn ib_host_endpoints() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("GOOG_1d.csv"), GOOG).unwrap();
    let ib = spawn_ib_host(src.path(), 0);
    let client = awc::Client::default();
    let post = |path: &str, body: serde_json::Value| {
        let req = client.post(format!("{ib}{path}"));
        async move {
            let mut res = req.send_json(&body).await.unwrap();
            (
                res.status().as_u16(),
                res.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (s, v) = post(
        "/data/historical",
        json!({"symbol": "GOOG", "timeframe": "1d", "start": "2013-02-25", "end": "2013-03-02"}),
    )
    .await;
    assert_eq!((s, v["count"].as_u64()), (200, Some(5)), "{v}");
    assert_eq!(v["bars"]["close"][4], 806.19);
    // The CSV provider has no pacing queue; the timing fields are there all the same.
    assert_eq!(v["pacing_wait_ms"], 0.0);
    assert!(v["elapsed_ms"].as_f64().unwrap() >= 0.0);
    let (s, v) = post(
        "/data/historical",
        json!({"symbol": "GOOG", "timeframe": "1d", "start": "2020-01-01", "end": "2020-02-01"}),
    )
    .await;
    assert_eq!(
        (s, v["count"].as_u64()),
        (200, Some(0)),
        "no bars in range is empty, not an error"
    );
    let (s, v) = post(
        "/data/historical",
        json!({"symbol": "GOOG", "timeframe": "7d", "start": "2013-02-25", "end": "2013-03-02"}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["details"][0]["field"], "body -> timeframe");
    let (s, v) = post(
        "/data/historical",
        json!({"symbol": "MSFT", "timeframe": "1d", "start": "2013-02-25", "end": "2013-03-02"}),
    )
    .await;
    assert_eq!(
        (s, v["detail"].as_str()),
        (404, Some("unknown symbol MSFT"))
    );
    let (s, v) = post(
        "/data/historical",
        json!({"symbol": "GOOG", "timeframe": "1h", "start": "2013-02-25", "end": "2013-03-02"}),
    )
    .await;
    assert_eq!(s, 404);
    assert!(
        v["detail"].as_str().unwrap().contains("available: 1d"),
        "{v}"
    );
    let (s, v) = post(
        "/data/validate",
        json!({"symbol": "GOOG", "timeframes": ["1d", "1h"]}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["valid"].as_bool(), v["missing_timeframes"].clone()),
        (Some(false), json!(["1h"]))
    );
    let mut res = client
        .get(format!("{ib}/data/head-timestamp?symbol=GOOG&timeframe=1d"))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["head_timestamp"], "2004-08-19T00:00:00Z");
    let mut res = client
        .get(format!("{ib}/health/detailed"))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (v["requests"].as_u64(), v["errors"].as_u64()),
        (Some(7), Some(3)),
        "{v}"
    );
    assert_eq!(v["provider"], "csv");
}

/// Some segments fail (the source file disappears mid-load): the load ends `failed`, keeps
/// the segments it got, and lists the failed ranges in its result summary.
#[actix_web::test]
async fn partial_load_lists_failed_ranges() {
    let src = tempfile::tempdir().unwrap();
    let t0: DateTime<Utc> = "2023-01-01T00:00:00Z".parse().unwrap();
    let file = src.path().join("GONE_1h.csv");
    std::fs::write(&file, hourly_csv(t0, 24 * 150, true)).unwrap();
    let store = tempfile::tempdir().unwrap();
    let app = spawn_app_with(slow_host_settings(src.path(), store.path(), 200)).await;
    let (id, mut ws) = start_and_await_segments(&app, json!({"symbol": "GONE", "timeframe": "1h", "calendar": "crypto", "mode": "full", "start_date": "2023-01-01", "end_date": "2023-05-31"}), 2).await;
    std::fs::remove_file(&file).unwrap();
    let (events, _) = ws.until_closed().await;
    let op = &events.last().unwrap()["operation"];
    assert_eq!(op["status"], "failed", "{op}");
    let summary = &op["result_summary"];
    assert_eq!(summary["status"], "failed");
    assert!(op["error_message"]
        .as_str()
        .unwrap()
        .contains("unknown symbol GONE"));
    let failed = summary["failed_ranges"].as_array().unwrap();
    assert!(!failed.is_empty() && failed.len() < 5, "{summary}");
    assert!(failed[0]["error"]
        .as_str()
        .unwrap()
        .contains("unknown symbol GONE"));
    assert_eq!(
        summary["segments_fetched"].as_u64().unwrap() + failed.len() as u64,
        5
    );
    let (_, range) = app
        .post("/data/range", json!({"symbol": "GONE", "timeframe": "1h"}))
        .await;
    assert_eq!(range["data"]["point_count"], summary["fetched_bars"]);
    let (_, got) = app.get(&format!("/operations/{id}")).await;
    assert_eq!(got["data"]["result_summary"], *summary);

    // The source is back: a retry runs the same load as a new operation, which fetches only
    // the failed segments, and the series is whole.
    std::fs::write(&file, hourly_csv(t0, 24 * 150, true)).unwrap();
    let (status, res) = app
        .post(&format!("/operations/{id}/retry"), json!({}))
        .await;
    assert_eq!(status, 200, "{res}");
    crate::helpers::assert_ktrdr_shape("operation_retry.json", &res);
    let new_id = res["data"]["operation_id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, id);
    assert_eq!(res["data"]["operation_type"], "data_load");
    assert_eq!(res["data"]["metadata"]["symbol"], "GONE");
    let again = app.wait_for(&new_id).await;
    assert_eq!(again["status"], "completed", "{again}");
    assert_eq!(
        again["result_summary"]["requests_made"].as_u64(),
        Some(failed.len() as u64),
        "{again}"
    );
    let (_, range) = app
        .post("/data/range", json!({"symbol": "GONE", "timeframe": "1h"}))
        .await;
    assert_eq!(range["data"]["point_count"], 24 * 150);
    // Only failed or cancelled operations are retried.
    let (status, res) = app
        .post(&format!("/operations/{new_id}/retry"), json!({}))
        .await;
    assert_eq!(status, 400, "{res}");
    assert!(res["detail"]
        .as_str()
        .unwrap()
        .contains("cannot be retried (status: completed)"));
    let (status, _) = app.post("/operations/op_nosuch/retry", json!({})).await;
    assert_eq!(status, 404);
}

/// Without the IB host service the backend reads the CSV provider in-process.
#[actix_web::test]
async fn direct_mode_reads_provider_in_process() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("GOOG_1d.csv"), GOOG).unwrap();
    let store = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::test_settings();
    settings.data.csv_dir = src.path().to_owned();
    settings.paths.data_dir = store.path().to_owned();
    assert!(!settings.ib_host_service.enabled);
    let app = spawn_app_with(settings).await;
    let op = app
        .load(json!({"symbol": "GOOG", "timeframe": "1d", "mode": "full", "start_date": "2012-01-01", "end_date": "2013-01-01"}))
        .await;
    assert_eq!(op["status"], "completed", "{op}");
    assert_eq!(op["result_summary"]["fetched_bars"], 250);
}
