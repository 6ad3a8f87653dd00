//! Hand-made broken capability files, one defect each, and the exact diagnostic each yields.
//!
//! Every file under `fixtures/broken/` is `fixtures/valid-minimal.yml` (one consumes with
//! baseUri https://api.example.com, one operation, one REST and one MCP adapter; it is valid
//! under the official JSON Schema and yields no diagnostic at all) with exactly one defect.
//!
//! The table pins the line, column, severity and code of every diagnostic produced by our
//! own levels (YAML, decoding, semantic checks). Diagnostics of the JSON-Schema level
//! (`schema`, and `unknown-key` "not allowed here by the schema") are not pinned, so that
//! level can evolve, but they must be warnings (or, under `--strict`, sit on a pinned
//! position: the schema's view of the same defect).
#![allow(missing_docs)]
// clippy's allow-expect-in-tests covers `#[test]` fns, not the helpers here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use naftiko_spec::{Diagnostic, LoadOptions, Loaded, Severity, load};

use Severity::{Error, Warning};

/// One expected diagnostic per row: `fixture [--strict] | line:col | severity | code |
/// a fragment the message must contain`. A fixture with several rows expects several
/// diagnostics, in this order. `#` starts a comment line.
const TABLE: &str = r"
# Level 1: YAML and types.
yaml-syntax             |  3:10 | error   | yaml-syntax   | unclosed quote
yaml-duplicate-key      | 32:5  | error   | yaml-syntax   | duplicate mapping key: port
type-port-list          | 31:11 | error   | type-mismatch | 'port' must be a non-negative integer, found a list
type-resources-int      | 32:16 | error   | type-mismatch | 'resources' must be a list, found an integer
unknown-key             | 54:7  | warning | unknown-key   | unknown key 'colour' in an MCP tool
unknown-key --strict    | 54:7  | error   | unknown-key   | unknown key 'colour' in an MCP tool
missing-namespace       | 29:5  | error   | missing-key   | an adapter needs a 'namespace'
unsupported-version     |  1:10 | warning | unsupported-version | '2.0.0'
# Level 3: calls and bindings.
call-target-operation   | 40:15 | error   | call-target   | unknown operation 'pets.getpett' (did you mean 'getpet'?)
call-target-namespace   | 40:15 | error   | call-target   | unknown namespace 'pet' in call 'pet.getpet' (did you mean 'pets'?)
call-target-form        | 40:15 | error   | call-target   | expected 'namespace.operation'
with-key                | 43:11 | error   | with-key      | 'ids' is not an input of operation 'pets.getpet' (did you mean 'id'?)
with-value              | 56:13 | error   | with-value    | use 'tools.id'
# Points at the REST operation that fails to bind it (it has no `with`).
path-variable-unbound   | 37:9  | error   | path-variable-unbound | add 'id: rest.id' to 'with'
path-variable-case      | 42:15 | warning | path-variable-case    | '{petId}'
template-variable       | 17:14 | error   | template-variable     | '{{env.NOPE}}'
template-syntax         | 17:14 | error   | template-syntax       | never closed
import-missing          | 12:15 | error   | import        | './shared/pets-consumes.yml' not found
# Level 3: consumes.
baseuri-trailing-slash  | 13:14 | error   | naftiko-consumes-baseuri-no-trailing-slash | https://api.example.com/
baseuri-scheme          | 13:14 | error   | baseuri       | must start with http:// or https://
baseuri-empty           | 13:14 | warning | baseuri-empty | --upstream pets=URL
auth-type               | 16:13 | error   | auth-type     | unknown authentication type 'bearr' (did you mean 'bearer'?)
auth-unsupported        | 16:13 | warning | auth-unsupported | 'hmac'
auth-missing-key        | 16:7  | error   | missing-key   | bearer authentication needs the key 'token'
method                  | 23:17 | error   | method        | 'FETCH' is not an HTTP method
param-in                | 27:15 | error   | param-in      | 'in: pathh'
jsonpath                | 45:20 | error   | jsonpath      | mapping '$.name[' is not valid JSONPath
# Columns count characters, not bytes: multi-byte characters precede the defect.
jsonpath-unicode-column | 44:60 | error   | jsonpath      | mapping '$.name[' is not valid JSONPath
# Level 3: exposes.
exposes-type            | 60:11 | error   | exposes-type  | unknown adapter type 'grpc'
port-unique             | 48:11 | error   | port-unique   | port 8080 is already used by the adapter at line 31
port-range              | 48:11 | error   | port          | port 70000 is not a valid TCP port
namespaces-unique       | 47:16 | error   | naftiko-namespaces-unique | namespace 'pets' is already used at line 12
rest-route-unique       | 50:17 | error   | rest-route-unique | GET /v1/pets/{key} is already defined at line 37
tool-name               | 52:13 | error   | tool-name     | 'get pet!'
tool-name-unique        | 60:13 | error   | tool-name-unique | tool 'get-pet' is already defined at line 52
mcp-transport           | 49:16 | error   | mcp-transport | 'websocket'
";

