//! Diagnostics: what is wrong with a capability file, where, and how bad.

use std::fmt;

/// A 1-based line and column in a source file (characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
}

impl Pos {
    /// A position at `line:col`.
    pub const fn new(line: u32, col: u32) -> Self {
        Self { line, col }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A value together with the position of the YAML node it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where the value's node starts.
    pub pos: Pos,
}

impl<T> Spanned<T> {
    /// Pairs a value with a position.
    pub const fn new(value: T, pos: Pos) -> Self {
        Self { value, pos }
    }
}

impl Spanned<String> {
    /// The string value.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file cannot be served as written.
    Error,
    /// The file can be served, but something is off (schema deviation, unknown key, ...).
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem in a capability file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, e.g. `call-target` or `naftiko-namespaces-unique`.
    pub code: &'static str,
    /// Where the offending node starts.
    pub pos: Pos,
    /// One sentence naming the problem.
    pub message: String,
}

impl Diagnostic {
    /// An error.
    pub fn error(code: &'static str, pos: Pos, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            pos,
            message: message.into(),
        }
    }

    /// A warning.
    pub fn warning(code: &'static str, pos: Pos, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            code,
            pos,
            message: message.into(),
        }
    }

    /// Renders `file:line:col: severity[code]: message`, then the source line and a caret.
    pub fn render(&self, file: &str, source: &str) -> String {
        let mut out = format!(
            "{file}:{}:{}: {}[{}]: {}",
            self.pos.line,
            self.pos.col,
            self.severity.as_str(),
            self.code,
            self.message
        );
        if let Some(line) = source.lines().nth(self.pos.line.saturating_sub(1) as usize)
            && self.pos.line > 0
        {
            let gutter = self.pos.line.to_string();
            let pad = " ".repeat(gutter.len());
            let caret_at: String = line
                .chars()
                .take(self.pos.col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!(
                "\n{pad} |\n{gutter} | {line}\n{pad} | {caret_at}^"
            ));
        }
        out
    }

    /// One JSON object (for `--format json`), without a trailing newline.
    pub fn to_json(&self, file: &str) -> serde_json::Value {
        serde_json::json!({
            "file": file,
            "line": self.pos.line,
            "column": self.pos.col,
            "severity": self.severity.as_str(),
            "code": self.code,
            "message": self.message,
        })
    }
}

/// All diagnostics of one file, kept in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Adds an error.
    pub fn error(&mut self, code: &'static str, pos: Pos, message: impl Into<String>) {
        self.push(Diagnostic::error(code, pos, message));
    }

    /// Adds a warning.
    pub fn warning(&mut self, code: &'static str, pos: Pos, message: impl Into<String>) {
        self.push(Diagnostic::warning(code, pos, message));
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Number of errors and warnings.
    pub fn counts(&self) -> (usize, usize) {
        let errors = self
            .0
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        (errors, self.0.len() - errors)
    }

    /// The diagnostics, in file order once [`Diagnostics::sort`] ran.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// Turns every warning into an error (`--strict`).
    pub fn promote_warnings(&mut self) {
        for d in &mut self.0 {
            d.severity = Severity::Error;
        }
    }

    /// Sorts by position (stable, so checks keep their order on one node) and drops
    /// exact duplicates and a second `unknown-key` report of the same key.
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| d.pos);
        let mut seen = std::collections::HashSet::new();
        self.0.retain(|d| {
            let key = if d.code == "unknown-key" {
                (d.pos, d.code, String::new())
            } else {
                (d.pos, d.code, d.message.clone())
            };
            seen.insert(key)
        });
    }

    /// Appends all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// The diagnostics as a slice.
    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.0
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
