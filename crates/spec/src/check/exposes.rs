//! Checks of `exposes` adapters: types, ports, REST routes, MCP tools, and their calls.

use std::collections::HashMap;

use super::calls::{self, AdapterKind, CallSite};
use super::consumes::{METHODS, output_parameter};
use super::{Context, path_variables, template};
use crate::diag::{Diagnostics, Pos};
use crate::model::{ExposesSpec, McpExposesSpec, RestExposesSpec, UnitSpec};

pub(super) fn check_exposes(cx: &Context<'_>, exposes: &[ExposesSpec], d: &mut Diagnostics) {
    let mut ports: HashMap<u64, Pos> = HashMap::new();
    for e in exposes {
        let a = e.adapter();
        let stdio = matches!(e, ExposesSpec::Mcp(m) if m.transport.as_ref().is_some_and(|t| t.value == "stdio"));
        match &a.port {
            Some(p) => {
                if p.value == 0 || p.value > 65535 {
                    d.error(
                        "port",
                        p.pos,
                        format!("port {} is not a valid TCP port (1-65535)", p.value),
                    );
                } else if let Some(first) = ports.get(&p.value) {
                    d.error(
                        "port-unique",
                        p.pos,
                        format!(
                            "port {} is already used by the adapter at line {}",
                            p.value, first.line
                        ),
                    );
                } else {
                    ports.insert(p.value, p.pos);
                }
            }
            None if !stdio && !a.port_declared && !matches!(e, ExposesSpec::Other(_)) => {
                d.error(
                    "missing-key",
                    a.pos,
                    "an adapter served over HTTP needs a 'port'",
                );
            }
            None => {}
        }
        if a.namespace.is_none()
            && !matches!(e, ExposesSpec::Other(o) if o.r#type.value == "control")
        {
            d.error("missing-key", a.pos, "an adapter needs a 'namespace'");
        }
        match e {
            ExposesSpec::Rest(r) => rest(cx, r, d),
            ExposesSpec::Mcp(m) => mcp(cx, m, d),
            ExposesSpec::Other(o) => {
                if !["control", "skill"].contains(&o.r#type.value.as_str()) {
                    d.error(
                        "exposes-type",
                        o.r#type.pos,
                        format!(
                            "unknown adapter type '{}' (known: rest, mcp, control, skill)",
                            o.r#type.value
                        ),
                    );
                }
            }
        }
    }
}

fn rest(cx: &Context<'_>, r: &RestExposesSpec, d: &mut Diagnostics) {
    let ns = r.adapter.namespace_str();
    let mut routes: HashMap<(String, String), Pos> = HashMap::new();
    for res in &r.resources {
        let path = &res.path.value;
        if !path.starts_with('/') {
            d.error(
                "rest-path",
                res.path.pos,
                format!("REST path '{path}' must start with '/'"),
            );
        }
        if path.len() > 1 && path.ends_with('/') {
            d.warning(
                "naftiko-rest-resource-path-no-trailing-slash",
                res.path.pos,
                format!("REST path '{path}' should not end with '/'"),
            );
        }
        let route_vars = path_variables(path);
        let shape = route_shape(path);
        for op in &res.operations {
            let method = op.method.as_ref().map_or("GET", |m| m.value.as_str());
            let pos = op.method.as_ref().map_or(op.pos, |m| m.pos);
            if !METHODS.contains(&method) {
                d.error(
                    "method",
                    pos,
                    format!("'{method}' is not an HTTP method ({})", METHODS.join(", ")),
                );
            }
            if let Some(first) = routes.insert((method.to_string(), shape.clone()), pos) {
                d.error(
                    "rest-route-unique",
                    pos,
                    format!("{method} {path} is already defined at line {}", first.line),
                );
            }
            let mut declared: Vec<String> = r
                .input_parameters
                .iter()
                .chain(&res.input_parameters)
                .map(|p| p.name.value.clone())
                .collect();
            declared.extend(
                op.unit
                    .input_parameters
                    .iter()
                    .map(|p| p.name.value.clone()),
            );
            let site = CallSite {
                kind: AdapterKind::Rest,
                namespace: ns,
                route_vars: route_vars.clone(),
                declared_inputs: declared,
                open_arguments: false,
                with: &op.unit.with,
                pos: op.pos,
            };
            unit(cx, &site, &op.unit, op.pos, d);
        }
    }
}

/// A REST path with variable names erased, so `/a/{x}` and `/a/{{y}}` compare equal.
fn route_shape(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn mcp(cx: &Context<'_>, m: &McpExposesSpec, d: &mut Diagnostics) {
    if let Some(t) = &m.transport
        && !["http", "stdio"].contains(&t.value.as_str())
    {
        d.error(
            "mcp-transport",
            t.pos,
            format!("unknown MCP transport '{}' (http or stdio)", t.value),
        );
    }
    let ns = m.adapter.namespace_str();
    let mut names: HashMap<&str, Pos> = HashMap::new();
    for tool in &m.tools {
        let name = &tool.name;
        let valid = !name.value.is_empty()
            && name.value.len() <= 128
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            d.error(
                "tool-name",
                name.pos,
                format!(
                    "tool name '{}' is not a valid MCP tool name (1-128 of A-Z a-z 0-9 _ - .)",
                    name.value
                ),
            );
        }
        if let Some(first) = names.insert(&name.value, name.pos) {
            d.error(
                "tool-name-unique",
                name.pos,
                format!(
                    "tool '{}' is already defined at line {}",
                    name.value, first.line
                ),
            );
        }
        if tool.description.is_none() {
            d.warning(
                "tool-description",
                tool.pos,
                format!(
                    "tool '{}' has no description (MCP clients show the name only)",
                    name.value
                ),
            );
        }
        let declared: Vec<String> = tool
            .unit
            .input_parameters
            .iter()
            .map(|p| p.name.value.clone())
            .collect();
        let open = declared.is_empty() && tool.unit.with.is_empty();
        let site = CallSite {
            kind: AdapterKind::Mcp,
            namespace: ns,
            route_vars: Vec::new(),
            declared_inputs: declared,
            open_arguments: open,
            with: &tool.unit.with,
            pos: tool.pos,
        };
        unit(cx, &site, &tool.unit, tool.pos, d);
    }
}

fn unit(cx: &Context<'_>, site: &CallSite<'_>, u: &UnitSpec, pos: Pos, d: &mut Diagnostics) {
    if let Some(call) = &u.call {
        if let Some(target) = calls::call_target(cx, call, d) {
            calls::check_with(cx, site, target, d);
        }
    } else if u.steps.is_empty()
        && u.r#ref.is_none()
        && !u.output_parameters.iter().any(|o| o.value.is_some())
    {
        d.error(
            "unit-empty",
            pos,
            "an operation or tool needs a 'call', 'steps', a 'ref' or constant output values",
        );
    }
    for step in &u.steps {
        if let Some(call) = &step.call
            && let Some(target) = calls::call_target(cx, call, d)
        {
            let step_site = CallSite {
                with: &step.with,
                route_vars: site.route_vars.clone(),
                declared_inputs: site.declared_inputs.clone(),
                open_arguments: true,
                ..*site
            };
            calls::check_with(cx, &step_site, target, d);
        }
    }
    for p in &u.input_parameters {
        // Only `$`-rooted input mappings are JSONPath; `body.x` / `path.x` name a request part.
        if let Some(m) = p
            .mapping
            .as_ref()
            .filter(|m| m.value.trim_start().starts_with('$'))
            && let Err(e) = naftiko_jsonpath::Mapping::parse(&m.value)
        {
            d.error(
                "jsonpath",
                m.pos,
                format!("mapping '{}' is not valid JSONPath: {e}", m.value),
            );
        }
        if let Some(serde_json::Value::String(s)) = p.value.as_ref().map(|v| &v.value) {
            template(s, p.value.as_ref().map_or(p.pos, |v| v.pos), d);
        }
    }
    for o in &u.output_parameters {
        output_parameter(o, d);
    }
}
