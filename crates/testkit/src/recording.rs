//! [`RecordingUpstream`]: a real HTTP/1.1 server on `127.0.0.1:0` that records
//! every request and answers from a script (or echoes what it received).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::util;

/// Largest request body the recorder accepts (32 MiB). Bigger bodies are
/// still recorded, with an empty `body`, and answered with `413`.
pub const MAX_RECORDED_BODY: usize = 32 * 1024 * 1024;

/// One request as the upstream saw it on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Request method, e.g. `GET`.
    pub method: String,
    /// Raw request path, still percent-encoded, without the query.
    pub path: String,
    /// Raw query string (without `?`), still percent-encoded; `None` when absent.
    pub query: Option<String>,
    /// Headers in arrival order; names are lower-case, values lossily UTF-8.
    pub headers: Vec<(String, String)>,
    /// The full request body.
    pub body: Bytes,
}

impl Recorded {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (case-insensitive), in arrival order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Query parameters, form-decoded (`+` is a space), in the order sent.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        util::parse_query(self.query.as_deref())
    }

    /// The body parsed as JSON, or `None` when it is empty or not JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as (lossy) UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A scripted response. Build with [`Answer::json`], [`Answer::text`] or
/// [`Answer::empty`], then refine with [`Answer::with_header`] / [`Answer::with_delay`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status code; invalid codes are sent as `500`.
    pub status: u16,
    /// Response headers, sent in order (invalid ones are skipped).
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Bytes,
    /// Wait this long before sending the response (for timeout tests).
    pub delay: Option<Duration>,
}

impl Answer {
    /// A JSON body with `Content-Type: application/json`.
    pub fn json(status: u16, value: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(value.to_string()),
            delay: None,
        }
    }

    /// An arbitrary body with the given `Content-Type`.
    pub fn text(status: u16, content_type: impl Into<String>, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delay: None,
        }
    }

    /// No body and no headers (e.g. `204`).
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            delay: None,
        }
    }

    /// Adds a response header (repeatable; a name may occur several times).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Delays the response by `delay` after the request body was read.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    fn into_response(self) -> Response {
        let mut resp = Response::new(Body::from(self.body));
        *resp.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (k, v) in self.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                resp.headers_mut().append(k, v);
            }
        }
        resp
    }
}

#[derive(Debug)]
struct Rule {
    method: String,
    path: String,
    answer: Answer,
    once: bool,
}

impl Rule {
    fn matches(&self, method: &str, path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && (self.path == "*" || self.path == path)
    }

    /// Exact path beats `*`, exact method beats `*`.
    fn specificity(&self) -> u8 {
        u8::from(self.path != "*") * 2 + u8::from(self.method != "*")
    }
}

#[derive(Debug, Default)]
struct Script {
    rules: Vec<Rule>,
    requests: Vec<Recorded>,
}

#[derive(Debug)]
struct Shared {
    script: Mutex<Script>,
    count: watch::Sender<usize>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A stub upstream: records every request, answers from a script.
///
/// Cheap to clone; clones share the same server and recordings. The server runs
/// on the tokio runtime that called [`RecordingUpstream::start`] until that
/// runtime shuts down.
#[derive(Debug, Clone)]
pub struct RecordingUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl RecordingUpstream {
    /// Binds `127.0.0.1:0` and starts serving in a background task.
    ///
    /// # Panics
    /// Only if the loopback interface cannot be bound (a broken test environment).
    #[allow(clippy::expect_used)] // harness failure, not request data
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for RecordingUpstream");
        Self::serve(listener)
    }

