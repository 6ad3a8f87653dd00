//! Listening sockets that outlive reloads: each reads what it serves from a slot that
//! a reload swaps atomically; a request loads the slot once and finishes on it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use naftiko_rest::{RestConfig, RestRoutes, RestSource};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The REST routes of one listener, swapped on reload.
#[derive(Default)]
pub(crate) struct RestSlot(pub(crate) ArcSwapOption<RestRoutes>);

impl RestSource for RestSlot {
    fn routes(&self) -> Option<Arc<RestRoutes>> {
        self.0.load_full()
    }
}

/// What a listener serves.
pub(crate) enum Slot {
    Rest(Arc<RestSlot>),
    Mcp(Arc<crate::gateway::mcp::McpSlot>),
}

/// One bound port.
pub(crate) struct Listener {
    pub(crate) bound: SocketAddr,
    /// Generation that opened it.
    pub(crate) generation: u64,
    pub(crate) slot: Slot,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Serves `app` on an already bound socket until stopped.
    pub(crate) fn spawn<A: crate::gateway::accept::App>(
        listener: TcpListener,
        app: A,
        slot: Slot,
        header_timeout: Duration,
    ) -> std::io::Result<Self> {
        let bound = listener.local_addr()?;
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(crate::gateway::accept::serve(
            listener,
            app,
            header_timeout,
            rx,
        ));
        Ok(Self {
            bound,
            generation: 0,
            slot,
            stop,
            task,
        })
    }

    /// A REST listener.
    /// The routes are in place before the first connection is accepted.
    pub(crate) fn rest(
        listener: TcpListener,
        config: RestConfig,
        routes: Arc<RestRoutes>,
        header_timeout: Duration,
    ) -> std::io::Result<Self> {
        let slot = Arc::new(RestSlot(ArcSwapOption::new(Some(routes))));
        let app = naftiko_rest::service(slot.clone(), config);
        Self::spawn(listener, app, Slot::Rest(slot), header_timeout)
    }

    /// Whether this generation opened it.
    pub(crate) fn fresh(&self, generation: u64) -> bool {
        self.generation == generation
    }

    /// Stops accepting; in-flight requests get `drain` to finish, then are cut.
    pub(crate) async fn stop(self, drain: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(drain, &mut task).await.is_err() {
            task.abort();
        }
    }
}
