//! `POST /api/v1/dummy/start`.

use actix_web::{web, HttpResponse};
use ktrdr_actors::{start_operation, OperationSpec, OperationType};
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
    ValidJson(request): ValidJson<DummyRequest>,
) -> Result<HttpResponse, ApiError> {
    request
        .validate()
        .map_err(|(field, msg)| ApiError::field(format!("body -> {field}"), msg))?;
    let spec = OperationSpec {
        kind: OperationType::new("dummy").expect("valid type name"),
        metadata: metadata(None, None, None, None, None, request.parameters()),
        timeout: state.settings.operations.timeout(),
    };
    let id = start_operation(&state.tracker, spec, move |ctx| dummy::run(request, ctx));
    Ok(crate::http::error::ok(json!({
        "operation_id": id,
        "status": "started",
        "message": "Started dummy_task operation",
    })))
}
