//! Files, generations and the reload algorithm.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use naftiko_plan::{CompileOptions, Plan};
use naftiko_rest::{RestConfig, RestRoutes};
use naftiko_spec::{DocumentSpec, LoadOptions, Severity};
use naftiko_upstream::Upstream;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::assemble::{Assembly, Served, merge_mcp};
use super::listeners::{Listener, Slot};
use super::mcp;
use crate::files;
use crate::vars::ProcessVars;

/// Where capability text comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A file or a directory of `*.yml` / `*.yaml`, re-listed on every reload.
    Path(PathBuf),
    /// Text known up front (the demo's bundled seed), under a display name.
    Inline(PathBuf, String),
}

/// Settings fixed for the life of the process.
pub(crate) struct Settings {
    pub(crate) sources: Vec<Source>,
    pub(crate) compile: CompileOptions,
    pub(crate) bind: IpAddr,
    pub(crate) rest: RestConfig,
    pub(crate) mcp: naftiko_mcp::McpConfig,
    pub(crate) drain: Duration,
    /// Client header and keep-alive idle deadline of every listener.
    pub(crate) header_timeout: Duration,
    pub(crate) bind_overrides: HashMap<String, String>,
    pub(crate) client: Arc<dyn Upstream>,
}

struct FileState {
    hash: u64,
    live: Option<(Arc<Plan>, u64)>,
    rejected: bool,
    diagnostics: Vec<String>,
    bind_files: Vec<PathBuf>,
}

/// The gateway: owned by one task, so reloads never race.
pub(crate) struct Gateway {
    settings: Settings,
    files: BTreeMap<PathBuf, FileState>,
    listeners: BTreeMap<SocketAddr, Listener>,
    generation: u64,
    status: Arc<ArcSwap<Value>>,
}

enum Candidate {
    Unchanged,
    New(Arc<Plan>),
    Failed,
}

