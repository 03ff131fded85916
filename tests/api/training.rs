//! Training through the API: locally, through the real training host (in-process on port 0,
//! and as the real binary that gets killed), cancel mid-epoch, and the request mistakes. Bars
//! are the real GOOG daily sample (2004-2013).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ktrdr::config::Settings;
use ktrdr::data::store::BarStore;
use ktrdr::hosts::training::{app as training_host, TrainingHost};
use ktrdr::server;
use ktrdr::training::features::prepare;
use ktrdr::training::storage;
use ktrdr_core::strategy::Strategy;
use ktrdr_core::timeframe::Timeframe;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::helpers::*;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A project folder: GOOG daily in `data/`, the example strategy (with `edit` applied) in
/// `strategies/`, and an empty `models/`.
pub(crate) struct Project {
    dir: TempDir,
}

impl Project {
    pub(crate) fn new(edit: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::create_dir_all(dir.path().join("strategies")).unwrap();
        std::fs::copy(
            repo("sample_data/GOOG_1d.csv"),
            dir.path().join("data/GOOG_1d.csv"),
        )
        .unwrap();
        let mut yaml =
            std::fs::read_to_string(repo("config/strategies/neuro_mean_reversion.yaml")).unwrap();
        for (from, to) in edit {
            assert!(yaml.contains(from), "example strategy lacks {from:?}");
            yaml = yaml.replace(from, to);
        }
        std::fs::write(
            dir.path().join("strategies/neuro_mean_reversion.yaml"),
            yaml,
        )
        .unwrap();
        Self { dir }
    }

    pub(crate) fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub(crate) fn settings(&self) -> Settings {
        let mut s = test_settings();
        s.paths.data_dir = self.path("data");
        s.paths.models_dir = self.path("models");
        s.paths.strategies_dir = self.path("strategies");
        s.host_client.max_retries = 1;
        s
    }
}

pub(crate) const FEW_EPOCHS: &[(&str, &str)] = &[("epochs: 60", "epochs: 4")];
/// Long enough to be cancelled or killed mid-run: batch size 1, many epochs.
const LONG_RUN: &[(&str, &str)] = &[
    ("epochs: 60", "epochs: 100000"),
    ("batch_size: 32", "batch_size: 1"),
    ("enabled: true", "enabled: false"),
];

async fn start_training(app: &TestApp) -> String {
    let (status, res) = app
        .post(
            "/trainings/start",
            json!({"strategy_name": "neuro_mean_reversion", "symbols": ["GOOG"], "timeframes": ["1d"]}),
        )
        .await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["status"], "training_started");
    assert_eq!(res["symbols"], json!(["GOOG"]));
    res["task_id"].as_str().unwrap().to_owned()
}

/// Waits for a progress event of `id` in epoch >= 2 (so the run is mid-training).
async fn wait_until_training(app: &TestApp, id: &str) -> Value {
    let mut ws = app.ws(&format!("/operations/{id}/ws")).await;
    loop {
        let ev = ws.event().await;
        let p = &ev["operation"]["progress"];
        assert_eq!(ev["operation"]["status"], "running", "{ev}");
        if p["context"]["current_epoch"].as_u64().unwrap_or(0) >= 2 {
            return ev;
        }
    }
}

