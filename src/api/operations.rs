//! `/api/v1/operations`: list, status, cancel, metrics, retry.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use ktrdr_actors::tracker::{CancelOperation, GetOperation, ListFilter, ListOperations};
use ktrdr_actors::{OperationId, OperationRecord, OperationStatus, OperationType};
use serde::Deserialize;
use serde_json::{json, Value};

use super::AppState;
use crate::http::error::{ok, ApiError};
use crate::http::json::ValidJson;

/// Page size when `limit` is not given, and the largest one allowed.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/operations", web::get().to(list))
        .route("/operations/{id}", web::get().to(get))
        .route("/operations/{id}", web::delete().to(cancel))
        .route("/operations/{id}/metrics", web::get().to(metrics))
        .route("/operations/{id}/retry", web::post().to(retry));
}

/// Query of `GET /operations`; strings so that a bad value gets a message naming its field.
#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    operation_type: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    active_only: Option<String>,
    /// Created at or after (a date or an ISO 8601 date-time).
    created_after: Option<String>,
    /// Created before.
    created_before: Option<String>,
}

impl ListQuery {
    fn to_filter(&self) -> Result<ListFilter, ApiError> {
        let field = |name: &str, msg: String| ApiError::field(format!("query -> {name}"), msg);
        let status = self
            .status
            .as_deref()
            .map(str::parse::<OperationStatus>)
            .transpose()
            .map_err(|e| field("status", e.to_string()))?;
        let operation_type = self
            .operation_type
            .as_deref()
            .map(OperationType::new)
            .transpose()
            .map_err(|e| field("operation_type", e.to_string()))?;
        let number = |name: &str, v: &Option<String>, default: usize, max: usize| {
            v.as_deref()
                .map_or(Ok(default), |s| match s.parse::<usize>() {
                    Ok(n) if n <= max => Ok(n),
                    _ => Err(field(
                        name,
                        format!("must be a whole number from 0 to {max}"),
                    )),
                })
        };
        let active_only = match self.active_only.as_deref() {
            None => false,
            Some(v) => crate::config::parse_bool("active_only", v)
                .map_err(|_| field("active_only", "must be true or false".into()))?,
        };
        let when = |name: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| crate::http::json::parse_date(&format!("query -> {name}"), s))
                .transpose()
        };
        Ok(ListFilter {
            status,
            operation_type,
            active_only,
            created_after: when("created_after", &self.created_after)?,
            created_before: when("created_before", &self.created_before)?,
            limit: number("limit", &self.limit, DEFAULT_LIMIT, MAX_LIMIT)?,
            offset: number("offset", &self.offset, 0, usize::MAX)?,
        })
    }
}

/// The list item KTRDR shows.
fn summary(r: &OperationRecord) -> Value {
    json!({
        "operation_id": r.operation_id,
        "operation_type": r.operation_type,
        "status": r.status,
        "created_at": r.created_at,
        "progress_percentage": r.progress.percentage,
        "current_step": r.progress.current_step,
        "symbol": r.metadata.get("symbol").cloned().unwrap_or(json!("N/A")),
        "duration_seconds": r.duration_seconds(Utc::now()),
    })
}

#[tracing::instrument(skip_all)]
async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.to_filter()?;
    let page = state
        .tracker
        .send(ListOperations(filter))
        .await
        .map_err(ApiError::mailbox("ProgressTracker"))?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "data": page.operations.iter().map(summary).collect::<Vec<_>>(),
        "total_count": page.total_count,
        "active_count": page.active_count,
    })))
}

/// An id from the path; a malformed one cannot name an operation, so it is "not found".
fn parse_id(raw: &str) -> Result<OperationId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::NotFound(format!("Operation not found: {raw}")))
}

async fn find(state: &AppState, raw: &str) -> Result<OperationRecord, ApiError> {
    let id = parse_id(raw)?;
    state
        .tracker
        .send(GetOperation(id))
        .await
        .map_err(ApiError::mailbox("ProgressTracker"))?
        .ok_or_else(|| ApiError::NotFound(format!("Operation not found: {raw}")))
}

#[tracing::instrument(skip_all, fields(operation_id = %path))]
async fn get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(find(&state, &path).await?))
}

#[tracing::instrument(skip_all, fields(operation_id = %path))]
async fn metrics(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = find(&state, &path).await?;
    Ok(ok(json!({
        "operation_id": record.operation_id,
        "operation_type": record.operation_type,
        "metrics": record.metrics.unwrap_or_else(|| json!({})),
    })))
}

/// Optional body of `DELETE /operations/{id}`, as KTRDR accepts it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    reason: Option<String>,
    /// Accepted for compatibility (KTRDR's CLI sends `"True"`, a string); a cancel always
    /// stops the work.
    #[serde(default, deserialize_with = "lenient_bool")]
    #[allow(dead_code)]
    force: bool,
}

/// A boolean, or the strings Python clients send for one (`"True"`, `"false"`, `"1"`).
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Flag::deserialize(d)? {
        Flag::Bool(b) => Ok(b),
        Flag::Text(t) => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            _ => Err(serde::de::Error::custom(format!(
                "expected a boolean, got {t:?}"
            ))),
        },
    }
}

#[derive(Debug, Deserialize)]
struct CancelQuery {
    reason: Option<String>,
}

/// Answers once the operation's actor has stopped and `cancelled` is recorded.
#[tracing::instrument(skip_all, fields(operation_id = %path))]
async fn cancel(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<CancelQuery>,
    ValidJson(body): ValidJson<CancelRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let reason = body
        .reason
        .or_else(|| query.into_inner().reason)
        .unwrap_or_else(|| "user request".into());
    let record = state
        .tracker
        .send(CancelOperation { id, reason })
        .await
        .map_err(ApiError::mailbox("ProgressTracker"))??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "data": {
            "success": true,
            "operation_id": record.operation_id,
            "status": record.status,
            "cancelled_at": record.completed_at,
            "cancellation_reason": record.cancellation_reason,
            "task_cancelled": true,
            "remote_cancelled": false,
        },
    })))
}

/// `POST /operations/{id}/retry`: a failed or cancelled operation runs again as a new
/// operation with the same request (rebuilt from its metadata, so it is checked again); the
/// answer is the new operation. A retried data load fetches only what is still missing: the
/// segments the first one saved are kept.
#[tracing::instrument(skip_all, fields(operation_id = %path))]
async fn retry(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let old = find(&state, &path).await?;
    let client = state.limits.admit(&req, &state.tracker).await?;
    if !matches!(
        old.status,
        OperationStatus::Failed | OperationStatus::Cancelled
    ) {
        return Err(ApiError::InvalidState(format!(
            "Operation {} cannot be retried (status: {}): only failed or cancelled operations \
             can",
            old.operation_id,
            old.status.as_str()
        )));
    }
    let m = &old.metadata;
    let id = match old.operation_type.as_str() {
        "data_load" => super::data::start_load(&state, super::data::load_of(m)).await?,
        "training" => {
            super::training::start_training(&state, super::training::training_of(m))
                .await?
                .id
        }
        "dummy" => super::dummy::start_dummy(&state, super::dummy::dummy_of(m)?)?,
        other => {
            return Err(ApiError::InvalidState(format!(
                "operations of type {other} cannot be retried"
            )))
        }
    };
    state.limits.started(client, &id);
    let new = find(&state, id.as_str()).await?;
    tracing::info!(retry_of = %old.operation_id, new = %new.operation_id, "operation retried");
    Ok(ok(new))
}
