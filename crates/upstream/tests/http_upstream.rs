//! `HttpUpstream` against tiny servers on real 127.0.0.1 sockets.

// clippy's allow-unwrap-in-tests covers `#[test]` fns, not the helpers here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use naftiko_upstream::{CallOptions, HttpUpstream, Upstream, UpstreamError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const SECRET: &str = "Bearer s3cr3t-t0ken";

/// What the test server saw.
struct Seen {
    method: Method,
    path_and_query: String,
    headers: HeaderMap,
    body: Bytes,
}

struct Server {
    addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

/// A hyper HTTP/1.1 server that records each request and answers with
/// `respond`. Counts accepted TCP connections.
async fn hyper_server(respond: fn(&Seen) -> Response<Full<Bytes>>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicUsize::new(0));
    let (tx, seen) = mpsc::unbounded_channel();
    let counter = accepts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let tx = tx.clone();
            let svc = service_fn(move |req: Request<Incoming>| {
                let tx = tx.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let seen = Seen {
                        method: parts.method,
                        path_and_query: parts.uri.path_and_query().unwrap().to_string(),
                        headers: parts.headers,
                        body: body.collect().await.unwrap().to_bytes(),
                    };
                    let resp = respond(&seen);
                    let _ = tx.send(seen);
                    Ok::<_, Infallible>(resp)
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Server {
        addr,
        accepts,
        seen,
    }
}

/// A raw TCP server: reads the request head, then runs `script` on the
/// socket. Lets tests misbehave in ways hyper would not.
async fn raw_server<F, Fut>(script: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let script = Arc::new(script);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                script(stream).await;
            });
        }
    });
    addr
}

fn ok(body: &'static str) -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(body.as_bytes())))
}

fn client() -> HttpUpstream {
    HttpUpstream::new().unwrap()
}

fn get(url: String) -> Request<Bytes> {
    Request::get(url)
        .header("authorization", SECRET)
        .body(Bytes::new())
        .unwrap()
}

fn assert_no_secret(err: &UpstreamError) {
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("s3cr3t"), "secret leaked: {text}");
        assert!(!text.contains("api_key"), "query leaked: {text}");
    }
}

#[tokio::test]
async fn get_round_trip() {
    let mut srv = hyper_server(|_| {
        let mut r = ok("hello");
        r.headers_mut().insert("x-up", "yes".parse().unwrap());
        r
    })
    .await;
    let req = Request::get(format!("http://{}/items/7?expand=a&b=c%20d", srv.addr))
        .header("accept", "application/json")
        .header("x-api-key", "k1")
        .body(Bytes::new())
        .unwrap();
    let resp = client()
        .send_http(req, &CallOptions::default())
        .await
        .unwrap();

    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["x-up"], "yes");
    assert_eq!(resp.body().as_ref(), b"hello");
    let seen = srv.seen.recv().await.unwrap();
    assert_eq!(seen.method, Method::GET);
    assert_eq!(seen.path_and_query, "/items/7?expand=a&b=c%20d");
    assert_eq!(seen.headers["accept"], "application/json");
    assert_eq!(seen.headers["x-api-key"], "k1");
    assert_eq!(
        seen.headers["host"],
        srv.addr.to_string(),
        "Host set from the URI"
    );
    assert!(seen.headers.get("content-length").is_none());
    assert!(seen.body.is_empty());
}

#[tokio::test]
async fn post_round_trip_with_corrected_content_length() {
    let mut srv = hyper_server(|seen| {
        let mut r = Response::new(Full::new(seen.body.clone()));
        *r.status_mut() = StatusCode::CREATED;
        r
    })
    .await;
    let payload = Bytes::from_static(br#"{"name":"x","n":[1,2,3]}"#);
    let req = Request::post(format!("http://{}/things", srv.addr))
        .header("content-type", "application/json")
        // Stale on purpose: the body decides the length.
        .header("content-length", "3")
        .header("host", "api.example.test")
        .body(payload.clone())
        .unwrap();
    let resp = client()
        .send_http(req, &CallOptions::default())
        .await
        .unwrap();

    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.body(), &payload);
    let seen = srv.seen.recv().await.unwrap();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path_and_query, "/things");
    assert_eq!(seen.headers["content-type"], "application/json");
    assert_eq!(seen.headers["content-length"], payload.len().to_string());
    assert_eq!(seen.headers["host"], "api.example.test", "caller Host kept");
    assert_eq!(seen.body, payload);
}

