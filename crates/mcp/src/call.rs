//! `tools/call`: argument checks, running the tool's unit (the same
//! [`naftiko_plan::UnitPlan::invoke`] the REST adapter calls), cancellation, and rendering
//! the answer as a `CallToolResult`.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures_util::future::{AbortHandle, Abortable};
use naftiko_plan::RawJsonArgs;
use naftiko_plan::jsontext::Member;

use crate::catalog::Catalog;
use crate::jsonrpc::{Params, RpcError, string_or_null};

mod render;

pub(crate) use render::{render_answer, tool_error};

/// Calls in flight on one session (or stdio connection), so `notifications/cancelled`
/// can abort them by request id.
///
/// A slab rather than a map by id: a call registers and finishes by its slot, so the
/// common path hashes nothing (the ids are the client's choice, so a map would need a
/// DoS-resistant hash: two SipHash passes per call); only a cancellation, which is rare,
/// looks through the calls for its id.
#[derive(Debug, Default)]
pub(crate) struct Inflight {
    calls: Mutex<Slots>,
    seq: AtomicU64,
}

#[derive(Debug, Default)]
struct Slots {
    /// `(raw id, registration number, handle)`; `None` is a free slot.
    entries: Vec<Option<(String, u64, AbortHandle)>>,
    free: Vec<usize>,
}

/// A call's place in [`Inflight`]; leaves it when dropped (also when the request is
/// dropped mid-call, which a map entry removed only on completion would have outlived).
pub(crate) struct Registration<'a> {
    inflight: &'a Inflight,
    slot: usize,
    seq: u64,
}

impl Inflight {
    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, id: &str, handle: AbortHandle) -> Registration<'_> {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let entry = Some((id.to_owned(), seq, handle));
        let mut slots = self.lock();
        let slot = match slots.free.pop() {
            Some(k) => {
                if let Some(free) = slots.entries.get_mut(k) {
                    *free = entry;
                }
                k
            }
            None => {
                slots.entries.push(entry);
                slots.entries.len() - 1
            }
        };
        Registration {
            inflight: self,
            slot,
            seq,
        }
    }

    /// Aborts the newest call with this raw id; unknown or finished ids are ignored (the
    /// spec allows the race).
    pub(crate) fn cancel(&self, id: &str) {
        let mut slots = self.lock();
        let newest = slots
            .entries
            .iter()
            .enumerate()
            .filter_map(|(k, e)| e.as_ref().filter(|e| e.0 == id).map(|e| (e.1, k)))
            .max();
        if let Some((_, k)) = newest
            && let Some((_, _, handle)) = slots.entries.get_mut(k).and_then(Option::take)
        {
            slots.free.push(k);
            handle.abort();
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.lock().entries.iter().all(Option::is_none)
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let mut slots = self.inflight.lock();
        // Cancelled calls already left (and their slot may hold a newer call).
        if let Some(entry) = slots.entries.get_mut(self.slot)
            && entry.as_ref().is_some_and(|e| e.1 == self.seq)
        {
            *entry = None;
            slots.free.push(self.slot);
        }
    }
}

/// What `tools/call` produced.
#[derive(Debug)]
pub(crate) enum CallOutcome {
    /// A `CallToolResult` object (without the closing brace's extras: see [`call`]).
    Result(String),
    /// The whole JSON-RPC response: an upstream answer is written straight into its
    /// envelope, so the largest text of a call is copied once.
    Response(Vec<u8>),
    /// A protocol error (unknown tool, malformed params).
    Error(RpcError),
    /// Cancelled by `notifications/cancelled`: nothing is answered.
    Cancelled,
}

/// `tools/call`'s params as far as the call needs them: the tool name and, when given
/// and not `null`, the `arguments` member (its members were located with the message).
struct CallParams<'m> {
    name: Option<Cow<'m, str>>,
    arguments: Option<&'m Member<'m>>,
}

