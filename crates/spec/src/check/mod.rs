//! Semantic checks: what the schema cannot see. Every `call` target exists, every `with`
//! binds a real input with a valid form, every consumed path variable can be bound,
//! names and ports are unique, JSONPath and templates compile.

mod calls;
mod consumes;
mod exposes;

use std::collections::{HashMap, HashSet};

use crate::diag::{Diagnostics, Pos, Spanned};
use crate::model::{
    BindingSpec, ConsumedOperationSpec, ConsumedResourceSpec, ConsumesHttpSpec, ConsumesSpec,
    DocumentSpec,
};
use crate::template::Template;

/// Spec versions this runtime implements.
pub const SUPPORTED_VERSIONS: [&str; 2] = ["1.0.0-alpha1", "1.0.0-alpha2"];

/// What every check may look up.
pub(crate) struct Context<'a> {
    /// Flat bind variable names (`ORY_API_KEY`) and namespaced ones (`env.ORY_API_KEY`).
    pub(crate) bind_vars: HashSet<String>,
    /// Consumed operations by `namespace.operation`.
    pub(crate) operations: HashMap<
        String,
        (
            &'a ConsumesHttpSpec,
            &'a ConsumedResourceSpec,
            &'a ConsumedOperationSpec,
        ),
    >,
    /// Namespaces of the inline consumes.
    pub(crate) consumes_namespaces: Vec<&'a str>,
    /// Names callers can feed into consumed templates: declared exposed inputs, `with`
    /// keys and `rest.X` / `tools.X` names, anywhere in the document.
    pub(crate) caller_inputs: HashSet<String>,
    /// Namespaces of imports that could not be resolved (already reported once).
    pub(crate) unresolved_imports: Vec<&'a str>,
}

/// Runs every semantic check on a decoded document.
pub fn check(doc: &DocumentSpec, d: &mut Diagnostics) {
    if let Some(v) = &doc.naftiko
        && !SUPPORTED_VERSIONS.contains(&v.value.as_str())
    {
        d.warning(
            "unsupported-version",
            v.pos,
            format!("spec version '{}' is not one this runtime implements ({}); loading it as 1.0.0-alpha2", v.value, SUPPORTED_VERSIONS.join(", ")),
        );
    }
    let cx = context(doc);
    namespaces_unique(doc, d);
    for c in all_consumes(doc) {
        consumes::check_consumes(&cx, c, d);
    }
    if let Some(cap) = &doc.capability {
        exposes::check_exposes(&cx, &cap.exposes, d);
    }
}

fn all_consumes(doc: &DocumentSpec) -> impl Iterator<Item = &ConsumesHttpSpec> {
    let cap = doc.capability.iter().flat_map(|c| c.consumes.iter());
    cap.chain(doc.consumes.iter()).filter_map(|c| match c {
        ConsumesSpec::Http(h) => Some(h),
        ConsumesSpec::Import(_) => None,
    })
}

fn all_binds(doc: &DocumentSpec) -> impl Iterator<Item = &BindingSpec> {
    doc.binds
        .iter()
        .chain(doc.capability.iter().flat_map(|c| c.binds.iter()))
}

fn context(doc: &DocumentSpec) -> Context<'_> {
    let mut bind_vars = HashSet::new();
    for b in all_binds(doc) {
        for (var, _) in &b.keys {
            bind_vars.insert(var.value.clone());
            if let Some(ns) = &b.namespace {
                bind_vars.insert(format!("{}.{}", ns.value, var.value));
            }
        }
    }
    let mut operations = HashMap::new();
    let mut consumes_namespaces = Vec::new();
    for c in all_consumes(doc) {
        consumes_namespaces.push(c.namespace.value.as_str());
        for r in &c.resources {
            for op in &r.operations {
                // First match wins, as in the reference engine.
                operations
                    .entry(format!("{}.{}", c.namespace.value, op.name.value))
                    .or_insert((c, r, op));
            }
        }
    }
    let unresolved_imports = doc
        .capability
        .iter()
        .flat_map(|c| c.consumes.iter())
        .filter_map(|c| match c {
            ConsumesSpec::Import(i) => i
                .alias
                .as_ref()
                .or(i.import.as_ref())
                .map(|s| s.value.as_str()),
            ConsumesSpec::Http(_) => None,
        })
        .collect();
    Context {
        bind_vars,
        operations,
        consumes_namespaces,
        caller_inputs: caller_inputs(doc),
        unresolved_imports,
    }
}

