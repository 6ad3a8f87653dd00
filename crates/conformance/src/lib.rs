//! A runtime-neutral conformance suite for Naftiko capability runtimes.
//!
//! Cases live as data under `conformance/cases/<area>/*.yml` (format:
//! `conformance/case.schema.json`, described in `conformance/README.md`). For each case the
//! runner starts a scripted upstream on a free loopback port, rewrites the capability
//! (every consumes `baseUri` → the upstream, every exposes `port` → a free port), starts
//! the runtime under test as a child process, waits until its ports accept connections,
//! drives REST requests / MCP messages, and compares what the upstream saw and what the
//! runtime answered with the case's expectations.
//!
//! Entry points: [`main_cli`] (for a `conformance` subcommand, from synchronous code),
//! [`run_cli`] (the same from async code) and [`run`] (programmatic).

#![forbid(unsafe_code)]

mod capability;
pub mod case;
mod check;
mod http;
mod process;
mod report;
mod runner;
mod upstream;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use report::{junit, result_json};

/// The runtime command used when none is given: this very executable's `serve` command.
/// `{self}` is `std::env::current_exe()`, `{capability}` the rewritten capability file,
/// `{dir}` its directory (also the working directory of the runtime).
pub const DEFAULT_RUNTIME: &str = "{self} serve --upstream-timeout 2s {capability}";

/// The command used for capabilities whose MCP adapter has `transport: stdio`, when neither
/// a stdio command nor a runtime command is given.
pub const DEFAULT_RUNTIME_STDIO: &str = "{self} serve --stdio --upstream-timeout 2s {capability}";

/// Tag that marks cases for features a runtime may not implement; skipped by default.
pub const UNSUPPORTED_TAG: &str = "unsupported";

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every expectation held.
    Passed,
    /// Something did not hold (or the case/runtime was broken).
    Failed,
    /// Not run (tagged `unsupported`).
    Skipped,
}

/// The report of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Case id.
    pub id: String,
    /// Area (directory name).
    pub area: String,
    /// Case title.
    pub title: String,
    /// The case file.
    pub file: PathBuf,
    /// Tags.
    pub tags: Vec<String>,
    /// Outcome.
    pub outcome: Outcome,
    /// One line (or a few) per mismatch; empty when passed.
    pub problems: Vec<String>,
    /// What the runtime printed (stderr, then stdout).
    pub logs: String,
    /// Wall time of the case.
    pub duration: Duration,
}

/// Called once per finished case (in completion order).
pub type ResultHook = Arc<dyn Fn(&CaseResult) + Send + Sync>;

