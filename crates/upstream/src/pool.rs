//! Idle keep-alive HTTP/1.1 connections, kept per upstream origin.
//!
//! Deliberately small: a gateway talks to a handful of origins, so origins
//! live in a `Vec` scanned linearly (no hashing of the authority per call, which
//! cost hyper-util's pool three SipHash passes per request), and each origin's
//! idle connections form a LIFO stack so the warmest socket is reused first.
//! The lock is held only to push or pop, never across an `.await`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use http::uri::Authority;
// tokio's clock, the one calls read: a call hands its own reading to `checkout`.
use tokio::time::Instant;

use crate::client::Conn;

/// Idle connections per origin, with an idle deadline and a per-origin cap.
pub(crate) struct Pool {
    state: Mutex<State>,
    /// Whether the [`janitor`] task was started.
    janitor: AtomicBool,
    idle_timeout: Duration,
    max_idle: usize,
}

#[derive(Default)]
struct State {
    origins: Vec<Origin>,
}

struct Origin {
    https: bool,
    authority: Authority,
    /// Oldest first; checkout pops from the back.
    idle: Vec<Idle>,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

impl Pool {
    pub(crate) fn new(idle_timeout: Duration, max_idle: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            janitor: AtomicBool::new(false),
            idle_timeout,
            max_idle,
        })
    }

    /// Starts the [`janitor`] on the calling runtime, once.
    pub(crate) fn start_janitor(self: &Arc<Self>) {
        if !self.janitor.load(Ordering::Relaxed) && !self.janitor.swap(true, Ordering::Relaxed) {
            tokio::spawn(janitor(Arc::downgrade(self)));
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a plain list that no panic can leave half-updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently used live connection to the origin, if any, idle for no
    /// longer than the idle timeout at `now` (the call's own clock reading: one
    /// fewer per call).
    ///
    /// The caller still has to wait for it to be ready; a connection the peer
    /// closed since it was checked here fails that wait, and the caller then
    /// asks again.
    pub(crate) fn checkout(
        &self,
        https: bool,
        authority: &Authority,
        now: Instant,
    ) -> Option<Conn> {
        let mut state = self.lock();
        let origin = state.origins.iter_mut().find(|o| o.is(https, authority))?;
        while let Some(mut idle) = origin.idle.pop() {
            if now.saturating_duration_since(idle.since) > self.idle_timeout {
                // Everything below is older still.
                origin.idle.clear();
                return None;
            }
            if idle.conn.is_usable() {
                return Some(idle.conn);
            }
        }
        None
    }

    /// Returns a connection whose last exchange completed.
    pub(crate) fn put(&self, https: bool, authority: &Authority, conn: Conn) {
        if self.max_idle == 0 {
            return;
        }
        let idle = Idle {
            conn,
            since: Instant::now(),
        };
        let mut state = self.lock();
        match state.origins.iter_mut().find(|o| o.is(https, authority)) {
            Some(origin) if origin.idle.len() >= self.max_idle => {}
            Some(origin) => origin.idle.push(idle),
            None => state.origins.push(Origin {
                https,
                authority: authority.clone(),
                idle: vec![idle],
            }),
        }
    }

    /// Drops expired and closed connections.
    fn sweep(&self) {
        let now = Instant::now();
        let mut state = self.lock();
        for origin in &mut state.origins {
            origin.idle.retain_mut(|i| {
                now.saturating_duration_since(i.since) <= self.idle_timeout && i.conn.is_usable()
            });
        }
        state.origins.retain(|o| !o.idle.is_empty());
    }
}

impl Origin {
    fn is(&self, https: bool, authority: &Authority) -> bool {
        self.https == https && self.authority.as_str() == authority.as_str()
    }
}

/// How often the [`janitor`] wakes at most.
const JANITOR_PERIOD: Duration = Duration::from_secs(1);

/// Runs as long as the pool: closes idle sockets after the idle timeout even
/// when no call comes to notice.
///
/// Its timer, never more than a second ahead, is also what keeps per-call
/// deadlines cheap: tokio wakes its driver through an eventfd `write` every
/// time a timer is registered earlier than any other, which without this
/// anchor is every 30 s call deadline on an otherwise idle timer wheel — one
/// extra system call per upstream request.
async fn janitor(pool: Weak<Pool>) {
    loop {
        let Some(period) = pool.upgrade().map(|p| p.idle_timeout / 2) else {
            return;
        };
        let period = period.clamp(Duration::from_millis(10), JANITOR_PERIOD);
        tokio::time::sleep(period).await;
        match pool.upgrade() {
            Some(p) => p.sweep(),
            None => return,
        }
    }
}
