//! The live gateway: every capability file's last good plan, the listeners that serve
//! them, and the reload that moves from one generation to the next.
//!
//! Each file compiles on its own; a file that fails keeps serving its last good version.
//! New ports are bound before anything is published; routes are swapped atomically per
//! listener; ports nobody serves any more stop and drain.

mod accept;
mod assemble;
mod h1;
mod linger;
mod listeners;
pub(crate) mod mcp;
mod state;
mod timer;

pub(crate) use state::{Gateway, Settings, Source};