/// One expected diagnostic.
struct Expected {
    line: u32,
    col: u32,
    severity: Severity,
    code: String,
    fragment: String,
}

/// A fixture, whether it is loaded with `--strict`, and what it must yield.
struct Case {
    file: String,
    strict: bool,
    expected: Vec<Expected>,
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for row in TABLE
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let cols: Vec<&str> = row.splitn(5, '|').map(str::trim).collect();
        let [name, pos, severity, code, fragment] = cols[..] else {
            panic!("bad row {row:?}")
        };
        let (file, strict) = match name.strip_suffix(" --strict") {
            Some(f) => (f.trim(), true),
            None => (name, false),
        };
        let (line, col) = pos.split_once(':').expect("line:col");
        let expected = Expected {
            line: line.parse().expect("line"),
            col: col.parse().expect("col"),
            severity: if severity == "error" { Error } else { Warning },
            code: code.to_string(),
            fragment: fragment.to_string(),
        };
        match cases.last_mut() {
            Some(c) if c.file == file && c.strict == strict => c.expected.push(expected),
            _ => cases.push(Case {
                file: file.to_string(),
                strict,
                expected: vec![expected],
            }),
        }
    }
    cases
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load_file(path: &Path, strict: bool) -> (String, Loaded) {
    let source =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let loaded = load(&source, LoadOptions { strict }, &mut |location| {
        Err(format!("{location}: not found"))
    });
    (source, loaded)
}

/// Diagnostics of the JSON-Schema level, which this table does not pin.
fn schema_level(d: &Diagnostic) -> bool {
    d.code == "schema"
        || (d.code == "unknown-key" && d.message.ends_with("(not allowed here by the schema)"))
}

fn show(diags: &[&Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            format!(
                "  {}:{} {}[{}] {}\n",
                d.pos.line,
                d.pos.col,
                d.severity.as_str(),
                d.code,
                d.message
            )
        })
        .collect()
}

/// Checks one case, returning a description of every mismatch.
fn check(case: &Case) -> Vec<String> {
    let path = fixtures().join("broken").join(format!("{}.yml", case.file));
    let (_, loaded) = load_file(&path, case.strict);
    let all: Vec<&Diagnostic> = loaded.diagnostics.iter().collect();
    let (schema, own): (Vec<&Diagnostic>, Vec<&Diagnostic>) =
        all.iter().partition(|d| schema_level(d));
    let name = format!(
        "{}{}",
        case.file,
        if case.strict { " (strict)" } else { "" }
    );
    let mut problems = Vec::new();
    let got: Vec<_> = own
        .iter()
        .map(|d| (d.pos.line, d.pos.col, d.severity, d.code))
        .collect();
    let want: Vec<_> = case
        .expected
        .iter()
        .map(|e| (e.line, e.col, e.severity, e.code.as_str()))
        .collect();
    if got != want {
        problems.push(format!("{name}: expected {want:?}, got:\n{}", show(&all)));
    }
    for (d, e) in own.iter().zip(&case.expected) {
        if !d.message.contains(&e.fragment) {
            problems.push(format!(
                "{name}: message {:?} lacks {:?}",
                d.message, e.fragment
            ));
        }
    }
    for d in schema {
        let pinned = case
            .expected
            .iter()
            .any(|e| (e.line, e.col) == (d.pos.line, d.pos.col));
        if d.severity == Error && !(case.strict && pinned) {
            problems.push(format!(
                "{name}: unexpected schema-level error:\n{}",
                show(&[d])
            ));
        }
    }
    problems
}

