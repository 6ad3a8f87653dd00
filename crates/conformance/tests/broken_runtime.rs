//! The runner against runtimes that cannot work: each problem is a clear per-case
//! failure, reported quickly, never a hang; malformed cases and `unsupported` cases are
//! reported as such.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use naftiko_conformance::{Outcome, RunOptions, Summary, junit, result_json, run};

const CAPABILITY: &str = r#"
capability: |
  naftiko: 1.0.0-alpha2
  info:
    label: Tiny
    description: one REST operation
  capability:
    consumes:
    - type: http
      namespace: api
      baseUri: https://api.example.com
      resources:
      - name: items
        path: /items
        operations:
        - name: list-items
          method: GET
    exposes:
    - type: rest
      namespace: api-rest
      port: 8080
      resources:
      - path: /items
        name: items
        operations:
        - method: GET
          name: list-items
          call: api.list-items
"#;

fn write_case(dir: &Path, area: &str, id: &str, body: &str) {
    let d = dir.join(area);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(format!("{id}.yml")), format!("id: {id}\n{body}")).unwrap();
}

fn rest_case(dir: &Path) {
    write_case(
        dir,
        "rest",
        "one-request",
        &format!(
            "title: one request\ntags: [test]\n{CAPABILITY}steps:\n  - rest: {{path: /items}}\n    expect:\n      response: {{status: 200}}\n"
        ),
    );
}

async fn run_with(dir: &Path, runtime: &str, ready: Duration) -> Summary {
    run(RunOptions {
        cases: vec![dir.to_path_buf()],
        runtime: Some(runtime.to_string()),
        ready_timeout: ready,
        step_timeout: Duration::from_secs(3),
        ..RunOptions::default()
    })
    .await
}

#[tokio::test]
async fn a_runtime_that_exits_is_a_quick_per_case_failure() {
    let dir = tempfile::tempdir().unwrap();
    rest_case(dir.path());
    let start = Instant::now();
    let s = run_with(
        dir.path(),
        "sh -c 'echo starting >&2; exit 3'",
        Duration::from_secs(10),
    )
    .await;
    assert!(s.error.is_none(), "{:?}", s.error);
    assert_eq!((s.passed, s.failed, s.skipped), (0, 1, 0));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let r = &s.results[0];
    assert_eq!(r.outcome, Outcome::Failed);
    let text = r.problems.join("\n");
    assert!(text.contains("exited") && text.contains('3'), "{text}");
    assert!(
        text.contains("starting"),
        "the runtime's stderr is shown: {text}"
    );
    assert_eq!(s.to_string(), "0 passed, 1 failed, 0 skipped");
}

#[tokio::test]
async fn a_runtime_that_never_listens_fails_within_the_ready_timeout() {
    let dir = tempfile::tempdir().unwrap();
    rest_case(dir.path());
    let start = Instant::now();
    let s = run_with(dir.path(), "sh -c 'sleep 100'", Duration::from_millis(1500)).await;
    let took = start.elapsed();
    assert_eq!((s.passed, s.failed), (0, 1));
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let text = s.results[0].problems.join("\n");
    assert!(text.contains("did not become ready"), "{text}");
}

