//! Data-path benchmarks: pipeline throughput on 1,000,000 one-minute bars, an end-to-end
//! `full` load through the IB host service, and cancel latency in the middle of a fetch.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use ktrdr::config::Settings;
use ktrdr::data::calendar::{is_nyse_early_close, is_nyse_trading_day, Calendar};
use ktrdr::data::gaps::GapAnalyzer;
use ktrdr::data::store::BarStore;
use ktrdr::data::validation::validate;
use ktrdr::hosts::ib::csv_provider::CsvProvider;
use ktrdr::server::{self, Backend};
use ktrdr_core::bars::{Bar, Bars};
use ktrdr_core::mode::LoadMode;
use ktrdr_core::timeframe::{Symbol, Timeframe};
use serde_json::{json, Value};

use crate::{percentile, row, sorted};

/// `n` one-minute bars over NYSE sessions (early closes included) from 2010 on.
pub(crate) fn equity_minutes(n: usize) -> Bars {
    let mut bars = Bars::with_capacity(n);
    let mut date = NaiveDate::from_ymd_opt(2010, 1, 4).unwrap();
    let open = NaiveTime::from_hms_opt(9, 30, 0).unwrap();
    while bars.len() < n {
        if is_nyse_trading_day(date) {
            let minutes = if is_nyse_early_close(date) { 210 } else { 390 };
            let t0 = New_York
                .from_local_datetime(&date.and_time(open))
                .unwrap()
                .timestamp_millis();
            for m in 0..minutes {
                if bars.len() == n {
                    break;
                }
                let p = 100.0 + ((bars.len() % 977) as f64) * 0.01;
                bars.push(Bar {
                    time: t0 + m * 60_000,
                    open: p,
                    high: p + 0.05,
                    low: p - 0.05,
                    close: p + 0.01,
                    volume: 100.0,
                });
            }
        }
        date = date.succ_opt().unwrap();
    }
    bars
}

fn rate(n: usize, d: Duration) -> String {
    format!(
        "{:.1} ms ({:.1} M bars/s)",
        d.as_secs_f64() * 1e3,
        n as f64 / d.as_secs_f64() / 1e6
    )
}

/// Gap analysis, validation, merge+save and store read over 1M bars.
pub fn pipeline_throughput() {
    const N: usize = 1_000_000;
    let bars = equity_minutes(N);
    let start = bars.first_time().unwrap();
    let end = bars.last_time().unwrap() + chrono::Duration::minutes(1);
    let analyzer = GapAnalyzer::new(Timeframe::M1, Calendar::UsEquity);
    let t = Instant::now();
    let analysis = analyzer.analyze(&bars.time, LoadMode::Full, start, end);
    let gap_time = t.elapsed();
    assert!(analysis.gaps.is_empty(), "{:?}", &analysis.gaps[..1]);
    row(
        "gap analysis, 1M 1m bars (full mode)",
        rate(N, gap_time),
        "< 50 ms",
        &format!(
            "{} closed-market holes examined, none to fetch",
            analysis.expected
        ),
    );

    let t = Instant::now();
    let (clean, report) = validate(&bars, Timeframe::M1);
    row(
        "validation, 1M 1m bars",
        rate(N, t.elapsed()),
        "-",
        &format!("{} issues", report.issues.len()),
    );

    let dir = tempfile::tempdir().unwrap();
    let store = BarStore::new(dir.path());
    let sym: Symbol = "BENCH".parse().unwrap();
    store.write(&sym, Timeframe::M1, &clean).unwrap();
    let fresh = clean.slice_range(Some(clean.time[N - 1000]), None);
    let t = Instant::now();
    store.merge_and_save(&sym, Timeframe::M1, &fresh).unwrap();
    row(
        "merge + atomic save, 1M stored + 1k new bars",
        rate(N, t.elapsed()),
        "-",
        "Parquet, fsync'd",
    );

    let mut reads = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let back = store.read(&sym, Timeframe::M1).unwrap();
        reads.push(t.elapsed());
        assert_eq!(back.len(), N);
    }
    reads.sort();
    row(
        "store read, 1M 1m bars",
        rate(N, reads[2]),
        "< 100 ms",
        "median of 5, warm page cache",
    );
}

async fn backend_with_host(
    csv_dir: &std::path::Path,
    latency_ms: u64,
) -> (Backend, String, tempfile::TempDir) {
    let provider = CsvProvider::new(csv_dir, Duration::from_millis(latency_ms));
    let app = ktrdr::hosts::ib::app(Arc::new(provider));
    let (ib, _) = server::spawn_app(server::bind("127.0.0.1", 0).unwrap(), 1, app).unwrap();
    let store = tempfile::tempdir().unwrap();
    let mut settings = Settings::from_env(&Default::default()).unwrap();
    settings.ib_host_service.enabled = true;
    settings.ib_host_service.url = ib;
    settings.paths.data_dir = store.path().to_owned();
    let backend = Backend::start(settings, server::bind("127.0.0.1", 0).unwrap()).unwrap();
    let base = format!("http://{}/api/v1", backend.addr);
    (backend, base, store)
}

async fn start_load(client: &awc::Client, base: &str, body: Value) -> String {
    let mut res = client
        .post(format!("{base}/data/load"))
        .send_json(&body)
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    v["data"]["operation_id"].as_str().unwrap().to_owned()
}

