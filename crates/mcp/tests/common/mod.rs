//! Shared helpers: the seed plan, a running MCP server on 127.0.0.1:0, a raw HTTP client
//! for protocol edge cases, and an rmcp client.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use naftiko_mcp::{McpConfig, McpHandle, McpSource, service};
use naftiko_plan::{CompileOptions, MapVars, McpAdapterPlan};
use naftiko_spec::LoadOptions;
use naftiko_upstream::{HttpUpstream, Upstream};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The seed's MCP adapter, its upstream pointed at `upstream_url`, key `Bearer t0k`.
pub fn seed_plan(upstream_url: &str) -> Arc<McpAdapterPlan> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../capabilities/ory-identities.yml"
    );
    let src = std::fs::read_to_string(path).unwrap();
    let loaded = naftiko_spec::load(&src, LoadOptions::default(), &mut |_| {
        Err("no imports".into())
    });
    let doc = loaded
        .servable()
        .unwrap_or_else(|| panic!("seed does not load: {:?}", loaded.diagnostics));
    let opts = CompileOptions {
        upstream_overrides: [("kratos-identity".to_owned(), upstream_url.to_owned())].into(),
        ..Default::default()
    };
    let upstreams = |_ns: &str| Arc::new(HttpUpstream::new().unwrap()) as Arc<dyn Upstream>;
    let plan = naftiko_plan::compile(
        doc,
        &MapVars::new([("ORY_API_KEY", "Bearer t0k")]),
        &upstreams,
        &opts,
    )
    .unwrap();
    Arc::new(plan.mcp.into_iter().next().unwrap())
}

/// A running MCP server.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub handle: McpHandle,
}

impl Server {
    pub fn url(&self) -> String {
        format!("{}/mcp", self.base)
    }
}

/// Serves `source` on 127.0.0.1:0.
pub async fn serve_source(source: Arc<dyn McpSource>, config: McpConfig) -> Server {
    let handle = service(source, config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let service = handle.service.clone();
    naftiko_testkit::serve_http1(listener, service);
    Server { base, handle }
}

/// Serves the seed against `upstream_url`.
pub async fn serve_seed(upstream_url: &str, config: McpConfig) -> Server {
    serve_source(Arc::new(seed_plan(upstream_url)), config).await
}

/// A fully read HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?} (HTTP {})", self.body, self.status))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Sends one request with exactly these headers (plus what reqwest adds: Host,
/// Content-Length).
pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let client = reqwest::Client::new();
    let mut req = client
        .request(method.parse().unwrap(), url)
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    Resp {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

/// The headers a spec-following client sends on a POST.
pub const POST_HEADERS: [(&str, &str); 2] = [
    ("accept", "application/json, text/event-stream"),
    ("content-type", "application/json"),
];

/// POSTs a JSON-RPC body with the usual headers plus `extra`.
pub async fn post(url: &str, extra: &[(&str, &str)], body: &Value) -> Resp {
    let mut headers: Vec<(&str, &str)> = POST_HEADERS.to_vec();
    headers.extend_from_slice(extra);
    send("POST", url, &headers, &body.to_string()).await
}

/// POSTs a JSON-RPC body given as text (for bodies `json!` cannot write: duplicate keys,
/// escapes) with the usual headers plus `extra`.
pub async fn post_raw(url: &str, extra: &[(&str, &str)], body: &str) -> Resp {
    let mut headers: Vec<(&str, &str)> = POST_HEADERS.to_vec();
    headers.extend_from_slice(extra);
    send("POST", url, &headers, body).await
}

pub fn initialize_body(version: &str) -> Value {
    json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":version,"capabilities":{},"clientInfo":{"name":"raw-test","version":"1"}}})
}

/// Initializes a session at `version`; returns its id.
pub async fn initialize(url: &str, version: &str) -> String {
    let r = post(url, &[], &initialize_body(version)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.header("mcp-session-id").expect("session id").to_owned()
}

/// A tools/call request body.
pub fn call_body(id: i64, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":name,"arguments":arguments}})
}

/// Calls a tool on a fresh stateless-style exchange within `session`; returns the result.
pub async fn call_tool(url: &str, session: &str, name: &str, arguments: Value) -> Value {
    let r = post(
        url,
        &[
            ("mcp-session-id", session),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        &call_body(7, name, arguments),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert!(v.get("error").is_none(), "unexpected JSON-RPC error: {v}");
    v["result"].clone()
}

/// The text of a result's first content block.
pub fn text(result: &Value) -> &str {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content: {result}"))
}

/// An rmcp client (legacy `initialize` lifecycle) over Streamable HTTP.
pub async fn rmcp_client(url: &str) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    use rmcp::ServiceExt;
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.to_owned());
    ().serve(transport).await.unwrap()
}

/// Arguments for rmcp calls.
pub fn args(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().unwrap().clone()
}
