//! Every seed tool, called over MCP, sends exactly the expected upstream request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use naftiko_mcp::McpConfig;
use naftiko_testkit::RecordingUpstream;
use serde_json::{Value, json};

struct Case {
    tool: &'static str,
    args: Value,
    method: &'static str,
    path: &'static str,
    /// Decoded query pairs, compared without regard to order.
    query: &'static [(&'static str, &'static str)],
    body: Option<Value>,
}

fn cases() -> Vec<Case> {
    let c = |tool, args, method, path, query, body| Case {
        tool,
        args,
        method,
        path,
        query,
        body,
    };
    vec![
        c(
            "list-identities",
            json!({"ids": ["a", "b"], "page_size": 2}),
            "GET",
            "/admin/identities",
            &[("ids", "a"), ("ids", "b"), ("page_size", "2")],
            None,
        ),
        c(
            "create-multiple-identities",
            json!({"body": {"identities": [{"create": {"schema_id": "default", "traits": {}}}]}}),
            "PATCH",
            "/admin/identities",
            &[],
            Some(json!({"identities": [{"create": {"schema_id": "default", "traits": {}}}]})),
        ),
        c(
            "create-identity",
            json!({"body": {"schema_id": "default", "traits": {}}}),
            "POST",
            "/admin/identities",
            &[],
            Some(json!({"schema_id": "default", "traits": {}})),
        ),
        c(
            "get-identity-its-external-id",
            json!({"externalID": "ext-1", "include_credential": ["password"]}),
            "GET",
            "/admin/identities/by/external/ext-1",
            &[("include_credential", "password")],
            None,
        ),
        c(
            "delete-identity",
            json!({"id": "i1"}),
            "DELETE",
            "/admin/identities/i1",
            &[],
            None,
        ),
        c(
            "get-identity",
            json!({"id": "i1", "include_credential": ["oidc", "password"]}),
            "GET",
            "/admin/identities/i1",
            &[
                ("include_credential", "oidc"),
                ("include_credential", "password"),
            ],
            None,
        ),
        c(
            "patch-identity",
            json!({"id": "i1", "body": [{"op": "replace", "path": "/state", "value": "inactive"}]}),
            "PATCH",
            "/admin/identities/i1",
            &[],
            Some(json!([{"op": "replace", "path": "/state", "value": "inactive"}])),
        ),
        c(
            "update-identity",
            json!({"id": "i1", "body": {"schema_id": "default", "traits": {"email": "x@example.com"}}}),
            "PUT",
            "/admin/identities/i1",
            &[],
            Some(json!({"schema_id": "default", "traits": {"email": "x@example.com"}})),
        ),
        c(
            "delete-credential-specific-identity",
            json!({"id": "i1", "type": "oidc", "identifier": "google:123"}),
            "DELETE",
            "/admin/identities/i1/credentials/oidc",
            &[("identifier", "google:123")],
            None,
        ),
        c(
            "delete-invalidate-identity-s-sessions",
            json!({"id": "i1"}),
            "DELETE",
            "/admin/identities/i1/sessions",
            &[],
            None,
        ),
        c(
            "list-identity-s-sessions",
            json!({"id": "i1", "active": true, "page_size": 5}),
            "GET",
            "/admin/identities/i1/sessions",
            &[("active", "true"), ("page_size", "5")],
            None,
        ),
        c(
            "create-recovery-code",
            json!({"body": {"identity_id": "i1"}}),
            "POST",
            "/admin/recovery/code",
            &[],
            Some(json!({"identity_id": "i1"})),
        ),
        c(
            "create-recovery-link",
            json!({"return_to": "https://app.example/done", "body": {"identity_id": "i1"}}),
            "POST",
            "/admin/recovery/link",
            &[("return_to", "https://app.example/done")],
            Some(json!({"identity_id": "i1"})),
        ),
        c(
            "list-all-sessions",
            json!({"active": false, "expand": ["identity", "devices"], "page_size": 3}),
            "GET",
            "/admin/sessions",
            &[
                ("active", "false"),
                ("expand", "identity"),
                ("expand", "devices"),
                ("page_size", "3"),
            ],
            None,
        ),
        c(
            "deactivate-session",
            json!({"id": "s1"}),
            "DELETE",
            "/admin/sessions/s1",
            &[],
            None,
        ),
        c(
            "get-session",
            json!({"id": "s1", "expand": ["identity"]}),
            "GET",
            "/admin/sessions/s1",
            &[("expand", "identity")],
            None,
        ),
        c(
            "extend-session",
            json!({"id": "s1"}),
            "PATCH",
            "/admin/sessions/s1/extend",
            &[],
            None,
        ),
        c(
            "get-all-identity-schemas",
            json!({"page_size": 2, "page_token": "tok"}),
            "GET",
            "/schemas",
            &[("page_size", "2"), ("page_token", "tok")],
            None,
        ),
        c(
            "get-identity-json-schema",
            json!({"id": "default"}),
            "GET",
            "/schemas/default",
            &[],
            None,
        ),
    ]
}

fn sorted(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut v: Vec<_> = pairs.into_iter().collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_seed_tool_sends_the_expected_upstream_request() {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(&up.base_url(), McpConfig::default()).await;
    let session = initialize(&server.url(), "2025-11-25").await;
    let cases = cases();
    assert_eq!(cases.len(), 19);
    for case in &cases {
        up.clear_requests();
        let result = call_tool(&server.url(), &session, case.tool, case.args.clone()).await;
        assert_eq!(result["isError"], false, "{}: {result}", case.tool);
        let sent = up.wait_for_requests(1, Duration::from_secs(5)).await;
        assert_eq!(sent.len(), 1, "{}", case.tool);
        let req = &sent[0];
        assert_eq!(
            (req.method.as_str(), req.path.as_str()),
            (case.method, case.path),
            "{}",
            case.tool
        );
        let want = sorted(
            case.query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        assert_eq!(
            sorted(req.query_pairs()),
            want,
            "{} query {:?}",
            case.tool,
            req.query
        );
        assert_eq!(req.json(), case.body, "{} body", case.tool);
        assert_eq!(
            req.header("authorization"),
            Some("Bearer t0k"),
            "{}",
            case.tool
        );
        if case.body.is_some() {
            assert!(
                req.header("content-type")
                    .unwrap()
                    .starts_with("application/json"),
                "{}",
                case.tool
            );
        }
        // The recorder echoes the request as a JSON object: it comes back as text and as
        // structuredContent.
        let echoed: Value = serde_json::from_str(text(&result)).unwrap();
        assert_eq!(echoed["path"], case.path, "{}", case.tool);
        assert_eq!(result["structuredContent"], echoed, "{}", case.tool);
    }
}

#[tokio::test]
async fn integers_are_rendered_without_a_fraction() {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(
        &up.base_url(),
        McpConfig {
            stateless: true,
            ..McpConfig::default()
        },
    )
    .await;
    let r = post(
        &server.url(),
        &[],
        &call_body(1, "list-identities", json!({"page_size": 2, "per_page": 3})),
    )
    .await;
    assert_eq!(r.json()["result"]["isError"], false, "{}", r.body);
    let sent = up.wait_for_requests(1, Duration::from_secs(5)).await;
    assert_eq!(
        sorted(sent[0].query_pairs()),
        vec![
            ("page_size".into(), "2".into()),
            ("per_page".into(), "3".into())
        ]
    );
}
