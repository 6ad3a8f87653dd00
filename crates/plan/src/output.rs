//! Output mappings (`outputParameters`) and the shaped answer they produce.

use bytes::Bytes;
use http::StatusCode;
use http::header::{HeaderMap, HeaderValue};
use naftiko_jsonpath::{Mapping, Selected};
use naftiko_upstream::UpstreamResponse;
use serde_json::Value;

use crate::error::InvokeError;
use crate::operation::ValueSource;
use crate::secret::Binds;
use crate::values::{Values, render_text};

/// What to do with an upstream answer.
#[derive(Debug, Clone)]
pub enum OutputPlan {
    /// No outputs: the upstream body and content type as they are.
    Raw,
    /// `$.` with no shape: the upstream JSON unchanged, passed through as bytes.
    RootJson,
    /// Mappings tried in order; the first non-null result is the answer.
    Mapped(Vec<OutputNode>),
}

/// One compiled output parameter.
#[derive(Debug, Clone)]
pub enum OutputNode {
    /// A constant (`value:`), templates rendered against the inputs.
    Const(ValueSource),
    /// A JSONPath value, strings optionally truncated.
    Path {
        /// The path.
        mapping: Mapping,
        /// `maxLength`.
        max_length: Option<usize>,
    },
    /// An object built from named properties.
    Object(Vec<(String, OutputNode)>),
    /// An array, each element shaped by `items` relative to itself.
    Array {
        /// Where the array is.
        mapping: Mapping,
        /// Element shape.
        items: Option<Box<OutputNode>>,
    },
    /// A map whose values are shaped by `values`.
    Values {
        /// Where the object is.
        mapping: Mapping,
        /// Value shape.
        values: Box<OutputNode>,
    },
}

/// The body of an [`Answer`].
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerBody {
    /// No body (204, 304, empty upstream body).
    Empty,
    /// Bytes passed through with their content type.
    Bytes {
        /// The bytes.
        bytes: Bytes,
        /// Their `Content-Type`.
        content_type: Option<HeaderValue>,
    },
    /// A mapped JSON value.
    Json(Value),
}

/// What an invocation answers: status, allow-listed upstream headers and a body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The upstream status.
    pub status: StatusCode,
    /// Upstream headers from the allow-list (Location, ETag, Link, Retry-After, ...).
    pub headers: HeaderMap,
    /// The body.
    pub body: AnswerBody,
}

impl Answer {
    /// The body as a JSON value when it is JSON (parsing passthrough bytes).
    pub fn json(&self) -> Option<Value> {
        match &self.body {
            AnswerBody::Json(v) => Some(v.clone()),
            AnswerBody::Bytes { bytes, .. } => serde_json::from_slice(bytes).ok(),
            AnswerBody::Empty => None,
        }
    }
}

/// Upstream response headers passed on to callers.
const ALLOWED_HEADERS: [&[u8]; 7] = [
    b"location",
    b"retry-after",
    b"etag",
    b"link",
    b"cache-control",
    b"last-modified",
    b"expires",
];

/// Prefixes of upstream response headers passed on to callers (rate limits).
const ALLOWED_PREFIXES: [&[u8]; 2] = [b"x-ratelimit-", b"ratelimit"];

/// Whether an upstream response field named `name` (as sent, any case) is passed on.
fn allowed_header(name: &[u8]) -> bool {
    ALLOWED_HEADERS
        .iter()
        .any(|a| a.len() == name.len() && a.eq_ignore_ascii_case(name))
        || ALLOWED_PREFIXES.iter().any(|p| {
            name.get(..p.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(p))
        })
}