/// What to run and how.
#[derive(Clone)]
pub struct RunOptions {
    /// Case files or directories (default: [`default_cases_dir`]).
    pub cases: Vec<PathBuf>,
    /// Runtime command template (default: [`DEFAULT_RUNTIME`]).
    pub runtime: Option<String>,
    /// Command template for capabilities served over MCP stdio (default: `runtime` when
    /// given, else [`DEFAULT_RUNTIME_STDIO`]).
    pub runtime_stdio: Option<String>,
    /// Run only cases with one of these tags, ids or areas (empty: all).
    pub filters: Vec<String>,
    /// Also run cases tagged `unsupported`.
    pub include_unsupported: bool,
    /// Cases run at the same time.
    pub jobs: usize,
    /// How long a runtime may take to listen on its ports (or to refuse a capability).
    pub ready_timeout: Duration,
    /// Default deadline of one step.
    pub step_timeout: Duration,
    /// Extra environment variable names passed through to the runtime.
    pub pass_env: Vec<String>,
    /// Progress callback.
    pub on_result: Option<ResultHook>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("cases", &self.cases)
            .field("runtime", &self.runtime)
            .field("runtime_stdio", &self.runtime_stdio)
            .field("filters", &self.filters)
            .field("include_unsupported", &self.include_unsupported)
            .field("jobs", &self.jobs)
            .field("ready_timeout", &self.ready_timeout)
            .field("step_timeout", &self.step_timeout)
            .field("pass_env", &self.pass_env)
            .field("on_result", &self.on_result.is_some())
            .finish()
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            cases: Vec::new(),
            runtime: None,
            runtime_stdio: None,
            filters: Vec::new(),
            include_unsupported: false,
            jobs: 4,
            ready_timeout: Duration::from_secs(10),
            step_timeout: Duration::from_secs(10),
            pass_env: Vec::new(),
            on_result: None,
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases skipped (tagged `unsupported`).
    pub skipped: usize,
    /// Every selected case, in file order.
    pub results: Vec<CaseResult>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Why nothing could run (bad options, no case directory).
    pub error: Option<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// `conformance/cases` under the working directory if it exists, else the directory of
/// the source tree this crate was built from.
pub fn default_cases_dir() -> PathBuf {
    runner::default_cases_dir()
}

fn selected(lc: &case::LoadedCase, filters: &[String]) -> bool {
    filters.is_empty()
        || filters
            .iter()
            .any(|f| lc.tags.iter().any(|t| t == f) || lc.id == *f || lc.area == *f)
}

/// Splits a command template; a relative program path is anchored to the current
/// directory (the runtime itself runs in a temporary directory).
fn command(template: &str) -> Result<Vec<String>, String> {
    let mut w = process::split_command(template)?;
    if let Some(first) = w.first_mut() {
        let p = std::path::Path::new(first.as_str());
        if p.is_relative()
            && p.components().count() > 1
            && let Ok(abs) = std::path::absolute(p)
        {
            *first = abs.display().to_string();
        }
    }
    Ok(w)
}

/// Runs the selected cases against the runtime and returns the summary.
pub async fn run(opts: RunOptions) -> Summary {
    let started = Instant::now();
    let mut summary = Summary::default();
    let paths = if opts.cases.is_empty() {
        vec![default_cases_dir()]
    } else {
        opts.cases.clone()
    };
    let files = match case::collect_case_files(&paths) {
        Ok(f) => f,
        Err(e) => {
            summary.error = Some(e);
            return summary;
        }
    };
    let template = opts.runtime.as_deref().unwrap_or(DEFAULT_RUNTIME);
    let stdio_template = opts
        .runtime_stdio
        .as_deref()
        .or(opts.runtime.as_deref())
        .unwrap_or(DEFAULT_RUNTIME_STDIO);
    let (words, stdio_words) = match (command(template), command(stdio_template)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            summary.error = Some(e);
            return summary;
        }
    };
    let self_exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "naftiko-gateway".into());
    let ctx = Arc::new(runner::Ctx {
        runtime: words,
        runtime_stdio: stdio_words,
        self_exe,
        ready_timeout: opts.ready_timeout,
        step_timeout: opts.step_timeout,
        pass_env: opts.pass_env.clone(),
    });
    let loaded: Vec<case::LoadedCase> = files
        .iter()
        .map(|f| case::load_case(f))
        .filter(|lc| selected(lc, &opts.filters))
        .collect();
    let mut ids = std::collections::HashMap::new();
    let mut results: Vec<Option<CaseResult>> = vec![None; loaded.len()];
    let gate = Arc::new(Semaphore::new(opts.jobs.max(1)));
    let mut set = JoinSet::new();
    for (i, lc) in loaded.into_iter().enumerate() {
        let duplicate = ids.insert(lc.id.clone(), lc.file.clone());
        if lc.tags.iter().any(|t| t == UNSUPPORTED_TAG) && !opts.include_unsupported {
            let r = CaseResult {
                id: lc.id.clone(),
                area: lc.area.clone(),
                title: lc
                    .case
                    .as_ref()
                    .map(|c| c.title.clone())
                    .unwrap_or_default(),
                file: lc.file.clone(),
                tags: lc.tags.clone(),
                outcome: Outcome::Skipped,
                problems: Vec::new(),
                logs: String::new(),
                duration: Duration::ZERO,
            };
            if let Some(hook) = &opts.on_result {
                hook(&r);
            }
            results[i] = Some(r);
            continue;
        }
        let ctx = Arc::clone(&ctx);
        let gate = Arc::clone(&gate);
        let hook = opts.on_result.clone();
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let mut r = runner::run_case(&lc, &ctx).await;
            if let Some(other) = duplicate {
                r.outcome = Outcome::Failed;
                r.problems.insert(
                    0,
                    format!(
                        "malformed case: id `{}` is also used by {}",
                        lc.id,
                        other.display()
                    ),
                );
            }
            if let Some(hook) = hook {
                hook(&r);
            }
            (i, r)
        });
    }
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r)) = joined {
            results[i] = Some(r);
        }
    }
    for r in results.into_iter().flatten() {
        match r.outcome {
            Outcome::Passed => summary.passed += 1,
            Outcome::Failed => summary.failed += 1,
            Outcome::Skipped => summary.skipped += 1,
        }
        summary.results.push(r);
    }
    summary.elapsed = started.elapsed();
    summary
}

