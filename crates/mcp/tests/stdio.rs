//! The stdio transport over an in-memory pipe: raw lines, and rmcp's client.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use naftiko_mcp::{McpSource, Notifier, serve_stdio, serve_stdio_notified};
use naftiko_testkit::{Answer, RecordingUpstream};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use tokio::io::{
    AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines, ReadHalf, WriteHalf,
};

/// The client end of a stdio connection served in the background.
struct Pipe {
    lines: Lines<BufReader<ReadHalf<DuplexStream>>>,
    writer: WriteHalf<DuplexStream>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Pipe {
    fn start(source: Arc<dyn McpSource>, notifier: Option<Notifier>) -> Self {
        let (client, server) = tokio::io::duplex(1 << 16);
        let (sr, sw) = tokio::io::split(server);
        let server = tokio::spawn(async move {
            match notifier {
                Some(n) => serve_stdio_notified(source, BufReader::new(sr), sw, &n).await,
                None => serve_stdio(source, BufReader::new(sr), sw).await,
            }
        });
        let (cr, cw) = tokio::io::split(client);
        Self {
            lines: BufReader::new(cr).lines(),
            writer: cw,
            server,
        }
    }

    async fn send(&mut self, line: &str) {
        self.writer.write_all(line.as_bytes()).await.unwrap();
        self.writer.write_all(b"\n").await.unwrap();
    }

    async fn recv(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(5), self.lines.next_line())
            .await
            .expect("a line in time")
            .unwrap()
            .expect("not EOF");
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout carried a non-JSON line ({e}): {line:?}"))
    }
}

#[tokio::test]
async fn raw_lines() {
    let up = RecordingUpstream::start().await;
    let mut pipe = Pipe::start(Arc::new(seed_plan(&up.base_url())), None);
    pipe.send(&initialize_body("2025-06-18").to_string()).await;
    let v = pipe.recv().await;
    assert_eq!(v["id"], 1);
    assert_eq!(v["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(v["result"]["serverInfo"]["name"], "kratos-identity-mcp");
    assert_eq!(v["result"]["capabilities"]["tools"]["listChanged"], false);

    // Notifications and blank lines produce nothing: the next line answers the ping.
    pipe.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .await;
    pipe.send("").await;
    pipe.send("   ").await;
    pipe.send(r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#)
        .await;
    assert_eq!(
        pipe.recv().await,
        json!({"jsonrpc":"2.0","id":"p","result":{}})
    );

    pipe.send("{").await;
    let v = pipe.recv().await;
    assert_eq!(
        (v["id"].clone(), v["error"]["code"].as_i64()),
        (Value::Null, Some(-32700))
    );

    pipe.send(&call_body(2, "get-identity", json!({"id": "abc"})).to_string())
        .await;
    let v = pipe.recv().await;
    assert_eq!(v["id"], 2);
    assert_eq!(
        v["result"]["structuredContent"]["path"],
        "/admin/identities/abc"
    );
    pipe.send(&call_body(3, "nope", json!({})).to_string())
        .await;
    assert_eq!(pipe.recv().await["error"]["code"], -32602);

    // 2025-06-18 refuses batches.
    pipe.send(r#"[{"jsonrpc":"2.0","id":4,"method":"ping"}]"#)
        .await;
    assert_eq!(pipe.recv().await["error"]["code"], -32600);

    // EOF ends the server cleanly.
    pipe.writer.shutdown().await.unwrap();
    pipe.server.await.unwrap().unwrap();
    assert!(pipe.lines.next_line().await.unwrap().is_none());
}

#[tokio::test]
async fn batches_cancellation_discovery_and_list_changed() {
    let up = RecordingUpstream::start().await;
    up.answer(
        "GET",
        "/admin/identities/slow",
        Answer::json(200, json!({})).with_delay(Duration::from_secs(30)),
    );
    let notifier = Notifier::new();
    let mut pipe = Pipe::start(Arc::new(seed_plan(&up.base_url())), Some(notifier.clone()));
    pipe.send(&initialize_body("2025-03-26").to_string()).await;
    let v = pipe.recv().await;
    assert_eq!(v["result"]["capabilities"]["tools"]["listChanged"], true);

    pipe.send(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#).await;
    assert_eq!(
        pipe.recv().await,
        json!([{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}])
    );

    // A slow call is cancelled: its answer never comes; later requests still do.
    pipe.send(&call_body(10, "get-identity", json!({"id": "slow"})).to_string())
        .await;
    up.wait_for_requests(1, Duration::from_secs(5)).await;
    pipe.send(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":10}}"#)
        .await;
    pipe.send(r#"{"jsonrpc":"2.0","id":11,"method":"ping"}"#)
        .await;
    assert_eq!(pipe.recv().await["id"], 11);

    notifier.notify_tools_changed();
    assert_eq!(
        pipe.recv().await,
        json!({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})
    );

    let discover = json!({"jsonrpc":"2.0","id":12,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}});
    pipe.send(&discover.to_string()).await;
    let v = pipe.recv().await;
    assert_eq!(v["result"]["supportedVersions"][0], "2026-07-28");
    let list = json!({"jsonrpc":"2.0","id":13,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}});
    pipe.send(&list.to_string()).await;
    let v = pipe.recv().await;
    assert_eq!(
        (
            v["result"]["resultType"].as_str(),
            v["result"]["tools"].as_array().map(Vec::len)
        ),
        (Some("complete"), Some(19))
    );

    pipe.writer.shutdown().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), pipe.server)
        .await
        .expect("no call left waiting")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn rmcp_client_over_stdio() {
    use rmcp::ServiceExt;
    let up = RecordingUpstream::start().await;
    let source: Arc<dyn McpSource> = Arc::new(seed_plan(&up.base_url()));
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    let (sr, sw) = tokio::io::split(server_io);
    let server = tokio::spawn(async move { serve_stdio(source, BufReader::new(sr), sw).await });
    let client = ().serve(tokio::io::split(client_io)).await.unwrap();
    assert_eq!(
        client
            .peer_info()
            .unwrap()
            .server_info
            .as_ref()
            .unwrap()
            .name,
        "kratos-identity-mcp"
    );
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 19);
    let r = client
        .call_tool(
            CallToolRequestParams::new("get-session")
                .with_arguments(args(json!({"id": "s9", "expand": ["identity"]}))),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(r.structured_content.unwrap()["query"], "expand=identity");
    client.cancel().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server ends at EOF")
        .unwrap()
        .unwrap();
}
