//! How tool failures reach the client: protocol errors for unknown tools and malformed
//! params, `isError` results for everything that happens while running a tool.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use naftiko_mcp::McpConfig;
use naftiko_testkit::{Answer, RecordingUpstream, closed_port_url};
use serde_json::{Value, json};

async fn setup() -> (RecordingUpstream, Server, String) {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(&up.base_url(), McpConfig::default()).await;
    let session = initialize(&server.url(), "2025-11-25").await;
    (up, server, session)
}

async fn raw_call(server: &Server, session: &str, body: &Value) -> Value {
    let r = post(&server.url(), &[("mcp-session-id", session)], body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[tokio::test]
async fn unknown_tool_and_missing_params_are_protocol_errors() {
    let (up, server, session) = setup().await;
    let v = raw_call(&server, &session, &call_body(3, "no-such-tool", json!({}))).await;
    assert_eq!(v["id"], 3);
    assert_eq!(v["error"]["code"], -32602);
    assert_eq!(v["error"]["message"], "Unknown tool: no-such-tool");
    let v = raw_call(
        &server,
        &session,
        &json!({"jsonrpc":"2.0","id":4,"method":"tools/call"}),
    )
    .await;
    assert_eq!(v["error"]["code"], -32602);
    assert_eq!(v["error"]["message"], "Invalid params: missing params");
    let v = raw_call(
        &server,
        &session,
        &json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"arguments":{}}}),
    )
    .await;
    assert_eq!(v["error"]["code"], -32602);
    // Params of the wrong shape: not an object, a name that is not a string, a member twice.
    for (id, params, why) in [
        (6, r#"[1]"#, "Invalid params: params must be an object"),
        (
            7,
            r#"{"name":7}"#,
            "Invalid params: the tool name must be a string",
        ),
        (
            8,
            r#"{"name":"get-identity","name":"get-identity","arguments":{"id":"x"}}"#,
            "Invalid params: duplicate field `name`",
        ),
    ] {
        let body =
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{params}}}"#);
        let r = post_raw(&server.url(), &[("mcp-session-id", &session)], &body).await;
        let v = r.json();
        assert_eq!(v["id"], id, "{body}");
        assert_eq!(v["error"]["code"], -32602, "{body}");
        assert_eq!(v["error"]["message"], why, "{body}");
    }
    assert_eq!(up.request_count(), 0);
    // `arguments: null` is no arguments; escapes in names and keys are resolved.
    let body = r#"{"jsonrpc":"2.0","id":9,"method":"tools\/call","params":{"name":"get-identit\u0079","arguments":{"\u0069d":"ab\"c"}}}"#;
    let r = post_raw(&server.url(), &[("mcp-session-id", &session)], body).await;
    assert_eq!(r.json()["result"]["isError"], false, "{}", r.body);
    let seen = up.requests();
    assert_eq!(seen.last().unwrap().path, "/admin/identities/ab%22c");
    let body = r#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"get-identity","arguments":null}}"#;
    let r = post_raw(&server.url(), &[("mcp-session-id", &session)], body).await;
    assert!(
        text(&r.json()["result"]).contains("missing required argument 'id'"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn invalid_arguments_are_tool_errors_naming_the_argument() {
    let (up, server, session) = setup().await;
    let r = call_tool(&server.url(), &session, "get-identity", json!({"id": 42})).await;
    assert_eq!(r["isError"], true);
    assert_eq!(
        text(&r),
        "invalid arguments for tool 'get-identity': argument 'id' must be a string, got an integer"
    );
    let r = call_tool(&server.url(), &session, "get-identity", json!({})).await;
    assert_eq!(r["isError"], true);
    assert_eq!(
        text(&r),
        "invalid arguments for tool 'get-identity': missing required argument 'id'"
    );
    let r = call_tool(
        &server.url(),
        &session,
        "list-identities",
        json!({"page_size": "ten"}),
    )
    .await;
    assert!(
        text(&r).contains("argument 'page_size' must be an integer"),
        "{r}"
    );
    let r = call_tool(
        &server.url(),
        &session,
        "get-identity",
        json!({"id": "a", "idd": "b"}),
    )
    .await;
    assert!(text(&r).contains("unknown argument 'idd'"), "{r}");
    let r = raw_call(&server, &session, &json!({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get-identity","arguments":[1]}})).await;
    assert_eq!(r["result"]["isError"], true);
    assert!(text(&r["result"]).contains("arguments must be a JSON object"));
    assert_eq!(
        up.request_count(),
        0,
        "invalid calls never reach the upstream"
    );
}

#[tokio::test]
async fn upstream_error_statuses_are_tool_errors_with_the_upstream_body() {
    let (up, server, session) = setup().await;
    let ory_404 = json!({"error": {"code": 404, "status": "Not Found", "message": "Unable to locate the resource"}});
    up.answer(
        "GET",
        "/admin/identities/missing",
        Answer::json(404, ory_404.clone()),
    );
    let r = call_tool(
        &server.url(),
        &session,
        "get-identity",
        json!({"id": "missing"}),
    )
    .await;
    assert_eq!(r["isError"], true);
    assert_eq!(serde_json::from_str::<Value>(text(&r)).unwrap(), ory_404);
    assert!(r.get("structuredContent").is_none());

    up.answer(
        "GET",
        "/admin/sessions/s1",
        Answer::json(500, json!({"error": {"code": 500, "message": "boom"}})),
    );
    let r = call_tool(&server.url(), &session, "get-session", json!({"id": "s1"})).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("boom"));

    up.answer("DELETE", "/admin/sessions/s2", Answer::empty(503));
    let r = call_tool(
        &server.url(),
        &session,
        "deactivate-session",
        json!({"id": "s2"}),
    )
    .await;
    assert_eq!(r["isError"], true);
    assert_eq!(text(&r), "upstream answered HTTP 503 Service Unavailable");
}

#[tokio::test]
async fn no_content_is_an_empty_success() {
    let (up, server, session) = setup().await;
    up.answer("DELETE", "/admin/identities/i1", Answer::empty(204));
    let r = call_tool(
        &server.url(),
        &session,
        "delete-identity",
        json!({"id": "i1"}),
    )
    .await;
    assert_eq!(r, json!({"content": [], "isError": false}));
}

#[tokio::test]
async fn unreachable_upstream_is_a_readable_tool_error_without_secrets() {
    let server = serve_seed(&closed_port_url(), McpConfig::default()).await;
    let session = initialize(&server.url(), "2025-11-25").await;
    let r = call_tool(
        &server.url(),
        &session,
        "get-identity",
        json!({"id": "abc"}),
    )
    .await;
    assert_eq!(r["isError"], true);
    let t = text(&r);
    assert!(t.contains("kratos-identity"), "names the upstream: {t}");
    assert!(!t.contains("t0k"), "leaks the key: {t}");
}

#[tokio::test]
async fn cancelled_calls_are_aborted_and_not_answered() {
    let (up, server, session) = setup().await;
    let slow = || Answer::json(200, json!({"id": "slow"})).with_delay(Duration::from_secs(20));
    up.answer("GET", "/admin/identities/slow", slow());
    up.answer("POST", "/admin/identities", slow());
    let url = server.url();
    // A read (run inline) and a write (run on its own task) are both aborted.
    let cases = [
        (41, "get-identity", json!({"id": "slow"})),
        (42, "create-identity", json!({"body": {}})),
    ];
    for (n, (id, tool, arguments)) in cases.into_iter().enumerate() {
        let (s2, url2) = (session.clone(), url.clone());
        let started = Instant::now();
        let call = tokio::spawn(async move {
            post(
                &url2,
                &[("mcp-session-id", &s2)],
                &call_body(id, tool, arguments),
            )
            .await
        });
        up.wait_for_requests(n + 1, Duration::from_secs(5)).await;
        let cancel = json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":id,"reason":"user"}});
        assert_eq!(
            post(&url, &[("mcp-session-id", &session)], &cancel)
                .await
                .status,
            202
        );
        let r = tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .expect("the cancelled POST ends")
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(10), "{tool}");
        assert_eq!(r.status, 200, "{tool}");
        assert_eq!(
            r.header("content-type"),
            Some("text/event-stream"),
            "{tool}"
        );
        assert_eq!(
            r.body, "",
            "no JSON-RPC answer for a cancelled request ({tool})"
        );
    }
    // The session still works, and unknown request ids are ignored.
    let cancel =
        json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"nope"}});
    assert_eq!(
        post(&url, &[("mcp-session-id", &session)], &cancel)
            .await
            .status,
        202
    );
    let ping = post(
        &url,
        &[("mcp-session-id", &session)],
        &json!({"jsonrpc":"2.0","id":9,"method":"ping"}),
    )
    .await;
    assert_eq!(ping.json()["result"], json!({}));
}
