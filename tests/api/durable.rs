//! Operations survive restarts: real `ktrdr serve` processes on one data folder and its
//! operation store (SQLite by default), stopped by SIGTERM and killed by SIGKILL; the fault
//! test of a load killed mid-way; and several backends sharing one PostgreSQL store.

use chrono::{DateTime, Duration, Utc};
use ktrdr::data::store::BarStore;
use ktrdr_actors::store::INTERRUPTED;
use ktrdr_core::timeframe::{Symbol, Timeframe};
use serde_json::{json, Value};

use crate::helpers::*;

#[path = "../../actors/tests/pg/mod.rs"]
mod pg;

/// `ktrdr serve` on `data` with the operation store in it (the default) and `extra` env.
fn serve(data: &std::path::Path, extra: &[(&str, &str)]) -> Proc {
    let mut env = vec![
        ("KTRDR_DATA_DIR", data.to_str().unwrap()),
        // Empty: the default store, operations.db in the data folder.
        ("KTRDR_DATABASE_URL", ""),
    ];
    env.extend_from_slice(extra);
    spawn_bin(&["serve", "--port", "0"], &env)
}

async fn get_op(base: &str, id: &str) -> Value {
    let (status, res) = get_json(&format!("{base}/api/v1/operations/{id}")).await;
    assert_eq!(status, 200, "{res}");
    res["data"].clone()
}

