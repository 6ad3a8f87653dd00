//! Header fields as an HTTP/1.1 reader found them: names and values are spans of the
//! message head's bytes, kept as sent. Used for upstream answers and, in the gateway,
//! for requests read by its own reader.
//!
//! Why not `http::HeaderMap`: it hashes every name, validates every value and allocates
//! twice per message, for a handful of lookups. Here a lookup is a scan with a
//! case-insensitive comparison (lengths first), and a value becomes a `HeaderValue`
//! (sharing the head's bytes) only when asked for. httparse checked the names (tokens)
//! and values (no control characters but tab) already: the rules `http` checks again.

use std::fmt;
use std::ops::Range;

use bytes::{BufMut as _, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::names::eq_folded;

/// Header fields in the order received: each name and value a span of one buffer (the
/// message head). Names keep their case as sent; lookups ignore it.
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

    /// The value as text, when it is visible ASCII (and tabs) only, as
    /// `HeaderValue::to_str` has it.
    pub fn to_str(&self) -> Option<&'a str> {
        let v = self.value();
        if v.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b)) {
            std::str::from_utf8(v).ok()
        } else {
            None
        }
    }

    /// The name as a `HeaderName` (lowercased); `None` when it is not a valid one.
    pub fn header_name(&self) -> Option<HeaderName> {
        HeaderName::from_bytes(self.name()).ok()
    }

    /// The value as a `HeaderValue` sharing the message's bytes; `None` when it is not
    /// a valid one.
    pub fn header_value(&self) -> Option<HeaderValue> {
        self.bytes.get(self.value.clone())?;
        HeaderValue::from_maybe_shared(self.bytes.slice(self.value.clone())).ok()
    }
}

impl Fields {
    /// Fields found in `bytes` by a reader that checked them: each entry a name's and a
    /// value's `start..end` in it (a span outside `bytes` reads as empty).
    pub fn from_spans(bytes: Bytes, spans: Vec<(Range<usize>, Range<usize>)>) -> Self {
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

    /// The first field named `name` (lowercase, as `HeaderName`s are; matched in any
    /// case).
    pub fn get(&self, name: impl AsRef<str>) -> Option<Field<'_>> {
        let lower = name.as_ref().as_bytes();
        // Lengths first, from the spans: most fields are ruled out without their bytes.
        self.iter()
            .find(|f| f.name.len() == lower.len() && eq_folded(lower, f.name()))
    }

    /// Every field named `name` (lowercase; matched in any case), in order.
    pub fn get_all<'s, 'n>(
        &'s self,
        name: &'n str,
    ) -> impl Iterator<Item = Field<'s>> + use<'s, 'n> {
        self.iter()
            .filter(move |f| f.name.len() == name.len() && eq_folded(name.as_bytes(), f.name()))
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
    fn get_all_lists_every_field_of_a_name_in_order() {
        let f = sample();
        let etags: Vec<_> = f.get_all("etag").map(|f| f.value()).collect();
        assert_eq!(etags, [&b"\"x\""[..], b"y"]);
        assert_eq!(f.get_all("link").count(), 0);
    }

    #[test]
    fn to_str_takes_what_header_value_to_str_takes() {
        for b in 0..=255u8 {
            let raw = [b'a', b, b'z'];
            let pairs: [(&[u8], &[u8]); 1] = [(b"x", &raw)];
            let ours = Fields::from_pairs(pairs)
                .get("x")
                .unwrap()
                .to_str()
                .is_some();
            let http = HeaderValue::from_bytes(&raw).is_ok_and(|v| v.to_str().is_ok());
            assert_eq!(ours, http, "byte {b:#x}");
        }
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
