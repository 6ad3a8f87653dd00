//! Outbound HTTP to the APIs a capability consumes. This crate owns the
//! HTTP/1.1 exchange (request encoding, response framing), the connection pool,
//! TLS, connect/call timeouts, the response-body size cap and the mapping of
//! transport failures onto a small, stable [`UpstreamError`].
//! It takes a fully built [`UpstreamRequest`] and hands back a fully read
//! [`UpstreamResponse`]; it must not know about capability specs, JSONPath,
//! REST or MCP — request shaping and response mapping belong to the plan crate,
//! which holds an `Arc<dyn Upstream>` so tests can swap in a fake.
#![forbid(unsafe_code)]

mod client;
mod deadline;
mod error;
mod fields;
mod h1;
mod names;
mod pool;
mod request;
mod response;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

pub use client::{HttpUpstream, HttpUpstreamConfig};
pub use error::{BuildError, UpstreamError};
pub use fields::{Field, Fields};
pub use request::{Origin, UpstreamRequest};
pub use response::UpstreamResponse;

/// The future returned by [`Upstream::send`].
///
/// Boxed so that [`Upstream`] stays object safe; that one allocation per call
/// is the price of `Arc<dyn Upstream>`.
pub type UpstreamFuture<'a> =
    Pin<Box<dyn Future<Output = Result<UpstreamResponse, UpstreamError>> + Send + 'a>>;

/// The future returned by [`Upstream::send_http`].
pub type HttpFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, UpstreamError>> + Send + 'a>>;

/// Something that can perform one HTTP exchange with a consumed API.
///
/// Implementations must not follow redirects: a 3xx is a response like any
/// other. The real implementation is [`HttpUpstream`]; tests implement this
/// trait with a canned response.
pub trait Upstream: Send + Sync + 'static {
    /// Sends `req` and reads the whole response body, honouring `opts`.
    fn send(&self, req: UpstreamRequest, opts: &CallOptions) -> UpstreamFuture<'_>;

    /// Sends an `http::Request` with an absolute URI (see [`UpstreamRequest::from_http`];
    /// an error when it is not one), answering an `http::Response`: for callers that
    /// want the general types (tools, tests), not the gateway's hot path.
    fn send_http(&self, req: http::Request<Bytes>, opts: &CallOptions) -> HttpFuture<'_> {
        match UpstreamRequest::from_http(req) {
            Ok(req) => {
                let sent = self.send(req, opts);
                Box::pin(async move { sent.await.map(UpstreamResponse::into_http) })
            }
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

/// Per-call limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallOptions {
    /// Deadline for the whole call: connect, send, response head and body.
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_body: usize,
}

impl CallOptions {
    /// Default whole-call deadline.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default response body cap (16 MiB).
    pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            timeout: Self::DEFAULT_TIMEOUT,
            max_body: Self::DEFAULT_MAX_BODY,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A fake is a few lines; this proves the trait is object safe and usable
    /// the way the plan crate holds it.
    struct Canned(u16);

    impl Upstream for Canned {
        fn send(&self, req: UpstreamRequest, _opts: &CallOptions) -> UpstreamFuture<'_> {
            let status = self.0;
            Box::pin(async move {
                let status = http::StatusCode::from_u16(status).unwrap();
                Ok(UpstreamResponse::new(status, Bytes::from(req.url())))
            })
        }
    }

    #[tokio::test]
    async fn fake_upstream_behind_arc_dyn() {
        let up: Arc<dyn Upstream> = Arc::new(Canned(418));
        let req = http::Request::get("http://example.test/x")
            .body(Bytes::new())
            .unwrap();
        let req = UpstreamRequest::from_http(req).unwrap();
        let resp = up.send(req, &CallOptions::default()).await.unwrap();
        assert_eq!(resp.status(), 418);
        assert_eq!(resp.body().as_ref(), b"http://example.test/x");
    }

    #[test]
    fn call_options_defaults() {
        let o = CallOptions::default();
        assert_eq!(o.timeout, Duration::from_secs(30));
        assert_eq!(o.max_body, 16 * 1024 * 1024);
    }
}
