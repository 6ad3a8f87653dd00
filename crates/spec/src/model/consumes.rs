//! `capability.consumes`: upstream HTTP APIs.

use serde_json::Value;

use super::params::{InputParameterSpec, OutputParameterSpec};
use crate::decode::fields;
use crate::diag::{Diagnostics, Pos, Spanned};
use crate::yaml::{Kind, Node};

/// One `consumes` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsumesSpec {
    /// An inline HTTP API.
    Http(ConsumesHttpSpec),
    /// An entry imported from a shared consumes file.
    Import(ImportedConsumesSpec),
}

/// An inline upstream HTTP API.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumesHttpSpec {
    /// Where the entry starts.
    pub pos: Pos,
    /// `type` (only `http` is served).
    pub r#type: Option<Spanned<String>>,
    /// Namespace that `call: namespace.operation` refers to.
    pub namespace: Spanned<String>,
    /// Base URI; empty means "supplied at deploy time".
    pub base_uri: Option<Spanned<String>>,
    /// Parameters applied to every operation.
    pub input_parameters: Vec<InputParameterSpec>,
    /// How requests authenticate.
    pub authentication: Option<AuthenticationSpec>,
    /// Resources and their operations.
    pub resources: Vec<ConsumedResourceSpec>,
}

/// `{location, import, as}`: a consumes entry taken from another file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedConsumesSpec {
    /// Where the entry starts.
    pub pos: Pos,
    /// Path of the shared consumes file, relative to this file.
    pub location: Spanned<String>,
    /// Namespace to take from it.
    pub import: Option<Spanned<String>>,
    /// Rename.
    pub alias: Option<Spanned<String>>,
}

/// A consumed resource: a path and its operations.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumedResourceSpec {
    /// Where it starts.
    pub pos: Pos,
    /// Name.
    pub name: Option<Spanned<String>>,
    /// Path below `baseUri`, with `{x}` or `{{x}}` variables.
    pub path: Spanned<String>,
    /// Operations.
    pub operations: Vec<ConsumedOperationSpec>,
}

/// A consumed operation: one upstream request shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumedOperationSpec {
    /// Where it starts.
    pub pos: Pos,
    /// Name used in `call`.
    pub name: Spanned<String>,
    /// HTTP method (default GET).
    pub method: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// Parameters and where they go.
    pub input_parameters: Vec<InputParameterSpec>,
    /// Format of the upstream answer (`json` by default).
    pub output_raw_format: Option<Spanned<String>>,
    /// Named projections (used by orchestration steps only).
    pub output_parameters: Vec<OutputParameterSpec>,
    /// Request body template.
    pub body: Option<BodySpec>,
}

/// A consumed operation's `body`.
#[derive(Debug, Clone, PartialEq)]
pub enum BodySpec {
    /// A string template sent as is (after substitution).
    Text(Spanned<String>),
    /// `{type, data}`: structured data of a given media kind.
    Typed {
        /// `json`, `text`, `xml`, `formUrlEncoded`, `multipartForm`, ...
        r#type: Spanned<String>,
        /// The data, with `{{x}}` templates inside strings.
        data: Spanned<Value>,
    },
}

/// Consumes authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthenticationSpec {
    /// Where it starts.
    pub pos: Pos,
    /// `apikey`, `bearer`, `basic`, `digest`, `oauth2`, or a corpus extension.
    pub r#type: Spanned<String>,
    /// The other keys (`key`, `value`, `placement`, `token`, `username`, ...), as strings.
    pub fields: Vec<(Spanned<String>, Spanned<String>)>,
}

impl AuthenticationSpec {
    /// The string field `name`, if present.
    pub fn field(&self, name: &str) -> Option<&Spanned<String>> {
        self.fields
            .iter()
            .find(|(k, _)| k.value == name)
            .map(|(_, v)| v)
    }