impl<'m> CallParams<'m> {
    /// Reads the params as serde would read `{name?: string, arguments?: any}`: unknown
    /// members ignored, a known one twice or a name that is not a string refused.
    fn read(params: Params<'m>) -> Result<Self, String> {
        if !params.get().starts_with('{') {
            return Err("params must be an object".to_owned());
        }
        let mut out = Self {
            name: None,
            arguments: None,
        };
        let (mut name_seen, mut arguments_seen) = (false, false);
        for m in params.members() {
            match m.key().as_ref() {
                "name" => {
                    if std::mem::replace(&mut name_seen, true) {
                        return Err("duplicate field `name`".to_owned());
                    }
                    out.name = string_or_null(m.value)
                        .map_err(|()| "the tool name must be a string".to_owned())?;
                }
                "arguments" => {
                    if std::mem::replace(&mut arguments_seen, true) {
                        return Err("duplicate field `arguments`".to_owned());
                    }
                    out.arguments = (m.value != "null").then_some(m);
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Runs `tools/call`. `extra` is appended inside the result object.
pub(crate) async fn call(
    catalog: &Catalog,
    id: &str,
    params: Option<Params<'_>>,
    inflight: Option<&Inflight>,
    extra: &str,
) -> CallOutcome {
    let Some(params) = params else {
        return CallOutcome::Error(RpcError::invalid_params("Invalid params: missing params"));
    };
    let call = match CallParams::read(params) {
        Ok(p) => p,
        Err(e) => {
            return CallOutcome::Error(RpcError::invalid_params(format!("Invalid params: {e}")));
        }
    };
    let Some(name) = call.name else {
        return CallOutcome::Error(RpcError::invalid_params(
            "Invalid params: missing tool name",
        ));
    };
    let Some((tool, checks)) = catalog.tool(&name) else {
        return CallOutcome::Error(RpcError::invalid_params(format!("Unknown tool: {name}")));
    };
    // From 2025-11-25 bad arguments are tool errors (the model can read and fix them), and
    // a result is never wrong for older clients either.
    let args = match call.arguments {
        None => RawJsonArgs::default(),
        Some(arguments) if arguments.value.starts_with('{') => RawJsonArgs::from_members(
            arguments.value,
            params.members_of(arguments).map(|m| (m.key(), m.value)),
        ),
        Some(_) => {
            return CallOutcome::Result(tool_error(
                &format!("invalid arguments for tool '{name}': arguments must be a JSON object"),
                extra,
            ));
        }
    };
    if let Err(why) = checks.check(&args) {
        return CallOutcome::Result(tool_error(
            &format!("invalid arguments for tool '{name}': {why}"),
            extra,
        ));
    }
    let (handle, registration) = AbortHandle::new_pair();
    let registered = inflight.map(|f| f.register(id, handle));
    let unit = Arc::clone(&tool.unit);
    let run = Abortable::new(async move { unit.invoke(&args).await }, registration);
    let outcome = if tool.hints.read_only {
        // Reads run inline: dropping one when the client disconnects loses nothing.
        run.await
    } else {
        // A write must not be cut half-way by a client disconnect (the transports page:
        // a disconnect is not a cancellation; only `notifications/cancelled` aborts it).
        // It runs inline too, and only if this request is dropped does the rest of it
        // move to a task of its own, so the common case pays no spawn.
        Detached::new(run).await
    };
    drop(registered);
    match outcome {
        Ok(Ok(answer)) => CallOutcome::Response(render_answer(&answer, extra, id)),
        Ok(Err(e)) => {
            tracing::trace!(tool = %name, code = e.code(), "tool call failed");
            CallOutcome::Result(tool_error(&e.to_string(), extra))
        }
        Err(_aborted) => CallOutcome::Cancelled,
    }
}

/// A future polled in place that, if dropped before it finishes, is finished on a task
/// of its own instead of being cancelled.
struct Detached<F: Future<Output: Send + 'static> + Send + 'static>(Option<Pin<Box<F>>>);

impl<F: Future<Output: Send + 'static> + Send + 'static> Detached<F> {
    fn new(f: F) -> Self {
        Self(Some(Box::pin(f)))
    }
}

impl<F: Future<Output: Send + 'static> + Send + 'static> Future for Detached<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let Some(inner) = self.0.as_mut() else {
            return Poll::Pending;
        };
        let out = std::task::ready!(inner.as_mut().poll(cx));
        self.0 = None;
        Poll::Ready(out)
    }
}

impl<F: Future<Output: Send + 'static> + Send + 'static> Drop for Detached<F> {
    fn drop(&mut self) {
        if let (Some(rest), Ok(rt)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            rt.spawn(rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_id_keeps_the_newer_call() {
        let inflight = Inflight::default();
        let (old, _) = AbortHandle::new_pair();
        let (new, new_registration) = AbortHandle::new_pair();
        let first = inflight.register("7", old);
        let second = inflight.register("7", new);
        // The first call finishing must not forget the second, still running.
        drop(first);
        assert!(!new_registration.handle().is_aborted());
        inflight.cancel("7");
        assert!(
            new_registration.handle().is_aborted(),
            "the newer call is cancellable"
        );
        // The cancelled call's slot is free: a new call takes it, and the cancelled
        // call finishing must not remove the new one.
        let (h, third_registration) = AbortHandle::new_pair();
        let third = inflight.register("9", h);
        drop(second);
        inflight.cancel("9");
        assert!(third_registration.handle().is_aborted(), "still registered");
        drop(third);
        assert!(inflight.is_empty());
        // Its own finish removes an entry.
        let (h, _) = AbortHandle::new_pair();
        drop(inflight.register("8", h));
        assert!(inflight.is_empty());
    }

    #[test]
    fn the_newest_of_several_calls_with_one_id_is_cancelled() {
        let inflight = Inflight::default();
        let pairs: Vec<_> = (0..3).map(|_| AbortHandle::new_pair()).collect();
        let _regs: Vec<_> = pairs
            .iter()
            .map(|(h, _)| inflight.register("x", h.clone()))
            .collect();
        inflight.cancel("x");
        let aborted: Vec<bool> = pairs.iter().map(|(_, r)| r.handle().is_aborted()).collect();
        assert_eq!(aborted, [false, false, true]);
    }
}
