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

mod string;

use string::{SLACK, escape_string, skip_string};

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
    Scan::<false>::new(bytes).document().is_some()
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
    let mut scan = Scan::<true>::new(value);
    // Escaping at most doubles the text; the buffer is zeroed so that words can be
    // stored whole (measured faster than pushing into spare capacity).
    out.resize(at + 2 * value.len() + SLACK, 0);
    scan.out = std::mem::take(out);
    scan.len = at;
    let ok = scan.document().is_some() && !scan.overflow;
    let (compact, len) = (!scan.spaced, if ok { scan.len } else { at });
    *out = scan.out;
    out.truncate(len);
    ok.then_some(Escaped {
        value: start..end,
        compact,
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
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// How deep its object is: 1 for the members of the document itself.
    pub depth: u32,
    /// The key as written: quoted, escapes unresolved.
    pub raw_key: &'a str,
    /// The value's JSON text.
    pub value: &'a str,
}

impl<'a> Member<'a> {
    /// The key, escapes resolved.
    pub fn key(&self) -> Cow<'a, str> {
        unquote(self.raw_key)
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
    let mut scan = Scan::<false, true>::new(src.as_bytes());
    scan.text = src;
    scan.keep = keep;
    scan.document()?;
    let mut listed = Vec::with_capacity(scan.members.len());
    for m in &scan.members {
        listed.push(Member {
            depth: m.depth,
            raw_key: src.get(m.key.0..m.key.1)?,
            value: src.get(m.value.0..m.value.1)?,
        });
    }
    Some(listed)
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

/// A validating pass over JSON text that, when `ESCAPE`, also writes the text compact and
/// escaped as string contents.
struct Scan<'s, 'k, const ESCAPE: bool, const RECORD: bool = false> {
    b: &'s [u8],
    /// `b` as text (with `RECORD`: keys are handed to `keep`).
    text: &'s str,
    i: usize,
    /// Zeroed and indexed with [`SLACK`] spare bytes (when `ESCAPE`): a word is stored
    /// whole even when fewer of its bytes count, and the next write covers the rest.
    out: Vec<u8>,
    /// Where the next byte goes in `out`.
    len: usize,
    /// A write did not fit (cannot happen with the size reserved; checked all the same).
    overflow: bool,
    /// Whether whitespace between tokens was skipped.
    spaced: bool,
    /// With `RECORD`: which members to list in `members`.
    keep: Keep<'k>,
    members: Vec<Span>,
    /// Indexes in `members` of those whose value is being read, innermost last.
    open: Vec<usize>,
    /// How deep containers may nest: [`MAX_DEPTH`] less those open around the value
    /// this scan reads.
    max_depth: u32,
}

/// Where a member is: its key with the quotes, its value, and how deep its object is.
#[derive(Debug, Clone, Copy)]
struct Span {
    depth: u32,
    /// Whether the members of its value are asked about ([`Listing::Members`]).
    open_inside: bool,
    key: (usize, usize),
    value: (usize, usize),
}

impl<'s, const ESCAPE: bool, const RECORD: bool> Scan<'s, '_, ESCAPE, RECORD> {
    fn new(b: &'s [u8]) -> Self {
        Self {
            b,
            i: 0,
            out: Vec::new(),
            len: 0,
            overflow: false,
            spaced: false,
            text: "",
            keep: &|_, _, _| Listing::Skip,
            // Room for what a JSON-RPC request lists, so that it is never regrown.
            members: Vec::with_capacity(if RECORD { 16 } else { 0 }),
            open: Vec::with_capacity(if RECORD { 8 } else { 0 }),
            max_depth: MAX_DEPTH,
        }
    }

    #[inline(always)]
    fn put(&mut self, c: u8) {
        if ESCAPE {
            match self.out.get_mut(self.len) {
                Some(slot) => *slot = c,
                None => self.overflow = true,
            }
            self.len += 1;
        }
    }

    /// Writes the source bytes `from..to`, all ASCII outside strings.
    #[inline(always)]
    fn put_source(&mut self, from: usize, to: usize) {
        for k in from..to {
            if let Some(&c) = self.b.get(k) {
                self.put(c);
            }
        }
    }

    /// The whole text is one value, with nothing but whitespace around it.
    fn document(&mut self) -> Option<()> {
        self.value()?;
        self.ws();
        (self.i == self.b.len()).then_some(())
    }

    /// One value at the cursor; the cursor ends right after it.
    fn value(&mut self) -> Option<()> {
        // Open containers: bit `depth - 1` of `objects` is set for an object.
        let mut objects = 0u128;
        let mut depth = 0u32;
        // Whether the value at the cursor was read already, with its key (see `key`).
        let mut read = false;
        'value: loop {
            if !read {
                self.ws();
                match *self.b.get(self.i)? {
                    open @ (b'{' | b'[') => {
                        if depth == self.max_depth {
                            return None;
                        }
                        let object = open == b'{';
                        let close = if object { b'}' } else { b']' };
                        self.put(open);
                        self.i += 1;
                        self.ws();
                        if self.b.get(self.i) == Some(&close) {
                            self.put(close);
                            self.i += 1;
                        } else {
                            objects = (objects << 1) | u128::from(object);
                            depth += 1;
                            if object {
                                read = self.key(depth)?;
                            }
                            continue 'value;
                        }
                    }
                    b'"' => self.string()?,
                    b't' => self.literal(b"true")?,
                    b'f' => self.literal(b"false")?,
                    b'n' => self.literal(b"null")?,
                    b'-' | b'0'..=b'9' => self.number()?,
                    _ => return None,
                }
            }
            // A value ended: close containers until one continues.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let object = objects & 1 == 1;
                if RECORD && object {
                    self.member_ends(depth);
                }
                self.ws();
                let c = *self.b.get(self.i)?;
                match (c, object) {
                    (b',', true) => {
                        self.put(c);
                        self.i += 1;
                        self.ws();
                        read = self.key(depth)?;
                        continue 'value;
                    }
                    (b',', false) => {
                        self.put(c);
                        self.i += 1;
                        read = false;
                        continue 'value;
                    }
                    (b'}', true) | (b']', false) => {
                        self.put(c);
                        self.i += 1;
                    }
                    _ => return None,
                }
                objects >>= 1;
                depth -= 1;
            }
        }
    }

    #[inline(always)]
    fn ws(&mut self) {
        // One comparison in the usual case: every token starts above the space.
        while let Some(&c) = self.b.get(self.i)
            && c <= b' '
            && matches!(c, b' ' | b'\n' | b'\r' | b'\t')
        {
            self.i += 1;
            self.spaced = true;
        }
    }

    /// An object key and its colon, in an object `depth` deep; with `RECORD`, also the
    /// member's value when nothing in it is listed. `true` when the value was read.
    fn key(&mut self, depth: u32) -> Option<bool> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i;
        self.string()?;
        let end = self.i;
        self.ws();
        if self.b.get(self.i) != Some(&b':') {
            return None;
        }
        self.put(b':');
        self.i += 1;
        if RECORD {
            let listing = self.wanted(depth, start, end);
            self.ws();
            if listing != Listing::Skip {
                self.open.push(self.members.len());
                self.members.push(Span {
                    depth,
                    open_inside: listing == Listing::Members,
                    key: (start, end),
                    value: (self.i, self.i),
                });
            }
            // Only containers: a scalar is read as fast either way.
            if listing != Listing::Members && matches!(self.b.get(self.i), Some(b'{' | b'[')) {
                self.plain_value(depth)?;
                return Some(true);
            }
        }
        Some(false)
    }

    /// Checks the value at the cursor, `depth` containers deep, without the listing's
    /// bookkeeping (nothing in it is listed): the scan every JSON body gets, so that a
    /// tool's 1 KB `body` argument costs in a JSON-RPC request what it costs as a REST body.
    fn plain_value(&mut self, depth: u32) -> Option<()> {
        let mut plain = Scan::<false>::new(self.b);
        plain.i = self.i;
        plain.max_depth = self.max_depth.checked_sub(depth)?;
        plain.value()?;
        self.i = plain.i;
        Some(())
    }

    /// What `keep` says of the member at depth `depth` whose key is `text[start..end]`.
    fn wanted(&self, depth: u32, start: usize, end: usize) -> Listing {
        let parent = match self.open.last().and_then(|&k| self.members.get(k)) {
            // The object is the value of the innermost member listed (not in an array).
            Some(p) if p.depth + 1 == depth && p.open_inside => {
                self.text.get(p.key.0..p.key.1).map(unquote)
            }
            _ if depth == 1 => None,
            _ => return Listing::Skip,
        };
        let key = unquote(self.text.get(start..end).unwrap_or_default());
        (self.keep)(depth, parent.as_deref(), &key)
    }

    /// A value ended at the cursor in an object `depth` deep: if it was a kept member's,
    /// that member is complete.
    fn member_ends(&mut self, depth: u32) {
        if let Some(&k) = self.open.last()
            && let Some(m) = self.members.get_mut(k)
            && m.depth == depth
        {
            m.value.1 = self.i;
            self.open.pop();
        }
    }

    /// A string at the cursor (known to be at its `"`), written with its quotes escaped.
    fn string(&mut self) -> Option<()> {
        if ESCAPE {
            let (i, len) = escape_string(self.b, self.i, &mut self.out, self.len)?;
            self.i = i;
            self.len = len;
        } else {
            self.i = skip_string(self.b, self.i)?;
        }
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if !self.b.get(self.i..)?.starts_with(word) {
            return None;
        }
        self.put_source(self.i, self.i + word.len());
        self.i += word.len();
        Some(())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let start = self.i;
        let mut i = self.i;
        if self.b.get(i) == Some(&b'-') {
            i += 1;
        }
        match *self.b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => i = self.digits(i),
            _ => return None,
        }
        if self.b.get(i) == Some(&b'.') {
            let end = self.digits(i + 1);
            if end == i + 1 {
                return None;
            }
            i = end;
        }
        if matches!(self.b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(self.b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let end = self.digits(i);
            if end == i {
                return None;
            }
            i = end;
        }
        self.put_source(start, i);
        self.i = i;
        Some(())
    }

    /// Index after the run of ASCII digits starting at `i`.
    fn digits(&self, mut i: usize) -> usize {
        while self.b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    }
}

#[cfg(test)]
mod tests;
