//! What a call sends: [`UpstreamRequest`], addressed to an [`Origin`] with the request
//! target kept as the text of the request line.

use std::fmt;

use bytes::Bytes;
use http::uri::{Authority, Parts, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use crate::error::UpstreamError;

/// A consumed API's scheme and authority: where calls connect, and the key of their
/// pooled connections. Checked once, when the base URI is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    https: bool,
    authority: Authority,
}

impl Origin {
    /// The origin of an absolute `http`/`https` URI (its path and query are not looked
    /// at); an error naming what is wrong otherwise. Credentials in the authority are
    /// refused: they would be dropped silently and could leak through logs of the URI.
    pub fn of(uri: &Uri) -> Result<Self, UpstreamError> {
        let invalid = |reason: &str| UpstreamError::InvalidRequest {
            reason: reason.to_owned(),
        };
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            Some(_) => return Err(invalid("URI scheme must be http or https")),
            None => return Err(invalid("URI must be absolute (scheme and host)")),
        };
        let Some(authority) = uri.authority() else {
            return Err(invalid("URI must be absolute (scheme and host)"));
        };
        if authority.as_str().contains('@') {
            return Err(invalid(
                "URI must not contain userinfo; send credentials in a header",
            ));
        }
        Ok(Self {
            https,
            authority: authority.clone(),
        })
    }

    /// Whether calls go over TLS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Host and port as written in the base URI (the `Host` header of every call).
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// `scheme://authority/`, what a connector is handed.
    pub(crate) fn uri(&self) -> Uri {
        let mut parts = Parts::default();
        parts.scheme = Some(if self.https {
            Scheme::HTTPS
        } else {
            Scheme::HTTP
        });
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(PathAndQuery::from_static("/"));
        // Scheme, authority and path are all set: `from_parts` cannot refuse them.
        Uri::from_parts(parts).unwrap_or_default()
    }
}

/// Names the origin in error messages: scheme, host and port (spelled out even when it
/// is the default), never userinfo.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, default_port) = if self.https {
            ("https", 443)
        } else {
            ("http", 80)
        };
        let port = self.authority.port_u16().unwrap_or(default_port);
        write!(f, "{scheme}://{}:{port}", self.authority.host())
    }
}

/// One HTTP request to a consumed API.
///
/// The target stays text: the plan builds it from a base URI checked when the
/// capability was compiled and from values it percent-encodes itself, so parsing it
/// into an `http::Uri` only to write it out again checked every byte for nothing
/// (~600 instructions per call).
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    /// The method (`CONNECT` is refused when sent).
    pub method: Method,
    /// Where to connect.
    pub origin: Origin,
    /// The request target in origin form: path and query, starting with `/`.
    pub target: String,
    /// Header fields, sent in this order; the framing ones (`Content-Length`,
    /// `Transfer-Encoding`) are replaced by what the body needs, `Host` defaults to the
    /// origin's authority. A list, not a `HeaderMap`: the fields are only written out
    /// (a map allocated twice and hashed every name, per request).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body, sent with a `Content-Length`.
    pub body: Bytes,
}

impl UpstreamRequest {
    /// A request to the absolute URI of `req` (its version is not looked at: calls are
    /// HTTP/1.1).
    pub fn from_http(req: http::Request<Bytes>) -> Result<Self, UpstreamError> {
        let (parts, body) = req.into_parts();
        let origin = Origin::of(&parts.uri)?;
        let target = match parts.uri.path_and_query().map(PathAndQuery::as_str) {
            Some(pq) if pq.starts_with('/') => pq.to_owned(),
            Some(pq) => format!("/{pq}"),
            None => "/".to_owned(),
        };
        Ok(Self {
            method: parts.method,
            origin,
            target,
            headers: fields_of(parts.headers),
            body,
        })
    }

    /// The absolute URL, for fakes and messages (without the default port).
    pub fn url(&self) -> String {
        let scheme = if self.origin.https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.origin.authority, self.target)
    }
}

/// A `HeaderMap`'s fields in its order (a repeated name's values together).
fn fields_of(headers: HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    let mut fields = Vec::with_capacity(headers.len());
    let mut last: Option<HeaderName> = None;
    for (name, value) in headers {
        // `None` repeats the previous name.
        if let Some(name) = name {
            last = Some(name);
        }
        if let Some(name) = &last {
            fields.push((name.clone(), value));
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_absolute_http_without_userinfo() {
        for uri in ["/relative", "ftp://h/x", "http://user:pw@h/x"] {
            let err = Origin::of(&uri.parse().unwrap()).err().unwrap();
            assert_eq!(err.kind(), "upstream_invalid_request", "{uri}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
        let o = Origin::of(&"https://h:8443/p?q=1".parse().unwrap()).unwrap();
        assert_eq!(o.to_string(), "https://h:8443");
        assert_eq!(o.uri().to_string(), "https://h:8443/");
        let o = Origin::of(&"http://h".parse().unwrap()).unwrap();
        assert_eq!(o.to_string(), "http://h:80");
    }

    #[test]
    fn names_scheme_host_port_only() {
        let o = Origin {
            https: true,
            authority: Authority::from_static("user:pw@api.example.com"),
        };
        assert_eq!(o.to_string(), "https://api.example.com:443");
        let o = Origin {
            https: false,
            authority: Authority::from_static("[::1]:8080"),
        };
        assert_eq!(o.to_string(), "http://[::1]:8080");
    }

    #[test]
    fn from_http_keeps_the_target_as_written() {
        let req = http::Request::post("http://h:81/a/b%20c?x=1&y")
            .header("x-k", "v")
            .header("x-two", "1")
            .header("x-k", "w")
            .body(Bytes::from_static(b"{}"))
            .unwrap();
        let r = UpstreamRequest::from_http(req).unwrap();
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.target, "/a/b%20c?x=1&y");
        assert_eq!(r.url(), "http://h:81/a/b%20c?x=1&y");
        let fields: Vec<_> = r
            .headers
            .iter()
            .map(|(k, v)| format!("{k}={}", v.to_str().unwrap()))
            .collect();
        assert_eq!(
            fields,
            ["x-k=v", "x-k=w", "x-two=1"],
            "a name's values together"
        );
        let bare = http::Request::get("http://h").body(Bytes::new()).unwrap();
        assert_eq!(UpstreamRequest::from_http(bare).unwrap().target, "/");
    }
}
