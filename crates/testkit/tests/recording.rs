//! RecordingUpstream over real HTTP: recording, echo, scripted answers, delays.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{send, try_send};
use naftiko_testkit::{Answer, MAX_RECORDED_BODY, RecordingUpstream, closed_port_url};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn records_method_path_query_headers_and_raw_body() {
    let up = RecordingUpstream::start().await;
    assert!(up.base_url().starts_with("http://127.0.0.1:"));
    let url = format!("{}/a%20b/c?x=1&y=hello+world&x=%C3%A9", up.base_url());
    let resp = send(
        "POST",
        &url,
        &[("X-Custom", "Value"), ("content-type", "text/plain")],
        "not json {",
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(
        resp.json(),
        json!({
            "method": "POST",
            "path": "/a%20b/c",
            "query": "x=1&y=hello+world&x=%C3%A9",
            "body": null,
        })
    );

    let reqs = up.wait_for_requests(1, WAIT).await;
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/a%20b/c");
    assert_eq!(r.query.as_deref(), Some("x=1&y=hello+world&x=%C3%A9"));
    assert_eq!(r.header("x-custom"), Some("Value"));
    assert_eq!(r.header("X-CUSTOM"), Some("Value"));
    assert!(r.headers.iter().any(|(k, _)| k == "x-custom"));
    assert!(r.headers.iter().all(|(k, _)| *k == k.to_lowercase()));
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(
        r.query_pairs(),
        vec![
            ("x".to_owned(), "1".to_owned()),
            ("y".to_owned(), "hello world".to_owned()),
            ("x".to_owned(), "é".to_owned()),
        ]
    );
    assert_eq!(&r.body[..], b"not json {");
    assert_eq!(r.json(), None);
    assert_eq!(up.request_count(), 1);
}

#[tokio::test]
async fn echo_includes_parsed_json_body_and_missing_query() {
    let up = RecordingUpstream::start().await;
    let resp = send(
        "PUT",
        &format!("{}/items/1", up.base_url()),
        &[("content-type", "application/json")],
        r#"{"a":[1,2]}"#,
    )
    .await;
    assert_eq!(
        resp.json(),
        json!({"method": "PUT", "path": "/items/1", "query": null, "body": {"a": [1, 2]}})
    );
    let reqs = up.requests();
    assert_eq!(reqs[0].json(), Some(json!({"a": [1, 2]})));
    assert_eq!(reqs[0].query, None);
    assert!(reqs[0].query_pairs().is_empty());
}

#[tokio::test]
async fn scripted_answers_match_exact_then_wildcard_and_once_first() {
    let up = RecordingUpstream::start().await;
    up.answer("*", "*", Answer::text(503, "text/plain", "down"));
    up.answer(
        "GET",
        "/x",
        Answer::json(404, json!({"missing": true})).with_header("x-trace", "abc"),
    );
    up.answer(http::Method::DELETE, "/x", Answer::empty(204));
    up.answer_once("GET", "/x", Answer::json(500, json!({"n": 1})));
    up.answer_once("GET", "/x", Answer::json(502, json!({"n": 2})));

    let base = up.base_url();
    assert_eq!(send("GET", &format!("{base}/x"), &[], "").await.status, 500);
    assert_eq!(send("GET", &format!("{base}/x"), &[], "").await.status, 502);
    let resp = send("GET", &format!("{base}/x?q=1"), &[], "").await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.header("x-trace"), Some("abc"));
    assert_eq!(resp.json(), json!({"missing": true}));
    let resp = send("DELETE", &format!("{base}/x"), &[], "").await;
    assert_eq!(resp.status, 204);
    assert!(resp.body.is_empty());
    let resp = send("POST", &format!("{base}/other"), &[], "{}").await;
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("content-type"), Some("text/plain"));
    assert_eq!(resp.text(), "down");

    // A later rule of the same specificity overrides an earlier one.
    up.answer("GET", "/x", Answer::json(200, json!({"v": 2})));
    assert_eq!(
        send("GET", &format!("{base}/x"), &[], "").await.json(),
        json!({"v": 2})
    );
    assert_eq!(up.wait_for_requests(6, WAIT).await.len(), 6);

    up.clear_answers();
    up.clear_requests();
    let resp = send("GET", &format!("{base}/x"), &[], "").await;
    assert_eq!(resp.json()["path"], "/x");
    assert_eq!(up.requests().len(), 1);
}

#[tokio::test]
async fn delayed_answers_are_delayed_and_still_recorded() {
    let up = RecordingUpstream::start().await;
    up.answer(
        "GET",
        "/slow",
        Answer::json(200, json!({"ok": true})).with_delay(Duration::from_millis(300)),
    );
    let started = Instant::now();
    let resp = send("GET", &format!("{}/slow", up.base_url()), &[], "").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.json(), json!({"ok": true}));

    // A client that gives up early: the request is recorded anyway.
    up.answer(
        "GET",
        "/hang",
        Answer::empty(200).with_delay(Duration::from_secs(30)),
    );
    let url = format!("{}/hang", up.base_url());
    let gave_up =
        tokio::time::timeout(Duration::from_millis(100), send("GET", &url, &[], "")).await;
    assert!(gave_up.is_err());
    let reqs = up.wait_for_requests(2, WAIT).await;
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].path, "/hang");
}

#[tokio::test]
async fn wait_for_requests_returns_what_it_has_on_timeout() {
    let up = RecordingUpstream::start().await;
    let started = Instant::now();
    assert!(
        up.wait_for_requests(1, Duration::from_millis(50))
            .await
            .is_empty()
    );
    assert!(started.elapsed() >= Duration::from_millis(50));

    // A waiter started before the request arrives is woken by it.
    let waiter = {
        let up = up.clone();
        tokio::spawn(async move { up.wait_for_requests(1, WAIT).await })
    };
    send("GET", &format!("{}/ping", up.base_url()), &[], "").await;
    assert_eq!(waiter.await.unwrap().len(), 1);
}

#[tokio::test]
async fn records_bodies_up_to_32_mib() {
    let up = RecordingUpstream::start().await;
    up.answer("POST", "/big", Answer::empty(202));
    let body = vec![b'x'; MAX_RECORDED_BODY];
    let resp = send("POST", &format!("{}/big", up.base_url()), &[], body).await;
    assert_eq!(resp.status, 202);
    let reqs = up.wait_for_requests(1, WAIT).await;
    assert_eq!(reqs[0].body.len(), MAX_RECORDED_BODY);
    assert!(reqs[0].body.iter().all(|b| *b == b'x'));

    // Larger bodies are refused with 413 but the request is still recorded.
    let too_big = vec![b'y'; MAX_RECORDED_BODY + 1];
    let outcome = try_send("POST", &format!("{}/big", up.base_url()), &[], too_big).await;
    if let Ok(resp) = outcome {
        assert_eq!(resp.status, 413);
    }
    let reqs = up.wait_for_requests(2, WAIT).await;
    assert_eq!(reqs.len(), 2);
    assert!(reqs[1].body.is_empty());
}

#[tokio::test]
async fn closed_port_url_refuses_connections() {
    let url = closed_port_url();
    assert!(url.starts_with("http://127.0.0.1:"));
    let addr = url.trim_start_matches("http://");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    assert!(try_send("GET", &format!("{url}/x"), &[], "").await.is_err());
}
