//! MCP tool metadata: hints and the input JSON Schema, derived from the consumed
//! operation through `with` when the tool declares no `inputParameters`.

use std::sync::Arc;

use naftiko_spec::UnitSpec;
use serde_json::{Map, Value, json};

use crate::operation::{ParamPlan, ParamType, Placement};
use crate::unit::{Source, UnitPlan};

/// Behaviour hints, all four explicit (absent MCP hints assume the worst).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    /// `readOnlyHint`.
    pub read_only: bool,
    /// `destructiveHint`.
    pub destructive: bool,
    /// `idempotentHint`.
    pub idempotent: bool,
    /// `openWorldHint`.
    pub open_world: bool,
}

/// A compiled MCP tool.
#[derive(Debug, Clone)]
pub struct ToolPlan {
    /// Tool name.
    pub name: String,
    /// Display title (`label`).
    pub title: Option<String>,
    /// Description (the name when the file has none: clients need one).
    pub description: String,
    /// Hints.
    pub hints: Hints,
    /// JSON Schema of the arguments (root `type: object`).
    pub input_schema: Value,
    /// What calling it does.
    pub unit: Arc<UnitPlan>,
}

/// Builds the tool's input schema: declared `inputParameters` win; otherwise one property
/// per `tools.X` binding, typed from the consumed parameter it feeds.
pub(crate) fn input_schema(spec: &UnitSpec, unit: &UnitPlan) -> Value {
    let mut props = Map::new();
    let mut required: Vec<Value> = Vec::new();
    if !spec.input_parameters.is_empty() {
        for p in &spec.input_parameters {
            let mut s = Map::new();
            s.insert("type".into(), json!(p.type_name().unwrap_or("string")));
            if let Some(d) = &p.description {
                s.insert("description".into(), json!(d.value));
            }
            if p.type_name() == Some("array") {
                s.insert(
                    "items".into(),
                    json!({"type": p.items_type.as_ref().map_or("string", |t| t.value.as_str())}),
                );
            }
            if p.required.as_ref().is_none_or(|r| r.value) {
                required.push(json!(p.name.value));
            }
            props.insert(p.name.value.clone(), Value::Object(s));
        }
    } else if let Some(call) = &unit.call {
        let op = &call.operation;
        let mut add = |arg: &str, param: Option<&ParamPlan>| {
            if props.contains_key(arg) {
                return;
            }
            props.insert(arg.to_string(), property(param));
            if param.is_some_and(|p| p.placement == Placement::Path || p.required) {
                required.push(json!(arg));
            }
        };
        if call.open {
            for p in &op.params {
                if p.value.is_none() {
                    add(&p.name, Some(p));
                }
            }
        }
        for b in &call.bindings {
            match &b.source {
                Source::Arg(x) => add(x, op.param(&b.key)),
                Source::Template(t) => {
                    let target = op.param(&b.key).filter(|_| t.as_single_var().is_some());
                    for v in t
                        .vars()
                        .filter(|v| v.parts.len() == 1 && unit.binds.get(v.head()).is_none())
                    {
                        add(v.head(), target);
                    }
                }
                _ => {}
            }
        }
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    if !props.is_empty() {
        schema.insert("properties".into(), Value::Object(props));
    }
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    Value::Object(schema)
}

fn property(param: Option<&ParamPlan>) -> Value {
    let Some(p) = param else {
        return json!({"type": "string"});
    };
    let mut s = Map::new();
    if p.placement == Placement::Body {
        // A body is forwarded as is: Ory's PATCH takes a JSON Patch array even when the
        // file declares `type: object`.
        s.insert("type".into(), json!(["object", "array"]));
    } else {
        s.insert("type".into(), json!(p.ty.json_type()));
        if p.ty == ParamType::Array {
            s.insert(
                "items".into(),
                json!({"type": p.items.unwrap_or(ParamType::String).json_type()}),
            );
        }
    }
    if let Some(d) = &p.description {
        s.insert("description".into(), json!(d));
    }
    Value::Object(s)
}
