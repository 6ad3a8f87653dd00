//! JSON text checked and reshaped without building a tree: [`is_json`] validates
//! (upstream answers), [`escape_into`] validates, drops insignificant whitespace and writes
//! the text escaped as the contents of a JSON string — the three things an MCP
//! `tools/call` result needs (`structuredContent` and the `text` block) — and
//! [`members`] validates while locating the members a caller reads (a JSON-RPC request
//! down to its tool arguments), leaving their values as text.
//!
//! It knows JSON text only: nothing of HTTP, MCP or capabilities.
//!
//! Every tool answer goes through here, so it is written for speed: one pass validates
//! and escapes, and string contents (most of any JSON document) are scanned and copied
//! eight bytes at a time — a word without `"`, `\`, a control character or a non-ASCII
//! byte is stored whole (UTF-8 is checked only inside strings, the one place JSON text
//! may hold it). Validation follows RFC 8259 and refuses nesting deeper than serde_json's
//! default limit, so whatever passes here parses in any client.

use std::borrow::Cow;
use std::ops::Range;

mod scan;
mod string;

use scan::{Plain, Visit, document};
use string::SLACK;

/// Deepest nesting accepted: what serde_json's default recursion limit lets through
/// (127 containers; one bit each in the parser's stack).
const MAX_DEPTH: u32 = 127;

/// Whitespace between JSON tokens (RFC 8259 `ws`).
const JSON_WS: [u8; 4] = [b' ', b'\n', b'\r', b'\t'];

/// A JSON document checked and prepared for a tool result (see [`prepare`]).
#[derive(Debug)]
pub struct Prepared<'a> {
    /// The document as compact JSON text.
    pub json: Cow<'a, str>,
    /// The compact text escaped as the contents of a JSON string (without the quotes).
    pub escaped: String,
}

/// What [`escape_into`] found out about a document it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escaped {
    /// Where the value is in the source: whitespace around it cut off.
    pub value: Range<usize>,
    /// Whether that value is compact already (no whitespace between tokens). When it is
    /// not, [`unescape`] of what was written is its compact text.
    pub compact: bool,
}

/// Whether `bytes` are exactly one JSON value (RFC 8259, UTF-8, nesting ≤ 127).
pub fn is_json(bytes: &[u8]) -> bool {
    document::<_, false>(bytes, &mut [], 0, MAX_DEPTH, &mut Plain).is_some()
}

/// Checks that `src` is exactly one JSON value (as [`is_json`] does) and appends it to
/// `out` compact and escaped as the contents of a JSON string (without the quotes); `None`,
/// with `out` as it was, when it is not JSON.
///
/// An MCP tool result holds the document twice (escaped in its `text` block, as is in
/// `structuredContent`): writing straight into the response spares a copy and a second
/// UTF-8 check, and compact text (what most APIs send) is then copied from `src` as is.
pub fn escape_into(src: &[u8], out: &mut Vec<u8>) -> Option<Escaped> {
    // Whitespace around the value (Go's encoder ends every document with a newline) is
    // cut off here, so that only whitespace inside makes the text differ from `src`.
    let start = src.iter().position(|c| !JSON_WS.contains(c))?;
    let end = src.iter().rposition(|c| !JSON_WS.contains(c))? + 1;
    let value = src.get(start..end)?;
    let at = out.len();
    // Escaping at most doubles the text; the buffer is zeroed so that words can be
    // stored whole (measured faster than pushing into spare capacity).
    out.resize(at + 2 * value.len() + SLACK, 0);
    let Some(done) = document::<_, true>(value, out, at, MAX_DEPTH, &mut Plain) else {
        out.truncate(at);
        return None;
    };
    out.truncate(done.len);
    Some(Escaped {
        value: start..end,
        compact: !done.spaced,
    })
}

/// Prepares `src`, or `None` when it is not exactly one JSON value: [`escape_into`] for
/// callers that want the two texts on their own.
///
/// Already compact text (maybe with whitespace around it) is borrowed; text with
/// whitespace between tokens is returned compacted.
pub fn prepare(src: &str) -> Option<Prepared<'_>> {
    let mut out = Vec::new();
    let found = escape_into(src.as_bytes(), &mut out)?;
    let escaped = String::from_utf8(out).ok()?;
    let json = if found.compact {
        Cow::Borrowed(src.get(found.value)?)
    } else {
        Cow::Owned(String::from_utf8(unescape(escaped.as_bytes())?).ok()?)
    };
    Some(Prepared { json, escaped })
}

/// A member of an object in a JSON document, as located by [`members`].
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// How deep its object is: 1 for the members of the document itself.
    pub depth: u32,
    /// The key as written: quoted, escapes unresolved.
    pub raw_key: &'a str,
    /// The value's JSON text.
    pub value: &'a str,
    /// The key, escapes resolved (once, when it was listed).
    name: Cow<'a, str>,
    /// While its value is read: whether the members of the value are asked about
    /// ([`Listing::Members`]), and the member listed around it (the stack of members
    /// being read is linked through the list, so that listing allocates only the list).
    open_inside: bool,
    outer: Option<usize>,
}

