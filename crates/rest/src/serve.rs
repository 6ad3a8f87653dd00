//! The listener's service: match, read, invoke, answer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::Full;
use naftiko_plan::{Answer, AnswerBody};
use naftiko_plan::{
    BodyError, Fields, PlainAnswer, PlainRequest, PlainService, Target, WholeAnswer,
};

use crate::args::RestArgs;
use crate::problem::{invoke_error, problem};
use crate::routes::RestRoutes;

/// Where the listener reads its current routes; reload swaps what this returns.
pub trait RestSource: Send + Sync + 'static {
    /// The routes to serve now (`None`: the port is being retired, answer 503).
    fn routes(&self) -> Option<Arc<RestRoutes>>;
}

impl RestSource for Arc<RestRoutes> {
    fn routes(&self) -> Option<Arc<RestRoutes>> {
        Some(self.clone())
    }
}

/// Adapter settings that are not in the capability file.
#[derive(Debug, Clone, Copy)]
pub struct RestConfig {
    /// Largest request body accepted (413 beyond).
    pub max_body: usize,
}

impl Default for RestConfig {
    fn default() -> Self {
        Self {
            max_body: 1024 * 1024,
        }
    }
}

#[derive(Clone)]
struct Shared {
    source: Arc<dyn RestSource>,
    config: RestConfig,
}

/// The HTTP service of one listener, for hyper's server connections.
///
/// Every request goes to the one handler, so no router or tower layers sit in front of it
/// (they cost about a sixth of a proxied GET's instructions).
#[derive(Clone)]
pub struct RestService(Shared);

/// The service for one listener.
pub fn service(source: Arc<dyn RestSource>, config: RestConfig) -> RestService {
    RestService(Shared { source, config })
}

impl<B> hyper::service::Service<http::Request<B>> for RestService
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: http::Request<B>) -> Self::Future {
        // Taken apart here, not in the future: a future keeps room for its arguments for
        // as long as it lives, and this one is boxed (copied whole) on every request.
        let (parts, body) = req.into_parts();
        let inbound = Inbound {
            method: parts.method,
            target: Target::Uri(parts.uri),
            headers: Fields::from_header_map(&parts.headers),
        };
        Box::pin(handle(self.0.clone(), inbound, body).map(|a| Ok(a.into_http())))
    }
}

impl PlainService for RestService {
    type Future = Pin<Box<dyn Future<Output = PlainAnswer<Response>> + Send>>;

    fn call_plain(&self, req: PlainRequest) -> Self::Future {
        let inbound = Inbound {
            method: req.method,
            target: Target::Origin(req.target),
            headers: req.headers,
        };
        Box::pin(handle(self.0.clone(), inbound, Full::new(req.body)))
    }
}

/// What the service reads of a request's head, wherever it was parsed.
struct Inbound {
    method: Method,
    target: Target,
    headers: Fields,
}

#[allow(clippy::manual_async_fn)] // Written out on purpose: see the comment inside.
fn handle<B>(s: Shared, parts: Inbound, body: B) -> impl Future<Output = PlainAnswer<Response>>
where
    B: http_body::Body<Data = bytes::Bytes>,
{
    // A plain fn returning an async block, not an `async fn`: an async fn keeps its
    // arguments twice in its future (as arguments and as locals, rust-lang/rust#62958),
    // and this future is boxed, copied whole, on every request.
    async move {
        let Some(routes) = s.source.routes() else {
            return PlainAnswer::Response(problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "this listener is shutting down",
            ));
        };
        let path = parts.target.path();
        let Some((resource, params)) = routes.find(path) else {
            return PlainAnswer::Response(problem(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("no resource at '{path}'"),
            ));
        };
        let head = parts.method == Method::HEAD;
        let method = if head { &Method::GET } else { &parts.method };
        let Some((_, unit)) = resource.operations.iter().find(|(m, _)| m == method) else {
            let mut resp = problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                &format!(
                    "'{path}' does not support {}; allowed: {}",
                    parts.method, resource.allow
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&resource.allow) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
            return PlainAnswer::Response(resp);
        };
        let bytes = match naftiko_plan::read_body(body, s.config.max_body).await {
            Ok(bytes) => bytes,
            Err(BodyError::TooLarge) => {
                return PlainAnswer::Response(problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    &format!("request body exceeds {} bytes", s.config.max_body),
                ));
            }
            Err(BodyError::Unreadable) => {
                return PlainAnswer::Response(problem(
                    StatusCode::BAD_REQUEST,
                    "body_unreadable",
                    "the request body could not be read",
                ));
            }
        };
        let args = match RestArgs::new(params.iter(), parts.target.query(), &parts.headers, bytes) {
            Ok(a) => a,
            Err(e) => return PlainAnswer::Response(invoke_error(&unit.name, &e)),
        };
        let mut answer = match unit.invoke(&args).await {
            Ok(answer) => PlainAnswer::Whole(respond(answer)),
            Err(e) => PlainAnswer::Response(invoke_error(&unit.name, &e)),
        };
        if head {
            match &mut answer {
                PlainAnswer::Whole(w) => w.body = Bytes::new(),
                PlainAnswer::Response(r) => *r.body_mut() = Body::empty(),
            }
        }
        answer
    }
}

/// A successful invocation's answer, whole.
fn respond(a: Answer) -> WholeAnswer {
    let (body, content_type) = match a.body {
        AnswerBody::Empty => (Bytes::new(), None),
        AnswerBody::Bytes {
            bytes,
            content_type,
        } => (bytes, content_type),
        AnswerBody::Json(v) => (
            Bytes::from(v.to_string()),
            Some(HeaderValue::from_static("application/json")),
        ),
    };
    WholeAnswer {
        status: a.status,
        content_type,
        headers: a.headers,
        body,
    }
}
