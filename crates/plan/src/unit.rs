//! What a REST operation or MCP tool does when called: resolve inputs, call, shape.

use std::sync::Arc;

use naftiko_jsonpath::Mapping;
use naftiko_spec::template::Template;
use serde_json::Value;

use crate::args::{ArgValue, Args};
use crate::error::InvokeError;
use crate::operation::{OperationPlan, ParamType, Placement};
use crate::output::{Answer, AnswerBody, OutputPlan};
use crate::secret::Binds;
use crate::values::{Values, lookup, render_text};

/// Where a `with` value (or a declared input) comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `rest.X` / `tools.X` / `<namespace>.X`: the caller's input `X`.
    Arg(String),
    /// `rest.body` / `tools.body`: the whole request body.
    Body,
    /// A top-level field of the JSON body, else the whole body (declared `in: body` inputs).
    BodyField(String),
    /// A JSONPath into the request body (declared REST inputs with `value: $.user.id`).
    BodyPath(Mapping),
    /// A `{{template}}`; a lone placeholder keeps its value's JSON type.
    Template(Template),
    /// A constant.
    Literal(Value),
}

/// A named value fed to the call (`with` entry or declared input).
#[derive(Debug, Clone)]
pub struct Binding {
    /// The name the consumed operation sees.
    pub key: String,
    /// Where the value comes from.
    pub source: Source,
    /// Whether an absent value is the caller's fault (declared `required: true`).
    pub required: bool,
}

/// A call into a consumed operation.
#[derive(Debug, Clone)]
pub struct CallPlan {
    /// The operation.
    pub operation: Arc<OperationPlan>,
    /// Declared inputs first, then `with` entries (later ones override).
    pub bindings: Vec<Binding>,
    /// Every consumed parameter is also taken from the caller's input of the same name
    /// (MCP tools that declare neither inputs nor `with`).
    pub open: bool,
}

/// A REST operation or MCP tool, compiled.
#[derive(Debug, Clone)]
pub struct UnitPlan {
    /// `namespace.operation` or a descriptive name, for errors and logs.
    pub name: String,
    /// The upstream call; `None` for constant (mock) units.
    pub call: Option<CallPlan>,
    /// Output shaping.
    pub output: OutputPlan,
    /// Names of constant outputs (`value` when unnamed), for mock answers.
    pub(crate) mock_names: Vec<Option<String>>,
    /// What the unit needs that this runtime does not do yet (steps, refs).
    pub(crate) unsupported: Option<&'static str>,
    /// Binds, for templates.
    pub(crate) binds: Arc<Binds>,
}

impl UnitPlan {
    /// Runs the unit: resolves inputs, calls the upstream, shapes the answer.
    pub async fn invoke(&self, args: &dyn Args) -> Result<Answer, InvokeError> {
        if let Some(what) = self.unsupported {
            return Err(InvokeError::Unsupported { what });
        }
        let Some(call) = &self.call else {
            return self.mock(args);
        };
        let op = &call.operation;
        let values = self.values(call, args)?;
        let req = op.build_request(&values, &self.binds)?;
        let resp =
            op.upstream
                .send(req, &op.call)
                .await
                .map_err(|source| InvokeError::Upstream {
                    namespace: op.namespace.clone(),
                    source,
                })?;
        if !op.json_output {
            return OutputPlan::Raw.shape(&op.id, resp, &values, &self.binds);
        }
        self.output.shape(&op.id, resp, &values, &self.binds)
    }

