//! Streamable HTTP protocol rules, checked with raw HTTP: versions, batches, sessions,
//! headers, security checks and JSON-RPC hygiene (request bodies: `bodies.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use naftiko_mcp::McpConfig;
use naftiko_testkit::RecordingUpstream;
use serde_json::json;

async fn seed(config: McpConfig) -> (RecordingUpstream, Server) {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(&up.base_url(), config).await;
    (up, server)
}

#[tokio::test]
async fn initialize_echoes_supported_versions_and_counter_offers_others() {
    let (_up, server) = seed(McpConfig::default()).await;
    for (asked, answered) in [
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2024-11-05", "2024-11-05"),
        ("2099-01-01", "2025-11-25"),
    ] {
        let r = post(&server.url(), &[], &initialize_body(asked)).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/json"));
        let v = r.json();
        assert_eq!(v["id"], 1);
        assert_eq!(v["result"]["protocolVersion"], answered, "asked {asked}");
        let id = r.header("mcp-session-id").unwrap();
        assert!(
            id.len() >= 32 && id.bytes().all(|b| (0x21..=0x7e).contains(&b)),
            "{id}"
        );
    }
    let v = post(&server.url(), &[], &initialize_body("2025-11-25"))
        .await
        .json();
    let result = &v["result"];
    assert_eq!(
        result["capabilities"],
        json!({"tools": {"listChanged": true}})
    );
    assert_eq!(
        result["serverInfo"],
        json!({"name": "kratos-identity-mcp", "version": env!("CARGO_PKG_VERSION")})
    );
    assert!(
        result["instructions"]
            .as_str()
            .unwrap()
            .starts_with("MCP adapter for Ory Identities API")
    );
    // `/` is the same endpoint (Java-compatible clients use it).
    let r = post(
        &format!("{}/", server.base),
        &[],
        &initialize_body("2025-11-25"),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn batches_follow_the_negotiated_version() {
    let (_up, server) = seed(McpConfig::default()).await;
    let old = initialize(&server.url(), "2025-03-26").await;
    let batch = json!([
        {"jsonrpc":"2.0","id":"p","method":"ping"},
        {"jsonrpc":"2.0","method":"notifications/initialized"},
        {"jsonrpc":"2.0","id":2,"method":"tools/list"},
        {"jsonrpc":"2.0","id":3,"method":"nope"}
    ]);
    let r = post(&server.url(), &[("mcp-session-id", &old)], &batch).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    let answers = v.as_array().unwrap();
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0], json!({"jsonrpc":"2.0","id":"p","result":{}}));
    assert_eq!(answers[1]["result"]["tools"].as_array().unwrap().len(), 19);
    assert_eq!(answers[2]["error"]["code"], -32601);
    let notes = json!([{"jsonrpc":"2.0","method":"notifications/initialized"}]);
    let r = post(&server.url(), &[("mcp-session-id", &old)], &notes).await;
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    let r = post(&server.url(), &[("mcp-session-id", &old)], &json!([])).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32600))
    );

    let new = initialize(&server.url(), "2025-06-18").await;
    let r = post(
        &server.url(),
        &[
            ("mcp-session-id", &new),
            ("mcp-protocol-version", "2025-06-18"),
        ],
        &batch,
    )
    .await;
    assert_eq!(r.status, 400);
    let v = r.json();
    assert_eq!(v["error"]["code"], -32600);
    assert_eq!(v["id"], serde_json::Value::Null);
}

#[tokio::test]
async fn sessions_are_required_known_and_deletable() {
    let (_up, server) = seed(McpConfig::default()).await;
    let url = server.url();
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
    let r = post(&url, &[], &ping).await;
    assert_eq!(r.status, 400, "missing session: {}", r.body);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Mcp-Session-Id")
    );
    let r = post(&url, &[("mcp-session-id", "not-a-session")], &ping).await;
    assert_eq!(r.status, 404);
    let session = initialize(&url, "2025-11-25").await;
    assert_eq!(
        post(&url, &[("mcp-session-id", &session)], &ping)
            .await
            .status,
        200
    );
    let r = send("DELETE", &url, &[("mcp-session-id", &session)], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        post(&url, &[("mcp-session-id", &session)], &ping)
            .await
            .status,
        404
    );
    assert_eq!(
        send(
            "GET",
            &url,
            &[
                ("accept", "text/event-stream"),
                ("mcp-session-id", &session)
            ],
            ""
        )
        .await
        .status,
        404
    );
    assert_eq!(
        send("DELETE", &url, &[("mcp-session-id", &session)], "")
            .await
            .status,
        404
    );
    assert_eq!(send("DELETE", &url, &[], "").await.status, 400);
}

