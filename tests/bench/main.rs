//! `scripts/bench`: measured numbers for BENCHMARKS.md. Prints one markdown table row per
//! measurement: `| benchmark | value | goal | notes |`. Everything runs on loopback, in-process
//! servers included, on whatever machine runs it: the numbers are that machine's.

mod cli;
mod data;
mod indicators;
mod store;
mod training;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use awc::ws;
use futures_util::StreamExt;
use ktrdr::config::Settings;
use ktrdr::server::{self, Backend};
use ktrdr_actors::host_client::{HostClient, HostClientConfig};
use ktrdr_actors::{start_operation, JobContext, OperationSpec, OperationType, Progress};
use serde_json::json;
use tokio::sync::Semaphore;

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

pub(crate) fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

pub(crate) fn row(name: &str, value: String, goal: &str, notes: &str) {
    println!("| {name} | {value} | {goal} | {notes} |");
}

/// DELETE of operation `id` until its answer, which must say `cancelled`; milliseconds.
pub(crate) async fn timed_cancel(client: &awc::Client, base: &str, id: &str) -> f64 {
    let t0 = Instant::now();
    let mut res = client
        .delete(format!("{base}/operations/{id}"))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(body["data"]["status"], "cancelled", "{body}");
    ms
}

/// The backend as users run it: its operation store a SQLite file in its data folder.
async fn backend() -> Backend {
    let mut settings = Settings::from_env(&Default::default()).unwrap();
    settings.paths.data_dir = tempfile::tempdir().unwrap().keep();
    Backend::start(settings, server::bind("127.0.0.1", 0).unwrap()).unwrap()
}

/// DELETE of a running dummy operation (progress every 1 ms) until its answer, which comes
/// once `cancelled` is recorded.
async fn cancel_latency(runs: usize) {
    let app = backend().await;
    let base = format!("http://{}/api/v1", app.addr);
    let client = awc::Client::default();
    let mut lat = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut res = client
            .post(format!("{base}/dummy/start"))
            .send_json(&json!({"duration_seconds": 100, "steps": 100000}))
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        let id = body["data"]["operation_id"].as_str().unwrap().to_owned();
        tokio::time::sleep(Duration::from_millis(5)).await; // let it run a few steps
        lat.push(timed_cancel(&client, &base, &id).await);
    }
    let s = sorted(lat);
    row(
        "cancel latency, DELETE -> cancelled recorded (dummy op)",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            percentile(&s, 0.5),
            percentile(&s, 0.99)
        ),
        "p99 < 20 ms",
        &format!("{runs} operations, HTTP round trip included"),
    );
}

