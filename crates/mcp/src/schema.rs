//! Checks tool arguments against the tool's input schema, for the subset of JSON Schema
//! the plan emits: `type` (one name or a list), `properties`, `required`,
//! `additionalProperties: false`, `items`, `enum`. Keywords outside the subset are ignored
//! (they only ever make a schema stricter, so ignoring them lets the upstream decide).
//! Failures are reported to the model as a tool error naming the argument, so messages
//! say what to change.

use naftiko_plan::RawJsonArgs;
use serde_json::{Map, Value};

/// A tool's input schema, read once (with the catalog) for the checks made on every call.
#[derive(Debug)]
pub(crate) struct ArgsCheck {
    required: Vec<String>,
    /// `additionalProperties: false`.
    closed: bool,
    /// The declared properties, in the schema's order.
    props: Vec<Prop>,
}

#[derive(Debug)]
struct Prop {
    name: String,
    schema: Value,
    /// Whether a value of each kind (string, object, array, boolean: [`kind`]) passes on
    /// its first byte alone; `false` means "look closer", not "invalid".
    passes: [bool; 4],
}

impl ArgsCheck {
    pub(crate) fn new(schema: &Value) -> Self {
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.iter()
                    .map(|(name, sub)| Prop {
                        name: name.clone(),
                        schema: sub.clone(),
                        passes: KINDS.map(|k| passes_shallow(sub, k)),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            required,
            closed: schema.get("additionalProperties") == Some(&Value::Bool(false)),
            props,
        }
    }

    /// Checks the arguments object; `Err` is a sentence for the model.
    ///
    /// Works on the arguments as text: a value is parsed only when its schema looks inside
    /// it (enum, items, properties) or it is a number; a type check needs only its first
    /// byte.
    pub(crate) fn check(&self, args: &RawJsonArgs) -> Result<(), String> {
        for name in &self.required {
            if args.get_raw(name).is_none_or(|raw| raw == "null") {
                return Err(format!("missing required argument '{name}'"));
            }
        }
        for (name, raw) in args.members() {
            match self.props.iter().find(|p| p.name == name) {
                Some(_) if raw == "null" => {}
                Some(p) if kind(raw).is_some_and(|k| p.passes[k]) => {}
                Some(p) => {
                    let value: Value = serde_json::from_str(raw)
                        .map_err(|e| format!("argument '{name}' is not valid JSON: {e}"))?;
                    check_value(&p.schema, &value, name)?;
                }
                None if self.closed => {
                    let known: Vec<&str> = self.props.iter().map(|p| p.name.as_str()).collect();
                    return Err(unknown(&known, name));
                }
                None => {}
            }
        }
        Ok(())
    }
}

/// The kinds a value's first byte tells apart, as indexes into [`Prop::passes`].
const KINDS: [&str; 4] = ["string", "object", "array", "boolean"];

fn kind(raw: &str) -> Option<usize> {
    match raw.as_bytes().first() {
        Some(b'"') => Some(0),
        Some(b'{') => Some(1),
        Some(b'[') => Some(2),
        Some(b't' | b'f') => Some(3),
        _ => None,
    }
}

/// Whether every value of `kind` passes `schema` without looking inside it.
fn passes_shallow(schema: &Value, kind: &str) -> bool {
    let looks_inside = match kind {
        "object" => schema.get("properties").is_some() || schema.get("required").is_some(),
        "array" => schema.get("items").is_some(),
        _ => false,
    };
    if looks_inside || schema.get("enum").is_some() {
        return false;
    }
    match schema.get("type") {
        None => true,
        Some(Value::String(t)) => t == kind || !KNOWN_TYPES.contains(&t.as_str()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .any(|t| t == kind || !KNOWN_TYPES.contains(&t)),
        Some(_) => true,
    }
}

const KNOWN_TYPES: [&str; 7] = [
    "string", "integer", "number", "boolean", "array", "object", "null",
];

fn unknown(known: &[&str], name: &str) -> String {
    let expected = if known.is_empty() {
        "this tool takes no arguments".to_owned()
    } else {
        format!("expected one of: {}", known.join(", "))
    };
    format!("unknown argument '{name}' ({expected})")
}

fn check_object(schema: &Value, obj: &Map<String, Value>, path: &str) -> Result<(), String> {
    let props = schema.get("properties").and_then(Value::as_object);
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            // A null counts as absent: models often send `null` for "no value".
            if obj.get(name).is_none_or(Value::is_null) {
                return Err(format!("missing required argument '{}'", join(path, name)));
            }
        }
    }
    let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
    for (name, value) in obj {
        match props.and_then(|p| p.get(name)) {
            Some(_) if value.is_null() => {}
            Some(sub) => check_value(sub, value, &join(path, name))?,
            None if closed => {
                let known: Vec<&str> = props
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                return Err(unknown(&known, &join(path, name)));
            }
            None => {}
        }
    }
    Ok(())
}

