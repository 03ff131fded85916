//! The IB Gateway provider at the wire: `ktrdr ib-host --provider ib` (the real binary, on
//! `ibapi`) against the stand-in gateway of `tws/` (the only stand-in: the real gateway needs
//! an IB login), with real backends on top. The stand-in referees IB's pacing with its windows
//! scaled by [`SCALE`], as the host's are through its configuration, and every test ends by
//! asserting that it counted no violation; `ib_wire_referee_catches_each_pacing_rule` shows,
//! with a raw `ibapi` client, that it does count each kind.

#[path = "tws/mod.rs"]
mod tws;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tws::{Fault, StandInGateway};

use crate::helpers::{
    data_settings, get_json as get, post_json as post, spawn_app_with, spawn_bin, within,
    write_hourly_csv, Proc, TestApp,
};

/// IB's pacing windows in these tests: 10 min -> 1.2 s, 15 s -> 30 ms, 2 s -> 4 ms (and the
/// 60 s back-off after a violation -> 120 ms).
const SCALE: f64 = 0.002;

/// The first bar of every CSV the stand-in serves.
fn t0() -> DateTime<Utc> {
    "2023-12-01T00:00:00Z".parse().unwrap()
}

/// A folder of hourly bars (every hour, 2023-12-01 to 2024-05-29) for `symbols`.
fn bars_dir(symbols: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for s in symbols {
        write_hourly_csv(dir.path(), s, t0(), 24 * 180);
    }
    dir
}

/// `ktrdr ib-host --provider ib` (the real binary) on the stand-in gateway, with the pacing
/// scaled like the referee's; the config file lives as long as the returned folder.
fn spawn_host(gw: &StandInGateway, connect_timeout_secs: u64) -> (Proc, tempfile::TempDir) {
    spawn_host_with(gw, connect_timeout_secs, 20)
}

fn spawn_host_with(
    gw: &StandInGateway,
    connect_timeout_secs: u64,
    request_timeout_secs: u64,
) -> (Proc, tempfile::TempDir) {
    let cfg = tempfile::tempdir().unwrap();
    let path = cfg.path().join("ktrdr.toml");
    std::fs::write(
        &path,
        format!(
            "[ib_gateway]\npacing_scale = {SCALE}\n\
             connect_timeout_secs = {connect_timeout_secs}\n\
             request_timeout_secs = {request_timeout_secs}\n"
        ),
    )
    .unwrap();
    let port = gw.port().to_string();
    let host = spawn_bin(
        &["ib-host", "--port", "0", "--provider", "ib"],
        &[
            ("IB_HOST", "127.0.0.1"),
            ("IB_PORT", &port),
            ("IB_CLIENT_ID", "7"),
            ("KTRDR_CONFIG", path.to_str().unwrap()),
        ],
    );
    (host, cfg)
}

