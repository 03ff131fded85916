//! The real `ktrdr` binary: server start-up lines, host health, configuration errors, and
//! graceful shutdown.

use std::process::Command;
use std::time::Duration;

use crate::helpers::{spawn_bin, WsClient, WsRead};

/// Every server prints `listening on http://HOST:PORT` first and answers its health check; the
/// training host reports the device libtorch sees.
#[actix_web::test]
async fn servers_announce_and_answer_health() {
    let client = awc::Client::default();
    for (sub, key) in [
        ("ib-host", "service"),
        ("training-host", "device"),
        ("serve", "status"),
    ] {
        let p = spawn_bin(&[sub, "--host", "127.0.0.1", "--port", "0"], &[]);
        assert!(p.base.starts_with("http://127.0.0.1:"), "{}", p.base);
        let path = if sub == "serve" {
            "/api/v1/health"
        } else {
            "/health"
        };
        let mut res = client
            .get(format!("{}{path}", p.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body.get(key).is_some(), "{sub}: {body}");
    }
}

/// A bad environment value stops start-up with the setting's name and accepted values.
#[test]
fn bad_env_value_fails_startup() {
    let out = Command::new(env!("CARGO_BIN_EXE_ktrdr"))
        .args(["serve", "--port", "0"])
        .env("USE_IB_HOST_SERVICE", "maybe")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("USE_IB_HOST_SERVICE") && err.contains("true, false"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "must not have started listening");
}

/// SIGTERM cancels a running operation, records it as cancelled by "server shutdown", tells
/// the stream, and exits cleanly.
#[actix_web::test]
async fn shutdown_cancels_running_operation() {
    let mut p = spawn_bin(&["serve", "--port", "0"], &[]);
    let client = awc::Client::default();
    let mut res = client
        .post(format!("{}/api/v1/dummy/start", p.base))
        .send_json(&serde_json::json!({"duration_seconds": 60, "steps": 60}))
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    let id = body["data"]["operation_id"].as_str().unwrap().to_owned();
    let url = format!("{}/api/v1/operations/{id}/ws", p.base).replacen("http", "ws", 1);
    let (_, framed) = awc::Client::default().ws(url).connect().await.unwrap();
    let mut ws = WsClient::from(framed);
    assert_eq!(ws.event().await["type"], "snapshot");

    let pid = p.child.id() as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let last = loop {
        match ws.read().await {
            WsRead::Event(ev) if ev["type"] != "progress" => break ev,
            WsRead::Event(_) => continue,
            WsRead::Closed(r) => panic!("closed without a final event: {r:?}"),
        }
    };
    assert_eq!(last["type"], "cancelled");
    assert_eq!(last["operation"]["cancellation_reason"], "server shutdown");
    let wait = actix_web::rt::task::spawn_blocking(move || p.child.wait());
    let status = tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("exited within 10 s")
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// The `ktrdr` client links no libtorch (a client verb must start in milliseconds), while
/// `ktrdr-server` links libtorch_cuda too (so training finds a GPU where there is one).
#[test]
fn only_the_server_binary_links_libtorch() {
    let ldd = |exe: &str| {
        let out = std::process::Command::new("ldd")
            .arg(exe)
            .output()
            .expect("ldd");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let client = ldd(env!("CARGO_BIN_EXE_ktrdr"));
    assert!(!client.contains("torch"), "{client}");
    let server = ldd(env!("CARGO_BIN_EXE_ktrdr-server"));
    assert!(server.contains("libtorch_cpu.so"), "{server}");
    assert!(server.contains("libtorch_cuda.so"), "{server}");
}

/// SIGTERM with a client on the all-operations stream: it gets the running operation's
/// `cancelled` event, then a close frame (1001, "server shutdown"), not a dropped connection.
#[actix_web::test]
async fn shutdown_closes_websockets_with_1001() {
    let p = spawn_bin(&["serve", "--port", "0"], &[]);
    let (_, res) = crate::helpers::post_json(
        &format!("{}/api/v1/dummy/start", p.base),
        serde_json::json!({"duration_seconds": 60, "steps": 60}),
    )
    .await;
    let id = res["data"]["operation_id"].as_str().unwrap().to_owned();
    let url = format!("{}/api/v1/ws/operations", p.base).replacen("http", "ws", 1);
    let (_, framed) = awc::Client::default().ws(url).connect().await.unwrap();
    let mut ws = WsClient::from(framed);
    let first = ws.event().await;
    assert_eq!(first["operation"]["operation_id"], id.as_str(), "{first}");
    let exited = actix_web::rt::spawn(crate::helpers::kill_and_wait(p, libc::SIGTERM));
    let (events, close) = ws.until_closed().await;
    let close = close.expect("a close frame");
    assert_eq!(close.code, awc::ws::CloseCode::Away, "{close:?}");
    assert_eq!(close.description.as_deref(), Some("server shutdown"));
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "cancelled" && e["operation"]["operation_id"] == id.as_str()),
        "{events:?}"
    );
    assert!(exited.await.unwrap().success());
}
