//! MCP listeners: the merged MCP adapter of one address, swapped on reload; sessions
//! live in the listener, so they survive reloads and see the new tools.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use naftiko_mcp::{McpConfig, McpSource, Notifier};
use naftiko_plan::McpAdapterPlan;
use tokio::net::TcpListener;

use super::listeners::{Listener, Slot};

/// The MCP adapter served on one address, and how to tell its sessions it changed.
pub(crate) struct McpSlot {
    plan: ArcSwapOption<McpAdapterPlan>,
    notifier: std::sync::OnceLock<Notifier>,
}

impl McpSource for McpSlot {
    fn adapter(&self) -> Option<Arc<McpAdapterPlan>> {
        self.plan.load_full()
    }
}

/// An MCP listener; the adapter is in place before the first connection is accepted.
pub(crate) fn listener(
    listener: TcpListener,
    config: McpConfig,
    plan: Option<McpAdapterPlan>,
    header_timeout: std::time::Duration,
) -> std::io::Result<Listener> {
    let slot = Arc::new(McpSlot {
        plan: ArcSwapOption::new(plan.map(Arc::new)),
        notifier: std::sync::OnceLock::new(),
    });
    let handle = naftiko_mcp::service(slot.clone(), config);
    let _ = slot.notifier.set(handle.notifier.clone());
    Listener::spawn(listener, handle.service, Slot::Mcp(slot), header_timeout)
}

/// Publishes a new tool set and, when the tools changed, sends `list_changed` to sessions.
pub(crate) fn publish(slot: &McpSlot, plan: Option<McpAdapterPlan>) {
    let tools = |p: Option<&McpAdapterPlan>| {
        p.map(|p| {
            p.tools
                .iter()
                .map(|t| {
                    (
                        t.name.clone(),
                        t.description.clone(),
                        t.input_schema.clone(),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let before = tools(slot.plan.load().as_deref());
    let after = tools(plan.as_ref());
    let first = before.is_none();
    slot.plan.store(plan.map(Arc::new));
    if before != after
        && !first
        && let Some(n) = slot.notifier.get()
    {
        n.notify_tools_changed();
    }
}
