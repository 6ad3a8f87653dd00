//! The 2026-07-28 stateless subset (`server/discover`, per-request versions), GET streams
//! and `notifications/tools/list_changed`, pagination, and plans swapped by a reload.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use naftiko_mcp::{McpConfig, McpSource};
use naftiko_plan::{McpAdapterPlan, ToolPlan};
use naftiko_testkit::RecordingUpstream;
use serde_json::{Value, json};

fn meta(version: &str) -> Value {
    json!({"io.modelcontextprotocol/protocolVersion": version, "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}, "io.modelcontextprotocol/clientCapabilities": {}})
}

#[tokio::test]
async fn server_discover_is_answered_without_a_session() {
    let up = RecordingUpstream::start().await;
    for stateless in [false, true] {
        let server = serve_seed(
            &up.base_url(),
            McpConfig {
                stateless,
                ..McpConfig::default()
            },
        )
        .await;
        let started = Instant::now();
        let probe = json!({"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta": meta("2026-07-28")}});
        let r = post(
            &server.url(),
            &[
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "server/discover"),
            ],
            &probe,
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.header("mcp-session-id").is_none());
        let result = &r.json()["result"];
        assert_eq!(result["resultType"], "complete");
        assert_eq!(
            result["supportedVersions"],
            json!([
                "2026-07-28",
                "2025-11-25",
                "2025-06-18",
                "2025-03-26",
                "2024-11-05"
            ])
        );
        assert_eq!(
            result["capabilities"],
            json!({"tools": {"listChanged": false}})
        );
        assert_eq!(
            (result["ttlMs"].as_i64(), result["cacheScope"].as_str()),
            (Some(0), Some("public"))
        );
        assert_eq!(
            result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
            "kratos-identity-mcp"
        );
        assert!(result["instructions"].is_string());
        // A probe without any version header is answered too.
        let r = post(
            &server.url(),
            &[],
            &json!({"jsonrpc":"2.0","id":2,"method":"server/discover"}),
        )
        .await;
        assert_eq!(r.json()["result"]["resultType"], "complete");
    }
}

#[tokio::test]
async fn modern_requests_are_served_statelessly_with_header_checks() {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(&up.base_url(), McpConfig::default()).await;
    let url = server.url();
    let v26 = ("mcp-protocol-version", "2026-07-28");
    let list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta": meta("2026-07-28")}});
    let r = post(&url, &[v26, ("mcp-method", "tools/list")], &list).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let result = &r.json()["result"];
    assert_eq!(result["tools"].as_array().unwrap().len(), 19);
    assert_eq!(
        (result["resultType"].as_str(), result["ttlMs"].as_i64()),
        (Some("complete"), Some(0))
    );

    let call = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get-identity","arguments":{"id":"m1"},"_meta": meta("2026-07-28")}});
    let r = post(
        &url,
        &[
            v26,
            ("mcp-method", "tools/call"),
            ("mcp-name", "get-identity"),
        ],
        &call,
    )
    .await;
    assert_eq!(r.json()["result"]["isError"], false, "{}", r.body);
    assert_eq!(r.json()["result"]["resultType"], "complete");
    let r = post(
        &url,
        &[
            v26,
            ("mcp-method", "tools/call"),
            ("mcp-name", "=?base64?Z2V0LWlkZW50aXR5?="),
        ],
        &call,
    )
    .await;
    assert_eq!(r.status, 200, "base64-encoded Mcp-Name: {}", r.body);

    let r = post(&url, &[v26, ("mcp-method", "tools/list")], &call).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32020))
    );
    let r = post(&url, &[v26, ("mcp-name", "delete-identity")], &call).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32020))
    );
    let mismatched = json!({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta": meta("2025-11-25")}});
    assert_eq!(post(&url, &[v26], &mismatched).await.status, 400);
    let r = post(
        &url,
        &[v26],
        &json!({"jsonrpc":"2.0","id":4,"method":"prompts/list"}),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (404, Some(-32601))
    );
    let r = post(&url, &[("mcp-protocol-version", "2030-01-01")], &list).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32022))
    );
    assert!(
        r.json()["error"]["data"]["supported"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-07-28"))
    );
    let r = post(
        &url,
        &[v26],
        &json!([{"jsonrpc":"2.0","id":1,"method":"ping"}]),
    )
    .await;
    assert_eq!(r.status, 400, "no batches in 2026-07-28");
}