/// A cheap shape check for bodies labelled JSON (a full parse costs ~20% of a proxied
/// GET): an object or array must close with its own bracket, which catches truncated and
/// HTML bodies; anything else goes through the full parse.
fn looks_whole(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii();
    matches!(
        (trimmed.first(), trimmed.last()),
        (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
    )
}

fn is_json_type(ct: Option<&HeaderValue>) -> bool {
    ct.is_some_and(|v| is_json_media_type(v.as_bytes()))
}

/// Whether a `Content-Type` value names JSON: `application/json` or any `+json` type,
/// parameters ignored, case-insensitive. Read as bytes: this runs on every request and
/// answer that carries a body.
pub fn is_json_media_type(content_type: &[u8]) -> bool {
    let essence = content_type
        .split(|&c| c == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    essence.eq_ignore_ascii_case(b"application/json")
        || essence
            .len()
            .checked_sub(5)
            .is_some_and(|at| essence[at..].eq_ignore_ascii_case(b"+json"))
}

impl OutputPlan {
    /// Shapes an upstream response.
    pub(crate) fn shape(
        &self,
        operation: &str,
        resp: UpstreamResponse,
        values: &Values,
        binds: &Binds,
    ) -> Result<Answer, InvokeError> {
        let status = resp.status();
        let mut headers = HeaderMap::new();
        for field in resp.fields().iter() {
            if allowed_header(field.name())
                && let (Some(k), Some(v)) = (field.header_name(), field.header_value())
            {
                headers.append(k, v);
            }
        }
        let ct = resp
            .fields()
            .get("content-type")
            .and_then(|f| f.header_value());
        let bytes = resp.into_body();
        if status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
            || bytes.is_empty()
        {
            return Ok(Answer {
                status,
                headers,
                body: AnswerBody::Empty,
            });
        }
        let bad_body = || InvokeError::BadUpstreamBody {
            operation: operation.to_string(),
            status: status.as_u16(),
            content_type: ct
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .unwrap_or("untyped")
                .to_string(),
        };
        let json_bytes = |bytes: Bytes| -> Result<AnswerBody, InvokeError> {
            // Checked even when labelled JSON: a truncated or lying upstream must not pass.
            let labelled = is_json_type(ct.as_ref());
            if (labelled && looks_whole(&bytes)) || crate::jsontext::is_json(&bytes) {
                let content_type = Some(
                    ct.clone()
                        .filter(|_| labelled)
                        .unwrap_or(HeaderValue::from_static("application/json")),
                );
                Ok(AnswerBody::Bytes {
                    bytes,
                    content_type,
                })
            } else {
                Err(bad_body())
            }
        };
        let body = match self {
            Self::Raw => AnswerBody::Bytes {
                bytes,
                content_type: ct.clone(),
            },
            // A caller error's body (403 text/plain, ...) is the upstream talking to the
            // caller: forwarded unmapped whatever its type.
            Self::RootJson | Self::Mapped(_)
                if status.is_client_error() && !crate::jsontext::is_json(&bytes) =>
            {
                AnswerBody::Bytes {
                    bytes,
                    content_type: ct.clone(),
                }
            }
            // An error answer's JSON is passed through unmapped: a success-shaped mapping would hide it.
            Self::RootJson => json_bytes(bytes)?,
            Self::Mapped(_) if status.as_u16() >= 400 => json_bytes(bytes)?,
            Self::Mapped(nodes) => {
                let doc: Value = serde_json::from_slice(&bytes).map_err(|_| bad_body())?;
                match nodes
                    .iter()
                    .map(|n| n.eval(&doc, values, binds))
                    .find(|v| !v.is_null())
                {
                    Some(v) => AnswerBody::Json(v),
                    None => AnswerBody::Bytes {
                        bytes,
                        content_type: ct.clone(),
                    },
                }
            }
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

impl OutputNode {
    /// Evaluates against `ctx` (the document, or an array element).
    pub(crate) fn eval(&self, ctx: &Value, values: &Values, binds: &Binds) -> Value {
        match self {
            Self::Const(ValueSource::Literal(v)) => v.clone(),
            Self::Const(ValueSource::Template(t)) => {
                render_text(t, values, binds).map_or(Value::Null, Value::String)
            }
            Self::Path {
                mapping,
                max_length,
            } => {
                let v = mapping.select(ctx).to_value().unwrap_or(Value::Null);
                match (v, max_length) {
                    (Value::String(s), Some(n)) => Value::String(s.chars().take(*n).collect()),
                    (v, _) => v,
                }
            }
            Self::Object(props) => Value::Object(
                props
                    .iter()
                    .map(|(k, n)| (k.clone(), n.eval(ctx, values, binds)))
                    .collect(),
            ),
            // Shape the selected elements where they are: cloning the whole array (or
            // object) first doubled the work on large bodies.
            Self::Array { mapping, items } => match (mapping.select(ctx), items) {
                (Selected::One(Value::Array(elems)), Some(shape)) => {
                    Value::Array(elems.iter().map(|e| shape.eval(e, values, binds)).collect())
                }
                (Selected::One(v @ Value::Array(_)), None) => v.clone(),
                (Selected::Many(nodes), Some(shape)) => {
                    Value::Array(nodes.iter().map(|e| shape.eval(e, values, binds)).collect())
                }
                (Selected::Many(nodes), None) => Value::Array(nodes.into_iter().cloned().collect()),
                _ => Value::Null,
            },
            Self::Values {
                mapping,
                values: shape,
            } => match mapping.select(ctx) {
                Selected::One(Value::Object(o)) => Value::Object(
                    o.iter()
                        .map(|(k, v)| (k.clone(), shape.eval(v, values, binds)))
                        .collect(),
                ),
                _ => Value::Null,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        let is = |v: &[u8]| is_json_type(Some(&HeaderValue::from_bytes(v).unwrap()));
        for yes in [
            &b"application/json"[..],
            b"Application/JSON; charset=utf-8",
            b" application/json ;q=1",
            b"application/problem+json",
            b"application/vnd.api+JSON",
            // Only the suffix counts (the body is checked in any case).
            b"application/\xff+json",
        ] {
            assert!(is(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"text/html"[..],
            b"application/jsonx",
            b"json",
            b"+jso",
            b"text/plain; x=application/json",
        ] {
            assert!(!is(no), "{}", String::from_utf8_lossy(no));
        }
        assert!(!is_json_type(None));
    }

    #[test]
    fn allow_listed_fields_pass_in_any_case_others_do_not() {
        let pairs: [(&[u8], &[u8]); 7] = [
            (b"Content-Type", b"application/json"),
            (b"ETag", b"\"v1\""),
            (b"X-RateLimit-Remaining", b"9"),
            (b"RateLimit-Policy", b"10;w=1"),
            (b"Set-Cookie", b"upstream=secret"),
            (b"Retry-After", b"3"),
            (b"X-Rate", b"no"),
        ];
        let resp = UpstreamResponse::new(StatusCode::OK, Bytes::from_static(b"{}"))
            .with_fields(naftiko_upstream::Fields::from_pairs(pairs));
        let answer = OutputPlan::RootJson
            .shape("op", resp, &Values::with_capacity(0), &Binds::default())
            .unwrap();
        let names: Vec<_> = answer.headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "etag",
                "x-ratelimit-remaining",
                "ratelimit-policy",
                "retry-after"
            ]
        );
        assert_eq!(answer.headers["etag"], "\"v1\"");
        let AnswerBody::Bytes { content_type, .. } = &answer.body else {
            panic!("{:?}", answer.body);
        };
        assert_eq!(content_type.as_ref().unwrap(), "application/json");
    }
}
