//! Parameters, output mappings, `with` bindings, hints and steps: the pieces shared by
//! consumed operations, REST operations and MCP tools.

use serde_json::Value;

use crate::decode::{Fields, fields};
use crate::diag::{Diagnostics, Pos, Spanned};
use crate::yaml::{Kind, Node};

/// An input parameter (consumed, REST or tool side).
#[derive(Debug, Clone, PartialEq)]
pub struct InputParameterSpec {
    /// Where it starts.
    pub pos: Pos,
    /// Name.
    pub name: Spanned<String>,
    /// Placement: `path`, `query`, `header`, `cookie`, `body`, `environment`.
    pub r#in: Option<Spanned<String>>,
    /// JSON type: `string`, `integer`, `number`, `boolean`, `array`, `object`.
    pub r#type: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// Whether a value must be present.
    pub required: Option<Spanned<bool>>,
    /// A constant or `{{template}}` value (consumed side), or a JSONPath (REST side).
    pub value: Option<Spanned<Value>>,
    /// A JSONPath into the request body (REST/tool side).
    pub mapping: Option<Spanned<String>>,
    /// Item type for arrays (`items: {type: string}`).
    pub items_type: Option<Spanned<String>>,
}

impl InputParameterSpec {
    /// The `in` placement, if given.
    pub fn placement(&self) -> Option<&str> {
        self.r#in.as_ref().map(|s| s.value.as_str())
    }

    /// The declared type, if given.
    pub fn type_name(&self) -> Option<&str> {
        self.r#type.as_ref().map(|s| s.value.as_str())
    }

    pub(crate) fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "an input parameter", d)?;
        let name = f.req_str("name", d);
        let r#in = f.str("in", d);
        let r#type = f.str("type", d);
        let description = f.str("description", d);
        let required = f.bool("required", d);
        let value = f.json("value");
        let mapping = f.str("mapping", d);
        f.get("template")
            .map(|n| crate::decode::string(n, "template", d));
        let items_type = f.get("items").and_then(|n| {
            let mut items = fields(n, "'items'", d)?;
            let t = items.str("type", d);
            items.get("description");
            items.finish(d);
            t
        });
        for key in [
            "properties",
            "pattern",
            "enum",
            "format",
            "default",
            "example",
            "const",
            "label",
        ] {
            f.get(key);
        }
        f.finish(d);
        Some(Self {
            pos: node.pos,
            name: name?,
            r#in,
            r#type,
            description,
            required,
            value,
            mapping,
            items_type,
        })
    }
}

/// An output parameter: a mapping from the upstream answer, or a constant.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputParameterSpec {
    /// Where it starts.
    pub pos: Pos,
    /// Name (does not wrap the value at top level).
    pub name: Option<Spanned<String>>,
    /// `string`, `number`, `integer`, `boolean`, `object`, `array`.
    pub r#type: Option<Spanned<String>>,
    /// JSONPath into the upstream answer (`$.` = all of it).
    pub mapping: Option<Spanned<String>>,
    /// A constant (`{{template}}` allowed) instead of a mapping.
    pub value: Option<Spanned<Value>>,
    /// Object properties, in file order.
    pub properties: Vec<(Spanned<String>, OutputParameterSpec)>,
    /// Array item shape.
    pub items: Option<Box<OutputParameterSpec>>,
    /// Map value shape (`type: object` + `values`).
    pub values: Option<Box<OutputParameterSpec>>,
    /// Truncate strings to this many characters.
    pub max_length: Option<Spanned<u64>>,
    /// `body` (default) or `header`.
    pub r#in: Option<Spanned<String>>,
}

impl OutputParameterSpec {
    pub(crate) fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "an output parameter", d)?;
        let out = Self::read(&mut f, node.pos, d);
        f.finish(d);
        Some(out)
    }

    fn read(f: &mut Fields<'_>, pos: Pos, d: &mut Diagnostics) -> Self {
        let name = f.str("name", d);
        let r#type = f.str("type", d);
        let mut mapping = f.str("mapping", d);
        let mut value = f.json("value");
        // Consumed outputs write JSONPath in `value` (`value: $.`): it is a mapping.
        if mapping.is_none()
            && let Some(Spanned {
                value: Value::String(s),
                pos,
            }) = &value
            && s.trim_start().starts_with('$')
        {
            mapping = Some(Spanned::new(s.clone(), *pos));
            value = None;
        }
        let properties = match f.get("properties") {
            Some(n) => properties(n, d),
            None => Vec::new(),
        };
        let items = f.get("items").and_then(|n| items(n, d)).map(Box::new);
        let values = f
            .get("values")
            .and_then(|n| Self::decode(n, d))
            .map(Box::new);
        let max_length = f.uint("maxLength", d);
        let r#in = f.str("in", d);
        for key in [
            "description",
            "const",
            "required",
            "format",
            "label",
            "enum",
            "example",
        ] {
            f.get(key);
        }
        Self {
            pos,
            name,
            r#type,
            mapping,
            value,
            properties,
            items,
            values,
            max_length,
            r#in,
        }
    }

    /// The declared type, if given.
    pub fn type_name(&self) -> Option<&str> {
        self.r#type.as_ref().map(|s| s.value.as_str())
    }
}

