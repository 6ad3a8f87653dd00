//! Requests read whole by the gateway's own HTTP/1.1 reader, handed to the adapters
//! without an `http::Request` around them.
//!
//! Building an `http::Uri` checks the target byte by byte through `http`'s tables
//! (~650 instructions for a 60-byte target, 3% of a proxied GET) only for the adapters
//! to ask it for the path and the query. The reader has parsed the request line
//! already; [`OriginForm`] is that target with the one check the adapters rely on.

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use http_body_util::Full;
use naftiko_upstream::Fields;

/// An origin-form request target (`/path?query`): `/` followed by visible ASCII other
/// than `#` (a fragment), `"`, `<`, `>` and `` ` ``, a subset of what `http::Uri`
/// accepts (it refuses `<`, `>` and `` ` `` in a path, `"`, `<` and `>` in a query).
/// Anything else is refused by [`OriginForm::new`], and the reader leaves the request
/// to hyper, whose parsing decides.
#[derive(Debug, Clone)]
pub struct OriginForm {
    text: Bytes,
    /// Where `?` is, if there is one.
    query_at: Option<usize>,
}

impl OriginForm {
    /// The target `text`, if it is origin form in the bytes described above.
    pub fn new(text: Bytes) -> Option<Self> {
        // A fold with no early exit: the compiler checks sixteen bytes at a time.
        let visible = text.iter().fold(true, |ok, &b| {
            ok & (b.wrapping_sub(0x21) < 0x7f - 0x21)
                & (b != b'#')
                & (b != b'"')
                & (b != b'<')
                & (b != b'>')
                & (b != b'`')
        });
        if !visible || text.first() != Some(&b'/') {
            return None;
        }
        // `contains` on bytes is memchr, a word at a time; most targets have no query.
        let query_at = if text.contains(&b'?') {
            text.iter().position(|&b| b == b'?')
        } else {
            None
        };
        Some(Self { text, query_at })
    }

    /// The path: everything before `?`.
    pub fn path(&self) -> &str {
        let end = self.query_at.unwrap_or(self.text.len());
        // Checked ASCII in `new`; the fallback is never taken.
        self.text
            .get(..end)
            .and_then(|p| std::str::from_utf8(p).ok())
            .unwrap_or("/")
    }

    /// The query: everything after the first `?`, if there is one.
    pub fn query(&self) -> Option<&str> {
        let at = self.query_at?;
        self.text
            .get(at + 1..)
            .and_then(|q| std::str::from_utf8(q).ok())
    }

    /// The target as an `http::Uri` (for callers that need one; the check is `http`'s).
    pub fn to_uri(&self) -> Option<Uri> {
        Uri::from_maybe_shared(self.text.clone()).ok()
    }
}

/// A request the gateway's own reader took whole: method, target, fields and body.
#[derive(Debug)]
pub struct PlainRequest {
    /// The method.
    pub method: Method,
    /// The request target.
    pub target: OriginForm,
    /// The header fields, as sent.
    pub headers: Fields,
    /// The whole body (empty when there is none).
    pub body: Bytes,
}

impl PlainRequest {
    /// The same request as an `http::Request` (HTTP/1.1); `None` if `http` refuses the
    /// target.
    pub fn into_http(self) -> Option<http::Request<Full<Bytes>>> {
        let uri = self.target.to_uri()?;
        let mut req = http::Request::new(Full::new(self.body));
        *req.method_mut() = self.method;
        *req.uri_mut() = uri;
        *req.headers_mut() = self.headers.to_header_map();
        Some(req)
    }
}

/// A whole answer: status, fields and body, written out by the connection as they are.
///
/// An `http::Response` would put the content type into a `HeaderMap` (two allocations
/// and a hash) and the body behind a boxed `Body` polled frame by frame, for an answer
/// that is one buffer; with the connection writing the fields back out of the map, that
/// cost ~1.4k instructions per proxied GET.
#[derive(Debug, Clone)]
pub struct WholeAnswer {
    /// The status.
    pub status: StatusCode,
    /// The `Content-Type`, if any.
    pub content_type: Option<HeaderValue>,
    /// Other fields (usually none; an empty map does not allocate).
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl WholeAnswer {
    /// The same answer as an `http::Response`.
    pub fn into_http<B: From<Bytes>>(self) -> http::Response<B> {
        let mut resp = http::Response::new(B::from(self.body));
        *resp.status_mut() = self.status;
        let headers = resp.headers_mut();
        if let Some(ct) = self.content_type {
            headers.insert(CONTENT_TYPE, ct);
        }
        headers.extend(self.headers);
        resp
    }
}

/// What a plain request is answered with: a [`WholeAnswer`], or a response of the
/// adapter's own (an event stream, an error built elsewhere).
#[derive(Debug)]
pub enum PlainAnswer<R> {
    /// Written as it is.
    Whole(WholeAnswer),
    /// Anything else.
    Response(R),
}

impl<B: From<Bytes>> PlainAnswer<http::Response<B>> {
    /// This answer as an `http::Response`.
    pub fn into_http(self) -> http::Response<B> {
        match self {
            Self::Whole(w) => w.into_http(),
            Self::Response(r) => r,
        }
    }