    fn values<'p>(&self, call: &'p CallPlan, args: &dyn Args) -> Result<Values<'p>, InvokeError> {
        let op = &call.operation;
        let mut values = Values::with_capacity(call.bindings.len());
        if call.open {
            for p in &op.params {
                if let Some(a) = args.get(&p.name) {
                    values.set(p.name.as_str(), coerce(a, p.ty, &p.name)?, p.name.as_str());
                }
            }
        }
        for b in &call.bindings {
            let param = op.param(&b.key);
            let ty = param.map_or(ParamType::String, |p| p.ty);
            let caller = match &b.source {
                Source::Arg(x) => x.as_str(),
                _ => b.key.as_str(),
            };
            let v = match &b.source {
                // A declared input computed above (e.g. a body field) wins over the raw request.
                Source::Arg(x) => match values.get(x) {
                    Some(v) => Some(v.clone()),
                    None => {
                        // An object/array argument that is the whole body goes as sent.
                        if self.forwards_raw(op, &b.key)
                            && let Some(raw) = args.raw_json(x)
                        {
                            values.set_raw(&b.key, raw, caller);
                            continue;
                        }
                        args.get(x).map(|a| coerce(a, ty, x)).transpose()?
                    }
                },
                Source::Body if self.forwards_raw(op, &b.key) => match args.raw_body()? {
                    Some(raw) => {
                        values.set_raw(&b.key, raw, caller);
                        continue;
                    }
                    None => args.body()?,
                },
                Source::Body => args.body()?,
                Source::BodyField(x) => match args.body()? {
                    Some(Value::Object(mut o)) if o.contains_key(x.as_str()) => {
                        o.remove(x.as_str())
                    }
                    whole => whole,
                },
                Source::BodyPath(m) => args.body()?.and_then(|body| m.select(&body).to_value()),
                Source::Template(t) => template_value(t, &values, &self.binds),
                Source::Literal(v) => Some(v.clone()),
            };
            match v {
                Some(v) => values.set(b.key.as_str(), v, caller),
                None if b.required || param.is_some_and(|p| p.placement == Placement::Path) => {
                    return Err(InvokeError::MissingInput {
                        name: caller.to_string(),
                    });
                }
                None => {}
            }
        }
        Ok(values)
    }

    /// Whether `key` only ever becomes the whole request body, so raw bytes can go as is.
    fn forwards_raw(&self, op: &OperationPlan, key: &str) -> bool {
        op.body.is_none()
            && op
                .param(key)
                .is_some_and(|p| p.placement == Placement::Body && p.value.is_none())
            && op
                .params
                .iter()
                .filter(|p| p.placement == Placement::Body)
                .count()
                == 1
    }

    fn mock(&self, args: &dyn Args) -> Result<Answer, InvokeError> {
        let mut values = Values::default();
        if let OutputPlan::Mapped(nodes) = &self.output {
            let doc = Value::Null;
            // Mock templates see the caller's inputs by name.
            let names: Vec<String> = nodes.iter().flat_map(const_vars).collect();
            for n in names {
                if let Some(a) = args.get(&n) {
                    let v = coerce(a, ParamType::String, &n)?;
                    values.set(n.clone(), v, n);
                }
            }
            let mut obj = serde_json::Map::new();
            for (i, n) in nodes.iter().enumerate() {
                let v = n.eval(&doc, &values, &self.binds);
                if !v.is_null() {
                    obj.insert(self.mock_name(i), v);
                }
            }
            if !obj.is_empty() {
                return Ok(Answer {
                    status: http::StatusCode::OK,
                    headers: http::HeaderMap::new(),
                    body: AnswerBody::Json(Value::Object(obj)),
                });
            }
        }
        Ok(Answer {
            status: http::StatusCode::NO_CONTENT,
            headers: http::HeaderMap::new(),
            body: AnswerBody::Empty,
        })
    }

    fn mock_name(&self, i: usize) -> String {
        self.mock_names
            .get(i)
            .cloned()
            .flatten()
            .unwrap_or_else(|| "value".into())
    }
}

fn const_vars(n: &crate::output::OutputNode) -> Vec<String> {
    match n {
        crate::output::OutputNode::Const(crate::operation::ValueSource::Template(t)) => {
            t.vars().map(|v| v.head().to_string()).collect()
        }
        _ => Vec::new(),
    }
}

fn template_value(t: &Template, values: &Values, binds: &Binds) -> Option<Value> {
    match t.as_single_var() {
        Some(v) => lookup(v, values, binds),
        None => render_text(t, values, binds).ok().map(Value::String),
    }
}

/// Turns a caller's value into the consumed parameter's type; text from URLs is parsed.
pub(crate) fn coerce(a: ArgValue, ty: ParamType, name: &str) -> Result<Value, InvokeError> {
    let texts = match a {
        ArgValue::Json(v) => return Ok(v),
        ArgValue::Text(t) => t,
        ArgValue::One(first) if ty != ParamType::Array => return coerce_text(first, ty, name),
        ArgValue::One(only) => vec![only],
    };
    if ty == ParamType::Array {
        return Ok(Value::Array(texts.into_iter().map(Value::String).collect()));
    }
    match texts.into_iter().next() {
        Some(first) => coerce_text(first, ty, name),
        None => Ok(Value::Null),
    }
}

/// The first (or only) text of a caller's value as the parameter's scalar type.
fn coerce_text(first: String, ty: ParamType, name: &str) -> Result<Value, InvokeError> {
    let bad = |reason: &str| InvokeError::BadInput {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    Ok(match ty {
        ParamType::Integer => first
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| bad(&format!("'{first}' is not an integer")))?,
        ParamType::Number => {
            let n: f64 = first
                .trim()
                .parse()
                .map_err(|_| bad(&format!("'{first}' is not a number")))?;
            serde_json::Number::from_f64(n)
                .map(Value::Number)
                .ok_or_else(|| bad("not a finite number"))?
        }
        ParamType::Boolean => match first.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad(&format!("'{first}' is not a boolean (true or false)"))),
        },
        ParamType::Object => serde_json::from_str(&first).map_err(|_| bad("not a JSON object"))?,
        ParamType::String | ParamType::Array => Value::String(first),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_text_coerces_like_a_list_of_one() {
        for ty in [
            ParamType::String,
            ParamType::Integer,
            ParamType::Number,
            ParamType::Boolean,
            ParamType::Array,
            ParamType::Object,
        ] {
            for text in ["7", "true", "x", "{\"a\":1}", " 2.5 "] {
                let one = coerce(ArgValue::One(text.into()), ty, "p").map_err(|e| e.to_string());
                let list =
                    coerce(ArgValue::Text(vec![text.into()]), ty, "p").map_err(|e| e.to_string());
                assert_eq!(one, list, "{ty:?} {text:?}");
            }
        }
        assert_eq!(
            coerce(ArgValue::One("7".into()), ParamType::Integer, "p").ok(),
            Some(Value::from(7))
        );
    }
}
