//! Request-body and query extraction with errors that name the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::error::{ApiError, FieldError};
use crate::data::plan::check_date;

/// Largest JSON body accepted.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body parsed into `T`; an empty body counts as `{}`, so defaults apply. Malformed
/// JSON, wrong types and unknown fields (for types that deny them) become a 400 naming the
/// field as `body -> path`.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| ApiError::Validation {
                message: format!("Request body could not be read: {e}"),
                details: vec![FieldError::new("body", e.to_string(), "body_invalid")],
            })?;
            if bytes.len() > MAX_BODY_BYTES {
                return Err(ApiError::field("body", "body too large"));
            }
            let text: &[u8] = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
                None => b"{}",
                Some(b'{') => &bytes,
                // serde would read a struct from an array too; the API takes objects only.
                Some(_) => {
                    return Err(ApiError::Validation {
                        message: "Request validation failed: body: must be a JSON object".into(),
                        details: vec![FieldError::new(
                            "body",
                            "must be a JSON object",
                            "value_error",
                        )],
                    })
                }
            };
            parse_json(text).map(ValidJson)
        })
    }
}

/// Parses `text` into `T`, naming the failing field.
pub fn parse_json<T: DeserializeOwned>(text: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (field, kind, message) = if inner.is_syntax() || inner.is_eof() {
            (
                "body".to_owned(),
                "json_invalid",
                format!("JSON decode error: {inner}"),
            )
        } else {
            let field = if path == "." {
                "body".to_owned()
            } else {
                format!("body -> {path}")
            };
            (field, "value_error", inner.to_string())
        };
        ApiError::Validation {
            message: format!("Request validation failed: {field}: {message}"),
            details: vec![FieldError::new(field, message, kind)],
        }
    })
}

/// Parses one field's text into a domain type; the error names the field.
pub fn parse_field<T>(field: &str, value: &str) -> Result<T, ApiError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e: T::Err| ApiError::field(field, e.to_string()))
}

/// Parses a date or date-time (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, ISO 8601), naive as UTC.
pub fn parse_date(field: &str, value: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    crate::data::csv::parse_time(value)
        .and_then(chrono::DateTime::from_timestamp_millis)
        .ok_or_else(|| {
            ApiError::field(
                field,
                format!("invalid date {value:?}: expected YYYY-MM-DD or an ISO 8601 date-time"),
            )
        })
}

/// An optional `[start, end]` from a request.
pub type DateRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

pub fn date_range(
    start: &Option<String>,
    end: &Option<String>,
    prefix: &str,
) -> Result<DateRange, ApiError> {
    let start = start
        .as_deref()
        .map(|s| parse_date(&format!("{prefix}start_date"), s))
        .transpose()?;
    let end = end
        .as_deref()
        .map(|s| parse_date(&format!("{prefix}end_date"), s))
        .transpose()?;
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            return Err(ApiError::field(
                format!("{prefix}end_date"),
                "must be after start_date",
            ));
        }
    }
    Ok((start, end))
}

/// Refuses load dates before 1900 or after the end of today, naming the field.
pub fn within_bounds(range: DateRange, prefix: &str) -> Result<DateRange, ApiError> {
    let now = Utc::now();
    for (date, name) in [(range.0, "start_date"), (range.1, "end_date")] {
        if let Some(d) = date {
            check_date(d, now).map_err(|m| ApiError::field(format!("{prefix}{name}"), m))?;
        }
    }
    Ok(range)
}
