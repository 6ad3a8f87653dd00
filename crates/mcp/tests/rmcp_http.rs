//! The seed served over Streamable HTTP to a real MCP client (rmcp), legacy `initialize`
//! and 2026-07-28 `server/discover` lifecycles, plus a snapshot of the full tool list.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use naftiko_mcp::McpConfig;
use naftiko_testkit::{OryFake, RecordingUpstream};
use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext};
use rmcp::{ClientHandler, RoleClient};
use serde_json::{Value, json};

const SEED_TOOLS: [&str; 19] = [
    "list-identities",
    "create-multiple-identities",
    "create-identity",
    "get-identity-its-external-id",
    "delete-identity",
    "get-identity",
    "patch-identity",
    "update-identity",
    "delete-credential-specific-identity",
    "delete-invalidate-identity-s-sessions",
    "list-identity-s-sessions",
    "create-recovery-code",
    "create-recovery-link",
    "list-all-sessions",
    "deactivate-session",
    "get-session",
    "extend-session",
    "get-all-identity-schemas",
    "get-identity-json-schema",
];

#[tokio::test]
async fn rmcp_initializes_and_lists_the_seed_tools() {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(&up.base_url(), McpConfig::default()).await;
    let client = rmcp_client(&server.url()).await;

    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().unwrap().name,
        "kratos-identity-mcp"
    );
    assert_eq!(
        info.server_info.as_ref().unwrap().version,
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        info.instructions
            .as_deref()
            .unwrap()
            .starts_with("MCP adapter for Ory Identities API")
    );
    assert_eq!(
        info.capabilities.tools.as_ref().unwrap().list_changed,
        Some(true)
    );

    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, SEED_TOOLS);

    let delete = tools.iter().find(|t| t.name == "delete-identity").unwrap();
    let a = delete.annotations.as_ref().unwrap();
    assert_eq!(
        (
            a.read_only_hint,
            a.destructive_hint,
            a.idempotent_hint,
            a.open_world_hint
        ),
        (Some(false), Some(true), Some(true), Some(true))
    );

    let get = tools.iter().find(|t| t.name == "get-identity").unwrap();
    let schema = Value::Object((*get.input_schema).clone());
    assert_eq!(schema["properties"]["id"]["type"], "string");
    assert_eq!(schema["required"], json!(["id"]));
    assert_eq!(schema["properties"]["include_credential"]["type"], "array");
    assert_eq!(
        schema["properties"]["include_credential"]["items"],
        json!({"type": "string"})
    );
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["properties"].as_object().unwrap().len(), 2);

    let create = tools.iter().find(|t| t.name == "create-identity").unwrap();
    assert_eq!(
        create.input_schema["properties"]["body"]["type"],
        json!(["object", "array"])
    );

    // A call through the client reaches the upstream.
    let r = client
        .call_tool(
            CallToolRequestParams::new("get-identity").with_arguments(args(json!({"id": "abc"}))),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false));
    let sent = up.wait_for_requests(1, Duration::from_secs(5)).await;
    assert_eq!(sent[0].path, "/admin/identities/abc");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn full_tool_list_snapshot() {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(&up.base_url(), McpConfig::default()).await;
    let session = initialize(&server.url(), "2025-11-25").await;
    let r = post(
        &server.url(),
        &[("mcp-session-id", &session)],
        &json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}),
    )
    .await;
    let result = r.json()["result"].clone();
    assert!(
        result.get("nextCursor").is_none(),
        "19 tools fit on one page"
    );
    // Key order depends on serde_json features unified across the workspace; sort it.
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("seed_tools_list", result);
    });
}

