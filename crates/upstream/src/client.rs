//! [`HttpUpstream`]: the real [`Upstream`]: connections opened by hyper-util's connector
//! (DNS, connect timeout, rustls), exchanges done by [`crate::h1`] inside the calling
//! task, idle connections kept by our [`Pool`].
//!
//! This is the gateway's hot path: the success path makes one boxed future (object
//! safety), one buffer for the request head and logs at `trace` only.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use http::{Method, Uri};
use hyper_rustls::{
    ConfigBuilderExt as _, HttpsConnector, HttpsConnectorBuilder, MaybeHttpsStream,
};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::TcpStream;
use tower_service::Service as _;

use tokio::time::Instant;

use crate::deadline::Timer;
use crate::error::{self, BuildError, UpstreamError};
use crate::h1::{self, Failure};
use crate::pool::Pool;
use crate::request::{Origin, UpstreamRequest};
use crate::response::UpstreamResponse;
use crate::{CallOptions, Upstream, UpstreamFuture};

/// Connection-level settings for [`HttpUpstream`]; per-call limits live in
/// [`CallOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpUpstreamConfig {
    /// TCP connect deadline per address tried (the TLS handshake is bounded
    /// by the call's [`CallOptions::timeout`]).
    pub connect_timeout: Duration,
    /// How long an idle keep-alive connection stays in the pool.
    pub pool_idle_timeout: Duration,
    /// Idle connections kept per `scheme://host:port`. Bounded so a burst does
    /// not leave thousands of idle sockets (file descriptors) behind.
    pub pool_max_idle_per_host: usize,
}

impl Default for HttpUpstreamConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 256,
        }
    }
}

type Connector = HttpsConnector<HttpConnector>;

/// Stands in for a deadline beyond what `Instant` can hold (about 30 years).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// Pooled HTTP/1.1 client for `http` and `https` upstreams.
///
/// Cheap to clone (the pool is shared). Never follows redirects, sets `Host`
/// from the URI when absent, and always derives `Content-Length` from the
/// body it is given.
#[derive(Clone)]
pub struct HttpUpstream {
    connector: Connector,
    pool: Arc<Pool>,
    config: HttpUpstreamConfig,
}

impl fmt::Debug for HttpUpstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpUpstream")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpUpstream {
    /// Builds a client with [`HttpUpstreamConfig::default`].
    pub fn new() -> Result<Self, BuildError> {
        Self::with_config(HttpUpstreamConfig::default())
    }

    /// Builds a client with explicit connection settings.
    ///
    /// TLS uses rustls with the `ring` provider passed in explicitly and the
    /// Mozilla (webpki) root set, so this never depends on — or panics for
    /// lack of — a process-wide default crypto provider.
    pub fn with_config(config: HttpUpstreamConfig) -> Result<Self, BuildError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(BuildError::new)?
            .with_webpki_roots()
            .with_no_client_auth();

        let mut http = HttpConnector::new();
        // The https wrapper below decides per scheme; the inner connector must
        // accept `https://` URIs it is handed.
        http.enforce_http(false);
        // Request/response exchanges are small and latency-bound.
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout));

        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let pool = Pool::new(config.pool_idle_timeout, config.pool_max_idle_per_host);
        Ok(Self {
            connector,
            pool,
            config,
        })
    }

    /// The connection settings this client was built with.
    pub fn config(&self) -> &HttpUpstreamConfig {
        &self.config
    }

    /// One exchange on an idle pooled connection, or on a new one when none is left. A
    /// pooled connection that turns out closed is dropped and the request tried on the
    /// next: always when the request could not be written, and for idempotent methods
    /// when the connection closed without a byte of answer (the keep-alive race).
    ///
    /// The whole call, connecting included, ends by `timeout`; the exchange is timed by
    /// the connection's own [`Timer`].
    async fn call(
        &self,
        // Borrowed: an async fn keeps an owned argument twice in its future
        // (rust-lang/rust#62958), and the request is the biggest thing it has.
        req: &UpstreamRequest,
        max_body: usize,
        target: &Origin,
        timeout: Duration,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let now = Instant::now();
        // A timeout too long to add is as good as none (tokio does the same).
        let at = now.checked_add(timeout).unwrap_or_else(|| now + FAR_FUTURE);
        let timed_out = || UpstreamError::Timeout { after: timeout };
        let host = target.authority().as_str();
        let retry_silent_close = is_idempotent(&req.method);
        loop {
            let (mut conn, fresh) =
                match self
                    .pool
                    .checkout(target.is_https(), target.authority(), now)
                {
                    Some(conn) => (conn, false),
                    None => {
                        // Boxed with its timer: the connector's future (TLS included) and
                        // a tokio `Sleep` are large, and held inline they would be copied
                        // with every call's future, connecting or not.
                        let connect = self.connect(target.uri(), target, at);
                        let conn = Box::pin(tokio::time::timeout_at(at, connect)).await;
                        (conn.map_err(|_| timed_out())??, true)
                    }
                };
            let exchanged = {
                let Conn {
                    io,
                    buf,
                    head,
                    timer,
                } = &mut conn;
                let exchange =
                    std::pin::pin!(h1::exchange(&mut **io, buf, head, req, host, max_body));
                timer.run(at, exchange).await
            };
            // On a timeout the connection is dropped, half-read, instead of pooled.
            let Some(exchanged) = exchanged else {
                return Err(timed_out());
            };
            match exchanged {
                Ok(done) => {
                    if done.reusable {
                        self.pool.put(target.is_https(), target.authority(), conn);
                    }
                    tracing::trace!(
                        status = done.response.status().as_u16(),
                        len = done.response.body().len(),
                        "upstream response"
                    );
                    return Ok(done.response);
                }
                Err(Failure::Write(_)) if !fresh => {}
                Err(Failure::ClosedBeforeResponse) if !fresh && retry_silent_close => {}
                Err(failure) => return Err(classify(failure, max_body, target)),
            }
        }
    }

    /// Opens a connection (TCP, then TLS for `https`).
    async fn connect(&self, uri: Uri, target: &Origin, at: Instant) -> Result<Conn, UpstreamError> {
        let io = self
            .connector
            .clone()
            .call(uri)
            .await
            .map_err(|e| error::from_connect(&*e, target))?;
        Ok(Conn {
            io: Box::new(TokioIo::new(io)),
            buf: BytesMut::with_capacity(8192),
            head: Vec::new(),
            timer: Timer::new(at),
        })
    }
}

