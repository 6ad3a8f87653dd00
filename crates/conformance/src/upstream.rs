//! The scripted upstream: a loopback HTTP/1.1 server that records every request and
//! answers from the case's script (unmatched requests get `200` and a JSON echo).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::case::AnswerSpec;

/// Largest request body recorded.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: String,
    /// Raw path, still percent-encoded.
    pub(crate) path: String,
    /// Raw query (without `?`).
    pub(crate) query: Option<String>,
    /// Lower-case names, in arrival order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

impl Seen {
    /// All values of a header, case-insensitively.
    pub(crate) fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Decoded query pairs, in order.
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        parse_query(self.query.as_deref())
    }

    /// A one-line rendering for diffs.
    pub(crate) fn summary(&self) -> String {
        let q = self
            .query
            .as_deref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let body = if self.body.is_empty() {
            String::new()
        } else {
            format!(" body={}", clip(&String::from_utf8_lossy(&self.body), 300))
        };
        format!("{} {}{q}{body}", self.method, self.path)
    }
}

/// Shortens `s` to at most `n` characters.
pub(crate) fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    }
}

/// Decodes an `application/x-www-form-urlencoded` query into pairs.
pub(crate) fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (form_decode(k), form_decode(v)),
            None => (form_decode(p), String::new()),
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = |c: Option<&u8>| -> Option<u8> {
                    let c = *c?;
                    char::from(c)
                        .to_digit(16)
                        .and_then(|d| u8::try_from(d).ok())
                };
                match (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Shared {
    answers: Vec<AnswerSpec>,
    seen: Mutex<Vec<Seen>>,
}

/// A running scripted upstream; stops when dropped.
pub(crate) struct Upstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    /// Binds `127.0.0.1:0` and serves `answers`.
    pub(crate) async fn start(answers: Vec<AnswerSpec>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            answers,
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Removes and returns everything recorded so far.
    pub(crate) fn take(&self) -> Vec<Seen> {
        std::mem::take(
            &mut *self
                .shared
                .seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

/// A loopback port where nothing listens, reserved until dropped.
///
/// The socket is bound but never listens: connecting is refused, and no other socket can
/// take the port meanwhile (a listener bound and dropped frees it for the next `bind(:0)`,
/// which once handed a parallel case's upstream the "closed" port).
pub(crate) struct ClosedPort {
    _socket: tokio::net::TcpSocket,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
}

pub(crate) fn closed_port() -> std::io::Result<ClosedPort> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let port = socket.local_addr()?.port();
    Ok(ClosedPort {
        _socket: socket,
        url: format!("http://127.0.0.1:{port}"),
    })
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let seen = Seen {
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
    let answer = shared
        .answers
        .iter()
        .find(|a| {
            (a.method == "*" || a.method.eq_ignore_ascii_case(&seen.method))
                && (a.path == "*" || a.path == seen.path)
        })
        .cloned();
    let echo = json!({
        "method": seen.method,
        "path": seen.path,
        "query": seen.query,
        "body": serde_json::from_slice::<serde_json::Value>(&seen.body).ok(),
    });
    shared
        .seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(seen);
    let Some(a) = answer else {
        let mut r = Response::new(Body::from(echo.to_string()));
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return r;
    };
    if let Some(ms) = a.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let (body, default_ct) = match (&a.body, &a.body_text) {
        (Some(v), _) => (Bytes::from(v.to_string()), Some("application/json")),
        (None, Some(t)) => (Bytes::from(t.clone()), Some("text/plain; charset=utf-8")),
        (None, None) => (Bytes::new(), None),
    };
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let has_ct = a
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("content-type"));
    if let (Some(ct), false) = (default_ct, has_ct) {
        r.headers_mut()
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    for (k, v) in &a.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            r.headers_mut().append(k, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        assert_eq!(
            parse_query(Some("a=1&a=2&b=x+y%2Fz&c&d=%zz")),
            vec![
                ("a".into(), "1".into()),
                ("a".into(), "2".into()),
                ("b".into(), "x y/z".into()),
                ("c".into(), String::new()),
                ("d".into(), "%zz".into()),
            ]
        );
    }
}
