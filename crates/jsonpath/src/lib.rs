//! The JSONPath dialect of Naftiko output mappings (`mapping: $.user.id`) and
//! its evaluation against `serde_json` values. This crate owns the mapping
//! syntax, its compilation into a [`Mapping`], and what a mapping selects; it
//! must not know about YAML, HTTP, capability files or protocol adapters —
//! callers hand it a string and a JSON value.
//!
//! # The dialect
//!
//! A mapping is RFC 9535 JSONPath, evaluated by [`serde_json_path`], after a
//! small lexical pre-pass ([`Mapping::parse`]) that accepts what capability
//! authors write in practice:
//!
//! 1. Surrounding whitespace is ignored, and `$.` means the root, like `$`.
//! 2. A dot-member name that RFC 9535 shorthand does not allow (shorthand is
//!    a letter, `_` or non-ASCII char, then those or digits) is rewritten to
//!    a bracketed name: `$.name-with-hyphen` → `$['name-with-hyphen']`,
//!    `$..first name` → `$..['first name']`. The name starts right after
//!    the dot (a blank there is left as an error) and runs up to the next
//!    `.`, `[` or `]`, minus trailing blanks; `'`, `\` and control characters
//!    are escaped.
//! 3. Nothing inside `[…]` is touched, so bracket selectors and the string
//!    literals of filters (`$[?@.x == 'a.b-c']`) keep their RFC meaning.
//!
//! Any other text reaches the RFC 9535 parser unchanged, and every RFC 9535
//! query is left as it is by the pre-pass. [`Mapping::parse_rfc9535`] skips
//! the pre-pass entirely.
//!
//! # Evaluation
//!
//! Results follow the Jayway convention: a *definite* path (only name and
//! index selectors: no wildcard, slice, filter, union or `..`) selects one
//! value or nothing; any other path selects a JSON array of every match,
//! possibly empty. See [`Selected`].
#![forbid(unsafe_code)]

mod error;
mod prepass;
mod shape;

use serde_json::Value;
use serde_json_path::JsonPath;

pub use error::MappingError;

/// A compiled mapping, cheap to evaluate many times.
#[derive(Clone, Debug)]
pub struct Mapping {
    source: String,
    path: JsonPath,
    root: bool,
    definite: bool,
}

impl Mapping {
    /// Compiles a mapping in the lenient Naftiko dialect (see the crate
    /// documentation for the pre-pass).
    pub fn parse(src: &str) -> Result<Mapping, MappingError> {
        let pre = prepass::rewrite(src);
        Self::compile(src, &pre.text, |at| pre.to_source(at, src.len()))
    }

    /// Compiles a strict RFC 9535 query, without the Naftiko pre-pass.
    pub fn parse_rfc9535(src: &str) -> Result<Mapping, MappingError> {
        Self::compile(src, src, |at| at)
    }

    fn compile(
        src: &str,
        text: &str,
        to_source: impl Fn(usize) -> usize,
    ) -> Result<Mapping, MappingError> {
        let path = JsonPath::parse(text)
            .map_err(|e| MappingError::new(src, text, to_source(e.position()), e.message()))?;
        Ok(Mapping {
            source: src.to_owned(),
            path,
            root: text == "$",
            definite: shape::is_definite(text),
        })
    }

    /// Whether the mapping selects the whole document (`$`, `$.`), so callers
    /// may pass the document through untouched.
    pub fn is_root(&self) -> bool {
        self.root
    }

    /// Whether the path is definite: [`Mapping::select`] then yields
    /// [`Selected::One`] or [`Selected::Missing`], never [`Selected::Many`].
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// The mapping text as given to [`Mapping::parse`] or
    /// [`Mapping::parse_rfc9535`].
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the mapping with the Jayway convention (see [`Selected`]).
    pub fn select<'a>(&self, doc: &'a Value) -> Selected<'a> {
        if self.root {
            return Selected::One(doc);
        }
        let nodes = self.path.query(doc);
        if self.definite {
            nodes.first().map_or(Selected::Missing, Selected::One)
        } else {
            Selected::Many(nodes.all())
        }
    }

    /// The raw RFC 9535 node list, in document order, whether or not the
    /// path is definite.
    pub fn query_nodes<'a>(&self, doc: &'a Value) -> Vec<&'a Value> {
        self.path.query(doc).all()
    }
}

/// What a [`Mapping`] selects from a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Selected<'a> {
    /// A definite path that matched nothing.
    Missing,
    /// The value at a definite path (or the whole document for the root).
    One(&'a Value),
    /// Every match of an indefinite path, in document order; maybe none.
    Many(Vec<&'a Value>),
}

impl Selected<'_> {
    /// The selection as an owned JSON value: `None` when missing, the value
    /// itself for [`Selected::One`], an array for [`Selected::Many`].
    pub fn to_value(&self) -> Option<Value> {
        match self {
            Selected::Missing => None,
            Selected::One(value) => Some((*value).clone()),
            Selected::Many(values) => Some(Value::Array(
                values.iter().map(|value| (*value).clone()).collect(),
            )),
        }
    }
}
