//! How the seed's REST inputs reach the upstream: path values decoded once and
//! re-encoded as exactly one segment (items 11, 12), `..` never navigating, typed query
//! values validated before any call (400 problem naming the input), and where `rest.X`
//! finds values (path → query → header → body field).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Gateway, SECRET, pairs, query_multiset, start_seed};
use naftiko_testkit::{Recorded, RecordingUpstream};
use percent_encoding::percent_decode_str;

async fn gateway() -> (RecordingUpstream, Gateway) {
    let up = RecordingUpstream::start().await;
    let gw = start_seed(&up.base_url()).await;
    (up, gw)
}

async fn only_request(up: &RecordingUpstream) -> Recorded {
    let reqs = up.wait_for_requests(1, Duration::from_secs(5)).await;
    assert_eq!(reqs.len(), 1, "exactly one upstream request: {reqs:#?}");
    reqs.into_iter().next().unwrap()
}

/// `GET /v1/admin/identities/{raw}` and the upstream path it produced.
async fn upstream_path_for_id(raw: &str) -> String {
    let (up, gw) = gateway().await;
    let resp = gw.get(&format!("/v1/admin/identities/{raw}")).await;
    assert_eq!(resp.status, 200, "{raw}: {}", resp.text());
    let r = only_request(&up).await;
    assert_eq!(r.method, "GET");
    r.path
}

#[tokio::test]
async fn space_is_decoded_once_and_reencoded_once() {
    let path = upstream_path_for_id("a%20b").await;
    assert_eq!(path, "/admin/identities/a%20b");
    assert!(!path.contains("%2520"));
}

#[tokio::test]
async fn percent_sign_and_unicode_are_reencoded() {
    assert_eq!(
        upstream_path_for_id("100%25").await,
        "/admin/identities/100%25"
    );
    assert_eq!(
        upstream_path_for_id("caf%C3%A9").await,
        "/admin/identities/caf%C3%A9"
    );
    assert_eq!(
        upstream_path_for_id("a+b@c").await,
        "/admin/identities/a+b@c"
    );
}

#[tokio::test]
async fn encoded_slash_stays_inside_one_segment() {
    assert_eq!(
        upstream_path_for_id("a%2Fb").await,
        "/admin/identities/a%2Fb"
    );
    // Not the sessions route, and not a new upstream segment either.
    assert_eq!(
        upstream_path_for_id("abc%2Fsessions").await,
        "/admin/identities/abc%2Fsessions"
    );
}

#[tokio::test]
async fn encoded_query_characters_stay_in_the_segment() {
    assert_eq!(
        upstream_path_for_id("a%3Fb%3Dc%23d").await,
        "/admin/identities/a%3Fb=c%23d"
    );
}

#[tokio::test]
async fn dot_segments_never_change_the_upstream_path() {
    for raw in [
        "..",
        "%2E%2E",
        "%2e%2e",
        ".",
        "%2E",
        "..%2F..%2Fschemas",
        "%2E%2E%2F",
    ] {
        for method in ["GET", "DELETE"] {
            let (up, gw) = gateway().await;
            let resp = gw
                .send(method, &format!("/v1/admin/identities/{raw}"), &[], "")
                .await;
            assert_eq!(resp.status, 200, "{method} {raw}: {}", resp.text());
            let r = only_request(&up).await;
            assert_eq!(r.method, method);
            let seg = r
                .path
                .strip_prefix("/admin/identities/")
                .unwrap_or_else(|| panic!("{raw}: upstream path {} escaped", r.path));
            assert!(!seg.is_empty() && !seg.contains('/'), "{raw}: {}", r.path);
            assert!(
                seg != ".." && seg != ".",
                "{raw}: a raw dot segment reached the upstream: {}",
                r.path
            );
            let decoded = percent_decode_str(seg).decode_utf8().unwrap();
            let expected = percent_decode_str(raw).decode_utf8().unwrap();
            assert_eq!(decoded, expected, "{raw}: the value the upstream sees");
        }
    }
}

#[tokio::test]
async fn dot_dot_in_a_middle_segment_stays_a_value() {
    let (up, gw) = gateway().await;
    let resp = gw
        .send("DELETE", "/v1/admin/identities/../sessions", &[], "")
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = only_request(&up).await;
    assert_eq!(r.method, "DELETE");
    assert_eq!(r.path, "/admin/identities/%2E%2E/sessions");
}

#[tokio::test]
async fn reserved_characters_in_query_values_round_trip() {
    let (up, gw) = gateway().await;
    let resp = gw
        .get("/v1/admin/identities?page_token=a%26b%3Dc%2Bd%25e&consistency=eventual")
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = only_request(&up).await;
    assert_eq!(
        query_multiset(&r),
        pairs(&[("consistency", "eventual"), ("page_token", "a&b=c+d%e")])
    );
}

#[tokio::test]
async fn single_array_value_is_sent_once() {
    let (up, gw) = gateway().await;
    gw.get("/v1/admin/identities?ids=only").await;
    let r = only_request(&up).await;
    assert_eq!(r.query.as_deref(), Some("ids=only"));
}

