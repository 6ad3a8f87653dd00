//! `naftiko-gateway serve`: load, compile, bind every adapter's port, serve until stopped.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use naftiko_plan::{CompileOptions, Plan, RestAdapterPlan};
use naftiko_rest::{RestConfig, RestRoutes, RestSource};
use naftiko_spec::{LoadOptions, Severity};
use naftiko_upstream::{CallOptions, HttpUpstream, Upstream};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::{files, vars::ProcessVars};

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

/// A running gateway: its listeners and how to stop them.
pub(crate) struct Running {
    /// Bound addresses, REST adapters first.
    pub(crate) listeners: Vec<(String, SocketAddr)>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (up to `drain`), then returns.
    pub(crate) async fn shutdown(self, drain: Duration) {
        let _ = self.stop.send(true);
        let all = futures_join(self.tasks);
        let _ = tokio::time::timeout(drain, all).await;
    }
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}

/// Loads and compiles every file; prints diagnostics; fails when nothing can be served.
pub(crate) fn load_plans(
    args: &ServeArgs,
    bind_overrides: &HashMap<String, String>,
    sources: &[(PathBuf, String)],
) -> anyhow::Result<Vec<(PathBuf, Plan)>> {
    let mut overrides = HashMap::new();
    for u in &args.upstreams {
        let (ns, url) = u
            .split_once('=')
            .with_context(|| format!("--upstream '{u}' must be NAMESPACE=URL"))?;
        overrides.insert(ns.to_string(), url.to_string());
    }
    let opts = CompileOptions {
        upstream_overrides: overrides,
        call: CallOptions {
            timeout: args.upstream_timeout,
            max_body: args.upstream_max_body,
        },
    };
    let client: Arc<dyn Upstream> =
        Arc::new(HttpUpstream::new().context("building the upstream HTTP client")?);
    let mut plans = Vec::new();
    let mut failed = 0;
    for (path, source) in sources {
        let name = path.display().to_string();
        let loaded = files::load(path, source, LoadOptions::default());
        for d in loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            eprintln!("{}", d.render(&name, source));
        }
        let Some(doc) = loaded.servable() else {
            failed += 1;
            continue;
        };
        let vars = ProcessVars::new(path, bind_overrides.clone());
        // One pooled client serves every namespace: pools are per host already.
        match naftiko_plan::compile(doc, &vars, &|_| client.clone(), &opts) {
            Ok(plan) => plans.push((path.clone(), plan)),
            Err(diags) => {
                failed += 1;
                for d in diags.iter() {
                    eprintln!("{}", d.render(&name, source));
                }
            }
        }
    }
    if plans.is_empty() {
        bail!("no capability could be served ({failed} file(s) rejected)");
    }
    Ok(plans)
}

/// Binds every REST port and starts serving.
pub(crate) async fn start(args: &ServeArgs, plans: &[(PathBuf, Plan)]) -> anyhow::Result<Running> {
    let mut by_addr: BTreeMap<SocketAddr, Vec<&RestAdapterPlan>> = BTreeMap::new();
    for (_, plan) in plans {
        for r in &plan.rest {
            let ip = r
                .address
                .as_deref()
                .map_or(Ok(args.bind), address)
                .with_context(|| format!("adapter '{}'", r.namespace))?;
            by_addr
                .entry(SocketAddr::new(ip, r.port))
                .or_default()
                .push(r);
        }
    }
    let (stop, stop_rx) = watch::channel(false);
    let mut running = Running {
        listeners: Vec::new(),
        stop,
        tasks: Vec::new(),
    };
    for (addr, adapters) in by_addr {
        let names: Vec<&str> = adapters.iter().map(|a| a.namespace.as_str()).collect();
        let routes = RestRoutes::new(adapters.iter().copied())
            .with_context(|| format!("REST adapters on {addr}"))?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr} for REST adapter {}", names.join(", ")))?;
        let bound = listener.local_addr()?;
        tracing::info!(adapter = %names.join(","), "REST listening on http://{bound}");
        let source: Arc<dyn RestSource> = Arc::new(Arc::new(routes));
        let app = naftiko_rest::router(
            source,
            RestConfig {
                max_body: args.max_body,
            },
        );
        running
            .listeners
            .push((format!("rest {}", names.join(",")), bound));
        running
            .tasks
            .push(spawn_server(listener, app, stop_rx.clone()));
    }
    Ok(running)
}

fn address(s: &str) -> anyhow::Result<IpAddr> {
    match s {
        "localhost" => Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        other => other
            .parse()
            .with_context(|| format!("'{other}' is not an IP address")),
    }
}

pub(crate) fn spawn_server(
    listener: TcpListener,
    app: axum::Router,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "listener failed");
        }
    })
}

/// `serve`: runs until SIGINT/SIGTERM, then drains.
pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let paths = files::expand(&args.paths).map_err(anyhow::Error::msg)?;
    let mut sources = Vec::new();
    for p in paths {
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        sources.push((p, text));
    }
    let plans = load_plans(&args, &HashMap::new(), &sources)?;
    let running = start(&args, &plans).await?;
    tracing::info!(
        files = plans.len(),
        listeners = running.listeners.len(),
        "ready"
    );
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.shutdown(Duration::from_secs(10)).await;
    Ok(())
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
