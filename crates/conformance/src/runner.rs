//! Running one case: upstream, capability rewrite, runtime process, steps, checks.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use regex::Regex;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::capability::{self, Exposed};
use crate::case::{Case, LoadedCase, McpStep, RestRequest, StdioStep, Step};
use crate::check::{self, Problems};
use crate::http::{HttpClient, HttpResponse};
use crate::process::{self, Readiness, Runtime};
use crate::upstream::{self, Upstream, clip};
use crate::{CaseResult, Outcome};

mod driver;

use driver::Driver;

/// The protocol version the runner asks for when it initializes a session itself.
pub(crate) const CLIENT_PROTOCOL: &str = "2025-11-25";

/// Settings shared by every case of a run.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) runtime: Vec<String>,
    /// Command for capabilities whose MCP adapter uses the stdio transport.
    pub(crate) runtime_stdio: Vec<String>,
    pub(crate) self_exe: String,
    pub(crate) ready_timeout: Duration,
    pub(crate) step_timeout: Duration,
    pub(crate) pass_env: Vec<String>,
}

/// Runs one case and reports it; never panics on bad input, never hangs past its budget.
/// How a start that never got to listening is reported (and recognised for one retry).
const NOT_STARTED: &str = "before listening on";

pub(crate) async fn run_case(lc: &LoadedCase, ctx: &Ctx) -> CaseResult {
    let started = Instant::now();
    let mut result = CaseResult {
        id: lc.id.clone(),
        area: lc.area.clone(),
        title: String::new(),
        file: lc.file.clone(),
        tags: lc.tags.clone(),
        outcome: Outcome::Failed,
        problems: Vec::new(),
        logs: String::new(),
        duration: Duration::ZERO,
    };
    let case = match &lc.case {
        Ok(c) => c,
        Err(e) => {
            result.problems.push(e.clone());
            result.duration = started.elapsed();
            return result;
        }
    };
    result.title = case.title.clone();
    let budget = ctx.ready_timeout
        + case
            .steps
            .iter()
            .map(|s| s.timeout_ms.map_or(ctx.step_timeout, Duration::from_millis))
            .sum::<Duration>()
        + Duration::from_secs(15);
    let mut problems = Problems::default();
    let mut logs = String::new();
    let mut finished = tokio::time::timeout(
        budget,
        execute(case, &lc.file, ctx, &mut problems, &mut logs),
    )
    .await;
    // A runtime that dies before it listens, where the case expects it to serve, is run
    // once more: on a busy machine a start can lose a port race with another process.
    // A runtime that cannot start twice fails the case, with both reasons.
    if finished.is_ok() && problems.0.len() == 1 && problems.0[0].contains(NOT_STARTED) {
        let first = std::mem::take(&mut problems.0);
        logs.clear();
        finished = tokio::time::timeout(
            budget,
            execute(case, &lc.file, ctx, &mut problems, &mut logs),
        )
        .await;
        if !problems.0.is_empty() {
            problems
                .0
                .extend(first.into_iter().map(|f| format!("(first attempt) {f}")));
        }
    }
    if finished.is_err() {
        problems.push(format!(
            "the case did not finish within {} s (runner budget); the runtime was killed",
            budget.as_secs()
        ));
    }
    result.problems = problems.0;
    result.logs = logs;
    result.outcome = if result.problems.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed
    };
    result.duration = started.elapsed();
    result
}

