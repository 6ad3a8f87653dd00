//! Finding capability files and reading them (with their imports).

use std::path::{Path, PathBuf};

use naftiko_spec::{LoadOptions, Loaded};

/// Expands files and directories into the capability files to load, sorted.
pub(crate) fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| is_capability_file(f))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// `*.yml` / `*.yaml`, not hidden and not an editor's temporary file.
pub(crate) fn is_capability_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let ext_ok = name.ends_with(".yml") || name.ends_with(".yaml");
    ext_ok && !name.starts_with('.') && !name.ends_with('~') && path.is_file()
}

/// Loads one file whose text is `source`; imports are read relative to its directory.
pub(crate) fn load(path: &Path, source: &str, options: LoadOptions) -> Loaded {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut read = |location: &str| {
        let rel = location.trim_start_matches("./");
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    };
    naftiko_spec::load(source, options, &mut read)
}
