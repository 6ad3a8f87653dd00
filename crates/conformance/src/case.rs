//! The case format: one YAML file per behaviour, validated against
//! `conformance/case.schema.json`, then read into these types.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

mod expect;

pub use expect::*;

/// The JSON Schema of a case file (draft 2020-12), as shipped in `conformance/`.
pub const CASE_SCHEMA: &str = include_str!("../../../conformance/case.schema.json");

static VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(CASE_SCHEMA).map_err(|e| e.to_string())?;
    jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())
});

/// Deserializes a present value (including `null`) as `Some(value)`; absent stays `None`
/// through `#[serde(default)]`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// One conformance case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique id (kebab-case).
    pub id: String,
    /// One-line description of the behaviour.
    pub title: String,
    /// Tags: `sem-N`, `seed`, `REC`, `J-test`, `J-code`, `mcp-N`, `unsupported`, …
    #[serde(default)]
    pub tags: Vec<String>,
    /// Longer free-form notes.
    #[serde(default)]
    pub description: Option<String>,
    /// True when our rule differs from the Java reference engine.
    #[serde(default)]
    pub reference_differs: bool,
    /// One line: how and why the reference engine differs.
    #[serde(default)]
    pub reference_note: Option<String>,
    /// Inline capability YAML text.
    #[serde(default)]
    pub capability: Option<String>,
    /// Capability file, relative to the case file.
    #[serde(default)]
    pub capability_file: Option<String>,
    /// Extra files written next to the capability (name → text).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Do not point `baseUri`s at the scripted upstream.
    #[serde(default)]
    pub keep_base_uri: bool,
    /// Environment of the runtime process (bind values).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The scripted upstream.
    #[serde(default)]
    pub upstream: UpstreamSpec,
    /// Whether the runner initializes the MCP session before the first MCP step.
    #[serde(default = "yes")]
    pub mcp_initialize: bool,
    /// What to do, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Case-level expectations.
    #[serde(default)]
    pub expect: CaseExpect,
}

fn yes() -> bool {
    true
}

/// The scripted upstream of a case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSpec {
    /// Point `baseUri` at a closed port instead of a server.
    #[serde(default)]
    pub closed: bool,
    /// Answers, first match wins; unmatched requests get `200` and an echo.
    #[serde(default)]
    pub answers: Vec<AnswerSpec>,
}

/// One scripted upstream answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSpec {
    /// Request method to match, or `*`.
    #[serde(default = "star")]
    pub method: String,
    /// Raw request path to match (without query), or `*`.
    #[serde(default = "star")]
    pub path: String,
    /// Response status.
    #[serde(default = "ok")]
    pub status: u16,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body (sent with `Content-Type: application/json` unless a header says otherwise).
    #[serde(default, deserialize_with = "present")]
    pub body: Option<Value>,
    /// Raw text body (`text/plain` unless a header says otherwise).
    #[serde(default)]
    pub body_text: Option<String>,
    /// Wait this long before answering.
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

fn star() -> String {
    "*".into()
}

fn ok() -> u16 {
    200
}

/// One step: a REST request, an MCP message, a tool call or a stdio line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Optional label for reports.
    #[serde(default)]
    pub name: Option<String>,
    /// A REST request.
    #[serde(default)]
    pub rest: Option<RestRequest>,
    /// A raw MCP (JSON-RPC over Streamable HTTP) exchange.
    #[serde(default)]
    pub mcp: Option<McpStep>,
    /// `tools/call` shorthand.
    #[serde(default)]
    pub tool_call: Option<ToolCall>,
    /// A line written to the runtime's stdin (MCP stdio transport).
    #[serde(default)]
    pub stdio: Option<StdioStep>,
    /// Step timeout in milliseconds (default: the runner's step timeout).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// What must be observed.
    #[serde(default)]
    pub expect: StepExpect,
}

/// An HTTP request to a REST adapter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestRequest {
    /// HTTP method.
    #[serde(default = "get")]
    pub method: String,
    /// Path and query, already percent-encoded.
    pub path: String,
    /// Namespace of the REST adapter (default: the first one).
    #[serde(default)]
    pub adapter: Option<String>,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body.
    #[serde(default, deserialize_with = "present")]
    pub body: Option<Value>,
    /// Raw body text (sent as is).
    #[serde(default)]
    pub body_text: Option<String>,
    /// A JSON body of at least this many bytes (`{"filler":"xxx…"}`).
    #[serde(default)]
    pub body_size: Option<usize>,
}

fn get() -> String {
    "GET".into()
}