/// Checks a completed training's record, metrics and model folder; returns the folder.
async fn check_completed(app: &TestApp, id: &str, epochs: usize, models: &Path) -> PathBuf {
    let op = app.wait_for(id).await;
    assert_eq!(op["status"], "completed", "{op}");
    assert_eq!(op["operation_type"], "training");
    assert_eq!(
        op["metadata"]["parameters"]["strategy_name"],
        "neuro_mean_reversion"
    );
    let summary = &op["result_summary"];
    let test = &summary["test_metrics"];
    for k in [
        "test_accuracy",
        "test_loss",
        "precision",
        "recall",
        "f1_score",
    ] {
        let v = test[k].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite(), "{k} = {}", test[k]);
    }
    assert!((0.0..=1.0).contains(&test["test_accuracy"].as_f64().unwrap()));
    assert_eq!(summary["data_summary"]["total_bars"], 2148);

    let (status, m) = app.get(&format!("/operations/{id}/metrics")).await;
    assert_eq!(status, 200);
    assert_eq!(m["data"]["operation_type"], "training");
    let hist = m["data"]["metrics"]["epochs"].as_array().unwrap();
    assert_eq!(hist.len(), epochs, "{m}");
    for (i, e) in hist.iter().enumerate() {
        assert_eq!(e["epoch"], i);
        for k in [
            "train_loss",
            "train_accuracy",
            "val_loss",
            "val_accuracy",
            "duration",
        ] {
            assert!(
                e[k].as_f64().is_some_and(f64::is_finite),
                "epoch {i} {k}: {e}"
            );
        }
    }
    assert!(m["data"]["metrics"]["best_epoch"].as_u64().unwrap() < epochs as u64);

    // Relative to the models folder: no path of the machine in the answer.
    let folder = PathBuf::from(summary["model_path"].as_str().unwrap());
    assert_eq!(
        folder,
        PathBuf::from("neuro_mean_reversion/1d_v1"),
        "{}",
        folder.display()
    );
    let folder = models.join(folder);
    for f in [
        "model.pt",
        "config.json",
        "metrics.json",
        "features.json",
        "metadata.json",
    ] {
        assert!(folder.join(f).is_file(), "missing {f}");
    }
    folder
}