/// Polls the host's `/health` (a few ms apart) until `pred` holds; returns that health.
async fn until_health(base: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    within(format!("the IB host's health: {what}"), async {
        loop {
            let (_, h) = get(&format!("{base}/health/detailed")).await;
            if pred(&h) {
                return h;
            }
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

/// Waits until the host has a session with the gateway.
async fn until_connected(gw: &StandInGateway, base: &str) {
    gw.wait_for("a session", |s| (s.sessions > 0).then_some(()))
        .await;
    until_health(base, "connected", |h| h["gateway"]["connected"] == true).await;
}

async fn historical(base: &str, symbol: &str, start: &str, end: &str) -> (u16, Value) {
    post(
        &format!("{base}/data/historical"),
        json!({"symbol": symbol, "timeframe": "1h", "start": start, "end": end}),
    )
    .await
}

/// The stored bars of a series in a backend.
async fn stored(app: &TestApp, symbol: &str) -> u64 {
    let (_, range) = app
        .post("/data/range", json!({"symbol": symbol, "timeframe": "1h"}))
        .await;
    range["data"]["point_count"].as_u64().unwrap_or(0)
}

/// Runs a load to its end. Waits over the websocket, opened again if it closes first (the
/// test's client answers no heartbeat, so a long load outlives one socket).
async fn load(app: &TestApp, body: Value) -> Value {
    let (status, res) = app.post("/data/load", body).await;
    assert_eq!(status, 200, "{res}");
    let id = res["data"]["operation_id"].as_str().unwrap().to_owned();
    loop {
        let op = app.wait_for(&id).await;
        if op["status"] != "running" && op["status"] != "pending" {
            return op;
        }
    }
}

fn hours(from: &str, to: &str) -> u64 {
    let (a, b): (DateTime<Utc>, DateTime<Utc>) = (from.parse().unwrap(), to.parse().unwrap());
    (b - a).num_hours() as u64
}

/// A `full` load of hourly bars over 70 days through the host: three requests of at most
/// 30 days, each with the contract, duration, bar size, end and `whatToShow` as IB expects
/// them; exactly the stand-in's bars are stored (values included); forex goes as CASH on
/// IDEALPRO with MIDPOINT.
#[actix_web::test]
async fn ib_wire_full_load_stores_exactly_the_gateways_bars() {
    let src = bars_dir(&["AAPL", "EURUSD"]);
    let gw = StandInGateway::start(src.path(), SCALE);
    let (host, _cfg) = spawn_host(&gw, 2);
    until_connected(&gw, &host.base).await;
    let store = tempfile::tempdir().unwrap();
    let app = spawn_app_with(data_settings(&host.base, store.path())).await;

    let op = app
        .load(json!({"symbol": "AAPL", "timeframe": "1h", "calendar": "crypto", "mode": "full", "start_date": "2024-01-01", "end_date": "2024-03-11"}))
        .await;
    assert_eq!(op["status"], "completed", "{op}");
    let expected = hours("2024-01-01T00:00:00Z", "2024-03-11T00:00:00Z");
    assert_eq!(stored(&app, "AAPL").await, expected);
    let seen = gw.requests();
    assert_eq!(seen.len(), 3, "{seen:#?}");
    assert_eq!(seen.iter().map(|s| s.bars as u64).sum::<u64>(), expected);
    for s in &seen {
        assert_eq!(
            (
                s.symbol.as_str(),
                s.sec_type.as_str(),
                s.exchange.as_str(),
                s.currency.as_str()
            ),
            ("AAPL", "STK", "SMART", "USD"),
            "{s:?}"
        );
        assert_eq!(s.bar_size, "1 hour");
        assert_eq!(s.what_to_show, "TRADES");
        assert!(!s.use_rth && !s.keep_up_to_date, "{s:?}");
        assert_eq!(s.format_date, 2, "epoch seconds for intraday bars");
    }
    let mut asked: Vec<(String, String)> = seen
        .iter()
        .map(|s| (s.end.clone(), s.duration.clone()))
        .collect();
    asked.sort();
    assert_eq!(
        asked,
        [
            ("20240131 00:00:00 UTC", "30 D"),
            ("20240301 00:00:00 UTC", "30 D"),
            ("20240311 00:00:00 UTC", "10 D"),
        ]
        .map(|(e, d)| (e.to_owned(), d.to_owned()))
    );
    // The values are the stand-in's: hour h from t0 opens at 50 + h % 40, volume h + 1.
    let (_, bars) = app.get("/data/AAPL/1h?start_date=2024-03-10").await;
    let h = hours("2023-12-01T00:00:00Z", "2024-03-10T00:00:00Z");
    let p = 50.0 + (h % 40) as f64;
    assert_eq!(
        bars["data"]["ohlcv"][0],
        json!([p, p + 1.0, p - 1.0, p + 0.25, (h + 1) as f64]),
        "{bars}"
    );
    assert_eq!(bars["data"]["dates"].as_array().unwrap().len(), 24);

    let op = app
        .load(json!({"symbol": "EURUSD", "timeframe": "1h", "calendar": "crypto", "mode": "full", "start_date": "2024-01-01", "end_date": "2024-01-11"}))
        .await;
    assert_eq!(op["status"], "completed", "{op}");
    assert_eq!(stored(&app, "EURUSD").await, 240);
    let fx = gw.requests().pop().unwrap();
    assert_eq!(
        (
            fx.symbol.as_str(),
            fx.currency.as_str(),
            fx.sec_type.as_str(),
            fx.exchange.as_str(),
            fx.what_to_show.as_str(),
            fx.duration.as_str()
        ),
        ("EUR", "USD", "CASH", "IDEALPRO", "MIDPOINT", "10 D")
    );
    gw.assert_clean();
}

/// IB's answers other than bars, through the host: "no data" is an empty answer; 200 is an
/// unknown symbol; 354 an error with IB's text; notices addressed to a request, an answer
/// split over many reads and a delayed answer still give the bars; head timestamp and
/// contract details come from the stand-in.
#[actix_web::test]
async fn ib_wire_errors_notices_and_odd_answers() {
    let src = bars_dir(&["AAPL"]);
    let gw = StandInGateway::start(src.path(), SCALE);
    let (host, _cfg) = spawn_host(&gw, 2);
    until_connected(&gw, &host.base).await;
    let base = &host.base;
    let day = |d: u32| format!("2024-02-{d:02}T00:00:00Z");

    gw.script(Fault::NoData);
    let (status, body) = historical(base, "AAPL", &day(1), &day(2)).await;
    assert_eq!((status, &body["count"]), (200, &json!(0)), "{body}");

    gw.script(Fault::NoSecurityDefinition);
    let (status, body) = historical(base, "AAPL", &day(2), &day(3)).await;
    assert!(status == 404 || status == 400, "{status} {body}");
    assert!(
        body.to_string().contains("No security definition"),
        "{body}"
    );

    gw.script(Fault::NotSubscribed);
    let (status, body) = historical(base, "AAPL", &day(3), &day(4)).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.to_string().contains("IB error 354"), "{body}");

    for (fault, d) in [(Fault::Notices, 4), (Fault::Split, 5)] {
        gw.script(fault.clone());
        let (status, body) = historical(base, "AAPL", &day(d), &day(d + 1)).await;
        assert_eq!(
            (status, &body["count"]),
            (200, &json!(24)),
            "{fault:?}: {body}"
        );
    }

    gw.script(Fault::Delay(Duration::from_millis(300)));
    let t = Instant::now();
    let (status, body) = historical(base, "AAPL", &day(6), &day(7)).await;
    assert_eq!((status, &body["count"]), (200, &json!(24)), "{body}");
    assert!(t.elapsed() >= Duration::from_millis(300));

    let (status, head) = get(&format!(
        "{base}/data/head-timestamp?symbol=AAPL&timeframe=1h"
    ))
    .await;
    assert_eq!(status, 200, "{head}");
    assert!(
        head["head_timestamp"]
            .as_str()
            .unwrap()
            .starts_with("2023-12-01T00:00:00"),
        "{head}"
    );
    let (status, v) = post(
        &format!("{base}/data/validate"),
        json!({"symbol": "AAPL", "timeframes": ["1h"]}),
    )
    .await;
    assert_eq!((status, &v["valid"]), (200, &json!(true)), "{v}");
    let (status, v) = post(
        &format!("{base}/data/validate"),
        json!({"symbol": "NOPE", "timeframes": ["1h"]}),
    )
    .await;
    assert_ne!(status, 200, "{v}");
    gw.assert_clean();
}

/// 200 historical requests through one host at once (four loads of 50 segments on two
/// backends, one symbol loaded by both so identical requests meet): the referee counts no
/// violation, every load completes, and the host's wait shows in `/health/detailed`.
#[actix_web::test]
async fn ib_wire_burst_of_200_requests_without_a_pacing_violation() {
    let src = tempfile::tempdir().unwrap();
    let start: DateTime<Utc> = "2021-01-01T00:00:00Z".parse().unwrap();
    // One hourly bar a day, so an answer is cheap and IB's 60 per 10 minutes is what
    // limits the burst.
    let mut csv = String::from("datetime,open,high,low,close,volume\n");
    for d in 0..1500 {
        let t = start + chrono::Duration::days(d);
        csv.push_str(&format!(
            "{},10,11,9,10.5,{d}\n",
            t.format("%Y-%m-%d %H:%M:%S")
        ));
    }
    for s in ["AAPL", "MSFT", "EURUSD"] {
        std::fs::write(src.path().join(format!("{s}_1h.csv")), &csv).unwrap();
    }
    let gw = StandInGateway::start(src.path(), SCALE);
    let (host, _cfg) = spawn_host(&gw, 2);
    until_connected(&gw, &host.base).await;
    let (store_a, store_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = spawn_app_with(data_settings(&host.base, store_a.path())).await;
    let b = spawn_app_with(data_settings(&host.base, store_b.path())).await;
    // 50 segments of 30 days each.
    let body = |s: &str| json!({"symbol": s, "timeframe": "1h", "calendar": "crypto", "mode": "full", "start_date": "2021-01-01", "end_date": "2025-02-09"});
    let t = Instant::now();
    let (ops_a, ops_b) = futures_util::join!(
        futures_util::future::join(load(&a, body("AAPL")), load(&a, body("EURUSD"))),
        futures_util::future::join(load(&b, body("MSFT")), load(&b, body("AAPL"))),
    );
    for op in [ops_a.0, ops_a.1, ops_b.0, ops_b.1] {
        assert_eq!(op["status"], "completed", "{op}");
    }
    let seen = gw.requests();
    assert_eq!(seen.len(), 200);
    gw.assert_clean();
    // 200 requests at 60 per (scaled) 10 minutes: at least three windows of waiting.
    assert!(t.elapsed() >= Duration::from_secs_f64(3.0 * 600.0 * SCALE));
    let (_, health) = get(&format!("{}/health/detailed", host.base)).await;
    let pacing = &health["pacing"];
    assert_eq!(pacing["requests"], 200, "{health}");
    assert_eq!(pacing["violations"], 0, "{health}");
    // The wait is in the host's stats (how long depends on how fast the requests themselves
    // went: the elapsed time above is what proves the pacer held them back).
    assert!(pacing["max_wait_ms"].is_number(), "{health}");
    assert!(pacing["mean_wait_ms"].is_number(), "{health}");
    let full = 1500;
    assert_eq!(stored(&a, "AAPL").await, full);
    assert_eq!(stored(&b, "AAPL").await, full);
}

/// The whole-segment sums a 70-day load of hourly bars can store (30 + 30 + 10 days).
fn whole_segments(n: u64) -> bool {
    let seg = [720, 720, 240];
    (0..8u32).any(|mask| {
        (0..3)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| seg[i])
            .sum::<u64>()
            == n
    })
}

/// The connection drops in the middle of an answer and the first reconnect is refused: the
/// load fails with a clear error (or completes after the reconnect), nothing half-written is
/// stored, the host reconnects by itself and the next load stores exactly the stand-in's bars.
#[actix_web::test]
async fn ib_wire_dropped_connection_mid_answer_then_reconnect() {
    let src = bars_dir(&["AAPL"]);
    let gw = StandInGateway::start(src.path(), SCALE);
    let (host, _cfg) = spawn_host(&gw, 2);
    until_connected(&gw, &host.base).await;
    let store = tempfile::tempdir().unwrap();
    let app = spawn_app_with(data_settings(&host.base, store.path())).await;
    gw.script(Fault::DropMidAnswer);
    gw.refuse_connections(1);
    let body = json!({"symbol": "AAPL", "timeframe": "1h", "calendar": "crypto", "mode": "full", "start_date": "2024-01-01", "end_date": "2024-03-11"});
    let op = load(&app, body.clone()).await;
    let kept = stored(&app, "AAPL").await;
    match op["status"].as_str().unwrap() {
        "completed" => assert_eq!(kept, 1680, "{op}"),
        "failed" => {
            let msg = op["error_message"].as_str().unwrap_or_default();
            assert!(
                msg.contains(&format!("127.0.0.1:{}", gw.port())),
                "the error names the gateway: {op}"
            );
            assert!(whole_segments(kept), "half-written: {kept} bars");
        }
        other => panic!("{other}: {op}"),
    }
    // The refused attempt, then a new session, without a restart.
    gw.wait_for("a second session", |s| (s.sessions >= 2).then_some(()))
        .await;
    assert!(gw.with(|s| s.connections) >= 3);
    until_health(&host.base, "connected again", |h| {
        h["gateway"]["connected"] == true
    })
    .await;
    let op = load(&app, body).await;
    assert_eq!(op["status"], "completed", "{op}");
    assert_eq!(stored(&app, "AAPL").await, 1680);
    gw.assert_clean();
}

/// Cancelling a load whose requests the gateway holds: the operation is cancelled at once,
/// nothing is stored, and IB's `cancelHistoricalData` reaches the stand-in for each request in
/// flight. Through the binary that happens when the host gives the request up (its request
/// time-out, 3 s here): the HTTP server keeps running a handler whose client has gone (actix
/// allows half-closed connections by default), so the provider's request is not dropped at
/// the backend's cancel. `ib_wire_provider_sends_ibs_cancel_when_a_request_is_dropped` shows the
/// cancel going at once when it is.
#[actix_web::test]
async fn ib_wire_cancel_sends_ibs_cancel() {
    let src = bars_dir(&["AAPL"]);
    let gw = StandInGateway::start(src.path(), SCALE);
    // A request time-out far beyond the wait below: only the backend hanging up can make
    // the host cancel its requests in time.
    let (host, _cfg) = spawn_host_with(&gw, 2, 3600);
    until_connected(&gw, &host.base).await;
    let store = tempfile::tempdir().unwrap();
    let app = spawn_app_with(data_settings(&host.base, store.path())).await;
    for _ in 0..10 {
        gw.script(Fault::Hold);
    }
    let (status, res) = app
        .post("/data/load", json!({"symbol": "AAPL", "timeframe": "1h", "calendar": "crypto", "mode": "full", "start_date": "2024-01-01", "end_date": "2024-03-11"}))
        .await;
    assert_eq!(status, 200, "{res}");
    let id = res["data"]["operation_id"].as_str().unwrap().to_owned();
    // Every segment's request is at the gateway, unanswered.
    gw.wait_for("three held requests", |s| (s.held.len() == 3).then_some(()))
        .await;
    let (status, _) = app.delete(&format!("/operations/{id}")).await;
    assert_eq!(status, 200);
    let (_, op) = app.get(&format!("/operations/{id}")).await;
    assert_eq!(op["data"]["status"], "cancelled", "{op}");
    let held: Vec<i64> = gw.with(|s| s.historical.iter().map(|r| r.req_id).collect());
    gw.wait_for("IB's cancel for each request in flight", |s| {
        held.iter().all(|r| s.cancels.contains(r)).then_some(())
    })
    .await;
    assert_eq!(stored(&app, "AAPL").await, 0);
    gw.assert_clean();
}

/// A gateway that accepts the connection but never answers the handshake: the attempt times
/// out, `/health` and every request say so naming the gateway's address, and once the gateway
/// answers the host connects by itself.
#[actix_web::test]
async fn ib_wire_handshake_that_never_completes_times_out() {
    let src = bars_dir(&["AAPL"]);
    let gw = StandInGateway::start(src.path(), SCALE);
    gw.silent(true);
    let (host, _cfg) = spawn_host(&gw, 1);
    let address = format!("127.0.0.1:{}", gw.port());
    let h = until_health(&host.base, "the handshake's time-out", |h| {
        h["gateway"]["last_error"].is_string()
    })
    .await;
    assert_eq!(h["gateway"]["connected"], false, "{h}");
    assert!(gw.with(|s| s.connections >= 1 && s.handshakes == 0));
    assert_eq!(h["gateway"]["last_error"], "no answer within 1 s", "{h}");
    let (status, body) = historical(&host.base, "AAPL", "2024-02-01", "2024-02-02").await;
    assert_eq!(status, 503, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("IB Gateway at {address} is not connected"))
            && detail.contains("no answer within 1 s"),
        "{body}"
    );
    gw.silent(false);
    until_connected(&gw, &host.base).await;
    let (status, body) = historical(&host.base, "AAPL", "2024-02-01", "2024-02-02").await;
    assert_eq!((status, &body["count"]), (200, &json!(24)), "{body}");
    gw.assert_clean();
}

/// The provider in-process: a historical request the gateway holds, dropped by its caller,
/// sends IB's `cancelHistoricalData` at once.
#[actix_web::test]
async fn ib_wire_provider_sends_ibs_cancel_when_a_request_is_dropped() {
    use ktrdr::data::provider::BarProvider;
    use ktrdr::hosts::ib::gateway::{GatewayConfig, GatewayProvider};
    let src = bars_dir(&["AAPL"]);
    let gw = StandInGateway::start(src.path(), SCALE);
    let provider = GatewayProvider::start(GatewayConfig {
        host: "127.0.0.1".into(),
        port: gw.port(),
        client_id: 9,
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(60),
        pacing_backoff: Duration::from_secs_f64(60.0 * SCALE),
        max_in_flight: 5,
        pacing_scale: SCALE,
        overrides: Default::default(),
    });
    gw.wait_for("a session", |s| (s.sessions > 0).then_some(()))
        .await;
    within("the provider to see its session", async {
        while !provider.connected() {
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    gw.script(Fault::Hold);
    let request = provider.historical(
        "AAPL".parse().unwrap(),
        "1h".parse().unwrap(),
        "2024-02-01T00:00:00Z".parse().unwrap(),
        "2024-02-02T00:00:00Z".parse().unwrap(),
    );
    let task = actix_web::rt::spawn(request);
    let req = gw
        .wait_for("the held request", |s| s.held.iter().next().copied())
        .await;
    let t = Instant::now();
    task.abort();
    gw.wait_for("IB's cancel", |s| s.cancels.contains(&req).then_some(()))
        .await;
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    gw.assert_clean();
}

/// The referee's scale in `ib_wire_referee_catches_each_pacing_rule`: 2 s -> 0.5 s, 15 s ->
/// 3.75 s, 10 min -> 150 s, each far beyond the burst that must fit in it (a few loopback
/// round trips, milliseconds), so no rule depends on timing.
const REFEREE_SCALE: f64 = 0.25;

/// A raw `ibapi` client on the stand-in: no pacer of ktrdr's between the test and the referee.
async fn raw_client(gw: &StandInGateway) -> ibapi::Client {
    let address = format!("127.0.0.1:{}", gw.port());
    let client = within(
        "a raw ibapi session",
        ibapi::Client::builder()
            .address(address.as_str())
            .client_id(11)
            .max_reconnect_attempts(0)
            .connect(),
    )
    .await
    .expect("a raw ibapi client connects to the stand-in");
    gw.wait_for("the raw session", |s| (s.sessions > 0).then_some(()))
        .await;
    client
}

/// One historical request of a day of hourly `symbol` bars ending `day` days after [`t0`], as
/// `ibapi` sends it: the bars, or the notice IB answered with.
async fn raw_request(
    client: &ibapi::Client,
    symbol: &str,
    day: i64,
) -> Result<usize, ibapi::Notice> {
    use ibapi::market_data::historical::{BarSize, Duration as IbDuration};
    let contract = ibapi::contracts::Contract::stock(symbol).build();
    let end = (t0() + chrono::Duration::days(day)).timestamp();
    let request = client
        .historical_data(&contract, BarSize::Hour)
        .what_to_show(ibapi::market_data::historical::WhatToShow::Trades)
        .trading_hours(ibapi::market_data::TradingHours::Extended)
        .duration("1 D".parse::<IbDuration>().unwrap())
        .ending(time::OffsetDateTime::from_unix_timestamp(end).unwrap())
        .fetch();
    match within(format!("the answer to {symbol} day {day}"), request).await {
        Ok(d) => Ok(d.bars.len()),
        Err(ibapi::Error::Notice(n)) => Err(n),
        Err(e) => panic!("{symbol} day {day}: {e}"),
    }
}

/// `answer` is IB's error 162 with its pacing text, for the one request the referee counted a
/// violation, and that violation is `rule`'s; `assert_clean` now fails.
fn assert_caught(gw: &StandInGateway, answer: Result<usize, ibapi::Notice>, rule: &str) {
    let notice = answer.expect_err("a pacing violation answered with bars");
    assert_eq!(
        (notice.code, notice.message.as_str()),
        (162, tws::PACING_TEXT),
        "{notice:?}"
    );
    let flagged: Vec<_> = gw
        .requests()
        .into_iter()
        .filter(|s| s.violation.is_some())
        .collect();
    assert_eq!(flagged.len(), 1, "{flagged:#?}");
    assert_eq!(
        Some(flagged[0].req_id),
        notice.request_id.map(i64::from),
        "the 162 answers the flagged request"
    );
    let why = flagged[0].violation.as_deref().unwrap();
    assert!(why.contains(rule), "expected {rule:?}, got {why:?}");
    assert_eq!(gw.with(|s| s.violations()), [why.to_owned()]);
    let clean = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| gw.assert_clean()));
    assert!(clean.is_err(), "assert_clean passes with {why:?}");
}

/// Waits until `window` after the gateway's record of request `req_id` has passed: the end
/// of a pacing window is nothing the stand-in can report, so this is a wait for a time.
async fn past_window(gw: &StandInGateway, req_id: i64, window: Duration) {
    let at = gw
        .requests()
        .iter()
        .rev()
        .find(|s| s.req_id == req_id)
        .expect("the request at the gateway")
        .at;
    let until = at + window + Duration::from_millis(20);
    actix_web::rt::time::sleep_until(until.into()).await;
}

/// The referee is no formality: driven past each of IB's pacing rules by a raw `ibapi`
/// client (ktrdr's pacer would never let it), it counts exactly the offending request, the
/// client gets error 162 with IB's pacing text for it, `assert_clean` fails, and the requests
/// before it, and the same request once the window has passed, are served.
#[actix_web::test]
async fn ib_wire_referee_catches_each_pacing_rule() {
    let symbols: Vec<String> = (0..15).map(|i| format!("S{i:02}")).collect();
    let src = bars_dir(&symbols.iter().map(String::as_str).collect::<Vec<_>>());
    let contract_window = Duration::from_secs_f64(2.0 * REFEREE_SCALE);
    let identical_window = Duration::from_secs_f64(15.0 * REFEREE_SCALE);
    let last_req = |gw: &StandInGateway| gw.requests().last().unwrap().req_id;

    // (a) Six requests for one contract (six different ends) within 2 s: the sixth.
    let gw = StandInGateway::start(src.path(), REFEREE_SCALE);
    let client = raw_client(&gw).await;
    let t = Instant::now();
    for day in 1..=5 {
        assert_eq!(raw_request(&client, "S00", day).await, Ok(24), "day {day}");
    }
    gw.assert_clean();
    let sixth = raw_request(&client, "S00", 6).await;
    let burst = t.elapsed();
    assert!(burst < contract_window, "the burst took {burst:?}");
    assert_caught(&gw, sixth, "the 6th for the contract within 500ms");
    // Another contract meanwhile is fine; the same one is again once the window has passed.
    assert_eq!(raw_request(&client, "S01", 6).await, Ok(24));
    past_window(&gw, last_req(&gw), contract_window).await;
    assert_eq!(raw_request(&client, "S00", 7).await, Ok(24));
    assert_eq!(gw.with(|s| s.violations().len()), 1);
    drop(client);

    // (b) A request identical to one within 15 s: the repeat (a request differing only in its
    // end, between them, is not identical).
    let gw = StandInGateway::start(src.path(), REFEREE_SCALE);
    let client = raw_client(&gw).await;
    assert_eq!(raw_request(&client, "S00", 1).await, Ok(24));
    let first = last_req(&gw);
    assert_eq!(raw_request(&client, "S00", 2).await, Ok(24));
    gw.assert_clean();
    let repeat = raw_request(&client, "S00", 1).await;
    let seen = gw.requests();
    assert!(seen[2].at - seen[0].at < identical_window, "{seen:#?}");
    assert_caught(&gw, repeat, &format!("identical to request {first} "));
    past_window(&gw, last_req(&gw), identical_window).await;
    assert_eq!(raw_request(&client, "S00", 1).await, Ok(24));
    assert_eq!(gw.with(|s| s.violations().len()), 1);
    drop(client);

    // (c) More than 60 requests within 10 minutes, over 15 contracts with all-different ends
    // (at most 5 per contract, so the per-contract rule cannot fire): the 61st.
    let gw = StandInGateway::start(src.path(), REFEREE_SCALE);
    let client = raw_client(&gw).await;
    let t = Instant::now();
    for i in 0..60 {
        let symbol = &symbols[i % symbols.len()];
        assert_eq!(
            raw_request(&client, symbol, i as i64 + 1).await,
            Ok(24),
            "request {i}"
        );
    }
    gw.assert_clean();
    let sixty_first = raw_request(&client, &symbols[60 % symbols.len()], 61).await;
    let burst = t.elapsed();
    assert!(
        burst < Duration::from_secs_f64(600.0 * REFEREE_SCALE),
        "{burst:?}"
    );
    assert_caught(&gw, sixty_first, "the 61st within 150s");
    assert_eq!(gw.requests().len(), 61);
}
