//! `serve --stdio`: a real MCP client (rmcp) spawns the binary and talks over its stdin/stdout.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use naftiko_testkit::RecordingUpstream;
use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rmcp_client_uses_the_seed_over_stdio() {
    let up = RecordingUpstream::start().await;
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../capabilities/ory-identities.yml"
    );
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_naftiko-gateway"));
    cmd.args(["serve", "--stdio", seed, "--upstream"])
        .arg(format!("kratos-identity={}", up.base_url()))
        .env("ORY_API_KEY", "Bearer t0k")
        .env("RUST_LOG", "debug");
    let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();
    let info = client.peer_info().unwrap();
    assert_eq!(
        info.server_info.as_ref().unwrap().name,
        "kratos-identity-mcp"
    );
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 19);
    let args = serde_json::json!({"id": "abc"})
        .as_object()
        .unwrap()
        .clone();
    let result = client
        .call_tool(rmcp::model::CallToolRequestParams::new("get-identity").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false), "{result:?}");
    let seen = up.requests();
    assert_eq!(seen.last().unwrap().path, "/admin/identities/abc");
    assert_eq!(
        seen.last().unwrap().header("authorization"),
        Some("Bearer t0k")
    );
    client.cancel().await.unwrap();
}
