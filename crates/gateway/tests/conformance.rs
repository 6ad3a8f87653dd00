//! The whole conformance suite against this crate's own binary.
//!
//! Known gaps of naftiko-gateway are listed in
//! `conformance/expected-failures/naftiko-gateway.txt` (one case id per line, `#` comments):
//! an unlisted failure fails this test; a listed case that passes is reported so the line
//! can be removed. `NAFTIKO_CONFORMANCE_STRICT=1` ignores the list.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use naftiko_conformance::{Outcome, RunOptions, run};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn gateway_binary() -> Option<PathBuf> {
    Some(PathBuf::from(env!("CARGO_BIN_EXE_naftiko-gateway")))
}

fn expected_failures() -> BTreeSet<String> {
    if std::env::var_os("NAFTIKO_CONFORMANCE_STRICT").is_some() {
        return BTreeSet::new();
    }
    let path = root().join("conformance/expected-failures/naftiko-gateway.txt");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

fn options(bin: &Path, filters: Vec<String>) -> RunOptions {
    let bin = bin.display();
    RunOptions {
        cases: vec![root().join("conformance/cases")],
        runtime: Some(format!(
            "'{bin}' serve --upstream-timeout 2s {{capability}}"
        )),
        runtime_stdio: Some(format!(
            "'{bin}' serve --stdio --upstream-timeout 2s {{capability}}"
        )),
        filters,
        ready_timeout: Duration::from_secs(15),
        ..RunOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_suite_against_naftiko_gateway() {
    let Some(bin) = gateway_binary() else {
        eprintln!(
            "SKIPPED: no target/{{debug,release}}/naftiko-gateway; run `cargo build -p naftiko-gateway` first"
        );
        return;
    };
    eprintln!("runtime: {}", bin.display());
    let summary = run(options(&bin, Vec::new())).await;
    assert!(summary.error.is_none(), "{:?}", summary.error);
    eprintln!("{summary} in {:.1}s", summary.elapsed.as_secs_f64());
    let expected = expected_failures();
    let failed: Vec<&naftiko_conformance::CaseResult> = summary
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
        .collect();
    for r in &summary.results {
        if r.outcome == Outcome::Passed && expected.contains(&r.id) {
            eprintln!(
                "NOW PASSES (remove from expected-failures/naftiko-gateway.txt): {}",
                r.id
            );
        }
    }
    let unexpected: Vec<String> = failed
        .iter()
        .filter(|r| !expected.contains(&r.id))
        .map(|r| r.id.clone())
        .collect();
    if unexpected.is_empty() {
        return;
    }
    // One retry, so that a start-up race in the runtime shows up as FLAKY, not as a failure.
    let again = run(options(&bin, unexpected.clone())).await;
    let mut report = String::new();
    for r in &again.results {
        if r.outcome == Outcome::Failed {
            report.push_str(&format!("\n--- {}/{} — {}\n", r.area, r.id, r.title));
            for p in &r.problems {
                report.push_str(&format!("  - {p}\n"));
            }
        } else {
            eprintln!("FLAKY (failed once, then passed): {}", r.id);
            if let Some(first) = failed.iter().find(|f| f.id == r.id) {
                eprintln!("  first failure: {}", first.problems.join(" | "));
            }
        }
    }
    assert!(
        again.failed == 0,
        "{} case(s) fail against naftiko-gateway and are not in expected-failures/naftiko-gateway.txt:{report}",
        again.failed
    );
}