async fn execute(case: &Case, file: &Path, ctx: &Ctx, p: &mut Problems, logs: &mut String) {
    let base = file.parent().unwrap_or(Path::new("."));
    let (cap_text, cap_name) = match (&case.capability, &case.capability_file) {
        (Some(t), _) => (t.clone(), "capability.yml".to_string()),
        (None, Some(f)) => {
            let path = base.join(f);
            match std::fs::read_to_string(&path) {
                Ok(t) => (
                    t,
                    path.file_name().map_or("capability.yml".into(), |n| {
                        n.to_string_lossy().into_owned()
                    }),
                ),
                Err(e) => {
                    p.push(format!(
                        "malformed case: cannot read capability_file {}: {e}",
                        path.display()
                    ));
                    return;
                }
            }
        }
        (None, None) => {
            p.push("malformed case: no capability".to_string());
            return;
        }
    };

    // The scripted upstream (or a closed port).
    let up = if case.upstream.closed {
        None
    } else {
        match Upstream::start(case.upstream.answers.clone()).await {
            Ok(u) => Some(u),
            Err(e) => {
                p.push(format!("runner: cannot start the scripted upstream: {e}"));
                return;
            }
        }
    };
    // Held to the end of the case, so the port stays closed and ours.
    let mut closed = None;
    let upstream_url = match &up {
        Some(u) => u.base_url(),
        None => match upstream::closed_port() {
            Ok(c) => closed.insert(c).url.clone(),
            Err(e) => {
                p.push(format!("runner: cannot pick a closed port: {e}"));
                return;
            }
        },
    };

    // Workspace: capability + extra files.
    let dir = match tempfile::Builder::new()
        .prefix("naftiko-conformance-")
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => {
            p.push(format!("runner: cannot create a temporary directory: {e}"));
            return;
        }
    };
    let rewrite_to = (!case.keep_base_uri).then_some(upstream_url.as_str());
    let mut port_error = None;
    let mut next_port = || match process::free_port() {
        Ok(port) => port,
        Err(e) => {
            port_error = Some(e.to_string());
            0
        }
    };
    for (name, text) in &case.files {
        let is_yaml = name.ends_with(".yml") || name.ends_with(".yaml");
        let content = if is_yaml {
            let r = capability::rewrite(text, rewrite_to, &mut || 0);
            if r.parsed { r.text } else { text.clone() }
        } else {
            text.clone()
        };
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(e) = std::fs::write(&path, content) {
            p.push(format!("runner: cannot write {}: {e}", path.display()));
            return;
        }
    }
    let rewritten = capability::rewrite(&cap_text, rewrite_to, &mut next_port);
    if let Some(e) = port_error {
        p.push(format!("runner: cannot pick a free port: {e}"));
        return;
    }
    let cap_path = dir.path().join(&cap_name);
    if let Err(e) = std::fs::write(&cap_path, &rewritten.text) {
        p.push(format!("runner: cannot write {}: {e}", cap_path.display()));
        return;
    }

    let stdio_mode = rewritten.exposes.iter().any(|e| e.stdio);
    let template = if stdio_mode {
        &ctx.runtime_stdio
    } else {
        &ctx.runtime
    };
    let argv = process::expand_command(template, &ctx.self_exe, &cap_path, dir.path());
    let mut rt = match Runtime::spawn(&argv, dir.path(), &case.env, &ctx.pass_env, stdio_mode) {
        Ok(rt) => rt,
        Err(e) => {
            p.push(e);
            return;
        }
    };
    let addrs: Vec<String> = rewritten
        .exposes
        .iter()
        .filter_map(|e| e.port.map(|port| format!("{}:{port}", e.host)))
        .collect();
    // Wait only for the adapters the steps use (all of them when there are no steps), so
    // that a runtime missing one adapter kind still gets its other cases checked.
    let needed = needed_addrs(case, &rewritten.exposes).unwrap_or_else(|| addrs.clone());

    if let Some(lf) = &case.expect.load_fails {
        let readiness = if addrs.is_empty() {
            match rt.wait_exit(ctx.ready_timeout).await {
                Some(s) => Readiness::Exited(s),
                None => Readiness::TimedOut,
            }
        } else {
            rt.wait_ready(&addrs, ctx.ready_timeout, true).await
        };
        rt.stop().await;
        *logs = rt.logs();
        match readiness {
            Readiness::Ready => p.push(format!(
                "expected the runtime to refuse this capability, but it started and listens on {}",
                addrs.join(", ")
            )),
            Readiness::Exited(s) if s.success() => p.push(
                "expected the runtime to refuse this capability with a non-zero exit status, it exited with 0"
                    .to_string(),
            ),
            Readiness::Exited(_) | Readiness::TimedOut => {}
        }
        if let Some(m) = &lf.message_matches {
            match Regex::new(m) {
                Ok(re) if re.is_match(logs) => {}
                Ok(_) => p.push(format!(
                    "the runtime's output does not match /{m}/:\n{}",
                    indent(&tail(logs, 15))
                )),
                Err(e) => p.push(format!("malformed case: invalid regex `{m}`: {e}")),
            }
        }
        check_logs(case, logs, p);
        return;
    }

    if needed.is_empty() {
        // stdio-only or port-less capability: give it a moment, then require it alive.
        if let Some(s) = rt.wait_exit(Duration::from_millis(300)).await {
            rt.stop().await;
            *logs = rt.logs();
            p.push(format!(
                "the runtime exited ({s}) right after start:\n{}",
                indent(&tail(logs, 20))
            ));
            return;
        }
    } else {
        match rt.wait_ready(&needed, ctx.ready_timeout, false).await {
            Readiness::Ready => {}
            Readiness::Exited(s) => {
                rt.stop().await;
                *logs = rt.logs();
                p.push(format!(
                    "the runtime exited ({s}) {NOT_STARTED} {}:\n{}",
                    needed.join(", "),
                    indent(&tail(logs, 20))
                ));
                return;
            }
            Readiness::TimedOut => {
                rt.stop().await;
                *logs = rt.logs();
                p.push(format!(
                    "the runtime did not become ready (listening on {}) within {} s",
                    needed.join(", "),
                    ctx.ready_timeout.as_secs_f32()
                ));
                return;
            }
        }
    }

    let mut driver = Driver {
        client: HttpClient::new(),
        exposes: rewritten.exposes,
        up,
        session: None,
        protocol: None,
        next_id: 1,
        initialized: HashSet::new(),
        auto_init: case.mcp_initialize,
        step_timeout: ctx.step_timeout,
    };
    for (i, step) in case.steps.iter().enumerate() {
        let mut sp = Problems::default();
        driver.step(step, &mut rt, &mut sp).await;
        if !sp.0.is_empty() {
            let label = step_label(i, step);
            for m in sp.0 {
                p.push(format!("{label}: {m}"));
            }
        }
        if let Some(s) = rt.try_exited() {
            p.push(format!("the runtime exited ({s}) during step {}", i + 1));
            break;
        }
    }
    rt.stop().await;
    *logs = rt.logs();
    check_logs(case, logs, p);
    drop(dir);
}

