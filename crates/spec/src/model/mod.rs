//! The typed model of a capability file: one struct per construct, names as in the spec
//! (`*Spec`, like the Java reference), every node that a check may point at kept with its
//! position. Built from the YAML tree by `decode`; nothing here does I/O.

mod consumes;
mod exposes;
mod params;

pub use consumes::*;
pub use exposes::*;
pub use params::*;

use crate::decode::fields;
use crate::diag::{Diagnostics, Pos, Spanned};
use crate::yaml::Node;

/// A whole capability file (or a shared consumes file).
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentSpec {
    /// `naftiko:` version string.
    pub naftiko: Option<Spanned<String>>,
    /// `info:`.
    pub info: Option<InfoSpec>,
    /// Root `binds:`.
    pub binds: Vec<BindingSpec>,
    /// `capability:`.
    pub capability: Option<CapabilitySpec>,
    /// Root `consumes:` of a shared consumes file (import source).
    pub consumes: Vec<ConsumesSpec>,
}

/// `info:` metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct InfoSpec {
    /// Display label.
    pub label: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
}

/// One `binds:` entry: variables taken from the environment or a file.
#[derive(Debug, Clone, PartialEq)]
pub struct BindingSpec {
    /// Where the entry starts.
    pub pos: Pos,
    /// Namespace, usable in templates as `{{namespace.VAR}}`.
    pub namespace: Option<Spanned<String>>,
    /// A file to read the values from instead of the environment.
    pub location: Option<Spanned<String>>,
    /// `VAR_NAME: source-key` pairs.
    pub keys: Vec<(Spanned<String>, Spanned<String>)>,
}

/// `capability:`.
#[derive(Debug, Clone, PartialEq)]
pub struct CapabilitySpec {
    /// Where it starts.
    pub pos: Pos,
    /// Upstream APIs.
    pub consumes: Vec<ConsumesSpec>,
    /// Served adapters.
    pub exposes: Vec<ExposesSpec>,
    /// `capability.binds` (accepted like root binds).
    pub binds: Vec<BindingSpec>,
}

impl DocumentSpec {
    /// Reads a document from its YAML tree, reporting every problem.
    pub fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "a capability document", d)?;
        let naftiko = f.str("naftiko", d);
        let info = f.get("info").and_then(|n| InfoSpec::decode(n, d));
        let binds = f.list("binds", d, BindingSpec::decode);
        let capability = f
            .get("capability")
            .and_then(|n| CapabilitySpec::decode(n, d));
        let consumes = f.list("consumes", d, ConsumesSpec::decode);
        if naftiko.is_none() {
            d.error(
                "missing-key",
                f.pos,
                "a capability document needs the key 'naftiko' (the spec version)",
            );
        }
        if capability.is_none() && consumes.is_empty() && f.get("capability").is_none() {
            d.error("missing-key", f.pos, "a capability document needs 'capability' (or a root 'consumes' for a shared consumes file)");
        }
        f.finish(d);
        Some(Self {
            naftiko,
            info,
            binds,
            capability,
            consumes,
        })
    }
}

impl InfoSpec {
    fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "'info'", d)?;
        let label = f.str("label", d);
        let description = f.str("description", d);
        // Metadata the runtime does not use; read so they are not reported as unknown.
        for key in [
            "tags",
            "created",
            "modified",
            "stakeholders",
            "title",
            "version",
            "contact",
            "name",
            "related",
        ] {
            f.get(key);
        }
        f.finish(d);
        Some(Self { label, description })
    }
}

impl BindingSpec {
    fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "a bind", d)?;
        let namespace = f.str("namespace", d);
        let location = f.str("location", d);
        f.get("description");
        let keys = f.map("keys", d, |k, v, d| {
            crate::decode::string(v, &k.value, d).map(|v| (k, v))
        });
        if f.get("keys").is_none() {
            d.error("missing-key", f.pos, "a bind needs the key 'keys'");
        }
        f.finish(d);
        Some(Self {
            pos: node.pos,
            namespace,
            location,
            keys,
        })
    }
}

impl CapabilitySpec {
    fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "'capability'", d)?;
        let consumes = f.list("consumes", d, ConsumesSpec::decode);
        let exposes = f.list("exposes", d, ExposesSpec::decode);
        let binds = f.list("binds", d, BindingSpec::decode);
        match f.get("exposes") {
            None => d.error(
                "missing-key",
                f.pos,
                "'capability' must expose at least one adapter ('exposes')",
            ),
            Some(n)
                if exposes.is_empty()
                    && matches!(&n.kind, crate::yaml::Kind::Seq(v) if v.is_empty()) =>
            {
                d.error(
                    "exposes-empty",
                    n.pos,
                    "'capability' must expose at least one adapter ('exposes' is empty)",
                )
            }
            Some(_) => {}
        }
        f.finish(d);
        Some(Self {
            pos: node.pos,
            consumes,
            exposes,
            binds,
        })
    }
}
