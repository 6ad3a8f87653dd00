//! The 19 REST operations of the seed capability, each against a recording upstream:
//! the exact upstream request (method, raw path, query multiset, body bytes, headers)
//! and the REST answer (semantics §8.2 items 11–15, 23–25, §8.3 item 38).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Gateway, Resp, SECRET, pairs, query_multiset, start_seed};
use naftiko_testkit::{Recorded, RecordingUpstream};
use serde_json::{Value, json};

/// One REST call and the upstream request it must produce.
struct Case<'a> {
    method: &'a str,
    path: &'a str,
    body: Option<&'a str>,
    up_method: &'a str,
    up_path: &'a str,
    up_query: &'a [(&'a str, &'a str)],
}

async fn gateway() -> (RecordingUpstream, Gateway) {
    let up = RecordingUpstream::start().await;
    let gw = start_seed(&up.base_url()).await;
    (up, gw)
}

/// The one request the upstream saw.
async fn only_request(up: &RecordingUpstream) -> Recorded {
    let reqs = up.wait_for_requests(1, Duration::from_secs(5)).await;
    assert_eq!(reqs.len(), 1, "exactly one upstream request: {reqs:#?}");
    reqs.into_iter().next().unwrap()
}

/// Sends the case, checks the upstream request and the echoed REST answer.
async fn check(c: Case<'_>) -> (Recorded, Resp) {
    let (up, gw) = gateway().await;
    let resp = match c.body {
        Some(b) => gw.json(c.method, c.path, b).await,
        None => gw.send(c.method, c.path, &[], "").await,
    };
    let r = only_request(&up).await;
    let what = format!("{} {}", c.method, c.path);
    assert_eq!(r.method, c.up_method, "{what}: upstream method");
    assert_eq!(r.path, c.up_path, "{what}: upstream raw path");
    assert_eq!(
        query_multiset(&r),
        pairs(c.up_query),
        "{what}: upstream query"
    );
    if c.up_query.is_empty() {
        assert_eq!(r.query, None, "{what}: no query string at all");
    }
    assert_eq!(
        r.header_all("authorization"),
        vec![SECRET],
        "{what}: Authorization from the bind"
    );
    match c.body {
        Some(b) => {
            let sent: Value = serde_json::from_str(b).unwrap();
            assert_eq!(r.json(), Some(sent), "{what}: JSON-equal body");
            assert_eq!(r.text(), b, "{what}: byte-equal passthrough body");
            assert_eq!(
                r.header("content-type"),
                Some("application/json"),
                "{what}: body content type"
            );
        }
        None => {
            assert!(r.body.is_empty(), "{what}: no body, got {:?}", r.text());
            assert_eq!(r.header("content-type"), None, "{what}: no content type");
        }
    }
    // The recording upstream echoes; `$.` passes its JSON through unchanged.
    assert_eq!(resp.status, 200, "{what}: status; body {}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let echo = json!({
        "method": r.method,
        "path": r.path,
        "query": r.query,
        "body": r.json(),
    });
    assert_eq!(resp.json(), echo, "{what}: echoed body");
    (r, resp)
}

const NO_QUERY: &[(&str, &str)] = &[];

