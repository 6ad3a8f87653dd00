//! The one place where failures become HTTP responses: RFC 9457 problem details.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use naftiko_plan::{Fault, InvokeError};
use serde_json::json;

/// An `application/problem+json` response.
pub fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    let body = json!({
        "type": format!("urn:naftiko:problem:{code}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "code": code,
        "detail": detail,
    });
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

/// Maps an invocation failure; details of our own faults stay in the log.
pub(crate) fn invoke_error(operation: &str, e: &InvokeError) -> Response {
    match e.fault() {
        Fault::Caller | Fault::Upstream => {
            tracing::debug!(operation, code = e.code(), error = %e, "request failed");
            problem(e.status(), e.code(), &e.to_string())
        }
        Fault::Internal => {
            tracing::error!(operation, code = e.code(), error = %e, "request failed");
            let detail = if e.status() == StatusCode::NOT_IMPLEMENTED {
                e.to_string()
            } else {
                format!("operation '{operation}' failed inside the gateway")
            };
            problem(e.status(), e.code(), &detail)
        }
    }
}