/// A raw MCP exchange over Streamable HTTP.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpStep {
    /// The exact JSON body (object or array).
    #[serde(default, deserialize_with = "present")]
    pub message: Option<Value>,
    /// A request: the runner adds `jsonrpc` and a fresh `id`.
    #[serde(default)]
    pub request: Option<RpcCall>,
    /// A notification: the runner adds `jsonrpc`.
    #[serde(default)]
    pub notification: Option<RpcCall>,
    /// A raw body text (e.g. malformed JSON).
    #[serde(default)]
    pub body_text: Option<String>,
    /// HTTP method (default POST).
    #[serde(default)]
    pub http_method: Option<String>,
    /// Endpoint path (default `/mcp`).
    #[serde(default)]
    pub path: Option<String>,
    /// Namespace of the MCP adapter (default: the first HTTP one).
    #[serde(default)]
    pub adapter: Option<String>,
    /// Extra headers; `null` removes a header the runner would send.
    #[serde(default)]
    pub headers: BTreeMap<String, Option<String>>,
    /// `auto` (default: the current session), `none`, or a literal session id.
    #[serde(default)]
    pub session: Option<String>,
}

/// A JSON-RPC method and params.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcCall {
    /// Method name.
    pub method: String,
    /// Params (omitted when absent).
    #[serde(default, deserialize_with = "present")]
    pub params: Option<Value>,
}

/// `tools/call` shorthand.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// Tool name.
    pub name: String,
    /// Arguments (omitted when absent).
    #[serde(default, deserialize_with = "present")]
    pub arguments: Option<Value>,
    /// Namespace of the MCP adapter (default: the first HTTP one).
    #[serde(default)]
    pub adapter: Option<String>,
}

/// A line for the stdio transport.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdioStep {
    /// Raw line (without the newline).
    #[serde(default)]
    pub line: Option<String>,
    /// A JSON message, written as one line.
    #[serde(default, deserialize_with = "present")]
    pub message: Option<Value>,
}

/// A case file as read from disk.
#[derive(Debug, Clone)]
pub struct LoadedCase {
    /// The file.
    pub file: PathBuf,
    /// Directory name under `cases/` (the area).
    pub area: String,
    /// The case, or why it could not be read.
    pub case: Result<Case, String>,
    /// Id used in reports (the file stem when the case is malformed).
    pub id: String,
    /// Tags, when readable.
    pub tags: Vec<String>,
}

/// Validates a parsed case document against the embedded schema; returns every problem.
pub fn schema_errors(doc: &Value) -> Vec<String> {
    match &*VALIDATOR {
        Ok(v) => v
            .iter_errors(doc)
            .map(|e| {
                let at = e.instance_path().as_str();
                let at = if at.is_empty() { "/" } else { at };
                format!("{at}: {e}")
            })
            .collect(),
        Err(e) => vec![format!("case.schema.json does not compile: {e}")],
    }
}

/// Parses YAML text into JSON.
pub fn yaml_to_json(text: &str) -> Result<Value, String> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
}

/// Reads one case file (never fails: a broken file becomes an `Err` case).
pub fn load_case(file: &Path) -> LoadedCase {
    let area = file
        .parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parsed = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))
        .and_then(|t| yaml_to_json(&t).map_err(|e| format!("not valid YAML: {e}")));
    let doc = match parsed {
        Ok(doc) => doc,
        Err(e) => {
            return LoadedCase {
                file: file.to_path_buf(),
                area,
                case: Err(e),
                id: stem,
                tags: Vec::new(),
            };
        }
    };
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .map_or(stem, str::to_owned);
    let tags: Vec<String> = doc
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let errors = schema_errors(&doc);
    let case = if errors.is_empty() {
        serde_json::from_value::<Case>(doc)
            .map_err(|e| format!("malformed case: {e}"))
            .and_then(|c| check_case(&c).map(|()| c))
    } else {
        Err(format!(
            "malformed case (does not match case.schema.json):\n{}",
            errors.join("\n")
        ))
    };
    LoadedCase {
        file: file.to_path_buf(),
        area,
        case,
        id,
        tags,
    }
}

/// Checks what the schema cannot say.
fn check_case(c: &Case) -> Result<(), String> {
    match (&c.capability, &c.capability_file) {
        (Some(_), Some(_)) => {
            return Err("give either `capability` or `capability_file`, not both".into());
        }
        (None, None) => return Err("`capability` or `capability_file` is required".into()),
        _ => {}
    }
    for (i, s) in c.steps.iter().enumerate() {
        let kinds = [
            s.rest.is_some(),
            s.mcp.is_some(),
            s.tool_call.is_some(),
            s.stdio.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(format!(
                "step {}: exactly one of rest, mcp, tool_call, stdio is required",
                i + 1
            ));
        }
    }
    if c.expect.load_fails.is_some() && !c.steps.is_empty() {
        return Err("a case expecting `load_fails` cannot have steps".into());
    }
    Ok(())
}

/// Every `*.yml` / `*.yaml` file under `paths` (files are taken as they are), sorted.
pub fn collect_case_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("{}: {e}", p.display()))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}
