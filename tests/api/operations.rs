//! The operations REST API against the real backend.

use serde_json::json;

use crate::helpers::spawn_app;

/// Cancelling a running operation answers `cancelled`; again -> 400; unknown -> 404.
#[actix_web::test]
async fn cancel_running_then_again_then_unknown() {
    let app = spawn_app().await;
    let id = app.start_dummy(30.0, 100).await;
    let (status, body) = app.delete(&format!("/operations/{id}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "cancelled");
    assert_eq!(body["data"]["operation_id"], id.as_str());
    assert_eq!(body["data"]["cancellation_reason"], "user request");
    let (status, body) = app.get(&format!("/operations/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["status"], "cancelled");
    assert!(body["data"]["completed_at"].is_string());

    let (status, body) = app.delete(&format!("/operations/{id}")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["success"], false);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("cannot be cancelled"));
    assert_eq!(body["error"]["code"], "INVALID_STATE");

    let (status, body) = app
        .delete("/operations/op_dummy_20260101_000000_deadbeef")
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["detail"],
        "Operation not found: op_dummy_20260101_000000_deadbeef"
    );
    let (status, _) = app.get("/operations/op_nope").await;
    assert_eq!(status, 404);
}

/// Listing filters by status, type and activity, paginates newest first, and counts.
#[actix_web::test]
async fn list_filters_and_counts() {
    let app = spawn_app().await;
    let first = app.start_dummy(30.0, 100).await;
    let second = app.start_dummy(30.0, 100).await;
    app.delete(&format!("/operations/{first}")).await;

    let (status, body) = app.get("/operations").await;
    assert_eq!(status, 200);
    assert_eq!(body["total_count"], 2);
    assert_eq!(body["active_count"], 1);
    assert_eq!(
        body["data"][0]["operation_id"],
        second.as_str(),
        "newest first"
    );
    assert_eq!(body["data"][0]["symbol"], "N/A");

    let (_, body) = app.get("/operations?status=cancelled").await;
    assert_eq!(body["total_count"], 1);
    assert_eq!(body["data"][0]["operation_id"], first.as_str());
    let (_, body) = app.get("/operations?active_only=true").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["operation_id"], second.as_str());
    let (_, body) = app
        .get("/operations?operation_type=dummy&limit=1&offset=1")
        .await;
    assert_eq!(body["total_count"], 2);
    assert_eq!(body["data"][0]["operation_id"], first.as_str());
    let (_, body) = app.get("/operations?operation_type=training").await;
    assert_eq!(body["total_count"], 0);

    let (status, body) = app.get("/operations?status=done").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"][0]["field"], "query -> status");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("pending, running"));
    let (status, body) = app.get("/operations?limit=5000").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"][0]["field"], "query -> limit");
}

/// Bad bodies get a 400 envelope naming the field; nothing is started.
#[actix_web::test]
async fn bad_bodies_are_400_naming_the_field() {
    let app = spawn_app().await;
    for (body, field, kind) in [
        (
            r#"{"duration_seconds": "x"}"#,
            "body -> duration_seconds",
            "value_error",
        ),
        (r#"{"steps": 0}"#, "body -> steps", "value_error"),
        (r#"{"steps": -3}"#, "body -> steps", "value_error"),
        (
            r#"{"duration_seconds": -1}"#,
            "body -> duration_seconds",
            "value_error",
        ),
        (r#"{"stepz": 5}"#, "body -> stepz", "value_error"),
        (r#"{"steps": 5,"#, "body", "json_invalid"),
        (r#"[1, 2]"#, "body", "value_error"),
    ] {
        let (status, res) = app.post_raw("/dummy/start", body).await;
        assert_eq!(status, 400, "{body}: {res}");
        assert_eq!(res["success"], false);
        assert_eq!(res["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(res["error"]["details"][0]["field"], field, "{body}: {res}");
        assert_eq!(res["error"]["details"][0]["type"], kind, "{body}");
        assert!(res["detail"].is_string());
    }
    let (_, list) = app.get("/operations").await;
    assert_eq!(list["total_count"], 0);
    // Defaults apply to an empty body.
    let (status, res) = app.post_raw("/dummy/start", "").await;
    assert_eq!(status, 200, "{res}");
    let id = res["data"]["operation_id"].as_str().unwrap();
    let (_, op) = app.get(&format!("/operations/{id}")).await;
    // KTRDR's defaults: 200 iterations over 200 s.
    assert_eq!(op["data"]["metadata"]["parameters"]["steps"], json!(200));
    assert_eq!(
        op["data"]["metadata"]["parameters"]["duration_seconds"],
        json!(200.0)
    );
    app.delete(&format!("/operations/{id}")).await;
}

/// Health answers in KTRDR's shape; an unknown route is a 404 envelope.
#[actix_web::test]
async fn health_and_unknown_route() {
    let app = spawn_app().await;
    let (status, body) = app.get("/health").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    let (status, body) = app.get("/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}
