//! Checks of a `call` and its `with` bindings, shared by REST operations, MCP tools and steps.

use serde_json::Value;

use super::{Context, did_you_mean, path_variables, suggest, template};
use crate::diag::{Diagnostics, Spanned};
use crate::model::{
    BodySpec, ConsumedOperationSpec, ConsumedResourceSpec, ConsumesHttpSpec, WithSpec,
};
use crate::template::Template;

/// Which adapter a call site belongs to: decides whether `rest.X` or `tools.X` is legal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AdapterKind {
    Rest,
    Mcp,
}

impl AdapterKind {
    fn prefix(self) -> &'static str {
        match self {
            AdapterKind::Rest => "rest",
            AdapterKind::Mcp => "tools",
        }
    }
}

/// Where a call is made from.
pub(super) struct CallSite<'a> {
    pub(super) kind: AdapterKind,
    pub(super) namespace: &'a str,
    /// Path variables of the REST route (empty for tools).
    pub(super) route_vars: Vec<String>,
    /// Declared `inputParameters` names of the operation/tool (and its resource/adapter).
    pub(super) declared_inputs: Vec<String>,
    /// An MCP tool with neither `inputParameters` nor `with` takes the consumed inputs as arguments.
    pub(super) open_arguments: bool,
    pub(super) with: &'a [WithSpec],
    /// Where the operation or tool making the call is declared.
    pub(super) pos: crate::diag::Pos,
}

type Target<'a> = (
    &'a ConsumesHttpSpec,
    &'a ConsumedResourceSpec,
    &'a ConsumedOperationSpec,
);

/// Every name a consumed operation accepts as input.
pub(super) fn operation_inputs(
    c: &ConsumesHttpSpec,
    r: &ConsumedResourceSpec,
    op: &ConsumedOperationSpec,
) -> Vec<String> {
    let mut inputs: Vec<String> = op
        .input_parameters
        .iter()
        .map(|p| p.name.value.clone())
        .collect();
    inputs.extend(c.input_parameters.iter().map(|p| p.name.value.clone()));
    inputs.extend(path_variables(&r.path.value));
    let mut body_var = |s: &str| {
        if let Ok(t) = Template::parse(s) {
            inputs.extend(t.vars().map(|v| v.head().to_string()));
        }
    };
    match &op.body {
        Some(BodySpec::Text(t)) => body_var(&t.value),
        Some(BodySpec::Typed { data, .. }) => json_strings(&data.value, &mut body_var),
        None => {}
    }
    inputs
}

/// Every input of every operation of a consumes entry (authentication may use any).
pub(super) fn namespace_inputs(c: &ConsumesHttpSpec) -> Vec<String> {
    let mut all: Vec<String> = c
        .input_parameters
        .iter()
        .map(|p| p.name.value.clone())
        .collect();
    for r in &c.resources {
        for op in &r.operations {
            all.extend(operation_inputs(c, r, op));
        }
    }
    all
}

/// Calls `f` on every string inside a JSON value.
pub(super) fn json_strings(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| json_strings(x, f)),
        Value::Object(o) => o.values().for_each(|x| json_strings(x, f)),
        _ => {}
    }
}

/// Resolves `namespace.operation`, reporting a bad form or an unknown target.
pub(super) fn call_target<'a>(
    cx: &Context<'a>,
    call: &Spanned<String>,
    d: &mut Diagnostics,
) -> Option<Target<'a>> {
    let Some((ns, op)) = call
        .value
        .split_once('.')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('.'))
    else {
        d.error(
            "call-target",
            call.pos,
            format!(
                "invalid call '{}': expected 'namespace.operation'",
                call.value
            ),
        );
        return None;
    };
    if let Some(t) = cx.operations.get(&call.value) {
        return Some(*t);
    }
    if cx.unresolved_imports.contains(&ns) {
        return None;
    }
    if !cx.consumes_namespaces.contains(&ns) {
        let hint = did_you_mean(suggest(ns, cx.consumes_namespaces.iter().copied()));
        d.error(
            "call-target",
            call.pos,
            format!("unknown namespace '{ns}' in call '{}'{hint}", call.value),
        );
        return None;
    }
    let prefix = format!("{ns}.");
    let ops = cx.operations.keys().filter_map(|k| k.strip_prefix(&prefix));
    let hint = did_you_mean(suggest(op, ops));
    d.error(
        "call-target",
        call.pos,
        format!("unknown operation '{}'{hint}", call.value),
    );
    None
}

