//! The exchange against canned and scripted peers over in-memory pipes.

use super::*;
use http::{HeaderName, HeaderValue};

fn req(method: Method, body: &'static [u8]) -> UpstreamRequest {
    let mut r = UpstreamRequest::from_http(
        http::Request::get("http://h/")
            .body(Bytes::from_static(body))
            .unwrap(),
    )
    .unwrap();
    r.method = method;
    r
}

#[test]
fn framing_headers_follow_the_body() {
    let mut r = req(Method::POST, b"abc");
    r.headers
        .push((CONTENT_LENGTH, HeaderValue::from_static("99")));
    r.headers
        .push((TRANSFER_ENCODING, HeaderValue::from_static("chunked")));
    r.headers.push((
        HeaderName::from_static("x-k"),
        HeaderValue::from_static("v"),
    ));
    let head = String::from_utf8(encode(&r, "/p?q=1", "h:81")).unwrap();
    assert_eq!(
        head,
        "POST /p?q=1 HTTP/1.1\r\nhost: h:81\r\nx-k: v\r\ncontent-length: 3\r\n\r\n"
    );
    let head = String::from_utf8(encode(&req(Method::POST, b""), "/", "h")).unwrap();
    assert!(head.contains("content-length: 0\r\n"), "{head}");
    let head = String::from_utf8(encode(&req(Method::GET, b""), "/", "h")).unwrap();
    assert!(!head.contains("content-length"), "{head}");
    let mut r = req(Method::GET, b"");
    r.headers.push((HOST, HeaderValue::from_static("other")));
    let head = String::from_utf8(encode(&r, "/", "h")).unwrap();
    assert_eq!(head, "GET / HTTP/1.1\r\nhost: other\r\n\r\n");
}

/// Runs one exchange against canned response bytes.
/// The request head `encode_request` writes.
fn encode(req: &UpstreamRequest, path: &str, host: &str) -> Vec<u8> {
    let mut out = b"left from the last exchange".to_vec();
    encode_request(&mut out, req, path, host);
    out
}

async fn answer(method: Method, bytes: &'static [u8]) -> Result<Exchanged, Failure> {
    let (mut client, mut server) = tokio::io::duplex(1 << 16);
    server.write_all(bytes).await.unwrap();
    drop(server.shutdown().await);
    let mut buf = BytesMut::new();
    exchange(
        &mut client,
        &mut buf,
        &mut Vec::new(),
        &req(method, b""),
        "h",
        1024,
    )
    .await
}

