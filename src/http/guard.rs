//! Who may drive a server, checked before any handler: the `Host` header (DNS rebinding), the
//! `Origin` of browser requests and websockets (other web pages), CORS answered only for a
//! configured allow-list, JSON-only bodies (a `text/plain` form post is refused), and the
//! bearer token. One middleware for the backend and both host services, each with its own
//! [`Guard`].

use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};
use serde_json::json;

use super::error::ApiError;
use crate::config::SecuritySettings;

/// Which server a guard protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Backend,
    IbHost,
    TrainingHost,
}

/// Set on a request whose caller showed the token (or when the server needs none): health
/// answers give their details only to such callers.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated;

/// The checks of one server.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Required on every path but `open_paths` (`Authorization: Bearer ...`, or `?token=` on
    /// a websocket, which browsers open without headers); `None`: no token.
    pub token: Option<String>,
    /// Where the token is named in messages (`KTRDR_API_TOKEN`).
    pub token_setting: &'static str,
    /// `Host` values (without port) accepted; empty: any.
    pub allowed_hosts: Vec<String>,
    /// Origins (`http://host:port`) allowed besides the server's own: CORS answers and
    /// websockets from them.
    pub allowed_origins: Vec<String>,
    /// Paths anyone may read (`GET`) without the token: health checks.
    pub open_paths: &'static [&'static str],
    /// Body types accepted on requests with a body; empty: any.
    pub body_types: &'static [&'static str],
}

/// Whether `host` (a bind address or name) is this machine's loopback.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h == "localhost" || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The `Host` names a loopback server answers to: its bind address and the usual names of
/// this machine's loopback.
pub fn loopback_hosts(bind: &str) -> Vec<String> {
    let mut v: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let b = bind
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if !v.contains(&b) {
        v.push(b);
    }
    v
}

impl Guard {
    /// The guard of a `role` server listening on `addr`. A server reachable from other
    /// machines (not bound to loopback) must have a token: without one it refuses to start.
    pub fn for_role(role: Role, addr: SocketAddr, sec: &SecuritySettings) -> std::io::Result<Self> {
        let (token, setting, file_setting) = match role {
            Role::Backend => (sec.api_token()?, "KTRDR_API_TOKEN", "KTRDR_API_TOKEN_FILE"),
            Role::IbHost | Role::TrainingHost => (
                sec.host_token()?,
                "KTRDR_HOST_TOKEN",
                "KTRDR_HOST_TOKEN_FILE",
            ),
        };
        let loopback = addr.ip().is_loopback();
        if !loopback && token.is_none() {
            return Err(std::io::Error::other(format!(
                "refusing to listen on {addr} (reachable from other machines) without a token: \
                 set {setting} (or {file_setting}, a file holding it){}",
                if role == Role::Backend {
                    "; clients then send `Authorization: Bearer <token>` (the CLI reads KTRDR_API_TOKEN)"
                } else {
                    "; the backend sends the same KTRDR_HOST_TOKEN"
                }
            )));
        }
        // Rebinding: a loopback server answers only to loopback names (and listed ones); one
        // reachable from elsewhere checks names only when some are listed.
        let allowed_hosts = if loopback {
            let mut v = loopback_hosts(&addr.ip().to_string());
            v.extend(sec.allowed_hosts.iter().cloned());
            v
        } else {
            sec.allowed_hosts.clone()
        };
        Ok(Self {
            token,
            token_setting: setting,
            allowed_hosts,
            allowed_origins: sec.allowed_origins.clone(),
            open_paths: match role {
                Role::Backend => &["/api/v1/health"],
                Role::IbHost | Role::TrainingHost => &["/health"],
            },
            body_types: match role {
                Role::TrainingHost => &[
                    "application/json",
                    ktrdr_core::protocol::training::RUN_CONTENT_TYPE,
                ],
                _ => &["application/json"],
            },
        })
    }

    /// Whether a request shows this guard's token (always, when there is none).
    pub fn authenticated(&self, req: &ServiceRequest) -> bool {
        self.token
            .as_deref()
            .is_none_or(|t| self.token_given(req, t))
    }
}

