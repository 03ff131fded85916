//! Shared helpers: a real backend on port 0 (in-process), real binaries as subprocesses, and
//! small HTTP and websocket clients.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::Duration;

use awc::ws;
use futures_util::StreamExt;
use ktrdr::config::Settings;
use ktrdr::server::{self, Backend};
use serde_json::Value;

/// Logs go to stderr only when `TEST_LOG` is set.
pub fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
                .with_test_writer()
                .init();
        }
    });
}

/// The longest any one wait of these tests may take (a frame, an operation's end, a process's
/// first line or exit) before the test fails naming what it waited for. Generous: a slow
/// machine is not a failure, a hang is.
pub const WAIT: Duration = Duration::from_secs(300);

/// Awaits `fut`, failing the test with `what` if it takes longer than [`WAIT`].
pub async fn within<T>(what: impl std::fmt::Display, fut: impl Future<Output = T>) -> T {
    match actix_web::rt::time::timeout(WAIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {} s waiting for {what}", WAIT.as_secs()),
    }
}

/// The default settings, as a fresh environment gives them.
pub fn test_settings() -> Settings {
    let mut s = Settings::from_env(&Default::default()).expect("defaults parse");
    // Each backend its own operation store (tests that restart one set a file).
    s.operations.database_url = "sqlite::memory:".into();
    s
}

/// A backend running in this test's actix system.
pub struct TestApp {
    /// The running backend (its tracker, for tests that look behind the API).
    #[allow(dead_code)]
    pub backend: Backend,
    pub base: String,
    pub client: awc::Client,
}

