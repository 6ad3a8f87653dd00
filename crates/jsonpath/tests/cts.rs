//! Runs the whole JSONPath Compliance Test Suite (RFC 9535) through
//! `Mapping::parse_rfc9535` + `query_nodes`, and checks on the same cases that
//! the lenient dialect leaves RFC 9535 queries alone.
//!
//! The suite is vendored in `tests/cts/` (see `PROVENANCE.txt` there) so the
//! repository is self-contained; the shared checkout is only a fallback.

use std::path::PathBuf;

use naftiko_jsonpath::Mapping;
use serde_json::Value;

/// Number of tests in the vendored suite; a new copy must update this.
const EXPECTED_TESTS: usize = 703;

fn load_suite() -> (PathBuf, Vec<Value>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        dir.join("tests/cts/cts.json"),
        dir.join("../../../shared/jsonpath-cts/cts.json"),
    ];
    let path = candidates
        .iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("CTS not found at any of {candidates:?}"))
        .clone();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut suite: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    let Value::Array(tests) = suite["tests"].take() else {
        panic!("{} has no `tests` array", path.display());
    };
    (path, tests)
}

/// Runs one case; `Err` describes the failure.
fn run_case(case: &Value) -> Result<(), String> {
    let selector = case["selector"]
        .as_str()
        .ok_or("selector is not a string")?;
    let parsed = Mapping::parse_rfc9535(selector);
    if case["invalid_selector"] == Value::Bool(true) {
        return match parsed {
            Err(_) => Ok(()),
            Ok(_) => Err("invalid selector was accepted".to_owned()),
        };
    }
    let mapping = parsed.map_err(|e| format!("valid selector rejected: {e}"))?;
    let got = Value::Array(
        mapping
            .query_nodes(&case["document"])
            .into_iter()
            .cloned()
            .collect(),
    );
    let expected: Vec<&Value> = match (&case["result"], &case["results"]) {
        (Value::Array(_), _) => vec![&case["result"]],
        (_, Value::Array(alternatives)) => alternatives.iter().collect(),
        _ => return Err("case has neither `result` nor `results`".to_owned()),
    };
    if !expected.contains(&&got) {
        return Err(format!("got {got}, expected one of {expected:?}"));
    }

    // The dialect's promises, checked against every valid CTS selector.
    let lenient = Mapping::parse(selector).map_err(|e| format!("lenient parse failed: {e}"))?;
    if lenient.query_nodes(&case["document"]) != mapping.query_nodes(&case["document"]) {
        return Err("lenient parse changed the result of an RFC 9535 query".to_owned());
    }
    if mapping.is_definite() && got.as_array().is_some_and(|nodes| nodes.len() > 1) {
        return Err(format!("definite path selected {got}"));
    }
    Ok(())
}

#[test]
fn jsonpath_compliance_test_suite() {
    let (path, tests) = load_suite();
    let mut failures = Vec::new();
    for case in &tests {
        if let Err(why) = run_case(case) {
            failures.push(format!("{}: `{}`: {why}", case["name"], case["selector"]));
        }
    }
    let passed = tests.len() - failures.len();
    let count = |key: &str| tests.iter().filter(|case| case.get(key).is_some()).count();
    println!(
        "JSONPath CTS ({}): {passed}/{} passed ({} result, {} results, {} invalid_selector)",
        path.display(),
        tests.len(),
        count("result"),
        count("results"),
        count("invalid_selector"),
    );
    assert!(
        failures.is_empty(),
        "{} CTS failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(tests.len(), EXPECTED_TESTS, "unexpected CTS size");
}
