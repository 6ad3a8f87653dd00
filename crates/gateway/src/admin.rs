//! The admin endpoint (`--admin ADDR`, `GET /status`) and the `status` command.

use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use naftiko_upstream::{CallOptions, HttpUpstream, Upstream};
use serde_json::Value;

/// Serves `GET /status` on `listener` from the live status document.
pub(crate) fn router(status: Arc<ArcSwap<Value>>) -> Router {
    Router::new().route(
        "/status",
        get(move || {
            let status = status.clone();
            async move { axum::Json((**status.load()).clone()) }
        }),
    )
}

/// `naftiko-gateway status --admin ADDR`: prints the gateway's status JSON.
pub(crate) async fn print_status(admin: SocketAddr) -> anyhow::Result<()> {
    let client = HttpUpstream::new()?;
    let req = http::Request::get(format!("http://{admin}/status")).body(Bytes::new())?;
    let resp = client.send_http(req, &CallOptions::default()).await?;
    let v: Value = serde_json::from_slice(resp.body())?;
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}
