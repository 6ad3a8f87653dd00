//! A consumed operation compiled into everything needed to build its upstream request.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use http::header::{HeaderName, HeaderValue};
use naftiko_spec::template::Template;
use naftiko_upstream::{CallOptions, Upstream, UpstreamRequest};
use serde_json::Value;

use crate::error::InvokeError;
use crate::origin::{Origin, UrlError, split_url};
use crate::secret::{Binds, Secret};
use crate::values::{Values, render_text, value_text};

mod encode;

use encode::{push_cookie, push_query, push_segment};

/// Where a consumed parameter goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A `{name}` path variable.
    Path,
    /// A query parameter (arrays as repeated keys).
    Query,
    /// A header.
    Header(HeaderName),
    /// A `Cookie: name=value` pair.
    Cookie,
    /// The JSON request body (an object/array value is the whole body).
    Body,
    /// Only feeds templates.
    Environment,
}

/// A consumed parameter's declared type, used to coerce text inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `string` or undeclared.
    String,
    /// `integer`.
    Integer,
    /// `number`.
    Number,
    /// `boolean`.
    Boolean,
    /// `array`.
    Array,
    /// `object`.
    Object,
}

impl ParamType {
    pub(crate) fn parse(s: Option<&str>) -> Self {
        match s {
            Some("integer") => Self::Integer,
            Some("number") => Self::Number,
            Some("boolean") => Self::Boolean,
            Some("array") => Self::Array,
            Some("object") => Self::Object,
            _ => Self::String,
        }
    }

    /// The JSON Schema type name.
    pub fn json_type(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Array => "array",
            Self::Object => "object",
        }
    }
}

/// A consumed input parameter.
#[derive(Debug, Clone)]
pub struct ParamPlan {
    /// Name.
    pub name: String,
    /// Placement.
    pub placement: Placement,
    /// Declared type.
    pub ty: ParamType,
    /// Declared item type for arrays.
    pub items: Option<ParamType>,
    /// `required: true`.
    pub required: bool,
    /// Description (for derived MCP schemas).
    pub description: Option<String>,
    /// A constant or template value that overrides inputs.
    pub value: Option<ValueSource>,
}

/// A value fixed in the capability file.
#[derive(Debug, Clone)]
pub enum ValueSource {
    /// A non-string constant, or a string without templates.
    Literal(Value),
    /// A string with `{{...}}` placeholders.
    Template(Template),
}

/// How the request body is built.
#[derive(Debug, Clone)]
pub enum BodyPlan {
    /// A text template with its media type.
    Text {
        /// The template.
        template: Template,
        /// `Content-Type`.
        content_type: &'static str,
    },
    /// JSON data whose strings may hold templates (a lone `"{{x}}"` keeps x's JSON type).
    Json(Value),
    /// Form-urlencoded fields.
    Form(Value),
    /// `multipart/form-data` fields, one part each.
    Multipart(Value),
}

/// How requests authenticate. Values resolved from binds at compile time are secrets.
#[derive(Debug, Clone)]
pub enum AuthPlan {
    /// A header (apikey in header, bearer, basic).
    Header(HeaderName, AuthValue),
    /// A query parameter (apikey in query).
    Query(String, AuthValue),
    /// A cookie (apikey in cookie).
    Cookie(String, AuthValue),
}

/// An authentication value: fixed (from binds) or rendered per request.
#[derive(Debug, Clone)]
pub enum AuthValue {
    /// Resolved at compile time.
    Fixed(Secret),
    /// Resolved at compile time into a header value marked sensitive (cloning is cheap).
    FixedHeader(HeaderValue),
    /// Rendered from request inputs; `prefix` is e.g. `Bearer `.
    Template {
        /// Text before the rendered value.
        prefix: &'static str,
        /// The template.
        template: Template,
    },
}

/// Path of a consumed resource, split at its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    /// Literal text, copied as is (made safe for a request line when compiled).
    Lit(String),
    /// A variable, percent-encoded as one segment.
    Var(String),
}

