//! A client that disconnects mid-call: a read is dropped with it, a write is finished
//! (the transports page: a disconnect is not a cancellation).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use naftiko_mcp::McpConfig;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the upstream saw after the client went away.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    /// The gateway closed the upstream connection without waiting for the answer.
    Cut,
    /// The gateway kept waiting, and got the answer.
    Answered,
}

/// An upstream that reports each request, waits for `go`, then answers unless the
/// gateway has closed the connection by then.
async fn upstream() -> (
    String,
    mpsc::UnboundedReceiver<()>,
    mpsc::UnboundedSender<()>,
    mpsc::UnboundedReceiver<Fate>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (seen_tx, seen) = mpsc::unbounded_channel();
    let (go, mut go_rx) = mpsc::unbounded_channel::<()>();
    let (fate_tx, fate) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        // Head and body (the gateway always sends Content-Length).
        loop {
            let n = s.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                if buf.len() >= end + 4 + len {
                    break;
                }
            }
        }
        seen_tx.send(()).unwrap();
        go_rx.recv().await.unwrap();
        // An abort closes the socket at once; a kept exchange leaves it open and silent.
        let fate = match tokio::time::timeout(Duration::from_millis(500), s.read(&mut chunk)).await
        {
            Ok(Ok(0) | Err(_)) => Fate::Cut,
            Ok(Ok(_)) => panic!("unexpected bytes from the gateway"),
            Err(_) => {
                let body = r#"{"id":"new"}"#;
                let answer = format!(
                    "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                s.write_all(answer.as_bytes()).await.unwrap();
                Fate::Answered
            }
        };
        fate_tx.send(fate).unwrap();
    });
    (url, seen, go, fate)
}

/// Sends a stateless (2026-07-28) `tools/call` over a raw socket and returns the socket.
async fn call_raw(base: &str, tool: &str, arguments: serde_json::Value) -> TcpStream {
    let body = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{
        "name": tool, "arguments": arguments,
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}})
    .to_string();
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\naccept: application/json, text/event-stream\r\n\
         content-type: application/json\r\nmcp-protocol-version: 2026-07-28\r\n\
         mcp-method: tools/call\r\nmcp-name: {tool}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s
}

async fn fate_of(tool: &str, arguments: serde_json::Value) -> Fate {
    let (url, mut seen, go, mut fate) = upstream().await;
    let server = serve_seed(&url, McpConfig::default()).await;
    let client = call_raw(&server.base, tool, arguments).await;
    tokio::time::timeout(Duration::from_secs(5), seen.recv())
        .await
        .expect("the upstream never saw the call");
    drop(client);
    go.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), fate.recv())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_write_outlives_the_client_that_asked_for_it() {
    let fate = fate_of("create-identity", json!({"body": {"schema_id": "default"}})).await;
    assert_eq!(fate, Fate::Answered);
}

#[tokio::test]
async fn a_read_is_dropped_with_its_client() {
    // The control: a disconnect is noticed at all, so the write case above means something.
    assert_eq!(fate_of("get-identity", json!({"id": "x"})).await, Fate::Cut);
}