/// An open upstream connection and what was read from it but not yet used.
pub(crate) struct Conn {
    /// Boxed: a TLS stream is over a kilobyte, and connections move in and out of the
    /// pool on every call.
    io: Box<TokioIo<MaybeHttpsStream<TokioIo<TcpStream>>>>,
    buf: BytesMut,
    /// The request head being written, reused from one exchange to the next.
    head: Vec<u8>,
    /// Times every exchange on this connection.
    timer: Timer,
}

impl Conn {
    /// Whether an idle connection can carry another exchange: the peer has neither
    /// closed it nor sent anything since. A read readiness check, so no system call
    /// unless the socket has news.
    pub(crate) fn is_usable(&mut self) -> bool {
        let mut scratch = [0u8; 1];
        let mut read = ReadBuf::new(&mut scratch);
        let mut cx = Context::from_waker(Waker::noop());
        self.buf.is_empty()
            && matches!(
                std::pin::Pin::new(&mut *self.io).poll_read(&mut cx, &mut read),
                Poll::Pending
            )
    }
}

fn classify(failure: Failure, max_body: usize, target: &Origin) -> UpstreamError {
    match failure {
        Failure::TooLarge => UpstreamError::TooLarge { limit: max_body },
        Failure::Write(e) => UpstreamError::Protocol {
            reason: format!("{target}: cannot send the request: {e}"),
        },
        Failure::ClosedBeforeResponse => UpstreamError::Protocol {
            reason: format!("{target}: connection closed before a response"),
        },
        Failure::Protocol(why) => UpstreamError::Protocol {
            reason: format!("{target}: {why}"),
        },
    }
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

impl Upstream for HttpUpstream {
    fn send(&self, req: UpstreamRequest, opts: &CallOptions) -> UpstreamFuture<'_> {
        let CallOptions { timeout, max_body } = *opts;
        self.pool.start_janitor();
        Box::pin(async move {
            // CONNECT would turn this into a tunnel, which is not an API call.
            if req.method == Method::CONNECT {
                return Err(UpstreamError::InvalidRequest {
                    reason: "CONNECT is not supported".to_owned(),
                });
            }
            let result = self.call(&req, max_body, &req.origin, timeout).await;
            if let Err(e) = &result {
                tracing::debug!(kind = e.kind(), error = %e, "upstream call failed");
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_without_a_process_default_crypto_provider() {
        let up = HttpUpstream::new().unwrap();
        assert_eq!(up.config().connect_timeout, Duration::from_secs(5));
    }
}
