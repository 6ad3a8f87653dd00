//! Checked capability → immutable [`Plan`]: binds resolved, templates, paths and JSONPath
//! compiled, one upstream client per consumes namespace. Requests never re-read the spec.

use std::collections::HashMap;
use std::sync::Arc;

use naftiko_spec::check::path_variables;
use naftiko_spec::{
    ConsumesHttpSpec, ConsumesSpec, Diagnostics, DocumentSpec, ExposesSpec, Pos, Spanned,
};
use naftiko_upstream::{CallOptions, Upstream};

use crate::consumed;
use crate::operation::OperationPlan;
use crate::secret::{Binds, Secret, Vars};
use crate::{McpAdapterPlan, Plan, RestAdapterPlan};

/// Deploy-time settings for compiling.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// `--upstream NAMESPACE=URL`: base URIs that replace (or supply) the file's `baseUri`.
    pub upstream_overrides: HashMap<String, String>,
    /// Timeout and body limit of every upstream call.
    pub call: CallOptions,
}

/// Makes the upstream client of a consumes namespace.
pub type UpstreamFactory<'a> = &'a dyn Fn(&str) -> Arc<dyn Upstream>;

/// Compiles a checked document. Problems that only deploy-time data reveals (a missing
/// environment variable, a missing base URI) come back as diagnostics.
pub fn compile(
    doc: &DocumentSpec,
    vars: &dyn Vars,
    upstreams: UpstreamFactory<'_>,
    opts: &CompileOptions,
) -> Result<Plan, Diagnostics> {
    let mut d = Diagnostics::default();
    let mut binds = resolve_binds(doc, vars, &mut d);
    environment_params(doc, vars, &mut binds);
    let binds = Arc::new(binds);
    let mut operations: HashMap<String, Arc<OperationPlan>> = HashMap::new();
    let cap_consumes = doc.capability.iter().flat_map(|c| c.consumes.iter());
    for c in cap_consumes.chain(doc.consumes.iter()) {
        let ConsumesSpec::Http(c) = c else { continue };
        let Some(base) = base_uri(c, &binds, opts, &mut d) else {
            continue;
        };
        let upstream = upstreams(&c.namespace.value);
        for op in consumed::operations(c, &base, &binds, &upstream, opts.call, &mut d) {
            operations.entry(op.id.clone()).or_insert(Arc::new(op));
        }
    }
    let mut plan = Plan::default();
    for e in doc.capability.iter().flat_map(|c| c.exposes.iter()) {
        match e {
            ExposesSpec::Rest(r) => {
                plan.rest
                    .push(RestAdapterPlan::compile(r, &operations, &binds, &mut d))
            }
            ExposesSpec::Mcp(m) => {
                plan.mcp
                    .push(McpAdapterPlan::compile(m, &operations, &binds, &mut d))
            }
            ExposesSpec::Other(_) => {}
        }
    }
    if d.has_errors() { Err(d) } else { Ok(plan) }
}

fn resolve_binds(doc: &DocumentSpec, vars: &dyn Vars, d: &mut Diagnostics) -> Binds {
    let mut binds = Binds::default();
    let all = doc
        .binds
        .iter()
        .chain(doc.capability.iter().flat_map(|c| c.binds.iter()));
    for b in all {
        for (var, source) in &b.keys {
            match vars.var(b, &source.value) {
                Ok(v) if v.contains('\n') => {
                    d.error(
                        "bind-value",
                        var.pos,
                        format!(
                            "the value of '{}' contains a newline, which is not allowed",
                            var.value
                        ),
                    );
                }
                Ok(v) => {
                    let secret = Secret::new(v);
                    if let Some(ns) = &b.namespace {
                        binds
                            .0
                            .insert(format!("{}.{}", ns.value, var.value), secret.clone());
                    }
                    binds.0.insert(var.value.clone(), secret);
                }
                Err(reason) => {
                    let from = b
                        .location
                        .as_ref()
                        .map_or("environment variable".to_string(), |l| {
                            format!("key in '{}'", l.value)
                        });
                    d.error(
                        "bind-missing",
                        source.pos,
                        format!(
                            "bind '{}' needs {from} '{}': {reason}",
                            var.value, source.value
                        ),
                    );
                }
            }
        }
    }
    binds
}

/// Consumed parameters with `in: environment` and no `value` read the process environment
/// once, at load; their values join the binds (secrets) so templates can use them.
fn environment_params(doc: &DocumentSpec, vars: &dyn Vars, binds: &mut Binds) {
    let cap_consumes = doc.capability.iter().flat_map(|c| c.consumes.iter());
    for c in cap_consumes.chain(doc.consumes.iter()) {
        let ConsumesSpec::Http(c) = c else { continue };
        let ops = c
            .resources
            .iter()
            .flat_map(|r| r.operations.iter().flat_map(|o| o.input_parameters.iter()));
        for p in c.input_parameters.iter().chain(ops) {
            if p.placement() != Some("environment")
                || p.value.is_some()
                || binds.get(&p.name.value).is_some()
            {
                continue;
            }
            // Absent is fine: a `with` binding may still supply it per request.
            if let Some(v) = vars.env(&p.name.value) {
                binds.0.insert(p.name.value.clone(), Secret::new(v));
            }
        }
    }
}

fn base_uri(
    c: &ConsumesHttpSpec,
    binds: &Binds,
    opts: &CompileOptions,
    d: &mut Diagnostics,
) -> Option<String> {
    let ns = &c.namespace.value;
    let (text, pos) = match (opts.upstream_overrides.get(ns), &c.base_uri) {
        (Some(url), _) => (url.clone(), c.base_uri.as_ref().map_or(c.pos, |b| b.pos)),
        (None, Some(Spanned { value, pos })) if !value.trim().is_empty() => (value.clone(), *pos),
        (None, b) => {
            let pos = b.as_ref().map_or(c.pos, |b| b.pos);
            d.error(
                "baseuri-missing",
                pos,
                format!("consumes '{ns}' has no baseUri: start with --upstream {ns}=URL"),
            );
            return None;
        }
    };
    let rendered = render_with_binds(&text, pos, binds, d)?;
    let trimmed = rendered.trim_end_matches('/');
    if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
        d.error(
            "baseuri",
            pos,
            format!("base URI for '{ns}' must start with http:// or https://"),
        );
        return None;
    }
    Some(trimmed.to_string())
}

/// Renders a template whose variables must all be binds (base URIs, fixed auth values).
pub(crate) fn render_with_binds(
    text: &str,
    pos: Pos,
    binds: &Binds,
    d: &mut Diagnostics,
) -> Option<String> {
    let t = naftiko_spec::template::Template::parse(text).ok()?;
    let mut out = String::new();
    let res = t.render_into(&mut out, |v, out| match binds.get(&v.to_string()) {
        Some(s) => {
            out.push_str(s.expose());
            Ok(())
        }
        None => Err(v.to_string()),
    });
    match res {
        Ok(()) => Some(out),
        Err(name) => {
            d.error(
                "template-variable",
                pos,
                format!("'{{{{{name}}}}}' is not a bind variable"),
            );
            None
        }
    }
}

/// A path's variables in order (for routes), re-exported for adapters.
pub fn route_variables(path: &str) -> Vec<String> {
    path_variables(path)
}