fn check_value(schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    if let Some(ty) = schema.get("type") {
        let names: Vec<&str> = match ty {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !names.is_empty() && !names.iter().any(|t| has_type(value, t)) {
            return Err(format!(
                "argument '{path}' must be {}, got {}",
                expected(&names),
                describe(value)
            ));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        return Err(format!(
            "argument '{path}' must be one of {}, got {value}",
            list.join(", ")
        ));
    }
    match value {
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    check_value(item_schema, item, &format!("{path}[{i}]"))?;
                }
            }
        }
        Value::Object(obj)
            if schema.get("properties").is_some() || schema.get("required").is_some() =>
        {
            check_object(schema, obj, path)?;
        }
        _ => {}
    }
    Ok(())
}

fn has_type(v: &Value, ty: &str) -> bool {
    match ty {
        "string" => v.is_string(),
        "integer" => {
            v.as_i64().is_some()
                || v.as_u64().is_some()
                || v.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        // An unknown type name: do not second-guess it.
        _ => true,
    }
}

fn expected(names: &[&str]) -> String {
    let with_article: Vec<String> = names
        .iter()
        .map(|n| match *n {
            "integer" | "array" | "object" => format!("an {n}"),
            "null" => "null".to_owned(),
            _ => format!("a {n}"),
        })
        .collect();
    with_article.join(" or ")
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(schema: Value, args: Value) -> Result<(), String> {
        ArgsCheck::new(&schema).check(&RawJsonArgs::parse(&args.to_string()).unwrap())
    }

    #[test]
    fn first_byte_verdicts_agree_with_the_full_check() {
        let schemas = [
            json!({}),
            json!({"type": "string"}),
            json!({"type": "integer"}),
            json!({"type": ["object", "array"]}),
            json!({"type": ["string", "null"]}),
            json!({"type": "boolean"}),
            json!({"type": "object", "properties": {"k": {"type": "string"}}}),
            json!({"type": "object", "required": ["k"]}),
            json!({"type": "array", "items": {"type": "integer"}}),
            json!({"type": "array"}),
            json!({"enum": ["a", "b"]}),
            json!({"type": "uuid"}),
            json!({"type": 5}),
        ];
        let values = [
            json!("a"),
            json!("c"),
            json!(1),
            json!(1.5),
            json!(true),
            json!([1, "x"]),
            json!([]),
            json!({"k": 1}),
            json!({}),
        ];
        for schema in &schemas {
            let whole = json!({"type": "object", "properties": {"a": schema}});
            for value in &values {
                let fast = check(whole.clone(), json!({ "a": value }));
                let full = check_value(schema, value, "a");
                assert_eq!(fast, full, "{schema} / {value}");
            }
        }
    }

    #[test]
    fn seed_shapes() {
        let get = json!({"type":"object","properties":{"id":{"type":"string"},"include_credential":{"type":"array","items":{"type":"string"}}},"required":["id"],"additionalProperties":false});
        assert!(check(get.clone(), json!({"id":"a","include_credential":["oidc"]})).is_ok());
        assert_eq!(
            check(get.clone(), json!({})).unwrap_err(),
            "missing required argument 'id'"
        );
        assert_eq!(
            check(get.clone(), json!({"id":null})).unwrap_err(),
            "missing required argument 'id'"
        );
        assert_eq!(
            check(get.clone(), json!({"id":5})).unwrap_err(),
            "argument 'id' must be a string, got an integer"
        );
        assert_eq!(
            check(get.clone(), json!({"id":"a","include_credential":[1]})).unwrap_err(),
            "argument 'include_credential[0]' must be a string, got an integer"
        );
        assert_eq!(
            check(get.clone(), json!({"id":"a","idd":"b"})).unwrap_err(),
            "unknown argument 'idd' (expected one of: id, include_credential)"
        );
        assert!(check(get, json!({"id":"a","include_credential":null})).is_ok());
        let body = json!({"type":"object","properties":{"body":{"type":["object","array"]},"n":{"type":"integer"},"x":{"type":"number"},"b":{"type":"boolean"}}});
        assert!(
            check(
                body.clone(),
                json!({"body":[{"op":"add"}],"n":2.0,"x":1.5,"b":true})
            )
            .is_ok()
        );
        assert_eq!(
            check(body.clone(), json!({"body":"x"})).unwrap_err(),
            "argument 'body' must be an object or an array, got a string"
        );
        assert_eq!(
            check(body.clone(), json!({"n":2.5})).unwrap_err(),
            "argument 'n' must be an integer, got a number"
        );
        assert_eq!(
            check(body, json!({"b":"true"})).unwrap_err(),
            "argument 'b' must be a boolean, got a string"
        );
        let none = json!({"type":"object","additionalProperties":false});
        assert_eq!(
            check(none, json!({"a":1})).unwrap_err(),
            "unknown argument 'a' (this tool takes no arguments)"
        );
    }
}
