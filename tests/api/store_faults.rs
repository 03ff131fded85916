//! Faults on the data path: overlapping loads of one series, a host that lies, a host that
//! sends malformed answers, a host killed mid-load, unbounded requests and a damaged store
//! file. The misbehaving provider below is a stand-in for a faulty IB Gateway, served by the
//! real IB host service on port 0.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures_util::future::{join_all, BoxFuture};
use ktrdr::data::provider::{BarProvider, ProviderError, SymbolInfo};
use ktrdr::data::store::BarStore;
use ktrdr::server;
use ktrdr_core::bars::{Bar, Bars};
use ktrdr_core::timeframe::{Symbol, Timeframe};
use serde_json::{json, Value};

use crate::helpers::{
    data_settings, spawn_app_with, spawn_bin, store_files, test_settings, TestApp,
};

const GOOG: &str = include_str!("../../sample_data/GOOG_1d.csv");

fn utc(s: &str) -> DateTime<Utc> {
    format!("{s}T00:00:00Z").parse().unwrap()
}

/// Daily bars, one every day (crypto calendar), over `[start, end)`.
fn daily(start: DateTime<Utc>, end: DateTime<Utc>) -> Bars {
    let mut b = Bars::default();
    let mut t = start;
    while t < end {
        let p = 100.0 + (t.timestamp() / 86_400 % 17) as f64;
        b.push(Bar {
            time: t.timestamp_millis(),
            open: p,
            high: p + 1.0,
            low: p - 1.0,
            close: p + 0.5,
            volume: 1000.0,
        });
        t += Duration::days(1);
    }
    b
}

/// What the stand-in provider does wrong.
#[derive(Clone, Copy)]
enum Fault {
    /// Adds bars of 1970 and 2100, and one before the first available bar.
    OutOfRange,
    /// Drops the last close of answers for requests starting on or after this date.
    ShortColumnFrom(i64),
}

/// A stand-in for a misbehaving gateway: honest daily bars over 2019-06-01..now, with `fault`.
struct Misbehaving {
    fault: Fault,
    head: DateTime<Utc>,
}

impl BarProvider for Misbehaving {
    fn name(&self) -> &'static str {
        "misbehaving stand-in"
    }

    fn historical(
        &self,
        _symbol: Symbol,
        _timeframe: Timeframe,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BoxFuture<'static, Result<Bars, ProviderError>> {
        let mut bars = daily(start.max(self.head), end);
        match self.fault {
            Fault::OutOfRange => {
                let bad = |t: DateTime<Utc>| Bar {
                    time: t.timestamp_millis(),
                    open: 1.0,
                    high: 1.0,
                    low: 1.0,
                    close: 1.0,
                    volume: 1.0,
                };
                let mut lies = Bars::default();
                lies.push(bad(utc("1970-01-01")));
                // The day before the first available bar.
                lies.push(bad(self.head - Duration::days(1)));
                bars = Bars::merge(&lies, &bars);
                bars.push(bad(utc("2100-01-01")));
            }
            Fault::ShortColumnFrom(from) => {
                if start.timestamp_millis() >= from {
                    bars.close.pop();
                }
            }
        }
        Box::pin(async move { Ok(bars) })
    }

    fn head_timestamp(
        &self,
        _symbol: Symbol,
        _timeframe: Timeframe,
    ) -> BoxFuture<'static, Result<Option<DateTime<Utc>>, ProviderError>> {
        let head = self.head;
        Box::pin(async move { Ok(Some(head)) })
    }

    fn validate(&self, symbol: Symbol) -> BoxFuture<'static, Result<SymbolInfo, ProviderError>> {
        Box::pin(async move {
            Ok(SymbolInfo {
                symbol: symbol.to_string(),
                available_timeframes: vec![Timeframe::D1],
                contract: None,
            })
        })
    }
}

/// A backend loading into `store` through the real IB host service over `provider`.
async fn app_over(provider: Misbehaving, store: &Path) -> TestApp {
    let app = ktrdr::hosts::ib::app(Arc::new(provider));
    let ib = server::spawn_app(server::bind("127.0.0.1", 0).unwrap(), 1, app)
        .unwrap()
        .0;
    spawn_app_with(data_settings(&ib, store)).await
}

fn stored(store: &Path, symbol: &str, tf: Timeframe) -> Bars {
    BarStore::new(store)
        .read(&symbol.parse().unwrap(), tf)
        .expect("the stored file reads")
}

