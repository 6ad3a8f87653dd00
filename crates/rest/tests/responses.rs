//! What the caller gets back (semantics §8.3 items 31–33, §8.4 items 40–46): statuses and
//! allow-listed headers passed through, problem+json for everything the gateway decides.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Gateway, Setup, start_seed, start_seed_with};
use naftiko_testkit::{Answer, RecordingUpstream};
use serde_json::json;

async fn gateway() -> (RecordingUpstream, Gateway) {
    let up = RecordingUpstream::start().await;
    let gw = start_seed(&up.base_url()).await;
    (up, gw)
}

#[tokio::test]
async fn created_status_and_location_pass_through() {
    let (up, gw) = gateway().await;
    let identity = json!({"id": "abc", "traits": {"email": "a@b.c"}});
    up.answer(
        "POST",
        "/admin/identities",
        Answer::json(201, identity.clone()).with_header("location", "/admin/identities/abc"),
    );
    let resp = gw
        .json("POST", "/v1/admin/identities", r#"{"schema_id":"default"}"#)
        .await;
    assert_eq!(resp.status, 201);
    assert_eq!(resp.header("location"), Some("/admin/identities/abc"));
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.json(), identity);
}

#[tokio::test]
async fn get_passes_the_upstream_json_through_exactly() {
    let (up, gw) = gateway().await;
    let raw = r#"{"traits":{"email":"a@b.c"},"id":"abc","n":12345678901234567890123}"#;
    up.answer(
        "GET",
        "/admin/identities/abc",
        Answer::text(200, "application/json; charset=utf-8", raw),
    );
    let resp = gw.get("/v1/admin/identities/abc").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), raw, "`$.` passes the upstream bytes through");
    assert_eq!(
        resp.header("content-type"),
        Some("application/json; charset=utf-8")
    );
}

#[tokio::test]
async fn no_content_has_an_empty_body() {
    let (up, gw) = gateway().await;
    up.answer("DELETE", "/admin/identities/abc", Answer::empty(204));
    let resp = gw.send("DELETE", "/v1/admin/identities/abc", &[], "").await;
    assert_eq!(resp.status, 204);
    assert!(resp.body.is_empty(), "{:?}", resp.text());
    assert_eq!(resp.header("content-type"), None);
}

#[tokio::test]
async fn upstream_not_found_json_passes_through_with_its_status() {
    let (up, gw) = gateway().await;
    let err = json!({"error": {"code": 404, "message": "Unable to locate the resource"}});
    up.answer(
        "GET",
        "/admin/identities/nope",
        Answer::json(404, err.clone()),
    );
    let resp = gw.get("/v1/admin/identities/nope").await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.json(), err);
}

#[tokio::test]
async fn upstream_conflict_and_bad_request_json_pass_through() {
    for status in [400u16, 409, 422] {
        let (up, gw) = gateway().await;
        let err = json!({"error": {"code": status, "reason": "nope"}});
        up.answer("*", "*", Answer::json(status, err.clone()));
        let resp = gw
            .json("POST", "/v1/admin/identities", r#"{"schema_id":"x"}"#)
            .await;
        assert_eq!(resp.status, status);
        assert_eq!(resp.json(), err);
    }
}

#[tokio::test]
async fn upstream_html_error_page_becomes_a_502_problem() {
    let (up, gw) = gateway().await;
    up.answer(
        "GET",
        "/admin/identities/abc",
        Answer::text(502, "text/html", "<html><body>Bad Gateway</body></html>"),
    );
    let resp = gw.get("/v1/admin/identities/abc").await;
    let p = resp.problem(502, "upstream_bad_body");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("getidentity"),
        "names the operation: {detail}"
    );
    assert!(
        detail.contains("502"),
        "names the upstream status: {detail}"
    );
    assert!(!resp.text().contains("<html>"), "{}", resp.text());
}

#[tokio::test]
async fn non_json_success_body_under_root_mapping_is_a_502() {
    let (up, gw) = gateway().await;
    up.answer(
        "GET",
        "/schemas/default",
        Answer::text(200, "text/plain", "definitely not json"),
    );
    let resp = gw.get("/v1/schemas/default").await;
    let p = resp.problem(502, "upstream_bad_body");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("getidentityschema"), "{detail}");
    assert!(detail.contains("200"), "{detail}");
}

