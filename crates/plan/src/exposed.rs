//! Compiling `exposes` adapters: REST routes and MCP tools over compiled operations.

use std::collections::HashMap;
use std::sync::Arc;

use http::Method;
use naftiko_jsonpath::Mapping;
use naftiko_spec::template::Template;
use naftiko_spec::{
    AdapterSpec, Diagnostics, InputParameterSpec, McpExposesSpec, OutputParameterSpec,
    RestExposesSpec, UnitSpec, WithSpec,
};
use serde_json::Value;

use crate::operation::{OperationPlan, ValueSource};
use crate::output::{OutputNode, OutputPlan};
use crate::secret::Binds;
use crate::tools::{Hints, ToolPlan, input_schema};
use crate::unit::{Binding, CallPlan, Source, UnitPlan};

/// A REST adapter: where it listens and its routes.
#[derive(Debug, Clone)]
pub struct RestAdapterPlan {
    /// Where the adapter is declared (for collision reports).
    pub pos: naftiko_spec::Pos,
    /// Namespace.
    pub namespace: String,
    /// Listen address (`None` = loopback).
    pub address: Option<String>,
    /// Listen port.
    pub port: u16,
    /// Resources in declaration order.
    pub resources: Vec<RestResourcePlan>,
}

/// A REST resource.
#[derive(Debug, Clone)]
pub struct RestResourcePlan {
    /// Path with `{name}` variables (`{{name}}` normalised).
    pub path: String,
    /// Operations by method.
    pub operations: Vec<(Method, Arc<UnitPlan>)>,
}

/// An MCP adapter.
#[derive(Debug, Clone)]
pub struct McpAdapterPlan {
    /// Where the adapter is declared (for collision reports).
    pub pos: naftiko_spec::Pos,
    /// Namespace: the server's name.
    pub namespace: String,
    /// Listen address (`None` = loopback).
    pub address: Option<String>,
    /// Listen port (`None` for stdio).
    pub port: Option<u16>,
    /// `transport: stdio`.
    pub stdio: bool,
    /// Description: the server's `instructions`.
    pub description: Option<String>,
    /// Tools in declaration order.
    pub tools: Vec<Arc<ToolPlan>>,
}

fn address(a: &AdapterSpec) -> Option<String> {
    a.address.as_ref().map(|s| s.value.clone())
}

impl RestAdapterPlan {
    pub(crate) fn compile(
        r: &RestExposesSpec,
        ops: &HashMap<String, Arc<OperationPlan>>,
        binds: &Arc<Binds>,
        d: &mut Diagnostics,
    ) -> Self {
        let ns = r.adapter.namespace_str();
        let resources = r
            .resources
            .iter()
            .map(|res| {
                let operations = res
                    .operations
                    .iter()
                    .filter_map(|op| {
                        let method = op.method.as_ref().map_or("GET", |m| m.value.as_str());
                        let method = Method::from_bytes(method.as_bytes()).ok()?;
                        let declared: Vec<&InputParameterSpec> = r
                            .input_parameters
                            .iter()
                            .chain(&res.input_parameters)
                            .chain(&op.unit.input_parameters)
                            .collect();
                        let name = op.name.as_ref().map_or_else(
                            || format!("{method} {}", res.path.value),
                            |n| n.value.clone(),
                        );
                        Some((
                            method,
                            Arc::new(unit(
                                name,
                                &op.unit,
                                &declared,
                                Prefix::Rest(ns),
                                ops,
                                binds,
                                d,
                            )),
                        ))
                    })
                    .collect();
                RestResourcePlan {
                    path: res.path.value.replace("{{", "{").replace("}}", "}"),
                    operations,
                }
            })
            .collect();
        Self {
            pos: r.adapter.pos,
            namespace: ns.to_string(),
            address: address(&r.adapter),
            port: port(&r.adapter),
            resources,
        }
    }
}

fn port(a: &AdapterSpec) -> u16 {
    a.port
        .as_ref()
        .and_then(|p| u16::try_from(p.value).ok())
        .unwrap_or(0)
}

