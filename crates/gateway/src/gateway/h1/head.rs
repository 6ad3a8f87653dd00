//! Reading a request head: the plain case (HTTP/1.1, origin-form target, no body or a
//! small `content-length` one, no upgrade or `expect`) is ours; anything else is left
//! to hyper, which then owns the connection (see the module docs of `h1`).

use std::mem::MaybeUninit;

use bytes::Bytes;
use http::Method;
use naftiko_plan::{Fields, OriginForm, PlainRequest};

/// Most header fields a plain request may have.
const MAX_HEADERS: usize = 64;
/// Longest plain request head; a longer one goes to hyper and its limits.
pub(super) const MAX_HEAD: usize = 16 * 1024;
/// Largest body read inline; bigger ones are streamed by hyper so that the service's
/// own limit (a 413) applies as before.
pub(super) const MAX_INLINE_BODY: usize = 64 * 1024;

/// What the buffered bytes start with.
pub(super) enum Scan {
    /// Not a whole head yet.
    Partial,
    /// A plain request; its fields are in the `Spans` given to [`scan`].
    Plain(Plain),
    /// Anything else (including errors, which hyper answers).
    Other,
}

/// Where each header field of a plain request is in its head: name and value as
/// (offset, length); kept by the connection so that scanning does not allocate.
pub(super) type Spans = Vec<(u16, u16, u16, u16)>;

/// Where a plain request's pieces are in the buffer (offsets into its head).
pub(super) struct Plain {
    pub(super) head_len: usize,
    pub(super) body_len: usize,
    /// The client asked to close after this answer.
    pub(super) close: bool,
    method: Method,
    target: (u16, u16),
}

/// Looks at the start of `buf` for a request head.
pub(super) fn scan(buf: &[u8], fields: &mut Spans) -> Scan {
    let mut parsed = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let parse = httparse::ParserConfig::default().parse_request_with_uninit_headers(
        &mut req,
        buf,
        &mut parsed,
    );
    let head_len = match parse {
        Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD => n,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return Scan::Partial,
        _ => return Scan::Other,
    };
    let (Some(method), Some(path), Some(1)) = (req.method, req.path, req.version) else {
        return Scan::Other;
    };
    if !path.starts_with('/') {
        return Scan::Other;
    }
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return Scan::Other;
    };
    // httparse's slices point into `buf`; one that did not (an empty value may be a
    // static) is placed at 0 when empty and makes the request not plain otherwise.
    let base = buf.as_ptr() as usize;
    let span = |s: &[u8]| -> Option<(u16, u16)> {
        let at = (s.as_ptr() as usize).wrapping_sub(base);
        let at = if s.is_empty() { 0 } else { at };
        let end = at.checked_add(s.len()).filter(|&e| e <= head_len)?;
        Some((u16::try_from(at).ok()?, u16::try_from(end - at).ok()?))
    };
    let mut body_len = None;
    let mut close = false;
    fields.clear();
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            match (body_len, content_length(h.value)) {
                (None, Some(n)) if n <= MAX_INLINE_BODY => body_len = Some(n),
                _ => return Scan::Other,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            || name.eq_ignore_ascii_case(b"expect")
            || name.eq_ignore_ascii_case(b"upgrade")
        {
            return Scan::Other;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"upgrade") {
                    return Scan::Other;
                }
                close |= token.eq_ignore_ascii_case(b"close");
            }
        }
        let (Some((n, nl)), Some((v, vl))) = (span(name), span(h.value)) else {
            return Scan::Other;
        };
        fields.push((n, nl, v, vl));
    }
    let Some(target) = span(path.as_bytes()) else {
        return Scan::Other;
    };
    Scan::Plain(Plain {
        head_len,
        body_len: body_len.unwrap_or(0),
        close,
        method,
        target,
    })
}

/// A `content-length` value: digits only (no sign, no list), as RFC 9112 §6.3 wants.
fn content_length(value: &[u8]) -> Option<usize> {
    if value.is_empty() || value.len() > 15 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')))
}

impl Plain {
    /// The request, its target and fields sharing `head`'s bytes (`spans` are where
    /// [`scan`] found the fields); `None` if the target is not one [`OriginForm`] takes
    /// (hyper then answers it). httparse checked the names and values as `http` would.
    pub(super) fn request(&self, spans: &Spans, head: &Bytes, body: Bytes) -> Option<PlainRequest> {
        let range = |at: u16, len: u16| usize::from(at)..usize::from(at) + usize::from(len);
        // Spans were checked against the head when scanned; `get` keeps a wrong one from
        // panicking all the same (and `Fields` reads one as empty).
        let target = head.get(range(self.target.0, self.target.1))?;
        let target = OriginForm::new(head.slice_ref(target))?;
        let spans = spans
            .iter()
            .map(|&(n, nl, v, vl)| (range(n, nl), range(v, vl)))
            .collect();
        Some(PlainRequest {
            method: self.method.clone(),
            target,
            headers: Fields::from_spans(head.clone(), spans),
            body,
        })
    }
}

#[cfg(test)]
mod tests;
