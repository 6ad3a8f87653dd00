//! The per-request future is boxed (copied whole) and touched on every poll of every
//! call: its size is a cost on the hot path, and a regression here is silent otherwise.

mod common;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::Service;
use naftiko_mcp::McpConfig;

#[tokio::test]
async fn a_tools_call_future_stays_small() {
    let handle = naftiko_mcp::service(
        std::sync::Arc::new(common::seed_plan("http://127.0.0.1:9")),
        McpConfig::default(),
    );
    let req = http::Request::post("/mcp")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let fut = handle.service.call(req);
    let size = std::mem::size_of_val(&*fut);
    // Debug build: 1984 bytes when the future kept the whole request as a dead argument
    // and wrapped itself in an outer block, 1584 with the request taken apart first, 1248
    // once `handle` stopped being an `async fn` (which keeps its arguments twice).
    assert!(size <= 1400, "MCP request future is {size} bytes");
}
