//! Typed reading of YAML nodes that records every problem instead of stopping at one.
//!
//! Each model type reads its mapping through [`Fields`]: it asks for the keys it knows,
//! and `finish` reports the keys nobody asked for as `unknown-key` warnings (the runtime
//! ignores them; `--strict` turns them into errors).

use serde_json::Value;

use crate::diag::{Diagnostics, Pos, Spanned};
use crate::yaml::{Kind, Node};

/// The keys of one YAML mapping, tracking which ones were read.
pub(crate) struct Fields<'n> {
    entries: &'n [(Node, Node)],
    used: Vec<bool>,
    /// Position of the mapping itself.
    pub(crate) pos: Pos,
    what: &'static str,
}

/// Starts reading `node` as a mapping describing `what` (e.g. "an operation").
/// A node of another type is reported and yields `None`.
pub(crate) fn fields<'n>(
    node: &'n Node,
    what: &'static str,
    d: &mut Diagnostics,
) -> Option<Fields<'n>> {
    match &node.kind {
        Kind::Map(entries) => Some(Fields {
            entries,
            used: vec![false; entries.len()],
            pos: node.pos,
            what,
        }),
        other => {
            d.error(
                "type-mismatch",
                node.pos,
                format!("expected {what} (a mapping), found {}", other.type_name()),
            );
            None
        }
    }
}

impl<'n> Fields<'n> {
    /// The value node of `key`, marking it as read.
    pub(crate) fn get(&mut self, key: &str) -> Option<&'n Node> {
        let i = self
            .entries
            .iter()
            .position(|(k, _)| k.as_str() == Some(key))?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    /// Like [`Fields::get`] but a missing key is an error.
    pub(crate) fn require(&mut self, key: &str, d: &mut Diagnostics) -> Option<&'n Node> {
        let node = self.get(key);
        if node.is_none() {
            d.error(
                "missing-key",
                self.pos,
                format!("{} needs the key '{key}'", self.what),
            );
        }
        node
    }

    /// An optional string (numbers and booleans are accepted and written as text).
    pub(crate) fn str(&mut self, key: &str, d: &mut Diagnostics) -> Option<Spanned<String>> {
        self.get(key).and_then(|n| string(n, key, d))
    }

    /// A required string.
    pub(crate) fn req_str(&mut self, key: &str, d: &mut Diagnostics) -> Option<Spanned<String>> {
        self.require(key, d).and_then(|n| string(n, key, d))
    }

    /// An optional boolean.
    pub(crate) fn bool(&mut self, key: &str, d: &mut Diagnostics) -> Option<Spanned<bool>> {
        let n = self.get(key)?;
        match &n.kind {
            Kind::Bool(b) => Some(Spanned::new(*b, n.pos)),
            Kind::Null => None,
            other => {
                d.error(
                    "type-mismatch",
                    n.pos,
                    format!("'{key}' must be a boolean, found {}", other.type_name()),
                );
                None
            }
        }
    }

    /// An optional non-negative integer that fits `u64`.
    pub(crate) fn uint(&mut self, key: &str, d: &mut Diagnostics) -> Option<Spanned<u64>> {
        let n = self.get(key)?;
        match &n.kind {
            Kind::Int(i) if *i >= 0 => Some(Spanned::new(*i as u64, n.pos)),
            Kind::Str(s) if s.parse::<u64>().is_ok() => {
                s.parse().ok().map(|v| Spanned::new(v, n.pos))
            }
            Kind::Null => None,
            other => {
                d.error(
                    "type-mismatch",
                    n.pos,
                    format!(
                        "'{key}' must be a non-negative integer, found {}",
                        other.type_name()
                    ),
                );
                None
            }
        }
    }

    /// An optional value kept as JSON (literals, `value:` constants, body data).
    pub(crate) fn json(&mut self, key: &str) -> Option<Spanned<Value>> {
        self.get(key).map(|n| Spanned::new(n.to_json(), n.pos))
    }

    /// An optional list whose items are read by `item`.
    pub(crate) fn list<T>(
        &mut self,
        key: &str,
        d: &mut Diagnostics,
        mut item: impl FnMut(&'n Node, &mut Diagnostics) -> Option<T>,
    ) -> Vec<T> {
        match self.get(key) {
            None => Vec::new(),
            Some(n) => match &n.kind {
                Kind::Seq(items) => items.iter().filter_map(|i| item(i, d)).collect(),
                Kind::Null => Vec::new(),
                other => {
                    d.error(
                        "type-mismatch",
                        n.pos,
                        format!("'{key}' must be a list, found {}", other.type_name()),
                    );
                    Vec::new()
                }
            },
        }
    }

    /// An optional mapping whose entries are read by `entry(key, value)`.
    pub(crate) fn map<T>(
        &mut self,
        key: &str,
        d: &mut Diagnostics,
        mut entry: impl FnMut(Spanned<String>, &'n Node, &mut Diagnostics) -> Option<T>,
    ) -> Vec<T> {
        match self.get(key) {
            None => Vec::new(),
            Some(n) => match &n.kind {
                Kind::Map(entries) => entries
                    .iter()
                    .filter_map(|(k, v)| entry(Spanned::new(k.key_text(), k.pos), v, d))
                    .collect(),
                Kind::Null => Vec::new(),
                other => {
                    d.error(
                        "type-mismatch",
                        n.pos,
                        format!("'{key}' must be a mapping, found {}", other.type_name()),
                    );
                    Vec::new()
                }
            },
        }
    }

    /// Reports every key that was not read.
    pub(crate) fn finish(self, d: &mut Diagnostics) {
        for ((k, _), used) in self.entries.iter().zip(&self.used) {
            if !used {
                d.warning(
                    "unknown-key",
                    k.pos,
                    format!("unknown key '{}' in {} is ignored", k.key_text(), self.what),
                );
            }
        }
    }
}

/// Reads a scalar as a string; numbers and booleans are written as text.
pub(crate) fn string(n: &Node, key: &str, d: &mut Diagnostics) -> Option<Spanned<String>> {
    let text = match &n.kind {
        Kind::Str(s) => s.clone(),
        Kind::Int(i) => i.to_string(),
        Kind::Float(f) => f.to_string(),
        Kind::Bool(b) => b.to_string(),
        Kind::Null => return None,
        other => {
            d.error(
                "type-mismatch",
                n.pos,
                format!("'{key}' must be a string, found {}", other.type_name()),
            );
            return None;
        }
    };
    Some(Spanned::new(text, n.pos))
}