#[tokio::test]
async fn protocol_version_header_is_checked_when_present() {
    let (_up, server) = seed(McpConfig::default()).await;
    let url = server.url();
    let session = initialize(&url, "2025-11-25").await;
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
    let r = post(
        &url,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "1999-01-01"),
        ],
        &ping,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["data"]["requested"], "1999-01-01");
    // Missing is served; any supported version is accepted, not only the negotiated one.
    assert_eq!(
        post(&url, &[("mcp-session-id", &session)], &ping)
            .await
            .status,
        200
    );
    assert_eq!(
        post(
            &url,
            &[
                ("mcp-session-id", &session),
                ("mcp-protocol-version", "2025-03-26")
            ],
            &ping
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn origin_and_host_are_checked() {
    let (_up, server) = seed(McpConfig::default()).await;
    let url = server.url();
    let init = initialize_body("2025-11-25");
    let r = post(&url, &[("origin", "http://evil.example")], &init).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["code"], -32000);
    assert_eq!(post(&url, &[("origin", "null")], &init).await.status, 403);
    let r = post(&url, &[("origin", "http://localhost:6274")], &init).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:6274")
    );
    assert!(
        r.header("access-control-expose-headers")
            .unwrap()
            .contains("mcp-session-id")
    );
    // DNS rebinding: a foreign name that resolves to us.
    let r = post(
        &url,
        &[
            ("host", "evil.example:9090"),
            ("origin", "http://evil.example:9090"),
        ],
        &init,
    )
    .await;
    assert_eq!(r.status, 403);
    let r = post(&url, &[("host", "evil.example")], &init).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        post(&url, &[("host", "localhost:9090")], &init)
            .await
            .status,
        200
    );

    let up = RecordingUpstream::start().await;
    let config = McpConfig {
        allowed_hosts: vec!["mcp.internal".into()],
        allowed_origins: vec!["https://app.example".into()],
        ..McpConfig::default()
    };
    let open = serve_seed(&up.base_url(), config).await;
    assert_eq!(
        post(
            &open.url(),
            &[
                ("host", "mcp.internal:8080"),
                ("origin", "https://app.example")
            ],
            &init
        )
        .await
        .status,
        200
    );
    let r = send(
        "OPTIONS",
        &open.url(),
        &[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
        ],
        "",
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(
        r.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
}

#[tokio::test]
async fn json_rpc_hygiene() {
    let (_up, server) = seed(McpConfig::default()).await;
    let url = server.url();
    let session = initialize(&url, "2025-11-25").await;
    let h = [("mcp-session-id", session.as_str())];
    let raw = |body: &'static str| {
        let (url, session) = (url.clone(), session.clone());
        async move {
            let mut headers = POST_HEADERS.to_vec();
            headers.push(("mcp-session-id", &session));
            send("POST", &url, &headers, body).await
        }
    };
    let r = raw("{").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the body is not valid JSON"}})
    );
    let r = raw("").await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32700))
    );
    let r = raw(r#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        (r.json()["error"]["code"].as_i64(), r.json()["id"].as_i64()),
        (Some(-32600), Some(5))
    );
    let r = raw(r#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32600))
    );

    let r = post(&url, &h, &json!({"jsonrpc":"2.0","id":"a","method":"ping"})).await;
    assert_eq!(r.body, r#"{"jsonrpc":"2.0","id":"a","result":{}}"#);
    let r = post(&url, &h, &json!({"jsonrpc":"2.0","id":0,"method":"ping"})).await;
    assert_eq!(r.json(), json!({"jsonrpc":"2.0","id":0,"result":{}}));
    let r = post(
        &url,
        &h,
        &json!({"jsonrpc":"2.0","id":8,"method":"resources/list"}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.json()["id"].as_i64(), r.json()["error"]["code"].as_i64()),
        (Some(8), Some(-32601))
    );

    for note in [
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","method":"notifications/whatever","params":{}}),
    ] {
        let r = post(&url, &h, &note).await;
        assert_eq!((r.status, r.body.as_str()), (202, ""));
    }
    let r = post(&url, &h, &json!({"jsonrpc":"2.0","id":99,"result":{}})).await;
    assert_eq!((r.status, r.body.as_str()), (202, ""));
}

#[tokio::test]
async fn get_opens_an_event_stream_or_405_when_stateless() {
    let (_up, server) = seed(McpConfig::default()).await;
    let url = server.url();
    let session = initialize(&url, "2025-11-25").await;
    let resp = reqwest::Client::new()
        .get(&url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    drop(resp);
    assert_eq!(
        send("GET", &url, &[("accept", "text/event-stream")], "")
            .await
            .status,
        400
    );
    assert_eq!(
        send(
            "GET",
            &url,
            &[("accept", "application/json"), ("mcp-session-id", &session)],
            ""
        )
        .await
        .status,
        406
    );

    let (_up2, stateless) = seed(McpConfig {
        stateless: true,
        ..McpConfig::default()
    })
    .await;
    let r = send(
        "GET",
        &stateless.url(),
        &[("accept", "text/event-stream")],
        "",
    )
    .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    assert_eq!(
        send("DELETE", &stateless.url(), &[("mcp-session-id", "x")], "")
            .await
            .status,
        405
    );
}

#[tokio::test]
async fn stateless_mode_needs_no_session() {
    let (up, server) = seed(McpConfig {
        stateless: true,
        ..McpConfig::default()
    })
    .await;
    let url = server.url();
    let r = post(&url, &[], &initialize_body("2025-06-18")).await;
    assert_eq!(r.status, 200);
    assert!(r.header("mcp-session-id").is_none());
    assert_eq!(
        r.json()["result"]["capabilities"]["tools"]["listChanged"],
        false
    );
    let r = post(
        &url,
        &[("mcp-protocol-version", "2025-06-18")],
        &json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}),
    )
    .await;
    assert_eq!(r.json()["result"]["tools"].as_array().unwrap().len(), 19);
    // A stale session id from elsewhere is ignored, not 404.
    let r = post(
        &url,
        &[("mcp-session-id", "stale")],
        &call_body(3, "get-identity", json!({"id": "x"})),
    )
    .await;
    assert_eq!(r.json()["result"]["isError"], false);
    assert_eq!(up.request_count(), 1);
    // Without a version header the request is read as 2025-03-26, where batches are allowed.
    let r = post(
        &url,
        &[],
        &json!([{"jsonrpc":"2.0","id":1,"method":"ping"}]),
    )
    .await;
    assert_eq!(r.json(), json!([{"jsonrpc":"2.0","id":1,"result":{}}]));
}
