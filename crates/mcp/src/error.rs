//! The one place that maps protocol failures to HTTP status codes and JSON-RPC bodies.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};

use crate::jsonrpc::{
    HEADER_MISMATCH, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, RpcError, SERVER_ERROR,
    SESSION_NOT_FOUND, UNSUPPORTED_VERSION, error_response,
};

/// Why the HTTP transport refuses a request before (or instead of) answering it. Every
/// refusal carries a JSON-RPC error body without an id (the transports page allows one).
#[derive(Debug)]
pub(crate) enum HttpError {
    /// A JSON-RPC level failure of the whole POST (parse error, refused batch, bad
    /// version header, header mismatch), with the request id when it is known.
    Rpc { id: Option<String>, error: RpcError },
    /// `Origin` present and not allowed (2025-11-25: 403).
    ForbiddenOrigin,
    /// `Host` is not a loopback name, an IP literal or a configured host (DNS rebinding).
    ForbiddenHost,
    /// `Accept` excludes every type we can answer with.
    NotAcceptable(&'static str),
    /// Body over the limit.
    TooLarge,
    /// A stateful request without `Mcp-Session-Id`.
    MissingSession,
    /// An unknown, expired or deleted session: the client must re-initialize.
    UnknownSession,
    /// The adapter was removed by a reload.
    Gone,
    /// GET or DELETE in stateless mode.
    MethodNotAllowed,
    /// The OS could not provide randomness for a session id.
    Internal,
}

impl HttpError {
    pub(crate) fn rpc(error: RpcError) -> Self {
        Self::Rpc { id: None, error }
    }
}

/// The HTTP status of a JSON-RPC error answering a single POSTed request. Errors about
/// the message itself are 400; errors about what it asked for are answered with 200 (the
/// request was received and answered), except that a 2026-07-28 request for an unknown
/// method is 404 (that revision's rule, so clients can tell us from a legacy server).
pub(crate) fn rpc_status(code: i32, modern: bool) -> StatusCode {
    match code {
        PARSE_ERROR | INVALID_REQUEST | HEADER_MISMATCH | UNSUPPORTED_VERSION | -32021 => {
            StatusCode::BAD_REQUEST
        }
        METHOD_NOT_FOUND if modern => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    }
}

/// A JSON-RPC body with a status.
pub(crate) fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, error, id) = match self {
            Self::Rpc { id, error } => (StatusCode::BAD_REQUEST, error, id),
            Self::ForbiddenOrigin => (
                StatusCode::FORBIDDEN,
                RpcError::new(SERVER_ERROR, "Forbidden: Origin not allowed"),
                None,
            ),
            Self::ForbiddenHost => (
                StatusCode::FORBIDDEN,
                RpcError::new(SERVER_ERROR, "Forbidden: Host not allowed"),
                None,
            ),
            Self::NotAcceptable(what) => (
                StatusCode::NOT_ACCEPTABLE,
                RpcError::new(
                    SERVER_ERROR,
                    format!("Not Acceptable: the client must accept {what}"),
                ),
                None,
            ),
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                RpcError::new(
                    SERVER_ERROR,
                    "Payload Too Large: the request body exceeds the limit",
                ),
                None,
            ),
            Self::MissingSession => (
                StatusCode::BAD_REQUEST,
                RpcError::new(
                    SERVER_ERROR,
                    "Bad Request: Mcp-Session-Id header is required",
                ),
                None,
            ),
            Self::UnknownSession => (
                StatusCode::NOT_FOUND,
                RpcError::new(
                    SESSION_NOT_FOUND,
                    "Session not found: initialize a new session",
                ),
                None,
            ),
            Self::Gone => (
                StatusCode::NOT_FOUND,
                RpcError::new(
                    SERVER_ERROR,
                    "Not Found: this MCP adapter is no longer served",
                ),
                None,
            ),
            Self::MethodNotAllowed => {
                let body = error_response(
                    None,
                    &RpcError::new(
                        SERVER_ERROR,
                        "Method Not Allowed: this server is stateless (POST only)",
                    ),
                );
                let mut resp = json_response(StatusCode::METHOD_NOT_ALLOWED, body);
                resp.headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
                return resp;
            }
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                RpcError::new(-32603, "Internal error: could not create a session"),
                None,
            ),
        };
        json_response(status, error_response(id.as_deref(), &error))
    }
}