#[tokio::test]
async fn allow_listed_upstream_headers_pass_and_others_are_dropped() {
    let (up, gw) = gateway().await;
    up.answer(
        "GET",
        "/admin/identities",
        Answer::json(200, json!([]))
            .with_header(
                "link",
                "<http://u/admin/identities?page_token=n>; rel=\"next\"",
            )
            .with_header("etag", "\"v1\"")
            .with_header("cache-control", "no-store")
            .with_header("x-ratelimit-remaining", "9")
            .with_header("retry-after", "3")
            .with_header("set-cookie", "upstream=secret")
            .with_header("x-internal", "1")
            .with_header("server", "kratos"),
    );
    let resp = gw.get("/v1/admin/identities").await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("link"),
        Some("<http://u/admin/identities?page_token=n>; rel=\"next\"")
    );
    assert_eq!(resp.header("etag"), Some("\"v1\""));
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(resp.header("x-ratelimit-remaining"), Some("9"));
    assert_eq!(resp.header("retry-after"), Some("3"));
    assert_eq!(resp.header("set-cookie"), None);
    assert_eq!(resp.header("x-internal"), None);
    assert_ne!(resp.header("server"), Some("kratos"));
}

#[tokio::test]
async fn head_works_on_get_routes_without_a_body() {
    let (up, gw) = gateway().await;
    up.answer(
        "GET",
        "/admin/identities/abc",
        Answer::json(200, json!({"id": "abc"})).with_header("etag", "\"e\""),
    );
    let resp = gw.send("HEAD", "/v1/admin/identities/abc", &[], "").await;
    assert_eq!(resp.status, 200);
    assert!(resp.body.is_empty());
    assert_eq!(resp.header("etag"), Some("\"e\""));
    let r = up.requests();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].method, "GET", "HEAD is served by the GET operation");
    assert_eq!(r[0].path, "/admin/identities/abc");
}

#[tokio::test]
async fn trailing_slash_is_a_different_path_and_404() {
    let (up, gw) = gateway().await;
    for path in [
        "/v1/schemas/",
        "/v1/admin/identities/",
        "/v1/admin/identities/abc/",
    ] {
        let resp = gw.get(path).await;
        let p = resp.problem(404, "not_found");
        assert!(p["detail"].as_str().unwrap().contains(path), "{p}");
    }
    assert_eq!(up.request_count(), 0);
}

#[tokio::test]
async fn query_string_does_not_affect_routing() {
    let (up, gw) = gateway().await;
    let resp = gw.get("/v1/schemas?page_size=2").await;
    assert_eq!(resp.status, 200);
    assert_eq!(up.requests()[0].path, "/schemas");
}

#[tokio::test]
async fn unknown_path_is_a_404_problem_naming_it() {
    let (up, gw) = gateway().await;
    for path in [
        "/v1/nope",
        "/",
        "/admin/identities",
        "/v1/admin/identities/a/b/c/d",
    ] {
        let resp = gw.get(path).await;
        let p = resp.problem(404, "not_found");
        assert!(p["detail"].as_str().unwrap().contains(path), "{p}");
    }
    assert_eq!(up.request_count(), 0);
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let (up, gw) = gateway().await;
    let resp = gw.send("POST", "/v1/schemas", &[], "").await;
    resp.problem(405, "method_not_allowed");
    let allow: Vec<&str> = resp.header("allow").unwrap().split(", ").collect();
    assert_eq!(allow, ["GET", "HEAD"]);

    let resp = gw.send("POST", "/v1/admin/identities/abc", &[], "").await;
    resp.problem(405, "method_not_allowed");
    let mut allow: Vec<&str> = resp.header("allow").unwrap().split(", ").collect();
    allow.sort_unstable();
    assert_eq!(allow, ["DELETE", "GET", "HEAD", "PATCH", "PUT"]);

    let resp = gw.send("GET", "/v1/admin/recovery/code", &[], "").await;
    resp.problem(405, "method_not_allowed");
    assert_eq!(resp.header("allow"), Some("POST"));
    assert_eq!(up.request_count(), 0);
}