/// A query value with its `%XX` escapes (and `+` for a space) decoded.
fn percent_decoded(v: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
            (b'+', _, _) => out.push(b' '),
            (c, _, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a == b` in time that depends on the lengths only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(status: StatusCode, code: &'static str, message: String) -> HttpResponse {
    ApiError::Coded {
        status,
        code,
        message,
        details: json!({}),
    }
    .error_response()
}

/// The host name of a `Host` header value (`[::1]:8000` -> `::1`, `a.b:80` -> `a.b`).
fn host_name(value: &str) -> &str {
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    value.rsplit_once(':').map_or(value, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            value
        }
    })
}

impl Guard {
    /// The answer that stops this request, if any.
    fn check(&self, req: &ServiceRequest) -> Option<HttpResponse> {
        let headers = req.headers();
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if !self.allowed_hosts.is_empty() {
            let name = host_name(&host).to_ascii_lowercase();
            if !self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&name))
            {
                return Some(refuse(
                    StatusCode::FORBIDDEN,
                    "HOST_NOT_ALLOWED",
                    format!(
                        "Host {host:?} is not one this server answers to (allowed: {}; \
                         KTRDR_ALLOWED_HOSTS adds names)",
                        self.allowed_hosts.join(", ")
                    ),
                ));
            }
        }
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            if !self.origin_allowed(origin, &host) {
                return Some(refuse(
                    StatusCode::FORBIDDEN,
                    "ORIGIN_NOT_ALLOWED",
                    format!(
                        "requests from the web page at {origin} are not allowed \
                         (KTRDR_ALLOWED_ORIGINS lists the ones that are)"
                    ),
                ));
            }
        }
        let method = req.method();
        let has_body = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
            || headers.contains_key(header::TRANSFER_ENCODING);
        if has_body
            && matches!(
                *method,
                Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            )
        {
            let ct = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let essence = ct.split(';').next().unwrap_or_default().trim();
            if !self.body_types.is_empty()
                && !self
                    .body_types
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(essence))
            {
                return Some(refuse(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UNSUPPORTED_MEDIA_TYPE",
                    format!(
                        "request bodies must be {} (got {})",
                        self.body_types.join(" or "),
                        if ct.is_empty() {
                            "no Content-Type".to_owned()
                        } else {
                            format!("{ct:?}")
                        }
                    ),
                ));
            }
        }
        let open = *method == Method::GET && self.open_paths.contains(&req.path());
        // A browser's CORS preflight carries no credentials: a listed origin's is answered
        // (by the middleware) without the token; the request that follows needs it.
        let preflight = *method == Method::OPTIONS
            && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
            && headers
                .get(header::ORIGIN)
                .and_then(|o| o.to_str().ok())
                .is_some_and(|o| self.listed_origin(o));
        let open = open || preflight;
        if let (Some(token), false) = (&self.token, open) {
            if !self.token_given(req, token) {
                return Some(refuse(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    format!(
                        "missing or wrong API token: send `Authorization: Bearer <token>` \
                         (the token is the server's {})",
                        self.token_setting
                    ),
                ));
            }
        }
        None
    }

    fn token_given(&self, req: &ServiceRequest, token: &str) -> bool {
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                // The scheme is case-insensitive (RFC 7235).
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(rest)
            })
            .map(str::trim);
        let from_query = || {
            let ws = req
                .headers()
                .get(header::UPGRADE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
            if !ws {
                return None;
            }
            req.query_string()
                .split('&')
                .find_map(|kv| kv.strip_prefix("token="))
                .map(percent_decoded)
        };
        match bearer {
            Some(b) => constant_time_eq(b.as_bytes(), token.as_bytes()),
            None => from_query().is_some_and(|q| constant_time_eq(q.as_bytes(), token.as_bytes())),
        }
    }

    /// The server's own origin (same scheme-less host:port as the `Host` header) or a listed
    /// one.
    fn origin_allowed(&self, origin: &str, host: &str) -> bool {
        let same = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|o| o.eq_ignore_ascii_case(host));
        same || self.listed_origin(origin)
    }

    fn listed_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }
}

/// The middleware: `App::new().wrap(from_fn(move |req, next| guard(g.clone(), req, next)))`.
pub async fn guard(
    g: Rc<Guard>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Some(stop) = g.check(&req) {
        return Ok(req.into_response(stop));
    }
    if g.authenticated(&req) {
        use actix_web::HttpMessage;
        req.extensions_mut().insert(Authenticated);
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| g.listed_origin(o))
        .map(str::to_owned);
    // A CORS preflight from a listed origin: what it may send.
    if let (Some(o), true) = (&origin, req.method() == Method::OPTIONS) {
        let res = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, o.as_str()))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, DELETE"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "authorization, content-type",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .insert_header((header::VARY, "Origin"))
            .finish();
        return Ok(req.into_response(res));
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    if let Some(o) = origin {
        if let Ok(v) = HeaderValue::from_str(&o) {
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            h.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_and_loopback() {
        assert_eq!(host_name("127.0.0.1:8000"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8000"), "::1");
        assert_eq!(host_name("evil.example"), "evil.example");
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("localhost"));
        assert!(!is_loopback("0.0.0.0") && !is_loopback("192.168.1.5"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert_eq!(percent_decoded("a%2Fb%3d+c%zz%4"), "a/b= c%zz%4");
        assert!(!constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"abc", b"ab"));
    }
}
