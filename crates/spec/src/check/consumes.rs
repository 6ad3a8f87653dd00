//! Checks of `consumes` entries: base URI, authentication, parameters, bodies, outputs.

use serde_json::Value;

use super::{Context, calls, template};
use crate::diag::{Diagnostics, Pos};
use crate::model::{
    AuthenticationSpec, BodySpec, ConsumesHttpSpec, InputParameterSpec, OutputParameterSpec,
};

/// HTTP methods a consumed or exposed operation may use.
pub(crate) const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
/// Where a parameter may go.
pub(crate) const PLACEMENTS: [&str; 6] =
    ["path", "query", "header", "cookie", "body", "environment"];
/// Authentication types this runtime applies.
pub(crate) const AUTH_TYPES: [&str; 5] = ["apikey", "bearer", "basic", "digest", "oauth2"];
/// Authentication types seen in the wild that we load but do not apply.
pub(crate) const AUTH_TYPES_UNSUPPORTED: [&str; 3] = ["hmac", "oauth1", "aws-sig-v4"];

pub(super) fn check_consumes(cx: &Context<'_>, c: &ConsumesHttpSpec, d: &mut Diagnostics) {
    if let Some(t) = &c.r#type
        && t.value != "http"
    {
        d.error(
            "consumes-type",
            t.pos,
            format!("consumes type '{}' is not supported (only 'http')", t.value),
        );
    }
    base_uri(cx, c, d);
    let namespace_inputs = calls::namespace_inputs(c);
    if let Some(auth) = &c.authentication {
        authentication(cx, auth, &namespace_inputs, d);
    }
    for p in &c.input_parameters {
        parameter(cx, p, &namespace_inputs, d);
    }
    for r in &c.resources {
        if r.path.value.contains('?') {
            d.warning("naftiko-consumed-resource-no-query-in-path", r.path.pos, "a consumed resource path should not contain a query string; use 'in: query' parameters");
        }
        template(
            &r.path.value.replace("{{", "{").replace("}}", "}"),
            r.path.pos,
            d,
        );
        for op in &r.operations {
            if let Some(m) = &op.method
                && !METHODS.contains(&m.value.as_str())
            {
                d.error(
                    "method",
                    m.pos,
                    format!(
                        "'{}' is not an HTTP method ({})",
                        m.value,
                        METHODS.join(", ")
                    ),
                );
            }
            let inputs = calls::operation_inputs(c, r, op);
            for p in &op.input_parameters {
                parameter(cx, p, &inputs, d);
            }
            if let Some(body) = &op.body {
                body_spec(body, d);
            }
            if let Some(f) = &op.output_raw_format
                && ![
                    "json", "xml", "yaml", "csv", "tsv", "psv", "html", "markdown", "text",
                    "binary", "protobuf", "avro",
                ]
                .contains(&f.value.as_str())
            {
                d.error(
                    "output-format",
                    f.pos,
                    format!("unknown outputRawFormat '{}'", f.value),
                );
            }
            for o in &op.output_parameters {
                output_parameter(o, d);
            }
        }
    }
}

fn base_uri(cx: &Context<'_>, c: &ConsumesHttpSpec, d: &mut Diagnostics) {
    let ns = &c.namespace.value;
    let Some(uri) = c.base_uri.as_ref().filter(|u| !u.value.trim().is_empty()) else {
        let pos = c.base_uri.as_ref().map_or(c.pos, |u| u.pos);
        d.warning(
            "baseuri-empty",
            pos,
            format!("consumes '{ns}' has no baseUri: it must be supplied at serve time with --upstream {ns}=URL"),
        );
        return;
    };
    if uri.value.ends_with('/') {
        d.error(
            "naftiko-consumes-baseuri-no-trailing-slash",
            uri.pos,
            format!("baseUri '{}' must not end with a trailing slash", uri.value),
        );
    }
    if !(uri.value.starts_with("http://")
        || uri.value.starts_with("https://")
        || uri.value.starts_with("{{"))
    {
        d.error(
            "baseuri",
            uri.pos,
            format!(
                "baseUri '{}' must start with http:// or https://",
                uri.value
            ),
        );
    }
    if let Some(t) = template(&uri.value, uri.pos, d) {
        for v in t.vars() {
            if !cx.bind_vars.contains(&v.to_string()) {
                d.error(
                    "template-variable",
                    uri.pos,
                    format!("baseUri uses '{{{{{v}}}}}', which is not a bind variable"),
                );
            }
        }
    }
}

