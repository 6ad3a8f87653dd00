//! [`HttpUpstream`]: the real [`Upstream`] over hyper's HTTP/1.1 client
//! connections and our own keep-alive [`Pool`].
//!
//! This is the gateway's hot path, so the success path avoids allocations
//! beyond what hyper itself needs (one boxed future for object safety, the
//! response body buffer only when it arrives in several chunks) and logs at
//! `trace` only.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::uri::Authority;
use http::{HeaderValue, Method, Request, Response, Uri, Version};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body as _, Incoming};
use hyper_rustls::{ConfigBuilderExt as _, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service as _;

use crate::error::{self, BuildError, Target, UpstreamError};
use crate::pool::{Pool, Sender};
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

    async fn call(
        &self,
        req: Request<Bytes>,
        max_body: usize,
        target: &Target,
    ) -> Result<Response<Bytes>, UpstreamError> {
        let (resp, sender) = self.exchange(req, target).await?;
        let (parts, body) = resp.into_parts();
        let body = read_capped(body, max_body, target).await?;
        // Only a connection whose exchange finished cleanly is reused.
        self.pool.put(target.https, &target.authority, sender);
        tracing::trace!(
            status = parts.status.as_u16(),
            len = body.len(),
            "upstream response"
        );
        Ok(Response::from_parts(parts, body))
    }

    /// Sends on an idle pooled connection, or on a new one when none is
    /// left; a pooled connection the peer closed before the request went out
    /// is dropped and the request tried on the next.
    async fn exchange(
        &self,
        req: Request<Bytes>,
        target: &Target,
    ) -> Result<(Response<Incoming>, Sender), UpstreamError> {
        let connect_uri = req.uri().clone();
        let mut req = to_origin_form(req, &target.authority)?;
        while let Some(mut sender) = self.pool.checkout(target.https, &target.authority) {
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(resp) => return Ok((resp, sender)),
                Err(mut e) => match e.take_message() {
                    Some(unsent) => req = unsent,
                    None => return Err(error::from_send(e.error(), target)),
                },
            }
        }
        let mut sender = self.connect(connect_uri, target).await?;
        match sender.send_request(req).await {
            Ok(resp) => Ok((resp, sender)),
            Err(e) => Err(error::from_send(&e, target)),
        }
    }

    /// Opens a connection (TCP, then TLS for `https`) and starts its task.
    async fn connect(&self, uri: Uri, target: &Target) -> Result<Sender, UpstreamError> {
        let io = self
            .connector
            .clone()
            .call(uri)
            .await
            .map_err(|e| error::from_connect(&*e, target))?;
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .handshake(io)
            .await
            .map_err(|e| error::from_connect(&e, target))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::trace!(error = %e, "upstream connection ended");
            }
        });
        Ok(sender)
    }
}

impl Upstream for HttpUpstream {
    fn send(&self, req: Request<Bytes>, opts: &CallOptions) -> UpstreamFuture<'_> {
        let CallOptions { timeout, max_body } = *opts;
        self.pool.start_janitor();
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

/// Rewrites an absolute-URI request into what goes on the wire: origin-form
/// target, `Host` from the authority unless the caller set one, framing
/// headers matching the body.
fn to_origin_form(
    req: Request<Bytes>,
    authority: &Authority,
) -> Result<Request<Full<Bytes>>, UpstreamError> {
    let (mut parts, body) = req.into_parts();
    parts.uri = match parts.uri.path_and_query() {
        Some(pq) if pq.as_str().starts_with('/') => Uri::from(pq.clone()),
        _ => Uri::from_static("/"),
    };
    if !parts.headers.contains_key(HOST) {
        let host = HeaderValue::from_str(authority.as_str()).map_err(|_| {
            UpstreamError::InvalidRequest {
                reason: "URI authority is not a valid Host header".to_owned(),
            }
        })?;
        parts.headers.insert(HOST, host);
    }
    let mut req = Request::from_parts(parts, body);
    fix_framing_headers(&mut req);
    Ok(req.map(Full::new))
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