/// Ten overlapping `full` loads of GOOG daily at once, spread over two backends sharing one
/// data folder (as two processes would), twenty times over: every load ends `completed`, the
/// file reads, and it holds exactly the source's bars over the union of the ranges. (Before
/// the series lock and unique temp files this left the file unreadable 5 times in 6.)
#[actix_web::test]
async fn overlapping_loads_of_one_series() {
    const ROUNDS: usize = 20;
    let src = tempfile::tempdir().unwrap();
    for round in 0..ROUNDS {
        std::fs::write(src.path().join(format!("GOOG{round}_1d.csv")), GOOG).unwrap();
    }
    let source =
        ktrdr::data::validation::validate(&ktrdr::data::csv::parse(GOOG).unwrap(), Timeframe::D1).0;
    let first = utc("2005-01-01");
    let range = |i: i64| {
        let start = first + Duration::days(i * 182);
        (start, start + Duration::days(365))
    };
    let want = source.slice_range(
        Some(first.timestamp_millis()),
        Some(range(9).1.timestamp_millis()),
    );
    let store = tempfile::tempdir().unwrap();
    let mut backends = Vec::new();
    for _ in 0..2 {
        let mut settings = test_settings();
        settings.data.csv_dir = src.path().to_owned();
        settings.paths.data_dir = store.path().to_owned();
        backends.push(spawn_app_with(settings).await);
    }
    for round in 0..ROUNDS {
        let symbol = format!("GOOG{round}");
        let loads = (0..10).map(|i| {
            let (start, end) = range(i);
            let body = json!({
                "symbol": symbol, "timeframe": "1d", "mode": "full", "calendar": "us_equity",
                "start_date": start.format("%Y-%m-%d").to_string(),
                "end_date": end.format("%Y-%m-%d").to_string(),
            });
            backends[i as usize % 2].load(body)
        });
        let ops = join_all(loads).await;
        for op in &ops {
            assert_eq!(op["status"], "completed", "round {round}: {op}");
        }
        let got = stored(store.path(), &symbol, Timeframe::D1);
        if got != want {
            let first_diff = (0..got.len().max(want.len())).find(|&i| {
                got.time.get(i) != want.time.get(i) || got.close.get(i) != want.close.get(i)
            });
            for op in &ops {
                eprintln!("{} {}", op["metadata"]["start_date"], op["result_summary"]);
            }
            panic!(
                "round {round}: {} bars stored, {} expected; first difference at {first_diff:?}: {:?} vs {:?}",
                got.len(),
                want.len(),
                first_diff.and_then(|i| got.time.get(i)),
                first_diff.and_then(|i| want.time.get(i)),
            );
        }
    }
    let names = store_files(store.path());
    assert_eq!(
        names.len(),
        ROUNDS,
        "one file per series, no temp file: {names:?}"
    );
    assert!(
        names.iter().all(|n| n.ends_with("_1d.parquet")),
        "{names:?}"
    );
}

