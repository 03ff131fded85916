//! Who may drive ktrdr: the forged `text/plain` POST, the rebinding `Host`, foreign
//! `Origin`s (requests, websockets), CORS for listed origins only, tokens on each of the three
//! servers (real binaries), and the refusal to listen beyond loopback without a token.

use awc::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn send(req: awc::ClientRequest, body: Option<&str>) -> (u16, Value) {
    let mut res = match body {
        Some(b) => req.send_body(b.to_owned()).await.unwrap(),
        None => req.send().await.unwrap(),
    };
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

#[actix_web::test]
async fn web_pages_and_rebinding_cannot_drive_the_backend() {
    let app = spawn_app().await;
    let c = awc::Client::default();
    let start = app.url("/dummy/start");
    // A web page's form post: `text/plain` needs no CORS preflight, so a browser sends it.
    let (status, e) = send(
        c.post(&start).insert_header(("Content-Type", "text/plain")),
        Some(r#"{"duration_seconds": 1}"#),
    )
    .await;
    assert_eq!(status, 415, "{e}");
    assert_eq!(e["error"]["code"], "UNSUPPORTED_MEDIA_TYPE");
    // The same from another origin is refused before anything else.
    let (status, e) = send(
        c.post(&start)
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Origin", "http://evil.example")),
        Some(r#"{"duration_seconds": 1}"#),
    )
    .await;
    assert_eq!(status, 403, "{e}");
    assert_eq!(e["error"]["code"], "ORIGIN_NOT_ALLOWED");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("http://evil.example"),
        "{e}"
    );
    // DNS rebinding: the page's own name in `Host`.
    let (status, e) = send(
        c.get(app.url("/operations"))
            .insert_header(("Host", "evil.example:8000")),
        None,
    )
    .await;
    assert_eq!(status, 403, "{e}");
    assert_eq!(e["error"]["code"], "HOST_NOT_ALLOWED");
    for host in ["localhost:8000", "127.0.0.1", "[::1]:8000"] {
        let (status, _) = send(
            c.get(app.url("/operations")).insert_header(("Host", host)),
            None,
        )
        .await;
        assert_eq!(status, 200, "{host}");
    }
    // Nothing of the above started an operation.
    let (_, list) = app.get("/operations").await;
    assert_eq!(list["total_count"], 0, "{list}");
    // The backend's own origin (the dashboard's) may post JSON.
    let own = app.base.clone();
    let (status, res) = send(
        c.post(&start)
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Origin", own.as_str())),
        Some(r#"{"duration_seconds": 0.1, "steps": 1}"#),
    )
    .await;
    assert_eq!(status, 200, "{res}");

    // Websockets: a foreign origin is refused, the backend's own is not.
    let ws_url = app.url("/ws/operations").replacen("http://", "ws://", 1);
    let refused = awc::Client::default()
        .ws(ws_url.as_str())
        .origin("http://evil.example")
        .connect()
        .await;
    match refused {
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => {
            assert_eq!(s, StatusCode::FORBIDDEN)
        }
        other => panic!(
            "a foreign origin's websocket must be refused: {:?}",
            other.map(|_| ())
        ),
    }
    let ok = awc::Client::default()
        .ws(ws_url.as_str())
        .origin(own.as_str())
        .connect()
        .await;
    assert!(ok.is_ok(), "own origin");
}

#[actix_web::test]
async fn cors_answers_only_listed_origins() {
    let mut settings = test_settings();
    settings.security.allowed_origins = vec!["http://dash.example:3000".into()];
    // With a token (as beyond loopback): the preflight is answered without it, the request
    // itself needs it.
    settings.security.api_token = "cors-t0k3n".into();
    let app = spawn_app_with(settings).await;
    let c = awc::Client::default();
    let mut pre = c
        .request(awc::http::Method::OPTIONS, app.url("/operations"))
        .insert_header(("Origin", "http://dash.example:3000"))
        .insert_header(("Access-Control-Request-Method", "GET"))
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert_eq!(
        pre.headers().get("access-control-allow-origin").unwrap(),
        "http://dash.example:3000"
    );
    let _ = pre.body().await;
    let res = c
        .get(app.url("/operations"))
        .insert_header(("Origin", "http://dash.example:3000"))
        .insert_header(("Authorization", "bearer cors-t0k3n"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("access-control-allow-origin").unwrap(),
        "http://dash.example:3000"
    );
    // By default (and for others) no CORS header at all, and other origins are refused.
    let res = c
        .get(app.url("/operations"))
        .bearer_auth("cors-t0k3n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let (status, _) = send(
        c.get(app.url("/operations"))
            .insert_header(("Origin", "http://other.example")),
        None,
    )
    .await;
    assert_eq!(status, 403);
}

async fn status_of(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = awc::Client::default().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    send(req, None).await
}

#[actix_web::test]
async fn each_server_wants_its_token_when_one_is_set() {
    // The backend.
    let b = spawn_bin(
        &["serve", "--port", "0"],
        &[("KTRDR_API_TOKEN", "api-s3cret")],
    );
    let ops = format!("{}/api/v1/operations", b.base);
    let (status, e) = status_of(&ops, None).await;
    assert_eq!(status, 401, "{e}");
    assert!(
        e["detail"].as_str().unwrap().contains("KTRDR_API_TOKEN"),
        "{e}"
    );
    assert_eq!(status_of(&ops, Some("wrong")).await.0, 401);
    assert_eq!(status_of(&ops, Some("api-s3cret")).await.0, 200);
    assert_eq!(
        status_of(&format!("{}/api/v1/health", b.base), None)
            .await
            .0,
        200
    );
    let ws = format!("{}/api/v1/ws/operations", b.base).replacen("http", "ws", 1);
    assert!(awc::Client::default()
        .ws(ws.as_str())
        .connect()
        .await
        .is_err());
    let with = format!("{ws}?token=api-s3cret");
    assert!(awc::Client::default()
        .ws(with.as_str())
        .connect()
        .await
        .is_ok());
    // The CLI sends the token from its environment.
    let args = verb_args("operations", &b.base, &["list"]);
    let out = run_ktrdr(args.clone()).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("API token"),
        "{out:?}"
    );
    let out = run_ktrdr_with(args, &[("KTRDR_API_TOKEN", "api-s3cret")]).await;
    assert!(out.status.success(), "{out:?}");

    // The IB host service, and a backend that loads through it with the host token.
    let src = goog_source();
    let host_env = [("KTRDR_HOST_TOKEN", "host-s3cret")];
    let ib = spawn_bin(
        &[
            "ib-host",
            "--port",
            "0",
            "--csv-dir",
            src.path().to_str().unwrap(),
        ],
        &host_env,
    );
    let (status, _) = send(
        awc::Client::default()
            .post(format!("{}/data/historical", ib.base))
            .insert_header(("Content-Type", "application/json")),
        Some("{}"),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(status_of(&format!("{}/health", ib.base), None).await.0, 200);
    assert_eq!(
        status_of(&format!("{}/health/detailed", ib.base), None)
            .await
            .0,
        401
    );
    let (status, h) = status_of(&format!("{}/health/detailed", ib.base), Some("host-s3cret")).await;
    assert_eq!((status, &h["provider"]), (200, &json!("csv")), "{h}");
    let data = tempfile::tempdir().unwrap();
    let backend = spawn_bin(
        &["serve", "--port", "0"],
        &[
            ("KTRDR_HOST_TOKEN", "host-s3cret"),
            ("USE_IB_HOST_SERVICE", "true"),
            ("IB_HOST_SERVICE_URL", ib.base.as_str()),
            ("KTRDR_DATA_DIR", data.path().to_str().unwrap()),
        ],
    );
    let (status, res) = post_json(
        &format!("{}/api/v1/data/load", backend.base),
        json!({"symbol": "GOOG", "timeframe": "1d", "mode": "full", "start_date": "2012-01-01", "end_date": "2013-01-01"}),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    let id = res["data"]["operation_id"].as_str().unwrap();
    let url = format!("{}/api/v1/operations/{id}/ws", backend.base).replacen("http", "ws", 1);
    let (_, framed) = awc::Client::default().ws(url).connect().await.unwrap();
    let (events, _) = WsClient::from(framed).until_closed().await;
    let last = &events.last().unwrap()["operation"];
    assert_eq!(last["status"], "completed", "{last}");

    // The training host: health without the token says only that it is up.
    let th = spawn_bin(&["training-host", "--port", "0"], &host_env);
    let (status, h) = status_of(&format!("{}/health", th.base), None).await;
    assert_eq!(status, 200);
    assert!(
        h.get("memory").is_none() && h.get("device").is_none(),
        "{h}"
    );
    let (_, h) = status_of(&format!("{}/health", th.base), Some("host-s3cret")).await;
    assert!(h.get("memory").is_some(), "{h}");
    let (status, _) = send(
        awc::Client::default()
            .post(format!("{}/training/stop/x", th.base))
            .insert_header(("Content-Type", "application/json")),
        Some("{}"),
    )
    .await;
    assert_eq!(status, 401, "stopping a session wants the token");
}

#[test]
fn no_listening_beyond_loopback_without_a_token() {
    for (role, var) in [
        ("serve", "KTRDR_API_TOKEN"),
        ("training-host", "KTRDR_HOST_TOKEN"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ktrdr"))
            .args([role, "--host", "0.0.0.0", "--port", "0"])
            .env("KTRDR_DATABASE_URL", "sqlite::memory:")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{role}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("refusing to listen") && err.contains(var),
            "{role}: {err}"
        );
        assert!(
            out.stdout.is_empty(),
            "{role} must not have started listening"
        );
    }
    // With its token it starts.
    let p = spawn_bin(
        &["serve", "--host", "0.0.0.0", "--port", "0"],
        &[("KTRDR_API_TOKEN", "t0k3n")],
    );
    assert!(p.base.starts_with("http://0.0.0.0:"), "{}", p.base);
}

/// Answers name things (strategy, series, model) but no path of the machine: a training's
/// record and result, the models list, strategies, and error answers.
#[actix_web::test]
async fn answers_carry_no_machine_paths() {
    let project = crate::training::Project::new(crate::training::FEW_EPOCHS);
    let app = spawn_app_with(project.settings()).await;
    let (_, res) = app
        .post(
            "/trainings/start",
            json!({"strategy_name": "neuro_mean_reversion", "symbols": ["GOOG"], "timeframes": ["1d"]}),
        )
        .await;
    let id = res["task_id"].as_str().unwrap().to_owned();
    assert_eq!(app.wait_for(&id).await["status"], "completed");
    let root = project.path("");
    let root = root.to_str().unwrap().trim_end_matches('/');
    let mut answers = vec![
        app.get(&format!("/operations/{id}")).await.1,
        app.get("/models").await.1,
        app.get("/strategies/").await.1,
        app.get("/strategies/neuro_mean_reversion").await.1,
        app.get("/strategies/nope").await.1,
        app.get("/data/NOPE/1d").await.1,
        app.post("/trainings/start", json!({"strategy_name": "nope"}))
            .await
            .1,
    ];
    answers.push(app.get("/operations").await.1);
    for a in &answers {
        let text = a.to_string();
        assert!(!text.contains(root), "a path of the machine in {text}");
    }
    let op = &answers[0]["data"];
    assert_eq!(
        op["result_summary"]["model_path"],
        "neuro_mean_reversion/1d_v1"
    );
    assert_eq!(
        op["metadata"]["parameters"]["strategy_path"],
        "neuro_mean_reversion.yaml"
    );
}

/// A client that already runs its limit of operations gets 429 for the next one, and may
/// start again once one has ended.
#[actix_web::test]
async fn one_client_cannot_fill_the_backend() {
    let mut settings = test_settings();
    settings.operations.max_active_per_client = 2;
    let app = spawn_app_with(settings).await;
    let a = app.start_dummy(60.0, 60).await;
    let _b = app.start_dummy(60.0, 60).await;
    let (status, e) = app
        .post("/dummy/start", json!({"duration_seconds": 60, "steps": 60}))
        .await;
    assert_eq!(status, 429, "{e}");
    assert_eq!(e["error"]["code"], "TOO_MANY_OPERATIONS");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("KTRDR_MAX_ACTIVE_PER_CLIENT"),
        "{e}"
    );
    let (status, _) = app.delete(&format!("/operations/{a}")).await;
    assert_eq!(status, 200);
    let (status, res) = app
        .post("/dummy/start", json!({"duration_seconds": 60, "steps": 60}))
        .await;
    assert_eq!(status, 200, "{res}");
}
