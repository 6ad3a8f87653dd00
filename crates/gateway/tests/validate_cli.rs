//! `naftiko-gateway validate`, run as the real binary: output formats and exit codes
//! (0 no errors, 1 errors, 2 usage or I/O).
#![allow(missing_docs)]
// clippy's allow-expect-in-tests covers `#[test]` fns, not the helpers here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SEED: &str = "capabilities/ory-identities.yml";
const BROKEN: &str = "crates/spec/tests/fixtures/broken";
const VALID: &str = "crates/spec/tests/fixtures/valid-minimal.yml";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `naftiko-gateway validate ARGS` from the workspace root.
fn validate(args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_naftiko-gateway"))
        .arg("validate")
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("run naftiko-gateway");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8 output");
    (
        status.code().expect("exit code"),
        text(stdout),
        text(stderr),
    )
}

fn summary(stdout: &str) -> &str {
    stdout.lines().last().unwrap_or_default()
}

#[test]
fn the_seed_is_valid_with_warnings() {
    let (code, out, err) = validate(&[SEED]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "{SEED}:18:14: warning[baseuri-empty]: consumes 'kratos-identity' has no baseUri"
        )),
        "{out}"
    );
    assert!(!out.contains("error["), "{out}");
    let last = summary(&out);
    assert!(
        last.starts_with("checked 1 file(s): 0 error(s), "),
        "{last}"
    );
    assert!(
        last.ends_with(" warning(s); 0 file(s) with errors"),
        "{last}"
    );
}

#[test]
fn quiet_hides_warnings_but_keeps_the_summary() {
    let (code, out, _) = validate(&["-q", SEED]);
    assert_eq!(code, 0);
    assert!(!out.contains("warning["), "{out}");
    assert!(
        summary(&out).starts_with("checked 1 file(s): 0 error(s), "),
        "{out}"
    );
}

#[test]
fn a_broken_file_prints_position_source_line_and_caret() {
    let file = format!("{BROKEN}/with-key.yml");
    let (code, out, err) = validate(&[&file]);
    assert_eq!(code, 1, "{out}{err}");
    let header = format!(
        "{file}:43:11: error[with-key]: 'ids' is not an input of operation 'pets.getpet' (did you mean 'id'?)"
    );
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == header)
        .unwrap_or_else(|| panic!("no {header:?} in:\n{out}"));
    assert_eq!(lines[at + 1], "   |");
    assert_eq!(lines[at + 2], "43 |           ids: rest.ids");
    assert_eq!(lines[at + 3], format!("   | {}^", " ".repeat(10)));
    assert_eq!(
        summary(&out),
        "checked 1 file(s): 1 error(s), 0 warning(s); 1 file(s) with errors"
    );
}

#[test]
fn json_format_prints_one_object_per_diagnostic() {
    let file = format!("{BROKEN}/auth-type.yml");
    let (code, out, err) = validate(&["--format", "json", SEED, &file]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.lines().count() > 2, "{out}");
    let mut codes = Vec::new();
    for line in out.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?} is not JSON: {e}"));
        let obj = v.as_object().expect("an object");
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["code", "column", "file", "line", "message", "severity"],
            "{line}"
        );
        assert!(
            obj["file"].as_str().is_some_and(|f| f == SEED || f == file),
            "{line}"
        );
        assert!(obj["line"].as_u64().is_some_and(|n| n > 0), "{line}");
        assert!(obj["column"].as_u64().is_some_and(|n| n > 0), "{line}");
        assert!(
            matches!(obj["severity"].as_str(), Some("error" | "warning")),
            "{line}"
        );
        assert!(
            obj["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{line}"
        );
        codes.push((
            obj["file"].as_str().unwrap_or_default().to_string(),
            obj["code"].as_str().unwrap_or_default().to_string(),
        ));
    }
    assert!(codes.contains(&(SEED.to_string(), "baseuri-empty".to_string())));
    assert!(codes.contains(&(file.clone(), "auth-type".to_string())));
    let error = out
        .lines()
        .find(|l| l.contains("\"auth-type\""))
        .expect("auth-type line");
    let v: serde_json::Value = serde_json::from_str(error).expect("json");
    assert_eq!(
        (
            v["line"].as_u64(),
            v["column"].as_u64(),
            v["severity"].as_str()
        ),
        (Some(16), Some(13), Some("error"))
    );
}

#[test]
fn strict_fails_a_file_with_only_warnings() {
    let file = format!("{BROKEN}/unknown-key.yml");
    let (code, out, _) = validate(&[&file]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("{file}:54:7: warning[unknown-key]")),
        "{out}"
    );
    let (code, out, _) = validate(&["--strict", &file]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("{file}:54:7: error[unknown-key]")),
        "{out}"
    );
    assert_eq!(
        summary(&out),
        "checked 1 file(s): 1 error(s), 0 warning(s); 1 file(s) with errors"
    );
}

#[test]
fn a_missing_path_is_an_io_error() {
    let (code, out, err) = validate(&["does/not/exist.yml"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("does/not/exist.yml"), "{err}");
    // Also when given next to a good file.
    let (code, _, err) = validate(&[VALID, "does/not/exist.yml"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = validate(&[]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = validate(&["--format", "xml", VALID]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_directory_checks_every_yaml_file_in_it() {
    let on_disk = std::fs::read_dir(workspace().join(BROKEN))
        .expect("fixtures")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yml"))
        })
        .count();
    let (code, out, err) = validate(&[BROKEN]);
    assert_eq!(code, 1, "{err}");
    let last = summary(&out);
    assert!(
        last.starts_with(&format!("checked {on_disk} file(s): ")),
        "{last}"
    );
    // Only warnings in 5 of them: unknown-key, unsupported-version, path-variable-case,
    // baseuri-empty, auth-unsupported (the rest have an error each).
    assert!(
        last.ends_with(&format!("; {} file(s) with errors", on_disk - 5)),
        "{last}"
    );
    for name in [
        "yaml-syntax.yml:3:10: error[yaml-syntax]",
        "port-unique.yml:48:11: error[port-unique]",
        "tool-name-unique.yml:60:13: error[tool-name-unique]",
    ] {
        assert!(out.contains(&format!("{BROKEN}/{name}")), "{name} missing");
    }
    // A directory of valid files passes: the vendored corpus directory is not that, the
    // capabilities directory is.
    let (code, out, _) = validate(&["capabilities"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        summary(&out).starts_with("checked 1 file(s): 0 error(s)"),
        "{out}"
    );
}

#[test]
fn an_empty_directory_is_a_usage_error() {
    let dir = std::env::temp_dir().join(format!("naftiko-validate-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (code, _, err) = validate(&[dir.to_str().expect("utf-8 path")]);
    let _ = std::fs::remove_dir(&dir);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no *.yml or *.yaml files"), "{err}");
}
