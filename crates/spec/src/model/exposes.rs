//! `capability.exposes`: the REST and MCP adapters (control and skill adapters are
//! loaded for checking only).

use super::consumes::AuthenticationSpec;
use super::params::{
    HintsSpec, InputParameterSpec, OutputParameterSpec, StepSpec, WithSpec, decode_with,
};
use crate::decode::{Fields, fields};
use crate::diag::{Diagnostics, Pos, Spanned};
use crate::yaml::Node;

/// One `exposes` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ExposesSpec {
    /// `type: rest`.
    Rest(RestExposesSpec),
    /// `type: mcp`.
    Mcp(McpExposesSpec),
    /// `type: control`, `type: skill`, or a type we do not know (reported by the checks).
    Other(OtherExposesSpec),
}

/// Common adapter settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterSpec {
    /// Where the entry starts.
    pub pos: Pos,
    /// Namespace (`rest.X` may also be written `<namespace>.X`).
    pub namespace: Option<Spanned<String>>,
    /// Port to listen on.
    pub port: Option<Spanned<u64>>,
    /// Whether a `port` key is present (even with an unusable value).
    pub port_declared: bool,
    /// Address to listen on (default: loopback).
    pub address: Option<Spanned<String>>,
    /// Description (MCP: the server's `instructions`).
    pub description: Option<Spanned<String>>,
    /// Inbound authentication.
    pub authentication: Option<AuthenticationSpec>,
}

/// A REST adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct RestExposesSpec {
    /// Namespace, port, address, ...
    pub adapter: AdapterSpec,
    /// Adapter-wide inputs.
    pub input_parameters: Vec<InputParameterSpec>,
    /// Resources.
    pub resources: Vec<RestResourceSpec>,
}

/// A REST resource: a path and its operations.
#[derive(Debug, Clone, PartialEq)]
pub struct RestResourceSpec {
    /// Where it starts.
    pub pos: Pos,
    /// Path with `{x}` or `{{x}}` variables.
    pub path: Spanned<String>,
    /// Name.
    pub name: Option<Spanned<String>>,
    /// Resource-wide inputs.
    pub input_parameters: Vec<InputParameterSpec>,
    /// Operations.
    pub operations: Vec<RestOperationSpec>,
}

/// A REST operation.
#[derive(Debug, Clone, PartialEq)]
pub struct RestOperationSpec {
    /// Where it starts.
    pub pos: Pos,
    /// HTTP method (default GET).
    pub method: Option<Spanned<String>>,
    /// Name.
    pub name: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// The operation's work: a call, steps or a ref.
    pub unit: UnitSpec,
}

/// What an operation or tool does: the parts shared by REST operations and MCP tools.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitSpec {
    /// Declared inputs.
    pub input_parameters: Vec<InputParameterSpec>,
    /// `namespace.operation` of a consumed operation.
    pub call: Option<Spanned<String>>,
    /// Bindings of the call's inputs.
    pub with: Vec<WithSpec>,
    /// Output mappings.
    pub output_parameters: Vec<OutputParameterSpec>,
    /// Orchestration steps.
    pub steps: Vec<StepSpec>,
    /// `aggregate.function` reference.
    pub r#ref: Option<Spanned<String>>,
}

impl UnitSpec {
    fn read(f: &mut Fields<'_>, d: &mut Diagnostics) -> Self {
        let input_parameters = f.list("inputParameters", d, InputParameterSpec::decode);
        let call = f.str("call", d);
        let with = decode_with(f, d);
        let output_parameters = f.list("outputParameters", d, OutputParameterSpec::decode);
        let steps = f.list("steps", d, StepSpec::decode);
        let r#ref = f.str("ref", d);
        f.get("mappings");
        Self {
            input_parameters,
            call,
            with,
            output_parameters,
            steps,
            r#ref,
        }
    }
}

/// An MCP adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct McpExposesSpec {
    /// Namespace (the server's name), port, address, ...
    pub adapter: AdapterSpec,
    /// `http` (default) or `stdio`.
    pub transport: Option<Spanned<String>>,
    /// Tools.
    pub tools: Vec<ToolSpec>,
}

