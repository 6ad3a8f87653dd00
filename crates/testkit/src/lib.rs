//! Test support for naftiko-gateway, also used by the `naftiko-gateway demo`
//! command. It owns two loopback HTTP servers: [`RecordingUpstream`], a stub
//! upstream that records every request and answers from a script, and
//! [`OryFake`], an in-memory, stateful fake of the Ory Identities (Kratos)
//! admin API. It must not know anything about Naftiko specs, plans or the
//! gateway: it speaks plain HTTP and JSON only, so tests can check the gateway
//! from the outside.

#![forbid(unsafe_code)]

mod ory;
mod recording;
mod serve;
mod util;

pub use ory::OryFake;
pub use recording::{Answer, MAX_RECORDED_BODY, Recorded, RecordingUpstream, closed_port_url};
pub use serve::serve_http1;
