//! Naftiko capability files: YAML in, a typed and checked model plus diagnostics out.
//!
//! This crate owns the file format: reading YAML with positions ([`yaml`]), the typed
//! model (`*Spec`, [`model`]), the three levels of checking (YAML/type errors, the official
//! alpha2 JSON Schema, semantic checks) and rendering `file:line:col` diagnostics. It must
//! not know about the network, the process environment, the filesystem (imports are read
//! through a callback the caller supplies), or how the model is served.
#![forbid(unsafe_code)]

pub mod check;
mod decode;
pub mod diag;
pub mod model;
mod schema;
pub mod template;
pub mod yaml;

pub use diag::{Diagnostic, Diagnostics, Pos, Severity, Spanned};
pub use model::*;

/// How strictly to check.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Every warning (schema deviations, unknown keys, an empty `baseUri`, ...) becomes an error.
    pub strict: bool,
}

/// The result of loading one file: the model (when the YAML could be read) and every problem.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The document, with imports resolved. Present unless the YAML itself is unreadable.
    pub document: Option<DocumentSpec>,
    /// All diagnostics, in file order.
    pub diagnostics: Diagnostics,
}

impl Loaded {
    /// The document if it has no errors (warnings allowed): what may be served.
    pub fn servable(&self) -> Option<&DocumentSpec> {
        if self.diagnostics.has_errors() {
            None
        } else {
            self.document.as_ref()
        }
    }
}

/// Reads an imported consumes file by its `location` (relative to the importing file).
pub type ImportReader<'a> = &'a mut dyn FnMut(&str) -> Result<String, String>;

/// Loads a capability file: parse, decode, schema check, resolve imports, semantic checks.
pub fn load(source: &str, options: LoadOptions, imports: ImportReader<'_>) -> Loaded {
    let mut d = Diagnostics::default();
    let node = match yaml::parse(source) {
        Ok(n) => n,
        Err(e) => {
            d.push(e);
            return Loaded {
                document: None,
                diagnostics: d,
            };
        }
    };
    let document = DocumentSpec::decode(&node, &mut d);
    schema_check(&node, &mut d);
    let document = document.map(|mut doc| {
        resolve_imports(&mut doc, imports, &mut d);
        check::check(&doc, &mut d);
        doc
    });
    d.sort();
    if options.strict {
        d.promote_warnings();
    }
    Loaded {
        document,
        diagnostics: d,
    }
}

fn schema_check(node: &yaml::Node, d: &mut Diagnostics) {
    for issue in schema::check(&node.to_json()) {
        if issue.unknown_key {
            let pos = node
                .key_pos_at_pointer(&issue.pointer)
                .unwrap_or_else(|| node.at_pointer(&issue.pointer).pos);
            d.warning("unknown-key", pos, issue.message);
        } else {
            d.warning("schema", node.at_pointer(&issue.pointer).pos, issue.message);
        }
    }
}

fn resolve_imports(doc: &mut DocumentSpec, read: ImportReader<'_>, d: &mut Diagnostics) {
    let Some(cap) = doc.capability.as_mut() else {
        return;
    };
    for entry in &mut cap.consumes {
        let ConsumesSpec::Import(imp) = entry else {
            continue;
        };
        if let Some(http) = import_one(imp, read, d) {
            *entry = ConsumesSpec::Http(http);
        }
    }
}

fn import_one(
    imp: &ImportedConsumesSpec,
    read: ImportReader<'_>,
    d: &mut Diagnostics,
) -> Option<ConsumesHttpSpec> {
    let location = imp.location.value.trim_start_matches("file://");
    let source = match read(location) {
        Ok(s) => s,
        Err(e) => {
            d.error(
                "import",
                imp.location.pos,
                format!("import source file '{}' not found: {e}", imp.location.value),
            );
            return None;
        }
    };
    let loaded = load(&source, LoadOptions::default(), &mut |_| {
        Err("nested imports are not supported".into())
    });
    if loaded.diagnostics.has_errors() {
        let first = loaded
            .diagnostics
            .iter()
            .find(|x| x.severity == Severity::Error)
            .map(|x| format!("{}:{}: {}", location, x.pos, x.message));
        d.error(
            "import",
            imp.location.pos,
            format!(
                "imported file '{}' has errors: {}",
                imp.location.value,
                first.unwrap_or_default()
            ),
        );
        return None;
    }
    let wanted = imp.import.as_ref().map(|s| s.value.as_str());
    let found = loaded.document?.consumes.into_iter().find_map(|c| match c {
        ConsumesSpec::Http(h) if wanted.is_none_or(|w| h.namespace.value == w) => Some(h),
        _ => None,
    });
    let Some(mut http) = found else {
        d.error(
            "import",
            imp.pos,
            format!(
                "namespace '{}' not found in '{}'",
                wanted.unwrap_or("?"),
                imp.location.value
            ),
        );
        return None;
    };
    if let Some(alias) = &imp.alias {
        http.namespace = alias.clone();
    }
    Some(http)
}