    /// Its fields other than the content type (to add to).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        match self {
            Self::Whole(w) => &mut w.headers,
            Self::Response(r) => r.headers_mut(),
        }
    }
}

/// An adapter that serves [`PlainRequest`]s besides `http::Request`s.
pub trait PlainService {
    /// The answer's future.
    type Future;
    /// Serves one plain request.
    fn call_plain(&self, req: PlainRequest) -> Self::Future;
}

/// Where an adapter reads a request's path and query from.
#[derive(Debug, Clone)]
pub enum Target {
    /// As hyper parsed it.
    Uri(Uri),
    /// As the gateway's reader checked it.
    Origin(OriginForm),
}

impl Target {
    /// The path.
    pub fn path(&self) -> &str {
        match self {
            Self::Uri(u) => u.path(),
            Self::Origin(o) => o.path(),
        }
    }

    /// The query, if any.
    pub fn query(&self) -> Option<&str> {
        match self {
            Self::Uri(u) => u.query(),
            Self::Origin(o) => o.query(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn origin(s: &'static str) -> Option<OriginForm> {
        OriginForm::new(Bytes::from_static(s.as_bytes()))
    }

    #[test]
    fn path_and_query_split_as_http_splits_them() {
        for t in [
            "/",
            "/mcp",
            "/v1/admin/identities/9f425a8d-7efc-4768-8f23-7647a74fdf13",
            "/a?",
            "/a?b=1&c=%20d",
            "/a?b?c",
            "/a%2Fb?x=/y",
            "/?q",
            "/{x}|^\\[]",
            "/?{x}|^\\[]",
        ] {
            let o = origin(t).unwrap();
            let uri: Uri = t.parse().unwrap();
            assert_eq!(o.path(), uri.path(), "{t}");
            assert_eq!(o.query(), uri.query(), "{t}");
            assert_eq!(o.to_uri().unwrap(), uri, "{t}");
            let via = Target::Origin(o);
            let direct = Target::Uri(uri);
            assert_eq!((via.path(), via.query()), (direct.path(), direct.query()));
        }
    }

    #[test]
    fn anything_but_visible_ascii_origin_form_is_refused() {
        for t in [
            "",
            "*",
            "a/b",
            "http://h/",
            "/a b",
            "/a#f",
            "/a\tb",
            "/\u{7f}",
            "/é",
            "/a\0",
            "/<",
            "/?>",
            "/`",
            "/\"",
        ] {
            assert!(origin(t).is_none(), "{t:?}");
        }
        for b in 0..=255u8 {
            let text = Bytes::from(vec![b'/', b'a', b, b'z']);
            let ok = (0x21..=0x7e).contains(&b) && !b"#\"<>`".contains(&b);
            assert_eq!(OriginForm::new(text).is_some(), ok, "byte {b:#x}");
        }
        // Whatever is taken here, `http` takes too, in a path and in a query: a target
        // hyper would refuse is never served by this way around it.
        for b in 0..=255u8 {
            for text in [vec![b'/', b], vec![b'/', b'?', b]] {
                if OriginForm::new(Bytes::from(text.clone())).is_some() {
                    assert!(
                        http::uri::PathAndQuery::try_from(&text[..]).is_ok(),
                        "{text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_plain_request_converts_to_the_same_http_request() {
        let pairs: [(&[u8], &[u8]); 2] = [(b"X-A", b"1"), (b"x-a", b"2")];
        let headers = Fields::from_pairs(pairs);
        let req = PlainRequest {
            method: Method::POST,
            target: origin("/p?q=1").unwrap(),
            headers,
            body: Bytes::from_static(b"{}"),
        };
        let http = req.into_http().unwrap();
        assert_eq!(http.method(), Method::POST);
        assert_eq!(http.uri(), "/p?q=1");
        let a: Vec<_> = http.headers().get_all("x-a").iter().collect();
        assert_eq!(a, ["1", "2"]);
    }

    #[test]
    fn a_whole_answer_converts_to_the_same_response() {
        let mut answer = PlainAnswer::<http::Response<Full<Bytes>>>::Whole(WholeAnswer {
            status: StatusCode::CREATED,
            content_type: Some(HeaderValue::from_static("application/json")),
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"{}"),
        });
        answer
            .headers_mut()
            .insert("location", HeaderValue::from_static("/a/1"));
        let resp = answer.into_http();
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert_eq!(resp.headers()["location"], "/a/1");
        assert_eq!(resp.headers().len(), 2);
    }
}