impl McpAdapterPlan {
    pub(crate) fn compile(
        m: &McpExposesSpec,
        ops: &HashMap<String, Arc<OperationPlan>>,
        binds: &Arc<Binds>,
        d: &mut Diagnostics,
    ) -> Self {
        let ns = m.adapter.namespace_str();
        let tools = m
            .tools
            .iter()
            .map(|t| {
                let declared: Vec<&InputParameterSpec> = t.unit.input_parameters.iter().collect();
                let unit = Arc::new(unit(
                    t.name.value.clone(),
                    &t.unit,
                    &declared,
                    Prefix::Mcp(ns),
                    ops,
                    binds,
                    d,
                ));
                let h = t.hints.clone().unwrap_or_default();
                Arc::new(ToolPlan {
                    name: t.name.value.clone(),
                    title: t.label.as_ref().map(|s| s.value.clone()),
                    description: t
                        .description
                        .as_ref()
                        .map_or_else(|| t.name.value.clone(), |s| s.value.clone()),
                    hints: Hints {
                        read_only: h.read_only.unwrap_or(false),
                        destructive: h.destructive.unwrap_or(!h.read_only.unwrap_or(false)),
                        idempotent: h.idempotent.unwrap_or(h.read_only.unwrap_or(false)),
                        open_world: h.open_world.unwrap_or(true),
                    },
                    input_schema: input_schema(&t.unit, &unit),
                    unit,
                })
            })
            .collect();
        Self {
            pos: m.adapter.pos,
            namespace: ns.to_string(),
            address: address(&m.adapter),
            port: m
                .adapter
                .port
                .as_ref()
                .and_then(|p| u16::try_from(p.value).ok()),
            stdio: m.transport.as_ref().is_some_and(|t| t.value == "stdio"),
            description: m.adapter.description.as_ref().map(|s| s.value.clone()),
            tools,
        }
    }
}

/// Which prefixes name the caller's inputs in `with` values.
#[derive(Clone, Copy)]
enum Prefix<'a> {
    Rest(&'a str),
    Mcp(&'a str),
}

impl Prefix<'_> {
    fn strip<'s>(&self, s: &'s str) -> Option<&'s str> {
        let (head, name) = s.split_once('.')?;
        let ok = match self {
            Prefix::Rest(ns) => head == "rest" || head == *ns,
            Prefix::Mcp(ns) => head == "tools" || head == *ns,
        };
        let plain = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        (ok && plain).then_some(name)
    }
}

fn unit(
    name: String,
    u: &UnitSpec,
    declared: &[&InputParameterSpec],
    prefix: Prefix<'_>,
    ops: &HashMap<String, Arc<OperationPlan>>,
    binds: &Arc<Binds>,
    d: &mut Diagnostics,
) -> UnitPlan {
    let _ = d;
    let call = u.call.as_ref().and_then(|c| ops.get(&c.value)).map(|op| {
        let mut bindings: Vec<Binding> = declared.iter().map(|p| declared_binding(p)).collect();
        bindings.extend(u.with.iter().map(|w| with_binding(w, prefix)));
        let open = matches!(prefix, Prefix::Mcp(_)) && declared.is_empty() && u.with.is_empty();
        CallPlan {
            operation: op.clone(),
            bindings,
            open,
        }
    });
    let unsupported = if call.is_none() && !u.steps.is_empty() {
        Some("orchestration steps")
    } else if call.is_none() && u.r#ref.is_some() {
        Some("aggregate refs")
    } else {
        None
    };
    UnitPlan {
        name,
        output: output_plan(&u.output_parameters),
        mock_names: u
            .output_parameters
            .iter()
            .map(|o| o.name.as_ref().map(|n| n.value.clone()))
            .collect(),
        call,
        unsupported,
        binds: binds.clone(),
    }
}

