//! `naftiko-gateway serve`: load, compile, bind every adapter's port, reload on change,
//! serve until stopped.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use naftiko_plan::CompileOptions;
use naftiko_rest::RestConfig;
use naftiko_upstream::{CallOptions, HttpUpstream, Upstream};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::admin;
use crate::gateway::{Gateway, Settings, Source};
use crate::watch::Watcher;

/// Settings of `serve` (and `demo`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ServeArgs {
    /// Base URI of a consumes namespace: NAMESPACE=URL (repeatable). Required when the file's
    /// baseUri is empty.
    #[arg(long = "upstream", value_name = "NAMESPACE=URL")]
    pub(crate) upstreams: Vec<String>,
    /// Deadline of each upstream call (e.g. 30s, 500ms).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub(crate) upstream_timeout: Duration,
    /// Largest upstream response body, in bytes (larger → 502).
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub(crate) upstream_max_body: usize,
    /// Largest request body, in bytes (larger → 413).
    #[arg(long, default_value_t = 1024 * 1024)]
    pub(crate) max_body: usize,
    /// Address adapters listen on when the file gives none.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) bind: IpAddr,
    /// MCP without sessions (plain JSON, no GET stream): for replicas behind a load balancer.
    #[arg(long)]
    pub(crate) mcp_stateless: bool,
    /// An extra allowed `Origin` for MCP (repeatable; loopback origins are always allowed).
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub(crate) allowed_origins: Vec<String>,
    /// An extra allowed `Host` for MCP (repeatable; loopback names are always allowed).
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub(crate) allowed_hosts: Vec<String>,
    /// Serve the file's MCP adapter over stdin/stdout instead of HTTP (logs go to stderr).
    #[arg(long)]
    pub(crate) stdio: bool,
    /// Worker threads (default: one per CPU). `1` runs on a single thread, the fastest
    /// setup when the gateway is pinned to one core (upstream requests are then written
    /// in batches, once the ready requests have been read).
    #[arg(long)]
    pub(crate) threads: Option<usize>,
    /// Do not watch files (SIGHUP still reloads).
    #[arg(long)]
    pub(crate) no_watch: bool,
    /// Serve `GET /status` (JSON) on this address, e.g. 127.0.0.1:9901.
    #[arg(long)]
    pub(crate) admin: Option<SocketAddr>,
    /// How long in-flight requests may take to finish on shutdown or port removal.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub(crate) drain: Duration,
    /// How long a client connection may take to send a request's headers, and may stay
    /// idle between requests, before it is closed (slow or stalled clients).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub(crate) header_timeout: Duration,
    /// Capability files or directories.
    #[arg(required = true)]
    pub(crate) paths: Vec<PathBuf>,
}

/// Parses `30s`, `500ms`, `2m` or a plain number of seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (e.g. 30s, 500ms)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (ms, s, m)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// Builds the gateway settings from the command line.
pub(crate) fn settings(
    args: &ServeArgs,
    sources: Vec<Source>,
    bind_overrides: HashMap<String, String>,
) -> anyhow::Result<Settings> {
    let mut overrides = HashMap::new();
    for u in &args.upstreams {
        let (ns, url) = u
            .split_once('=')
            .with_context(|| format!("--upstream '{u}' must be NAMESPACE=URL"))?;
        overrides.insert(ns.to_string(), url.to_string());
    }
    let client: Arc<dyn Upstream> =
        Arc::new(HttpUpstream::new().context("building the upstream HTTP client")?);
    Ok(Settings {
        sources,
        compile: CompileOptions {
            upstream_overrides: overrides,
            call: CallOptions {
                timeout: args.upstream_timeout,
                max_body: args.upstream_max_body,
            },
        },
        bind: args.bind,
        rest: RestConfig {
            max_body: args.max_body,
        },
        mcp: naftiko_mcp::McpConfig {
            stateless: args.mcp_stateless,
            allowed_origins: args.allowed_origins.clone(),
            allowed_hosts: args.allowed_hosts.clone(),
            max_body: args.max_body,
            ..naftiko_mcp::McpConfig::default()
        },
        drain: args.drain,
        header_timeout: args.header_timeout,
        bind_overrides,
        client,
    })
}