/// Addresses of the adapters the steps talk to; `None` when there are no HTTP steps.
fn needed_addrs(case: &Case, exposes: &[Exposed]) -> Option<Vec<String>> {
    let mut wanted: Vec<(&str, Option<&str>)> = Vec::new();
    for s in &case.steps {
        if let Some(r) = &s.rest {
            wanted.push(("rest", r.adapter.as_deref()));
        } else if let Some(m) = &s.mcp {
            wanted.push(("mcp", m.adapter.as_deref()));
        } else if let Some(t) = &s.tool_call {
            wanted.push(("mcp", t.adapter.as_deref()));
        }
    }
    if wanted.is_empty() {
        return if case.steps.is_empty() {
            None
        } else {
            Some(Vec::new())
        };
    }
    let mut out = Vec::new();
    for (kind, ns) in wanted {
        let found = exposes.iter().find(|e| {
            e.kind == kind && !e.stdio && e.port.is_some() && ns.is_none_or(|n| n == e.namespace)
        });
        if let Some(e) = found {
            let a = format!("{}:{}", e.host, e.port.unwrap_or_default());
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    Some(out)
}

fn check_logs(case: &Case, logs: &str, p: &mut Problems) {
    for s in &case.expect.logs_exclude {
        if let Some(line) = logs.lines().find(|l| l.contains(s.as_str())) {
            p.push(format!(
                "the runtime's output contains `{s}`: {}",
                clip(line, 300)
            ));
        }
    }
}

fn step_label(i: usize, s: &Step) -> String {
    let what = if let Some(n) = &s.name {
        n.clone()
    } else if let Some(r) = &s.rest {
        format!("{} {}", r.method, r.path)
    } else if let Some(t) = &s.tool_call {
        format!("tools/call {}", t.name)
    } else if let Some(m) = &s.mcp {
        if let Some(r) = &m.request {
            r.method.clone()
        } else if let Some(n) = &m.notification {
            n.method.clone()
        } else if let Some(msg) = &m.message {
            msg.get("method")
                .and_then(Value::as_str)
                .map_or_else(|| "MCP message".to_string(), str::to_owned)
        } else {
            format!("MCP {}", m.http_method.as_deref().unwrap_or("POST"))
        }
    } else {
        "stdio".to_string()
    };
    format!("step {} ({what})", i + 1)
}

/// Last `n` lines of `s`.
pub(crate) fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| clip(l, 400))
        .collect::<Vec<_>>()
        .join("\n")
}

fn indent(s: &str) -> String {
    if s.trim().is_empty() {
        return "    (no output)".into();
    }
    s.lines()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The default cases directory: `conformance/cases` under the working directory, else
/// the one of the source tree this crate was built from.
pub(crate) fn default_cases_dir() -> PathBuf {
    let local = PathBuf::from("conformance/cases");
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/cases")
}