/// Output format of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per case, details of failures, then the summary line.
    Human,
    /// JUnit XML on stdout.
    Junit,
    /// One JSON object per case (one per line), then a summary object.
    Json,
}

/// Runs the conformance suite against a Naftiko runtime.
#[derive(Debug, Parser)]
#[command(name = "naftiko-gateway conformance", version)]
struct CliArgs {
    /// Command that serves one capability file. `{capability}` is the file (appended when
    /// absent), `{self}` this executable, `{dir}` the case's working directory.
    #[arg(long, value_name = "CMD")]
    runtime: Option<String>,
    /// Command for capabilities whose MCP adapter uses `transport: stdio` (default: the
    /// --runtime command, else `{self} serve --stdio {capability}`).
    #[arg(long, value_name = "CMD")]
    runtime_stdio: Option<String>,
    /// Run only cases with this tag, id or area (repeatable: any of them).
    #[arg(long, value_name = "TAG")]
    filter: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Also run cases tagged `unsupported`.
    #[arg(long)]
    include_unsupported: bool,
    /// Cases run in parallel.
    #[arg(long, short = 'j', default_value_t = 4)]
    jobs: usize,
    /// Seconds a runtime may take to listen on its ports.
    #[arg(long, default_value_t = 10.0)]
    ready_timeout: f64,
    /// Default seconds per step.
    #[arg(long, default_value_t = 10.0)]
    step_timeout: f64,
    /// Pass this environment variable through to the runtime (repeatable).
    #[arg(long, value_name = "NAME")]
    pass_env: Vec<String>,
    /// Case files or directories (default: conformance/cases).
    cases: Vec<PathBuf>,
}

/// The `conformance` subcommand, from synchronous code: `args` are the arguments after
/// the subcommand name (e.g. `["--filter", "seed", "--format", "junit"]`). Builds its own
/// tokio runtime, so do not call it from inside one (use [`run_cli`] there).
///
/// Exit status: 0 when nothing failed, 1 when a case failed, 2 on usage errors.
pub fn main_cli(args: Vec<String>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run_cli(args)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(2)
        }
    }
}

/// [`main_cli`] for async callers.
pub async fn run_cli(args: Vec<String>) -> ExitCode {
    let cli = match CliArgs::try_parse_from(
        std::iter::once("naftiko-gateway conformance".to_string()).chain(args),
    ) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let secs = |s: f64, what: &str| {
        Duration::try_from_secs_f64(s).map_err(|_| format!("--{what} must be a positive number"))
    };
    let (ready_timeout, step_timeout) = match (
        secs(cli.ready_timeout, "ready-timeout"),
        secs(cli.step_timeout, "step-timeout"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let format = cli.format;
    let hook: Option<ResultHook> = match format {
        Format::Human => Some(Arc::new(|r: &CaseResult| {
            println!("{}", report::human_line(r));
        })),
        Format::Json => Some(Arc::new(|r: &CaseResult| {
            println!("{}", report::result_json(r));
        })),
        Format::Junit => None,
    };
    let opts = RunOptions {
        cases: cli.cases,
        runtime: cli.runtime,
        runtime_stdio: cli.runtime_stdio,
        filters: cli.filter,
        include_unsupported: cli.include_unsupported,
        jobs: cli.jobs,
        ready_timeout,
        step_timeout,
        pass_env: cli.pass_env,
        on_result: hook,
    };
    let summary = run(opts).await;
    if let Some(e) = &summary.error {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    match format {
        Format::Human => {
            print!("{}", report::human_summary(&summary));
        }
        Format::Json => println!("{}", report::summary_json(&summary)),
        Format::Junit => print!("{}", report::junit(&summary)),
    }
    if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
