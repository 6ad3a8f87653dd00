//! The MCP adapter: serves the tools of one `type: mcp` adapter over Streamable HTTP
//! (protocol revisions 2024-11-05 to 2025-11-25, plus the stateless 2026-07-28 subset)
//! and over stdio.
//!
//! This crate owns the Model Context Protocol wire rules: JSON-RPC framing, batches and
//! error codes, version negotiation, sessions and their expiry, the HTTP transport's checks
//! (`Origin`, `Host`, `Accept`, body size, `MCP-Protocol-Version`), the SSE streams that
//! carry `notifications/tools/list_changed`, tool listing with pagination, validating
//! arguments against a tool's input schema, and turning an [`naftiko_plan::Answer`] or
//! [`naftiko_plan::InvokeError`] into a tool result. It must not know YAML, REST routes,
//! how upstream requests are built or sent (a call is exactly
//! [`naftiko_plan::UnitPlan::invoke`]), or how plans are reloaded: it reads the current
//! tools from an [`McpSource`] on every request.
#![forbid(unsafe_code)]

mod call;
mod catalog;
mod dispatch;
mod error;
mod guard;
mod http;
mod jsonrpc;
mod keyhash;
mod schema;
mod session;
mod stdio;

use std::sync::Arc;
use std::time::Duration;

use naftiko_plan::McpAdapterPlan;
use tokio::sync::watch;

pub use http::{McpHandle, McpService, service};
pub use stdio::{serve_stdio, serve_stdio_notified};

/// Where the adapter reads its current tools. Hot reload swaps what this returns; `None`
/// means the adapter was removed, and every request (including open sessions) gets 404.
pub trait McpSource: Send + Sync + 'static {
    /// The adapter as it is now.
    fn adapter(&self) -> Option<Arc<McpAdapterPlan>>;
}

/// A fixed adapter (no reload).
impl McpSource for Arc<McpAdapterPlan> {
    fn adapter(&self) -> Option<Arc<McpAdapterPlan>> {
        Some(Arc::clone(self))
    }
}

/// How the HTTP transport behaves.
#[derive(Debug, Clone)]
pub struct McpConfig {
    /// No sessions: no `Mcp-Session-Id`, plain JSON answers, `GET`/`DELETE` → 405, and
    /// `tools.listChanged: false` (there is no stream to announce changes on).
    pub stateless: bool,
    /// Extra allowed `Origin` values, compared exactly (`https://app.example`); `"*"`
    /// allows any. Loopback origins (`http(s)://localhost|127.x.x.x|[::1][:port]`) are
    /// always allowed; requests without `Origin` (non-browser clients) always pass.
    pub allowed_origins: Vec<String>,
    /// Extra allowed `Host` names (`mcp.internal` matches any port, `mcp.internal:8080` only
    /// that port); `"*"` allows any. Always allowed: loopback names (`localhost`,
    /// `*.localhost`) and IP literals, which covers the bound address. A DNS name that
    /// is not listed is refused (403), which is what stops DNS rebinding.
    pub allowed_hosts: Vec<String>,
    /// Largest accepted request body in bytes (413 above).
    pub max_body: usize,
    /// A session unused for this long is forgotten (its id then gets 404).
    pub session_idle: Duration,
    /// Most sessions kept at once; creating one more evicts the longest-idle session.
    pub max_sessions: usize,
}

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            stateless: false,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            max_body: 1024 * 1024,
            session_idle: Duration::from_secs(30 * 60),
            max_sessions: 10_000,
        }
    }
}

/// Announces that the tool list changed. Every open HTTP `GET` stream (one per session) and
/// every stdio connection built with the same notifier sends
/// `notifications/tools/list_changed` once per call (calls in quick succession may coalesce
/// into one notification). Cheap to clone; clones share the signal.
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: Arc<watch::Sender<u64>>,
}

impl Notifier {
    /// A notifier nobody listens to yet.
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::channel(0).0),
        }
    }

    /// Sends `notifications/tools/list_changed` to every listener (call after a reload
    /// changed the tools).
    pub fn notify_tools_changed(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that wakes on the next notification (not on past ones).
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

impl Default for Notifier {
    fn default() -> Self {
        Self::new()
    }
}
