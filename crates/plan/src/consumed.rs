//! Compiling `consumes` operations into [`OperationPlan`]s.

use std::sync::Arc;

use http::Method;
use http::header::HeaderName;
use naftiko_spec::template::Template;
use naftiko_spec::{
    AuthenticationSpec, BodySpec, ConsumesHttpSpec, Diagnostics, InputParameterSpec,
};
use naftiko_upstream::{CallOptions, Upstream};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::Value;

use crate::compile::render_with_binds;
use crate::operation::{
    AuthPlan, AuthValue, BodyPlan, OperationPlan, ParamPlan, ParamType, PathSeg, Placement,
    ValueSource,
};
use crate::secret::{Binds, Secret};

pub(crate) fn operations(
    c: &ConsumesHttpSpec,
    base: &str,
    binds: &Binds,
    upstream: &Arc<dyn Upstream>,
    call: CallOptions,
    d: &mut Diagnostics,
) -> Vec<OperationPlan> {
    let auth = c
        .authentication
        .as_ref()
        .and_then(|a| auth_plan(a, binds, d));
    // A fixed header value is built once; requests clone it (a reference count).
    let auth = auth.map(|a| match a {
        AuthPlan::Header(h, AuthValue::Fixed(secret)) => {
            match http::HeaderValue::from_str(secret.expose()) {
                Ok(mut hv) => {
                    hv.set_sensitive(true);
                    AuthPlan::Header(h, AuthValue::FixedHeader(hv))
                }
                Err(_) => AuthPlan::Header(h, AuthValue::Fixed(secret)),
            }
        }
        other => other,
    });
    let origin = crate::origin::Origin::of(base);
    let mut out = Vec::new();
    for r in &c.resources {
        let path = path_segments(&r.path.value);
        for op in &r.operations {
            let method = op.method.as_ref().map_or("GET", |m| m.value.as_str());
            let Ok(method) = Method::from_bytes(method.as_bytes()) else {
                continue;
            };
            let params = c
                .input_parameters
                .iter()
                .chain(&op.input_parameters)
                .filter_map(|p| param_plan(p, d))
                .collect();
            let json_output = op
                .output_raw_format
                .as_ref()
                .is_none_or(|f| f.value == "json");
            out.push(OperationPlan {
                id: format!("{}.{}", c.namespace.value, op.name.value),
                namespace: c.namespace.value.clone(),
                method,
                base: base.to_string(),
                origin: origin.clone(),
                path: path.clone(),
                params,
                body: op.body.as_ref().and_then(body_plan),
                auth: auth.clone(),
                json_output,
                upstream: upstream.clone(),
                call,
            });
        }
    }
    out
}

/// Bytes a literal part of a path cannot hold as they are in a request line.
const NOT_IN_TARGET: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Literal path text, percent-encoded where it could not stand in a request line: the
/// upstream request target is sent as built, not parsed again.
fn literal(text: &str) -> PathSeg {
    PathSeg::Lit(utf8_percent_encode(text, NOT_IN_TARGET).to_string())
}

/// Splits `/a/{id}/b/{{type}}` into literal text and variables.
pub(crate) fn path_segments(path: &str) -> Vec<PathSeg> {
    let path = if path.starts_with('/') || path.is_empty() {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let mut segs = Vec::new();
    let mut rest = path.as_str();
    while let Some(start) = rest.find('{') {
        let after = rest[start..].trim_start_matches('{');
        let Some(end) = after.find('}') else { break };
        if start > 0 {
            segs.push(literal(&rest[..start]));
        }
        segs.push(PathSeg::Var(after[..end].trim().to_string()));
        rest = after[end..].trim_start_matches('}');
    }
    if !rest.is_empty() {
        segs.push(literal(rest));
    }
    segs
}

fn param_plan(p: &InputParameterSpec, d: &mut Diagnostics) -> Option<ParamPlan> {
    let placement = match p.placement().unwrap_or("query") {
        "path" => Placement::Path,
        "query" => Placement::Query,
        "header" => match HeaderName::from_bytes(p.name.value.as_bytes()) {
            Ok(h) => Placement::Header(h),
            Err(_) => {
                d.error(
                    "param-header",
                    p.name.pos,
                    format!("'{}' is not a valid HTTP header name", p.name.value),
                );
                return None;
            }
        },
        "cookie" => Placement::Cookie,
        "body" => Placement::Body,
        _ => Placement::Environment,
    };
    let value = p.value.as_ref().map(|v| match &v.value {
        Value::String(s) if s.contains("{{") => match Template::parse(s) {
            Ok(t) => ValueSource::Template(t),
            Err(_) => ValueSource::Literal(v.value.clone()),
        },
        other => ValueSource::Literal(other.clone()),
    });
    Some(ParamPlan {
        name: p.name.value.clone(),
        placement,
        ty: ParamType::parse(p.type_name()),
        items: p
            .items_type
            .as_ref()
            .map(|t| ParamType::parse(Some(&t.value))),
        required: p.required.as_ref().is_some_and(|r| r.value),
        description: p.description.as_ref().map(|s| s.value.clone()),
        value,
    })
}

fn body_plan(b: &BodySpec) -> Option<BodyPlan> {
    match b {
        BodySpec::Text(t) => Some(BodyPlan::Text {
            template: Template::parse(&t.value).ok()?,
            content_type: "application/json",
        }),
        BodySpec::Typed { r#type, data } => Some(match r#type.value.as_str() {
            "json" => BodyPlan::Json(data.value.clone()),
            "formUrlEncoded" | "form" => BodyPlan::Form(data.value.clone()),
            "multipartForm" | "multipart" => BodyPlan::Multipart(data.value.clone()),
            kind => {
                let text = match &data.value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let content_type = match kind {
                    "xml" => "application/xml",
                    "sparql" => "application/sparql-query",
                    "text" => "text/plain; charset=utf-8",
                    _ => "application/json",
                };
                BodyPlan::Text {
                    template: Template::parse(&text).ok()?,
                    content_type,
                }
            }
        }),
    }
}

