//! Bind values: where they come from ([`Vars`]) and how they are kept ([`Secret`]).

use std::collections::HashMap;
use std::fmt;

use naftiko_spec::BindingSpec;

/// A value from `binds`. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for building requests only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where bind values come from: the process environment or a bind file in production,
/// a map in tests (tests never touch the real environment).
pub trait Vars: Send + Sync {
    /// The value of `source_key` for `binding` (env var name, or key in its `location` file).
    fn var(&self, binding: &BindingSpec, source_key: &str) -> Result<String, String>;

    /// A plain environment variable, for consumed parameters with `in: environment`.
    fn env(&self, name: &str) -> Option<String>;
}

/// A [`Vars`] backed by a map from source key to value (ignores `location`).
#[derive(Debug, Default, Clone)]
pub struct MapVars(pub HashMap<String, String>);

impl MapVars {
    /// Builds from pairs.
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl Vars for MapVars {
    fn var(&self, _binding: &BindingSpec, source_key: &str) -> Result<String, String> {
        self.0
            .get(source_key)
            .cloned()
            .ok_or_else(|| format!("variable '{source_key}' is not set"))
    }

    fn env(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Resolved bind variables, by flat name (`X`) and namespaced name (`env.X`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Binds(pub(crate) HashMap<String, Secret>);

impl Binds {
    pub(crate) fn get(&self, name: &str) -> Option<&Secret> {
        self.0.get(name)
    }
}
