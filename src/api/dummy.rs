//! `POST /api/v1/dummy/start`.

use actix_web::{web, HttpResponse};
use ktrdr_actors::{start_operation, OperationId, OperationSpec, OperationType};
use serde_json::json;

use super::AppState;
use crate::dummy::{self, DummyRequest};
use crate::http::error::ApiError;
use crate::http::json::ValidJson;
use crate::operations::metadata;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/dummy/start", web::post().to(start));
}

#[tracing::instrument(skip_all)]
async fn start(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    ValidJson(request): ValidJson<DummyRequest>,
) -> Result<HttpResponse, ApiError> {
    let client = state.limits.admit(&req, &state.tracker).await?;
    let id = start_dummy(&state, request)?;
    state.limits.started(client, &id);
    Ok(crate::http::error::ok(json!({
        "operation_id": id,
        "status": "started",
        "message": "Started dummy_task operation",
    })))
}

/// Checks a dummy request and starts it.
pub(super) fn start_dummy(
    state: &AppState,
    request: DummyRequest,
) -> Result<OperationId, ApiError> {
    request
        .validate()
        .map_err(|(field, msg)| ApiError::field(format!("body -> {field}"), msg))?;
    let spec = OperationSpec {
        kind: OperationType::new("dummy").expect("valid type name"),
        metadata: metadata(None, None, None, None, None, request.parameters()),
        timeout: state.settings.operations.timeout(),
    };
    Ok(start_operation(&state.tracker, spec, move |ctx| {
        dummy::run(request, ctx)
    }))
}

/// The dummy request an operation ran, from its metadata (for a retry).
pub(super) fn dummy_of(metadata: &serde_json::Value) -> Result<DummyRequest, ApiError> {
    serde_json::from_value(json!({
        "duration_seconds": metadata["parameters"]["duration_seconds"],
        "steps": metadata["parameters"]["steps"],
    }))
    .map_err(|e| ApiError::InvalidState(format!("cannot rebuild the dummy request: {e}")))
}
