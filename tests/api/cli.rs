//! The `ktrdr operations` client verbs: the real binary against the real backend.

use std::process::{Command, Stdio};

use crate::helpers::{dead_port, run_ktrdr as ktrdr, spawn_app, verb_args, within};

fn args(base: &str, verb: &[&str]) -> Vec<String> {
    verb_args("operations", base, verb)
}

/// Backend down: one line naming the URL and how to start it, exit code 2.
#[actix_web::test]
async fn backend_down_exits_2_with_hint() {
    let base = format!("http://127.0.0.1:{}", dead_port());
    let out = ktrdr(args(&base, &["list"])).await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&base) && err.contains("ktrdr serve"), "{err}");
}

/// `watch` prints progress lines in order and ends with the completion, exit 0.
#[actix_web::test]
async fn watch_follows_to_completion() {
    let app = spawn_app().await;
    let id = app.start_dummy(0.5, 5).await;
    let out = ktrdr(args(&app.base, &["watch", &id])).await;
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(*lines.last().unwrap(), "Operation completed");
    let pcts: Vec<f64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix('[')?.split('%').next()?.trim().parse().ok())
        .collect();
    assert!(pcts.windows(2).all(|w| w[0] <= w[1]), "{pcts:?}");
    assert_eq!(*pcts.last().unwrap(), 100.0);
}

/// `cancel` stops a running operation; `list` shows it; a second cancel fails with the reason.
#[actix_web::test]
async fn cancel_and_list() {
    let app = spawn_app().await;
    let id = app.start_dummy(30.0, 30).await;
    let out = ktrdr(args(&app.base, &["cancel", &id, "-r", "testing"])).await;
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("cancelled"));
    let (_, op) = app.get(&format!("/operations/{id}")).await;
    assert_eq!(op["data"]["cancellation_reason"], "testing");
    let out = ktrdr(args(&app.base, &["list", "-s", "cancelled"])).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id));
    let out = ktrdr(args(&app.base, &["cancel", &id])).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be cancelled"));
}

/// Ctrl+C during `watch` cancels the operation on the backend and exits non-zero.
#[actix_web::test]
async fn sigint_during_watch_cancels_operation() {
    let app = spawn_app().await;
    let id = app.start_dummy(60.0, 600).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ktrdr"))
        .args(args(&app.base, &["watch", &id]))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first progress line means the watch is connected and its Ctrl+C handler set.
    let stdout = child.stdout.take().unwrap();
    let child = actix_web::rt::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        lines.next();
        lines.next();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        lines.for_each(drop);
        child
    });
    let mut child = within("the CLI to read its first lines", child)
        .await
        .unwrap();
    let status = within(
        "the CLI to exit after SIGINT",
        actix_web::rt::task::spawn_blocking(move || child.wait()),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!status.success());
    let (_, op) = app.get(&format!("/operations/{id}")).await;
    assert_eq!(op["data"]["status"], "cancelled");
}

fn data_args(base: &str, verb: &[&str]) -> Vec<String> {
    verb_args("data", base, verb)
}

/// `data load` ends with its summary line; `data show -f json` and `data range`
/// read the store back.
#[actix_web::test]
async fn data_load_show_range() {
    let src = crate::helpers::goog_source();
    let store = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::test_settings();
    settings.data.csv_dir = src.path().to_owned();
    settings.paths.data_dir = store.path().to_owned();
    let app = crate::helpers::spawn_app_with(settings).await;
    let out = ktrdr(data_args(
        &app.base,
        &[
            "load",
            "GOOG",
            "-t",
            "1d",
            "-m",
            "full",
            "--start",
            "2010-01-01",
            "--end",
            "2013-01-01",
        ],
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    // Not a terminal: plain progress lines, in order (percentages and segment numbers never
    // go back), then the summary.
    let mut last = (0.0f64, 0u32);
    let mut segments = 0;
    for l in text.lines().filter(|l| l.starts_with('[')) {
        let pct: f64 = l[1..].split('%').next().unwrap().trim().parse().unwrap();
        let seg = l
            .split_once(" segment ")
            .map_or(0, |(_, r)| r.split('/').next().unwrap().parse().unwrap());
        assert!(
            pct >= last.0 && (seg == 0 || seg >= last.1),
            "{l} after {last:?}\n{text}"
        );
        last = (pct, seg.max(last.1));
        segments += usize::from(seg > 0);
    }
    assert!(segments >= 1, "{text}");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("Loaded GOOG 1d (full): 754 new bars"),
        "{text}"
    );
    let out = ktrdr(data_args(
        &app.base,
        &["show", "GOOG", "-t", "1d", "-r", "3", "-f", "json"],
    ))
    .await;
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("-f json is JSON");
    assert_eq!(v["dates"].as_array().unwrap().len(), 3);
    assert_eq!(v["dates"][2], "2012-12-31T00:00:00");
    let out = ktrdr(data_args(&app.base, &["range", "GOOG", "-t", "1d"])).await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "GOOG 1d: 754 bars from 2010-01-04T00:00:00 to 2012-12-31T00:00:00"
    );
}

/// A bad timeframe or mode is refused before any request (the backend URL is dead).
#[actix_web::test]
async fn bad_data_input_is_refused_locally() {
    let base = format!("http://127.0.0.1:{}", dead_port());
    for (verb, expect) in [
        (vec!["load", "GOOG", "-t", "3h"], "invalid timeframe"),
        (vec!["load", "GOOG", "-m", "all"], "invalid mode"),
        (vec!["show", "../x"], "invalid symbol"),
    ] {
        let out = ktrdr(data_args(&base, &verb)).await;
        assert_eq!(out.status.code(), Some(2), "{verb:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(expect) && !err.contains("cannot reach"),
            "{err}"
        );
    }
}
