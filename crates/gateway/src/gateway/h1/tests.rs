//! The connection loop over real sockets: plain requests, hand-over to hyper,
//! framing, keep-alive, timeouts, disconnects and closing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use http::StatusCode;
use http_body::Frame;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::*;

mod client;

use client::Client;

/// What the test service saw happen.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Started,
    Dropped,
}

/// Answers by path: `/echo` (method, target, body), `/hang` (never), `/gate` (when
/// told), `/stream` (a body of unknown length), `/close`, `/empty` (204).
#[derive(Clone)]
struct TestApp {
    events: mpsc::UnboundedSender<Event>,
    gate: Arc<tokio::sync::Notify>,
}

struct OnDrop(mpsc::UnboundedSender<Event>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(Event::Dropped);
    }
}

/// A body that yields its pieces one by one without saying how long it is.
struct Pieces(VecDeque<Bytes>);

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }
}

impl PlainService for TestApp {
    type Future = PlainFuture;

    /// `/whole*` as a [`WholeAnswer`]; anything else as an `http::Request`, so that
    /// answers are the same whichever way a request came in.
    fn call_plain(&self, req: PlainRequest) -> PlainFuture {
        if let Some(whole) = whole_answer(&req) {
            return Box::pin(std::future::ready(PlainAnswer::Whole(whole)));
        }
        let answer = match req.into_http() {
            Some(req) => {
                let call = self.call(req);
                return Box::pin(async move {
                    match call.await {
                        Ok(resp) => PlainAnswer::Response(resp),
                        Err(never) => match never {},
                    }
                });
            }
            None => http::Response::builder()
                .status(StatusCode::IM_A_TEAPOT)
                .body(Body::from("not an http::Uri"))
                .unwrap(),
        };
        Box::pin(std::future::ready(PlainAnswer::Response(answer)))
    }
}

/// `/whole` (201, a content type, an extra field, the request body echoed after
/// `whole:`), `/whole-big` (5,000 bytes), `/whole-none` (204 with bytes that must not
/// be sent), `/whole-close` (asks to close).
fn whole_answer(req: &PlainRequest) -> Option<WholeAnswer> {
    let mut headers = http::HeaderMap::new();
    let (status, body) = match req.target.path() {
        "/whole" => {
            headers.insert("x-extra", http::HeaderValue::from_static("1"));
            let mut body = b"whole:".to_vec();
            body.extend_from_slice(&req.body);
            (StatusCode::CREATED, Bytes::from(body))
        }
        "/whole-big" => (StatusCode::OK, Bytes::from(vec![b'w'; 5000])),
        "/whole-none" => (StatusCode::NO_CONTENT, Bytes::from_static(b"never sent")),
        "/whole-close" => {
            headers.insert("connection", http::HeaderValue::from_static("close"));
            (StatusCode::OK, Bytes::from_static(b"bye"))
        }
        _ => return None,
    };
    Some(WholeAnswer {
        status,
        content_type: Some(http::HeaderValue::from_static("text/plain")),
        headers,
        body,
    })
}

impl<B> Service<http::Request<B>> for TestApp
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, req: http::Request<B>) -> Answer {
        let app = self.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            let resp = match parts.uri.path() {
                "/hang" | "/gate" => {
                    let _guard = OnDrop(app.events.clone());
                    let _ = app.events.send(Event::Started);
                    if parts.uri.path() == "/hang" {
                        pending::<()>().await;
                    }
                    app.gate.notified().await;
                    Response::new(Body::from("opened"))
                }
                "/stream" => {
                    let pieces = ["data: one\n\n", "", "data: two\n\n"]
                        .map(|p: &'static str| Bytes::from_static(p.as_bytes()));
                    Response::new(Body::new(Pieces(pieces.into())))
                }
                "/close" => http::Response::builder()
                    .header("connection", "close")
                    .body(Body::from("bye"))
                    .unwrap(),
                "/empty" => http::Response::builder()
                    .status(StatusCode::NO_CONTENT)
                    .body(Body::empty())
                    .unwrap(),
                _ => {
                    let mut text = format!("{} {} {}:", parts.method, parts.uri, body.len());
                    text.push_str(&String::from_utf8_lossy(&body));
                    Response::new(Body::from(text))
                }
            };
            Ok(resp)
        })
    }
}

impl Server {
    /// The next thing the service saw (bounded: a broken loop fails, not hangs).
    async fn event(&mut self) -> Option<Event> {
        tokio::time::timeout(Duration::from_secs(10), self.events.recv())
            .await
            .ok()
            .flatten()
    }
}

struct Server {
    addr: SocketAddr,
    events: mpsc::UnboundedReceiver<Event>,
    gate: Arc<tokio::sync::Notify>,
    closing: watch::Sender<bool>,
}