    /// Serves on a caller-chosen listener in a background task.
    ///
    /// # Panics
    /// If the listener has no local address, or when called outside a tokio runtime.
    #[allow(clippy::expect_used)] // harness failure, not request data
    pub fn serve(listener: TcpListener) -> Self {
        let addr = listener
            .local_addr()
            .expect("RecordingUpstream listener address");
        let shared = Arc::new(Shared {
            script: Mutex::new(Script::default()),
            count: watch::channel(0).0,
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move {
            // The server only stops with the runtime; errors there are not actionable.
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of every request recorded so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// Number of requests recorded so far.
    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// Forgets all recorded requests (scripted answers stay).
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
        self.shared.count.send_replace(0);
    }

    /// Waits (without fixed sleeps) until at least `n` requests were recorded or
    /// `timeout` elapsed, then returns every request recorded so far. Fewer than
    /// `n` entries means the timeout elapsed.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let mut rx = self.shared.count.subscribe();
        // `wait_for` checks the current value first, so no notification is missed.
        let _ = tokio::time::timeout(timeout, rx.wait_for(|count| *count >= n)).await;
        self.requests()
    }

    /// Scripts the answer for `method` + `path` (raw path without query).
    /// Either may be `"*"` to match anything. Answers are reused for every
    /// matching request. Among matching rules, exact path beats `*`, exact method
    /// beats `*`, and on a tie the most recently added rule wins.
    pub fn answer(&self, method: impl AsRef<str>, path: impl Into<String>, answer: Answer) {
        self.add_rule(method.as_ref(), path.into(), answer, false);
    }

    /// Like [`RecordingUpstream::answer`] but used for one matching request
    /// only; one-shot answers take precedence over reusable ones and are
    /// consumed oldest first (so several queue up, e.g. `503` then `200`).
    pub fn answer_once(&self, method: impl AsRef<str>, path: impl Into<String>, answer: Answer) {
        self.add_rule(method.as_ref(), path.into(), answer, true);
    }

    /// Removes every scripted answer; requests are echoed again.
    pub fn clear_answers(&self) {
        self.shared.lock().rules.clear();
    }

    fn add_rule(&self, method: &str, path: String, answer: Answer, once: bool) {
        self.shared.lock().rules.push(Rule {
            method: method.to_owned(),
            path,
            answer,
            once,
        });
    }
}

/// Picks (and for one-shot rules, consumes) the answer for a request.
fn pick_answer(script: &mut Script, method: &str, path: &str) -> Option<Answer> {
    let once = script
        .rules
        .iter()
        .position(|r| r.once && r.matches(method, path));
    if let Some(i) = once {
        return Some(script.rules.remove(i).answer);
    }
    script
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.once && r.matches(method, path))
        .max_by_key(|(i, r)| (r.specificity(), *i))
        .map(|(_, r)| r.answer.clone())
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let (body, too_large) = match axum::body::to_bytes(body, MAX_RECORDED_BODY).await {
        Ok(b) => (b, false),
        Err(_) => (Bytes::new(), true),
    };
    let recorded = Recorded {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let answer = {
        let mut script = shared.lock();
        let answer = if too_large {
            Some(Answer::json(
                413,
                json!({"error": "request body larger than 32 MiB"}),
            ))
        } else {
            pick_answer(&mut script, &recorded.method, &recorded.path)
        };
        let answer = answer.unwrap_or_else(|| echo(&recorded));
        script.requests.push(recorded);
        let count = script.requests.len();
        shared.count.send_replace(count);
        answer
    };
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    answer.into_response()
}

fn echo(req: &Recorded) -> Answer {
    Answer::json(
        200,
        json!({
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "body": req.json(),
        }),
    )
}

/// An `http://127.0.0.1:PORT` URL on which nothing listens (the port is bound, never
/// listening, for the rest of the process), for connection-refused tests.
///
/// # Panics
/// Only if the loopback interface cannot be bound.
#[allow(clippy::expect_used)] // harness failure, not request data
pub fn closed_port_url() -> String {
    // Bound but never listening: connecting is refused, and no other socket can take the
    // port (a listener bound and dropped frees it for the next `bind(:0)`, which made
    // parallel tests meet each other's servers there). Kept for the life of the process.
    let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind 127.0.0.1:0");
    let port = socket.local_addr().expect("local address").port();
    std::mem::forget(socket);
    format!("http://127.0.0.1:{port}")
}
