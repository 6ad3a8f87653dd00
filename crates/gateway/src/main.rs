//! `naftiko-gateway`: serves Naftiko capability files as REST and MCP APIs.
//!
//! The binary owns the command line, reading files, the process environment and
//! exit codes; parsing rules live in `naftiko-spec`, serving in the adapter crates.
#![forbid(unsafe_code)]

mod admin;
mod demo;
mod files;
mod gateway;
mod serve;
mod validate;
mod vars;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Serves Naftiko capability files as REST and MCP APIs.
#[derive(Debug, Parser)]
#[command(name = "naftiko-gateway", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Checks capability files and prints every problem as file:line:col.
    ///
    /// Exit status: 0 when no file has errors, 1 when some file has errors, 2 on usage
    /// or I/O problems.
    Validate(ValidateArgs),
    /// Serves capability files: REST and MCP adapters on the ports they declare.
    Serve(serve::ServeArgs),
    /// Runs the seed capability against a bundled in-memory Ory fake and prints curl commands.
    Demo,
    /// Runs the capability conformance suite against this gateway or another runtime
    /// (`naftiko-gateway conformance --help` for its options).
    #[command(disable_help_flag = true)]
    Conformance {
        /// Options and case paths, passed to the runner.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Prints the status JSON of a gateway started with `--admin ADDR`.
    Status {
        /// The gateway's admin address.
        #[arg(long, default_value = "127.0.0.1:9901")]
        admin: std::net::SocketAddr,
    },
}

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// Treat schema deviations and unknown keys as errors.
    #[arg(long)]
    strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Only print the summary and errors (no warnings).
    #[arg(long, short)]
    quiet: bool,
    /// Capability files, or directories whose *.yml / *.yaml files are checked.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// `file:line:col: error[code]: message` with the source line and a caret.
    Human,
    /// One JSON object per line.
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Serve(args) => run_async(args.threads, serve::run(args)),
        Command::Demo => run_async(None, demo::run()),
        Command::Conformance { args } => naftiko_conformance::main_cli(args),
        Command::Status { admin } => run_async(Some(1), admin::print_status(admin)),
    }
}

fn run_async(
    threads: Option<usize>,
    fut: impl std::future::Future<Output = anyhow::Result<()>>,
) -> ExitCode {
    init_tracing();
    let mut builder = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n.max(1));
            b
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(fut) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr (stdout may carry MCP stdio traffic); `RUST_LOG` filters.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
