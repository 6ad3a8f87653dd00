//! Level 2 of capability checking: validation against the official Naftiko alpha2 JSON Schema.
//!
//! This module owns the embedded copy of the schema (`schema/naftiko-schema.json`, draft
//! 2020-12), its one-time compilation, and the translation of `jsonschema` errors into short,
//! leaf-level [`SchemaIssue`]s.
//!
//! The schema discriminates most nodes with `oneOf`/`anyOf` (`type: rest` vs `type: mcp`, inline
//! vs imported consumes, the five mapped output parameter shapes, ...). A plain validator reports
//! such a failure as one opaque "not valid under any of the schemas" error on the parent node;
//! `jsonschema` 0.61 also keeps every branch's own errors in the error's `context`. Here each
//! such failure is resolved to the branch the author evidently meant, and only that branch's
//! errors are reported, recursively.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

/// One problem found by the JSON Schema, at a JSON Pointer into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaIssue {
    /// RFC 6901 pointer of the offending node; for an unknown key, the pointer of that key's
    /// value (e.g. `/capability/exposes/0/description`).
    pub(crate) pointer: String,
    /// One short, specific sentence describing the problem.
    pub(crate) message: String,
    /// True for keys the schema does not allow (`additionalProperties` /
    /// `unevaluatedProperties`), reported one issue per key.
    pub(crate) unknown_key: bool,
}

/// The official alpha2 schema, embedded so validation never depends on the filesystem.
const SCHEMA_TEXT: &str = include_str!("../schema/naftiko-schema.json");

/// Longest string value quoted verbatim in a message; longer ones are elided.
const MAX_QUOTED_CHARS: usize = 60;

/// The compiled validator plus the schema document, which branch ranking and some messages
/// consult through each error's schema location.
struct Compiled {
    validator: Validator,
    schema: Value,
}

/// Compiled once: building the validator costs several times a check, and checks run on every
/// load and reload. A failure is kept (never panicked on) and reported by [`check`].
static COMPILED: LazyLock<Result<Compiled, String>> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(SCHEMA_TEXT).map_err(|e| e.to_string())?;
    let validator = jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())?;
    Ok(Compiled { validator, schema })
});

/// Validates a capability document (already converted from YAML to JSON) against the embedded
/// alpha2 schema.
///
/// Returns leaf issues only (a `oneOf`/`anyOf` failure is replaced by the issues of the branch
/// that fits best), de-duplicated by `(pointer, message)`, in no particular order.
pub(crate) fn check(doc: &Value) -> Vec<SchemaIssue> {
    let compiled = match &*COMPILED {
        Ok(compiled) => compiled,
        Err(reason) => {
            // The schema ships with the binary, so this is our bug, not the user's document.
            return vec![SchemaIssue {
                pointer: String::new(),
                message: format!(
                    "internal error: the embedded Naftiko schema does not compile ({reason})"
                ),
                unknown_key: false,
            }];
        }
    };
    let expander = Expander {
        schema: &compiled.schema,
    };
    let mut issues = Vec::new();
    for error in compiled.validator.iter_errors(doc) {
        expander.expand(&error, &mut issues);
    }
    let mut seen = HashSet::new();
    issues.retain(|issue| seen.insert((issue.pointer.clone(), issue.message.clone())));
    issues
}

/// Turns `jsonschema` errors into leaf issues, with the schema at hand for branch ranking.
struct Expander<'s> {
    schema: &'s Value,
}

/// What one `oneOf`/`anyOf` branch says about the instance at the branching node.
struct Branch {
    /// The branch's leaf issues, fully expanded.
    issues: Vec<SchemaIssue>,
    /// Escaped child keys whose value fails a `const`/`enum` of this branch (a discriminator).
    pinned_mismatch: Vec<String>,
    /// Escaped child keys this branch forbids at the node (unknown or excluded by `not`).
    forbidden: Vec<String>,
    /// Keys this branch requires at the node but the instance lacks.
    missing: Vec<String>,
    /// Keys this branch requires at the node that the instance does have.
    satisfied: usize,
}

