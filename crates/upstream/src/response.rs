//! An upstream's answer as read: status, header fields as received, whole body.
//!
//! Why not `http::Response`: its `HeaderMap` hashes every name, validates every value and
//! allocates twice per answer (~1.5k instructions per proxied GET, 7% of it), while the
//! plan reads two or three fields of it (`Content-Type` and an allow-list). Here the
//! fields stay where the HTTP/1.1 reader found them, in the head's bytes: names as sent,
//! found by a case-insensitive comparison; a value becomes a `HeaderValue` (sharing those
//! bytes) only when asked for. [`UpstreamResponse::into_http`] gives the general form.

use std::fmt;
use std::ops::Range;

use bytes::{BufMut as _, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, Version};

use crate::names::eq_folded;

/// A whole upstream response.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    status: StatusCode,
    version: Version,
    fields: Fields,
    body: Bytes,
}

impl UpstreamResponse {
    /// A response with no header fields (HTTP/1.1).
    pub fn new(status: StatusCode, body: Bytes) -> Self {
        Self {
            status,
            version: Version::HTTP_11,
            fields: Fields::default(),
            body,
        }
    }

    /// A response with the given fields.
    pub fn with_fields(mut self, fields: Fields) -> Self {
        self.fields = fields;
        self
    }

    pub(crate) fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// The same response as an `http::Response` (fake upstreams in tests, generic callers).
    pub fn from_http(resp: Response<Bytes>) -> Self {
        let (parts, body) = resp.into_parts();
        Self {
            status: parts.status,
            version: parts.version,
            fields: Fields::from_header_map(&parts.headers),
            body,
        }
    }

    /// This response as an `http::Response`: every field parsed into a `HeaderMap`.
    pub fn into_http(self) -> Response<Bytes> {
        let mut resp = Response::new(self.body);
        *resp.status_mut() = self.status;
        *resp.version_mut() = self.version;
        *resp.headers_mut() = self.fields.to_header_map();
        resp
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version of the status line.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header fields, as received.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body, taken.
    pub fn into_body(self) -> Bytes {
        self.body
    }
}

/// Header fields in the order received: each name and value a span of one buffer (the
/// response head). Names keep their case as sent; lookups ignore it.
#[derive(Clone, Default)]
pub struct Fields {
    bytes: Bytes,
    spans: Vec<(Range<usize>, Range<usize>)>,
}

/// One header field of [`Fields`].
#[derive(Clone, Copy)]
pub struct Field<'a> {
    bytes: &'a Bytes,
    name: &'a Range<usize>,
    value: &'a Range<usize>,
}

impl<'a> Field<'a> {
    /// The name as sent (any case).
    pub fn name(&self) -> &'a [u8] {
        self.bytes.get(self.name.clone()).unwrap_or_default()
    }

    /// The value's bytes.
    pub fn value(&self) -> &'a [u8] {
        self.bytes.get(self.value.clone()).unwrap_or_default()
    }

    /// The name as a `HeaderName` (lowercased); `None` when it is not a valid one.
    pub fn header_name(&self) -> Option<HeaderName> {
        HeaderName::from_bytes(self.name()).ok()
    }

    /// The value as a `HeaderValue` sharing the response's bytes; `None` when it is not
    /// a valid one.
    pub fn header_value(&self) -> Option<HeaderValue> {
        self.bytes.get(self.value.clone())?;
        HeaderValue::from_maybe_shared(self.bytes.slice(self.value.clone())).ok()
    }
}

impl Fields {
    /// Fields found in `bytes`: each entry a name's and a value's `start..end` in it.
    pub(crate) fn from_spans(bytes: Bytes, spans: Vec<(Range<usize>, Range<usize>)>) -> Self {
        Self { bytes, spans }
    }