#[test]
fn each_broken_fixture_yields_exactly_its_diagnostic() {
    let problems: Vec<String> = cases().iter().flat_map(check).collect();
    assert!(
        problems.is_empty(),
        "{} mismatch(es):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_broken_fixture_is_in_the_table() {
    let mut files: Vec<String> = std::fs::read_dir(fixtures().join("broken"))
        .expect("fixtures/broken")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".yml")
                .to_string()
        })
        .collect();
    files.sort();
    let cases = cases();
    let missing: Vec<&String> = files
        .iter()
        .filter(|f| !cases.iter().any(|c| c.file == **f))
        .collect();
    assert!(
        missing.is_empty(),
        "fixtures without a table entry: {missing:?}"
    );
    let unused: Vec<&str> = cases
        .iter()
        .map(|c| c.file.as_str())
        .filter(|c| !files.iter().any(|f| f == c))
        .collect();
    assert!(
        unused.is_empty(),
        "table entries without a fixture: {unused:?}"
    );
    assert!(files.len() >= 14, "only {} broken fixtures", files.len());
}

#[test]
fn the_base_fixture_is_clean_even_under_strict() {
    for strict in [false, true] {
        let (_, loaded) = load_file(&fixtures().join("valid-minimal.yml"), strict);
        let all: Vec<&Diagnostic> = loaded.diagnostics.iter().collect();
        assert!(all.is_empty(), "strict={strict}:\n{}", show(&all));
        assert!(loaded.servable().is_some());
    }
}

#[test]
fn a_control_adapter_needs_no_namespace() {
    // The schema's `ExposesControl` has no `namespace` property (and forbids extra keys).
    let (_, loaded) = load_file(&fixtures().join("control-adapter.yml"), false);
    let errors: Vec<&Diagnostic> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Error)
        .collect();
    assert!(errors.is_empty(), "{}", show(&errors));
}

#[test]
fn yaml_errors_yield_no_document_other_errors_keep_it() {
    let (_, loaded) = load_file(&fixtures().join("broken/yaml-syntax.yml"), false);
    assert!(loaded.document.is_none());
    let (_, loaded) = load_file(&fixtures().join("broken/with-key.yml"), false);
    assert!(loaded.document.is_some());
    assert!(
        loaded.servable().is_none(),
        "a document with errors must not be servable"
    );
    let (_, loaded) = load_file(&fixtures().join("broken/unknown-key.yml"), false);
    assert!(
        loaded.servable().is_some(),
        "warnings alone keep a document servable"
    );
}

#[test]
fn rendering_points_a_caret_at_the_column() {
    let path = fixtures().join("broken/jsonpath-unicode-column.yml");
    let (source, loaded) = load_file(&path, false);
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "jsonpath")
        .expect("a jsonpath error");
    let text = d.render("x.yml", &source);
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .starts_with("x.yml:44:60: error[jsonpath]: ")
    );
    let src_line = lines.nth(1).expect("source line");
    let caret_line = lines.next().expect("caret line");
    let (gutter, code) = src_line.split_once(" | ").expect("gutter");
    assert_eq!(gutter, "44");
    let caret = caret_line.split_once(" | ").expect("gutter").1;
    assert_eq!(caret.chars().count(), 60, "{text}");
    assert!(caret.ends_with('^'));
    assert_eq!(
        code.chars().nth(59),
        Some('\''),
        "the caret sits under the mapping's opening quote"
    );
}