/// An MCP tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// Where it starts.
    pub pos: Pos,
    /// Tool name.
    pub name: Spanned<String>,
    /// Display title.
    pub label: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// Behaviour hints.
    pub hints: Option<HintsSpec>,
    /// The tool's work.
    pub unit: UnitSpec,
}

/// An adapter we load but do not serve (control, skill) or do not know.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherExposesSpec {
    /// Namespace, port, ...
    pub adapter: AdapterSpec,
    /// Its `type`.
    pub r#type: Spanned<String>,
}

impl ExposesSpec {
    pub(crate) fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "an exposes entry", d)?;
        let Some(r#type) = f.req_str("type", d) else {
            f.finish(d);
            return None;
        };
        let adapter = AdapterSpec::read(&mut f, node.pos, d);
        let out = match r#type.value.as_str() {
            "rest" => {
                let input_parameters = f.list("inputParameters", d, InputParameterSpec::decode);
                let resources = f.list("resources", d, RestResourceSpec::decode);
                Self::Rest(RestExposesSpec {
                    adapter,
                    input_parameters,
                    resources,
                })
            }
            "mcp" => {
                let transport = f.str("transport", d);
                let tools = f.list("tools", d, ToolSpec::decode);
                // MCP resources and prompts are loaded for the schema check only.
                f.get("resources");
                f.get("prompts");
                Self::Mcp(McpExposesSpec {
                    adapter,
                    transport,
                    tools,
                })
            }
            _ => {
                for key in [
                    "management",
                    "observability",
                    "skills",
                    "skill",
                    "groups",
                    "resources",
                    "tools",
                    "path",
                    "method",
                ] {
                    f.get(key);
                }
                Self::Other(OtherExposesSpec { adapter, r#type })
            }
        };
        f.finish(d);
        Some(out)
    }

    /// Common settings of any adapter.
    pub fn adapter(&self) -> &AdapterSpec {
        match self {
            Self::Rest(r) => &r.adapter,
            Self::Mcp(m) => &m.adapter,
            Self::Other(o) => &o.adapter,
        }
    }
}

impl AdapterSpec {
    fn read(f: &mut Fields<'_>, pos: Pos, d: &mut Diagnostics) -> Self {
        let port = f.uint("port", d);
        let port_declared = port.is_some() || f.get("port").is_some();
        Self {
            pos,
            namespace: f.str("namespace", d),
            port,
            port_declared,
            address: f.str("address", d),
            description: f.str("description", d),
            authentication: f
                .get("authentication")
                .and_then(|n| AuthenticationSpec::decode(n, d)),
        }
    }

    /// The namespace text, or "" when missing.
    pub fn namespace_str(&self) -> &str {
        self.namespace.as_ref().map_or("", |s| s.value.as_str())
    }
}

impl RestResourceSpec {
    fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "a REST resource", d)?;
        let path = f.req_str("path", d);
        let name = f.str("name", d);
        for key in [
            "description",
            "label",
            "forward",
            "uri",
            "mimeType",
            "call",
            "with",
        ] {
            f.get(key);
        }
        let input_parameters = f.list("inputParameters", d, InputParameterSpec::decode);
        let operations = f.list("operations", d, RestOperationSpec::decode);
        f.finish(d);
        Some(Self {
            pos: node.pos,
            path: path?,
            name,
            input_parameters,
            operations,
        })
    }
}

impl RestOperationSpec {
    fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "a REST operation", d)?;
        let method = f.str("method", d);
        let name = f.str("name", d);
        let description = f.str("description", d);
        f.get("label");
        let unit = UnitSpec::read(&mut f, d);
        f.finish(d);
        Some(Self {
            pos: node.pos,
            method,
            name,
            description,
            unit,
        })
    }
}

impl ToolSpec {
    fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "an MCP tool", d)?;
        let name = f.req_str("name", d);
        let label = f.str("label", d);
        let description = f.str("description", d);
        let hints = f.get("hints").and_then(|n| HintsSpec::decode(n, d));
        let unit = UnitSpec::read(&mut f, d);
        f.finish(d);
        Some(Self {
            pos: node.pos,
            name: name?,
            label,
            description,
            hints,
            unit,
        })
    }
}