/// A consumed operation, ready to build requests.
pub struct OperationPlan {
    /// `namespace.operation`.
    pub id: String,
    /// Consumes namespace.
    pub namespace: String,
    /// HTTP method.
    pub method: Method,
    /// Base URI without a trailing slash.
    pub base: String,
    /// `base` split, when it is an absolute URI (see [`Origin`]).
    pub(crate) origin: Option<Origin>,
    /// Resource path.
    pub path: Vec<PathSeg>,
    /// Consumes-level then operation-level parameters.
    pub params: Vec<ParamPlan>,
    /// Body template.
    pub body: Option<BodyPlan>,
    /// Authentication.
    pub auth: Option<AuthPlan>,
    /// Whether the answer is JSON (`outputRawFormat: json` or absent).
    pub json_output: bool,
    /// Where requests go.
    pub upstream: Arc<dyn Upstream>,
    /// Timeout and body limit.
    pub call: CallOptions,
}

impl std::fmt::Debug for OperationPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperationPlan")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl OperationPlan {
    /// The parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&ParamPlan> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Builds the upstream request from resolved input values.
    pub(crate) fn build_request(
        &self,
        values: &Values,
        binds: &Binds,
    ) -> Result<UpstreamRequest, InvokeError> {
        let mut url = String::with_capacity(self.base.len() + 64);
        url.push_str(self.origin.as_ref().map_or(&self.base, Origin::prefix));
        for seg in &self.path {
            match seg {
                PathSeg::Lit(l) => url.push_str(l),
                PathSeg::Var(name) => {
                    let v = values
                        .get_ci(name)
                        .ok_or_else(|| InvokeError::MissingInput {
                            name: values.caller_name(name),
                        })?;
                    let text = value_text(v);
                    if text.is_empty() {
                        return Err(InvokeError::MissingInput {
                            name: values.caller_name(name),
                        });
                    }
                    push_segment(&mut url, &text);
                }
            }
        }
        // Filled in place: `http::request::Builder` moves the whole request through a
        // `Result` at every step, which showed up in per-request profiles.
        let mut headers = Vec::new();
        let mut query_started = false;
        let mut cookies = String::new();
        let mut body_fields: Vec<(&str, Cow<'_, Value>)> = Vec::new();
        for p in &self.params {
            let Some(v) = self.param_value(p, values, binds)? else {
                if p.required && p.placement != Placement::Body {
                    return Err(InvokeError::MissingInput {
                        name: values.caller_name(&p.name),
                    });
                }
                continue;
            };
            match &p.placement {
                Placement::Path | Placement::Environment => {}
                Placement::Query => push_query(&mut url, &mut query_started, &p.name, &v),
                Placement::Header(h) => {
                    let hv = HeaderValue::from_str(&value_text(&v)).map_err(|_| {
                        InvokeError::BadInput {
                            name: values.caller_name(&p.name),
                            reason: "not a valid HTTP header value".into(),
                        }
                    })?;
                    headers.push((h.clone(), hv));
                }
                Placement::Cookie => push_cookie(&mut cookies, &p.name, &value_text(&v)),
                Placement::Body => body_fields.push((&p.name, v)),
            }
        }
        let (body, content_type) = self.body_bytes(body_fields, values, binds)?;
        if let Some(auth) = &self.auth {
            apply_auth(
                &mut headers,
                auth,
                &mut url,
                &mut query_started,
                &mut cookies,
                values,
                binds,
            )?;
        }
        if !cookies.is_empty() {
            let cookie = HeaderValue::try_from(cookies).map_err(|_| InvokeError::BadInput {
                name: "cookie".into(),
                reason: "not a valid HTTP header value".into(),
            })?;
            headers.push((http::header::COOKIE, cookie));
        }
        // A Content-Type the operation declares as a header parameter wins over the
        // body's default.
        let declared = |name| headers.iter().any(|(k, _)| *k == name);
        if let Some(ct) = content_type.filter(|_| !declared(http::header::CONTENT_TYPE)) {
            let ct = HeaderValue::from_str(ct).map_err(|_| InvokeError::Internal {
                reason: "body content type is not a valid header value".into(),
            })?;
            headers.push((http::header::CONTENT_TYPE, ct));
        }
        // The target is sent as built: the prefix comes from a parsed URI, literal path
        // text was made safe when compiled, values are percent-encoded.
        let (origin, target) = match &self.origin {
            Some(origin) if url.starts_with('/') => (origin.origin().clone(), url),
            // No path, or one without its `/` after a bare authority: the URL as written.
            Some(_) => self.split(&format!("{}{url}", self.base))?,
            None => self.split(&url)?,
        };
        Ok(UpstreamRequest {
            method: self.method.clone(),
            origin,
            target,
            headers,
            body,
        })
    }

    /// The origin and target of a whole URL (a base [`Origin`] could not split).
    fn split(&self, url: &str) -> Result<(naftiko_upstream::Origin, String), InvokeError> {
        split_url(url).map_err(|e| match e {
            UrlError::NotAUri(reason) => InvokeError::BadInput {
                name: "request".into(),
                reason: format!("cannot build the upstream URL: {reason}"),
            },
            UrlError::Refused(source) => InvokeError::Upstream {
                namespace: self.namespace.clone(),
                source,
            },
        })
    }

    /// A parameter's value, borrowed from the inputs when it is one (a body is not cloned).
    fn param_value<'a>(
        &self,
        p: &'a ParamPlan,
        values: &'a Values,
        binds: &Binds,
    ) -> Result<Option<Cow<'a, Value>>, InvokeError> {
        match &p.value {
            Some(ValueSource::Literal(v)) => Ok(Some(Cow::Borrowed(v))),
            Some(ValueSource::Template(t)) => match render_text(t, values, binds) {
                Ok(s) => Ok(Some(Cow::Owned(Value::String(s)))),
                // An optional parameter whose template lacks a value is omitted.
                Err(_) if !p.required => Ok(None),
                Err(name) => Err(InvokeError::MissingInput { name }),
            },
            None => Ok(values.get(&p.name).map(Cow::Borrowed)),
        }
    }

    fn body_bytes(
        &self,
        fields: Vec<(&str, Cow<'_, Value>)>,
        values: &Values,
        binds: &Binds,
    ) -> Result<(Bytes, Option<&'static str>), InvokeError> {
        if let Some(plan) = &self.body {
            return crate::body::render(plan, values, binds);
        }
        if let [(name, _)] = fields.as_slice()
            && let Some(raw) = values.raw(name)
        {
            return Ok((raw.clone(), Some("application/json")));
        }
        match fields.len() {
            0 => Ok((Bytes::new(), None)),
            // One whole-body parameter (`body: rest.body`) or one object/array value is the body.
            1 if fields[0].0 == "body" || fields[0].1.is_object() || fields[0].1.is_array() => {
                let bytes =
                    serde_json::to_vec(&fields[0].1).map_err(|e| InvokeError::Internal {
                        reason: e.to_string(),
                    })?;
                Ok((Bytes::from(bytes), Some("application/json")))
            }
            _ => {
                // Same key order as serde_json::Map (sorted), without owning the values.
                let obj: std::collections::BTreeMap<&str, &Value> =
                    fields.iter().map(|(k, v)| (*k, v.as_ref())).collect();
                let bytes = serde_json::to_vec(&obj).map_err(|e| InvokeError::Internal {
                    reason: e.to_string(),
                })?;
                Ok((Bytes::from(bytes), Some("application/json")))
            }
        }
    }
}