impl Gateway {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings,
            files: BTreeMap::new(),
            listeners: BTreeMap::new(),
            generation: 0,
            status: Arc::new(ArcSwap::from_pointee(json!({}))),
        }
    }

    /// The status document, updated after every reload.
    pub(crate) fn status(&self) -> Arc<ArcSwap<Value>> {
        self.status.clone()
    }

    /// Bound addresses with what they serve (`rest` or `mcp`).
    pub(crate) fn listeners(&self) -> Vec<(&'static str, SocketAddr)> {
        self.listeners
            .values()
            .map(|l| {
                (
                    if matches!(l.slot, Slot::Rest(_)) {
                        "rest"
                    } else {
                        "mcp"
                    },
                    l.bound,
                )
            })
            .collect()
    }

    /// Directories to watch: those of path sources and of bind files.
    pub(crate) fn watch_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self
            .settings
            .sources
            .iter()
            .filter_map(|s| match s {
                Source::Path(p) if p.is_dir() => Some(p.clone()),
                Source::Path(p) => Some(p.parent().map_or_else(
                    || PathBuf::from("."),
                    |d| {
                        if d.as_os_str().is_empty() {
                            PathBuf::from(".")
                        } else {
                            d.to_path_buf()
                        }
                    },
                )),
                Source::Inline(..) => None,
            })
            .collect();
        dirs.extend(self.files.values().flat_map(|f| {
            f.bind_files
                .iter()
                .filter_map(|b| b.parent().map(Path::to_path_buf))
        }));
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// Files that currently serve a version.
    pub(crate) fn serving_files(&self) -> usize {
        self.files.values().filter(|f| f.live.is_some()).count()
    }

    /// Re-reads every source, compiles what changed, and publishes the next generation.
    pub(crate) async fn reload(&mut self) {
        let started = Instant::now();
        let generation = self.generation + 1;
        let texts = self.read_sources();
        let mut candidates: BTreeMap<PathBuf, Candidate> = BTreeMap::new();
        self.files.retain(|p, _| texts.contains_key(p));
        for (path, text) in &texts {
            candidates.insert(path.clone(), self.consider(path, text.as_deref()));
        }
        let (assembly, mut notes) = self.assemble(&candidates);
        let (assembly, opened) = self.bind_new(assembly, &mut candidates, &mut notes).await;
        let closed = self.publish(&assembly, opened).await;
        let (mut loaded, mut rejected) = (0, 0);
        for (path, cand) in candidates {
            let Some(state) = self.files.get_mut(&path) else {
                continue;
            };
            match cand {
                Candidate::New(plan) if !notes.contains_key(&path) => {
                    state.live = Some((plan, generation));
                    state.rejected = false;
                    state.diagnostics.clear();
                }
                Candidate::Unchanged if !notes.contains_key(&path) => {}
                _ => state.rejected = true,
            }
            if let Some(note) = notes.remove(&path) {
                tracing::warn!(file = %path.display(), "{note}");
                state.diagnostics.push(note);
            }
            if state.rejected {
                rejected += 1
            } else {
                loaded += 1
            }
        }
        self.generation = generation;
        tracing::info!(
            generation, loaded, rejected,
            opened = ?self.listeners.values().filter(|l| l.fresh(generation)).map(|l| l.bound).collect::<Vec<_>>(),
            closed = ?closed,
            took_ms = started.elapsed().as_secs_f64() * 1000.0,
            "reload"
        );
        self.publish_status();
    }

    fn read_sources(&self) -> BTreeMap<PathBuf, Option<String>> {
        let mut texts = BTreeMap::new();
        for s in &self.settings.sources {
            match s {
                Source::Inline(name, text) => {
                    texts.insert(name.clone(), Some(text.clone()));
                }
                Source::Path(p) => {
                    let paths = if p.is_dir() {
                        files::expand(std::slice::from_ref(p)).unwrap_or_default()
                    } else {
                        vec![p.clone()]
                    };
                    for f in paths {
                        // A file that cannot be read right now (mid-rename) keeps its last good version.
                        let text = std::fs::read_to_string(&f).ok();
                        if text.is_some() || self.files.contains_key(&f) {
                            texts.insert(f, text);
                        }
                    }
                }
            }
        }
        texts
    }

    fn consider(&mut self, path: &Path, text: Option<&str>) -> Candidate {
        let Some(text) = text else {
            return Candidate::Failed;
        };
        let state = self
            .files
            .entry(path.to_path_buf())
            .or_insert_with(|| FileState {
                hash: 0,
                live: None,
                rejected: false,
                diagnostics: Vec::new(),
                bind_files: Vec::new(),
            });
        let hash = content_hash(text, &state.bind_files);
        if hash == state.hash && !state.rejected && state.live.is_some() {
            return Candidate::Unchanged;
        }
        state.hash = hash;
        let name = path.display().to_string();
        let loaded = files::load(path, text, LoadOptions::default());
        state.diagnostics = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.render(&name, text))
            .collect();
        for d in &state.diagnostics {
            tracing::error!("{d}");
        }
        let Some(doc) = loaded.servable() else {
            return Candidate::Failed;
        };
        state.bind_files = bind_files(path, doc);
        state.hash = content_hash(text, &state.bind_files);
        let vars = ProcessVars::new(path, self.settings.bind_overrides.clone());
        let client = self.settings.client.clone();
        match naftiko_plan::compile(doc, &vars, &|_| client.clone(), &self.settings.compile) {
            Ok(plan) => Candidate::New(Arc::new(plan)),
            Err(diags) => {
                for d in diags.iter() {
                    let r = d.render(&name, text);
                    tracing::error!("{r}");
                    state.diagnostics.push(r);
                }
                Candidate::Failed
            }
        }
    }

    /// Adds each file's candidate, falling back to its last good plan on a collision.
    fn assemble(
        &self,
        candidates: &BTreeMap<PathBuf, Candidate>,
    ) -> (Assembly, HashMap<PathBuf, String>) {
        let mut assembly = Assembly::default();
        let mut notes = HashMap::new();
        for (path, cand) in candidates {
            let live = self
                .files
                .get(path)
                .and_then(|s| s.live.as_ref().map(|(p, _)| p.clone()));
            let first = match cand {
                Candidate::New(p) => Some(p.clone()),
                Candidate::Unchanged | Candidate::Failed => live.clone(),
            };
            let Some(plan) = first else { continue };
            if let Err(e) = assembly.try_add(path, &plan, self.settings.bind) {
                notes.insert(path.clone(), format!("change rejected: {e}"));
                if let (Candidate::New(_), Some(old)) = (cand, live) {
                    let _ = assembly.try_add(path, &old, self.settings.bind);
                }
            }
        }
        (assembly, notes)
    }

    /// Binds addresses not yet listened on; a file whose new version needs a port that
    /// cannot be bound is rejected and the assembly redone without it.
    async fn bind_new(
        &mut self,
        mut assembly: Assembly,
        candidates: &mut BTreeMap<PathBuf, Candidate>,
        notes: &mut HashMap<PathBuf, String>,
    ) -> (Assembly, BTreeMap<SocketAddr, TcpListener>) {
        let mut opened = BTreeMap::new();
        for _ in 0..3 {
            let mut failed = false;
            for (addr, served) in &assembly.by_addr {
                if self.listeners.contains_key(addr) || opened.contains_key(addr) {
                    continue;
                }
                match TcpListener::bind(addr).await {
                    Ok(l) => {
                        opened.insert(*addr, l);
                    }
                    Err(e) => {
                        failed = true;
                        for f in files_of(served) {
                            notes.insert(
                                f.clone(),
                                format!("change rejected: cannot listen on {addr}: {e}"),
                            );
                            candidates.insert(f, Candidate::Failed);
                        }
                    }
                }
            }
            if !failed {
                break;
            }
            let (a, more) = self.assemble(candidates);
            notes.extend(more);
            assembly = a;
        }
        opened.retain(|addr, _| assembly.by_addr.contains_key(addr));
        (assembly, opened)
    }

    async fn publish(
        &mut self,
        assembly: &Assembly,
        mut opened: BTreeMap<SocketAddr, TcpListener>,
    ) -> Vec<SocketAddr> {
        for (addr, served) in &assembly.by_addr {
            if let Some(l) = opened.remove(addr) {
                let listener = match served {
                    Served::Rest(list) => match RestRoutes::new(list.iter().map(|(_, a)| a)) {
                        Ok(routes) => Listener::rest(
                            l,
                            self.settings.rest,
                            Arc::new(routes),
                            self.settings.header_timeout,
                        ),
                        Err(e) => Err(std::io::Error::other(e.to_string())),
                    },
                    Served::Mcp(list) => mcp::listener(
                        l,
                        self.settings.mcp.clone(),
                        merge_mcp(list),
                        self.settings.header_timeout,
                    ),
                };
                match listener {
                    Ok(mut listener) => {
                        listener.generation = self.generation + 1;
                        tracing::info!(
                            "{} listening on http://{}",
                            if matches!(served, Served::Rest(_)) {
                                "REST"
                            } else {
                                "MCP"
                            },
                            listener.bound
                        );
                        self.listeners.insert(*addr, listener);
                    }
                    Err(e) => tracing::error!(%addr, error = %e, "cannot serve"),
                }
                continue;
            }
            match (served, self.listeners.get(addr).map(|l| &l.slot)) {
                (Served::Rest(list), Some(Slot::Rest(slot))) => {
                    if let Ok(routes) = RestRoutes::new(list.iter().map(|(_, a)| a)) {
                        slot.0.store(Some(Arc::new(routes)));
                    }
                }
                (Served::Mcp(list), Some(Slot::Mcp(slot))) => {
                    mcp::publish(slot, merge_mcp(list));
                }
                _ => {}
            }
        }
        let gone: Vec<SocketAddr> = self
            .listeners
            .keys()
            .filter(|a| !assembly.by_addr.contains_key(a))
            .copied()
            .collect();
        for addr in &gone {
            if let Some(l) = self.listeners.remove(addr) {
                tracing::info!("closing {}", l.bound);
                let drain = self.settings.drain;
                tokio::spawn(l.stop(drain));
            }
        }
        gone
    }

    fn publish_status(&self) {
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|(p, s)| {
                let status = match (&s.live, s.rejected) {
                    (Some(_), false) => "loaded",
                    (Some(_), true) => "rejected_serving_last_good",
                    (None, _) => "never_loaded",
                };
                json!({
                    "path": p.display().to_string(),
                    "status": status,
                    "last_good_generation": s.live.as_ref().map(|(_, g)| g),
                    "diagnostics": s.diagnostics,
                })
            })
            .collect();
        let listeners: Vec<Value> = self
            .listeners()
            .into_iter()
            .map(|(k, a)| json!({"kind": k, "address": a.to_string()}))
            .collect();
        self.status.store(Arc::new(
            json!({"generation": self.generation, "files": files, "listeners": listeners}),
        ));
    }

    /// Stops every listener, draining in-flight requests.
    pub(crate) async fn shutdown(mut self) {
        let drain = self.settings.drain;
        let all: Vec<Listener> = std::mem::take(&mut self.listeners).into_values().collect();
        for l in all {
            l.stop(drain).await;
        }
    }
}

fn files_of(served: &Served) -> Vec<PathBuf> {
    match served {
        Served::Rest(l) => l.iter().map(|(f, _)| f.clone()).collect(),
        Served::Mcp(l) => l.iter().map(|(f, _)| f.clone()).collect(),
    }
}

fn bind_files(path: &Path, doc: &DocumentSpec) -> Vec<PathBuf> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let binds = doc
        .binds
        .iter()
        .chain(doc.capability.iter().flat_map(|c| c.binds.iter()));
    binds
        .filter_map(|b| b.location.as_ref())
        .map(|l| crate::vars::resolve_location(&dir, &l.value))
        .collect()
}

/// Hash of a file's text and of the bind files it reads, so either change recompiles it.
fn content_hash(text: &str, bind_files: &[PathBuf]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    for f in bind_files {
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    h.finish()
}
