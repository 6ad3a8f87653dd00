#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn plain(raw: &str) -> (Plain, Spans) {
    let mut fields = Spans::new();
    match scan(raw.as_bytes(), &mut fields) {
        Scan::Plain(p) => (p, fields),
        Scan::Partial => panic!("partial: {raw:?}"),
        Scan::Other => panic!("other: {raw:?}"),
    }
}

fn is_other(raw: &[u8]) -> bool {
    matches!(scan(raw, &mut Spans::new()), Scan::Other)
}

#[test]
fn a_plain_get_becomes_a_request_borrowing_the_head() {
    let raw = "GET /v1/items/7?x=%20y HTTP/1.1\r\nHost: a\r\nX-Two: 1\r\nx-two: 2\r\n\r\nNEXT";
    let (p, fields) = plain(raw);
    assert_eq!(p.head_len, raw.len() - 4);
    assert_eq!((p.body_len, p.close), (0, false));
    let head = Bytes::copy_from_slice(&raw.as_bytes()[..p.head_len]);
    let req = p.request(&fields, &head, Bytes::new()).unwrap();
    assert_eq!(req.method, Method::GET);
    assert_eq!(req.target.path(), "/v1/items/7");
    assert_eq!(req.target.query(), Some("x=%20y"));
    let value = |name: &str| req.headers.get(name).map(|f| f.value().to_vec());
    assert_eq!(value("host").as_deref(), Some(&b"a"[..]));
    let twos: Vec<_> = req.headers.get_all("x-two").map(|f| f.value()).collect();
    assert_eq!(twos, [b"1", b"2"]);
}

#[test]
fn a_target_outside_the_origin_forms_taken_here_is_left_to_hyper() {
    // httparse takes these; `OriginForm` does not (`http` refuses some of them), so
    // hyper parses and answers the request.
    for target in ["/a<b", "/a>b", "/a`b", "/?a\"b", "/a#f"] {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: h\r\n\r\n");
        let (p, fields) = plain(&raw);
        let head = Bytes::copy_from_slice(&raw.as_bytes()[..p.head_len]);
        let req = p.request(&fields, &head, Bytes::new());
        assert!(req.is_none(), "{target}");
    }
}

#[test]
fn a_content_length_gives_the_body_and_close_is_seen_in_a_list() {
    let (p, _) =
        plain("POST /a HTTP/1.1\r\nContent-Length: 0012\r\nConnection: keep-alive, Close\r\n\r\n");
    assert_eq!((p.body_len, p.close), (12, true));
    assert_eq!(p.method, Method::POST);
}

#[test]
fn an_unfinished_head_asks_for_more() {
    for raw in [
        "",
        "GET",
        "GET / HTTP/1.1\r\nHost: a\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\r",
    ] {
        assert!(
            matches!(scan(raw.as_bytes(), &mut Spans::new()), Scan::Partial),
            "{raw:?}"
        );
    }
}

#[test]
fn anything_not_plain_is_left_to_hyper() {
    let cases: &[&[u8]] = &[
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
        b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        b"GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
        b"GET /\x7f HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ];
    for raw in cases {
        assert!(is_other(raw), "{:?}", String::from_utf8_lossy(raw));
    }
}

#[test]
fn a_body_over_the_inline_limit_is_left_to_hyper() {
    let at = format!("POST / HTTP/1.1\r\nContent-Length: {MAX_INLINE_BODY}\r\n\r\n");
    assert_eq!(plain(&at).0.body_len, MAX_INLINE_BODY);
    let over = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        MAX_INLINE_BODY + 1
    );
    assert!(is_other(over.as_bytes()));
}

#[test]
fn too_many_fields_or_too_long_a_head_is_left_to_hyper() {
    let many: String = (0..=MAX_HEADERS).map(|i| format!("x-{i}: v\r\n")).collect();
    assert!(is_other(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()));
    let long = format!("GET / HTTP/1.1\r\nx: {}\r\n", "v".repeat(MAX_HEAD));
    assert!(
        is_other(long.as_bytes()),
        "an unfinished head past the limit"
    );
    let done = format!("{long}\r\n");
    assert!(is_other(done.as_bytes()), "a finished head past the limit");
}

