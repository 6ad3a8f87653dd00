//! Upstream writes batched per turn of the runtime: a request is written after the tasks
//! that are ready to run have had their turn, not in the middle of them.
//!
//! Why: a write wakes the upstream. When the upstream runs on the same core (a sidecar,
//! a local service, the benchmark's stub), a woken upstream usually preempts the gateway
//! right away, takes the one request it was handed, and sleeps again: two context
//! switches and a cold cache for every proxied request. Written after the other ready
//! tasks, the requests of one burst of client traffic reach the upstream together, so it
//! wakes once for several and the gateway is preempted once per burst. This is the write
//! batching event loops have long done (Redis answers clients in `beforeSleep`).
//! Measured with the upstream sharing the gateway's core and 32 connections (A/B runs of
//! `scripts/bench.sh`): context switches per proxied GET 0.47–0.52 → 0.33–0.39, and
//! throughput against nginx's 0.80–0.88× → 1.02–1.29×.
//!
//! The cost is one more poll of the exchange's task, only once per exchange; with nothing
//! else ready the task is polled again at once, so an idle gateway loses no latency.
//!
//! Only on a current-thread runtime (`--threads 1`: the whole gateway on one core, which
//! is where an upstream on that core preempts it). tokio's multi-thread scheduler wakes
//! an idle worker to steal every task that asks to be polled again, which would cost a
//! thread wake-up per request there; its writes go out at once, as before.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Resolves on its second poll, having asked to be polled again: the task goes to the
/// back of the runtime's queue of ready tasks. At once outside a current-thread runtime.
///
/// Not `tokio::task::yield_now`: that one waits for the I/O driver to be polled first (so
/// that a yielding task cannot starve I/O), which costs a system call per turn and lets
/// more client reads interleave with the writes; measured, it made every row slower.
#[derive(Debug)]
pub(crate) struct AfterReadyTasks {
    asked: bool,
}

impl AfterReadyTasks {
    pub(crate) fn new() -> Self {
        let batching = tokio::runtime::Handle::try_current()
            .is_ok_and(|rt| rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
        Self { asked: !batching }
    }
}

impl Future for AfterReadyTasks {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.asked {
            return Poll::Ready(());
        }
        self.asked = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Polls a fresh `AfterReadyTasks` until it is ready: how many wake-ups it asked for.
    fn wakes_asked() -> usize {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Arc::clone(&count).into();
        let mut cx = Context::from_waker(&waker);
        let mut turn = std::pin::pin!(AfterReadyTasks::new());
        let mut polls = 1;
        while turn.as_mut().poll(&mut cx).is_pending() {
            polls += 1;
            assert_eq!(
                count.0.load(Ordering::SeqCst),
                polls - 1,
                "woken, so polled again"
            );
        }
        count.0.load(Ordering::SeqCst)
    }

    #[test]
    fn asks_for_one_more_poll_on_a_current_thread_runtime() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _in = rt.enter();
        assert_eq!(wakes_asked(), 1);
    }

    #[test]
    fn resolves_at_once_elsewhere() {
        assert_eq!(wakes_asked(), 0, "outside a runtime");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let _in = rt.enter();
        assert_eq!(wakes_asked(), 0, "on a multi-thread runtime");
    }
}