    /// Fields from (name, value) pairs, kept as given (names in any case).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Self {
        let mut buf = BytesMut::new();
        let mut spans = Vec::new();
        for (k, v) in pairs {
            let name = buf.len()..buf.len() + k.len();
            buf.put_slice(k);
            let value = buf.len()..buf.len() + v.len();
            buf.put_slice(v);
            spans.push((name, value));
        }
        Self {
            bytes: buf.freeze(),
            spans,
        }
    }

    /// The fields of a `HeaderMap`, in its iteration order.
    pub fn from_header_map(headers: &HeaderMap) -> Self {
        Self::from_pairs(
            headers
                .iter()
                .map(|(k, v)| (k.as_str().as_bytes(), v.as_bytes())),
        )
    }

    /// Every field as a `HeaderMap` entry (fields that are not valid ones left out).
    pub fn to_header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::with_capacity(self.len());
        for f in self.iter() {
            if let (Some(name), Some(value)) = (f.header_name(), f.header_value()) {
                map.append(name, value);
            }
        }
        map
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The fields in the order received.
    pub fn iter(&self) -> impl Iterator<Item = Field<'_>> {
        self.spans.iter().map(|(name, value)| Field {
            bytes: &self.bytes,
            name,
            value,
        })
    }

    /// The first field named `name` (lowercase; matched in any case).
    pub fn get(&self, name: &str) -> Option<Field<'_>> {
        self.iter().find(|f| eq_folded(name.as_bytes(), f.name()))
    }
}

/// Names only: values can be credentials (`Set-Cookie`).
impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|f| String::from_utf8_lossy(f.name())))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sample() -> Fields {
        let head = Bytes::from_static(b"Content-Type: application/json\r\nETag: \"x\"\r\netag: y");
        Fields::from_spans(
            head,
            vec![(0..12, 14..30), (32..36, 38..41), (43..47, 49..50)],
        )
    }

    #[test]
    fn from_pairs_is_the_same_as_from_a_head() {
        let pairs: [(&[u8], &[u8]); 3] = [
            (b"Content-Type", b"application/json"),
            (b"ETag", b"\"x\""),
            (b"etag", b"y"),
        ];
        let ours = Fields::from_pairs(pairs);
        let names = |f: &Fields| {
            f.iter()
                .map(|f| (f.name().to_vec(), f.value().to_vec()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&ours), names(&sample()));
    }

    #[test]
    fn looks_up_names_in_any_case_first_match_wins() {
        let f = sample();
        assert_eq!(f.get("content-type").unwrap().value(), b"application/json");
        assert_eq!(f.get("etag").unwrap().value(), b"\"x\"");
        assert_eq!(f.get("etag").unwrap().name(), b"ETag");
        assert!(f.get("content-length").is_none());
        assert!(f.get("content-typ").is_none());
    }

    #[test]
    fn converts_to_a_header_map_keeping_repeated_fields() {
        let map = sample().to_header_map();
        assert_eq!(map.len(), 3);
        let etags: Vec<_> = map.get_all("etag").iter().collect();
        assert_eq!(etags, ["\"x\"", "y"]);
        assert_eq!(map["content-type"], "application/json");
    }

    #[test]
    fn http_round_trip() {
        let mut resp = Response::new(Bytes::from_static(b"hi"));
        *resp.status_mut() = StatusCode::CREATED;
        resp.headers_mut()
            .insert("location", "/a/1".parse().unwrap());
        resp.headers_mut().append("link", "<a>".parse().unwrap());
        resp.headers_mut().append("link", "<b>".parse().unwrap());
        let ours = UpstreamResponse::from_http(resp);
        assert_eq!(ours.status(), 201);
        assert_eq!(ours.fields().len(), 3);
        assert_eq!(ours.fields().get("location").unwrap().value(), b"/a/1");
        let back = ours.into_http();
        assert_eq!(back.status(), 201);
        assert_eq!(back.headers().get_all("link").iter().count(), 2);
        assert_eq!(back.body().as_ref(), b"hi");
    }

    #[test]
    fn out_of_range_spans_read_as_empty_not_a_panic() {
        let f = Fields::from_spans(Bytes::from_static(b"a: b"), vec![(0..1, 3..99)]);
        let field = f.get("a").unwrap();
        assert_eq!(field.value(), b"");
        assert!(field.header_value().is_none());
        assert!(f.to_header_map().is_empty());
    }

    #[test]
    fn debug_shows_names_not_values() {
        let shown = format!("{:?}", sample());
        assert!(shown.contains("Content-Type"), "{shown}");
        assert!(!shown.contains("application/json"), "{shown}");
    }
}
