//! A minimal HTTP/1.1 client for driving the runtime.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

/// Largest response body read.
const MAX_RESPONSE: usize = 32 * 1024 * 1024;

/// A response as received.
#[derive(Debug, Clone)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    /// Lower-case names, in order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

impl HttpResponse {
    /// First value of a header.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub(crate) fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Is this a server-sent-events stream?
    pub(crate) fn is_sse(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/event-stream"))
    }
}

/// The client (one per case).
#[derive(Clone)]
pub(crate) struct HttpClient {
    inner: Client<HttpConnector, Full<Bytes>>,
}

impl HttpClient {
    pub(crate) fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        Self {
            inner: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector),
        }
    }

    /// Sends a request and reads the whole response within `timeout`. For an SSE
    /// response, reading stops as soon as a JSON-RPC response event has arrived.
    pub(crate) async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<HttpResponse, String> {
        self.send_with(method, url, headers, body, timeout, None)
            .await
    }

    /// Like [`HttpClient::send`]; an event stream is read for at most `sse_window` once its
    /// headers arrived (a GET stream carries no response and may never end).
    pub(crate) async fn send_with(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Bytes,
        timeout: Duration,
        sse_window: Option<Duration>,
    ) -> Result<HttpResponse, String> {
        let deadline = Instant::now() + timeout;
        let mut builder = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let req = builder
            .body(Full::new(body))
            .map_err(|e| format!("cannot build the request {method} {url}: {e}"))?;
        let resp = match tokio::time::timeout_at(deadline, self.inner.request(req)).await {
            Err(_) => {
                return Err(format!(
                    "no response to {method} {url} within {} ms",
                    timeout.as_millis()
                ));
            }
            Ok(Err(e)) => {
                let mut msg = format!("{method} {url} failed: {e}");
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    msg.push_str(&format!(": {s}"));
                    src = s.source();
                }
                return Err(msg);
            }
            Ok(Ok(r)) => r,
        };
        let (parts, mut body) = resp.into_parts();
        let mut out = HttpResponse {
            status: parts.status.as_u16(),
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
            body: Bytes::new(),
        };
        let sse = out.is_sse();
        let deadline = match (sse, sse_window) {
            (true, Some(w)) => deadline.min(Instant::now() + w),
            _ => deadline,
        };
        let mut buf = BytesMut::new();
        loop {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => {
                    if sse {
                        break;
                    }
                    return Err(format!(
                        "the body of the response to {method} {url} did not end within {} ms",
                        timeout.as_millis()
                    ));
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    return Err(format!(
                        "reading the body of the response to {method} {url}: {e}"
                    ));
                }
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        buf.extend_from_slice(&data);
                        if buf.len() > MAX_RESPONSE {
                            return Err(format!(
                                "the response to {method} {url} is larger than {MAX_RESPONSE} bytes"
                            ));
                        }
                        if sse && sse_response(&buf).is_some() {
                            break;
                        }
                    }
                }
            }
        }
        out.body = buf.freeze();
        Ok(out)
    }
}

/// The first JSON-RPC response (an object with `result` or `error`) carried by an SSE
/// stream, if complete.
pub(crate) fn sse_response(data: &[u8]) -> Option<serde_json::Value> {
    let text = String::from_utf8_lossy(data);
    let text = text.replace("\r\n", "\n");
    for event in text.split("\n\n") {
        let payload: Vec<&str> = event
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect();
        if payload.is_empty() {
            continue;
        }
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&payload.join("\n"))
            && (v.get("result").is_some() || v.get("error").is_some())
        {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_response_in_an_sse_stream() {
        let s = b"id: 1\ndata:\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n";
        assert_eq!(sse_response(s).unwrap()["id"], serde_json::Value::from(1));
        assert!(sse_response(b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"res").is_none());
    }
}
