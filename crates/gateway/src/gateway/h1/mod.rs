//! Client connections: HTTP/1.1 read and written here for plain requests, handed to
//! hyper for the rest of the connection at the first request that is not plain.
//!
//! hyper's server connection cost about a third of the instructions of a proxied GET
//! (its dispatcher is general: any body, upgrades, `expect`, chunked requests). The
//! requests a gateway mostly sees are plain: HTTP/1.1, an origin-form target, no body
//! or a small one with `content-length`. Those are parsed with httparse (as hyper
//! does) and answered here. Anything else — HTTP/1.0, `transfer-encoding`, `expect`,
//! `upgrade`, duplicate or malformed lengths, big bodies, anything httparse or `http`
//! refuses — goes to hyper with the bytes read so far replayed, so its parsing,
//! errors and limits stay what decides; this code never has to answer a malformed
//! request, which is where request smuggling lives.

mod answer;
mod date;
mod head;
mod rewind;
#[cfg(test)]
mod tests;

use std::convert::Infallible;
use std::future::{Future, pending};
use std::pin::Pin;
use std::time::Duration;

use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http::Method;
use http_body::Body as _;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use answer::Framing;
use head::{Plain, Scan, Spans};
use naftiko_plan::{PlainAnswer, PlainRequest, PlainService, WholeAnswer};

/// What a service answers hyper's requests with: the REST and MCP services' futures.
pub(crate) type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

/// What a service answers a plain request with.
pub(crate) type PlainFuture = Pin<Box<dyn Future<Output = PlainAnswer<Response>> + Send>>;

/// What a listener can serve: requests read here (whole body) and by hyper.
pub(crate) trait App:
    PlainService<Future = PlainFuture>
    + Service<http::Request<Incoming>, Response = Response, Error = Infallible, Future = Answer>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> App for S where
    S: PlainService<Future = PlainFuture>
        + Service<http::Request<Incoming>, Response = Response, Error = Infallible, Future = Answer>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// Read buffer size: a plain request head and a small body fit.
const READ_BUF: usize = 8 * 1024;

/// Body pieces shorter than this are copied behind the head; longer ones are written
/// from where they are.
const COPY_BELOW: usize = 1024;

/// Largest piece written at once while copying a body out.
const WRITE_CHUNK: usize = 64 * 1024;