#[tokio::test]
async fn invalid_json_body_is_400_and_nothing_is_sent() {
    let (up, gw) = gateway().await;
    for body in ["{not json", "{\"a\":1", "[1,2", "\"unterminated"] {
        let resp = gw.json("POST", "/v1/admin/identities", body).await;
        let p = resp.problem(400, "invalid_body");
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("invalid JSON body"), "{body}: {detail}");
    }
    assert_eq!(up.request_count(), 0);
}

#[tokio::test]
async fn non_json_content_type_is_400_and_nothing_is_sent() {
    let (up, gw) = gateway().await;
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let resp = gw
            .send(
                "PUT",
                "/v1/admin/identities/abc",
                &[("content-type", ct)],
                r#"{"schema_id":"default"}"#,
            )
            .await;
        resp.problem(400, "invalid_body");
        assert!(resp.detail().contains(ct), "{ct}: {}", resp.detail());
    }
    assert_eq!(up.request_count(), 0);
}

#[tokio::test]
async fn body_over_the_limit_is_413_and_nothing_is_sent() {
    let up = RecordingUpstream::start().await;
    let setup = Setup {
        rest_max_body: 1024,
        ..Setup::default()
    };
    let gw = start_seed_with(&up.base_url(), &setup).await;
    let big = format!(r#"{{"schema_id":"{}"}}"#, "x".repeat(2048));
    let resp = gw.json("POST", "/v1/admin/identities", &big).await;
    resp.problem(413, "body_too_large");
    assert_eq!(up.request_count(), 0);

    // Just under the limit still works.
    let small = format!(r#"{{"schema_id":"{}"}}"#, "x".repeat(1000));
    let resp = gw.json("POST", "/v1/admin/identities", &small).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(up.request_count(), 1);
}

#[tokio::test]
async fn mapped_error_without_body_keeps_the_status() {
    let (up, gw) = gateway().await;
    up.answer("GET", "/admin/identities/gone", Answer::empty(410));
    let resp = gw.get("/v1/admin/identities/gone").await;
    assert_eq!(resp.status, 410);
    assert!(resp.body.is_empty());
}

#[tokio::test]
async fn repeated_allow_listed_headers_all_pass_through() {
    let (up, gw) = gateway().await;
    up.answer(
        "GET",
        "/admin/identities",
        Answer::json(200, json!([]))
            .with_header("link", "<http://u/a?page_token=1>; rel=\"next\"")
            .with_header("link", "<http://u/a>; rel=\"first\""),
    );
    let resp = gw.get("/v1/admin/identities").await;
    let links: Vec<&str> = resp
        .headers
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        links,
        [
            "<http://u/a?page_token=1>; rel=\"next\"",
            "<http://u/a>; rel=\"first\""
        ]
    );
}

#[tokio::test]
async fn upstream_problem_json_keeps_its_media_type() {
    let (up, gw) = gateway().await;
    let problem = json!({"type": "about:blank", "status": 422, "title": "Unprocessable"});
    up.answer(
        "PUT",
        "/admin/identities/abc",
        Answer::text(422, "application/problem+json", problem.to_string()),
    );
    let resp = gw
        .json("PUT", "/v1/admin/identities/abc", r#"{"schema_id":"x"}"#)
        .await;
    assert_eq!(resp.status, 422);
    assert_eq!(
        resp.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(resp.json(), problem);
}

#[tokio::test]
async fn concurrent_requests_are_not_mixed_up() {
    let (up, gw) = gateway().await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let gw = gw.clone();
        tasks.push(tokio::spawn(async move {
            let resp = gw
                .get(&format!(
                    "/v1/admin/identities/id-{i}?include_credential=c{i}"
                ))
                .await;
            assert_eq!(resp.status, 200);
            let echo = resp.json();
            assert_eq!(echo["path"], format!("/admin/identities/id-{i}"));
            assert_eq!(echo["query"], format!("include_credential=c{i}"));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(up.request_count(), 40);
}
