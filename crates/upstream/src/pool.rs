//! Idle keep-alive HTTP/1.1 connections, kept per upstream origin.
//!
//! Deliberately small: a gateway talks to a handful of origins, so origins
//! live in a `Vec` scanned linearly (no hashing of the authority per call, which
//! cost hyper-util's pool three SipHash passes per request), and each origin's
//! idle connections form a LIFO stack so the warmest socket is reused first.
//! The lock is held only to push or pop, never across an `.await`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::Authority;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;

/// The sending half of one HTTP/1.1 connection.
pub(crate) type Sender = SendRequest<Full<Bytes>>;

/// Idle connections per origin, with an idle deadline and a per-origin cap.
pub(crate) struct Pool {
    state: Mutex<State>,
    idle_timeout: Duration,
    max_idle: usize,
}

#[derive(Default)]
struct State {
    origins: Vec<Origin>,
    /// Whether a sweeper task is running; it stops once nothing is idle.
    sweeping: bool,
}

struct Origin {
    https: bool,
    authority: Authority,
    /// Oldest first; checkout pops from the back.
    idle: Vec<Idle>,
}

struct Idle {
    sender: Sender,
    since: Instant,
}

impl Pool {
    pub(crate) fn new(idle_timeout: Duration, max_idle: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            idle_timeout,
            max_idle,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a plain list that no panic can leave half-updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently used live connection to the origin, if any.
    ///
    /// The caller still has to wait for it to be ready; a connection the peer
    /// closed since it was checked here fails that wait, and the caller then
    /// asks again.
    pub(crate) fn checkout(&self, https: bool, authority: &Authority) -> Option<Sender> {
        let now = Instant::now();
        let mut state = self.lock();
        let origin = state.origins.iter_mut().find(|o| o.is(https, authority))?;
        while let Some(idle) = origin.idle.pop() {
            if now.saturating_duration_since(idle.since) > self.idle_timeout {
                // Everything below is older still.
                origin.idle.clear();
                return None;
            }
            if !idle.sender.is_closed() {
                return Some(idle.sender);
            }
        }
        None
    }

    /// Returns a connection whose last exchange completed.
    pub(crate) fn put(self: &Arc<Self>, https: bool, authority: &Authority, sender: Sender) {
        if sender.is_closed() || self.max_idle == 0 {
            return;
        }
        let idle = Idle {
            sender,
            since: Instant::now(),
        };
        let mut state = self.lock();
        match state.origins.iter_mut().find(|o| o.is(https, authority)) {
            Some(origin) if origin.idle.len() >= self.max_idle => return,
            Some(origin) => origin.idle.push(idle),
            None => state.origins.push(Origin {
                https,
                authority: authority.clone(),
                idle: vec![idle],
            }),
        }
        if !state.sweeping {
            state.sweeping = true;
            drop(state);
            tokio::spawn(sweep(Arc::downgrade(self)));
        }
    }

    /// Drops expired and closed connections; `false` once nothing is idle.
    fn sweep_once(&self) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        for origin in &mut state.origins {
            origin.idle.retain(|i| {
                !i.sender.is_closed() && now.saturating_duration_since(i.since) <= self.idle_timeout
            });
        }
        state.origins.retain(|o| !o.idle.is_empty());
        let busy = !state.origins.is_empty();
        state.sweeping = busy;
        busy
    }
}

impl Origin {
    fn is(&self, https: bool, authority: &Authority) -> bool {
        self.https == https && self.authority.as_str() == authority.as_str()
    }
}

/// Closes idle sockets after the idle timeout even when no call comes to
/// notice; ends when the pool is empty or gone.
async fn sweep(pool: Weak<Pool>) {
    loop {
        let Some(period) = pool.upgrade().map(|p| p.idle_timeout / 2) else {
            return;
        };
        tokio::time::sleep(period.max(Duration::from_millis(10))).await;
        match pool.upgrade() {
            Some(p) if p.sweep_once() => {}
            _ => return,
        }
    }
}