#[tokio::test]
async fn empty_post_says_content_length_zero() {
    let mut srv = hyper_server(|_| ok("")).await;
    let req = Request::post(format!("http://{}/x", srv.addr))
        .body(Bytes::new())
        .unwrap();
    client()
        .send_http(req, &CallOptions::default())
        .await
        .unwrap();
    let seen = srv.seen.recv().await.unwrap();
    assert_eq!(seen.headers["content-length"], "0");
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let srv = hyper_server(|_| ok("pong")).await;
    let up = client();
    for i in 0..3 {
        let resp = up
            .send_http(
                get(format!("http://{}/ping/{i}", srv.addr)),
                &CallOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(resp.body().as_ref(), b"pong");
    }
    assert_eq!(srv.accepts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn closed_port_is_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}/x?api_key=s3cr3t");
    let err = client()
        .send_http(get(url), &CallOptions::default())
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert_eq!(err.kind(), "upstream_unreachable");
    assert!(err.to_string().contains(&format!("http://{addr}")), "{err}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn tls_handshake_failure_is_connect_error() {
    // Answers a ClientHello with plaintext HTTP.
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            }
        });
        addr
    };
    let url = format!("https://localhost:{}/x?api_key=s3cr3t", addr.port());
    let err = client()
        .send_http(get(url), &CallOptions::default())
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn silent_server_times_out() {
    let addr = raw_server(|stream| async move {
        // Hold the connection open without answering.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    })
    .await;
    let opts = CallOptions {
        timeout: Duration::from_millis(200),
        ..CallOptions::default()
    };
    let started = Instant::now();
    let url = format!("http://{addr}/slow?api_key=s3cr3t");
    let err = client().send_http(get(url), &opts).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        err,
        UpstreamError::Timeout {
            after: Duration::from_millis(200)
        }
    );
    assert_eq!(err.kind(), "upstream_timeout");
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn declared_body_over_limit_is_too_large() {
    let srv = hyper_server(|_| ok("0123456789abcdef")).await;
    let opts = CallOptions {
        max_body: 8,
        ..CallOptions::default()
    };
    let err = client()
        .send_http(get(format!("http://{}/", srv.addr)), &opts)
        .await
        .unwrap_err();
    assert_eq!(err, UpstreamError::TooLarge { limit: 8 });
    assert_eq!(err.kind(), "upstream_too_large");
}

#[tokio::test]
async fn chunked_body_over_limit_is_too_large() {
    // No Content-Length, so the cap is enforced while counting chunks.
    let addr = raw_server(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        for _ in 0..64 {
            if s.write_all(b"400\r\n").await.is_err() {
                return;
            }
            let _ = s.write_all(&[b'x'; 0x400]).await;
            let _ = s.write_all(b"\r\n").await;
        }
        let _ = s.write_all(b"0\r\n\r\n").await;
    })
    .await;
    let opts = CallOptions {
        max_body: 10_000,
        ..CallOptions::default()
    };
    let err = client()
        .send_http(get(format!("http://{addr}/")), &opts)
        .await
        .unwrap_err();
    assert_eq!(err, UpstreamError::TooLarge { limit: 10_000 });

    // The same body fits under a larger cap and arrives intact.
    let opts = CallOptions {
        max_body: 64 * 1024,
        ..CallOptions::default()
    };
    let resp = client()
        .send_http(get(format!("http://{addr}/")), &opts)
        .await
        .unwrap();
    assert_eq!(resp.body().len(), 64 * 0x400);
    assert!(resp.body().iter().all(|&b| b == b'x'));
}

#[tokio::test]
async fn redirect_is_returned_not_followed() {
    let mut srv = hyper_server(|seen| {
        if seen.path_and_query == "/old" {
            let mut r = ok("");
            *r.status_mut() = StatusCode::FOUND;
            r.headers_mut().insert("location", "/new".parse().unwrap());
            r
        } else {
            ok("followed")
        }
    })
    .await;
    let resp = client()
        .send_http(
            get(format!("http://{}/old", srv.addr)),
            &CallOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(resp.headers()["location"], "/new");
    assert_eq!(srv.seen.recv().await.unwrap().path_and_query, "/old");
    assert!(srv.seen.try_recv().is_err(), "no second request was made");
}

#[tokio::test]
async fn close_mid_body_is_protocol_error() {
    let addr = raw_server(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a few bytes")
            .await;
        // Dropping the stream closes the connection 84 bytes early.
    })
    .await;
    let url = format!("http://{addr}/x?api_key=s3cr3t");
    let err = client()
        .send_http(get(url), &CallOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Protocol { .. }), "{err:?}");
    assert_eq!(err.kind(), "upstream_protocol");
    assert_no_secret(&err);
}

#[tokio::test]
async fn garbage_response_is_protocol_error() {
    let addr = raw_server(|mut s| async move {
        let _ = s.write_all(b"this is not http\r\n\r\n").await;
    })
    .await;
    let err = client()
        .send_http(get(format!("http://{addr}/")), &CallOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Protocol { .. }), "{err:?}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn relative_uri_is_invalid_request() {
    let err = client()
        .send_http(get("/no/host".into()), &CallOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, UpstreamError::InvalidRequest { .. }),
        "{err:?}"
    );
}
