//! The REST adapter: serves the `type: rest` adapters of a plan over HTTP.
//!
//! This crate owns routing (`{x}` path variables, 404 / 405 + `Allow`), reading a request
//! into adapter-neutral inputs (`rest.X` = path variable → query → header → JSON body
//! field; `rest.body` = the whole JSON body), request size limits, and the one mapping
//! from answers and `InvokeError`s to HTTP responses (`application/problem+json`). It must
//! not know YAML, MCP, how upstream requests are built, or how plans are reloaded: it
//! reads the current routes from a [`RestSource`] on every request.
#![forbid(unsafe_code)]

mod args;
mod problem;
mod routes;
mod serve;

pub use problem::problem;
pub use routes::{RestRoutes, RouteConflict};
pub use serve::{RestConfig, RestService, RestSource, service};
