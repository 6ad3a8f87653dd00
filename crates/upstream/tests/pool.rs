//! Connection reuse of `HttpUpstream` against raw keep-alive servers on real
//! 127.0.0.1 sockets: what is reused, what never is, and when idle sockets
//! close.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use naftiko_upstream::{CallOptions, HttpUpstream, HttpUpstreamConfig, Upstream, UpstreamError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What a connection does after reading one request head.
#[derive(Clone, Copy)]
enum After {
    /// Keep serving requests on the connection.
    KeepAlive,
    /// Close the socket right after the first answer.
    Close,
}

/// Events the server reports, in order, per connection.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    /// The server closed its side.
    ServerClosed,
    /// The client closed its side (read returned 0).
    ClientClosed,
}

struct Server {
    addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    events: mpsc::UnboundedReceiver<Event>,
}

/// Answers each request with its path as the body; a path containing `slow`
/// is answered after 500 ms.
async fn server(after: After) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicUsize::new(0));
    let (tx, events) = mpsc::unbounded_channel();
    let counter = accepts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(connection(stream, after, tx.clone()));
        }
    });
    Server {
        addr,
        accepts,
        events,
    }
}

async fn connection(mut stream: TcpStream, after: After, tx: mpsc::UnboundedSender<Event>) {
    let mut buf = Vec::new();
    loop {
        let Some(path) = read_head(&mut stream, &mut buf).await else {
            let _ = tx.send(Event::ClientClosed);
            return;
        };
        if path.contains("slow") {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{path}",
            path.len()
        );
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
        if let After::Close = after {
            drop(stream);
            let _ = tx.send(Event::ServerClosed);
            return;
        }
    }
}

/// Reads one bodiless request head; its path, or `None` at EOF.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return head.split(' ').nth(1).map(str::to_owned);
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn call(up: &HttpUpstream, addr: SocketAddr, path: &str) -> Result<String, UpstreamError> {
    call_with(up, addr, path, &CallOptions::default()).await
}

async fn call_with(
    up: &HttpUpstream,
    addr: SocketAddr,
    path: &str,
    opts: &CallOptions,
) -> Result<String, UpstreamError> {
    let req = Request::get(format!("http://{addr}{path}"))
        .body(Bytes::new())
        .unwrap();
    let resp = up.send_http(req, opts).await?;
    Ok(String::from_utf8(resp.body().to_vec()).unwrap())
}

async fn next_event(srv: &mut Server) -> Event {
    tokio::time::timeout(Duration::from_secs(5), srv.events.recv())
        .await
        .expect("no server event within 5 s")
        .unwrap()
}

#[tokio::test]
async fn a_connection_the_peer_closed_is_replaced_not_failed() {
    let mut srv = server(After::Close).await;
    let up = HttpUpstream::new().unwrap();
    assert_eq!(call(&up, srv.addr, "/one").await.unwrap(), "/one");
    assert_eq!(next_event(&mut srv).await, Event::ServerClosed);
    assert_eq!(call(&up, srv.addr, "/two").await.unwrap(), "/two");
    assert_eq!(srv.accepts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_timed_out_exchange_never_hands_its_late_answer_to_the_next_call() {
    let srv = server(After::KeepAlive).await;
    let up = HttpUpstream::new().unwrap();
    let short = CallOptions {
        timeout: Duration::from_millis(100),
        ..CallOptions::default()
    };
    let err = call_with(&up, srv.addr, "/slow", &short).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(call(&up, srv.addr, "/fast").await.unwrap(), "/fast");
    assert_eq!(srv.accepts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn idle_connections_close_after_the_idle_timeout() {
    let mut srv = server(After::KeepAlive).await;
    let up = HttpUpstream::with_config(HttpUpstreamConfig {
        pool_idle_timeout: Duration::from_millis(100),
        ..HttpUpstreamConfig::default()
    })
    .unwrap();
    assert_eq!(call(&up, srv.addr, "/one").await.unwrap(), "/one");
    // Nothing else calls: the sweeper alone must close the socket.
    assert_eq!(next_event(&mut srv).await, Event::ClientClosed);
    assert_eq!(call(&up, srv.addr, "/two").await.unwrap(), "/two");
    assert_eq!(srv.accepts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn concurrent_calls_open_connections_that_later_calls_reuse() {
    let srv = server(After::KeepAlive).await;
    let up = HttpUpstream::new().unwrap();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..8 {
        let up = up.clone();
        let addr = srv.addr;
        calls.spawn(async move { call(&up, addr, &format!("/c{i}")).await });
    }
    let mut answers: Vec<String> = calls
        .join_all()
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    answers.sort();
    assert_eq!(
        answers,
        (0..8).map(|i| format!("/c{i}")).collect::<Vec<_>>()
    );
    let opened = srv.accepts.load(Ordering::SeqCst);
    assert!((1..=8).contains(&opened), "{opened}");
    for i in 0..20 {
        assert_eq!(
            call(&up, srv.addr, &format!("/s{i}")).await.unwrap(),
            format!("/s{i}")
        );
    }
    assert_eq!(srv.accepts.load(Ordering::SeqCst), opened);
}

#[tokio::test]
async fn max_idle_zero_disables_reuse() {
    let srv = server(After::KeepAlive).await;
    let up = HttpUpstream::with_config(HttpUpstreamConfig {
        pool_max_idle_per_host: 0,
        ..HttpUpstreamConfig::default()
    })
    .unwrap();
    for i in 0..3 {
        assert_eq!(
            call(&up, srv.addr, &format!("/{i}")).await.unwrap(),
            format!("/{i}")
        );
    }
    assert_eq!(srv.accepts.load(Ordering::SeqCst), 3);
}

/// A pooled connection's timer stays armed at an earlier call's deadline: a later call
/// with a longer timeout must outlive it, one with a shorter timeout must not.
#[tokio::test]
async fn a_reused_connection_times_each_call_by_its_own_deadline() {
    let srv = server(After::KeepAlive).await;
    let up = HttpUpstream::new().unwrap();
    let short = CallOptions {
        timeout: Duration::from_millis(150),
        ..CallOptions::default()
    };
    // Leaves the connection's timer armed 150 ms from now.
    assert_eq!(
        call_with(&up, srv.addr, "/fast", &short).await.unwrap(),
        "/fast"
    );
    // Answered after 500 ms: past the first call's deadline, within its own.
    let long = CallOptions {
        timeout: Duration::from_secs(5),
        ..CallOptions::default()
    };
    assert_eq!(
        call_with(&up, srv.addr, "/slow", &long).await.unwrap(),
        "/slow"
    );
    // The timer is now armed 5 s ahead; this call must still end at 150 ms.
    let started = std::time::Instant::now();
    let err = call_with(&up, srv.addr, "/slow", &short).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(450), "{elapsed:?}");
    assert_eq!(srv.accepts.load(Ordering::SeqCst), 1);
}
