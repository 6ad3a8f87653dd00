//! Request bodies over Streamable HTTP: what `Accept` must allow, the size limit, and
//! chunked bodies (joined, limited, refused when cut off).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use naftiko_mcp::McpConfig;
use naftiko_testkit::RecordingUpstream;
use serde_json::json;

async fn seed(config: McpConfig) -> (RecordingUpstream, Server) {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(&up.base_url(), config).await;
    (up, server)
}

#[tokio::test]
async fn accept_and_body_limits() {
    let (_up, server) = seed(McpConfig {
        max_body: 2048,
        ..McpConfig::default()
    })
    .await;
    let url = server.url();
    let init = initialize_body("2025-11-25").to_string();
    let r = send(
        "POST",
        &url,
        &[
            ("accept", "text/html"),
            ("content-type", "application/json"),
        ],
        &init,
    )
    .await;
    assert_eq!(r.status, 406);
    for accept in [
        "*/*",
        "application/json",
        "application/json, text/event-stream",
    ] {
        assert_eq!(
            send(
                "POST",
                &url,
                &[("accept", accept), ("content-type", "application/json")],
                &init
            )
            .await
            .status,
            200,
            "{accept}"
        );
    }
    assert_eq!(
        send("POST", &url, &[("content-type", "application/json")], &init)
            .await
            .status,
        200,
        "no Accept"
    );
    let big = json!({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"x".repeat(4096)}});
    assert_eq!(post(&url, &[], &big).await.status, 413);
}

/// Sends `head` then `chunks` as a chunked body (optionally cut off) over raw TCP, and
/// returns the status line and body of the answer.
async fn chunked(base: &str, chunks: &[&str], cut: bool) -> (String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "POST /mcp HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    for c in chunks {
        req.push_str(&format!("{:x}\r\n{c}\r\n", c.len()));
    }
    if cut {
        req.push_str("10\r\n{\"a");
    } else {
        req.push_str("0\r\n\r\n");
    }
    s.write_all(req.as_bytes()).await.unwrap();
    if cut {
        s.shutdown().await.unwrap();
    }
    let mut got = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") || !got.ends_with(b"}") {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("an answer within 5 s");
    let text = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

#[tokio::test]
async fn chunked_bodies_are_joined_limited_and_refused_when_cut_off() {
    let (_up, server) = seed(McpConfig {
        max_body: 2048,
        ..McpConfig::default()
    })
    .await;
    let init = initialize_body("2025-11-25").to_string();
    let (a, b) = init.split_at(init.len() / 2);
    let (status, body) = chunked(&server.base, &[a, b], false).await;
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    assert!(
        body.contains("\"protocolVersion\":\"2025-11-25\""),
        "{body}"
    );

    // Over the limit with no Content-Length to refuse it early.
    let pad = "x".repeat(1500);
    let (status, _) = chunked(&server.base, &[&pad, &pad], false).await;
    assert_eq!(status, "HTTP/1.1 413 Payload Too Large");

    let (status, body) = chunked(&server.base, &[a], true).await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request", "{body}");
    assert!(body.contains("-32700"), "{body}");
    assert!(body.contains("could not be read"), "{body}");
}