/// A host answering with bars of 1970, 2100 and the day before the symbol's first bar: the load
/// completes with exactly the requested range stored, each lie reported and dropped; a
/// later `tail` still finds what is missing (the series was not poisoned).
#[actix_web::test]
async fn lying_host_cannot_poison_a_series() {
    let store = tempfile::tempdir().unwrap();
    let provider = Misbehaving {
        fault: Fault::OutOfRange,
        head: utc("2020-01-10"),
    };
    let app = app_over(provider, store.path()).await;
    let op = app
        .load(json!({"symbol": "LIAR", "timeframe": "1d", "calendar": "crypto", "mode": "full", "start_date": "2020-01-01", "end_date": "2020-04-01"}))
        .await;
    assert_eq!(op["status"], "completed", "{op}");
    let issues = op["result_summary"]["validation_issues"]
        .as_array()
        .unwrap();
    let count = |check: &str| {
        issues
            .iter()
            .filter(|i| i["check"] == check)
            .map(|i| i["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(count("future"), 1, "{issues:?}");
    // The request starts at the head's bar (the provider has nothing before it), so the day
    // before the head is outside the request, like 1970.
    assert_eq!(count("out_of_range"), 2, "{issues:?}");
    let bars = stored(store.path(), "LIAR", Timeframe::D1);
    assert_eq!(bars, daily(utc("2020-01-10"), utc("2020-04-01")));

    let tail = app
        .load(json!({"symbol": "LIAR", "timeframe": "1d", "calendar": "crypto", "mode": "tail", "end_date": "2020-04-11"}))
        .await;
    assert_eq!(tail["status"], "completed", "{tail}");
    assert_eq!(tail["result_summary"]["fetched_bars"], 10, "{tail}");
    let bars = stored(store.path(), "LIAR", Timeframe::D1);
    assert_eq!(bars.last_time(), Some(utc("2020-04-10")));
}

/// An answer with columns of different lengths fails its segment and the load (never
/// `completed`); the other segments are kept, and a load whose only answer is malformed
/// writes no file at all.
#[actix_web::test]
async fn malformed_answer_fails_the_load() {
    let store = tempfile::tempdir().unwrap();
    let provider = Misbehaving {
        fault: Fault::ShortColumnFrom(utc("2020-05-01").timestamp_millis()),
        head: utc("2000-01-01"),
    };
    let app = app_over(provider, store.path()).await;
    let op = app
        .load(json!({"symbol": "BAD", "timeframe": "1d", "calendar": "crypto", "mode": "full", "start_date": "2020-07-01", "end_date": "2020-08-01"}))
        .await;
    crate::helpers::assert_failed_with(&op, "columns of different lengths");
    assert!(store_files(store.path()).is_empty(), "no empty file");

    // 365-day segments: the first (2019-06-01..2020-05-31) is honest, the second malformed.
    let op = app
        .load(json!({"symbol": "BAD", "timeframe": "1d", "calendar": "crypto", "mode": "full", "start_date": "2019-06-01", "end_date": "2020-07-01"}))
        .await;
    assert_eq!(op["status"], "failed", "{op}");
    let summary = &op["result_summary"];
    assert_eq!(summary["segments_failed"], 1, "{summary}");
    assert_eq!(summary["segments_fetched"], 1, "{summary}");
    assert_eq!(summary["status"], "failed");
    let msg = op["error_message"].as_str().unwrap();
    assert!(
        msg.starts_with("load incomplete: 1 of 2 segments failed"),
        "{msg}"
    );
    assert!(
        msg.contains("kept 1 segments (365 bars): 2019-06-01 - 2020-05-31"),
        "{msg}"
    );
    let bars = stored(store.path(), "BAD", Timeframe::D1);
    assert_eq!(bars, daily(utc("2019-06-01"), utc("2020-05-31")));
}

/// The IB host process killed after segment 5 of 23: the load ends `failed` (not
/// `completed`), its error names the failed and the kept ranges, the kept bars are the
/// source's; with the host back, a `full` load fetches exactly the failed segments and the
/// series is whole.
#[actix_web::test]
async fn host_killed_mid_load_fails_honestly() {
    let src = tempfile::tempdir().unwrap();
    let t0 = utc("2022-01-01");
    let hours = 24 * 30 * 23;
    crate::helpers::write_hourly_csv(src.path(), "KILL", t0, hours);
    let csv_dir = src.path().to_str().unwrap().to_owned();
    let host_args = |port: &str| {
        vec![
            "ib-host".to_owned(),
            "--port".to_owned(),
            port.to_owned(),
            "--csv-dir".to_owned(),
            csv_dir.clone(),
            "--latency-ms".to_owned(),
            "150".to_owned(),
        ]
    };
    let args = host_args("0");
    let host = spawn_bin(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    let port = host.base.rsplit(':').next().unwrap().to_owned();
    let store = tempfile::tempdir().unwrap();
    let mut settings = data_settings(&host.base, store.path());
    settings.data.load_concurrency = 1;
    settings.host_client.max_retries = 0;
    let app = spawn_app_with(settings).await;
    let end = t0 + Duration::hours(hours);
    let body = json!({"symbol": "KILL", "timeframe": "1h", "calendar": "crypto", "mode": "full",
        "start_date": "2022-01-01", "end_date": end.format("%Y-%m-%d").to_string()});
    let (_, res) = app.post("/data/load", body.clone()).await;
    let id = res["data"]["operation_id"].as_str().unwrap().to_owned();
    let mut ws = app.ws(&format!("/operations/{id}/ws")).await;
    loop {
        let ev = ws.event().await;
        if ev["operation"]["progress"]["context"]["current_segment"].as_u64() >= Some(5) {
            break;
        }
    }
    drop(host);
    let (events, _) = ws.until_closed().await;
    let op = &events.last().unwrap()["operation"];
    assert_eq!(op["status"], "failed", "{op}");
    let (_, op) = app.get(&format!("/operations/{id}")).await;
    let op = &op["data"];
    let summary = &op["result_summary"];
    let failed = summary["segments_failed"].as_u64().unwrap();
    let kept = summary["segments_fetched"].as_u64().unwrap();
    assert_eq!(failed + kept, 23, "{summary}");
    assert!((5..23).contains(&kept), "{summary}");
    let msg = op["error_message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("load incomplete: {failed} of 23 segments failed")),
        "{msg}"
    );
    assert!(msg.contains("cannot reach IB host service"), "{msg}");
    assert!(msg.contains(&format!("kept {kept} segments")), "{msg}");
    assert_eq!(
        summary["kept_ranges"][0]["start"], "2022-01-01T00:00:00Z",
        "{summary}"
    );
    let bars = stored(store.path(), "KILL", Timeframe::H1);
    assert_eq!(bars.len() as u64, kept * 24 * 30, "whole segments kept");
    assert_eq!(summary["fetched_bars"].as_u64(), Some(bars.len() as u64));

    let args = host_args(&port);
    let _host = spawn_bin(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    let again = app.load(body).await;
    assert_eq!(again["status"], "completed", "{again}");
    assert_eq!(
        again["result_summary"]["requests_made"].as_u64(),
        Some(failed),
        "{again}"
    );
    let bars = stored(store.path(), "KILL", Timeframe::H1);
    assert_eq!(bars.len() as i64, hours);
    assert!(
        bars.time.windows(2).all(|w| w[1] - w[0] == 3_600_000),
        "no holes, no duplicates"
    );
}

/// A century of 1-minute bars is refused before anything starts, with the planned request
/// count and the time at IB's pacing; dates before 1900 or after today are refused by field.
#[actix_web::test]
async fn unbounded_loads_are_refused() {
    let store = tempfile::tempdir().unwrap();
    let app = spawn_app_with(data_settings("http://127.0.0.1:9", store.path())).await;
    let (status, res) = app
        .post("/data/load", json!({"symbol": "AAPL", "timeframe": "1m", "mode": "full", "start_date": "1925-01-01", "end_date": "2025-01-01"}))
        .await;
    assert_eq!(status, 400, "{res}");
    let msg = res["detail"].as_str().unwrap();
    assert!(msg.contains("36525 provider requests"), "{msg}");
    assert!(msg.contains("101.5 hours"), "{msg}");
    assert!(msg.contains("KTRDR_MAX_REQUESTS_PER_LOAD"), "{msg}");
    for (body, field) in [
        (
            json!({"symbol": "AAPL", "timeframe": "1d", "start_date": "-0001-01-01"}),
            "body -> start_date",
        ),
        (
            json!({"symbol": "AAPL", "timeframe": "1d", "start_date": "1899-12-31"}),
            "body -> start_date",
        ),
        (
            json!({"symbol": "AAPL", "timeframe": "1d", "end_date": "2999-01-01"}),
            "body -> end_date",
        ),
    ] {
        let (status, res) = app.post("/data/load", body.clone()).await;
        assert_eq!(status, 400, "{body}: {res}");
        assert_eq!(res["error"]["details"][0]["field"], field, "{body}: {res}");
    }
    let (_, ops) = app.get("/operations").await;
    assert_eq!(
        ops["data"].as_array().unwrap().len(),
        0,
        "nothing started: {ops}"
    );
}

/// An unreadable store file: reads answer 409 naming the series (no path), `/symbols` says
/// so, a `tail` load fails with the same words, and a `full` load keeps the damaged file
/// under another name and rebuilds the series.
#[actix_web::test]
async fn damaged_series_is_recoverable() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("GOOG_1d.csv"), GOOG).unwrap();
    let store = tempfile::tempdir().unwrap();
    std::fs::write(
        store.path().join("GOOG_1d.parquet"),
        b"PAR1\x00\x01 not really",
    )
    .unwrap();
    let ib = crate::helpers::spawn_ib_host(src.path(), 0);
    let app = spawn_app_with(data_settings(&ib, store.path())).await;
    let folder = store.path().to_string_lossy().into_owned();
    let no_path = |v: &Value| assert!(!v.to_string().contains(&folder), "path leaked: {v}");

    let (status, res) = app.get("/data/GOOG/1d").await;
    assert_eq!(status, 409, "{res}");
    let msg = res["detail"].as_str().unwrap();
    assert!(
        msg.contains("GOOG 1d is damaged") && msg.contains("`full` load"),
        "{msg}"
    );
    no_path(&res);
    let (status, res) = app
        .post("/data/range", json!({"symbol": "GOOG", "timeframe": "1d"}))
        .await;
    assert_eq!(status, 409, "{res}");
    let (_, symbols) = app.get("/symbols").await;
    assert!(symbols["data"][0]["series"][0]["error"]
        .as_str()
        .unwrap()
        .contains("damaged"));
    no_path(&symbols);

    let tail = app
        .load(json!({"symbol": "GOOG", "timeframe": "1d", "mode": "tail"}))
        .await;
    assert_eq!(tail["status"], "failed", "{tail}");
    assert!(
        tail["error_message"].as_str().unwrap().contains("damaged"),
        "{tail}"
    );
    no_path(&tail);

    let full = app
        .load(json!({"symbol": "GOOG", "timeframe": "1d", "mode": "full", "start_date": "2004-01-01", "end_date": "2013-03-02"}))
        .await;
    assert_eq!(full["status"], "completed", "{full}");
    let warning = full["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("kept as GOOG_1d.parquet.damaged-"),
        "{warning}"
    );
    no_path(&full);
    let names = store_files(store.path());
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[1].starts_with("GOOG_1d.parquet.damaged-"),
        "{names:?}"
    );
    let (status, range) = app
        .post("/data/range", json!({"symbol": "GOOG", "timeframe": "1d"}))
        .await;
    assert_eq!(
        (status, range["data"]["point_count"].as_u64()),
        (200, Some(2148))
    );
}

/// Two real backend processes sharing one data folder, ten overlapping loads of one series
/// between them: every load completes and the file holds exactly the source's bars (the
/// per-series file lock works across processes, not only across threads).
#[actix_web::test]
async fn two_processes_share_a_data_folder() {
    let src = crate::helpers::goog_source();
    let store = tempfile::tempdir().unwrap();
    let env = [
        ("KTRDR_CSV_DIR", src.path().to_str().unwrap()),
        ("KTRDR_DATA_DIR", store.path().to_str().unwrap()),
    ];
    let procs = [
        spawn_bin(&["serve", "--port", "0"], &env),
        spawn_bin(&["serve", "--port", "0"], &env),
    ];
    let first = utc("2006-01-01");
    let loads = (0..10).map(|i| {
        let base = procs[i % 2].base.clone();
        let start = first + Duration::days(i as i64 * 120);
        let body = json!({
            "symbol": "GOOG", "timeframe": "1d", "mode": "full",
            "start_date": start.format("%Y-%m-%d").to_string(),
            "end_date": (start + Duration::days(365)).format("%Y-%m-%d").to_string(),
        });
        async move {
            let (status, res) =
                crate::helpers::post_json(&format!("{base}/api/v1/data/load"), body).await;
            assert_eq!(status, 200, "{res}");
            let id = res["data"]["operation_id"].as_str().unwrap().to_owned();
            let url = format!("{base}/api/v1/operations/{id}/ws").replacen("http", "ws", 1);
            let (_, framed) = awc::Client::default().ws(url).connect().await.unwrap();
            crate::helpers::WsClient::from(framed).until_closed().await;
            crate::helpers::get_json(&format!("{base}/api/v1/operations/{id}"))
                .await
                .1["data"]
                .clone()
        }
    });
    for op in join_all(loads).await {
        assert_eq!(op["status"], "completed", "{op}");
    }
    let source = ktrdr::data::validation::validate(
        &ktrdr::data::csv::parse(crate::helpers::GOOG_1D).unwrap(),
        Timeframe::D1,
    )
    .0;
    let end = first + Duration::days(9 * 120 + 365);
    let want = source.slice_range(Some(first.timestamp_millis()), Some(end.timestamp_millis()));
    assert_eq!(stored(store.path(), "GOOG", Timeframe::D1), want);
    assert_eq!(store_files(store.path()), vec!["GOOG_1d.parquet"]);
}
