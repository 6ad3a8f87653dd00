//! [`HttpUpstream`]: the real [`Upstream`] over hyper-util's pooled client.
//!
//! This is the gateway's hot path, so the success path avoids allocations
//! beyond what hyper itself needs (one boxed future for object safety, the
//! response body buffer only when it arrives in several chunks) and logs at
//! `trace` only.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderValue, Method, Request, Response, Version};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body as _, Incoming};
use hyper_rustls::{ConfigBuilderExt as _, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::error::{self, BuildError, Target, UpstreamError};
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

type Inner = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Pooled HTTP/1.1 client for `http` and `https` upstreams.
///
/// Cheap to clone (the pool is shared). Never follows redirects, sets `Host`
/// from the URI when absent, and always derives `Content-Length` from the
/// body it is given.
#[derive(Clone)]
pub struct HttpUpstream {
    client: Inner,
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

        let client = Client::builder(TokioExecutor::new())
            // Without a timer the idle timeout is never enforced.
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .build(connector);
        Ok(Self { client, config })
    }

    /// The connection settings this client was built with.
    pub fn config(&self) -> &HttpUpstreamConfig {
        &self.config
    }

    async fn call(
        &self,
        mut req: Request<Bytes>,
        max_body: usize,
        target: &Target,
    ) -> Result<Response<Bytes>, UpstreamError> {
        fix_framing_headers(&mut req);
        let resp = self
            .client
            .request(req.map(Full::new))
            .await
            .map_err(|e| error::from_client(&e, target))?;
        let (parts, body) = resp.into_parts();
        let body = read_capped(body, max_body, target).await?;
        tracing::trace!(
            status = parts.status.as_u16(),
            len = body.len(),
            "upstream response"
        );
        Ok(Response::from_parts(parts, body))
    }
}

impl Upstream for HttpUpstream {
    fn send(&self, req: Request<Bytes>, opts: &CallOptions) -> UpstreamFuture<'_> {
        let CallOptions { timeout, max_body } = *opts;
        Box::pin(async move {
            let target = validate(&req)?;
            let result =
                match tokio::time::timeout(timeout, self.call(req, max_body, &target)).await {
                    Ok(r) => r,
                    // Dropping the in-flight exchange closes that connection
                    // rather than returning a half-read one to the pool.
                    Err(_) => Err(UpstreamError::Timeout { after: timeout }),
                };
            if let Err(e) = &result {
                tracing::debug!(kind = e.kind(), error = %e, "upstream call failed");
            }
            result
        })
    }
}

/// Rejects what the pooled client cannot (or must not) send, before any I/O,
/// and captures the target for error messages.
fn validate(req: &Request<Bytes>) -> Result<Target, UpstreamError> {
    let invalid = |reason: &str| UpstreamError::InvalidRequest {
        reason: reason.to_owned(),
    };
    let uri = req.uri();
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        Some(_) => return Err(invalid("URI scheme must be http or https")),
        None => return Err(invalid("URI must be absolute (scheme and host)")),
    };
    let Some(authority) = uri.authority() else {
        return Err(invalid("URI must be absolute (scheme and host)"));
    };
    // Credentials in the URI would be silently dropped by hyper and could
    // leak through logs of the URI; they belong in a header.
    if authority.as_str().contains('@') {
        return Err(invalid(
            "URI must not contain userinfo; send credentials in a header",
        ));
    }
    if !matches!(req.version(), Version::HTTP_11 | Version::HTTP_10) {
        return Err(invalid("only HTTP/1.x requests are supported"));
    }
    // CONNECT would turn this into a tunnel, which is not an API call.
    if req.method() == Method::CONNECT {
        return Err(invalid("CONNECT is not supported"));
    }
    Ok(Target {
        https,
        authority: authority.clone(),
    })
}

/// Makes the framing headers match the `Bytes` body exactly.
///
/// hyper honours a caller-set `Content-Length`/`Transfer-Encoding` over the
/// body's own length, so a stale header would corrupt the exchange; dropping
/// them lets hyper write the exact length.
fn fix_framing_headers(req: &mut Request<Bytes>) {
    // hyper sends no length at all for an empty body; some servers answer a
    // bodiless POST/PUT/PATCH with 411 Length Required, so say 0 explicitly.
    let say_zero = req.body().is_empty()
        && !matches!(
            *req.method(),
            Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS | Method::TRACE
        );
    let headers = req.headers_mut();
    headers.remove(CONTENT_LENGTH);
    headers.remove(TRANSFER_ENCODING);
    if say_zero {
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
}

/// Accumulates body chunks without copying when the body arrives in one.
enum Acc {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

/// Reads the whole body, failing once more than `limit` bytes have arrived.
///
/// At most `limit` bytes plus the chunk in hand are ever held. A declared
/// `Content-Length` above the limit fails before reading anything.
async fn read_capped(
    mut body: Incoming,
    limit: usize,
    target: &Target,
) -> Result<Bytes, UpstreamError> {
    let too_large = UpstreamError::TooLarge { limit };
    let hint = usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX);
    if hint > limit {
        return Err(too_large);
    }
    let mut acc = Acc::Empty;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| error::from_body(&e, target))?;
        // Trailers carry nothing the caller asked for.
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if chunk.is_empty() {
            continue;
        }
        total = total.saturating_add(chunk.len());
        if total > limit {
            return Err(too_large);
        }
        acc = match acc {
            Acc::Empty => Acc::One(chunk),
            Acc::One(first) => {
                // Size for the declared length when known, else for what we
                // have; `total <= limit` so this never exceeds the cap.
                let mut buf = BytesMut::with_capacity(hint.max(total));
                buf.extend_from_slice(&first);
                buf.extend_from_slice(&chunk);
                Acc::Many(buf)
            }
            Acc::Many(mut buf) => {
                buf.extend_from_slice(&chunk);
                Acc::Many(buf)
            }
        };
    }
    Ok(match acc {
        Acc::Empty => Bytes::new(),
        Acc::One(b) => b,
        Acc::Many(b) => b.freeze(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, uri: &str, body: &'static [u8]) -> Request<Bytes> {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(Bytes::from_static(body))
            .unwrap()
    }

    #[test]
    fn validate_rejects_non_absolute_and_odd_uris() {
        for uri in ["/relative", "ftp://h/x", "http://user:pw@h/x"] {
            let err = validate(&req(Method::GET, uri, b"")).err().unwrap();
            assert_eq!(err.kind(), "upstream_invalid_request", "{uri}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
        let t = validate(&req(Method::GET, "https://h:8443/p?q=1", b"")).unwrap();
        assert_eq!(t.to_string(), "https://h:8443");
    }

    #[test]
    fn framing_headers_follow_the_body() {
        let mut r = req(Method::POST, "http://h/", b"abc");
        r.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from_static("99"));
        r.headers_mut()
            .insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        fix_framing_headers(&mut r);
        assert!(
            r.headers().get(CONTENT_LENGTH).is_none(),
            "hyper sets it from the body"
        );
        assert!(r.headers().get(TRANSFER_ENCODING).is_none());

        let mut r = req(Method::POST, "http://h/", b"");
        fix_framing_headers(&mut r);
        assert_eq!(r.headers()[CONTENT_LENGTH], "0");

        let mut r = req(Method::GET, "http://h/", b"");
        fix_framing_headers(&mut r);
        assert!(r.headers().get(CONTENT_LENGTH).is_none());
    }

    #[test]
    fn builds_without_a_process_default_crypto_provider() {
        let up = HttpUpstream::new().unwrap();
        assert_eq!(up.config().connect_timeout, Duration::from_secs(5));
    }
}