fn auth_plan(a: &AuthenticationSpec, binds: &Binds, d: &mut Diagnostics) -> Option<AuthPlan> {
    let field = |k: &str| a.field(k).map(|s| (s.value.as_str(), s.pos));
    // A value whose variables are all binds is resolved once; otherwise per request.
    let value = |text: &str, pos, prefix: &'static str| -> Option<AuthValue> {
        let t = Template::parse(text).ok()?;
        if t.vars().all(|v| binds.get(&v.to_string()).is_some()) {
            let mut scratch = Diagnostics::default();
            let s = render_with_binds(text, pos, binds, &mut scratch)?;
            Some(AuthValue::Fixed(Secret::new(format!("{prefix}{s}"))))
        } else {
            Some(AuthValue::Template {
                prefix,
                template: t,
            })
        }
    };
    match a.r#type.value.as_str() {
        "apikey" => {
            let (key, kpos) = field("key")?;
            let (v, vpos) = field("value")?;
            let v = value(v, vpos, "")?;
            match field("placement").map_or("header", |p| p.0) {
                "query" => Some(AuthPlan::Query(key.to_string(), v)),
                "cookie" => Some(AuthPlan::Cookie(key.to_string(), v)),
                _ => match HeaderName::from_bytes(key.as_bytes()) {
                    Ok(h) => Some(AuthPlan::Header(h, v)),
                    Err(_) => {
                        d.error(
                            "auth-key",
                            kpos,
                            format!("'{key}' is not a valid HTTP header name"),
                        );
                        None
                    }
                },
            }
        }
        "bearer" => {
            let (t, pos) = field("token")?;
            Some(AuthPlan::Header(
                http::header::AUTHORIZATION,
                value(t, pos, "Bearer ")?,
            ))
        }
        "basic" => {
            let (u, upos) = field("username")?;
            let (p, ppos) = field("password")?;
            let user = render_with_binds(u, upos, binds, d)?;
            let pass = render_with_binds(p, ppos, binds, d)?;
            use base64::Engine;
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            Some(AuthPlan::Header(
                http::header::AUTHORIZATION,
                AuthValue::Fixed(Secret::new(format!("Basic {token}"))),
            ))
        }
        other => {
            // Sending requests without the authentication the file asks for is never right.
            d.error(
                "auth-unsupported",
                a.r#type.pos,
                format!("authentication type '{other}' is not supported by this runtime; refusing to call the upstream without it"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_path_text_is_safe_in_a_request_line() {
        let segs = path_segments("items/a b\"é#x/{id}/{{kind}}?q=1&r=%20");
        assert_eq!(
            segs,
            [
                PathSeg::Lit("/items/a%20b%22%C3%A9%23x/".into()),
                PathSeg::Var("id".into()),
                PathSeg::Lit("/".into()),
                PathSeg::Var("kind".into()),
                PathSeg::Lit("?q=1&r=%20".into()),
            ]
        );
        for seg in segs {
            if let PathSeg::Lit(text) = seg {
                assert!(text.bytes().all(|b| b.is_ascii_graphic()), "{text}");
            }
        }
    }
}
