//! Training benchmarks: MLP throughput (against the same net in a PyTorch script), the cost of
//! progress reporting per epoch, and cancel latency while an epoch runs.

use std::cell::Cell;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use actix::{Actor, Addr};
use ktrdr::server::Backend;
use ktrdr::training::features::Samples;
use ktrdr::training::model::{train, EpochMetrics, Mlp, NullObserver, Observer};
use ktrdr::training::progress::ProgressObserver;
use ktrdr_actors::{start_operation, OperationSpec, OperationType, ProgressTracker};
use ktrdr_core::strategy::{Activation, Architecture, OptimizerKind, TrainingParams};
use serde_json::json;

use crate::{percentile, row, sorted, timed_cancel};

const ROWS: usize = 20_000;
const COLS: usize = 27;
const EPOCHS: usize = 5;

fn samples() -> Samples {
    // Deterministic pseudo-random features; the class is a function of them so the net learns.
    let mut s = Samples {
        cols: COLS,
        ..Default::default()
    };
    let mut x = 0x2545F4914F6CDD1Du64;
    for i in 0..ROWS {
        let mut sum = 0.0;
        for _ in 0..COLS {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x % 1000) as f32 / 1000.0;
            sum += v;
            s.x.push(v);
        }
        s.y.push(((sum * 7.0) as i64) % 3);
        s.time.push(i as i64);
    }
    s
}

fn arch() -> Architecture {
    Architecture {
        hidden_layers: vec![32, 16],
        activation: Activation::Relu,
        dropout: 0.2,
    }
}

fn params() -> TrainingParams {
    TrainingParams {
        learning_rate: 0.001,
        batch_size: 32,
        epochs: EPOCHS,
        optimizer: OptimizerKind::Adam,
        weight_decay: 0.0,
        early_stopping: None,
    }
}

/// Seconds of each of `EPOCHS` epochs with `obs`.
fn epoch_seconds(s: &Samples, empty: &Samples, obs: &mut dyn Observer) -> Vec<f64> {
    tch::manual_seed(1);
    let mut m = Mlp::new(COLS, &arch(), tch::Device::Cpu);
    let out = train(&mut m, s, empty, &params(), obs).unwrap();
    out.history.iter().map(|e| e.duration).collect()
}

fn empty() -> Samples {
    Samples {
        cols: COLS,
        ..Default::default()
    }
}

/// Epochs without any reporting (on a blocking thread, as in the product).
async fn quiet_epochs(s: &Samples) -> Vec<f64> {
    let s = s.clone();
    actix_web::rt::task::spawn_blocking(move || epoch_seconds(&s, &empty(), &mut NullObserver))
        .await
        .unwrap()
}

/// Times the calls into an observer: what reporting costs the training thread itself.
struct Timed<O> {
    inner: O,
    spent: Cell<Duration>,
}

impl<O: Observer> Timed<O> {
    fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let t0 = Instant::now();
        let out = f();
        self.spent.set(self.spent.get() + t0.elapsed());
        out
    }
}

impl<O: Observer> Observer for Timed<O> {
    fn stage(&mut self, step: &str) {
        let t0 = Instant::now();
        self.inner.stage(step);
        self.spent.set(self.spent.get() + t0.elapsed());
    }
    fn batch(&mut self, epoch: usize, epochs: usize, batch: usize, batches: usize) {
        let t0 = Instant::now();
        self.inner.batch(epoch, epochs, batch, batches);
        self.spent.set(self.spent.get() + t0.elapsed());
    }
    fn epoch(&mut self, history: &[EpochMetrics], best_epoch: usize) {
        let t0 = Instant::now();
        self.inner.epoch(history, best_epoch);
        self.spent.set(self.spent.get() + t0.elapsed());
    }
    fn cancelled(&self) -> bool {
        self.time(|| self.inner.cancelled())
    }
}

/// The same epochs inside a running operation, progress and metrics going to its tracker;
/// also the time spent in the reporting calls.
async fn reported_epochs(tracker: &Addr<ProgressTracker>, s: &Samples) -> (Vec<f64>, Duration) {
    let s = s.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    start_operation(
        tracker,
        OperationSpec {
            kind: OperationType::new("bench").unwrap(),
            metadata: json!({}),
            timeout: None,
        },
        move |ctx: ktrdr_actors::JobContext| async move {
            let (r, m, t) = (
                ctx.progress.clone(),
                ctx.progress.clone(),
                ctx.token.clone(),
            );
            let secs = ctx
                .spawn_blocking(move || {
                    let mut obs = Timed {
                        inner: ProgressObserver::new(
                            |p| r.report(p),
                            |v| m.set_metrics(v),
                            || t.is_cancelled(),
                        ),
                        spent: Cell::new(Duration::ZERO),
                    };
                    let epochs = epoch_seconds(&s, &empty(), &mut obs);
                    (epochs, obs.spent.get())
                })
                .await?;
            let _ = tx.send(secs);
            Ok(json!({}))
        },
    );
    rx.await.unwrap()
}

