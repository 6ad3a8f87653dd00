//! One HTTP/1.1 exchange on an open connection, written for a proxy's needs: the request
//! goes out in one write, the response head is parsed with `httparse`, and the body is
//! read whole under a size cap, framed as RFC 9112 §6.3 says.
//!
//! Why not hyper's client connection: it runs as a task of its own, so every exchange
//! crossed tasks twice (the request handed over a channel, the body handed back over
//! another) and paid hyper's general-purpose dispatch; measured, that was a quarter of the
//! gateway's instructions per proxied GET. A proxy that reads whole bodies needs far less.
//! Anything ambiguous (both `Content-Length` and `Transfer-Encoding`, differing lengths,
//! bytes after the body) is refused or ends the connection rather than guessed at.

use std::mem::MaybeUninit;

use bytes::{Buf as _, Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{Method, StatusCode, Version};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::fields::Fields;
use crate::request::UpstreamRequest;
use crate::response::UpstreamResponse;
use framing::{Delimiting, Framing};

mod batch;
mod framing;

/// Most response header fields accepted.
const MAX_HEADERS: usize = 100;
/// Request bodies up to this size are sent in the same write as the head.
const INLINE_BODY: usize = 64 * 1024;
/// A connection's request buffer keeps at most this much memory between exchanges.
const KEPT_HEAD_BUFFER: usize = 8 * 1024;
/// Largest response head accepted, in bytes.
const MAX_HEAD: usize = 64 * 1024;

/// Why an exchange failed, before classification into an `UpstreamError`.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Writing the request failed: nothing was processed, another connection may take it.
    Write(std::io::Error),
    /// The connection closed before any byte of a response arrived.
    ClosedBeforeResponse,
    /// The body is larger than allowed.
    TooLarge,
    /// A broken or ambiguous response, or an I/O error while reading it.
    Protocol(String),
}

/// A complete response and whether the connection may carry another exchange.
pub(crate) struct Exchanged {
    pub(crate) response: UpstreamResponse,
    pub(crate) reusable: bool,
}

/// Writes `req` and reads the whole response.
///
/// `buf` is the connection's read buffer: empty between exchanges on a healthy connection.
pub(crate) async fn exchange<Io: AsyncRead + AsyncWrite + Unpin>(
    io: &mut Io,
    buf: &mut BytesMut,
    head: &mut Vec<u8>,
    req: &UpstreamRequest,
    host: &str,
    max_body: usize,
) -> Result<Exchanged, Failure> {
    encode_request(head, req, &req.target, host);
    // Written once the other ready tasks have run: see `batch`.
    batch::AfterReadyTasks::new().await;
    let body = &req.body;
    // One write (one system call, one packet) unless the body is big enough that
    // copying it costs more than a second write.
    if body.len() <= INLINE_BODY {
        head.extend_from_slice(body);
        io.write_all(head).await.map_err(Failure::Write)?;
    } else {
        io.write_all(head).await.map_err(Failure::Write)?;
        io.write_all(body).await.map_err(Failure::Write)?;
    }
    io.flush().await.map_err(Failure::Write)?;
    // A big inline body does not keep its memory on an idle pooled connection.
    if head.capacity() > KEPT_HEAD_BUFFER {
        *head = Vec::new();
    }

    let (status, version, fields, delimiting) = loop {
        let parsed = read_head(io, buf).await?;
        // We never ask to switch protocols; anything after a 101 is not HTTP/1.1.
        if parsed.0 == StatusCode::SWITCHING_PROTOCOLS {
            return Err(Failure::Protocol(
                "unexpected 101 Switching Protocols".into(),
            ));
        }
        // Other 1xx answers (103 Early Hints, a stray 100) precede the real one.
        if !parsed.0.is_informational() {
            break parsed;
        }
    };
    let framing = delimiting.framing(&req.method, status)?;
    let mut reusable = delimiting.keeps_alive(version);
    let body = match framing {
        Framing::None => Bytes::new(),
        Framing::Length(n) if n > max_body as u64 => return Err(Failure::TooLarge),
        Framing::Length(n) => read_exact(io, buf, n as usize).await?,
        Framing::Chunked => read_chunked(io, buf, max_body).await?,
        Framing::UntilClose => {
            reusable = false;
            read_to_close(io, buf, max_body).await?
        }
    };
    // Bytes after the body were never asked for: the connection is out of step.
    if !buf.is_empty() {
        reusable = false;
    }
    let response = UpstreamResponse::new(status, body)
        .with_version(version)
        .with_fields(fields);
    Ok(Exchanged { response, reusable })
}