    pub(crate) fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let Kind::Map(entries) = &node.kind else {
            d.error(
                "type-mismatch",
                node.pos,
                format!(
                    "'authentication' must be a mapping, found {}",
                    node.kind.type_name()
                ),
            );
            return None;
        };
        let mut r#type = None;
        let mut fields = Vec::new();
        for (k, v) in entries {
            let key = Spanned::new(k.key_text(), k.pos);
            if let Some(value) = crate::decode::string(v, &key.value, d) {
                if key.value == "type" {
                    r#type = Some(value);
                } else {
                    fields.push((key, value));
                }
            }
        }
        let Some(r#type) = r#type else {
            d.error(
                "missing-key",
                node.pos,
                "'authentication' needs the key 'type'",
            );
            return None;
        };
        Some(Self {
            pos: node.pos,
            r#type,
            fields,
        })
    }
}

impl ConsumesSpec {
    pub(crate) fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "a consumes entry", d)?;
        if let Some(location) = f.str("location", d) {
            let import = f.str("import", d);
            let alias = f.str("as", d);
            f.get("description");
            f.finish(d);
            return Some(Self::Import(ImportedConsumesSpec {
                pos: node.pos,
                location,
                import,
                alias,
            }));
        }
        let r#type = f.str("type", d);
        let namespace = f.req_str("namespace", d);
        let base_uri = f.str("baseUri", d);
        f.get("description");
        let input_parameters = f.list("inputParameters", d, InputParameterSpec::decode);
        let authentication = f
            .get("authentication")
            .and_then(|n| AuthenticationSpec::decode(n, d));
        let resources = f.list("resources", d, ConsumedResourceSpec::decode);
        f.finish(d);
        Some(Self::Http(ConsumesHttpSpec {
            pos: node.pos,
            r#type,
            namespace: namespace?,
            base_uri,
            input_parameters,
            authentication,
            resources,
        }))
    }
}

impl ConsumedResourceSpec {
    fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "a consumed resource", d)?;
        let name = f.str("name", d);
        let path = f.req_str("path", d);
        f.get("description");
        f.get("label");
        let operations = f.list("operations", d, ConsumedOperationSpec::decode);
        f.finish(d);
        Some(Self {
            pos: node.pos,
            name,
            path: path?,
            operations,
        })
    }
}

impl ConsumedOperationSpec {
    fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "a consumed operation", d)?;
        let name = match f.str("name", d) {
            Some(n) => Some(n),
            // Some generated files write `id` for the operation name.
            None => f.str("id", d).inspect(|id| {
                d.warning(
                    "operation-id",
                    id.pos,
                    format!(
                        "consumed operation uses 'id: {}' instead of 'name'; taking it as the name",
                        id.value
                    ),
                );
            }),
        };
        if name.is_none() {
            d.error(
                "missing-key",
                f.pos,
                "a consumed operation needs the key 'name'",
            );
        }
        let method = f.str("method", d);
        let description = f.str("description", d);
        f.get("label");
        let input_parameters = f.list("inputParameters", d, InputParameterSpec::decode);
        let output_raw_format = f.str("outputRawFormat", d);
        f.get("outputSchema");
        let output_parameters = f.list("outputParameters", d, OutputParameterSpec::decode);
        let body = f.get("body").and_then(|n| BodySpec::decode(n, d));
        f.finish(d);
        Some(Self {
            pos: node.pos,
            name: name?,
            method,
            description,
            input_parameters,
            output_raw_format,
            output_parameters,
            body,
        })
    }
}

impl BodySpec {
    fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        match &node.kind {
            Kind::Str(s) => Some(Self::Text(Spanned::new(s.clone(), node.pos))),
            Kind::Map(_) => {
                let mut f = fields(node, "a body", d)?;
                let r#type = f.req_str("type", d);
                let data = f.json("data");
                f.finish(d);
                Some(Self::Typed {
                    r#type: r#type?,
                    data: data.unwrap_or_else(|| Spanned::new(Value::Null, node.pos)),
                })
            }
            Kind::Null => None,
            other => {
                d.error(
                    "type-mismatch",
                    node.pos,
                    format!(
                        "'body' must be a string or a mapping, found {}",
                        other.type_name()
                    ),
                );
                None
            }
        }
    }
}