async fn wait_done(base: &str, id: &str) -> Value {
    use futures_util::StreamExt;
    let url = format!("{base}/operations/{id}/ws").replacen("http", "ws", 1);
    let (_, mut ws) = awc::Client::default().ws(url).connect().await.unwrap();
    // The close frame ends the stream; the TCP teardown after it is not the load's time.
    while let Some(Ok(frame)) = ws.next().await {
        if matches!(frame, awc::ws::Frame::Close(_)) {
            break;
        }
    }
    let mut res = awc::Client::default()
        .get(format!("{base}/operations/{id}"))
        .send()
        .await
        .unwrap();
    res.json::<Value>().await.unwrap()["data"].clone()
}

/// Two years of hourly bars (24/7) from CSV through the IB host service into an empty store.
pub async fn full_load_end_to_end() {
    let src = tempfile::tempdir().unwrap();
    let t0: DateTime<Utc> = "2022-01-01T00:00:00Z".parse().unwrap();
    let hours = 24 * 730;
    let mut csv = String::from("date,open,high,low,close,volume\n");
    for h in 0..hours {
        let t = t0 + chrono::Duration::hours(h);
        writeln!(
            csv,
            "{},100,101,99,100.5,10",
            t.format("%Y-%m-%dT%H:%M:%SZ")
        )
        .unwrap();
    }
    std::fs::write(src.path().join("BTC_1h.csv"), csv).unwrap();
    let (_backend, base, _store) = backend_with_host(src.path(), 0).await;
    let client = awc::Client::default();
    let t = Instant::now();
    let id = start_load(&client, &base, json!({"symbol": "BTC", "timeframe": "1h", "calendar": "crypto", "mode": "full", "start_date": "2022-01-01", "end_date": "2024-01-01"})).await;
    let op = wait_done(&base, &id).await;
    let wall = t.elapsed();
    assert_eq!(op["status"], "completed", "{op}");
    row(
        "full load, 2 years of 1h bars via IB host service (CSV)",
        format!("{:.0} ms", wall.as_secs_f64() * 1e3),
        "-",
        &format!(
            "{} bars, {} requests (30-day segments, 5 at once), validated, merged and saved as segments arrive",
            op["result_summary"]["fetched_bars"], op["result_summary"]["requests_made"]
        ),
    );
}

/// DELETE while segment requests are in flight (host latency 200 ms) until `cancelled`.
pub async fn cancel_mid_fetch(runs: usize) {
    let src = tempfile::tempdir().unwrap();
    let mut csv = String::from("date,open,high,low,close,volume\n");
    let t0: DateTime<Utc> = "2023-01-01T00:00:00Z".parse().unwrap();
    for h in 0..24 * 365 {
        writeln!(
            csv,
            "{},1,1,1,1,1",
            (t0 + chrono::Duration::hours(h)).format("%Y-%m-%dT%H:%M:%SZ")
        )
        .unwrap();
    }
    std::fs::write(src.path().join("SLOW_1h.csv"), csv).unwrap();
    let (_backend, base, _store) = backend_with_host(src.path(), 200).await;
    let client = awc::Client::default();
    let mut lat = Vec::new();
    for _ in 0..runs {
        let id = start_load(&client, &base, json!({"symbol": "SLOW", "timeframe": "1h", "calendar": "crypto", "mode": "full", "start_date": "2023-01-01", "end_date": "2023-12-31"})).await;
        tokio::time::sleep(Duration::from_millis(50)).await; // requests are in flight now
        lat.push(crate::timed_cancel(&client, &base, &id).await);
    }
    let s = sorted(lat);
    row(
        "cancel latency, data load with segment requests in flight",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            percentile(&s, 0.5),
            percentile(&s, 0.99)
        ),
        "p99 < 20 ms",
        &format!("{runs} loads, host latency 200 ms, HTTP round trip included"),
    );
}

/// A training run's bars on their way to the training host: 1M one-minute bars as JSON
/// numbers (the form before the binary frame) against Parquet bytes in the run frame; size,
/// and encode + decode time on the sending and receiving side.
pub fn training_bars_transfer() {
    use ktrdr::data::store::{bars_from_parquet, bars_to_parquet};
    const N: usize = 1_000_000;
    let bars = equity_minutes(N);
    let t0 = Instant::now();
    let json = serde_json::to_vec(&bars).unwrap();
    let back: Bars = serde_json::from_slice(&json).unwrap();
    let json_time = t0.elapsed();
    assert_eq!(back.len(), bars.len());
    // serde_json (without its float_roundtrip feature) may change a float's last bit.
    let inexact = [
        (&back.open, &bars.open),
        (&back.high, &bars.high),
        (&back.low, &bars.low),
        (&back.close, &bars.close),
    ]
    .iter()
    .map(|(a, b)| a.iter().zip(b.iter()).filter(|(x, y)| x != y).count())
    .sum::<usize>();
    let t0 = Instant::now();
    let parquet = bars_to_parquet(&bars).unwrap();
    let back = bars_from_parquet(&parquet).unwrap();
    let parquet_time = t0.elapsed();
    assert!(back == bars, "the Parquet round trip must be exact");
    let mb = |n: usize| n as f64 / 1e6;
    row(
        "training host transfer of 1M 1m bars: JSON numbers vs Parquet frame",
        format!(
            "JSON {:.1} MB, {:.0} ms; Parquet {:.1} MB, {:.0} ms",
            mb(json.len()),
            json_time.as_secs_f64() * 1e3,
            mb(parquet.len()),
            parquet_time.as_secs_f64() * 1e3
        ),
        "smaller and faster",
        &format!(
            "encode + decode, one thread; Parquet is {:.1}x smaller, {:.1}x faster, and exact \
             (JSON changed {inexact} of 4M prices in their last bit)",
            json.len() as f64 / parquet.len() as f64,
            json_time.as_secs_f64() / parquet_time.as_secs_f64()
        ),
    );
}