#[test]
fn obs_text_in_a_value_is_kept() {
    // httparse takes obs-text (RFC 9110 §5.5) and so does `http`: still plain.
    let (p, fields) = plain("GET / HTTP/1.1\r\nX: caf\u{e9}\r\n\r\n");
    let raw = "GET / HTTP/1.1\r\nX: caf\u{e9}\r\n\r\n";
    let head = Bytes::copy_from_slice(&raw.as_bytes()[..p.head_len]);
    let req = p.request(&fields, &head, Bytes::new()).unwrap();
    assert_eq!(
        req.headers.get("x").unwrap().value(),
        "caf\u{e9}".as_bytes()
    );
    assert_eq!(
        req.headers
            .get("x")
            .unwrap()
            .header_value()
            .unwrap()
            .as_bytes(),
        "caf\u{e9}".as_bytes()
    );
}

#[test]
fn an_empty_value_is_kept_empty() {
    let raw = "GET / HTTP/1.1\r\nX-Empty:\r\nY:  \r\nHost: h\r\n\r\n";
    let (p, fields) = plain(raw);
    let head = Bytes::copy_from_slice(&raw.as_bytes()[..p.head_len]);
    let req = p.request(&fields, &head, Bytes::new()).unwrap();
    let value = |name: &str| req.headers.get(name).unwrap().value().to_vec();
    assert_eq!(value("x-empty"), b"");
    assert_eq!(value("y"), b"");
    assert_eq!(value("host"), b"h");
}

#[test]
fn fields_are_kept_in_order_with_their_names_as_sent() {
    for raw in [
        "GET / HTTP/1.1\r\nMcp-Session-Id: a\r\nAccept: x\r\n\r\n",
        "GET / HTTP/1.1\r\nmcp-session-ID: b\r\nAccept: y\r\nMcp-Session: c\r\n\r\n",
        "GET / HTTP/1.1\r\nAccept: z\r\nX-New: 1\r\nMCP-SESSION-ID: d\r\n\r\n",
    ] {
        let (p, fields) = plain(raw);
        let head = Bytes::copy_from_slice(&raw.as_bytes()[..p.head_len]);
        let req = p.request(&fields, &head, Bytes::new()).unwrap();
        let got: Vec<_> = req
            .headers
            .iter()
            .map(|f| {
                format!(
                    "{}={}",
                    String::from_utf8_lossy(f.name()),
                    f.to_str().unwrap()
                )
            })
            .collect();
        let want: Vec<_> = raw
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.replacen(": ", "=", 1))
            .collect();
        assert_eq!(got, want, "{raw:?}");
        let session = req.headers.get("mcp-session-id").unwrap();
        assert_eq!(session.value().len(), 1, "{raw:?}");
    }
}

#[test]
fn content_length_is_digits_only() {
    assert_eq!(content_length(b"0"), Some(0));
    assert_eq!(content_length(b"1024"), Some(1024));
    for bad in [&b""[..], b"-1", b"1 ", b"0x10", b"1,1", b"1234567890123456"] {
        assert_eq!(content_length(bad), None, "{bad:?}");
    }
}

/// Mutated and cut requests never panic, and what is plain builds a request.
#[test]
fn mutated_heads_never_panic() {
    let seed = b"POST /v1/a/b?c=d HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-E:\r\nConnection: keep-alive\r\n\r\nabc";
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut fields = Spans::new();
    let mut plain_count = 0;
    for _ in 0..50_000 {
        let mut raw = seed.to_vec();
        for _ in 0..(next() % 4 + 1) {
            let at = (next() as usize) % raw.len();
            match next() % 3 {
                0 => raw[at] = next() as u8,
                1 => raw.insert(at, b"\r\n: \t,0"[(next() % 7) as usize]),
                _ => {
                    raw.remove(at);
                }
            }
        }
        let cut = match next() % 4 {
            0 => (next() as usize) % (raw.len() + 1),
            _ => raw.len(),
        };
        if let Scan::Plain(p) = scan(&raw[..cut], &mut fields) {
            plain_count += 1;
            let head = Bytes::copy_from_slice(&raw[..p.head_len]);
            let _ = p.request(&fields, &head, Bytes::new());
        }
    }
    assert!(
        plain_count > 5000,
        "only {plain_count} mutated requests were plain"
    );
}