#[tokio::test]
async fn identity_lifecycle_against_the_ory_fake() {
    let ory = OryFake::start("Bearer t0k").await;
    let server = serve_seed(&ory.base_url(), McpConfig::default()).await;
    let client = rmcp_client(&server.url()).await;

    let body = json!({"schema_id": "default", "traits": {"email": "ada@example.com"}});
    let created = client
        .call_tool(
            CallToolRequestParams::new("create-identity")
                .with_arguments(args(json!({"body": body}))),
        )
        .await
        .unwrap();
    assert_eq!(created.is_error, Some(false), "{created:?}");
    let identity = created
        .structured_content
        .clone()
        .expect("structuredContent for an object");
    let id = identity["id"].as_str().unwrap().to_owned();
    assert_eq!(identity["traits"]["email"], "ada@example.com");
    // The text block carries the same JSON for clients that ignore structuredContent.
    let text: Value = serde_json::from_str(&created.content[0].as_text().unwrap().text).unwrap();
    assert_eq!(text, identity);

    let got = client
        .call_tool(
            CallToolRequestParams::new("get-identity").with_arguments(args(json!({"id": id}))),
        )
        .await
        .unwrap();
    assert_eq!(got.is_error, Some(false));
    assert_eq!(got.structured_content.as_ref().unwrap()["id"], id.as_str());

    let listed = client
        .call_tool(
            CallToolRequestParams::new("list-identities")
                .with_arguments(args(json!({"page_size": 10}))),
        )
        .await
        .unwrap();
    assert_eq!(listed.is_error, Some(false));
    // Ory lists are arrays: text only, no structuredContent (it must be an object).
    assert!(listed.structured_content.is_none());
    let list: Value = serde_json::from_str(&listed.content[0].as_text().unwrap().text).unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str())
    );

    let deleted = client
        .call_tool(
            CallToolRequestParams::new("delete-identity").with_arguments(args(json!({"id": id}))),
        )
        .await
        .unwrap();
    assert_eq!(deleted.is_error, Some(false));
    assert!(deleted.content.is_empty());
    assert_eq!(ory.identity_count(), 0);

    let gone = client
        .call_tool(
            CallToolRequestParams::new("get-identity").with_arguments(args(json!({"id": id}))),
        )
        .await
        .unwrap();
    assert_eq!(gone.is_error, Some(true));
    let err: Value = serde_json::from_str(&gone.content[0].as_text().unwrap().text).unwrap();
    assert_eq!(err["error"]["code"], 404);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn rmcp_discover_lifecycle_is_served_statelessly() {
    let ory = OryFake::start("Bearer t0k").await;
    let server = serve_seed(&ory.base_url(), McpConfig::default()).await;
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(server.url());
    let mode = ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    };
    let client = ().serve_with_lifecycle(transport, mode).await.unwrap();
    let info = client.peer_info().unwrap();
    assert_eq!(info.protocol_version, ProtocolVersion::V_2026_07_28);

    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 19);
    let body = json!({"schema_id": "default", "traits": {"email": "grace@example.com"}});
    let created = client
        .call_tool(
            CallToolRequestParams::new("create-identity")
                .with_arguments(args(json!({"body": body}))),
        )
        .await
        .unwrap();
    assert_eq!(created.is_error, Some(false), "{created:?}");
    assert_eq!(ory.identity_count(), 1);
    let unknown = client
        .call_tool(CallToolRequestParams::new("nope"))
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("Unknown tool: nope"),
        "{unknown}"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn rmcp_auto_lifecycle_connects() {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(&up.base_url(), McpConfig::default()).await;
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(server.url());
    let mode = ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: None,
    };
    let started = std::time::Instant::now();
    let client = ().serve_with_lifecycle(transport, mode).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the discover probe must not time out"
    );
    assert_eq!(client.list_all_tools().await.unwrap().len(), 19);
    client.cancel().await.unwrap();
}

struct Watcher(tokio::sync::mpsc::UnboundedSender<()>);

impl ClientHandler for Watcher {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.0.send(());
    }
}

#[tokio::test]
async fn rmcp_client_receives_list_changed() {
    let up = RecordingUpstream::start().await;
    let server = serve_seed(&up.base_url(), McpConfig::default()).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(server.url());
    let client = rmcp::ServiceExt::serve(Watcher(tx), transport)
        .await
        .unwrap();
    client.list_all_tools().await.unwrap();
    // The client opens its GET stream in the background; notify until it is there.
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            server.handle.notify_tools_changed();
            if tokio::time::timeout(Duration::from_millis(200), rx.recv())
                .await
                .is_ok()
            {
                break;
            }
        }
    })
    .await;
    assert!(
        got.is_ok(),
        "no notifications/tools/list_changed reached the client"
    );
    client.cancel().await.unwrap();
}
