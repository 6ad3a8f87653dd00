//! The Streamable HTTP transport, written directly on hyper and axum's response types: one endpoint (`/mcp` and `/`)
//! serving POST (JSON-RPC in, `application/json` out), GET (an SSE stream per session for
//! `notifications/tools/list_changed`) and DELETE (end a session).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{FutureExt as _, stream};
use http::header::{self, CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::Full;
use naftiko_plan::{BodyError, Fields, PlainAnswer, PlainRequest, PlainService, WholeAnswer};
use serde_json::value::RawValue;

use crate::catalog::Catalog;
use crate::dispatch::{Core, Ctx, Reply};
use crate::error::{HttpError, json_response, rpc_status};
use crate::guard::{Guard, accepts};
use crate::jsonrpc::{Kind, Message, RpcError, Version, error_response, from_serde};
use crate::session::{Session, Sessions};
use crate::{McpConfig, McpSource, Notifier};

mod stateless;

/// What the endpoint answers with: whole JSON answers are written out by the gateway's
/// connection as they are; anything else is a response.
type Answer = PlainAnswer<Response>;

const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
const LIST_CHANGED: &str = r#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#;

/// The HTTP MCP server of one adapter, and the handle that announces tool changes to it.
#[derive(Clone)]
pub struct McpHandle {
    /// Serves POST, GET and DELETE on `/mcp` and `/`.
    pub service: McpService,
    /// Sends `notifications/tools/list_changed` on the service's open GET streams.
    pub notifier: Notifier,
}

impl std::fmt::Debug for McpHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHandle").finish_non_exhaustive()
    }
}

/// The MCP endpoint as a hyper service: `/mcp` and `/` go to the transport, anything else
/// is 404. No router or tower layers sit in front of it (they cost about a sixth of a
/// proxied call's instructions).
#[derive(Clone)]
pub struct McpService(Arc<App>);

impl<B> hyper::service::Service<http::Request<B>> for McpService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: http::Request<B>) -> Self::Future {
        if !is_endpoint(req.uri().path()) {
            return not_found();
        }
        // The request is taken apart here, not in the future: a future keeps room for its
        // arguments for as long as it lives, and this one is boxed (copied whole) and
        // touched on every poll, so every byte of it costs on every call.
        let (parts, body) = req.into_parts();
        let headers = Fields::from_header_map(&parts.headers);
        Box::pin(handle(self.0.clone(), parts.method, headers, body).map(|a| Ok(a.into_http())))
    }
}

impl PlainService for McpService {
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn call_plain(&self, req: PlainRequest) -> Self::Future {
        if !is_endpoint(req.target.path()) {
            let answer = Answer::Response(StatusCode::NOT_FOUND.into_response());
            return Box::pin(std::future::ready(answer));
        }
        let body = Full::new(req.body);
        Box::pin(handle(self.0.clone(), req.method, req.headers, body))
    }
}

/// The endpoint's paths.
fn is_endpoint(path: &str) -> bool {
    matches!(path, "/" | "/mcp")
}

fn not_found() -> Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>> {
    Box::pin(std::future::ready(
        Ok(StatusCode::NOT_FOUND.into_response()),
    ))
}

impl McpHandle {
    /// Announces that the tools changed (e.g. after a hot reload).
    pub fn notify_tools_changed(&self) {
        self.notifier.notify_tools_changed();
    }
}

/// Builds the HTTP server and its notifier.
pub fn service(source: Arc<dyn McpSource>, config: McpConfig) -> McpHandle {
    let notifier = Notifier::new();
    let app = Arc::new(App {
        core: Core::new(source),
        sessions: Sessions::new(config.session_idle, config.max_sessions),
        guard: Guard::new(&config),
        config,
        notifier: notifier.clone(),
    });
    McpHandle {
        service: McpService(app),
        notifier,
    }
}

struct App {
    core: Core,
    sessions: Sessions,
    guard: Guard,
    config: McpConfig,
    notifier: Notifier,
}

#[allow(clippy::manual_async_fn)] // Written out on purpose: see the comment inside.
fn handle<B>(
    app: Arc<App>,
    method: Method,
    headers: Fields,
    body: B,
) -> impl Future<Output = Answer> + Send
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    // A plain fn returning an async block, not an `async fn`: an async fn keeps its
    // arguments twice in its future (as arguments and as locals, rust-lang/rust#62958),
    // and this future is boxed, copied whole, on every request.
    async move {
        let origin = match app.guard.check(&headers) {
            Ok(o) => o,
            Err(e) => return Answer::Response(e.into_response()),
        };
        let h = &headers;
        let result = match method {
            Method::POST => app.post(h, body).await,
            Method::GET => app.get(h).map(Answer::Response),
            Method::DELETE => app.delete(h).map(Answer::Response),
            Method::OPTIONS => Ok(Answer::Response(preflight(h))),
            _ => Err(HttpError::MethodNotAllowed),
        };
        let mut answer = result.unwrap_or_else(|e| Answer::Response(e.into_response()));
        if let Some(origin) = origin {
            // Browser clients (e.g. the Inspector in direct mode) need CORS to read answers.
            let headers = answer.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("mcp-session-id, mcp-protocol-version"),
            );
            headers.append(header::VARY, HeaderValue::from_static("origin"));
        }
        answer
    }
}

