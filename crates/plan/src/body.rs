//! Rendering `body:` templates: JSON with typed substitution, text, form-urlencoded.

use bytes::Bytes;
use serde_json::Value;

use crate::error::InvokeError;
use crate::operation::BodyPlan;
use crate::secret::Binds;
use crate::values::{Values, lookup, render_text, value_text};

pub(crate) fn render(
    plan: &BodyPlan,
    values: &Values,
    binds: &Binds,
) -> Result<(Bytes, Option<&'static str>), InvokeError> {
    match plan {
        BodyPlan::Text {
            template,
            content_type,
        } => {
            let text = if content_type.starts_with("application/json") {
                render_json_text(template, values, binds)?
            } else {
                render_text(template, values, binds)
                    .map_err(|name| InvokeError::MissingInput { name })?
            };
            Ok((Bytes::from(text), Some(content_type)))
        }
        BodyPlan::Json(data) => {
            let v = json(data, values, binds)?;
            let bytes = serde_json::to_vec(&v).map_err(|e| InvokeError::Internal {
                reason: e.to_string(),
            })?;
            Ok((Bytes::from(bytes), Some("application/json")))
        }
        BodyPlan::Form(data) => {
            let mut out = form_urlencoded_pairs(&json(data, values, binds)?);
            out.shrink_to_fit();
            Ok((Bytes::from(out), Some("application/x-www-form-urlencoded")))
        }
        BodyPlan::Multipart(data) => multipart(&json(data, values, binds)?),
    }
}

const BOUNDARY: &str = "naftiko-7d1c0b2e9f4a5b3c8e61";

/// One part per top-level field; strings as text, other values as JSON text.
fn multipart(v: &Value) -> Result<(Bytes, Option<&'static str>), InvokeError> {
    let mut out = String::new();
    if let Value::Object(o) = v {
        for (k, x) in o.iter().filter(|(_, x)| !x.is_null()) {
            let text = value_text(x);
            if text.contains(BOUNDARY) || k.contains('"') || k.contains('\r') || k.contains('\n') {
                return Err(InvokeError::BadInput {
                    name: k.clone(),
                    reason: "cannot be sent as a multipart field".into(),
                });
            }
            out.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{text}\r\n"
            ));
        }
    }
    out.push_str(&format!("--{BOUNDARY}--\r\n"));
    Ok((
        Bytes::from(out),
        Some("multipart/form-data; boundary=naftiko-7d1c0b2e9f4a5b3c8e61"),
    ))
}

/// Renders a JSON text template: a placeholder inside a string literal is escaped as
/// string content (a quote in a value cannot break the body); outside one it is inserted
/// as JSON text (`{"ids": {{ids}}}` with a list gives a JSON array).
fn render_json_text(
    t: &naftiko_spec::template::Template,
    values: &Values,
    binds: &Binds,
) -> Result<String, InvokeError> {
    use naftiko_spec::template::Segment;
    let mut out = String::new();
    let mut in_string = false;
    for seg in t.segments() {
        match seg {
            Segment::Lit(l) => {
                let mut escaped = false;
                for c in l.chars() {
                    match (c, escaped) {
                        ('\\', false) => escaped = true,
                        ('"', false) => in_string = !in_string,
                        _ => escaped = false,
                    }
                }
                out.push_str(l);
            }
            Segment::Var(v) => {
                let val = lookup(v, values, binds)
                    .filter(|x| !x.is_null())
                    .ok_or_else(|| InvokeError::MissingInput {
                        name: v.to_string(),
                    })?;
                let text = value_text(&val);
                if in_string {
                    let quoted = Value::String(text.into_owned()).to_string();
                    out.push_str(&quoted[1..quoted.len() - 1]);
                } else {
                    out.push_str(&text);
                }
            }
        }
    }
    Ok(out)
}

/// Substitutes templates inside JSON: `"{{x}}"` alone becomes x's JSON value (typed);
/// inside a longer string, x's text (the JSON encoder escapes it).
fn json(v: &Value, values: &Values, binds: &Binds) -> Result<Value, InvokeError> {
    Ok(match v {
        Value::String(s) if s.contains("{{") => {
            let t =
                naftiko_spec::template::Template::parse(s).map_err(|e| InvokeError::Internal {
                    reason: e.to_string(),
                })?;
            match t.as_single_var() {
                Some(var) => {
                    lookup(var, values, binds).ok_or_else(|| InvokeError::MissingInput {
                        name: var.to_string(),
                    })?
                }
                None => Value::String(
                    render_text(&t, values, binds)
                        .map_err(|name| InvokeError::MissingInput { name })?,
                ),
            }
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| json(x, values, binds))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), json(x, values, binds)?)))
                .collect::<Result<_, InvokeError>>()?,
        ),
        other => other.clone(),
    })
}

fn form_urlencoded_pairs(v: &Value) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let mut out = String::new();
    if let Value::Object(o) = v {
        for (k, x) in o {
            if x.is_null() {
                continue;
            }
            if !out.is_empty() {
                out.push('&');
            }
            out.extend(utf8_percent_encode(k, NON_ALPHANUMERIC));
            out.push('=');
            out.extend(utf8_percent_encode(&value_text(x), NON_ALPHANUMERIC));
        }
    }
    out
}