async fn read_until(resp: &mut reqwest::Response, needle: &str, within: Duration) -> String {
    let mut seen = String::new();
    let _ = tokio::time::timeout(within, async {
        while let Ok(Some(chunk)) = resp.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(needle) {
                break;
            }
        }
    })
    .await;
    seen
}

async fn open_stream(url: &str, session: &str) -> reqwest::Response {
    let resp = reqwest::Client::new()
        .get(url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp
}

#[tokio::test]
async fn list_changed_reaches_the_get_stream_once_per_session() {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(&up.base_url(), McpConfig::default()).await;
    let url = server.url();
    let (a, b) = (
        initialize(&url, "2025-11-25").await,
        initialize(&url, "2025-03-26").await,
    );
    let mut first_a = open_stream(&url, &a).await;
    let mut second_a = open_stream(&url, &a).await;
    let mut stream_b = open_stream(&url, &b).await;
    // The replaced stream of session a ends.
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        let mut all = String::new();
        while let Ok(Some(c)) = first_a.chunk().await {
            all.push_str(&String::from_utf8_lossy(&c));
        }
        all
    })
    .await
    .expect("the older stream of a session closes");
    assert!(!rest.contains("list_changed"));

    server.handle.notify_tools_changed();
    let want = r#"data: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#;
    for stream in [&mut second_a, &mut stream_b] {
        let seen = read_until(stream, want, Duration::from_secs(5)).await;
        assert!(seen.contains(want), "{seen:?}");
    }
    // DELETE ends the session's stream.
    assert_eq!(
        send("DELETE", &url, &[("mcp-session-id", &b)], "")
            .await
            .status,
        200
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream_b.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "stream of a deleted session closes");
}

/// A source whose plan a test swaps, like a hot reload.
struct Swappable(Mutex<Option<Arc<McpAdapterPlan>>>);

impl McpSource for Swappable {
    fn adapter(&self) -> Option<Arc<McpAdapterPlan>> {
        self.0.lock().unwrap().clone()
    }
}

fn many_tools(base: &McpAdapterPlan, n: usize) -> Arc<McpAdapterPlan> {
    let template: &ToolPlan = &base.tools[5];
    let tools = (0..n)
        .map(|i| {
            Arc::new(ToolPlan {
                name: format!("tool-{i:03}"),
                ..template.clone()
            })
        })
        .collect();
    Arc::new(McpAdapterPlan {
        tools,
        ..base.clone()
    })
}

#[tokio::test]
async fn pagination_and_reload() {
    let up = RecordingUpstream::start().await;
    let seed = seed_plan(&up.base_url());
    let source = Arc::new(Swappable(Mutex::new(Some(many_tools(&seed, 120)))));
    let server = serve_source(source.clone(), McpConfig::default()).await;
    let url = server.url();
    let session = initialize(&url, "2025-11-25").await;
    let h = [("mcp-session-id", session.as_str())];
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = cursor.as_ref().map_or(json!({}), |c| json!({"cursor": c}));
        let v = post(
            &url,
            &h,
            &json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":params}),
        )
        .await
        .json();
        let result = &v["result"];
        names.extend(
            result["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        match result["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        names,
        (0..120).map(|i| format!("tool-{i:03}")).collect::<Vec<_>>()
    );
    let v = post(
        &url,
        &h,
        &json!({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"bogus!"}}),
    )
    .await
    .json();
    assert_eq!(v["error"]["code"], -32602);

    // Reload: the same session sees the new tools.
    *source.0.lock().unwrap() = Some(seed.clone());
    let v = post(
        &url,
        &h,
        &json!({"jsonrpc":"2.0","id":3,"method":"tools/list"}),
    )
    .await
    .json();
    assert_eq!(v["result"]["tools"].as_array().unwrap().len(), 19);
    let v = post(&url, &h, &call_body(4, "tool-001", json!({"id": "x"})))
        .await
        .json();
    assert_eq!(v["error"]["code"], -32602, "a removed tool is unknown");
    // Adapter removed: sessions get 404.
    *source.0.lock().unwrap() = None;
    assert_eq!(
        post(&url, &h, &json!({"jsonrpc":"2.0","id":5,"method":"ping"}))
            .await
            .status,
        404
    );
}