#[tokio::test]
async fn bodies_are_framed_as_rfc_9112_says() {
    let ok = answer(
        Method::GET,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi",
    )
    .await
    .unwrap();
    assert_eq!(
        (ok.response.body().as_ref(), ok.reusable),
        (&b"hi"[..], true)
    );
    let chunked = answer(
        Method::GET,
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2;ext=1\r\nhi\r\nA\r\n0123456789\r\n0\r\nx-trailer: t\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(chunked.response.body().as_ref(), b"hi0123456789");
    assert!(chunked.reusable);
    let close = answer(Method::GET, b"HTTP/1.1 200 OK\r\n\r\nuntil close")
        .await
        .unwrap();
    assert_eq!(
        (close.response.body().as_ref(), close.reusable),
        (&b"until close"[..], false)
    );
    let head = answer(
        Method::HEAD,
        b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!((head.response.body().len(), head.reusable), (0, true));
    let early = answer(
        Method::GET,
        b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(early.response.status(), 204);
    let old = answer(
        Method::GET,
        b"HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\nx",
    )
    .await
    .unwrap();
    assert!(!old.reusable, "HTTP/1.0 without keep-alive");
    let closing = answer(
        Method::GET,
        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1\r\n\r\nx",
    )
    .await
    .unwrap();
    assert!(!closing.reusable);
    let extra = answer(
        Method::GET,
        b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nxy",
    )
    .await
    .unwrap();
    assert!(!extra.reusable, "bytes after the body");
}

#[tokio::test]
async fn an_inline_body_does_not_stay_in_the_connections_buffer() {
    let (mut client, mut server) = tokio::io::duplex(1 << 17);
    server
        .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
        .await
        .unwrap();
    let mut r = req(Method::PUT, b"");
    let mut scratch = Vec::new();
    r.body = Bytes::from(vec![b'x'; KEPT_HEAD_BUFFER]);
    let done = exchange(&mut client, &mut BytesMut::new(), &mut scratch, &r, "h", 10).await;
    assert!(done.is_ok_and(|d| d.reusable));
    assert_eq!(scratch.capacity(), 0);
    let mut sent = vec![0u8; 1 << 17];
    let n = server.read(&mut sent).await.unwrap();
    assert!(n > KEPT_HEAD_BUFFER && sent[..n].ends_with(b"xxxx"), "{n}");
}

#[tokio::test]
async fn big_bodies_go_after_the_head() {
    let body = Bytes::from(vec![b'x'; INLINE_BODY + 10]);
    let (mut client, mut server) = tokio::io::duplex(4096);
    let expected = body.len();
    let head = format!("PUT /big HTTP/1.1\r\nhost: h\r\ncontent-length: {expected}\r\n\r\n");
    let total = head.len() + expected;
    let peer = tokio::spawn(async move {
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        while got.len() < total {
            let n = server.read(&mut chunk).await.unwrap();
            got.extend_from_slice(&chunk[..n]);
        }
        server
            .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
            .await
            .unwrap();
        got
    });
    let mut r = req(Method::PUT, b"");
    r.body = body;
    r.target = "/big".into();
    let done = exchange(
        &mut client,
        &mut BytesMut::new(),
        &mut Vec::new(),
        &r,
        "h",
        10,
    )
    .await;
    assert_eq!(
        done.ok().map(|d| d.response.status()),
        Some(StatusCode::NO_CONTENT)
    );
    let got = peer.await.unwrap();
    assert!(got.starts_with(head.as_bytes()));
    assert_eq!(got.len(), total);
}

#[tokio::test]
async fn ambiguous_or_broken_answers_are_refused() {
    for bytes in [
        &b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhiX\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        b"garbage\r\n\r\n",
    ] {
        let got = answer(Method::GET, bytes).await;
        assert!(
            matches!(got, Err(Failure::Protocol(_))),
            "{:?}: {:?}",
            String::from_utf8_lossy(bytes),
            got.err()
        );
    }
    assert!(matches!(
        answer(Method::GET, b"").await,
        Err(Failure::ClosedBeforeResponse)
    ));
    assert!(matches!(
        answer(
            Method::GET,
            b"HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n"
        )
        .await,
        Err(Failure::TooLarge)
    ));
}

#[test]
fn response_field_names_are_kept_as_sent_and_found_in_any_case() {
    let heads: [&[u8]; 3] = [
        b"HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nX-Id: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-type: c/d\r\nX-Id: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Id: 3\r\nX-New: n\r\nCONTENT-TYPE: e/f\r\n\r\n",
    ];
    for (i, head) in heads.into_iter().enumerate() {
        let (_, _, fields, _) = parse_head(&mut BytesMut::from(head)).unwrap().unwrap();
        let ct = fields.get("content-type").unwrap();
        assert_eq!(ct.value(), ["a/b", "c/d", "e/f"][i].as_bytes());
        assert_eq!(
            ct.name(),
            [&b"Content-Type"[..], b"content-type", b"CONTENT-TYPE"][i]
        );
        assert_eq!(
            fields.get("x-id").unwrap().value(),
            (i + 1).to_string().as_bytes()
        );
        assert_eq!(fields.len(), if i == 2 { 3 } else { 2 }, "{fields:?}");
    }
}

#[test]
fn response_heads_keep_every_field_as_sent() {
    let mut buf = BytesMut::from(
        &b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nx-a: 1\r\nX-A: 2\r\nx-obs: caf\xc3\xa9\r\nx-empty:\r\ncontent-length: 2\r\n\r\n{}"[..],
    );
    let (status, version, fields, _) = parse_head(&mut buf).unwrap().unwrap();
    let headers = fields.to_header_map();
    assert_eq!((status, version), (StatusCode::CREATED, Version::HTTP_11));
    assert_eq!(headers["content-type"], "application/json");
    let a: Vec<_> = headers.get_all("x-a").iter().collect();
    assert_eq!(a, ["1", "2"], "repeated fields kept in order");
    assert_eq!(headers["x-obs"].as_bytes(), "café".as_bytes());
    assert_eq!(headers["x-empty"], "");
    assert_eq!(headers.len(), 6);
    assert_eq!(&buf[..], b"{}", "the head is consumed, the body left");

    // Not complete yet: nothing consumed.
    let mut partial = BytesMut::from(&b"HTTP/1.1 200 OK\r\nx-a: 1\r\n"[..]);
    assert!(parse_head(&mut partial).unwrap().is_none());
    assert_eq!(partial.len(), 25);

    // As many fields as accepted, and one more.
    let many = |n: usize| {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..n {
            head.extend_from_slice(format!("x-{i}: {i}\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        BytesMut::from(&head[..])
    };
    let (_, _, fields, _) = parse_head(&mut many(MAX_HEADERS)).unwrap().unwrap();
    let headers = fields.to_header_map();
    assert_eq!(headers.len(), MAX_HEADERS);
    assert_eq!(headers["x-99"], "99");
    assert!(matches!(
        parse_head(&mut many(MAX_HEADERS + 1)),
        Err(Failure::Protocol(_))
    ));
}

/// A pipe end that notes its writes in a shared log.
struct Logged {
    io: tokio::io::DuplexStream,
    name: &'static str,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl AsyncRead for Logged {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Logged {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        this.log
            .lock()
            .unwrap()
            .push(format!("write {}", this.name));
        std::pin::Pin::new(&mut this.io).poll_write(cx, data)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Exchanges started by tasks that are ready in the same turn of the runtime write their
/// requests after all of them have started (see `batch`), so that an upstream sharing
/// the core is woken once for the lot instead of once per request.
#[tokio::test(flavor = "current_thread")]
async fn requests_ready_together_are_written_together() {
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for name in ["a", "b", "c"] {
        let (client, mut server) = tokio::io::duplex(1 << 16);
        server
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi")
            .await
            .unwrap();
        let log = std::sync::Arc::clone(&log);
        tasks.push(tokio::spawn(async move {
            log.lock().unwrap().push(format!("start {name}"));
            let mut io = Logged {
                io: client,
                name,
                log,
            };
            let done = exchange(
                &mut io,
                &mut BytesMut::new(),
                &mut Vec::new(),
                &req(Method::GET, b""),
                "h",
                1024,
            )
            .await;
            drop(server);
            done.map(|e| e.response.into_body())
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), &b"hi"[..]);
    }
    assert_eq!(
        *log.lock().unwrap(),
        [
            "start a", "start b", "start c", "write a", "write b", "write c"
        ]
    );
}