fn preflight(h: &Fields) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    let asked = h
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|f| f.header_value());
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.unwrap_or(HeaderValue::from_static("content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id")));
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    resp
}

fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

/// `MCP-Protocol-Version`: missing is fine (served as the session's version, else
/// 2025-03-26); present and unsupported is 400.
fn header_version(h: &Fields) -> Result<Option<Version>, HttpError> {
    let Some(v) = h.get(PROTOCOL_VERSION) else {
        return Ok(None);
    };
    Version::parse_bytes(v.value().trim_ascii())
        .map(Some)
        .ok_or_else(|| {
            let text = String::from_utf8_lossy(v.value());
            HttpError::rpc(RpcError::unsupported_version(&text))
        })
}

/// The whole request body, at most `max` bytes.
async fn read_body<B>(h: &Fields, body: B, max: usize) -> Result<Bytes, HttpError>
where
    B: http_body::Body<Data = Bytes>,
{
    let declared = h
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(HttpError::TooLarge);
    }
    naftiko_plan::read_body(body, max)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => HttpError::TooLarge,
            // A body cut off or badly chunked is no message at all.
            BodyError::Unreadable => HttpError::rpc(RpcError::parse(
                "Parse error: the request body could not be read",
            )),
        })
}

impl App {
    fn stateful(&self) -> bool {
        !self.config.stateless
    }

    /// The request's session: required (and must be live) when stateful.
    fn session(&self, h: &Fields) -> Result<Option<Arc<Session>>, HttpError> {
        if !self.stateful() {
            return Ok(None);
        }
        let id = h.get(SESSION_ID).ok_or(HttpError::MissingSession)?;
        let id = id.to_str().ok_or(HttpError::UnknownSession)?;
        self.sessions
            .get(id)
            .map(Some)
            .ok_or(HttpError::UnknownSession)
    }

