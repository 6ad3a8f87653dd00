//! Client connections that stall: a request whose headers never finish, and a keep-alive
//! connection left idle, are both closed after `--header-timeout`, counted from when the
//! connection starts waiting for each request head. A connection closed before its
//! request body was read is drained first, so that the client can read the answer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use naftiko_testkit::RecordingUpstream;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; how long that took, and what came.
async fn until_closed(s: &mut TcpStream) -> (Duration, String) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return (started.elapsed(), String::from_utf8_lossy(&got).into()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the connection was still open after 5 s"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_and_idle_clients_are_closed_after_the_header_timeout() {
    let up = RecordingUpstream::start().await;
    let dir = tempdir();
    let port = free_port();
    write_atomic(
        &dir.join("a.yml"),
        &capability("a", &up.base_url(), port, &["x"]),
    );
    let _gw = Running::start(&[dir.as_path()], &["--header-timeout", "300ms"]).await;
    let addr = format!("127.0.0.1:{port}");

    // Headers that never finish.
    let mut stalled = TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(b"GET /v1/x HTTP/1.1\r\nhost: a\r\n")
        .await
        .unwrap();
    let (after, _) = until_closed(&mut stalled).await;
    assert!(
        after >= Duration::from_millis(250),
        "closed after {after:?}"
    );

    // A finished exchange, then silence on the kept-alive connection.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /v1/x HTTP/1.1\r\nhost: a\r\n\r\n")
        .await
        .unwrap();
    let (after, answer) = until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        after >= Duration::from_millis(250),
        "closed after {after:?}"
    );

    // The clock starts when the connection waits for a head (idle time counts). Two
    // exchanges 200 ms apart, then silence: the third wait gets its own full timeout,
    // not what was left of the second one's.
    let mut late = TcpStream::connect(&addr).await.unwrap();
    let mut buf = [0u8; 4096];
    for pause in [0, 200] {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        late.write_all(b"GET /v1/x HTTP/1.1\r\nhost: a\r\n\r\n")
            .await
            .unwrap();
        let n = late.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "after {pause} ms");
    }
    let (after, _) = until_closed(&mut late).await;
    assert!(
        after >= Duration::from_millis(250),
        "closed {after:?} after the second answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_refused_unread_is_drained_so_the_client_can_finish_and_read_the_answer() {
    let up = RecordingUpstream::start().await;
    let dir = tempdir();
    let port = free_port();
    write_atomic(
        &dir.join("a.yml"),
        &capability("a", &up.base_url(), port, &["x"]),
    );
    let _gw = Running::start(&[dir.as_path()], &[]).await;
    let mut s = TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    // Over the default 1 MiB limit: refused on its declared length, before any of it.
    let size = 3 << 20;
    s.write_all(
        format!("GET /v1/x HTTP/1.1\r\nhost: a\r\ncontent-length: {size}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let (_, answer) = until_closed(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // The server has ended its side; a socket closed outright would now answer the
    // body with a reset, and these writes would fail.
    let chunk = vec![b'x'; 64 * 1024];
    for sent in 0..size / chunk.len() {
        if let Err(e) = s.write_all(&chunk).await {
            panic!("the body was refused with {e} after {sent} chunks");
        }
    }
    s.shutdown().await.unwrap();
    assert!(up.requests().is_empty());
}