#[tokio::test]
async fn non_integer_page_size_is_400_and_nothing_is_sent() {
    for q in [
        "page_size=abc",
        "page_size=1.5",
        "page_size=",
        "per_page=ten",
    ] {
        let (up, gw) = gateway().await;
        let resp = gw.get(&format!("/v1/admin/identities?{q}")).await;
        resp.problem(400, "invalid_input");
        let name = q.split('=').next().unwrap();
        assert!(
            resp.detail().contains(name),
            "{q}: detail names {name}: {}",
            resp.detail()
        );
        assert_eq!(up.request_count(), 0, "{q}: upstream must receive nothing");
    }
}

#[tokio::test]
async fn non_boolean_active_is_400_and_nothing_is_sent() {
    for path in [
        "/v1/admin/sessions?active=maybe",
        "/v1/admin/identities/abc/sessions?active=maybe",
        "/v1/admin/sessions?active=1",
    ] {
        let (up, gw) = gateway().await;
        let resp = gw.get(path).await;
        resp.problem(400, "invalid_input");
        assert!(
            resp.detail().contains("active"),
            "{path}: {}",
            resp.detail()
        );
        assert_eq!(
            up.request_count(),
            0,
            "{path}: upstream must receive nothing"
        );
    }
}

#[tokio::test]
async fn caller_headers_never_reach_the_upstream() {
    let (up, gw) = gateway().await;
    let resp = gw
        .send(
            "GET",
            "/v1/admin/identities/abc",
            &[
                ("authorization", "Bearer caller-token"),
                ("cookie", "session=caller"),
                ("x-custom", "1"),
            ],
            "",
        )
        .await;
    assert_eq!(resp.status, 200);
    let r = only_request(&up).await;
    assert_eq!(r.header_all("authorization"), vec![SECRET]);
    assert_eq!(r.header("cookie"), None);
    assert_eq!(r.header("x-custom"), None);
}

#[tokio::test]
async fn path_variable_wins_over_query_parameter_of_the_same_name() {
    let (up, gw) = gateway().await;
    gw.get("/v1/admin/identities/abc?id=zzz").await;
    let r = only_request(&up).await;
    assert_eq!(r.path, "/admin/identities/abc");
    assert_eq!(r.query, None);
}

#[tokio::test]
async fn rest_input_falls_back_to_a_request_header() {
    let (up, gw) = gateway().await;
    gw.send(
        "GET",
        "/v1/admin/identities",
        &[("organization_id", "org-h")],
        "",
    )
    .await;
    let r = only_request(&up).await;
    assert_eq!(query_multiset(&r), pairs(&[("organization_id", "org-h")]));
}

#[tokio::test]
async fn rest_input_falls_back_to_a_body_field_and_query_wins() {
    let (up, gw) = gateway().await;
    let body = r#"{"identity_id":"abc","return_to":"https://from-body"}"#;
    gw.json("POST", "/v1/admin/recovery/link", body).await;
    let r = only_request(&up).await;
    assert_eq!(
        query_multiset(&r),
        pairs(&[("return_to", "https://from-body")])
    );
    assert_eq!(r.text(), body);

    let (up, gw) = gateway().await;
    gw.json(
        "POST",
        "/v1/admin/recovery/link?return_to=https%3A%2F%2Fq",
        body,
    )
    .await;
    let r = only_request(&up).await;
    assert_eq!(query_multiset(&r), pairs(&[("return_to", "https://q")]));
}

#[tokio::test]
async fn write_without_a_body_sends_no_body() {
    let (up, gw) = gateway().await;
    let resp = gw.send("POST", "/v1/admin/identities", &[], "").await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = only_request(&up).await;
    assert_eq!(r.method, "POST");
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-type"), None);
}

#[tokio::test]
async fn json_content_type_with_parameters_and_suffix_is_accepted() {
    for ct in [
        "application/json; charset=utf-8",
        "application/merge-patch+json",
    ] {
        let (up, gw) = gateway().await;
        let body = r#"{"schema_id":"default"}"#;
        let resp = gw
            .send(
                "PUT",
                "/v1/admin/identities/abc",
                &[("content-type", ct)],
                body,
            )
            .await;
        assert_eq!(resp.status, 200, "{ct}: {}", resp.text());
        let r = only_request(&up).await;
        assert_eq!(r.text(), body, "{ct}");
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn malformed_body_is_ignored_when_no_binding_needs_it() {
    let (up, gw) = gateway().await;
    let resp = gw
        .json("GET", "/v1/admin/identities?page_size=2", "{broken")
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = only_request(&up).await;
    assert_eq!(query_multiset(&r), pairs(&[("page_size", "2")]));
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn empty_path_segment_never_reaches_the_upstream() {
    let (up, gw) = gateway().await;
    for path in [
        "/v1/admin/identities//sessions",
        "/v1/admin/sessions//extend",
    ] {
        let resp = gw.send("GET", path, &[], "").await;
        assert!(
            resp.status == 404 || resp.status == 400 || resp.status == 405,
            "{path}: {}",
            resp.status
        );
    }
    assert_eq!(up.request_count(), 0);
}

#[tokio::test]
async fn invalid_utf8_in_a_path_variable_is_kept_or_rejected() {
    for raw in ["a%FFb", "a%FEb"] {
        let (up, gw) = gateway().await;
        let resp = gw.get(&format!("/v1/admin/identities/{raw}")).await;
        if resp.status == 400 {
            assert_eq!(up.request_count(), 0);
            continue;
        }
        let r = only_request(&up).await;
        assert_eq!(r.path, format!("/admin/identities/{raw}"), "{raw}");
    }
}