async fn server(header_timeout: Duration) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (events_tx, events) = mpsc::unbounded_channel();
    let gate = Arc::new(tokio::sync::Notify::new());
    let app = TestApp {
        events: events_tx,
        gate: gate.clone(),
    };
    let (closing, closing_rx) = watch::channel(false);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(
                stream,
                app.clone(),
                header_timeout,
                closing_rx.clone(),
            ));
        }
    });
    Server {
        addr,
        events,
        gate,
        closing,
    }
}

const LONG: Duration = Duration::from_secs(30);

#[tokio::test]
async fn keep_alive_and_pipelined_requests_are_answered_in_order() {
    let s = server(LONG).await;
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        .await;
    let first = c.answer(false).await;
    assert_eq!(
        (first.status, first.body.as_str()),
        (200, "GET /echo?a=1 0:")
    );
    assert_eq!(first.header("content-length"), Some("16"));
    assert!(first.header("date").is_some_and(|d| d.ends_with(" GMT")));
    assert_eq!(first.header("connection"), None);
    let second = c.answer(false).await;
    assert_eq!(second.body, "POST /echo 5:hello");
    c.send(b"DELETE /echo/9 HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(c.answer(false).await.body, "DELETE /echo/9 0:");
}

#[tokio::test]
async fn a_body_arriving_in_pieces_is_read_whole() {
    let s = server(LONG).await;
    let mut c = Client::connect(s.addr).await;
    c.stream.set_nodelay(true).unwrap();
    c.send(b"PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhel")
        .await;
    c.send(b"lo ").await;
    c.send(b"world").await;
    assert_eq!(c.answer(false).await.body, "PUT /echo 11:hello world");
}

#[tokio::test]
async fn a_big_answer_is_written_whole_and_the_next_one_follows_it() {
    let s = server(LONG).await;
    let mut c = Client::connect(s.addr).await;
    let body = "b".repeat(COPY_BELOW * 5);
    let mut raw = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    raw.push_str("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    c.send(raw.as_bytes()).await;
    assert_eq!(
        c.answer(false).await.body,
        format!("POST /echo {}:{body}", body.len())
    );
    assert_eq!(c.answer(false).await.body, "GET /echo 0:");
}

#[tokio::test]
async fn a_chunked_request_goes_to_hyper_and_the_connection_keeps_working() {
    let s = server(LONG).await;
    let mut c = Client::connect(s.addr).await;
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        .await;
    assert_eq!(c.answer(false).await.body, "POST /echo 5:hello");
    c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(c.answer(false).await.body, "GET /echo 0:");
}

#[tokio::test]
async fn a_body_over_the_inline_limit_is_streamed_by_hyper() {
    let s = server(LONG).await;
    let mut c = Client::connect(s.addr).await;
    let n = head::MAX_INLINE_BODY + 1000;
    let mut raw =
        format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n").into_bytes();
    raw.extend(std::iter::repeat_n(b'z', n));
    c.send(&raw).await;
    let got = c.answer(false).await;
    assert!(
        got.body.starts_with(&format!("POST /echo {n}:zzz")),
        "{}",
        &got.body[..40]
    );
    assert_eq!(got.body.len(), format!("POST /echo {n}:").len() + n);
}

#[tokio::test]
async fn http_1_0_is_answered_by_hyper_and_closed() {
    let s = server(LONG).await;
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /echo HTTP/1.0\r\n\r\n").await;
    let got = c.answer(false).await;
    assert_eq!((got.status, got.body.as_str()), (200, "GET /echo 0:"));
    assert!(c.ends().await);
}

#[tokio::test]
async fn malformed_or_ambiguous_requests_get_hypers_400() {
    let s = server(LONG).await;
    for raw in [
        &b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"[..],
        b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"POST /echo HTTP/1.1\r\nContent-Length: -3\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ] {
        let mut c = Client::connect(s.addr).await;
        c.send(raw).await;
        let got = c.answer(false).await;
        assert_eq!(got.status, 400, "{:?}", String::from_utf8_lossy(raw));
        assert!(c.ends().await);
    }
}

#[tokio::test]
async fn connection_close_from_either_side_ends_the_connection_after_the_answer() {
    let s = server(LONG).await;
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    let got = c.answer(false).await;
    assert_eq!(
        (got.body.as_str(), got.header("connection")),
        ("GET /echo 0:", Some("close"))
    );
    assert!(c.ends().await);
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let got = c.answer(false).await;
    assert_eq!(
        (got.body.as_str(), got.header("connection")),
        ("bye", Some("close"))
    );
    assert!(c.ends().await);
}

#[tokio::test]
async fn head_and_204_answers_carry_no_body() {
    let s = server(LONG).await;
    let mut c = Client::connect(s.addr).await;
    c.send(b"HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\nGET /empty HTTP/1.1\r\nHost: x\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let head = c.answer(true).await;
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("13"))
    );
    let empty = c.answer(false).await;
    assert_eq!((empty.status, empty.header("content-length")), (204, None));
    // Had either written a body, this answer would not parse.
    assert_eq!(c.answer(false).await.body, "GET /echo 0:");
}

#[tokio::test]
async fn a_body_of_unknown_length_is_sent_chunked_piece_by_piece() {
    let s = server(LONG).await;
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let got = c.answer(false).await;
    assert_eq!(got.header("transfer-encoding"), Some("chunked"));
    assert_eq!(got.header("content-length"), None);
    assert_eq!(got.body, "data: one\n\ndata: two\n\n");
    c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(c.answer(false).await.body, "GET /echo 0:");
}

#[tokio::test]
async fn a_stalled_head_or_an_idle_connection_is_closed_at_the_deadline() {
    let s = server(Duration::from_millis(200)).await;
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /echo HT").await;
    assert!(c.ends().await, "stalled head");
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(c.answer(false).await.status, 200);
    assert!(c.ends().await, "idle after an answer");
}

#[tokio::test]
async fn the_deadline_counts_from_each_request_not_from_the_first() {
    // The timer is armed once per connection and moved on only when it fires early: a
    // client asking every 0.6 s under a 1 s deadline is served past the first deadline.
    let s = server(Duration::from_secs(1)).await;
    let mut c = Client::connect(s.addr).await;
    let started = std::time::Instant::now();
    for _ in 0..3 {
        c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert_eq!(c.answer(false).await.status, 200);
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    assert!(started.elapsed() > Duration::from_millis(1500));
    c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(c.answer(false).await.status, 200);
    let idle = std::time::Instant::now();
    assert!(c.ends().await, "idle after the last answer");
    assert!(
        idle.elapsed() >= Duration::from_millis(900),
        "{:?}",
        idle.elapsed()
    );
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_its_request() {
    let mut s = server(LONG).await;
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(s.event().await, Some(Event::Started));
    drop(c);
    assert_eq!(s.event().await, Some(Event::Dropped));
}

#[tokio::test]
async fn closing_ends_idle_connections_and_lets_the_request_in_flight_finish() {
    let mut s = server(LONG).await;
    let mut idle = Client::connect(s.addr).await;
    idle.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(idle.answer(false).await.status, 200);
    let mut busy = Client::connect(s.addr).await;
    busy.send(b"GET /gate HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(s.event().await, Some(Event::Started));
    s.closing.send(true).unwrap();
    assert!(idle.ends().await, "idle connection");
    s.gate.notify_one();
    let got = busy.answer(false).await;
    assert_eq!(
        (got.body.as_str(), got.header("connection")),
        ("opened", Some("close"))
    );
    assert!(busy.ends().await, "busy connection after its answer");
}

#[tokio::test]
async fn whole_answers_are_written_with_their_fields_and_framing() {
    let srv = server(Duration::from_secs(10)).await;
    let mut c = Client::connect(srv.addr).await;
    c.send(b"POST /whole HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi")
        .await;
    let got = c.answer(false).await;
    assert_eq!((got.status, got.body.as_str()), (201, "whole:hi"));
    assert_eq!(got.header("content-type"), Some("text/plain"));
    assert_eq!(got.header("x-extra"), Some("1"));
    assert_eq!(got.header("content-length"), Some("8"));
    assert!(got.header("date").is_some(), "{got:?}");

    // HEAD: the length of the GET body, no body; the connection stays in step.
    c.send(b"HEAD /whole HTTP/1.1\r\nHost: h\r\n\r\n").await;
    let got = c.answer(true).await;
    assert_eq!((got.status, got.header("content-length")), (201, Some("6")));
    // 204: no body and no length, whatever the service had.
    c.send(b"GET /whole-none HTTP/1.1\r\nHost: h\r\n\r\n").await;
    let got = c.answer(false).await;
    assert_eq!((got.status, got.header("content-length")), (204, None));
    // A body written from where it is (not copied behind the head).
    c.send(b"GET /whole-big HTTP/1.1\r\nHost: h\r\n\r\n").await;
    let got = c.answer(false).await;
    assert_eq!(got.body.len(), 5000);
    assert!(got.body.bytes().all(|b| b == b'w'));
    c.send(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n").await;
    assert_eq!(c.answer(false).await.body, "GET /x 0:");
    assert!(c.buf.is_empty(), "nothing after the answers: {:?}", c.buf);

    // A whole answer that asks to close ends the connection after it.
    c.send(b"GET /whole-close HTTP/1.1\r\nHost: h\r\n\r\n")
        .await;
    let got = c.answer(false).await;
    assert_eq!(
        (got.body.as_str(), got.header("connection")),
        ("bye", Some("close"))
    );
    assert!(!c.fill().await, "the connection is closed");
}