/// Checks `with` keys and values, and that every consumed path variable gets a value.
pub(super) fn check_with(
    cx: &Context<'_>,
    site: &CallSite<'_>,
    target: Target<'_>,
    d: &mut Diagnostics,
) {
    let (c, r, op) = target;
    let inputs = operation_inputs(c, r, op);
    for w in site.with {
        if !inputs.contains(&w.key.value) {
            let hint = did_you_mean(suggest(&w.key.value, inputs.iter().map(String::as_str)));
            d.error(
                "with-key",
                w.key.pos,
                format!(
                    "'{}' is not an input of operation '{}.{}'{hint}",
                    w.key.value, c.namespace.value, op.name.value
                ),
            );
        }
        with_value(cx, site, w, d);
    }
    for var in path_variables(&r.path.value) {
        path_variable_bound(cx, site, c, op, &var, d);
    }
}

fn path_variable_bound(
    cx: &Context<'_>,
    site: &CallSite<'_>,
    c: &ConsumesHttpSpec,
    op: &ConsumedOperationSpec,
    var: &str,
    d: &mut Diagnostics,
) {
    let params = op.input_parameters.iter().chain(&c.input_parameters);
    let bound = site.with.iter().any(|w| w.key.value == var)
        || params
            .filter(|p| p.name.value == var)
            .any(|p| p.value.is_some() || p.placement() == Some("environment"))
        || cx.bind_vars.contains(var)
        || site.declared_inputs.iter().any(|i| i == var)
        || site.open_arguments;
    if bound {
        return;
    }
    if let Some(w) = site
        .with
        .iter()
        .find(|w| w.key.value.eq_ignore_ascii_case(var))
    {
        d.warning(
            "path-variable-case",
            w.key.pos,
            format!(
                "'{}' binds path variable '{{{var}}}' only by case-insensitive match",
                w.key.value
            ),
        );
        return;
    }
    let pos = site.with.first().map_or(site.pos, |w| w.key.pos);
    d.error(
        "path-variable-unbound",
        pos,
        format!(
            "path variable '{{{var}}}' of '{}.{}' is never bound: add '{var}: {}.{var}' to 'with'",
            c.namespace.value,
            op.name.value,
            site.kind.prefix()
        ),
    );
}

fn with_value(cx: &Context<'_>, site: &CallSite<'_>, w: &WithSpec, d: &mut Diagnostics) {
    let Value::String(s) = &w.value.value else {
        return;
    };
    let pos = w.value.pos;
    if s.contains("{{") {
        let Some(t) = template(s, pos, d) else { return };
        for v in t.vars() {
            let name = v.to_string();
            let known = cx.bind_vars.contains(&name)
                || site.declared_inputs.contains(&name)
                || site.route_vars.contains(&name)
                || (v.head() == site.kind.prefix() || v.head() == site.namespace)
                || (site.kind == AdapterKind::Mcp && site.declared_inputs.is_empty());
            if !known {
                d.error(
                    "template-variable",
                    pos,
                    format!(
                        "'{{{{{name}}}}}' is neither a bind variable nor an input of this operation"
                    ),
                );
            }
        }
        return;
    }
    let Some((head, name)) = s.split_once('.') else {
        return;
    };
    let other = match site.kind {
        AdapterKind::Rest => "tools",
        AdapterKind::Mcp => "rest",
    };
    if head == other && is_name(name) {
        d.error(
            "with-value",
            pos,
            format!(
                "'{s}' is not available here: this is a{} adapter, use '{}.{name}'",
                if site.kind == AdapterKind::Rest {
                    " REST"
                } else {
                    "n MCP"
                },
                site.kind.prefix()
            ),
        );
        return;
    }
    if (head == site.kind.prefix() || head == site.namespace)
        && site.kind == AdapterKind::Rest
        && !site.route_vars.iter().any(|v| v == name)
        && let Some(v) = site
            .route_vars
            .iter()
            .find(|v| v.eq_ignore_ascii_case(name))
    {
        {
            d.warning(
                "path-variable-case",
                pos,
                format!("'{s}' matches the route variable '{{{v}}}' only case-insensitively; it will be matched that way"),
            );
        }
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
