//! Checks tool arguments against the tool's input schema, for the subset of JSON Schema
//! the plan emits: `type` (one name or a list), `properties`, `required`,
//! `additionalProperties: false`, `items`, `enum`. Keywords outside the subset are ignored
//! (they only ever make a schema stricter, so ignoring them lets the upstream decide).
//! Failures are reported to the model as a tool error naming the argument, so messages
//! say what to change.

use naftiko_plan::RawJsonArgs;
use serde_json::{Map, Value};

/// Checks the arguments object; `Err` is a sentence for the model.
///
/// Works on the arguments as text: a value is parsed only when its schema looks inside
/// it (enum, items, properties) or it is a number; a type check needs only its first byte.
pub(crate) fn check_arguments(schema: &Value, args: &RawJsonArgs) -> Result<(), String> {
    let props = schema.get("properties").and_then(Value::as_object);
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if args.get_raw(name).is_none_or(|raw| raw == "null") {
                return Err(format!("missing required argument '{name}'"));
            }
        }
    }
    let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
    for (name, raw) in args.members() {
        match props.and_then(|p| p.get(name)) {
            Some(_) if raw == "null" => {}
            Some(sub) if shallow_ok(sub, raw) => {}
            Some(sub) => {
                let value: Value = serde_json::from_str(raw)
                    .map_err(|e| format!("argument '{name}' is not valid JSON: {e}"))?;
                check_value(sub, &value, name)?;
            }
            None if closed => return Err(unknown(props, name)),
            None => {}
        }
    }
    Ok(())
}

/// Whether `raw` passes `schema` judging by its first byte alone; `false` means "look
/// closer", not "invalid".
fn shallow_ok(schema: &Value, raw: &str) -> bool {
    let kind = match raw.as_bytes().first() {
        Some(b'"') => "string",
        Some(b'{') if schema.get("properties").is_none() && schema.get("required").is_none() => {
            "object"
        }
        Some(b'[') if schema.get("items").is_none() => "array",
        Some(b't' | b'f') => "boolean",
        _ => return false,
    };
    if schema.get("enum").is_some() {
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

fn unknown(props: Option<&Map<String, Value>>, name: &str) -> String {
    let known: Vec<&str> = props
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
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
            None if closed => return Err(unknown(props, &join(path, name))),
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
        check_arguments(&schema, &RawJsonArgs::parse(&args.to_string()).unwrap())
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
