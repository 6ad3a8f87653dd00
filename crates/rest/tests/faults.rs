//! Upstream failures (semantics §8.4 item 45): unreachable → 502, too slow → 504, too big
//! → 502, upstream errors passed through; none of them leak the bound secret.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Setup, start_seed, start_seed_with};
use naftiko_testkit::{Answer, RecordingUpstream, closed_port_url};
use serde_json::json;

#[tokio::test]
async fn closed_port_is_502_upstream_unreachable() {
    let url = closed_port_url();
    let gw = start_seed(&url).await;
    for (method, path) in [
        ("GET", "/v1/admin/identities"),
        ("DELETE", "/v1/admin/identities/abc"),
        ("GET", "/v1/schemas/default"),
    ] {
        let resp = gw.send(method, path, &[], "").await;
        let p = resp.problem(502, "upstream_unreachable");
        let text = resp.text();
        assert!(!text.contains("t0k"), "{text}");
        assert!(
            p["detail"].as_str().unwrap().contains("kratos-identity"),
            "names the consumes namespace: {p}"
        );
    }
}

#[tokio::test]
async fn slow_upstream_is_504_upstream_timeout_promptly() {
    let up = RecordingUpstream::start().await;
    up.answer(
        "*",
        "*",
        Answer::json(200, json!({"late": true})).with_delay(Duration::from_secs(2)),
    );
    let setup = Setup {
        timeout: Duration::from_millis(200),
        ..Setup::default()
    };
    let gw = start_seed_with(&up.base_url(), &setup).await;
    let started = Instant::now();
    let resp = gw.get("/v1/admin/identities/abc").await;
    let took = started.elapsed();
    resp.problem(504, "upstream_timeout");
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    assert!(
        took >= Duration::from_millis(150),
        "answered after {took:?}"
    );
    assert!(!resp.text().contains("t0k"));
    // The request did reach the upstream: this is a timeout, not a connect failure.
    assert_eq!(up.request_count(), 1);
}

#[tokio::test]
async fn oversized_upstream_body_is_502() {
    let up = RecordingUpstream::start().await;
    let big = json!({"data": "x".repeat(4096)});
    up.answer("GET", "/admin/identities", Answer::json(200, big));
    up.answer(
        "GET",
        "/schemas",
        Answer::json(200, json!([{"id": "default"}])),
    );
    let setup = Setup {
        upstream_max_body: 1024,
        ..Setup::default()
    };
    let gw = start_seed_with(&up.base_url(), &setup).await;
    let resp = gw.get("/v1/admin/identities").await;
    let p = resp.problem(502, "upstream_too_large");
    assert!(!p.to_string().contains("xxxx"), "{p}");
    // A small answer through the same gateway is fine.
    let ok = gw.get("/v1/schemas").await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json(), json!([{"id": "default"}]));
}

#[tokio::test]
async fn upstream_500_json_passes_through() {
    let up = RecordingUpstream::start().await;
    let err = json!({"error": {"code": 500, "message": "database down"}});
    up.answer("*", "*", Answer::json(500, err.clone()));
    let gw = start_seed(&up.base_url()).await;
    let resp = gw.get("/v1/admin/sessions").await;
    assert_eq!(resp.status, 500);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.json(), err);
}

#[tokio::test]
async fn upstream_503_keeps_retry_after() {
    let up = RecordingUpstream::start().await;
    up.answer(
        "*",
        "*",
        Answer::json(503, json!({"error": {"code": 503}})).with_header("retry-after", "7"),
    );
    let gw = start_seed(&up.base_url()).await;
    let resp = gw.get("/v1/admin/sessions/s-1").await;
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("retry-after"), Some("7"));
    assert_eq!(resp.json(), json!({"error": {"code": 503}}));
}

#[tokio::test]
async fn upstream_500_plain_text_becomes_a_502_problem_naming_the_status() {
    let up = RecordingUpstream::start().await;
    up.answer("*", "*", Answer::text(500, "text/plain", "panic: boom"));
    let gw = start_seed(&up.base_url()).await;
    let resp = gw.get("/v1/admin/identities").await;
    let p = resp.problem(502, "upstream_bad_body");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("500") && detail.contains("listidentities"),
        "{detail}"
    );
    assert!(!resp.text().contains("panic: boom"));
}

#[tokio::test]
async fn invalid_json_labelled_as_json_is_a_502() {
    let up = RecordingUpstream::start().await;
    up.answer(
        "GET",
        "/admin/identities/abc",
        Answer::text(200, "application/json", r#"{"id":"abc","traits":"#),
    );
    let gw = start_seed(&up.base_url()).await;
    let resp = gw.get("/v1/admin/identities/abc").await;
    resp.problem(502, "upstream_bad_body");
}

#[tokio::test]
async fn recovers_after_the_upstream_comes_back() {
    let up = RecordingUpstream::start().await;
    up.answer_once(
        "*",
        "*",
        Answer::json(200, json!({})).with_delay(Duration::from_secs(2)),
    );
    let setup = Setup {
        timeout: Duration::from_millis(200),
        ..Setup::default()
    };
    let gw = start_seed_with(&up.base_url(), &setup).await;
    gw.get("/v1/schemas").await.problem(504, "upstream_timeout");
    let resp = gw.get("/v1/schemas").await;
    assert_eq!(resp.status, 200, "{}", resp.text());
}
