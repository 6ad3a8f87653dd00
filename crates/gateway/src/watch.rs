//! Watching capability directories: any change (editors' rename-and-replace, Kubernetes'
//! `..data` symlink swap) triggers a reload; the reload compares contents, so spurious
//! triggers cost a re-read, never a restart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc;

/// Keeps the OS watches alive; dropping it stops watching.
pub(crate) struct Watcher {
    debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    watched: Vec<PathBuf>,
}

/// Editors' swap and backup files never trigger a reload on their own.
fn is_temp(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with('~')
        || name.starts_with(".#")
        || name == "4913"
}

impl Watcher {
    /// Starts watching; each debounced batch of relevant events sends one `()`.
    pub(crate) fn start(debounce: Duration, tx: mpsc::Sender<()>) -> notify::Result<Self> {
        let debouncer = new_debouncer(debounce, None, move |res: DebounceEventResult| {
            let Ok(events) = res else { return };
            let relevant = events.iter().any(|e| {
                !matches!(e.kind, EventKind::Access(_))
                    && (e.paths.is_empty() || e.paths.iter().any(|p| !is_temp(p)))
            });
            if relevant {
                // A full channel already holds a pending reload: coalesce.
                let _ = tx.try_send(());
            }
        })?;
        Ok(Self {
            debouncer,
            watched: Vec::new(),
        })
    }

    /// Watches `dirs` (non-recursively), adding any not yet watched.
    pub(crate) fn watch(&mut self, dirs: &[PathBuf]) {
        for d in dirs {
            if self.watched.contains(d) {
                continue;
            }
            match self.debouncer.watch(d, RecursiveMode::NonRecursive) {
                Ok(()) => self.watched.push(d.clone()),
                Err(e) => tracing::warn!(dir = %d.display(), error = %e, "cannot watch"),
            }
        }
    }
}
