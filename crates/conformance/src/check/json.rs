//! JSON comparisons: the differences between two values, path by path, and a case's
//! JSONPath assertions.

use serde_json::Value;

use super::{Problems, compact, regex};
use crate::case::JsonAssert;
use crate::upstream::clip;

/// Lists the differences between two JSON values (at most 12).
pub(crate) fn json_diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_at("$", expected, actual, &mut out);
    if out.len() > 12 {
        let n = out.len() - 12;
        out.truncate(12);
        out.push(format!("… and {n} more differences"));
    }
    out
}

fn diff_at(at: &str, e: &Value, a: &Value, out: &mut Vec<String>) {
    match (e, a) {
        (Value::Object(eo), Value::Object(ao)) => {
            for (k, ev) in eo {
                let p = child(at, k);
                match ao.get(k) {
                    Some(av) => diff_at(&p, ev, av, out),
                    None => out.push(format!("{p}: missing (expected {})", compact(ev))),
                }
            }
            for (k, av) in ao {
                if !eo.contains_key(k) {
                    out.push(format!(
                        "{}: unexpected (got {})",
                        child(at, k),
                        compact(av)
                    ));
                }
            }
        }
        (Value::Array(ea), Value::Array(aa)) => {
            if ea.len() != aa.len() {
                out.push(format!(
                    "{at}: expected {} items, got {}: expected {}, got {}",
                    ea.len(),
                    aa.len(),
                    compact(e),
                    compact(a)
                ));
                return;
            }
            for (i, (ev, av)) in ea.iter().zip(aa).enumerate() {
                diff_at(&format!("{at}[{i}]"), ev, av, out);
            }
        }
        (Value::Number(en), Value::Number(an)) if numbers_equal(en, an) => {}
        _ if e == a => {}
        _ => out.push(format!("{at}: expected {}, got {}", compact(e), compact(a))),
    }
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

fn child(at: &str, key: &str) -> String {
    if !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit())
    {
        format!("{at}.{key}")
    } else {
        format!("{at}[{}]", Value::String(key.to_owned()))
    }
}

/// Runs JSONPath assertions against `doc`.
pub(crate) fn json_asserts(what: &str, doc: &Value, asserts: &[JsonAssert], p: &mut Problems) {
    for a in asserts {
        let path = if a.path == "$." { "$" } else { a.path.as_str() };
        let parsed = match serde_json_path::JsonPath::parse(path) {
            Ok(jp) => jp,
            Err(e) => {
                p.push(format!(
                    "{what}: invalid JSONPath `{}` in the case: {e}",
                    a.path
                ));
                continue;
            }
        };
        let nodes: Vec<&Value> = parsed.query(doc).all();
        let label = format!("{what} {}", a.path);
        if let Some(exists) = a.exists {
            if exists && nodes.is_empty() {
                p.push(format!(
                    "{label}: expected a value, found none in {}",
                    compact(doc)
                ));
            }
            if !exists && !nodes.is_empty() {
                p.push(format!(
                    "{label}: expected nothing, found {}",
                    compact(nodes[0])
                ));
            }
        }
        let needs_value =
            a.equals.is_some() || a.matches.is_some() || a.length.is_some() || a.type_.is_some();
        if !needs_value {
            continue;
        }
        let selected: Value = match nodes.len() {
            0 => {
                p.push(format!("{label}: selects nothing in {}", compact(doc)));
                continue;
            }
            1 => nodes[0].clone(),
            _ => Value::Array(nodes.into_iter().cloned().collect()),
        };
        if let Some(e) = &a.equals {
            for d in json_diff(e, &selected) {
                p.push(format!("{label}: {d}"));
            }
        }
        if let Some(m) = &a.matches
            && let Some(re) = regex(m, &label, p)
        {
            let text = match &selected {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !re.is_match(&text) {
                p.push(format!(
                    "{label}: `{}` does not match /{m}/",
                    clip(&text, 300)
                ));
            }
        }
        if let Some(n) = a.length {
            let len = match &selected {
                Value::Array(x) => Some(x.len()),
                Value::Object(x) => Some(x.len()),
                Value::String(x) => Some(x.chars().count()),
                _ => None,
            };
            if len != Some(n) {
                p.push(format!(
                    "{label}: expected length {n}, got {} ({})",
                    len.map_or("no length".to_string(), |l| l.to_string()),
                    compact(&selected)
                ));
            }
        }
        if let Some(t) = &a.type_ {
            let actual = match &selected {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            if actual != t {
                p.push(format!(
                    "{label}: expected type {t}, got {actual} ({})",
                    compact(&selected)
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_name_paths() {
        let d = json_diff(
            &json!({"a": 1, "b": {"c": [1, 2]}, "x": "y"}),
            &json!({"a": 1.0, "b": {"c": [1, 3]}, "z": true}),
        );
        assert_eq!(
            d,
            vec![
                "$.b.c[1]: expected 2, got 3",
                "$.x: missing (expected \"y\")",
                "$.z: unexpected (got true)",
            ]
        );
    }

    #[test]
    fn json_asserts_report_mismatches() {
        let doc = json!({"tools": [{"name": "a"}, {"name": "b"}]});
        let mut p = Problems::default();
        let asserts: Vec<JsonAssert> = serde_json::from_value(json!([
            {"path": "$.tools", "length": 2},
            {"path": "$.tools[*].name", "equals": ["a", "b"]},
            {"path": "$.tools[0].name", "matches": "^a$"},
            {"path": "$.nope", "exists": false},
            {"path": "$.tools[0]", "type": "object"},
        ]))
        .unwrap();
        json_asserts("x", &doc, &asserts, &mut p);
        assert!(p.0.is_empty(), "{:?}", p.0);
        let bad: Vec<JsonAssert> =
            serde_json::from_value(json!([{"path": "$.tools", "length": 3}])).unwrap();
        json_asserts("x", &doc, &bad, &mut p);
        assert_eq!(p.0.len(), 1);
    }
}
