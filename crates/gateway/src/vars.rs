//! Bind values from the process environment, or from a bind's `location` file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use naftiko_plan::Vars;
use naftiko_spec::BindingSpec;

/// Reads binds: environment variables, or keys of a YAML/JSON file named by `location`
/// (relative to the capability file's directory). An optional map overrides both (demo).
pub(crate) struct ProcessVars {
    dir: PathBuf,
    overrides: HashMap<String, String>,
}

impl ProcessVars {
    pub(crate) fn new(capability_file: &Path, overrides: HashMap<String, String>) -> Self {
        Self {
            dir: capability_file
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            overrides,
        }
    }
}

/// A bind file's path: `file:///./x`, `file://./x` and `./x` are relative (to the capability
/// file's directory, else the working directory); `file:///abs` and `/abs` are absolute.
pub(crate) fn resolve_location(dir: &Path, location: &str) -> PathBuf {
    let rest = location.strip_prefix("file://").unwrap_or(location);
    let rel = rest
        .strip_prefix("/./")
        .or_else(|| rest.strip_prefix("./"))
        .map(|r| r.to_string());
    match rel {
        Some(r) => {
            let beside = dir.join(&r);
            if beside.exists() {
                beside
            } else {
                PathBuf::from(r)
            }
        }
        None if Path::new(rest).is_absolute() => PathBuf::from(rest),
        None => dir.join(rest),
    }
}

impl Vars for ProcessVars {
    fn env(&self, name: &str) -> Option<String> {
        self.overrides
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    }

    fn var(&self, binding: &BindingSpec, source_key: &str) -> Result<String, String> {
        if let Some(v) = self.overrides.get(source_key) {
            return Ok(v.clone());
        }
        let Some(location) = &binding.location else {
            return std::env::var(source_key)
                .map_err(|_| "it is not set in the environment".to_string());
        };
        let path = resolve_location(&self.dir, &location.value);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        let map: HashMap<String, serde_json::Value> = serde_saphyr::from_str(&text)
            .map_err(|_| format!("'{}' is not a YAML/JSON mapping", path.display()))?;
        match map.get(source_key) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(other) => Ok(other.to_string()),
            None => Err(format!("'{}' has no key '{source_key}'", path.display())),
        }
    }
}