pub async fn throughput_and_overhead() {
    let s = samples();
    let first = sorted(quiet_epochs(&s).await);
    let quiet = percentile(&first, 0.5);
    row(
        "MLP training throughput, CPU (tch)",
        format!("{:.0} samples/s", ROWS as f64 / quiet),
        "-",
        &format!(
            "27 inputs, hidden [32, 16], dropout 0.2, Adam, batch 32, {ROWS} samples, median of \
             {EPOCHS} epochs, {} threads",
            tch::get_num_threads()
        ),
    );
    torch_reference(quiet);

    // What reporting costs the training thread: the time inside the observer's calls.
    // With its store, as the backend runs it.
    let tracker = ProgressTracker::with_store(
        crate::store::sqlite_store("bench-training"),
        ktrdr_actors::store::Retention::default(),
    )
    .start();
    let (mut without, mut with, mut spent) = (Vec::new(), Vec::new(), Duration::ZERO);
    // Alternating rounds, so drift of a shared machine hits both sides alike.
    for _ in 0..4 {
        without.extend(quiet_epochs(&s).await);
        let (epochs, t) = reported_epochs(&tracker, &s).await;
        with.extend(epochs);
        spent += t;
    }
    let (q, r) = (
        percentile(&sorted(without), 0.5),
        percentile(&sorted(with), 0.5),
    );
    let per_epoch = spent.as_secs_f64() / (4 * EPOCHS) as f64;
    row(
        "progress reporting cost per epoch, on the training thread",
        format!(
            "{:.0} us ({:.3}% of a {:.0} ms epoch)",
            per_epoch * 1e6,
            per_epoch / r * 100.0,
            r * 1000.0
        ),
        "< 1%",
        &format!(
            "time inside the observer's calls (progress at most every 100 ms, metrics every \
             epoch, cancel checks), {} epochs of {} batches",
            4 * EPOCHS,
            ROWS / 32
        ),
    );
    row(
        "epoch time with vs without reporting (A/B)",
        format!("{:+.2}%", (r - q) / q * 100.0),
        "-",
        &format!(
            "median epoch {:.1} ms with progress to a tracker vs {:.1} ms without, {} epochs \
             each in alternating rounds; includes the noise of a shared 2-core machine (the \
             tracker's thread competes with libtorch's two)",
            r * 1000.0,
            q * 1000.0,
            4 * EPOCHS
        ),
    );
}

/// The same net, batch and data size in PyTorch (the venv's), for comparison.
fn torch_reference(ours: f64) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bench/torch_mlp.py");
    let out = Command::new("python3")
        .arg(&script)
        .args([ROWS.to_string(), COLS.to_string(), EPOCHS.to_string()])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let secs: f64 = String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse()
                .unwrap_or(f64::NAN);
            row(
                "MLP training throughput, CPU (PyTorch script, same net)",
                format!("{:.0} samples/s", ROWS as f64 / secs),
                "-",
                &format!(
                    "tests/bench/torch_mlp.py, median epoch; ktrdr/PyTorch = {:.2}x",
                    secs / ours
                ),
            );
        }
        other => row(
            "MLP training throughput, CPU (PyTorch script)",
            "not measured".into(),
            "-",
            &format!("python3 tests/bench/torch_mlp.py failed: {other:?}"),
        ),
    }
}

/// DELETE of a training operation in the middle of an epoch (batch size 1) until `cancelled`.
pub async fn cancel_during_training(runs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::create_dir_all(dir.path().join("strategies")).unwrap();
    std::fs::copy(
        root.join("sample_data/GOOG_1d.csv"),
        dir.path().join("data/GOOG_1d.csv"),
    )
    .unwrap();
    let yaml = std::fs::read_to_string(root.join("config/strategies/neuro_mean_reversion.yaml"))
        .unwrap()
        .replace("epochs: 60", "epochs: 100000")
        .replace("batch_size: 32", "batch_size: 1")
        .replace("enabled: true", "enabled: false");
    std::fs::write(dir.path().join("strategies/bench.yaml"), yaml).unwrap();
    let mut settings = ktrdr::config::Settings::from_env(&Default::default()).unwrap();
    settings.paths.data_dir = dir.path().join("data");
    settings.paths.models_dir = dir.path().join("models");
    settings.paths.strategies_dir = dir.path().join("strategies");
    let app = Backend::start(settings, ktrdr::server::bind("127.0.0.1", 0).unwrap()).unwrap();
    let base = format!("http://{}/api/v1", app.addr);
    let client = awc::Client::default();
    let mut ms = Vec::new();
    for _ in 0..runs {
        let mut res = client
            .post(format!("{base}/trainings/start"))
            .send_json(&json!({"strategy_name": "bench"}))
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        let id = body["task_id"].as_str().unwrap().to_owned();
        // Wait until batches are running (progress says an epoch is under way).
        loop {
            let mut r = client
                .get(format!("{base}/operations/{id}"))
                .send()
                .await
                .unwrap();
            let op: serde_json::Value = r.json().await.unwrap();
            if op["data"]["progress"]["context"]["current_batch"]
                .as_u64()
                .unwrap_or(0)
                > 0
            {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        ms.push(timed_cancel(&client, &base, &id).await);
    }
    let s = sorted(ms);
    row(
        "cancel latency, training mid-epoch",
        format!(
            "p50 {:.1} ms, p99 {:.1} ms",
            percentile(&s, 0.5),
            percentile(&s, 0.99)
        ),
        "within one batch window",
        &format!(
            "{runs} runs, GOOG daily, batch size 1 (a cancel check every 50 batches), HTTP round \
             trip included"
        ),
    );
}
