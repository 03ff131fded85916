//! Wall time of CLI commands against a running backend: the release `ktrdr` binary, started
//! afresh for every run, as a user's shell would.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use ktrdr::server::Backend;

use crate::{percentile, row, sorted};

/// Milliseconds of each of `runs` runs of `ktrdr ARGS` (which must succeed).
async fn time_runs(args: Vec<String>, runs: usize) -> Vec<f64> {
    actix_web::rt::task::spawn_blocking(move || {
        (0..runs)
            .map(|_| {
                let t0 = Instant::now();
                let out = Command::new(env!("CARGO_BIN_EXE_ktrdr"))
                    .args(&args)
                    .output()
                    .unwrap();
                let ms = t0.elapsed().as_secs_f64() * 1000.0;
                assert!(out.status.success(), "{args:?}: {out:?}");
                ms
            })
            .collect()
    })
    .await
    .unwrap()
}

pub async fn cli_wall_time(runs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let mut settings = ktrdr::config::Settings::from_env(&Default::default()).unwrap();
    settings.data.csv_dir = src;
    settings.paths.data_dir = dir.path().to_owned();
    let app = Backend::start(settings, ktrdr::server::bind("127.0.0.1", 0).unwrap()).unwrap();
    let url = format!("http://{}", app.addr);
    let a = |v: &[&str]| -> Vec<String> {
        let mut out: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        out.insert(1, "--url".into());
        out.insert(2, url.clone());
        out
    };
    let load = sorted(
        time_runs(
            a(&[
                "data",
                "load",
                "GOOG",
                "-t",
                "1d",
                "-m",
                "full",
                "--start",
                "2004-01-01",
                "--no-progress",
            ]),
            1,
        )
        .await,
    );
    let list = sorted(time_runs(a(&["operations", "list"]), runs).await);
    let show = sorted(time_runs(a(&["data", "show", "GOOG", "-t", "1d", "-r", "10"]), runs).await);
    for (name, v, goal) in [
        ("ktrdr operations list", &list, "< 10 ms"),
        ("ktrdr data show GOOG -t 1d -r 10", &show, "-"),
    ] {
        row(
            &format!("CLI wall time, `{name}`"),
            format!(
                "median {:.1} ms, p90 {:.1} ms",
                percentile(v, 0.5),
                percentile(v, 0.9)
            ),
            goal,
            &format!(
                "{runs} runs of the release binary, process start included, backend on loopback"
            ),
        );
    }
    row(
        "CLI wall time, `ktrdr data load GOOG -t 1d -m full` (sample data, empty store)",
        format!("{:.0} ms", load[0]),
        "-",
        "2148 bars, in-process CSV provider, one run (the next would find nothing to fetch)",
    );
}
