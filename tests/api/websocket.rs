//! Websocket progress streams against the real backend.

use awc::ws::CloseCode;
use serde_json::Value;

use crate::helpers::{spawn_app, WsRead};

fn pct(ev: &Value) -> f64 {
    ev["operation"]["progress"]["percentage"].as_f64().unwrap()
}

/// Snapshot first, then ordered progress, then `completed` and a normal close; GET agrees.
#[actix_web::test]
async fn stream_snapshot_progress_completed_and_get_agrees() {
    let app = spawn_app().await;
    let id = app.start_dummy(0.5, 10).await;
    let mut ws = app.ws(&format!("/operations/{id}/ws")).await;
    let (events, close) = ws.until_closed().await;
    assert_eq!(events[0]["type"], "snapshot");
    let last = events.last().unwrap();
    assert_eq!(last["type"], "completed");
    assert_eq!(close.unwrap().code, CloseCode::Normal);
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "{seqs:?}");
    let pcts: Vec<f64> = events.iter().map(pct).collect();
    assert!(pcts.windows(2).all(|w| w[0] <= w[1]), "{pcts:?}");
    assert!(events[1..events.len() - 1]
        .iter()
        .all(|e| e["type"] == "progress"));

    let (_, got) = app.get(&format!("/operations/{id}")).await;
    let mut from_get = got["data"].clone();
    from_get.as_object_mut().unwrap().remove("metrics");
    assert_eq!(
        from_get, last["operation"],
        "GET and the final event disagree"
    );
    assert_eq!(from_get["progress"]["percentage"], 100.0);
    assert_eq!(from_get["result_summary"]["iterations_completed"], 10);
}

/// A cancel mid-run ends the stream with `cancelled` and nothing after it.
#[actix_web::test]
async fn cancel_mid_run_ends_stream_with_cancelled() {
    let app = spawn_app().await;
    let id = app.start_dummy(20.0, 1000).await;
    let mut ws = app.ws(&format!("/operations/{id}/ws")).await;
    assert_eq!(ws.event().await["type"], "snapshot");
    for _ in 0..2 {
        assert_eq!(ws.event().await["type"], "progress");
    }
    let (status, body) = app.delete(&format!("/operations/{id}")).await;
    assert_eq!(status, 200, "{body}");
    let (events, close) = ws.until_closed().await;
    let last = events.last().expect("final event");
    assert_eq!(last["type"], "cancelled");
    assert_eq!(last["operation"]["status"], "cancelled");
    assert!(events[..events.len() - 1]
        .iter()
        .all(|e| e["type"] == "progress"));
    assert_eq!(close.unwrap().code, CloseCode::Normal);
    // Progress stopped where the cancel found it.
    let (_, got) = app.get(&format!("/operations/{id}")).await;
    assert!(got["data"]["progress"]["percentage"].as_f64().unwrap() < 100.0);
    assert_eq!(got["data"]["progress"], last["operation"]["progress"]);
}

/// A client that does not read does not hold up the operation or another client; once it
/// reads, it gets the progress coalesced (fewer events than the operation reported) and the
/// final event, in order.
#[actix_web::test]
async fn stalled_client_does_not_block_others() {
    // Enough events (~1 KB each) to fill the socket buffers of a client that does not read.
    const STEPS: usize = 3000;
    let app = spawn_app().await;
    // Subscribed before the operation exists, so it is sent every one of its events.
    let mut stalled = app.ws("/ws/operations").await; // not read until the end
    let id = app.start_dummy(1.5, STEPS as u64).await;
    let mut live = app.ws(&format!("/operations/{id}/ws")).await;
    let (events, _) = live.until_closed().await;
    assert_eq!(events.last().unwrap()["type"], "completed");
    let (_, got) = app.get(&format!("/operations/{id}")).await;
    assert_eq!(got["data"]["status"], "completed");

    let mut late = Vec::new();
    loop {
        let ev = stalled.event().await;
        let last = ev["type"] == "completed";
        late.push(ev);
        if last {
            break;
        }
    }
    let progress: Vec<&serde_json::Value> =
        late.iter().filter(|e| e["type"] == "progress").collect();
    assert!(
        progress.len() < STEPS,
        "the stalled client got all {} progress events: nothing was coalesced",
        progress.len()
    );
    let last = late.last().unwrap();
    assert_eq!(last["operation"]["operation_id"], id.as_str());
    assert_eq!(last["operation"]["progress"]["percentage"], 100.0);
    let seqs: Vec<u64> = late.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    let steps: Vec<u64> = progress
        .iter()
        .map(|e| {
            e["operation"]["progress"]["steps_completed"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(
        steps.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back"
    );
}

/// Reconnecting with `since` replays every retained event after it, in order, no gaps.
#[actix_web::test]
async fn reconnect_with_since_misses_nothing() {
    let app = spawn_app().await;
    let id = app.start_dummy(4.0, 40).await;
    let path = format!("/operations/{id}/ws");
    let mut first = app.ws(&path).await;
    let mut seen = first.event().await; // snapshot
    while pct(&seen) < 10.0 {
        seen = first.event().await;
    }
    let cut_seq = seen["seq"].as_u64().unwrap();
    let cut_pct = pct(&seen);
    drop(first);
    // Watch with another connection until the operation is well past the cut.
    let mut monitor = app.ws(&path).await;
    while pct(&monitor.event().await) < cut_pct + 20.0 {}
    let mut again = app.ws(&format!("{path}?since={cut_seq}")).await;
    let mut expected = cut_pct + 2.5;
    let mut replayed = 0;
    while expected <= cut_pct + 20.0 {
        let ev = again.event().await;
        assert_eq!(ev["type"], "progress");
        assert!(ev["seq"].as_u64().unwrap() > cut_seq);
        assert_eq!(pct(&ev), expected, "gap in the replay");
        expected += 2.5;
        replayed += 1;
    }
    assert!(replayed >= 8);
    app.delete(&format!("/operations/{id}")).await;
}

/// The all-operations stream carries every operation's events, final ones included.
#[actix_web::test]
async fn all_operations_stream() {
    let app = spawn_app().await;
    let mut ws = app.ws("/ws/operations").await;
    let a = app.start_dummy(0.2, 4).await;
    let b = app.start_dummy(0.2, 4).await;
    let mut done = std::collections::HashSet::new();
    while done.len() < 2 {
        let ev = ws.event().await;
        if ev["type"] == "completed" {
            done.insert(ev["operation"]["operation_id"].as_str().unwrap().to_owned());
        }
    }
    assert!(done.contains(&a) && done.contains(&b));
}

/// An unknown or malformed id is closed with a policy code and the reason.
#[actix_web::test]
async fn unknown_operation_closes_with_reason() {
    let app = spawn_app().await;
    for id in ["op_dummy_20260101_000000_deadbeef", "nonsense"] {
        let mut ws = app.ws(&format!("/operations/{id}/ws")).await;
        match ws.read().await {
            WsRead::Closed(Some(reason)) => {
                assert_eq!(reason.code, CloseCode::Policy);
                let text = reason.description.unwrap();
                assert!(text.contains("not found") && text.contains(id), "{text}");
            }
            other => panic!("expected a close, got {other:?}"),
        }
    }
}