    async fn post<B>(&self, h: &Fields, body: B) -> Result<Answer, HttpError>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<axum::BoxError>,
    {
        let catalog = self.core.catalog().ok_or(HttpError::Gone)?;
        if !accepts(h, "application/json") {
            return Err(HttpError::NotAcceptable("application/json"));
        }
        let version = header_version(h)?;
        let bytes = read_body(h, body, self.config.max_body).await?;
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[') => {
                (self.post_batch(h, version, &catalog, &bytes).await).map(Answer::Response)
            }
            Some(_) => self.post_single(h, version, &catalog, &bytes).await,
            None => Err(HttpError::rpc(RpcError::parse("Parse error: empty body"))),
        }
    }

    async fn post_single(
        &self,
        h: &Fields,
        version: Option<Version>,
        catalog: &Catalog,
        bytes: &[u8],
    ) -> Result<Answer, HttpError> {
        let msg = Message::parse(bytes).map_err(HttpError::rpc)?;
        let kind = msg.kind().map_err(|error| HttpError::Rpc {
            id: msg.id().map(str::to_owned),
            error,
        })?;
        let modern = version.is_some_and(|v| !v.has_handshake());
        match kind {
            Kind::Request {
                id,
                method: "initialize",
                params,
            } => {
                let (negotiated, body) = self.core.initialize(catalog, id, params, self.stateful());
                let mut resp = json_response(StatusCode::OK, body);
                if self.stateful() {
                    let session = self
                        .sessions
                        .create(negotiated)
                        .map_err(|_| HttpError::Internal)?;
                    let value =
                        HeaderValue::from_str(&session.id).map_err(|_| HttpError::Internal)?;
                    resp.headers_mut().insert(SESSION_ID, value);
                    tracing::trace!(version = negotiated.as_str(), "MCP session created");
                }
                Ok(Answer::Response(resp))
            }
            // 2026-07-28 requests carry their context and have no session; a legacy server
            // must still answer the `server/discover` probe quickly.
            Kind::Request { id, method, params } if modern || method == "server/discover" => {
                // Boxed: the 2026-07-28 path's future is the biggest here, and would
                // otherwise size every session call's future.
                Box::pin(self.post_stateless(h, version, catalog, id, method, params)).await
            }
            Kind::Request { id, method, params } => {
                let session = self.session(h)?;
                let ctx = Ctx {
                    version: session
                        .as_ref()
                        .map_or(version.unwrap_or(Version::V2025_03_26), |s| s.version),
                    inflight: session.as_deref().map(|s| &s.inflight),
                    catalog,
                };
                let reply = self.core.request(ctx, id, method, params).await;
                Ok(reply_response(h, reply, id, false))
            }
            Kind::Notification { method, params } => {
                let session = if modern { None } else { self.session(h)? };
                self.core
                    .notification(session.as_deref().map(|s| &s.inflight), method, params);
                Ok(Answer::Response(accepted()))
            }
            Kind::Response => {
                if !modern {
                    self.session(h)?;
                }
                Ok(Answer::Response(accepted()))
            }
        }
    }

    async fn post_batch(
        &self,
        h: &Fields,
        header: Option<Version>,
        catalog: &Catalog,
        bytes: &[u8],
    ) -> Result<Response, HttpError> {
        let items: Vec<&RawValue> =
            serde_json::from_slice(bytes).map_err(|e| HttpError::rpc(from_serde(&e)))?;
        let session = match header {
            Some(v) if !v.has_handshake() => None,
            _ => self.session(h)?,
        };
        let version = session
            .as_ref()
            .map_or(header.unwrap_or(Version::V2025_03_26), |s| s.version);
        if !version.allows_batches() {
            let why = format!(
                "Invalid Request: JSON-RPC batches are not supported in protocol version {}",
                version.as_str()
            );
            return Err(HttpError::rpc(RpcError::invalid_request(why)));
        }
        if items.is_empty() {
            return Err(HttpError::rpc(RpcError::invalid_request(
                "Invalid Request: empty batch",
            )));
        }
        let ctx = Ctx {
            version,
            inflight: session.as_deref().map(|s| &s.inflight),
            catalog,
        };
        Ok(match self.core.batch(ctx, &items).await {
            Some(body) => json_response(StatusCode::OK, body),
            None => accepted(),
        })
    }

    fn get(&self, h: &Fields) -> Result<Response, HttpError> {
        if !self.stateful() {
            return Err(HttpError::MethodNotAllowed);
        }
        self.core.catalog().ok_or(HttpError::Gone)?;
        if !accepts(h, "text/event-stream") {
            return Err(HttpError::NotAcceptable("text/event-stream"));
        }
        header_version(h)?;
        let session = self.session(h)?.ok_or(HttpError::MissingSession)?;
        let state = (
            session.open_stream(),
            self.notifier.subscribe(),
            Arc::clone(&self.core.source),
        );
        let events = stream::unfold(state, |(mut guard, mut changes, source)| async move {
            tokio::select! {
                () = guard.superseded() => None,
                changed = changes.changed() => match changed {
                    Ok(()) if source.adapter().is_some() => Some((Ok::<_, Infallible>(Event::default().event("message").data(LIST_CHANGED)), (guard, changes, source))),
                    _ => None,
                },
            }
        });
        let sse = Sse::new(events).keep_alive(KeepAlive::new());
        Ok((
            [(
                HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            )],
            sse,
        )
            .into_response())
    }

    fn delete(&self, h: &Fields) -> Result<Response, HttpError> {
        if !self.stateful() {
            return Err(HttpError::MethodNotAllowed);
        }
        let id = h.get(SESSION_ID).ok_or(HttpError::MissingSession)?;
        let id = id.to_str().ok_or(HttpError::UnknownSession)?;
        if self.sessions.remove(id) {
            Ok(StatusCode::OK.into_response())
        } else {
            Err(HttpError::UnknownSession)
        }
    }
}

/// The HTTP answer to one request's reply.
fn reply_response(h: &Fields, reply: Reply, id: &str, modern: bool) -> Answer {
    let json = |status, body: Vec<u8>| {
        Answer::Whole(WholeAnswer {
            status,
            content_type: Some(HeaderValue::from_static("application/json")),
            headers: HeaderMap::new(),
            body: Bytes::from(body),
        })
    };
    match reply {
        Reply::Ok(body) => json(StatusCode::OK, body),
        Reply::Err(e) => json(
            rpc_status(e.code, modern),
            error_response(Some(id), &e).into(),
        ),
        // A cancelled request gets no JSON-RPC answer: an SSE stream that closes without
        // one (what a streaming server does), or 204 for a JSON-only client.
        Reply::Cancelled if accepts(h, "text/event-stream") => {
            Answer::Response(([(CONTENT_TYPE, "text/event-stream")], "").into_response())
        }
        Reply::Cancelled => Answer::Response(StatusCode::NO_CONTENT.into_response()),
    }
}