fn apply_auth(
    headers: &mut Vec<(http::HeaderName, HeaderValue)>,
    auth: &AuthPlan,
    url: &mut String,
    query_started: &mut bool,
    cookies: &mut String,
    values: &Values,
    binds: &Binds,
) -> Result<(), InvokeError> {
    let text = |v: &AuthValue| -> Result<String, InvokeError> {
        match v {
            AuthValue::Fixed(s) => Ok(s.expose().to_string()),
            AuthValue::FixedHeader(h) => Ok(h.to_str().unwrap_or_default().to_string()),
            AuthValue::Template { prefix, template } => render_text(template, values, binds)
                .map(|s| format!("{prefix}{s}"))
                .map_err(|name| InvokeError::MissingInput { name }),
        }
    };
    match auth {
        AuthPlan::Header(name, AuthValue::FixedHeader(hv)) => {
            headers.push((name.clone(), hv.clone()));
        }
        AuthPlan::Header(name, v) => {
            let mut hv = HeaderValue::from_str(&text(v)?).map_err(|_| InvokeError::Internal {
                reason: "authentication value is not a valid header value".into(),
            })?;
            hv.set_sensitive(true);
            headers.push((name.clone(), hv));
        }
        AuthPlan::Query(name, v) => {
            push_query(url, query_started, name, &Value::String(text(v)?));
        }
        AuthPlan::Cookie(name, v) => {
            push_cookie(cookies, name, &text(v)?);
        }
    }
    Ok(())
}