/// Writes the request head into `out` (the connection's buffer), cleared first.
fn encode_request(out: &mut Vec<u8>, req: &UpstreamRequest, path: &str, host: &str) {
    let body = &req.body;
    out.clear();
    out.reserve(256 + path.len() + body.len().min(INLINE_BODY));
    out.extend_from_slice(req.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !req.headers.iter().any(|(name, _)| name == HOST) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(host.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in &req.headers {
        // Framing is ours to state, from the body actually sent.
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // A bodiless POST/PUT/PATCH still says 0: some servers answer 411 otherwise.
    let bodiless_method = matches!(
        req.method,
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS | Method::TRACE
    );
    if !body.is_empty() || !bodiless_method {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Reads until a whole response head is buffered, then parses and consumes it.
async fn read_head<Io: AsyncRead + Unpin>(
    io: &mut Io,
    buf: &mut BytesMut,
) -> Result<Head, Failure> {
    let mut first_read = buf.is_empty();
    loop {
        if let Some(head) = parse_head(buf)? {
            return Ok(head);
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(8192);
        }
        let n = match io.read_buf(buf).await {
            Ok(n) => n,
            // A reset before the first byte is the same keep-alive race as a close.
            Err(e) if first_read && is_reset(&e) => return Err(Failure::ClosedBeforeResponse),
            Err(e) => return Err(Failure::Protocol(e.to_string())),
        };
        if n == 0 {
            return Err(if first_read {
                Failure::ClosedBeforeResponse
            } else {
                Failure::Protocol("connection closed before the response head was complete".into())
            });
        }
        first_read = false;
    }
}

/// Parses and consumes a complete response head, if `buf` holds one.
///
/// Not async on purpose: the header slots live on the stack only while parsing instead of
/// in every exchange future (3 KB that each move of the future would copy).
fn parse_head(buf: &mut BytesMut) -> Result<Option<Head>, Failure> {
    // Called before the first read too.
    if buf.is_empty() {
        return Ok(None);
    }
    // Slots left uninitialised: httparse fills those it uses, and zeroing 3 KB of them on
    // every call cost more than parsing a typical head.
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut []);
    let parsing = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut parsed,
        buf,
        &mut slots,
    );
    let len = match parsing {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return Ok(None),
        Ok(httparse::Status::Partial) => {
            return Err(Failure::Protocol("response head too large".into()));
        }
        Err(e) => return Err(Failure::Protocol(format!("invalid response head: {e}"))),
    };
    let (status, version) = status_line(&parsed)?;
    // Where each field is: the fields keep pointing into the head once it is cut off
    // the buffer, instead of each being copied or parsed.
    let mut spans = Vec::with_capacity(parsed.headers.len());
    let mut delimiting = Delimiting::default();
    for h in parsed.headers.iter() {
        spans.push((span_of(buf, h.name.as_bytes()), span_of(buf, h.value)));
        delimiting.field(h.name.as_bytes(), h.value);
    }
    let head = buf.split_to(len).freeze();
    Ok(Some((
        status,
        version,
        Fields::from_spans(head, spans),
        delimiting,
    )))
}

/// A parsed response head.
type Head = (StatusCode, Version, Fields, Delimiting);

/// Where `part`, a slice of `buf` (httparse points into it), is in `buf`: anything else
/// gives a span outside the head, which reads as empty.
fn span_of(buf: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
    start..start.saturating_add(part.len())
}

fn bad_head(what: &str) -> Failure {
    Failure::Protocol(format!("invalid response head: {what}"))
}

fn is_reset(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe)
}

fn status_line(parsed: &httparse::Response<'_, '_>) -> Result<(StatusCode, Version), Failure> {
    let status = parsed
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| bad_head("status code"))?;
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    Ok((status, version))
}

/// Makes sure `buf` holds at least `n` bytes.
async fn fill<Io: AsyncRead + Unpin>(
    io: &mut Io,
    buf: &mut BytesMut,
    n: usize,
) -> Result<(), Failure> {
    while buf.len() < n {
        buf.reserve(n - buf.len());
        let read = io
            .read_buf(buf)
            .await
            .map_err(|e| Failure::Protocol(e.to_string()))?;
        if read == 0 {
            return Err(Failure::Protocol(
                "connection closed before the response body was complete".into(),
            ));
        }
    }
    Ok(())
}

async fn read_exact<Io: AsyncRead + Unpin>(
    io: &mut Io,
    buf: &mut BytesMut,
    n: usize,
) -> Result<Bytes, Failure> {
    fill(io, buf, n).await?;
    Ok(buf.split_to(n).freeze())
}

async fn read_to_close<Io: AsyncRead + Unpin>(
    io: &mut Io,
    buf: &mut BytesMut,
    max: usize,
) -> Result<Bytes, Failure> {
    loop {
        if buf.len() > max {
            return Err(Failure::TooLarge);
        }
        buf.reserve(8192);
        let n = io
            .read_buf(buf)
            .await
            .map_err(|e| Failure::Protocol(e.to_string()))?;
        if n == 0 {
            return Ok(buf.split().freeze());
        }
    }
}

/// Decodes a chunked body (extensions ignored, trailers read and dropped).
async fn read_chunked<Io: AsyncRead + Unpin>(
    io: &mut Io,
    buf: &mut BytesMut,
    max: usize,
) -> Result<Bytes, Failure> {
    let bad = |what: &str| Failure::Protocol(format!("invalid chunked body: {what}"));
    let mut body = BytesMut::new();
    loop {
        let line = read_line(io, buf).await?;
        let size_text = line.split(|&b| b == b';').next().unwrap_or_default();
        let size_text = std::str::from_utf8(size_text)
            .map_err(|_| bad("chunk size"))?
            .trim();
        if size_text.is_empty() || size_text.len() > 16 {
            return Err(bad("chunk size"));
        }
        let size = u64::from_str_radix(size_text, 16).map_err(|_| bad("chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(io, buf).await?.is_empty() {}
            return Ok(body.freeze());
        }
        if body.len() as u64 + size > max as u64 {
            return Err(Failure::TooLarge);
        }
        let size = size as usize;
        fill(io, buf, size + 2).await?;
        body.extend_from_slice(&buf[..size]);
        if &buf[size..size + 2] != b"\r\n" {
            return Err(bad("missing CRLF after a chunk"));
        }
        buf.advance(size + 2);
    }
}

/// One CRLF-terminated line, without its terminator.
async fn read_line<Io: AsyncRead + Unpin>(
    io: &mut Io,
    buf: &mut BytesMut,
) -> Result<Bytes, Failure> {
    let mut searched = 0;
    loop {
        if let Some(at) = buf[searched..].windows(2).position(|w| w == b"\r\n") {
            let line = buf.split_to(searched + at).freeze();
            buf.advance(2);
            return Ok(line);
        }
        if buf.len() > 4096 {
            return Err(Failure::Protocol(
                "invalid chunked body: line too long".into(),
            ));
        }
        searched = buf.len().saturating_sub(1);
        let want = buf.len() + 1;
        fill(io, buf, want).await?;
    }
}

#[cfg(test)]
mod tests;
