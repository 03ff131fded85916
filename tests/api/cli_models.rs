//! `ktrdr models ...` and the CLI's progress display: the real binary against the real
//! backend (and the real IB host service for the slow load).

use std::process::{Command, Stdio};

use crate::helpers::{data_settings, dead_port, spawn_app_with, spawn_ib_host};
use crate::training::{Project, FEW_EPOCHS};

use crate::helpers::{run_ktrdr as ktrdr, verb_args as args};

/// `models train` (not a terminal) prints its epochs in order, then the summary; `models list`
/// shows the model; `-f json` is the operation's record.
#[actix_web::test]
async fn models_train_prints_epochs_in_order_then_the_summary() {
    let project = Project::new(FEW_EPOCHS);
    let app = spawn_app_with(project.settings()).await;
    let file = project.path("strategies/neuro_mean_reversion.yaml");
    let out = ktrdr(args(
        "models",
        &app.base,
        &["train", file.to_str().unwrap(), "GOOG", "1d"],
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("Training neuro_mean_reversion on GOOG 1d (op_training_"),
        "{text}"
    );
    // Progress lines (stages and epochs): percentages never go down, epochs never go back.
    let mut last = (0u32, 0.0f64);
    let mut epochs_seen = 0;
    for l in lines.iter().filter(|l| l.starts_with('[')) {
        let pct: f64 = l[1..].split('%').next().unwrap().trim().parse().unwrap();
        assert!(pct >= last.1, "{l} after {last:?}\n{text}");
        last.1 = pct;
        let Some(rest) = l.split_once("] Epoch ") else {
            continue;
        };
        let epoch: u32 = rest.1.split('/').next().unwrap().parse().unwrap();
        assert!(epoch >= last.0, "{l} after {last:?}\n{text}");
        last.0 = epoch;
        epochs_seen += 1;
    }
    assert!(epochs_seen >= 1 && last.0 == 4, "{text}");
    let n = lines.len();
    assert!(
        lines[n - 3].starts_with("Model saved to ")
            && lines[n - 3].ends_with("neuro_mean_reversion/1d_v1"),
        "{text}"
    );
    assert!(lines[n - 2].starts_with("Epochs trained 4"), "{text}");
    assert!(lines[n - 1].starts_with("Test accuracy "), "{text}");

    let out = ktrdr(args("models", &app.base, &["list"])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text.lines().nth(1).unwrap_or_default();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cols[..4],
        &["neuro_mean_reversion", "1d", "1", "GOOG"],
        "{text}"
    );
    assert!(text.trim_end().ends_with("1 models"));

    let out = ktrdr(args(
        "models",
        &app.base,
        &["train", "neuro_mean_reversion", "-f", "json"],
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    let op: serde_json::Value = serde_json::from_slice(&out.stdout).expect("-f json is JSON");
    assert_eq!(op["status"], "completed");
    assert!(op["result_summary"]["model_path"]
        .as_str()
        .unwrap()
        .ends_with("1d_v2"));
}

/// Mistakes are refused before any request (the URL is dead): exit 2, the reason, no
/// "cannot reach". `--dry-run` checks and says what it would do.
#[actix_web::test]
async fn models_train_input_is_checked_locally() {
    let project = Project::new(FEW_EPOCHS);
    let base = format!("http://127.0.0.1:{}", dead_port());
    let good = project.path("strategies/neuro_mean_reversion.yaml");
    let bad = project.path("strategies/bad.yaml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&good)
            .unwrap()
            .replace("dropout: 0.3", "dropout: 2"),
    )
    .unwrap();
    let (good, bad) = (good.to_str().unwrap(), bad.to_str().unwrap());
    for (verb, expect) in [
        (vec!["train", good, "GOOG", "3h"], "invalid timeframe"),
        (vec!["train", good, "GO OG"], "invalid symbol"),
        (vec!["train", bad], "model.architecture.dropout"),
        (vec!["train", "missing/x.yaml"], "no such strategy file"),
        (
            vec!["train", good, "--start-date", "yesterday"],
            "--start-date",
        ),
    ] {
        let out = ktrdr(args("models", &base, &verb)).await;
        assert_eq!(out.status.code(), Some(2), "{verb:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(expect) && !err.contains("cannot reach"),
            "{verb:?}: {err}"
        );
    }
    let out = ktrdr(args(
        "models",
        &base,
        &["train", good, "AAPL", "1h", "--dry-run"],
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("27 features")
            && text.contains("would train neuro_mean_reversion on AAPL 1h"),
        "{text}"
    );
}

/// On a terminal (a pty from `script`) the bar is drawn and ends full.
#[actix_web::test]
async fn the_bar_is_drawn_on_a_terminal_and_ends_at_100() {
    let project = Project::new(FEW_EPOCHS);
    let app = spawn_app_with(project.settings()).await;
    let cmd = format!(
        "{} models --url {} train neuro_mean_reversion GOOG 1d",
        env!("CARGO_BIN_EXE_ktrdr"),
        app.base
    );
    let out = actix_web::rt::task::spawn_blocking(move || {
        Command::new("script")
            .args(["-q", "-e", "-c", &cmd, "/dev/null"])
            .env("TERM", "xterm")
            .env("COLUMNS", "160")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    // Drawn frames carry the bar; the last one is complete.
    assert!(text.contains("Epoch "), "{text}");
    let last_frame = text
        .rsplit('\r')
        .find(|f| f.contains('%'))
        .unwrap_or_default();
    assert!(
        text.contains("[==============================] 100% done"),
        "last frame: {last_frame:?}"
    );
    assert!(text.contains("Model saved to "));
}

/// Ctrl+C in the middle of a slow load (IB host with 300 ms per request) cancels the
/// operation on the backend; the CLI says so and exits non-zero.
#[actix_web::test]
async fn sigint_during_a_slow_load_cancels_it() {
    let src = crate::helpers::goog_source();
    let store = tempfile::tempdir().unwrap();
    let ib = spawn_ib_host(src.path(), 300);
    let mut settings = data_settings(&ib, store.path());
    settings.data.load_concurrency = 1;
    let app = spawn_app_with(settings).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ktrdr"))
        .args(args(
            "data",
            &app.base,
            &["load", "GOOG", "-t", "1d", "-m", "full"],
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let id = actix_web::rt::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        // Wait for a segment line: the load is fetching.
        for line in lines.by_ref() {
            if line.unwrap().contains("segment") {
                break;
            }
        }
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        lines.for_each(drop);
        let out = child.wait_with_output().unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap();
    let (status, stderr) = id;
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Operation cancelled"), "{stderr}");
    let (_, ops) = crate::helpers::TestApp::get(&app, "/operations?operation_type=data_load").await;
    assert_eq!(ops["data"][0]["status"], "cancelled", "{ops}");
}
