//! Writing an answer's head: status line, the service's fields, `date`, framing.

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};

/// `content-type`, as a static for fields given by reference.
pub(super) static CONTENT_TYPE: HeaderName = header::CONTENT_TYPE;

/// How the body after a head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// No body follows (HEAD, 1xx, 204, 304).
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked: the service streams a body of unknown length.
    Chunked,
}

/// Appends the head of an answer to `out`. `exact` is the body's exact length if known;
/// `head_req`: the request was HEAD; `close`: the connection ends after this answer.
pub(super) fn write_head<'f>(
    out: &mut Vec<u8>,
    status: StatusCode,
    fields: impl IntoIterator<Item = (&'f HeaderName, &'f HeaderValue)>,
    exact: Option<u64>,
    head_req: bool,
    close: bool,
) -> Framing {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut has_date = false;
    let mut has_length = false;
    for (name, value) in fields {
        // Framing is ours to write; a HEAD answer keeps a length the service chose.
        if (name == header::CONTENT_LENGTH && !head_req)
            || name == header::TRANSFER_ENCODING
            || name == header::CONNECTION
        {
            continue;
        }
        has_date |= name == header::DATE;
        has_length |= name == header::CONTENT_LENGTH;
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !has_date {
        super::date::write_header(out);
    }
    let no_body_status = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let bodiless = head_req || no_body_status;
    let framing = match exact {
        // A HEAD answer says how long the GET body would be, when the service knows.
        Some(n @ 1..) if head_req && !has_length && !no_body_status => {
            content_length(out, n);
            Framing::None
        }
        _ if bodiless => Framing::None,
        Some(n) => {
            content_length(out, n);
            Framing::Length(n)
        }
        None => {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n");
            Framing::Chunked
        }
    };
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    framing
}

fn content_length(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(b"content-length: ");
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Whether the service asked to close the connection after its answer.
pub(super) fn wants_close(headers: &HeaderMap) -> bool {
    headers.get_all(header::CONNECTION).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"))
    })
}

/// Appends a chunk's size line.
pub(super) fn chunk_size(out: &mut Vec<u8>, len: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    let mut at = digits.len();
    let mut n = len;
    loop {
        at -= 1;
        digits[at] = HEX[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(b"\r\n");
}
