//! The one error type of the crate.

use std::fmt;

/// A mapping that is not valid JSONPath.
///
/// Its `Display` names the mapping as written, the text the RFC 9535 parser
/// actually saw when the Naftiko pre-pass changed it, what went wrong, and
/// where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MappingError {
    input: String,
    /// The pre-passed text, kept only when it differs from `input`.
    read_as: Option<String>,
    message: String,
    offset: usize,
}

impl MappingError {
    /// `offset` is a byte offset into `input`; `parser_message` comes from
    /// the RFC 9535 parser (or from this crate for its own checks).
    pub(crate) fn new(input: &str, parsed: &str, offset: usize, parser_message: &str) -> Self {
        let message = if parsed.trim().is_empty() {
            "the mapping is empty; use `$` for the whole document".to_owned()
        } else if !parsed.starts_with('$') {
            "a mapping must start with `$` (the root of the document)".to_owned()
        } else if parser_message == "parser error" {
            // serde_json_path's catch-all; the position says more than it does.
            "unexpected input".to_owned()
        } else {
            parser_message.to_owned()
        };
        Self {
            input: input.to_owned(),
            read_as: (parsed != input).then(|| parsed.to_owned()),
            message,
            offset: offset.min(input.len()),
        }
    }

    /// What went wrong, without the mapping text or position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Byte offset of the problem in the mapping as written (the `src` given
    /// to [`Mapping::parse`](crate::Mapping::parse)); `len()` means "at the
    /// end".
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid mapping `{}`", self.input)?;
        if let Some(read_as) = &self.read_as {
            write!(f, " (read as `{read_as}`)")?;
        }
        write!(f, ": {}", self.message)?;
        // `offset` may fall inside a multi-byte char after mapping back from
        // the pre-passed text; step back to a boundary rather than panic.
        let mut at = self.offset;
        while !self.input.is_char_boundary(at) {
            at -= 1;
        }
        match self.input[at..].chars().next() {
            None => write!(f, ", at the end"),
            Some(c) => write!(f, ", at byte {at} (`{}`)", c.escape_debug()),
        }
    }
}