/// `items` as one shape, or (orchestrated outputs) a list of named fields of each element.
fn items(node: &Node, d: &mut Diagnostics) -> Option<OutputParameterSpec> {
    match &node.kind {
        Kind::Seq(_) => Some(OutputParameterSpec {
            pos: node.pos,
            name: None,
            r#type: Some(Spanned::new("object".into(), node.pos)),
            mapping: None,
            value: None,
            properties: properties(node, d),
            items: None,
            values: None,
            max_length: None,
            r#in: None,
        }),
        _ => OutputParameterSpec::decode(node, d),
    }
}

/// `properties` as a mapping keyed by name, or (corpus dialect) a list of named entries.
fn properties(node: &Node, d: &mut Diagnostics) -> Vec<(Spanned<String>, OutputParameterSpec)> {
    match &node.kind {
        Kind::Map(entries) => entries
            .iter()
            .filter_map(|(k, v)| {
                let spec = OutputParameterSpec::decode(v, d)?;
                Some((Spanned::new(k.key_text(), k.pos), spec))
            })
            .collect(),
        Kind::Seq(items) => items
            .iter()
            .filter_map(|v| {
                let spec = OutputParameterSpec::decode(v, d)?;
                let name = spec.name.clone()?;
                Some((name, spec))
            })
            .collect(),
        other => {
            d.error(
                "type-mismatch",
                node.pos,
                format!(
                    "'properties' must be a mapping, found {}",
                    other.type_name()
                ),
            );
            Vec::new()
        }
    }
}

/// One `with:` entry: `consumed-parameter: value`.
#[derive(Debug, Clone, PartialEq)]
pub struct WithSpec {
    /// Name of the consumed operation's input it sets.
    pub key: Spanned<String>,
    /// `rest.X`, `tools.X`, `<namespace>.X`, a `{{template}}`, or a literal.
    pub value: Spanned<Value>,
}

pub(crate) fn decode_with(f: &mut Fields<'_>, d: &mut Diagnostics) -> Vec<WithSpec> {
    f.map("with", d, |key, v, _| {
        Some(WithSpec {
            key,
            value: Spanned::new(v.to_json(), v.pos),
        })
    })
}

/// MCP tool hints.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HintsSpec {
    /// `readOnly`.
    pub read_only: Option<bool>,
    /// `destructive`.
    pub destructive: Option<bool>,
    /// `idempotent`.
    pub idempotent: Option<bool>,
    /// `openWorld`.
    pub open_world: Option<bool>,
}

impl HintsSpec {
    pub(crate) fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "'hints'", d)?;
        let out = Self {
            read_only: f.bool("readOnly", d).map(|s| s.value),
            destructive: f.bool("destructive", d).map(|s| s.value),
            idempotent: f.bool("idempotent", d).map(|s| s.value),
            open_world: f.bool("openWorld", d).map(|s| s.value),
        };
        f.finish(d);
        Some(out)
    }
}

/// An orchestration step (`steps:`). Loaded and checked; executed by a later version.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpec {
    /// Where it starts.
    pub pos: Pos,
    /// Name.
    pub name: Option<Spanned<String>>,
    /// `call`, `lookup` or `script`.
    pub r#type: Option<Spanned<String>>,
    /// Target of a `call` step.
    pub call: Option<Spanned<String>>,
    /// Bindings of a `call` step.
    pub with: Vec<WithSpec>,
}

impl StepSpec {
    pub(crate) fn decode(node: &Node, d: &mut Diagnostics) -> Option<Self> {
        let mut f = fields(node, "a step", d)?;
        let name = f.str("name", d);
        let r#type = f.str("type", d);
        let call = f.str("call", d);
        let with = decode_with(&mut f, d);
        for key in [
            "index",
            "match",
            "lookupValue",
            "outputParameters",
            "description",
            "forEach",
            "language",
            "location",
            "file",
            "dependencies",
        ] {
            f.get(key);
        }
        f.finish(d);
        Some(Self {
            pos: node.pos,
            name,
            r#type,
            call,
            with,
        })
    }
}