impl Branch {
    /// How many of the discriminating `keys` this branch rejects, by value or as forbidden.
    fn rejected(&self, keys: &[&str]) -> usize {
        keys.iter().filter(|key| self.rejects(key)).count()
    }

    fn rejects(&self, key: &str) -> bool {
        self.pinned_mismatch.iter().any(|k| k == key) || self.forbidden.iter().any(|k| k == key)
    }
}

impl Expander<'_> {
    /// Appends the leaf issues behind `error`, resolving `oneOf`/`anyOf` failures to one branch.
    fn expand(&self, error: &ValidationError<'_>, out: &mut Vec<SchemaIssue>) {
        let pointer = error.instance_path().as_str();
        match error.kind() {
            ValidationErrorKind::OneOfNotValid { context }
            | ValidationErrorKind::AnyOf { context } => self.expand_branches(pointer, context, out),
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                for key in unexpected {
                    out.push(SchemaIssue {
                        pointer: format!("{pointer}/{}", escape_segment(key)),
                        message: format!("unknown key '{key}' (not allowed here by the schema)"),
                        unknown_key: true,
                    });
                }
            }
            ValidationErrorKind::PropertyNames { error } => self.expand(error, out),
            ValidationErrorKind::Not { schema } => match present_required(schema, error.instance())
            {
                Some(key) => out.push(SchemaIssue {
                    pointer: format!("{pointer}/{}", escape_segment(key)),
                    message: format!("key '{key}' is not allowed in this form"),
                    unknown_key: false,
                }),
                None => out.push(self.leaf(error)),
            },
            _ => out.push(self.leaf(error)),
        }
    }

    /// Summarizes one branch's errors as seen from the branching node at `base`.
    fn summarize(&self, base: &str, errors: &[ValidationError<'static>]) -> Branch {
        let mut branch = Branch {
            issues: Vec::new(),
            pinned_mismatch: Vec::new(),
            forbidden: Vec::new(),
            missing: Vec::new(),
            satisfied: 0,
        };
        // `required` reports each missing key separately; count each keyword's present keys once.
        let mut required_seen = HashSet::new();
        for error in errors {
            let at = error.instance_path().as_str();
            match error.kind() {
                ValidationErrorKind::Constant { .. } | ValidationErrorKind::Enum { .. } => {
                    if let Some(key) = direct_child(base, at) {
                        branch.pinned_mismatch.push(key.to_owned());
                    }
                }
                ValidationErrorKind::AdditionalProperties { unexpected }
                | ValidationErrorKind::UnevaluatedProperties { unexpected }
                    if at == base =>
                {
                    branch
                        .forbidden
                        .extend(unexpected.iter().map(|k| escape_segment(k)));
                }
                ValidationErrorKind::Not { schema } if at == base => {
                    if let Some(key) = present_required(schema, error.instance()) {
                        branch.forbidden.push(escape_segment(key));
                    }
                }
                ValidationErrorKind::Required { property } if at == base => {
                    branch.missing.push(value_text(property));
                    let keyword = error.schema_path().as_str();
                    if required_seen.insert(keyword.to_owned()) {
                        branch.satisfied += self.present_count(keyword, error.instance());
                    }
                }
                _ => {}
            }
            self.expand(error, &mut branch.issues);
        }
        branch
    }

    /// How many keys of the `required` keyword at `keyword` (a schema pointer) `instance` has.
    fn present_count(&self, keyword: &str, instance: &Value) -> usize {
        match (self.schema.pointer(keyword), instance) {
            (Some(Value::Array(keys)), Value::Object(map)) => keys
                .iter()
                .filter_map(Value::as_str)
                .filter(|key| map.contains_key(*key))
                .count(),
            _ => 0,
        }
    }

    /// Picks the branch the author most plausibly meant and appends its issues.
    ///
    /// Ranking, best first: fewest rejected discriminator keys (a child key some branch pins with
    /// `const`/`enum`, e.g. `type`), then fewest shape mismatches at the node itself (forbidden
    /// plus missing keys, e.g. `location` for imported consumes), then most required keys
    /// already present (`call` present points at the `call` form), then fewest leaf issues.
    fn expand_branches(
        &self,
        base: &str,
        context: &[Vec<ValidationError<'static>>],
        out: &mut Vec<SchemaIssue>,
    ) {
        let branches: Vec<Branch> = context
            .iter()
            .map(|errors| self.summarize(base, errors))
            .collect();
        let mut keys: Vec<&str> = branches
            .iter()
            .flat_map(|b| b.pinned_mismatch.iter().map(String::as_str))
            .collect();
        keys.sort_unstable();
        keys.dedup();

        // Every branch rejects the value of a key that several of them pin (e.g. `type: grpc`
        // against rest/mcp/skill/control): list what is accepted instead of guessing a branch,
        // whose other complaints would only be noise. A key pinned by a single branch (like
        // `transport`) is an ordinary property of that branch, ranked below.
        let pinned_by = |key: &str| {
            let pinning = branches
                .iter()
                .filter(|b| b.pinned_mismatch.iter().any(|k| k == key));
            pinning.count()
        };
        if let Some(key) = keys
            .iter()
            .find(|key| pinned_by(key) >= 2 && branches.iter().all(|b| b.rejects(key)))
        {
            out.push(discriminator_issue(base, key, context));
            return;
        }

        let rank = |b: &Branch| {
            (
                b.rejected(&keys),
                b.forbidden.len() + b.missing.len(),
                Reverse(b.satisfied),
                b.issues.len(),
            )
        };
        let Some(best) = branches.iter().map(rank).min() else {
            return;
        };
        let tied: Vec<&Branch> = branches.iter().filter(|b| rank(b) == best).collect();

        // Forms that differ only in which key they require (`exposes` or `consumes`,
        // `transport` or `port`): name them all rather than arbitrarily demanding the first.
        let only_missing = |b: &&Branch| b.issues.len() == 1 && b.missing.len() == 1;
        if tied.len() > 1 && tied.iter().all(only_missing) {
            let mut names: Vec<String> = Vec::new();
            for key in tied.iter().flat_map(|b| b.missing.iter()) {
                let text = format!("'{key}'");
                if !names.contains(&text) {
                    names.push(text);
                }
            }
            out.push(SchemaIssue {
                pointer: base.to_owned(),
                message: format!("missing required key {}", join_alternatives(&names)),
                unknown_key: false,
            });
            return;
        }
        if let Some(chosen) = tied.first() {
            out.extend(chosen.issues.iter().cloned());
        }
    }

    /// The issue for a non-composite error, worded for capability authors.
    fn leaf(&self, error: &ValidationError<'_>) -> SchemaIssue {
        let instance = error.instance();
        let message = match error.kind() {
            ValidationErrorKind::Required { property } => {
                format!("missing required key '{}'", value_text(property))
            }
            ValidationErrorKind::Pattern { pattern } => {
                format!("{} does not match pattern '{pattern}'", show(instance))
            }
            ValidationErrorKind::Constant { expected_value } => {
                format!(
                    "expected {}, found {}",
                    show(expected_value),
                    show(instance)
                )
            }
            ValidationErrorKind::Enum { options } => format!(
                "expected {}, found {}",
                join_alternatives(&accepted_values(options)),
                show(instance)
            ),
            ValidationErrorKind::Type { kind } => {
                let expected: Vec<String> = match kind {
                    TypeKind::Single(t) => vec![t.to_string()],
                    TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
                };
                let expected = join_alternatives(&expected);
                format!("expected {expected}, found {}", type_name(instance))
            }
            ValidationErrorKind::OneOfMultipleValid { .. } => {
                self.exclusive_message(error.schema_path().as_str())
            }
            ValidationErrorKind::FalseSchema => "not allowed here by the schema".to_owned(),
            // Rare in capability files: the library's wording, without echoing the whole value.
            _ => error.masked_with("value").to_string(),
        };
        SchemaIssue {
            pointer: error.instance_path().as_str().to_owned(),
            message,
            unknown_key: false,
        }
    }

    /// Message for a `oneOf` (at schema pointer `keyword`) matched by several branches. When
    /// the branches are plain `required` lists, names the keys that cannot be combined.
    fn exclusive_message(&self, keyword: &str) -> String {
        let generic = "matches more than one of the mutually exclusive forms allowed here";
        let Some(Value::Array(forms)) = self.schema.pointer(keyword) else {
            return generic.to_owned();
        };
        let required: Option<Vec<Vec<&str>>> = forms
            .iter()
            .map(|form| {
                let keys = form.get("required")?.as_array()?;
                keys.iter().map(Value::as_str).collect()
            })
            .collect();
        let Some(required) = required else {
            return generic.to_owned();
        };
        // Keys every form requires (like `naftiko`) are not what tells the forms apart.
        let mut distinct: Vec<String> = Vec::new();
        for key in required.iter().flatten() {
            let shared = required.iter().all(|keys| keys.contains(key));
            let text = format!("'{key}'");
            if !shared && !distinct.contains(&text) {
                distinct.push(text);
            }
        }
        if distinct.len() < 2 {
            return generic.to_owned();
        }
        let alternatives = join_alternatives(&distinct);
        format!("only one of {alternatives} may be set")
    }
}

/// The issue for a discriminator value no branch accepts, listing the accepted values.
fn discriminator_issue(
    base: &str,
    key: &str,
    context: &[Vec<ValidationError<'static>>],
) -> SchemaIssue {
    let pointer = format!("{base}/{key}");
    let mut accepted: Vec<String> = Vec::new();
    let mut found = None;
    for error in context.iter().flatten() {
        if error.instance_path().as_str() != pointer {
            continue;
        }
        let values = match error.kind() {
            ValidationErrorKind::Constant { expected_value } => vec![show(expected_value)],
            ValidationErrorKind::Enum { options } => accepted_values(options),
            _ => continue,
        };
        found.get_or_insert_with(|| show(error.instance()));
        for value in values {
            if !accepted.contains(&value) {
                accepted.push(value);
            }
        }
    }
    // Sorted so the same set of values always reads (and de-duplicates) the same.
    accepted.sort_unstable();
    let found = found.unwrap_or_else(|| "another value".to_owned());
    SchemaIssue {
        pointer,
        message: format!("expected {}, found {found}", join_alternatives(&accepted)),
        unknown_key: false,
    }
}

/// For a `not: {required: [..]}` that failed, the first excluded key the instance has.
fn present_required<'a>(not_schema: &'a Value, instance: &Value) -> Option<&'a str> {
    let keys = not_schema.get("required")?.as_array()?;
    let map = instance.as_object()?;
    keys.iter()
        .filter_map(Value::as_str)
        .find(|key| map.contains_key(*key))
}

/// The values an `enum` accepts, shown for a message, sorted (see [`discriminator_issue`]).
fn accepted_values(options: &Value) -> Vec<String> {
    let mut values: Vec<String> = match options {
        Value::Array(items) => items.iter().map(show).collect(),
        other => vec![show(other)],
    };
    values.sort_unstable();
    values
}

/// `key` when `at` is `base` plus exactly one (escaped) segment.
fn direct_child<'a>(base: &str, at: &'a str) -> Option<&'a str> {
    at.strip_prefix(base)?
        .strip_prefix('/')
        .filter(|rest| !rest.contains('/'))
}

/// Escapes one RFC 6901 reference token.
fn escape_segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A string value's text, or compact JSON for anything else.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value for a message: quoted (and shortened) strings, scalars as JSON, containers by kind.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > MAX_QUOTED_CHARS => {
            let head: String = s.chars().take(MAX_QUOTED_CHARS).collect();
            format!("'{head}...'")
        }
        Value::String(s) => format!("'{s}'"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        scalar => scalar.to_string(),
    }
}

/// The JSON Schema type name of a value, for "expected X, found Y".
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// "a", "a or b", "a, b or c".
fn join_alternatives(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests;
