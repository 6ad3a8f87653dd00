//! A raw HTTP/1.1 client for the connection tests: writes bytes as given and reads
//! answers (heads, lengths, chunks) back, so nothing between it and the server fixes up
//! what either side sends.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// One answer as the client read it.
#[derive(Debug)]
pub(super) struct Got {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
}

impl Got {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A raw client connection; `buf` keeps what was read past the last answer.
pub(super) struct Client {
    pub(super) stream: TcpStream,
    pub(super) buf: Vec<u8>,
}

impl Client {
    pub(super) async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    pub(super) async fn send(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).await.unwrap();
    }

    pub(super) async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await.unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// Reads one answer (to a request that was not HEAD unless `head`).
    pub(super) async fn answer(&mut self, head: bool) -> Got {
        let (len, status, headers) = loop {
            let mut fields = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut fields);
            if let httparse::Status::Complete(len) = resp.parse(&self.buf).unwrap() {
                let headers = resp
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect::<Vec<_>>();
                break (len, resp.code.unwrap(), headers);
            }
            assert!(self.fill().await, "connection ended before an answer head");
        };
        self.buf.drain(..len);
        let mut got = Got {
            status,
            headers,
            body: String::new(),
        };
        if head || status == 204 || status == 304 {
            return got;
        }
        if let Some(n) = got.header("content-length") {
            let n: usize = n.parse().unwrap();
            while self.buf.len() < n {
                assert!(self.fill().await, "connection ended inside a body");
            }
            got.body = String::from_utf8(self.buf.drain(..n).collect()).unwrap();
        } else if got.header("transfer-encoding") == Some("chunked") {
            got.body = self.chunked().await;
        }
        got
    }

    async fn chunked(&mut self) -> String {
        let mut body = String::new();
        loop {
            let line_end = loop {
                if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                assert!(self.fill().await, "connection ended inside a chunk size");
            };
            let size_line = String::from_utf8(self.buf.drain(..line_end + 2).collect()).unwrap();
            let size = usize::from_str_radix(size_line.trim_end(), 16).unwrap();
            while self.buf.len() < size + 2 {
                assert!(self.fill().await, "connection ended inside a chunk");
            }
            let chunk: Vec<u8> = self.buf.drain(..size + 2).collect();
            assert!(chunk.ends_with(b"\r\n"), "{chunk:?}");
            if size == 0 {
                return body;
            }
            body.push_str(std::str::from_utf8(&chunk[..size]).unwrap());
        }
    }

    /// Whether the server closes the connection (nothing more to read).
    pub(super) async fn ends(&mut self) -> bool {
        let mut chunk = [0u8; 64];
        matches!(
            tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}
