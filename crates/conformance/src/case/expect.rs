//! What a case expects: of each step (the upstream requests, the REST response, the MCP
//! result or error, stdio), and of the case as a whole (a runtime that refuses to load).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::present;

/// What one step must produce.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepExpect {
    /// Requests the upstream saw during the step (`none` = not called).
    #[serde(default)]
    pub upstream: Option<UpstreamExpect>,
    /// The HTTP response.
    #[serde(default)]
    pub response: Option<ResponseExpect>,
    /// The JSON-RPC `result`.
    #[serde(default)]
    pub result: Option<ResultExpect>,
    /// The JSON-RPC `error`.
    #[serde(default)]
    pub error: Option<RpcErrorExpect>,
    /// The stdio answer.
    #[serde(default)]
    pub stdio: Option<StdioExpect>,
}

/// Upstream expectation: `none`, or the requests in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum UpstreamExpect {
    /// The keyword `none`.
    Keyword(String),
    /// The requests, in order.
    Requests(Vec<UpstreamRequestExpect>),
}

/// One string or several (query values).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One value.
    One(Scalar),
    /// Several values.
    Many(Vec<Scalar>),
}

/// A scalar that is compared as text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// Text.
    Str(String),
    /// A number, compared in its shortest text form.
    Num(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

impl Scalar {
    /// The text form.
    pub fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Num(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

impl OneOrMany {
    /// Every value as text.
    pub fn values(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.text()],
            OneOrMany::Many(v) => v.iter().map(Scalar::text).collect(),
        }
    }
}

/// One upstream request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamRequestExpect {
    /// Method.
    #[serde(default)]
    pub method: Option<String>,
    /// Raw path (still percent-encoded), without the query.
    #[serde(default)]
    pub path: Option<String>,
    /// The exact multiset of decoded query pairs.
    #[serde(default)]
    pub query: Option<BTreeMap<String, OneOrMany>>,
    /// Decoded query pairs that must be present (others allowed).
    #[serde(default)]
    pub query_includes: BTreeMap<String, OneOrMany>,
    /// Query names that must not be present.
    #[serde(default)]
    pub query_excludes: Vec<String>,
    /// Required header values (exact).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Required header values (regex).
    #[serde(default)]
    pub headers_match: BTreeMap<String, String>,
    /// Headers that must not be sent.
    #[serde(default)]
    pub headers_absent: Vec<String>,
    /// The body as JSON (equality).
    #[serde(default, deserialize_with = "present")]
    pub body: Option<Value>,
    /// The body bytes as text (equality).
    #[serde(default)]
    pub body_text: Option<String>,
    /// The body must be empty.
    #[serde(default)]
    pub body_empty: Option<bool>,
    /// Substrings the body must contain.
    #[serde(default)]
    pub body_contains: Vec<String>,
}

/// An HTTP response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseExpect {
    /// Status code, or the list of acceptable codes.
    #[serde(default)]
    pub status: Option<StatusExpect>,
    /// Required header values (exact).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Required header values (regex).
    #[serde(default)]
    pub headers_match: BTreeMap<String, String>,
    /// Headers that must be absent.
    #[serde(default)]
    pub headers_absent: Vec<String>,
    /// The body as JSON (equality).
    #[serde(default, deserialize_with = "present")]
    pub body: Option<Value>,
    /// The body as text (equality).
    #[serde(default)]
    pub body_text: Option<String>,
    /// The body must be empty.
    #[serde(default)]
    pub body_empty: Option<bool>,
    /// Substrings the body must contain.
    #[serde(default)]
    pub body_contains: Vec<String>,
    /// Substrings the body must not contain.
    #[serde(default)]
    pub body_excludes: Vec<String>,
    /// JSONPath assertions on the JSON body.
    #[serde(default)]
    pub json: Vec<JsonAssert>,
}

/// One status code or several acceptable ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StatusExpect {
    /// Exactly this code.
    One(u16),
    /// Any of these codes.
    Any(Vec<u16>),
}

impl StatusExpect {
    /// Is `status` acceptable?
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            StatusExpect::One(s) => *s == status,
            StatusExpect::Any(v) => v.contains(&status),
        }
    }

    /// The expectation as text.
    pub fn describe(&self) -> String {
        match self {
            StatusExpect::One(s) => s.to_string(),
            StatusExpect::Any(v) => format!(
                "one of {}",
                v.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// A JSONPath assertion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonAssert {
    /// RFC 9535 JSONPath (`$.` means the root).
    pub path: String,
    /// The single selected value must equal this.
    #[serde(default, deserialize_with = "present")]
    pub equals: Option<Value>,
    /// Whether the path selects anything.
    #[serde(default)]
    pub exists: Option<bool>,
    /// The selected string must match this regex.
    #[serde(default)]
    pub matches: Option<String>,
    /// The selected array/string/object has this length.
    #[serde(default)]
    pub length: Option<usize>,
    /// The selected value's JSON type (`object`, `array`, `string`, `number`, `boolean`, `null`).
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
}

/// A JSON-RPC `result` (usually of `tools/call`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultExpect {
    /// `isError` (absent counts as false).
    #[serde(default, rename = "isError")]
    pub is_error: Option<bool>,
    /// `content[0].text` parsed as JSON equals this.
    #[serde(default, deserialize_with = "present")]
    pub text_json: Option<Value>,
    /// `content[*].text` joined contains each of these.
    #[serde(default)]
    pub text_contains: Vec<String>,
    /// `content[*].text` joined contains none of these.
    #[serde(default)]
    pub text_excludes: Vec<String>,
    /// `structuredContent` equals this.
    #[serde(default, rename = "structuredContent", deserialize_with = "present")]
    pub structured_content: Option<Value>,
    /// JSONPath assertions on the result object.
    #[serde(default)]
    pub json: Vec<JsonAssert>,
}

/// A JSON-RPC `error`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcErrorExpect {
    /// Error code.
    #[serde(default)]
    pub code: Option<i64>,
    /// Regex on `message`.
    #[serde(default)]
    pub message_matches: Option<String>,
}

/// What a stdio step must print.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdioExpect {
    /// No line within this many milliseconds.
    #[serde(default)]
    pub silent_ms: Option<u64>,
    /// JSONPath assertions on the JSON line printed.
    #[serde(default)]
    pub json: Vec<JsonAssert>,
}

/// Case-level expectations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseExpect {
    /// The runtime must refuse to load the capability.
    #[serde(default)]
    pub load_fails: Option<LoadFails>,
    /// Strings that must not appear in the runtime's stdout/stderr.
    #[serde(default)]
    pub logs_exclude: Vec<String>,
}

/// "The runtime refuses to load".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadFails {
    /// Regex the captured stderr+stdout must match.
    #[serde(default)]
    pub message_matches: Option<String>,
}
