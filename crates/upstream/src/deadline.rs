//! Call deadlines kept by each connection's own timer, so a call costs no timer
//! registration of its own.
//!
//! `tokio::time::timeout` registers a new entry in the runtime's timer wheel for every
//! call and removes it when the call ends: two trips through the wheel's lock and about
//! 2,500 instructions per upstream request, which is a tenth of the gateway's work on a
//! proxied GET. A pooled connection's timer instead stays armed across calls at a
//! deadline no later than the current call's. It can only fire early, never late: when
//! it fires before the call's own deadline it is re-armed at that deadline, so the
//! timeout is exactly as precise as tokio's, and re-arming happens at most once per call
//! that outlives an earlier call's deadline (every 30 s of a busy connection by default).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

/// A connection's timer; see the module docs.
pub(crate) struct Timer(Pin<Box<Sleep>>);

impl Timer {
    /// A timer first armed at `at`.
    pub(crate) fn new(at: Instant) -> Self {
        Self(Box::pin(tokio::time::sleep_until(at)))
    }

    /// Runs `fut` until it finishes (`Some`) or `at` passes (`None`).
    ///
    /// Takes the future pinned where the caller keeps it: taken by value it would be
    /// held twice in this one's state (the argument, then its pinned copy), and copied.
    pub(crate) async fn run<F: Future>(
        &mut self,
        at: Instant,
        mut fut: Pin<&mut F>,
    ) -> Option<F::Output> {
        // A later deadline left by an earlier call with a longer timeout would fire too
        // late for this one.
        if self.0.deadline() > at {
            self.0.as_mut().reset(at);
        }
        std::future::poll_fn(|cx| self.poll(cx, at, fut.as_mut())).await
    }

    fn poll<F: Future>(
        &mut self,
        cx: &mut Context<'_>,
        at: Instant,
        fut: Pin<&mut F>,
    ) -> Poll<Option<F::Output>> {
        if let Poll::Ready(out) = fut.poll(cx) {
            return Poll::Ready(Some(out));
        }
        while self.0.as_mut().poll(cx).is_ready() {
            // Armed for an earlier call: fired early for this one.
            if Instant::now() >= at {
                return Poll::Ready(None);
            }
            self.0.as_mut().reset(at);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_early_timer_is_rearmed_not_taken_for_the_deadline() {
        let start = Instant::now();
        let mut timer = Timer::new(start + Duration::from_millis(10));
        let at = start + Duration::from_millis(100);
        let slow = tokio::time::sleep(Duration::from_millis(50));
        assert_eq!(timer.run(at, std::pin::pin!(slow)).await, Some(()));
        assert_eq!(Instant::now() - start, Duration::from_millis(50));
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_timer_is_brought_forward() {
        let start = Instant::now();
        let mut timer = Timer::new(start + Duration::from_secs(30));
        let at = start + Duration::from_millis(100);
        assert_eq!(
            timer
                .run(at, std::pin::pin!(std::future::pending::<()>()))
                .await,
            None
        );
        assert_eq!(Instant::now() - start, Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fired_timer_is_reused() {
        let start = Instant::now();
        let mut timer = Timer::new(start);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let at = Instant::now() + Duration::from_millis(20);
        assert_eq!(
            timer
                .run(at, std::pin::pin!(std::future::pending::<()>()))
                .await,
            None
        );
        assert_eq!(Instant::now(), at);
        let at = Instant::now() + Duration::from_millis(20);
        assert_eq!(timer.run(at, std::pin::pin!(async { 7 })).await, Some(7));
    }
}