/// Time from a progress report to its arrival at each of `n` websocket subscribers.
async fn progress_latency(n: usize, steps: u64) {
    let app = backend().await;
    let gate = Arc::new(Semaphore::new(0));
    let reported: Arc<Mutex<Vec<Option<Instant>>>> =
        Arc::new(Mutex::new(vec![None; steps as usize + 1]));
    let (g, r) = (gate.clone(), reported.clone());
    let id = start_operation(
        &app.tracker,
        OperationSpec {
            kind: OperationType::new("bench").unwrap(),
            metadata: json!({}),
            timeout: None,
        },
        move |ctx: JobContext| async move {
            g.acquire().await.unwrap().forget();
            for i in 1..=steps {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let mut p = Progress::default();
                p.set_steps(i, steps);
                r.lock().unwrap()[i as usize] = Some(Instant::now());
                ctx.progress.report(p);
            }
            Ok(json!({}))
        },
    );
    let url = format!("ws://{}/api/v1/operations/{id}/ws", app.addr);
    let arrivals: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    let connected = Arc::new(Semaphore::new(0));
    for _ in 0..n {
        let (url, arrivals, connected) = (url.clone(), arrivals.clone(), connected.clone());
        tasks.push(actix_web::rt::spawn(async move {
            let (_, mut framed) = awc::Client::default().ws(url).connect().await.unwrap();
            connected.add_permits(1);
            let mut mine = Vec::new();
            while let Some(Ok(frame)) = framed.next().await {
                let now = Instant::now();
                if matches!(frame, ws::Frame::Close(_)) {
                    break;
                }
                if let ws::Frame::Text(bytes) = frame {
                    let text = std::str::from_utf8(&bytes).unwrap();
                    if text.starts_with(r#"{"type":"progress""#) {
                        let at = text.find(r#""steps_completed":"#).unwrap() + 18;
                        let end = text[at..].find(',').unwrap() + at;
                        mine.push((text[at..end].parse::<u64>().unwrap(), now));
                    }
                }
            }
            arrivals.lock().unwrap().extend(mine);
        }));
    }
    connected.acquire_many(n as u32).await.unwrap().forget();
    gate.add_permits(1);
    for t in tasks {
        t.await.unwrap();
    }
    let reported = reported.lock().unwrap();
    let arrivals = arrivals.lock().unwrap();
    let lat: Vec<f64> = arrivals
        .iter()
        .filter_map(|(step, at)| {
            reported[*step as usize].map(|t| at.duration_since(t).as_secs_f64() * 1000.0)
        })
        .collect();
    let delivered = lat.len();
    let s = sorted(lat);
    row(
        &format!("progress latency, {n} websocket subscriber(s)"),
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            percentile(&s, 0.5),
            percentile(&s, 0.99)
        ),
        if n == 1000 { "p99 < 5 ms" } else { "-" },
        &format!(
            "{steps} events 20 ms apart; {delivered} of {} deliveries seen (rest coalesced); clients in the same process",
            steps as usize * n
        ),
    );
}

/// Pooled client vs a new connection per request, mean round trip over `runs` requests.
async fn pooled_vs_unpooled(runs: usize) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ping = |cfg: &mut web::ServiceConfig| {
        cfg.route(
            "/ping",
            web::get().to(|| async { HttpResponse::Ok().json(json!({"ok": true})) }),
        );
    };
    let (base, _) = server::spawn_app(listener, 1, ping).unwrap();
    let mut means = Vec::new();
    for pooled in [true, false] {
        let config = HostClientConfig::new("bench", base.clone());
        let client = if pooled {
            HostClient::start(config)
        } else {
            HostClient::start_unpooled(config)
        };
        client.get("/ping").await.unwrap(); // warm up
        let t0 = Instant::now();
        for _ in 0..runs {
            client.get("/ping").await.unwrap();
        }
        let mean_us = t0.elapsed().as_secs_f64() * 1e6 / runs as f64;
        let stats = client.stats().await.unwrap();
        means.push((mean_us, stats.connections_opened));
    }
    row(
        "HostServiceClient round trip, pooled vs new connection each",
        format!(
            "{:.0} us vs {:.0} us: pooled {:.1}x faster",
            means[0].0,
            means[1].0,
            means[1].0 / means[0].0
        ),
        ">= 3x",
        &format!(
            "{runs} sequential GETs each; connections opened {} vs {}",
            means[0].1, means[1].1
        ),
    );
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        println!("| benchmark | result | goal | notes |");
        println!("|---|---|---|---|");
        // KTRDR_BENCH=indicators or =store runs that group alone (while working on it).
        match std::env::var("KTRDR_BENCH").as_deref() {
            Ok("indicators") => return indicators::every_indicator(1_000_000),
            Ok("store") => {
                cancel_latency(100).await;
                progress_latency(1, 50).await;
                store::progress_writes(1000, 2).await;
                return store::list_from(100_000).await;
            }
            _ => {}
        }
        cancel_latency(100).await;
        for n in [1, 100, 1000] {
            progress_latency(n, 50).await;
        }
        store::progress_writes(1000, 2).await;
        store::list_from(100_000).await;
        pooled_vs_unpooled(2000).await;
        data::pipeline_throughput();
        indicators::every_indicator(1_000_000);
        data::training_bars_transfer();
        data::full_load_end_to_end().await;
        data::cancel_mid_fetch(50).await;
        training::throughput_and_overhead().await;
        training::cancel_during_training(20).await;
        cli::cli_wall_time(50).await;
    });
}
