//! Rendering results: human text, JSON lines, JUnit XML.

use std::fmt::Write as _;

use serde_json::json;

use crate::runner::tail;
use crate::{CaseResult, Outcome, Summary};

fn name(r: &CaseResult) -> String {
    if r.area.is_empty() {
        r.id.clone()
    } else {
        format!("{}/{}", r.area, r.id)
    }
}

/// One progress line: `PASS area/id (0.4s)`.
pub(crate) fn human_line(r: &CaseResult) -> String {
    match r.outcome {
        Outcome::Passed => format!("PASS {} ({:.1}s)", name(r), r.duration.as_secs_f64()),
        Outcome::Skipped => format!("SKIP {} (unsupported)", name(r)),
        Outcome::Failed => format!(
            "FAIL {} ({:.1}s): {}",
            name(r),
            r.duration.as_secs_f64(),
            r.problems
                .first()
                .map_or("", |p| p.lines().next().unwrap_or(""))
        ),
    }
}

/// Details of every failure, then the summary line.
pub(crate) fn human_summary(s: &Summary) -> String {
    let mut out = String::new();
    let failed: Vec<&CaseResult> = s
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
        .collect();
    if !failed.is_empty() {
        out.push_str("\nFailures:\n");
    }
    for r in failed {
        let _ = writeln!(out, "\n--- {} — {}", name(r), r.title);
        let _ = writeln!(out, "    file: {}", r.file.display());
        for p in &r.problems {
            for (i, line) in p.lines().enumerate() {
                let _ = writeln!(out, "    {} {line}", if i == 0 { "-" } else { " " });
            }
        }
        if !r.logs.trim().is_empty() {
            let _ = writeln!(out, "    runtime output (last lines):");
            for line in tail(&r.logs, 12).lines() {
                let _ = writeln!(out, "      | {line}");
            }
        }
    }
    let _ = writeln!(out, "\n{s}");
    let _ = writeln!(out, "(wall time {:.1}s)", s.elapsed.as_secs_f64());
    out
}

/// One case as a JSON object (one line).
pub fn result_json(r: &CaseResult) -> String {
    json!({
        "type": "case",
        "id": r.id,
        "area": r.area,
        "title": r.title,
        "file": r.file.display().to_string(),
        "tags": r.tags,
        "outcome": match r.outcome {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        },
        "problems": r.problems,
        "duration_ms": u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
        "logs_tail": if r.outcome == Outcome::Failed { tail(&r.logs, 20) } else { String::new() },
    })
    .to_string()
}

/// The summary as a JSON object (one line).
pub(crate) fn summary_json(s: &Summary) -> String {
    json!({
        "type": "summary",
        "passed": s.passed,
        "failed": s.failed,
        "skipped": s.skipped,
        "elapsed_ms": u64::try_from(s.elapsed.as_millis()).unwrap_or(u64::MAX),
        "summary": s.to_string(),
    })
    .to_string()
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// The whole run as JUnit XML (one `testsuite` per area).
pub fn junit(s: &Summary) -> String {
    let mut areas: Vec<&str> = s.results.iter().map(|r| r.area.as_str()).collect();
    areas.sort_unstable();
    areas.dedup();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"naftiko-conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        s.results.len(),
        s.failed,
        s.skipped,
        s.elapsed.as_secs_f64()
    );
    for area in areas {
        let cases: Vec<&CaseResult> = s.results.iter().filter(|r| r.area == area).collect();
        let failures = cases
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .count();
        let skipped = cases
            .iter()
            .filter(|r| r.outcome == Outcome::Skipped)
            .count();
        let time: f64 = cases.iter().map(|r| r.duration.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{time:.3}\">",
            xml(area),
            cases.len()
        );
        for r in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"conformance.{}\" name=\"{}\" time=\"{:.3}\"",
                xml(area),
                xml(&r.id),
                r.duration.as_secs_f64()
            );
            match r.outcome {
                Outcome::Passed => out.push_str("/>\n"),
                Outcome::Skipped => {
                    out.push_str(">\n      <skipped message=\"unsupported\"/>\n    </testcase>\n");
                }
                Outcome::Failed => {
                    let first = r
                        .problems
                        .first()
                        .map_or("", |p| p.lines().next().unwrap_or(""));
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\">{}</failure>",
                        xml(first),
                        xml(&r.problems.join("\n"))
                    );
                    if !r.logs.is_empty() {
                        let _ = writeln!(
                            out,
                            "      <system-err>{}</system-err>",
                            xml(&tail(&r.logs, 40))
                        );
                    }
                    out.push_str("    </testcase>\n");
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
