//! MCP listeners: the merged MCP adapter of one address, swapped on reload.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use naftiko_plan::McpAdapterPlan;
use tokio::net::TcpListener;

use super::listeners::{Listener, Slot};

/// The MCP adapter served on one address.
#[derive(Default)]
pub(crate) struct McpSlot(pub(crate) ArcSwapOption<McpAdapterPlan>);

/// An MCP listener.
pub(crate) fn listener(listener: TcpListener) -> std::io::Result<Listener> {
    let slot = Arc::new(McpSlot::default());
    let app = axum::Router::new().fallback(|| async {
        naftiko_rest::problem(
            http::StatusCode::NOT_IMPLEMENTED,
            "mcp_unavailable",
            "the MCP adapter is not built into this binary yet",
        )
    });
    Listener::spawn(listener, app, Slot::Mcp(slot))
}

/// Publishes a new tool set; returns whether the tools changed (for list_changed).
pub(crate) fn publish(slot: &McpSlot, plan: Option<McpAdapterPlan>) -> bool {
    let names = |p: Option<&McpAdapterPlan>| {
        p.map(|p| {
            p.tools
                .iter()
                .map(|t| {
                    (
                        t.name.clone(),
                        t.input_schema.clone(),
                        t.description.clone(),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let before = names(slot.0.load().as_deref());
    let after = names(plan.as_ref());
    slot.0.store(plan.map(Arc::new));
    before != after
}