/// `serve`: first load, then reload on file changes and SIGHUP until SIGINT/SIGTERM.
pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    for p in &args.paths {
        std::fs::metadata(p).with_context(|| format!("{}", p.display()))?;
    }
    if args.stdio {
        return run_stdio(&args).await;
    }
    let sources = args.paths.iter().cloned().map(Source::Path).collect();
    let gateway = Gateway::new(settings(&args, sources, HashMap::new())?);
    serve_until_stopped(gateway, &args).await
}

/// `serve --stdio FILE`: the file's MCP adapter over stdin/stdout (newline-delimited
/// JSON-RPC); stdout carries nothing else.
async fn run_stdio(args: &ServeArgs) -> anyhow::Result<()> {
    let [path] = args.paths.as_slice() else {
        bail!("--stdio serves exactly one capability file");
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.display().to_string();
    let loaded = crate::files::load(path, &text, naftiko_spec::LoadOptions::default());
    for d in loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == naftiko_spec::Severity::Error)
    {
        eprintln!("{}", d.render(&name, &text));
    }
    let doc = loaded
        .servable()
        .with_context(|| format!("{name} has errors"))?;
    let s = settings(args, Vec::new(), HashMap::new())?;
    let vars = crate::vars::ProcessVars::new(path, HashMap::new());
    let client = s.client.clone();
    let plan =
        naftiko_plan::compile(doc, &vars, &|_| client.clone(), &s.compile).map_err(|diags| {
            for d in diags.iter() {
                eprintln!("{}", d.render(&name, &text));
            }
            anyhow::anyhow!("{name} cannot be compiled")
        })?;
    let adapter = plan
        .mcp
        .into_iter()
        .next()
        .with_context(|| format!("{name} has no MCP adapter"))?;
    tracing::info!(adapter = %adapter.namespace, "MCP on stdio");
    let source: Arc<dyn naftiko_mcp::McpSource> = Arc::new(Arc::new(adapter));
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    naftiko_mcp::serve_stdio(source, stdin, tokio::io::stdout()).await?;
    Ok(())
}

/// Runs a gateway: first load, watching, admin endpoint, signals, graceful shutdown.
pub(crate) async fn serve_until_stopped(
    mut gateway: Gateway,
    args: &ServeArgs,
) -> anyhow::Result<()> {
    gateway.reload().await;
    if gateway.serving_files() == 0 {
        bail!("no capability could be served");
    }
    let (tx, mut rx) = mpsc::channel(1);
    let mut watcher = if args.no_watch {
        None
    } else {
        Some(Watcher::start(Duration::from_millis(50), tx.clone())?)
    };
    if let Some(w) = watcher.as_mut() {
        w.watch(&gateway.watch_dirs());
    }
    if let Some(addr) = args.admin {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the admin endpoint {addr}"))?;
        tracing::info!(
            "admin listening on http://{}/status",
            listener.local_addr()?
        );
        let app = admin::router(gateway.status());
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    tracing::info!(
        files = gateway.serving_files(),
        listeners = gateway.listeners().len(),
        "ready"
    );
    let mut hup = hangups();
    loop {
        tokio::select! {
            Some(()) = rx.recv() => {}
            Some(()) = hup.recv() => tracing::info!("SIGHUP: reloading"),
            () = wait_for_signal() => break,
        }
        gateway.reload().await;
        if let Some(w) = watcher.as_mut() {
            w.watch(&gateway.watch_dirs());
        }
    }
    tracing::info!("shutting down");
    gateway.shutdown().await;
    Ok(())
}

/// SIGHUP as a stream of reload requests.
fn hangups() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel(1);
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            let _ = tx.try_send(());
        }
    });
    #[cfg(not(unix))]
    drop(tx);
    rx
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