async fn start_dummy(base: &str, seconds: f64, steps: u64) -> String {
    let (status, res) = post_json(
        &format!("{base}/api/v1/dummy/start"),
        json!({"duration_seconds": seconds, "steps": steps}),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    res["data"]["operation_id"].as_str().unwrap().to_owned()
}

/// Follows `id`'s stream until an event whose operation satisfies `until`; returns it.
async fn watch_until(base: &str, id: &str, until: impl Fn(&Value) -> bool) -> Value {
    let url = format!("{base}/api/v1/operations/{id}/ws").replacen("http", "ws", 1);
    let (_, framed) = awc::Client::default().ws(url).connect().await.unwrap();
    let mut ws = WsClient::from(framed);
    loop {
        let ev = ws.event().await;
        if until(&ev["operation"]) {
            return ev["operation"].clone();
        }
    }
}

#[actix_web::test]
async fn history_survives_sigterm_and_sigkill() {
    let data = tempfile::tempdir().unwrap();
    let b = serve(data.path(), &[]);
    let done = start_dummy(&b.base, 0.2, 2).await;
    let finished = watch_until(&b.base, &done, |op| op["status"] == "completed").await;
    let stopped = start_dummy(&b.base, 60.0, 60).await;
    watch_until(&b.base, &stopped, |op| op["status"] == "running").await;
    assert!(kill_and_wait(b, libc::SIGTERM).await.success());

    // Restarted: the finished one as it was, the running one cancelled by the shutdown.
    let b = serve(data.path(), &[]);
    let again = get_op(&b.base, &done).await;
    assert_eq!(again["status"], "completed");
    assert_eq!(again["result_summary"], finished["result_summary"]);
    assert!(again["result_summary"].is_object(), "{again}");
    assert_eq!(again["completed_at"], finished["completed_at"]);
    let again = get_op(&b.base, &stopped).await;
    assert_eq!(again["status"], "cancelled", "{again}");
    assert_eq!(again["cancellation_reason"], "server shutdown");

    // Killed: no chance to record anything; the next start marks it interrupted.
    let killed = start_dummy(&b.base, 60.0, 60).await;
    let seen = watch_until(&b.base, &killed, |op| {
        op["progress"]["percentage"].as_f64().unwrap_or(0.0) > 0.0
    })
    .await;
    assert!(!kill_and_wait(b, libc::SIGKILL).await.success());
    let b = serve(data.path(), &[]);
    let again = get_op(&b.base, &killed).await;
    assert_eq!(again["status"], "failed", "{again}");
    assert_eq!(again["error_message"], INTERRUPTED);
    assert_eq!(again["created_at"], seen["created_at"]);
    let (_, list) = get_json(&format!("{}/api/v1/operations", b.base)).await;
    assert_eq!(list["total_count"], 3, "{list}");
    let (_, failed) = get_json(&format!("{}/api/v1/operations?status=failed", b.base)).await;
    assert_eq!(failed["total_count"], 1, "{failed}");
    assert_eq!(failed["data"][0]["operation_id"], killed.as_str());
    // A cancel of it says it already ended; a retry runs it again.
    let (status, _) =
        crate::helpers::delete_json(&format!("{}/api/v1/operations/{killed}", b.base)).await;
    assert_eq!(status, 400);
    let (status, res) = post_json(
        &format!("{}/api/v1/operations/{killed}/retry", b.base),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["data"]["operation_type"], "dummy");
}

fn utc(s: &str) -> DateTime<Utc> {
    format!("{s}T00:00:00Z").parse().unwrap()
}

/// The fault test: the backend SIGKILLed in the middle of a load, restarted on the
/// same data folder and store: the record is there, marked interrupted; the Parquet file is
/// intact (whole segments, the source's bars); a retry fetches what is missing and the series
/// is whole, without a duplicate bar.
#[actix_web::test]
async fn backend_killed_mid_load_then_retried() {
    let src = tempfile::tempdir().unwrap();
    let t0 = utc("2022-01-01");
    let hours = 24 * 30 * 12;
    write_hourly_csv(src.path(), "KILL", t0, hours);
    let host = spawn_bin(
        &[
            "ib-host",
            "--port",
            "0",
            "--csv-dir",
            src.path().to_str().unwrap(),
            "--latency-ms",
            "150",
        ],
        &[],
    );
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("USE_IB_HOST_SERVICE", "true"),
        ("IB_HOST_SERVICE_URL", host.base.as_str()),
        ("KTRDR_LOAD_CONCURRENCY", "1"),
    ];
    let b = serve(data.path(), &env);
    let end = t0 + Duration::hours(hours);
    let body = json!({"symbol": "KILL", "timeframe": "1h", "calendar": "crypto", "mode": "full",
        "start_date": "2022-01-01", "end_date": end.format("%Y-%m-%d").to_string()});
    let (status, res) = post_json(&format!("{}/api/v1/data/load", b.base), body).await;
    assert_eq!(status, 200, "{res}");
    let id = res["data"]["operation_id"].as_str().unwrap().to_owned();
    watch_until(&b.base, &id, |op| {
        op["progress"]["context"]["current_segment"].as_u64() >= Some(4)
    })
    .await;
    assert!(!kill_and_wait(b, libc::SIGKILL).await.success());

    let b = serve(data.path(), &env);
    let op = get_op(&b.base, &id).await;
    assert_eq!(op["status"], "failed", "{op}");
    assert_eq!(op["error_message"], INTERRUPTED);
    assert_eq!(op["metadata"]["symbol"], "KILL");
    // The store: readable, whole 30-day segments, every bar the source's, in order.
    let store = BarStore::new(data.path());
    let kept = store
        .read(&"KILL".parse::<Symbol>().unwrap(), Timeframe::H1)
        .unwrap();
    assert!(
        !kept.is_empty() && kept.len().is_multiple_of(24 * 30),
        "{} bars",
        kept.len()
    );
    assert!((kept.len() as i64) < hours, "the kill came before the end");
    for (i, &t) in kept.time.iter().enumerate() {
        let h = (t - t0.timestamp_millis()) / 3_600_000;
        assert_eq!(kept.volume[i], (h + 1) as f64, "bar {i} is the source's");
    }
    let segments_kept = kept.len() as u64 / (24 * 30);

    let (status, res) = post_json(
        &format!("{}/api/v1/operations/{id}/retry", b.base),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    let retry = res["data"]["operation_id"].as_str().unwrap().to_owned();
    let done = watch_until(&b.base, &retry, |op| {
        op["status"] != "running" && op["status"] != "pending"
    })
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    let done = get_op(&b.base, &retry).await;
    assert_eq!(
        done["result_summary"]["requests_made"].as_u64(),
        Some(12 - segments_kept),
        "only what was missing: {done}"
    );
    let all = store
        .read(&"KILL".parse::<Symbol>().unwrap(), Timeframe::H1)
        .unwrap();
    assert_eq!(all.len() as i64, hours);
    assert!(
        all.time.windows(2).all(|w| w[1] - w[0] == 3_600_000),
        "no holes, no duplicates"
    );
}

/// Two backends (own data folders) sharing one PostgreSQL store: each lists the other's
/// operations, and a cancel of the other's running one is refused, saying where it runs.
/// (Which stopped backends' operations are interrupted is `actors/tests/store.rs`.)
#[actix_web::test]
#[ignore = "needs PostgreSQL (initdb); scripts/test runs it with --ignored where it is installed"]
async fn postgres_store_shared_by_two_backends() {
    let cluster = pg::PgCluster::start();
    let url = cluster.new_database("ktrdr_shared");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("KTRDR_DATABASE_URL", url.as_str())];
    let one = spawn_bin(
        &["serve", "--port", "0"],
        &[("KTRDR_DATA_DIR", d1.path().to_str().unwrap()), env[0]],
    );
    let two = spawn_bin(
        &["serve", "--port", "0"],
        &[("KTRDR_DATA_DIR", d2.path().to_str().unwrap()), env[0]],
    );
    let done = start_dummy(&one.base, 0.2, 2).await;
    watch_until(&one.base, &done, |op| op["status"] == "completed").await;
    let running = start_dummy(&one.base, 120.0, 120).await;
    watch_until(&one.base, &running, |op| op["status"] == "running").await;

    let (_, list) = get_json(&format!("{}/api/v1/operations", two.base)).await;
    assert_eq!(list["total_count"], 2, "{list}");
    assert_eq!(list["active_count"], 1, "{list}");
    let seen = get_op(&two.base, &done).await;
    assert_eq!(seen["status"], "completed");
    let (status, e) =
        crate::helpers::delete_json(&format!("{}/api/v1/operations/{running}", two.base)).await;
    assert_eq!(status, 409, "{e}");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("runs on another backend"),
        "{e}"
    );
    assert_eq!(get_op(&one.base, &running).await["status"], "running");
}