/// Serves one client connection until it ends, or until `closing` turns true and the
/// request in flight (if any) is answered. A client that stalls while sending a
/// request, or idles between requests, for `header_timeout` is closed.
pub(crate) async fn serve<IO, A>(
    io: IO,
    app: A,
    header_timeout: Duration,
    closing: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    A: App,
{
    let mut conn = Conn {
        io,
        buf: BytesMut::with_capacity(READ_BUF),
        out: Vec::new(),
        fields: Spans::new(),
        closing,
        header_timeout,
        deadline: Box::pin(tokio::time::sleep(header_timeout)),
        deadline_at: Instant::now() + header_timeout,
    };
    if let Some(prefix) = conn.run(&app).await {
        hyper_conn(
            rewind::Rewind::new(prefix, conn.io),
            app,
            header_timeout,
            conn.closing,
        )
        .await;
    }
}

/// The rest of a connection, served by hyper.
async fn hyper_conn<IO, A>(
    io: IO,
    app: A,
    header_timeout: Duration,
    mut closing: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    A: App,
{
    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        Service::<http::Request<Incoming>>::call(&app, req)
    });
    let conn = http1::Builder::new()
        .timer(crate::gateway::timer::ConnTimer::default())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let closed = async move {
        let _ = closing.wait_for(|c| *c).await;
    };
    tokio::select! {
        _ = conn.as_mut() => return,
        () = closed => {}
    }
    // Finish the request in flight, then close instead of keeping alive.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// One connection's state between requests; buffers are reused across requests.
struct Conn<IO> {
    io: IO,
    /// Bytes read and not yet consumed.
    buf: BytesMut,
    /// The answer being written.
    out: Vec<u8>,
    fields: Spans,
    closing: watch::Receiver<bool>,
    header_timeout: Duration,
    /// Armed for `deadline_at` or earlier; moved only when it fires early (see `read`).
    deadline: Pin<Box<Sleep>>,
    /// When the head being waited for is overdue.
    deadline_at: Instant,
}

/// How a wait for bytes ended.
enum Read {
    More,
    /// End of stream, an error, the deadline, or the listener closing while idle.
    End,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Conn<IO> {
    /// Serves plain requests; returns the bytes to replay if hyper takes over.
    async fn run<A: App>(&mut self, app: &A) -> Option<Bytes> {
        loop {
            let plain = match self.next_head().await {
                Some(Scan::Plain(p)) => p,
                Some(Scan::Other) => return Some(self.buf.split().freeze()),
                Some(Scan::Partial) | None => return None,
            };
            let whole = plain.head_len + plain.body_len;
            while self.buf.len() < whole {
                if let Read::End = self.read(whole - self.buf.len(), false).await {
                    return None;
                }
            }
            let head = self.buf.split_to(plain.head_len).freeze();
            let body = self.buf.split_to(plain.body_len).freeze();
            let Some(req) = plain.request(&self.fields, &head, body.clone()) else {
                return Some(self.replay(&[&head, &body]));
            };
            if !self.exchange(app, &plain, req).await {
                return None;
            }
        }
    }

    /// Waits for a whole head under the deadline; `None` ends the connection.
    async fn next_head(&mut self) -> Option<Scan> {
        // Not a reset per request, which takes the timer out of tokio's wheel and puts it
        // back: `read` re-arms it when it fires before this.
        self.deadline_at = Instant::now() + self.header_timeout;
        loop {
            if !self.buf.is_empty() {
                match head::scan(&self.buf, &mut self.fields) {
                    Scan::Partial => {}
                    scan => return Some(scan),
                }
            }
            if let Read::End = self.read(0, self.buf.is_empty()).await {
                return None;
            }
        }
    }

    /// Reads more (room for at least `want` bytes) until the request deadline; while
    /// `idle`, the listener closing ends the connection too.
    async fn read(&mut self, want: usize, idle: bool) -> Read {
        if idle && *self.closing.borrow() {
            return Read::End;
        }
        // Only when short: the last request's head may still share the buffer, and
        // growing it then means a new allocation.
        if self.buf.capacity() - self.buf.len() < want.max(512) {
            self.buf.reserve(want.max(READ_BUF));
        }
        loop {
            // Reading first: once bytes are there, the timer is not looked at again.
            tokio::select! {
                biased;
                r = self.io.read_buf(&mut self.buf) => return match r {
                    Ok(1..) => Read::More,
                    Ok(0) | Err(_) => Read::End,
                },
                () = self.deadline.as_mut() => {
                    if Instant::now() >= self.deadline_at {
                        return Read::End;
                    }
                    // Armed for an earlier head: on to this one's deadline.
                    self.deadline.as_mut().reset(self.deadline_at);
                }
                _ = self.closing.changed(), if idle => return Read::End,
            }
        }
    }

    /// Calls the service and writes its answer; `false` ends the connection.
    async fn exchange<A: App>(&mut self, app: &A, plain: &Plain, req: PlainRequest) -> bool {
        let head_req = req.method == Method::HEAD;
        let call = app.call_plain(req);
        // A client that goes away while its request is served cancels it (as hyper does
        // without half-close support); bytes that arrive meanwhile are kept.
        // Biased: a fair select draws a random number per poll to pick the order.
        let answer = tokio::select! {
            biased;
            answer = call => answer,
            () = watch_eof(&mut self.io, &mut self.buf) => return false,
        };
        match answer {
            PlainAnswer::Whole(whole) => self.send_whole(plain, whole, head_req).await,
            PlainAnswer::Response(resp) => self.send_response(plain, resp, head_req).await,
        }
    }

    /// Writes a whole answer: its head, then its body from where it is.
    async fn send_whole(&mut self, plain: &Plain, whole: WholeAnswer, head_req: bool) -> bool {
        let close = plain.close || answer::wants_close(&whole.headers) || *self.closing.borrow();
        let fields = (whole.content_type.iter())
            .map(|v| (&answer::CONTENT_TYPE, v))
            .chain(&whole.headers);
        self.out.clear();
        let exact = Some(whole.body.len() as u64);
        let framing =
            answer::write_head(&mut self.out, whole.status, fields, exact, head_req, close);
        let sent = match framing {
            Framing::Length(_) => self.send_piece(&whole.body).await && self.flush_rest().await,
            Framing::None | Framing::Chunked => self.flush().await,
        };
        sent && !close
    }

    /// Writes a response's head and body.
    async fn send_response(&mut self, plain: &Plain, resp: Response, head_req: bool) -> bool {
        let (parts, body) = resp.into_parts();
        let close = plain.close || answer::wants_close(&parts.headers) || *self.closing.borrow();
        self.out.clear();
        let framing = answer::write_head(
            &mut self.out,
            parts.status,
            &parts.headers,
            body.size_hint().exact(),
            head_req,
            close,
        );
        let sent = match framing {
            Framing::None => self.flush().await,
            Framing::Length(n) => self.send_sized(body, n).await,
            Framing::Chunked => self.send_chunked(body).await,
        };
        sent && !close
    }

    /// Writes `out` whole.
    async fn flush(&mut self) -> bool {
        let ok = self.io.write_all(&self.out).await.is_ok();
        self.out.clear();
        ok
    }

    /// Writes a body of known length after the head in `out`: small pieces are copied
    /// behind it, a big one goes out with it in one vectored write (no copy).
    async fn send_sized(&mut self, body: axum::body::Body, len: u64) -> bool {
        let mut body = std::pin::pin!(body);
        let mut left = len;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map(|f| f.into_data().unwrap_or_default()) else {
                return false;
            };
            // A body longer than it said cannot be framed: the connection ends.
            let Some(rest) = left.checked_sub(data.len() as u64) else {
                return false;
            };
            left = rest;
            if !self.send_piece(&data).await {
                return false;
            }
        }
        self.flush_rest().await && left == 0
    }

    /// Writes one piece of a body behind what `out` holds: a small one is copied there
    /// (written once `out` is big enough), a big one goes out with it in one vectored
    /// write (no copy).
    async fn send_piece(&mut self, data: &[u8]) -> bool {
        if data.len() < COPY_BELOW {
            self.out.extend_from_slice(data);
            return self.out.len() < WRITE_CHUNK || self.flush().await;
        }
        let mut both = bytes::Buf::chain(&self.out[..], data);
        if self.io.write_all_buf(&mut both).await.is_err() {
            return false;
        }
        self.out.clear();
        true
    }

    /// Writes what `out` still holds, if anything.
    async fn flush_rest(&mut self) -> bool {
        self.out.is_empty() || self.flush().await
    }

    /// Writes a streamed body chunk by chunk, each as soon as the service yields it
    /// (event streams); a client going away ends it.
    async fn send_chunked(&mut self, body: axum::body::Body) -> bool {
        let mut body = std::pin::pin!(body);
        if !self.flush().await {
            return false;
        }
        loop {
            let frame = tokio::select! {
                biased;
                frame = body.frame() => frame,
                () = watch_eof(&mut self.io, &mut self.buf) => return false,
            };
            match frame {
                None => break,
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if data.is_empty() {
                        continue;
                    }
                    answer::chunk_size(&mut self.out, data.len());
                    self.out.extend_from_slice(&data);
                    self.out.extend_from_slice(b"\r\n");
                }
                Some(Err(_)) => return false,
            }
            if !self.flush().await || self.io.flush().await.is_err() {
                return false;
            }
        }
        self.out.extend_from_slice(b"0\r\n\r\n");
        self.flush().await
    }

    /// The bytes hyper must read first: `parts`, then whatever is still buffered.
    fn replay(&mut self, parts: &[&Bytes]) -> Bytes {
        let rest = self.buf.split();
        let mut all =
            BytesMut::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + rest.len());
        for p in parts {
            all.extend_from_slice(p);
        }
        all.extend_from_slice(&rest);
        all.freeze()
    }
}

/// Resolves when the client has closed the connection (or it failed); bytes read
/// meanwhile (a pipelined request) are appended to `buf`, up to a bound.
async fn watch_eof<IO: AsyncRead + Unpin>(io: &mut IO, buf: &mut BytesMut) {
    loop {
        if buf.len() >= head::MAX_HEAD + head::MAX_INLINE_BODY {
            return pending().await;
        }
        if buf.capacity() == buf.len() {
            buf.reserve(1024);
        }
        match io.read_buf(buf).await {
            Ok(1..) => {}
            Ok(0) | Err(_) => return,
        }
    }
}