/// The stored model reloads and predicts what the trained one did: its accuracy on the
/// rebuilt test rows equals the accuracy the run reported.
fn check_reload(folder: &Path, data_dir: &Path, reported_accuracy: f64) {
    let stored = storage::load(folder, tch::Device::Cpu).unwrap();
    let yaml: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("config.json")).unwrap())
            .unwrap();
    let strategy = Strategy::from_yaml(yaml["strategy_yaml"].as_str().unwrap()).unwrap();
    let goog = "GOOG".parse().unwrap();
    let bars = BarStore::new(data_dir).read(&goog, Timeframe::D1).unwrap();
    let prepared = prepare(&strategy, &BTreeMap::from([((goog, Timeframe::D1), bars)])).unwrap();
    assert_eq!(prepared.feature_names, stored.feature_names);
    // The scaler went through JSON: equal up to float printing (far below f32 features).
    let (a, b) = (prepared.scaler.unwrap(), stored.scaler.clone().unwrap());
    for (x, y) in a.mean.iter().chain(&a.std).zip(b.mean.iter().chain(&b.std)) {
        assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{x} vs {y}");
    }
    let probs = stored.model.predict(&prepared.test.x);
    assert_eq!(probs.len(), prepared.test.rows());
    let correct = probs
        .iter()
        .zip(&prepared.test.y)
        .filter(|(p, &y)| (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap() as i64 == y)
        .count();
    let acc = correct as f64 / probs.len() as f64;
    assert!(
        (acc - reported_accuracy).abs() < 1e-9,
        "{acc} vs {reported_accuracy}"
    );
    for p in &probs {
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
}

#[actix_web::test]
async fn trains_locally_on_real_daily_bars_and_the_model_reloads() {
    let project = Project::new(FEW_EPOCHS);
    let app = spawn_app_with(project.settings()).await;
    let id = start_training(&app).await;
    assert!(id.starts_with("op_training_"));
    let folder = check_completed(&app, &id, 4, &project.path("models")).await;
    let op = app.get(&format!("/operations/{id}")).await.1;
    assert_eq!(
        op["data"]["metadata"]["parameters"]["training_mode"],
        "local"
    );
    let acc = op["data"]["result_summary"]["test_metrics"]["test_accuracy"]
        .as_f64()
        .unwrap();
    check_reload(&folder, &project.path("data"), acc);

    // The model is listed; a second run gets the next version.
    let (status, models) = app.get("/models").await;
    assert_eq!(status, 200);
    assert_eq!(models["total_count"], 1);
    assert_eq!(models["data"][0]["strategy_name"], "neuro_mean_reversion");
    assert_eq!(models["data"][0]["version"], 1);
    let id2 = start_training(&app).await;
    assert_eq!(app.wait_for(&id2).await["status"], "completed");
    let models = app.get("/models").await.1;
    assert_eq!(models["data"][1]["version"], 2, "{models}");

    // KTRDR's shapes, as its clients read them.
    assert_ktrdr_shape("models_list.json", &models);
    let m = &models["models"][1];
    assert_eq!(m["model_id"], "neuro_mean_reversion/1d_v2", "{models}");
    assert_eq!(
        (m["symbol"].as_str(), m["timeframe"].as_str()),
        (Some("GOOG"), Some("1d"))
    );
    assert!(m["test_accuracy"].as_f64().unwrap() > 0.0, "{m}");
    let (status, perf) = app.get(&format!("/trainings/{id}/performance")).await;
    assert_eq!(status, 200, "{perf}");
    assert_ktrdr_shape("training_performance.json", &perf);
    assert_eq!(perf["success"], true);
    assert_eq!(perf["status"], "completed");
    assert_eq!(perf["test_metrics"]["test_accuracy"].as_f64(), Some(acc));
    assert_eq!(perf["training_metrics"]["epochs_completed"], 4);
    assert!(perf["model_info"]["parameters_count"].as_u64().unwrap() > 0);
    let (status, _) = app.get("/trainings/op_training_nosuch/performance").await;
    assert_eq!(status, 404);
    let (_, listed) = app.get("/strategies/").await;
    assert_ktrdr_shape("strategies_list.json", &listed);
    let info = &listed["strategies"][0];
    assert_eq!(info["name"], "neuro_mean_reversion", "{listed}");
    assert_eq!(info["training_status"], "trained");
    assert_eq!(info["available_versions"], json!([1, 2]));
    assert_eq!(info["indicators"][0]["feature_id"], "rsi_14");
    assert!(info["fuzzy_config"]["rsi_14"]["oversold"].is_object());
    let (status, one) = app.get("/strategies/neuro_mean_reversion").await;
    assert_ktrdr_shape("strategy_get.json", &one);
    assert_eq!((status, &one["latest_version"]), (200, &json!(2)));
    let (status, _) = app.get("/strategies/nosuch").await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn cancel_mid_epoch_stops_the_training() {
    let project = Project::new(LONG_RUN);
    let app = spawn_app_with(project.settings()).await;
    let id = start_training(&app).await;
    let seen = wait_until_training(&app, &id).await;
    assert!(seen["operation"]["progress"]["current_step"]
        .as_str()
        .unwrap()
        .starts_with("Epoch "));
    // The cancel answers once the training thread has returned (it checks every 50 batches).
    let (status, res) = app.delete(&format!("/operations/{id}")).await;
    assert_eq!(status, 200, "{res}");
    let op = app.get(&format!("/operations/{id}")).await.1["data"].clone();
    assert_eq!(op["status"], "cancelled", "{op}");
    // Stopped mid-run: nowhere near the 100000 epochs, and no model written.
    let epochs = app.get(&format!("/operations/{id}/metrics")).await.1["data"]["metrics"]["epochs"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(epochs < 1000, "{epochs}");
    assert!(storage::list(&project.path("models")).is_empty());
}

#[actix_web::test]
async fn trains_through_the_training_host() {
    let project = Project::new(FEW_EPOCHS);
    let host_models = project.path("host_models");
    let (host_url, _handle) = server::spawn_app(
        server::bind("127.0.0.1", 0).unwrap(),
        1,
        training_host(TrainingHost::new(&host_models, 1)),
    )
    .unwrap();
    let mut settings = project.settings();
    settings.training_host_service.enabled = true;
    settings.training_host_service.url = host_url.clone();
    let app = spawn_app_with(settings).await;
    let id = start_training(&app).await;
    // The host wrote the model (in its models folder); the backend mirrored the metrics and
    // the result.
    let folder = check_completed(&app, &id, 4, &host_models).await;
    let op = app.get(&format!("/operations/{id}")).await.1["data"].clone();
    assert_eq!(op["metadata"]["parameters"]["training_mode"], "host");
    assert_eq!(
        op["result_summary"]["session_info"]["training_mode"],
        "host"
    );
    assert_eq!(op["result_summary"]["session_info"]["operation_id"], id);
    let acc = op["result_summary"]["test_metrics"]["test_accuracy"]
        .as_f64()
        .unwrap();
    check_reload(&folder, &project.path("data"), acc);

    let (_, health) = get_json(&format!("{host_url}/health")).await;
    assert_eq!(health["active_sessions"], 0);
    assert_eq!(health["max_sessions"], 1);
    assert!(health["device"] == "cpu" || health["device"] == "cuda");
}

#[actix_web::test]
async fn a_host_killed_mid_run_fails_the_operation() {
    let project = Project::new(LONG_RUN);
    let models = project.path("host_models");
    let mut host = spawn_bin(
        &["training-host", "--port", "0"],
        &[("KTRDR_MODELS_DIR", models.to_str().unwrap())],
    );
    let mut settings = project.settings();
    settings.training_host_service.enabled = true;
    settings.training_host_service.url = host.base.clone();
    let app = spawn_app_with(settings).await;
    let id = start_training(&app).await;
    wait_until_training(&app, &id).await;
    host.child.kill().unwrap();
    host.child.wait().unwrap();
    let op = app.wait_for(&id).await;
    assert_eq!(op["status"], "failed", "{op}");
    let msg = op["error_message"].as_str().unwrap();
    assert!(
        msg.contains("training host service") && msg.contains(&host.base),
        "{msg}"
    );
}

#[actix_web::test]
async fn training_request_mistakes_are_refused() {
    let project = Project::new(FEW_EPOCHS);
    std::fs::write(
        project.path("strategies/broken.yaml"),
        "name: broken\nindicators: 3\n",
    )
    .unwrap();
    let app = spawn_app_with(project.settings()).await;
    let cases = [
        (json!({"strategy_name": "nope"}), "strategy not found"),
        (
            json!({"strategy_name": "../etc/passwd"}),
            "invalid strategy name",
        ),
        (
            json!({"strategy_name": "neuro_mean_reversion", "timeframes": ["7m"]}),
            "timeframes",
        ),
        (
            json!({"strategy_name": "neuro_mean_reversion", "symbols": ["NOT A SYMBOL"]}),
            "symbols",
        ),
        (
            json!({"strategy_name": "neuro_mean_reversion", "start_date": "2012-01-01", "end_date": "2011-01-01"}),
            "end_date",
        ),
        (json!({"strategy": "neuro_mean_reversion"}), "strategy"),
    ];
    for (body, needle) in cases {
        let (status, res) = app.post("/trainings/start", body.clone()).await;
        assert_eq!(status, 400, "{body}: {res}");
        assert_eq!(res["success"], false);
        let detail = res["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{body}: {detail}");
    }
    // KTRDR's validate route: a good file, a broken one (issues named by path), none.
    let (status, ok) = app
        .post("/strategies/validate/neuro_mean_reversion", json!({}))
        .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(
        (ok["valid"].as_bool(), ok["issues"].as_array().map(Vec::len)),
        (Some(true), Some(0))
    );
    assert!(ok["available_indicators"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "rsi"));
    let (status, bad) = app.post("/strategies/validate/broken", json!({})).await;
    assert_eq!(status, 200, "{bad}");
    assert_eq!(bad["valid"], false);
    assert_eq!(bad["issues"][0]["severity"], "error");
    let (status, _) = app.post("/strategies/validate/nosuch", json!({})).await;
    assert_eq!(status, 404);
    // A strategy file with a mistake: KTRDR's detail object, which its CLI prints.
    let (status, res) = app
        .post("/trainings/start", json!({"strategy_name": "broken"}))
        .await;
    assert_eq!(status, 400, "{res}");
    let detail = &res["detail"];
    assert_eq!(detail["error_code"], "CONFIG-InvalidStrategy", "{res}");
    assert!(detail["message"]
        .as_str()
        .unwrap()
        .starts_with("invalid strategy: broken.yaml"));
    assert_eq!(detail["context"]["strategy_name"], "broken");
    assert!(detail["suggestion"].as_str().unwrap().contains("--dry-run"));
    assert_eq!(res["error"]["code"], "STRATEGY_CONFIG_ERROR");
    // "nope" lists what there is.
    let (_, res) = app
        .post("/trainings/start", json!({"strategy_name": "nope"}))
        .await;
    assert!(res["detail"]
        .as_str()
        .unwrap()
        .contains("neuro_mean_reversion"));

    // Data that is not in the store fails the operation with what to do.
    let (status, res) = app
        .post(
            "/trainings/start",
            json!({"strategy_name": "neuro_mean_reversion", "symbols": ["MSFT"]}),
        )
        .await;
    assert_eq!(status, 200);
    let op = app.wait_for(res["task_id"].as_str().unwrap()).await;
    assert_eq!(op["status"], "failed");
    assert!(op["error_message"]
        .as_str()
        .unwrap()
        .contains("ktrdr data load MSFT -t 1d"));

    // The strategies are listed, the broken one with its reason.
    let (_, list) = app.get("/strategies").await;
    assert_eq!(list["total_count"], 2);
    assert_eq!(list["data"][0]["name"], "broken");
    assert_eq!(list["data"][0]["valid"], false);
    assert_eq!(list["data"][1]["valid"], true);
    assert_eq!(list["data"][1]["feature_count"], 27);
}

/// `data_mode: full` loads the bars first (through the DataManager's load pipeline, inside the
/// training operation), then trains on them.
#[actix_web::test]
async fn data_mode_loads_before_training() {
    let project = Project::new(FEW_EPOCHS);
    let csv = project.path("csv");
    std::fs::create_dir_all(&csv).unwrap();
    std::fs::rename(project.path("data/GOOG_1d.csv"), csv.join("GOOG_1d.csv")).unwrap();
    let mut settings = project.settings();
    settings.data.csv_dir = csv;
    let app = spawn_app_with(settings).await;
    let (status, res) = app
        .post(
            "/trainings/start",
            json!({"strategy_name": "neuro_mean_reversion", "data_mode": "full", "start_date": "2004-01-01"}),
        )
        .await;
    assert_eq!(status, 200, "{res}");
    let id = res["task_id"].as_str().unwrap();
    let mut ws = app.ws(&format!("/operations/{id}/ws")).await;
    let (events, _) = ws.until_closed().await;
    let steps: Vec<String> = events
        .iter()
        .filter_map(|e| {
            e["operation"]["progress"]["current_step"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    let loading = steps
        .iter()
        .position(|s| s.starts_with("Loading GOOG 1d (full)"));
    let training = steps.iter().position(|s| s.starts_with("Epoch "));
    assert!(
        matches!((loading, training), (Some(l), Some(t)) if l < t),
        "{steps:?}"
    );
    let op = app.get(&format!("/operations/{id}")).await.1["data"].clone();
    assert_eq!(op["status"], "completed", "{op}");
    assert_eq!(op["result_summary"]["data_summary"]["total_bars"], 2148);
    assert!(project.path("data/GOOG_1d.parquet").is_file());

    let (status, res) = app
        .post(
            "/trainings/start",
            json!({"strategy_name": "neuro_mean_reversion", "data_mode": "everything"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        res["detail"].as_str().unwrap().contains("data_mode"),
        "{res}"
    );
}

/// The training host takes a run only as its binary frame: a JSON body (the old form, with
/// bars as JSON numbers) is refused naming the content type; a cut frame names the body.
#[actix_web::test]
async fn training_host_takes_only_run_frames() {
    let dir = tempfile::tempdir().unwrap();
    let (host_url, _handle) = server::spawn_app(
        server::bind("127.0.0.1", 0).unwrap(),
        1,
        training_host(TrainingHost::new(dir.path(), 1)),
    )
    .unwrap();
    let (status, body) = post_json(
        &format!("{host_url}/training/start"),
        json!({"strategy_yaml": "x", "series": []}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["details"][0]["field"],
        "header -> content-type"
    );
    let mut res = awc::Client::default()
        .post(format!("{host_url}/training/start"))
        .insert_header((
            "content-type",
            ktrdr_core::protocol::training::RUN_CONTENT_TYPE,
        ))
        .send_body(vec![200u8, 0, 0, 0, b'{'])
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("frame ends before"),
        "{body}"
    );
}

/// A run bigger than the host's limit is refused (413) without being read into memory.
#[actix_web::test]
async fn training_host_refuses_a_body_over_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (host_url, _handle) = server::spawn_app(
        server::bind("127.0.0.1", 0).unwrap(),
        1,
        training_host(TrainingHost::new(dir.path(), 1).with_max_start_bytes(64 * 1024)),
    )
    .unwrap();
    let res = awc::Client::default()
        .post(format!("{host_url}/training/start"))
        .insert_header((
            "content-type",
            ktrdr_core::protocol::training::RUN_CONTENT_TYPE,
        ))
        .send_body(vec![0u8; 256 * 1024])
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let (_, health) = get_json(&format!("{host_url}/health")).await;
    assert_eq!(health["active_sessions"], 0);
}