#[tokio::test]
async fn listidentities_without_query_sends_no_query_string() {
    check(Case {
        method: "GET",
        path: "/v1/admin/identities",
        body: None,
        up_method: "GET",
        up_path: "/admin/identities",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn listidentities_forwards_page_size_and_token() {
    check(Case {
        method: "GET",
        path: "/v1/admin/identities?page_size=5&page_token=x",
        body: None,
        up_method: "GET",
        up_path: "/admin/identities",
        up_query: &[("page_size", "5"), ("page_token", "x")],
    })
    .await;
}

#[tokio::test]
async fn listidentities_forwards_every_declared_parameter_and_repeats_arrays() {
    let (r, _) = check(Case {
        method: "GET",
        path: "/v1/admin/identities?per_page=3&page=2&page_size=4&page_token=tok&consistency=strong\
               &ids=a&ids=b&credentials_identifier=a%2Bb%40c.d&preview_credentials_identifier_similar=x+y\
               &include_credential=password&include_credential=oidc&organization_id=org-1&undeclared=1",
        body: None,
        up_method: "GET",
        up_path: "/admin/identities",
        up_query: &[
            ("per_page", "3"),
            ("page", "2"),
            ("page_size", "4"),
            ("page_token", "tok"),
            ("consistency", "strong"),
            ("ids", "a"),
            ("ids", "b"),
            ("credentials_identifier", "a+b@c.d"),
            ("preview_credentials_identifier_similar", "x y"),
            ("include_credential", "password"),
            ("include_credential", "oidc"),
            ("organization_id", "org-1"),
        ],
    })
    .await;
    // Repeated keys in request order, never `ids=[a, b]` or a comma list.
    let ids: Vec<String> = r
        .query_pairs()
        .into_iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(!r.query.as_deref().unwrap().contains("undeclared"));
}

#[tokio::test]
async fn batchpatchidentities_forwards_the_body() {
    check(Case {
        method: "PATCH",
        path: "/v1/admin/identities",
        body: Some(r#"{"identities":[{"create":{"schema_id":"default","traits":{"email":"a@b.c"}},"patch_id":"p1"}]}"#),
        up_method: "PATCH",
        up_path: "/admin/identities",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn createidentity_forwards_the_body() {
    check(Case {
        method: "POST",
        path: "/v1/admin/identities",
        body: Some(r#"{"schema_id":"default","traits":{"email":"a@b.c"}}"#),
        up_method: "POST",
        up_path: "/admin/identities",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn createidentity_body_is_byte_equal_with_unsorted_keys() {
    check(Case {
        method: "POST",
        path: "/v1/admin/identities",
        body: Some(
            r#"{"traits":{"email":"a@b.c","name":"Zoë"},"schema_id":"default","state":"active"}"#,
        ),
        up_method: "POST",
        up_path: "/admin/identities",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn getidentitybyexternalid_binds_the_case_mismatched_path_variable() {
    check(Case {
        method: "GET",
        path: "/v1/admin/identities/by/external/ext-9?include_credential=password",
        body: None,
        up_method: "GET",
        up_path: "/admin/identities/by/external/ext-9",
        up_query: &[("include_credential", "password")],
    })
    .await;
}

#[tokio::test]
async fn deleteidentity() {
    check(Case {
        method: "DELETE",
        path: "/v1/admin/identities/abc",
        body: None,
        up_method: "DELETE",
        up_path: "/admin/identities/abc",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn getidentity_substitutes_single_brace_id() {
    check(Case {
        method: "GET",
        path: "/v1/admin/identities/abc-123",
        body: None,
        up_method: "GET",
        up_path: "/admin/identities/abc-123",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn getidentity_repeats_include_credential() {
    check(Case {
        method: "GET",
        path: "/v1/admin/identities/abc?include_credential=password&include_credential=oidc",
        body: None,
        up_method: "GET",
        up_path: "/admin/identities/abc",
        up_query: &[
            ("include_credential", "password"),
            ("include_credential", "oidc"),
        ],
    })
    .await;
}

#[tokio::test]
async fn patchidentity_forwards_a_json_array_body() {
    check(Case {
        method: "PATCH",
        path: "/v1/admin/identities/abc",
        body: Some(r#"[{"op":"replace","path":"/state","value":"inactive"}]"#),
        up_method: "PATCH",
        up_path: "/admin/identities/abc",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn updateidentity_forwards_the_body() {
    check(Case {
        method: "PUT",
        path: "/v1/admin/identities/abc",
        body: Some(r#"{"schema_id":"default","state":"active","traits":{"email":"x@y.z"}}"#),
        up_method: "PUT",
        up_path: "/admin/identities/abc",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn deleteidentitycredentials_fills_two_path_variables_and_the_query() {
    check(Case {
        method: "DELETE",
        path: "/v1/admin/identities/abc/credentials/oidc?identifier=github%3A123",
        body: None,
        up_method: "DELETE",
        up_path: "/admin/identities/abc/credentials/oidc",
        up_query: &[("identifier", "github:123")],
    })
    .await;
}

#[tokio::test]
async fn deleteidentitysessions() {
    check(Case {
        method: "DELETE",
        path: "/v1/admin/identities/abc/sessions",
        body: None,
        up_method: "DELETE",
        up_path: "/admin/identities/abc/sessions",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn listidentitysessions_forwards_typed_query() {
    check(Case {
        method: "GET",
        path: "/v1/admin/identities/abc/sessions?active=true&page_size=2&page_token=t",
        body: None,
        up_method: "GET",
        up_path: "/admin/identities/abc/sessions",
        up_query: &[("active", "true"), ("page_size", "2"), ("page_token", "t")],
    })
    .await;
}

#[tokio::test]
async fn createrecoverycodeforidentity_forwards_the_body() {
    check(Case {
        method: "POST",
        path: "/v1/admin/recovery/code",
        body: Some(r#"{"expires_in":"1h","identity_id":"abc"}"#),
        up_method: "POST",
        up_path: "/admin/recovery/code",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn createrecoverylinkforidentity_sends_query_and_body() {
    let (r, _) = check(Case {
        method: "POST",
        path: "/v1/admin/recovery/link?return_to=https%3A%2F%2Fx",
        body: Some(r#"{"identity_id":"abc"}"#),
        up_method: "POST",
        up_path: "/admin/recovery/link",
        up_query: &[("return_to", "https://x")],
    })
    .await;
    assert_eq!(r.json(), Some(json!({"identity_id": "abc"})));
}

#[tokio::test]
async fn listsessions_repeats_expand_and_keeps_booleans() {
    check(Case {
        method: "GET",
        path: "/v1/admin/sessions?expand=identity&expand=devices&active=false&page_size=1",
        body: None,
        up_method: "GET",
        up_path: "/admin/sessions",
        up_query: &[
            ("expand", "identity"),
            ("expand", "devices"),
            ("active", "false"),
            ("page_size", "1"),
        ],
    })
    .await;
}

#[tokio::test]
async fn disablesession() {
    check(Case {
        method: "DELETE",
        path: "/v1/admin/sessions/s-1",
        body: None,
        up_method: "DELETE",
        up_path: "/admin/sessions/s-1",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn getsession_forwards_expand() {
    check(Case {
        method: "GET",
        path: "/v1/admin/sessions/s-1?expand=identity",
        body: None,
        up_method: "GET",
        up_path: "/admin/sessions/s-1",
        up_query: &[("expand", "identity")],
    })
    .await;
}

#[tokio::test]
async fn extendsession_sends_no_body() {
    check(Case {
        method: "PATCH",
        path: "/v1/admin/sessions/s-1/extend",
        body: None,
        up_method: "PATCH",
        up_path: "/admin/sessions/s-1/extend",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn listidentityschemas_forwards_paging() {
    check(Case {
        method: "GET",
        path: "/v1/schemas?page=2&per_page=10",
        body: None,
        up_method: "GET",
        up_path: "/schemas",
        up_query: &[("page", "2"), ("per_page", "10")],
    })
    .await;
}

#[tokio::test]
async fn getidentityschema() {
    check(Case {
        method: "GET",
        path: "/v1/schemas/default",
        body: None,
        up_method: "GET",
        up_path: "/schemas/default",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn batchpatchidentities_pretty_printed_body_is_byte_equal() {
    check(Case {
        method: "PATCH",
        path: "/v1/admin/identities",
        body: Some("{\n  \"identities\": [\n    {\"patch_id\": \"p1\", \"create\": {\"schema_id\": \"default\", \"traits\": {}}}\n  ]\n}\n"),
        up_method: "PATCH",
        up_path: "/admin/identities",
        up_query: NO_QUERY,
    })
    .await;
}

#[tokio::test]
async fn updateidentity_body_keeps_big_integers_exact() {
    let (up, gw) = gateway().await;
    let body = r#"{"metadata_admin":{"n":12345678901234567890123},"schema_id":"default"}"#;
    let resp = gw.json("PUT", "/v1/admin/identities/abc", body).await;
    assert_eq!(resp.status, 200);
    let r = only_request(&up).await;
    assert!(
        r.text().contains("12345678901234567890123"),
        "the number reached the upstream changed: {}",
        r.text()
    );
}