fn declared_binding(p: &InputParameterSpec) -> Binding {
    let name = p.name.value.clone();
    let path = p.mapping.as_ref().map(|m| m.value.as_str()).or_else(|| {
        match p.value.as_ref().map(|v| &v.value) {
            Some(Value::String(s)) if s.trim_start().starts_with('$') => Some(s.as_str()),
            _ => None,
        }
    });
    let source = match (path.and_then(|m| Mapping::parse(m).ok()), &p.value) {
        (Some(m), _) => Source::BodyPath(m),
        (None, Some(v)) => value_source(&v.value),
        // A body input without a path: its field when the body has one, else the whole body.
        (None, None) if p.placement() == Some("body") => Source::BodyField(name.clone()),
        (None, None) => Source::Arg(name.clone()),
    };
    Binding {
        key: name,
        source,
        required: p.required.as_ref().is_some_and(|r| r.value),
    }
}

fn with_binding(w: &WithSpec, prefix: Prefix<'_>) -> Binding {
    let source = match &w.value.value {
        Value::String(s) => match prefix.strip(s) {
            Some("body") if matches!(prefix, Prefix::Rest(_)) => Source::Body,
            Some(name) => Source::Arg(name.to_string()),
            None => value_source(&w.value.value),
        },
        other => Source::Literal(other.clone()),
    };
    Binding {
        key: w.key.value.clone(),
        source,
        required: false,
    }
}

fn value_source(v: &Value) -> Source {
    match v {
        Value::String(s) if s.contains("{{") => {
            Template::parse(s).map_or_else(|_| Source::Literal(v.clone()), Source::Template)
        }
        other => Source::Literal(other.clone()),
    }
}

/// Compiles `outputParameters`; `$.` with no shape becomes a byte passthrough.
pub(crate) fn output_plan(outputs: &[OutputParameterSpec]) -> OutputPlan {
    let body_outputs: Vec<&OutputParameterSpec> = outputs
        .iter()
        .filter(|o| o.r#in.as_ref().is_none_or(|i| i.value == "body"))
        .collect();
    let Some(first) = body_outputs.first() else {
        return OutputPlan::Raw;
    };
    let shapeless = first.value.is_none()
        && first.properties.is_empty()
        && first.items.is_none()
        && first.values.is_none()
        && first.max_length.is_none();
    if shapeless
        && first
            .mapping
            .as_ref()
            .and_then(|m| Mapping::parse(&m.value).ok())
            .is_some_and(|m| m.is_root())
    {
        return OutputPlan::RootJson;
    }
    OutputPlan::Mapped(body_outputs.iter().filter_map(|o| output_node(o)).collect())
}

fn output_node(o: &OutputParameterSpec) -> Option<OutputNode> {
    if let Some(v) = &o.value {
        return Some(OutputNode::Const(match &v.value {
            Value::String(s) if s.contains("{{") => Template::parse(s).map_or_else(
                |_| ValueSource::Literal(v.value.clone()),
                ValueSource::Template,
            ),
            other => ValueSource::Literal(other.clone()),
        }));
    }
    let mapping = || {
        o.mapping
            .as_ref()
            .and_then(|m| Mapping::parse(&m.value).ok())
    };
    let root = || Mapping::parse("$").ok();
    match o.type_name() {
        Some("array") => Some(OutputNode::Array {
            mapping: mapping().or_else(root)?,
            items: o.items.as_deref().and_then(output_node).map(Box::new),
        }),
        Some("object") if o.values.is_some() => Some(OutputNode::Values {
            mapping: mapping().or_else(root)?,
            values: Box::new(o.values.as_deref().and_then(output_node)?),
        }),
        _ if !o.properties.is_empty() => Some(OutputNode::Object(
            o.properties
                .iter()
                .filter_map(|(k, p)| Some((k.value.clone(), output_node(p)?)))
                .collect(),
        )),
        _ => Some(OutputNode::Path {
            mapping: mapping()?,
            max_length: o.max_length.as_ref().map(|m| m.value as usize),
        }),
    }
}
