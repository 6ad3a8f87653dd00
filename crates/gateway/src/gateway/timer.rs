//! The header-read timer hyper asks each connection for, kept cheap.
//!
//! hyper starts a timer for every request head it reads and drops it once the head is
//! in: with tokio's timer that is a wheel entry registered and removed per request
//! (about 1,400 instructions and an allocation of a proxied GET, measured with
//! callgrind). Here each connection owns one tokio timer; a request's timer only
//! records its deadline and, when polled, makes sure the connection's timer is armed no
//! later than that. An early firing (armed for an earlier head) re-arms it, so the
//! timeout fires exactly when tokio's would.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::time::Sleep;

/// A connection's [`hyper::rt::Timer`].
#[derive(Clone, Default)]
pub(crate) struct ConnTimer {
    shared: Arc<Mutex<Option<Armed>>>,
}

/// The connection's tokio timer, created on first use and re-armed for ever, and the
/// waker it last registered: while that is the one polling, polling tokio's timer again
/// would only register it again (a few hundred instructions per request head).
struct Armed {
    sleep: Pin<Box<Sleep>>,
    waker: Option<Waker>,
}

/// One deadline handed to hyper.
struct Deadline {
    at: tokio::time::Instant,
    shared: Arc<Mutex<Option<Armed>>>,
}

impl hyper::rt::Timer for ConnTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let now = Instant::now();
        self.sleep_until(now.checked_add(duration).unwrap_or(now + FAR_FUTURE))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Deadline {
            at: deadline.into(),
            shared: Arc::clone(&self.shared),
        })
    }
}

/// Stands in for a deadline beyond what `Instant` can hold (about 30 years).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

impl hyper::rt::Sleep for Deadline {}

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let at = self.at;
        // Only this connection's task polls its timers: the lock is never contended.
        let mut slot = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let armed = slot.get_or_insert_with(|| Armed {
            sleep: Box::pin(tokio::time::sleep_until(at)),
            waker: None,
        });
        if armed.sleep.deadline() > at {
            armed.sleep.as_mut().reset(at);
            armed.waker = None;
        }
        let registered = armed
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()));
        if registered && !armed.sleep.is_elapsed() {
            return Poll::Pending;
        }
        while armed.sleep.as_mut().poll(cx).is_ready() {
            if tokio::time::Instant::now() >= at {
                armed.waker = None;
                return Poll::Ready(());
            }
            armed.sleep.as_mut().reset(at);
        }
        armed.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use hyper::rt::Timer as _;

    use super::*;

    /// Deadlines from the paused tokio clock (std's keeps running).
    fn after(timer: &ConnTimer, ms: u64) -> Pin<Box<dyn hyper::rt::Sleep>> {
        timer.sleep_until(tokio::time::Instant::now().into_std() + Duration::from_millis(ms))
    }

    #[tokio::test(start_paused = true)]
    async fn each_deadline_fires_at_its_own_time() {
        let timer = ConnTimer::default();
        let start = tokio::time::Instant::now();
        // Arms the connection's timer 10 ms ahead, then is dropped unfired.
        assert!(poll_once(after(&timer, 10)).await.is_pending());
        // A later deadline on the same connection: the early firing must not end it.
        after(&timer, 50).await;
        assert_eq!(
            tokio::time::Instant::now() - start,
            Duration::from_millis(50)
        );
        // An earlier deadline than the one armed is brought forward.
        assert!(poll_once(after(&timer, 30_000)).await.is_pending());
        after(&timer, 5).await;
        assert_eq!(
            tokio::time::Instant::now() - start,
            Duration::from_millis(55)
        );
    }

    async fn poll_once(mut f: Pin<Box<dyn hyper::rt::Sleep>>) -> Poll<()> {
        std::future::poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await
    }
}
