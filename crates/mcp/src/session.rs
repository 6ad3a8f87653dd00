//! Sessions of the stateful HTTP transport: random ids, the negotiated version, calls in
//! flight, the one GET stream, idle expiry and a bound on how many are kept.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::sync::watch;

use crate::call::Inflight;
use crate::jsonrpc::Version;
use crate::keyhash::OwnKeyMap;

/// Marks a session's stream generation as "session ended".
const ENDED: u64 = u64::MAX;

/// One client session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) version: Version,
    pub(crate) inflight: Inflight,
    /// Milliseconds since the store's epoch.
    last_used: AtomicU64,
    /// Generation of the current GET stream; a new stream (or the end of the session)
    /// bumps it and older streams close, so each message goes to exactly one stream.
    stream: watch::Sender<u64>,
    open_streams: AtomicUsize,
}

impl Session {
    /// Registers a new GET stream, closing the previous one. Returns its generation and
    /// a receiver that changes when it must close.
    pub(crate) fn open_stream(self: &Arc<Self>) -> StreamGuard {
        let mut generation = 0;
        self.stream.send_if_modified(|g| {
            if *g != ENDED {
                *g += 1;
            }
            generation = *g;
            true
        });
        self.open_streams.fetch_add(1, Ordering::Relaxed);
        StreamGuard {
            session: Arc::clone(self),
            generation,
            control: self.stream.subscribe(),
        }
    }

    fn end(&self) {
        self.stream.send_replace(ENDED);
    }

    fn idle_since(&self) -> u64 {
        self.last_used.load(Ordering::Relaxed)
    }
}

/// Held by an open GET stream; counts as activity and tells the stream when to close.
#[derive(Debug)]
pub(crate) struct StreamGuard {
    session: Arc<Session>,
    generation: u64,
    control: watch::Receiver<u64>,
}

impl StreamGuard {
    /// Resolves when this stream must close (replaced, or the session ended).
    pub(crate) async fn superseded(&mut self) {
        let generation = self.generation;
        // An error means the session was dropped: close too.
        let _ = self.control.wait_for(|g| *g != generation).await;
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.session.open_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// All sessions of one HTTP adapter.
#[derive(Debug)]
pub(crate) struct Sessions {
    map: Mutex<OwnKeyMap<Arc<str>, Arc<Session>>>,
    epoch: Instant,
    idle_ms: u64,
    max: usize,
    last_sweep: AtomicU64,
}

impl Sessions {
    pub(crate) fn new(idle: Duration, max: usize) -> Self {
        Self {
            map: Mutex::new(OwnKeyMap::default()),
            epoch: Instant::now(),
            idle_ms: u64::try_from(idle.as_millis()).unwrap_or(u64::MAX),
            max: max.max(1),
            last_sweep: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, OwnKeyMap<Arc<str>, Arc<Session>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn expired(&self, s: &Session, now: u64) -> bool {
        s.open_streams.load(Ordering::Relaxed) == 0
            && now.saturating_sub(s.idle_since()) > self.idle_ms
    }

    /// Creates a session. Fails only if the OS has no randomness to give.
    pub(crate) fn create(&self, version: Version) -> Result<Arc<Session>, getrandom::Error> {
        let mut raw = [0u8; 24];
        getrandom::fill(&mut raw)?;
        // base64url: visible ASCII only, as the transport requires.
        let id: Arc<str> = URL_SAFE_NO_PAD.encode(raw).into();
        let now = self.now();
        let session = Arc::new(Session {
            id: Arc::clone(&id),
            version,
            inflight: Inflight::default(),
            last_used: AtomicU64::new(now),
            stream: watch::channel(0).0,
            open_streams: AtomicUsize::new(0),
        });
        let mut map = self.lock();
        // Sweep at most every quarter idle period (or when full), so creation stays O(1)
        // amortised and an idle process holds at most `max` sessions.
        let due = now.saturating_sub(self.last_sweep.load(Ordering::Relaxed))
            > (self.idle_ms / 4).min(60_000);
        if due || map.len() >= self.max {
            self.last_sweep.store(now, Ordering::Relaxed);
            map.retain(|_, s| {
                let keep = !self.expired(s, now);
                if !keep {
                    s.end();
                }
                keep
            });
        }
        if map.len() >= self.max {
            // Still full: drop the longest-idle session; its client gets 404 and
            // re-initializes, which beats refusing new clients.
            let oldest = map
                .values()
                .filter(|s| s.open_streams.load(Ordering::Relaxed) == 0)
                .min_by_key(|s| s.idle_since())
                .or_else(|| map.values().min_by_key(|s| s.idle_since()))
                .map(|s| Arc::clone(&s.id));
            if let Some(old) = oldest.and_then(|id| map.remove(&id)) {
                old.end();
            }
        }
        map.insert(id, Arc::clone(&session));
        Ok(session)
    }

    /// The live session with this id, marked as used; expired ones are removed.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        let now = self.now();
        let mut map = self.lock();
        let s = map.get(id)?;
        if self.expired(s, now) {
            if let Some(s) = map.remove(id) {
                s.end();
            }
            return None;
        }
        s.last_used.store(now, Ordering::Relaxed);
        Some(Arc::clone(s))
    }

    /// Ends a session (DELETE); `false` if it did not exist.
    pub(crate) fn remove(&self, id: &str) -> bool {
        match self.lock().remove(id) {
            Some(s) => {
                s.end();
                true
            }
            None => false,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_expiring() {
        let s = Sessions::new(Duration::from_secs(60), 2);
        let a = s.create(Version::V2025_11_25).unwrap();
        let b = s.create(Version::V2025_11_25).unwrap();
        assert!(a.id.bytes().all(|c| (0x21..=0x7e).contains(&c)) && a.id.len() >= 32);
        assert_ne!(a.id, b.id);
        a.last_used.store(0, Ordering::Relaxed);
        b.last_used.store(5, Ordering::Relaxed);
        let c = s.create(Version::V2025_11_25).unwrap();
        assert_eq!(s.len(), 2);
        assert!(
            s.get(&a.id).is_none(),
            "the longest-idle session is evicted"
        );
        assert!(s.get(&b.id).is_some() && s.get(&c.id).is_some());
        assert!(s.remove(&b.id) && !s.remove(&b.id));

        let short = Sessions::new(Duration::from_millis(0), 10);
        let d = short.create(Version::V2025_03_26).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get(&d.id).is_none(), "idle sessions expire");
    }
}