impl<'a> Member<'a> {
    /// The key, escapes resolved.
    pub fn key(&self) -> Cow<'a, str> {
        self.name.clone()
    }

    /// The members of this member's value (when it is an object), among `all` (the list
    /// this member came from).
    pub fn children<'m>(
        &self,
        all: &'m [Member<'a>],
    ) -> impl Iterator<Item = &'m Member<'a>> + use<'a, 'm> {
        let (start, end) = span_of(self.value);
        let depth = self.depth + 1;
        all.iter().filter(move |m| {
            let (s, e) = span_of(m.value);
            m.depth == depth && s >= start && e <= end
        })
    }
}

/// The text of a valid JSON string literal, escapes resolved.
fn unquote(raw: &str) -> Cow<'_, str> {
    let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default();
    // Keys are short: a plain loop beats a call to `memchr`.
    if !inner.bytes().any(|c| c == b'\\') {
        return Cow::Borrowed(inner);
    }
    // Valid JSON text already; only a lone surrogate escape can still be refused.
    serde_json::from_str::<String>(raw).map_or(Cow::Borrowed(inner), Cow::Owned)
}

fn span_of(text: &str) -> (usize, usize) {
    let start = text.as_ptr() as usize;
    (start, start + text.len())
}

/// Which members [`members`] lists: asked with a member's depth (1: the document's own),
/// the key of the member whose value holds it (`None` at depth 1) and its own key, both
/// with escapes resolved. Only the members of an object held by a member kept with
/// [`Listing::Members`] are asked about, so a caller lists exactly the paths it reads.
pub type Keep<'k> = &'k dyn Fn(u32, Option<&str>, &str) -> Listing;

/// What [`members`] does with a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Not listed, nor anything inside it.
    Skip,
    /// Listed; what its value holds is not.
    Member,
    /// Listed, and the members of its value (when an object) are asked about in turn.
    Members,
}

/// Checks that `src` is exactly one JSON value (as [`is_json`] does) and lists the members
/// `keep` asks for, in the order their keys appear; `None` when `src` is not JSON. One
/// pass, so a message and the objects inside it are read once, and what is listed is only
/// what the caller reads: a hostile document of a million members costs no memory.
pub fn members<'a>(src: &'a str, keep: Keep<'_>) -> Option<Vec<Member<'a>>> {
    let mut record = Record {
        text: src,
        keep,
        // Room for what a JSON-RPC request lists, so that it is never regrown.
        members: Vec::with_capacity(16),
        innermost: None,
    };
    document::<_, false>(src.as_bytes(), &mut [], 0, MAX_DEPTH, &mut record)?;
    Some(record.members)
}

/// Undoes [`escape_into`]'s escaping: drops the backslash before every `"` and `\\`;
/// `None` when `escaped` ends inside an escape (it was not written by [`escape_into`]).
pub fn unescape(escaped: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(escaped.len());
    let mut bytes = escaped.iter();
    while let Some(&c) = bytes.next() {
        out.push(if c == b'\\' { *bytes.next()? } else { c });
    }
    Some(out)
}

/// The [`Visit`] of [`members`]: lists what `keep` asks for.
struct Record<'s, 'k> {
    text: &'s str,
    keep: Keep<'k>,
    members: Vec<Member<'s>>,
    /// Index in `members` of the innermost member whose value is being read.
    innermost: Option<usize>,
}

impl Visit for Record<'_, '_> {
    fn key(&mut self, depth: u32, key: (usize, usize), at: usize) -> bool {
        // Only the members of the document and of listed objects are asked about.
        let parent = match self.innermost.and_then(|k| self.members.get(k)) {
            // The object is the value of the innermost member listed (not in an array).
            Some(p) if p.depth + 1 == depth && p.open_inside => Some(p.name.clone()),
            _ if depth == 1 => None,
            _ => return true,
        };
        let raw_key = self.text.get(key.0..key.1).unwrap_or_default();
        let name = unquote(raw_key);
        let listing = (self.keep)(depth, parent.as_deref(), &name);
        if listing != Listing::Skip {
            self.members.push(Member {
                depth,
                raw_key,
                // Empty where the value starts, until it ends.
                value: self.text.get(at..at).unwrap_or_default(),
                name,
                open_inside: listing == Listing::Members,
                outer: self.innermost,
            });
            self.innermost = Some(self.members.len() - 1);
        }
        listing != Listing::Members
    }

    fn member_ends(&mut self, depth: u32, end: usize) {
        if let Some(k) = self.innermost
            && let Some(m) = self.members.get_mut(k)
            && m.depth == depth
        {
            let start = (m.value.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
            m.value = self.text.get(start..end).unwrap_or_default();
            self.innermost = m.outer;
        }
    }
}

#[cfg(test)]
mod tests;
