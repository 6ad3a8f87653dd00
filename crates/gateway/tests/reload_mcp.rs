//! MCP across reloads: sessions survive, see the new tools, and get list_changed.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Running, free_port, get_status, wait_until, write_atomic};
use naftiko_testkit::RecordingUpstream;
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, RoleClient};

/// A capability with an MCP adapter on `port` exposing one tool per name.
fn mcp_capability(upstream: &str, port: u16, tools: &[&str]) -> String {
    let mut consumed = String::new();
    let mut exposed = String::new();
    for t in tools {
        consumed.push_str(&format!("    - name: r-{t}\n      path: /{t}/{{id}}\n      operations:\n      - name: {t}\n        method: GET\n        inputParameters:\n        - name: id\n          in: path\n          type: string\n"));
        exposed.push_str(&format!("    - name: {t}\n      description: Tool {t}\n      hints:\n        readOnly: true\n      call: up.{t}\n      with:\n        id: tools.id\n"));
    }
    format!(
        "naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n  - type: http\n    namespace: up\n    baseUri: {upstream}\n    resources:\n{consumed}  exposes:\n  - type: mcp\n    namespace: m\n    port: {port}\n    tools:\n{exposed}"
    )
}

struct Watcher(tokio::sync::mpsc::UnboundedSender<()>);

impl ClientHandler for Watcher {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.0.send(());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_adds_a_tool_notifies_live_sessions() {
    let up = RecordingUpstream::start().await;
    let dir = std::env::temp_dir().join(format!(
        "naftiko-reload-mcp-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let file = dir.join("m.yml");
    write_atomic(&file, &mcp_capability(&up.base_url(), port, &["alpha"]));
    let _gw = Running::start(&[dir.as_path()], &[]).await;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(format!(
        "http://127.0.0.1:{port}/mcp"
    ));
    let client = rmcp::ServiceExt::serve(Watcher(tx), transport)
        .await
        .unwrap();
    let names = |tools: Vec<rmcp::model::Tool>| {
        tools
            .into_iter()
            .map(|t| t.name.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(client.list_all_tools().await.unwrap()), ["alpha"]);
    // rmcp opens its GET stream in the background: reload until a notification arrives.
    let mut added = None;
    for i in 0..25 {
        let beta = format!("beta{i}");
        write_atomic(
            &file,
            &mcp_capability(&up.base_url(), port, &["alpha", &beta]),
        );
        if let Ok(Some(())) = tokio::time::timeout(Duration::from_millis(400), rx.recv()).await {
            added = Some(beta);
            break;
        }
    }
    let beta = added.expect("no notifications/tools/list_changed after reloads");
    // Same session, new tools.
    let now = names(client.list_all_tools().await.unwrap());
    assert_eq!(now.first().map(String::as_str), Some("alpha"));
    assert!(
        now.contains(&beta) || now.iter().any(|n| n.starts_with("beta")),
        "{now:?}"
    );
    let latest = now[1].clone();
    let args = serde_json::json!({"id": "42"}).as_object().unwrap().clone();
    let result = client
        .call_tool(rmcp::model::CallToolRequestParams::new(latest.clone()).with_arguments(args))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false), "{result:?}");
    assert_eq!(up.requests().last().unwrap().path, format!("/{latest}/42"));

    // Removing the file removes the adapter: its port closes.
    std::fs::remove_file(&file).unwrap();
    let url = format!("http://127.0.0.1:{port}/mcp");
    assert!(
        wait_until(Duration::from_secs(3), || async {
            get_status(&url).await.is_none()
        })
        .await,
        "MCP port still open"
    );
    let _ = client.cancel().await;
}