fn caller_inputs(doc: &DocumentSpec) -> HashSet<String> {
    fn unit(names: &mut HashSet<String>, u: &crate::model::UnitSpec) {
        names.extend(u.input_parameters.iter().map(|p| p.name.value.clone()));
        for w in &u.with {
            names.insert(w.key.value.clone());
            if let serde_json::Value::String(s) = &w.value.value
                && let Some((_, x)) = s.split_once('.')
            {
                names.insert(x.to_string());
            }
        }
    }
    let mut names = HashSet::new();
    for e in doc.capability.iter().flat_map(|c| c.exposes.iter()) {
        match e {
            crate::model::ExposesSpec::Rest(r) => {
                names.extend(r.input_parameters.iter().map(|p| p.name.value.clone()));
                for res in &r.resources {
                    names.extend(res.input_parameters.iter().map(|p| p.name.value.clone()));
                    names.extend(path_variables(&res.path.value));
                    for op in &res.operations {
                        unit(&mut names, &op.unit);
                    }
                }
            }
            crate::model::ExposesSpec::Mcp(m) => {
                for t in &m.tools {
                    unit(&mut names, &t.unit);
                }
            }
            crate::model::ExposesSpec::Other(_) => {}
        }
    }
    names
}

fn namespaces_unique(doc: &DocumentSpec, d: &mut Diagnostics) {
    let mut seen: HashMap<&str, Pos> = HashMap::new();
    let mut names: Vec<&Spanned<String>> = all_consumes(doc).map(|c| &c.namespace).collect();
    if let Some(cap) = &doc.capability {
        names.extend(
            cap.exposes
                .iter()
                .filter_map(|e| e.adapter().namespace.as_ref()),
        );
    }
    names.extend(all_binds(doc).filter_map(|b| b.namespace.as_ref()));
    for n in names {
        if let Some(first) = seen.get(n.value.as_str()) {
            d.error(
                "naftiko-namespaces-unique",
                n.pos,
                format!(
                    "namespace '{}' is already used at line {}",
                    n.value, first.line
                ),
            );
        } else {
            seen.insert(&n.value, n.pos);
        }
    }
}

/// Parses a template, reporting a syntax error at `pos`.
pub(crate) fn template(text: &str, pos: Pos, d: &mut Diagnostics) -> Option<Template> {
    match Template::parse(text) {
        Ok(t) => Some(t),
        Err(e) => {
            d.error("template-syntax", pos, format!("invalid template: {e}"));
            None
        }
    }
}

/// Variables of a resource path: `{x}` and `{{x}}` both count.
pub fn path_variables(path: &str) -> Vec<String> {
    let mut vars = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let after = rest[start..].trim_start_matches('{');
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim();
        if !name.is_empty() {
            vars.push(name.to_string());
        }
        rest = after[end..].trim_start_matches('}');
    }
    vars
}

/// The closest candidate to `name` (edit distance ≤ 1/3 of its length), for "did you mean".
pub(crate) fn suggest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(dist, _)| *dist <= limit)
        .min_by_key(|(dist, _)| *dist)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// ` (did you mean 'x'?)` or "".
pub(crate) fn did_you_mean(s: Option<&str>) -> String {
    s.map(|s| format!(" (did you mean '{s}'?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_variables_accepts_both_brace_styles() {
        assert_eq!(path_variables("/a/{id}/b/{{ type }}"), ["id", "type"]);
        assert!(path_variables("/plain").is_empty());
        assert!(path_variables("/broken/{x").is_empty());
    }

    #[test]
    fn suggestions_are_close_matches_only() {
        assert_eq!(
            suggest("getidentityy", ["getidentity", "listidentities"]),
            Some("getidentity")
        );
        assert_eq!(suggest("zzz", ["getidentity"]), None);
    }
}