fn authentication(
    cx: &Context<'_>,
    auth: &AuthenticationSpec,
    inputs: &[String],
    d: &mut Diagnostics,
) {
    let t = auth.r#type.value.as_str();
    if AUTH_TYPES_UNSUPPORTED.contains(&t) {
        d.warning(
            "auth-unsupported",
            auth.r#type.pos,
            format!("authentication type '{t}' is not supported yet: requests are sent without it"),
        );
    } else if !AUTH_TYPES.contains(&t) {
        let all = AUTH_TYPES.iter().chain(&AUTH_TYPES_UNSUPPORTED).copied();
        d.error(
            "auth-type",
            auth.r#type.pos,
            format!(
                "unknown authentication type '{t}'{} (known: {})",
                super::did_you_mean(super::suggest(t, all)),
                AUTH_TYPES.join(", ")
            ),
        );
        return;
    }
    let required: &[&str] = match t {
        "apikey" => &["key", "value"],
        "bearer" => &["token"],
        "basic" | "digest" => &["username", "password"],
        _ => &[],
    };
    for key in required {
        if auth.field(key).is_none() {
            d.error(
                "missing-key",
                auth.pos,
                format!("{t} authentication needs the key '{key}'"),
            );
        }
    }
    if let Some(p) = auth.field("placement")
        && !["header", "query", "cookie"].contains(&p.value.as_str())
    {
        d.error(
            "auth-placement",
            p.pos,
            format!(
                "apikey placement '{}' must be header, query or cookie",
                p.value
            ),
        );
    }
    for (_, v) in &auth.fields {
        template_vars(cx, &v.value, v.pos, inputs, "authentication", d);
    }
}

fn parameter(cx: &Context<'_>, p: &InputParameterSpec, inputs: &[String], d: &mut Diagnostics) {
    match &p.r#in {
        None => d.error("param-in", p.pos, format!("consumed parameter '{}' needs 'in' (path, query, header, cookie, body or environment)", p.name.value)),
        Some(i) if !PLACEMENTS.contains(&i.value.as_str()) => d.error(
            "param-in",
            i.pos,
            format!("unknown placement 'in: {}' for parameter '{}' (known: {})", i.value, p.name.value, PLACEMENTS.join(", ")),
        ),
        Some(_) => {}
    }
    if let Some(v) = &p.value
        && let Value::String(s) = &v.value
    {
        template_vars(
            cx,
            s,
            v.pos,
            inputs,
            &format!("parameter '{}'", p.name.value),
            d,
        );
    }
}

/// Parses a template and checks that each variable is a bind or one of `inputs`.
fn template_vars(
    cx: &Context<'_>,
    text: &str,
    pos: Pos,
    inputs: &[String],
    what: &str,
    d: &mut Diagnostics,
) {
    let Some(t) = template(text, pos, d) else {
        return;
    };
    for v in t.vars() {
        let name = v.to_string();
        if !cx.bind_vars.contains(&name)
            && !cx.caller_inputs.contains(v.head())
            && !inputs.iter().any(|i| *i == name || *i == v.head())
        {
            let hint = super::did_you_mean(super::suggest(
                &name,
                cx.bind_vars
                    .iter()
                    .map(String::as_str)
                    .chain(inputs.iter().map(String::as_str)),
            ));
            d.error("template-variable", pos, format!("{what} uses '{{{{{name}}}}}', which is neither a bind variable nor an input{hint}"));
        }
    }
}

fn body_spec(body: &BodySpec, d: &mut Diagnostics) {
    match body {
        BodySpec::Text(t) => {
            template(&t.value, t.pos, d);
        }
        BodySpec::Typed { r#type, data } => {
            let known = [
                "json",
                "text",
                "xml",
                "sparql",
                "formUrlEncoded",
                "form",
                "multipartForm",
                "multipart",
            ];
            if !known.contains(&r#type.value.as_str()) {
                d.error(
                    "body-type",
                    r#type.pos,
                    format!(
                        "unknown body type '{}' (known: {})",
                        r#type.value,
                        known.join(", ")
                    ),
                );
            }
            calls::json_strings(&data.value, &mut |s| {
                template(s, data.pos, d);
            });
        }
    }
}

/// Checks an output parameter tree: JSONPath compiles, templates parse.
pub(super) fn output_parameter(o: &OutputParameterSpec, d: &mut Diagnostics) {
    if let Some(m) = &o.mapping
        && let Err(e) = naftiko_jsonpath::Mapping::parse(&m.value)
    {
        d.error(
            "jsonpath",
            m.pos,
            format!("mapping '{}' is not valid JSONPath: {e}", m.value),
        );
    }
    if let Some(v) = &o.value
        && let Value::String(s) = &v.value
    {
        template(s, v.pos, d);
    }
    if let Some(t) = &o.r#type
        && ![
            "string", "number", "integer", "boolean", "object", "array", "null",
        ]
        .contains(&t.value.as_str())
    {
        d.error(
            "output-type",
            t.pos,
            format!("unknown output type '{}'", t.value),
        );
    }
    for (_, p) in &o.properties {
        output_parameter(p, d);
    }
    for child in o.items.iter().chain(o.values.iter()) {
        output_parameter(child, d);
    }
}