/// Starts the real backend on port 0 over loopback.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_settings()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    init_logs();
    let listener = server::bind("127.0.0.1", 0).expect("bind port 0");
    let backend = Backend::start(settings, listener).expect("start backend");
    let base = format!("http://{}", backend.addr);
    TestApp {
        backend,
        base,
        client: awc::Client::default(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let mut res = self.client.get(self.url(path)).send().await.expect("GET");
        (res.status().as_u16(), res.json().await.expect("JSON body"))
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let mut res = self
            .client
            .post(self.url(path))
            .insert_header(("content-type", "application/json"))
            .send_body(body.to_owned())
            .await
            .expect("POST");
        (res.status().as_u16(), res.json().await.expect("JSON body"))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_raw(path, &body.to_string()).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let mut res = self
            .client
            .delete(self.url(path))
            .send()
            .await
            .expect("DELETE");
        (res.status().as_u16(), res.json().await.expect("JSON body"))
    }

    /// Starts a dummy operation and returns its id.
    pub async fn start_dummy(&self, duration_seconds: f64, steps: u64) -> String {
        let (status, body) = self
            .post(
                "/dummy/start",
                serde_json::json!({"duration_seconds": duration_seconds, "steps": steps}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"]["operation_id"].as_str().unwrap().to_owned()
    }

    /// Opens a websocket on `path` (under /api/v1).
    pub async fn ws(&self, path: &str) -> WsClient {
        let url = self.url(path).replacen("http://", "ws://", 1);
        let (_, framed) = awc::Client::default()
            .ws(url)
            .connect()
            .await
            .expect("websocket connect");
        WsClient { framed }
    }
}

/// What a websocket client reads.
#[derive(Debug)]
pub enum WsRead {
    Event(Value),
    Closed(Option<ws::CloseReason>),
}

pub struct WsClient {
    framed: actix_codec::Framed<awc::BoxedSocket, ws::Codec>,
}

impl From<actix_codec::Framed<awc::BoxedSocket, ws::Codec>> for WsClient {
    fn from(framed: actix_codec::Framed<awc::BoxedSocket, ws::Codec>) -> Self {
        Self { framed }
    }
}

impl WsClient {
    /// The next event or the close frame; pings are skipped. Fails the test after [`WAIT`].
    pub async fn read(&mut self) -> WsRead {
        loop {
            let frame = within("the next websocket frame", self.framed.next()).await;
            match frame {
                Some(Ok(ws::Frame::Text(bytes))) => {
                    return WsRead::Event(serde_json::from_slice(&bytes).expect("event JSON"))
                }
                Some(Ok(ws::Frame::Close(reason))) => return WsRead::Closed(reason),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("websocket error: {e}"),
                None => return WsRead::Closed(None),
            }
        }
    }

    /// The next event; panics on close.
    pub async fn event(&mut self) -> Value {
        match self.read().await {
            WsRead::Event(v) => v,
            WsRead::Closed(r) => panic!("closed early: {r:?}"),
        }
    }

    /// Events up to and including the one whose operation has finished, then the close frame.
    pub async fn until_closed(&mut self) -> (Vec<Value>, Option<ws::CloseReason>) {
        let mut events = Vec::new();
        loop {
            match self.read().await {
                WsRead::Event(v) => events.push(v),
                WsRead::Closed(r) => return (events, r),
            }
        }
    }
}

/// A `ktrdr` subprocess that announced its address; killed when dropped.
pub struct Proc {
    pub child: Child,
    pub base: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the real `ktrdr` binary with `args` and waits for its `listening on` line.
pub fn spawn_bin(args: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ktrdr"));
    cmd.args(args)
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("TEST_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    // Each backend its own operation store, unless the test names one.
    cmd.env("KTRDR_DATABASE_URL", "sqlite::memory:");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn ktrdr");
    let stdout = child.stdout.take().unwrap();
    // The first line, read on a thread so a binary that never prints fails the test.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let line = match rx.recv_timeout(WAIT) {
        Ok(read) => read.expect("read first line"),
        Err(_) => {
            let _ = child.kill();
            panic!(
                "timed out waiting for `ktrdr {}` to print its address",
                args.join(" ")
            )
        }
    };
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Proc { child, base }
}

/// A port that nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the real IB host service (CSV provider over `dir`) on port 0; returns its base URL.
pub fn spawn_ib_host(dir: &std::path::Path, latency_ms: u64) -> String {
    let provider = ktrdr::hosts::ib::csv_provider::CsvProvider::new(
        dir,
        std::time::Duration::from_millis(latency_ms),
    );
    let app = ktrdr::hosts::ib::app(std::sync::Arc::new(provider));
    server::spawn_app(server::bind("127.0.0.1", 0).unwrap(), 1, app)
        .unwrap()
        .0
}

/// Settings for a backend that loads through the IB host service at `ib_url` into `data_dir`.
pub fn data_settings(ib_url: &str, data_dir: &std::path::Path) -> Settings {
    let mut s = test_settings();
    s.ib_host_service.enabled = true;
    s.ib_host_service.url = ib_url.to_owned();
    s.paths.data_dir = data_dir.to_owned();
    s.host_client.max_retries = 1;
    s
}

impl TestApp {
    /// Waits (over the websocket) for an operation to end and returns its record.
    pub async fn wait_for(&self, id: &str) -> Value {
        let mut ws = self.ws(&format!("/operations/{id}/ws")).await;
        within(format!("operation {id} to end"), ws.until_closed()).await;
        self.get(&format!("/operations/{id}")).await.1["data"].clone()
    }

    /// Starts a load and waits for its end.
    pub async fn load(&self, body: Value) -> Value {
        let (status, res) = self.post("/data/load", body).await;
        assert_eq!(status, 200, "{res}");
        let id = res["data"]["operation_id"].as_str().unwrap().to_owned();
        self.wait_for(&id).await
    }
}

/// Runs the real `ktrdr` binary (without `KTRDR_API_URL`) to its end, off the test's thread.
pub async fn run_ktrdr(args: Vec<String>) -> std::process::Output {
    run_ktrdr_with(args, &[]).await
}

/// [`run_ktrdr`] with these environment variables.
pub async fn run_ktrdr_with(args: Vec<String>, env: &[(&str, &str)]) -> std::process::Output {
    let what = format!("`ktrdr {}` to exit", args.join(" "));
    let child = Command::new(env!("CARGO_BIN_EXE_ktrdr"))
        .args(&args)
        .env_remove("KTRDR_API_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = actix_web::rt::task::spawn_blocking(move || child.wait_with_output().unwrap());
    match actix_web::rt::time::timeout(WAIT, output).await {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // SAFETY: kill(2) on the child's pid; it has not been reaped (wait is pending).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("timed out after {} s waiting for {what}", WAIT.as_secs())
        }
    }
}

/// `ktrdr GROUP --url BASE VERB...` as arguments.
pub fn verb_args(group: &str, base: &str, verb: &[&str]) -> Vec<String> {
    let mut v = vec![group.to_owned(), "--url".to_owned(), base.to_owned()];
    v.extend(verb.iter().map(|s| s.to_string()));
    v
}

/// `GET url` on any of the servers (host services included): status and JSON body.
pub async fn get_json(url: &str) -> (u16, Value) {
    let mut res = awc::Client::default().get(url).send().await.expect("GET");
    (res.status().as_u16(), res.json().await.expect("JSON body"))
}

/// `POST url` with a JSON body on any of the servers: status and JSON body.
pub async fn delete_json(url: &str) -> (u16, Value) {
    let mut res = awc::Client::default().delete(url).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn post_json(url: &str, body: Value) -> (u16, Value) {
    let mut res = awc::Client::default()
        .post(url)
        .send_json(&body)
        .await
        .expect("POST");
    (res.status().as_u16(), res.json().await.expect("JSON body"))
}

/// The whole captured exchange in `tests/api/ktrdr_samples/{file}`: `{request: {method, path,
/// body}, status, response}` (the older captures hold the answer alone).
pub fn ktrdr_exchange(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/ktrdr_samples")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("sample")).expect("sample JSON")
}

/// The original KTRDR's answer in `tests/api/ktrdr_samples/{file}` (`response` of the captured
/// exchange, or the whole file for the older captures).
pub fn ktrdr_sample(file: &str) -> Value {
    let v = ktrdr_exchange(file);
    v.get("response").cloned().unwrap_or(v)
}

/// The key paths of `original` that `ours` lacks: every object key, recursively, and the
/// first element of arrays of objects (the samples cut long arrays to three items and "...").
pub fn missing_fields(original: &Value, ours: &Value, path: &str) -> Vec<String> {
    match (original, ours) {
        (Value::Object(o), Value::Object(m)) => o
            .iter()
            .flat_map(|(k, v)| match m.get(k) {
                None => vec![format!("{path}.{k}")],
                Some(mine) => missing_fields(v, mine, &format!("{path}.{k}")),
            })
            .collect(),
        (Value::Array(o), Value::Array(m)) => match (o.first(), m.first()) {
            (Some(a @ Value::Object(_)), Some(b)) => missing_fields(a, b, &format!("{path}[0]")),
            _ => vec![],
        },
        // A null on either side carries no structure to compare (e.g. no data yet).
        (Value::Object(_), Value::Null) | (Value::Null, _) => vec![],
        (Value::Object(_), _) => vec![format!("{path} (not an object)")],
        _ => vec![],
    }
}

/// Fails unless `ours` has every field of the original's answer in `file`.
pub fn assert_ktrdr_shape(file: &str, ours: &Value) {
    let missing = missing_fields(&ktrdr_sample(file), ours, "");
    assert!(
        missing.is_empty(),
        "{file}: ktrdr's answer lacks {missing:?}\nours: {ours}"
    );
}

/// The real GOOG daily sample (2148 bars, 2004-2013).
pub const GOOG_1D: &str = include_str!("../../sample_data/GOOG_1d.csv");

/// A folder holding `GOOG_1d.csv` (the real sample), for a CSV provider.
pub fn goog_source() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("GOOG_1d.csv"), GOOG_1D).unwrap();
    dir
}

/// The names in a store folder but its lock folder and the operation store: series files,
/// temp files, kept files.
pub fn store_files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n != ".locks" && !n.starts_with("operations.db"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Asserts that `op` failed with an error message containing `needle`.
pub fn assert_failed_with(op: &Value, needle: &str) {
    assert_eq!(op["status"], "failed", "{op}");
    let msg = op["error_message"].as_str().unwrap_or_default();
    assert!(msg.contains(needle), "expected {needle:?} in: {op}");
}

/// Writes `{symbol}_1h.csv` in `dir`: `hours` hourly bars from `t0`, every hour (a crypto
/// calendar), prices cycling so each bar is recognisable.
pub fn write_hourly_csv(
    dir: &std::path::Path,
    symbol: &str,
    t0: chrono::DateTime<chrono::Utc>,
    hours: i64,
) {
    let mut csv = String::from("datetime,open,high,low,close,volume\n");
    for h in 0..hours {
        let t = t0 + chrono::Duration::hours(h);
        let p = 50.0 + (h % 40) as f64;
        csv.push_str(&format!(
            "{},{p},{},{},{},{}\n",
            t.format("%Y-%m-%d %H:%M:%S"),
            p + 1.0,
            p - 1.0,
            p + 0.25,
            h + 1
        ));
    }
    std::fs::write(dir.join(format!("{symbol}_1h.csv")), csv).unwrap();
}

/// Sends `signal` to a spawned process and waits (on a blocking thread) until it has exited.
pub async fn kill_and_wait(mut proc: Proc, signal: i32) -> std::process::ExitStatus {
    let pid = proc.child.id();
    // SAFETY: a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
    let wait = actix_web::rt::task::spawn_blocking(move || proc.child.wait());
    within(format!("process {pid} to exit"), wait)
        .await
        .unwrap()
        .unwrap()
}