#[tokio::test]
async fn a_missing_runtime_program_is_a_per_case_failure() {
    let dir = tempfile::tempdir().unwrap();
    rest_case(dir.path());
    let s = run_with(
        dir.path(),
        "/nonexistent/naftiko-runtime {capability}",
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(s.failed, 1);
    assert!(
        s.results[0].problems[0].contains("cannot start runtime"),
        "{:?}",
        s.results[0].problems
    );
}

#[tokio::test]
async fn load_fails_passes_on_a_refusal_and_checks_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let body = |pattern: &str| {
        format!(
            "title: refused\ntags: [test]\n{CAPABILITY}expect:\n  load_fails:\n    message_matches: {pattern}\n"
        )
    };
    write_case(
        dir.path(),
        "loading",
        "refused-ok",
        &body("(?i)no such key"),
    );
    write_case(
        dir.path(),
        "loading",
        "refused-other-message",
        &body("ORY_API_KEY"),
    );
    let s = run_with(
        dir.path(),
        "sh -c 'echo \"error: no such key\" >&2; exit 1'",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!((s.passed, s.failed), (1, 1), "{:#?}", s.results);
    let failed = s
        .results
        .iter()
        .find(|r| r.outcome == Outcome::Failed)
        .unwrap();
    assert_eq!(failed.id, "refused-other-message");
    assert!(
        failed.problems[0].contains("does not match /ORY_API_KEY/"),
        "{:?}",
        failed.problems
    );
    // A runtime that exits 0 has not refused anything.
    let s = run_with(dir.path(), "true", Duration::from_secs(5)).await;
    assert_eq!(s.failed, 2);
    assert!(
        s.results[0].problems[0].contains("non-zero"),
        "{:?}",
        s.results[0].problems
    );
}

#[tokio::test]
async fn malformed_and_unsupported_cases_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    rest_case(dir.path());
    write_case(
        dir.path(),
        "rest",
        "typo",
        "title: typo\ntags: [test]\ncapability: x\nstepz: []\n",
    );
    write_case(dir.path(), "rest", "not-yaml", "title: [unclosed\n");
    write_case(
        dir.path(),
        "rest",
        "later",
        &format!("title: not implemented\ntags: [unsupported]\n{CAPABILITY}"),
    );
    let s = run_with(dir.path(), "sh -c 'exit 3'", Duration::from_secs(5)).await;
    assert_eq!(
        (s.passed, s.failed, s.skipped),
        (0, 3, 1),
        "{:#?}",
        s.results
    );
    let typo = s.results.iter().find(|r| r.id == "typo").unwrap();
    assert!(
        typo.problems[0].contains("malformed case"),
        "{:?}",
        typo.problems
    );
    assert!(typo.problems[0].contains("stepz"), "{:?}", typo.problems);
    let bad = s.results.iter().find(|r| r.id == "not-yaml").unwrap();
    assert!(
        bad.problems[0].contains("not valid YAML"),
        "{:?}",
        bad.problems
    );
    let later = s.results.iter().find(|r| r.id == "later").unwrap();
    assert_eq!(later.outcome, Outcome::Skipped);

    let xml = junit(&s);
    assert!(xml.starts_with("<?xml"));
    assert!(
        xml.contains("tests=\"4\" failures=\"3\" skipped=\"1\""),
        "{xml}"
    );
    assert!(xml.contains("<skipped message=\"unsupported\"/>"));
    assert_eq!(xml.matches("<failure ").count(), 3);
    for r in &s.results {
        let v: serde_json::Value = serde_json::from_str(&result_json(r)).unwrap();
        assert_eq!(v["id"], r.id.as_str());
        assert!(["passed", "failed", "skipped"].contains(&v["outcome"].as_str().unwrap()));
    }
}

#[tokio::test]
async fn filters_select_by_tag_id_or_area() {
    let dir = tempfile::tempdir().unwrap();
    rest_case(dir.path());
    write_case(
        dir.path(),
        "other",
        "tagged",
        &format!("title: t\ntags: [special]\n{CAPABILITY}"),
    );
    for (filter, ids) in [
        ("special", vec!["tagged"]),
        ("one-request", vec!["one-request"]),
        ("rest", vec!["one-request"]),
        ("nothing", vec![]),
    ] {
        let s = run(RunOptions {
            cases: vec![dir.path().to_path_buf()],
            runtime: Some("sh -c 'exit 3'".into()),
            filters: vec![filter.into()],
            ..RunOptions::default()
        })
        .await;
        let got: Vec<&str> = s.results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(got, ids, "filter {filter}");
    }
}

#[tokio::test]
async fn a_missing_case_directory_is_an_error_not_a_pass() {
    let s = run(RunOptions {
        cases: vec!["/nonexistent/cases".into()],
        ..RunOptions::default()
    })
    .await;
    assert!(s.error.is_some());
    assert_eq!(s.results.len(), 0);
}
