//! Lingering close: a client socket hyper is done with is read and discarded for a
//! moment before it is closed.
//!
//! An answer sent before the request body was read (a 413 for a body over the limit)
//! ends the connection with the rest of that body still coming. Closing a socket with
//! unread data makes the kernel send a reset, which can destroy the answer before the
//! client reads it, and makes the client's next write fail: it sees "broken pipe"
//! instead of the 413. nginx does the same (`lingering_close`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// How long a closed connection is drained at most: enough for a client to finish
/// sending a refused body on any sane link, short enough that refused clients cannot
/// pile up.
pub(crate) const LINGER: Duration = Duration::from_secs(5);

/// A client connection's socket that lingers when dropped (see the module docs).
#[derive(Debug)]
pub(crate) struct Lingering {
    stream: Option<TcpStream>,
    linger: Duration,
}

impl Lingering {
    /// Wraps `stream`, drained for at most `linger` once dropped.
    pub(crate) fn new(stream: TcpStream, linger: Duration) -> Self {
        Self {
            stream: Some(stream),
            linger,
        }
    }

    fn stream(&mut self) -> io::Result<&mut TcpStream> {
        self.stream
            .as_mut()
            .ok_or_else(|| io::ErrorKind::NotConnected.into())
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        // Outside a runtime (tests dropping it late) the socket just closes.
        if let Some(stream) = self.stream.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(drain(stream, self.linger));
        }
    }
}

/// Ends our side, then reads until the client closes its own, or `linger` has passed.
async fn drain(mut stream: TcpStream, linger: Duration) {
    let _ = stream.shutdown().await;
    let mut sink = vec![0u8; 4096];
    let _ = tokio::time::timeout(linger, async {
        while let Ok(1..) = stream.read(&mut sink).await {}
    })
    .await;
}

impl AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(self.stream()?).poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.stream()?).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.stream()?).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()?).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()?).poll_shutdown(cx)
    }
}
