//! The compiled, immutable execution plan of Naftiko capabilities.
//!
//! This crate owns what a checked capability *does*: binds resolved into secrets,
//! consumed operations compiled into request builders (paths, parameters, bodies,
//! authentication), REST and MCP units with their `with` bindings and output mappings,
//! derived MCP tool schemas, and [`UnitPlan::invoke`], the one adapter-neutral function
//! both adapters call. It must not know YAML, axum, rmcp, sockets, file watching, or
//! which adapter is calling.
#![forbid(unsafe_code)]

mod args;
mod body;
mod compile;
mod consumed;
mod error;
mod exposed;
mod inbound;
pub mod jsontext;
mod operation;
mod origin;
mod output;
mod plain;
mod secret;
mod tools;
mod unit;
mod values;

pub use args::{ArgValue, Args, JsonArgs, RawJsonArgs};
pub use compile::{CompileOptions, UpstreamFactory, compile, route_variables};
pub use error::{Fault, InvokeError};
pub use exposed::{McpAdapterPlan, RestAdapterPlan, RestResourcePlan};
pub use inbound::{BodyError, read_body};
pub use naftiko_upstream::{Field, Fields};
pub use operation::{OperationPlan, ParamType, Placement};
pub use output::{Answer, AnswerBody, OutputPlan, is_json_media_type};
pub use plain::{OriginForm, PlainAnswer, PlainRequest, PlainService, Target, WholeAnswer};
pub use secret::{MapVars, Secret, Vars};
pub use tools::{Hints, ToolPlan};
pub use unit::{CallPlan, UnitPlan};

/// Everything one capability file serves.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// REST adapters.
    pub rest: Vec<RestAdapterPlan>,
    /// MCP adapters.
    pub mcp: Vec<McpAdapterPlan>,
}
