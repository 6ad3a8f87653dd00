//! The one pass over JSON text that every entry point of [`super`] runs: it checks one
//! value and, when `ESCAPE`, writes it compact and escaped as string contents. A
//! [`Visit`] sees each member (what [`super::members`] lists).
//!
//! The cursors are locals and the output a slice argument, not fields of a struct: a
//! store into the output could otherwise alias a field as far as the compiler knows,
//! and every byte written would reload and store the cursors.

use super::string::{escape_string, skip_string};

/// Where a pass is: in the source, in the output, and whether it skipped whitespace
/// between tokens.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cursor {
    pub(super) i: usize,
    pub(super) len: usize,
    pub(super) spaced: bool,
}

/// What a pass does at each member besides checking it.
pub(super) trait Visit {
    /// A member of an object `depth` deep, its key (quotes included) at `key`, its value
    /// starting at `at`: `true` when nothing inside that value is visited, which lets a
    /// container value be read by the [`Plain`] pass.
    fn key(&mut self, depth: u32, key: (usize, usize), at: usize) -> bool;
    /// A value ended at `end` in an object `depth` deep.
    fn member_ends(&mut self, depth: u32, end: usize);
}

/// Visits nothing: checking (and escaping) only.
pub(super) struct Plain;

impl Visit for Plain {
    #[inline(always)]
    fn key(&mut self, _: u32, _: (usize, usize), _: usize) -> bool {
        false
    }

    #[inline(always)]
    fn member_ends(&mut self, _: u32, _: usize) {}
}

/// Checks that `b` holds one value with nothing but whitespace around it, writing it
/// into `out` from `len` when `ESCAPE`; where the pass ended.
pub(super) fn document<V: Visit, const ESCAPE: bool>(
    b: &[u8],
    out: &mut [u8],
    len: usize,
    max_depth: u32,
    visit: &mut V,
) -> Option<Cursor> {
    let at = Cursor {
        len,
        ..Cursor::default()
    };
    let mut end = value::<V, ESCAPE>(b, out, at, max_depth, visit)?;
    while b.get(end.i).is_some_and(|c| super::JSON_WS.contains(c)) {
        end.i += 1;
        end.spaced = true;
    }
    (end.i == b.len()).then_some(end)
}

/// Checks the value at `at.i` (whitespace before it skipped), containers nested at most
/// `max_depth` deep; with `ESCAPE`, writes it compact and escaped into `out` from
/// `at.len` (`out` holding twice the source plus [`super::string::SLACK`]). Where the
/// pass ended: right after the value.
pub(super) fn value<V: Visit, const ESCAPE: bool>(
    b: &[u8],
    out: &mut [u8],
    at: Cursor,
    max_depth: u32,
    visit: &mut V,
) -> Option<Cursor> {
    let Cursor {
        mut i,
        mut len,
        mut spaced,
    } = at;
    // Open containers: bit `depth - 1` of `objects` is set for an object.
    let mut objects = 0u128;
    let mut depth = 0u32;
    // Whether the value at the cursor was read already, with its key.
    let mut read = false;

    macro_rules! put {
        ($c:expr) => {
            if ESCAPE {
                *out.get_mut(len)? = $c;
                len += 1;
            }
        };
    }
    // Writes the source bytes from `$from` to the cursor (ASCII outside strings).
    macro_rules! put_source {
        ($from:expr) => {
            if ESCAPE {
                let src = b.get($from..i)?;
                out.get_mut(len..len + src.len())?.copy_from_slice(src);
                len += src.len();
            }
        };
    }
    macro_rules! ws {
        () => {
            // One comparison in the usual case: every token starts above the space.
            while let Some(&c) = b.get(i)
                && c <= b' '
                && matches!(c, b' ' | b'\n' | b'\r' | b'\t')
            {
                i += 1;
                spaced = true;
            }
        };
    }
    macro_rules! string {
        () => {
            if ESCAPE {
                (i, len) = escape_string(b, i, out, len)?;
            } else {
                i = skip_string(b, i)?;
            }
        };
    }
    // An object key at the cursor and its colon, then, when nothing in it is visited,
    // a container value: `true` when the value was read.
    macro_rules! key {
        () => {{
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let start = i;
            string!();
            let end = i;
            ws!();
            if b.get(i) != Some(&b':') {
                return None;
            }
            put!(b':');
            i += 1;
            ws!();
            if visit.key(depth, (start, end), i) && matches!(b.get(i), Some(b'{' | b'[')) {
                let inner = Cursor { i, len, spaced };
                let room = max_depth.checked_sub(depth)?;
                Cursor { i, len, spaced } =
                    value::<Plain, ESCAPE>(b, out, inner, room, &mut Plain)?;
                true
            } else {
                false
            }
        }};
    }

    'value: loop {
        if !read {
            ws!();
            let from = i;
            match *b.get(i)? {
                open @ (b'{' | b'[') => {
                    if depth == max_depth {
                        return None;
                    }
                    let object = open == b'{';
                    let close = if object { b'}' } else { b']' };
                    put!(open);
                    i += 1;
                    ws!();
                    if b.get(i) == Some(&close) {
                        put!(close);
                        i += 1;
                    } else {
                        objects = (objects << 1) | u128::from(object);
                        depth += 1;
                        if object {
                            read = key!();
                        }
                        continue 'value;
                    }
                }
                b'"' => string!(),
                b't' => {
                    i = literal(b, i, b"true")?;
                    put_source!(from);
                }
                b'f' => {
                    i = literal(b, i, b"false")?;
                    put_source!(from);
                }
                b'n' => {
                    i = literal(b, i, b"null")?;
                    put_source!(from);
                }
                b'-' | b'0'..=b'9' => {
                    i = number(b, i)?;
                    put_source!(from);
                }
                _ => return None,
            }
        }
        // A value ended: close containers until one continues.
        loop {
            if depth == 0 {
                return Some(Cursor { i, len, spaced });
            }
            let object = objects & 1 == 1;
            if object {
                visit.member_ends(depth, i);
            }
            ws!();
            let c = *b.get(i)?;
            match (c, object) {
                (b',', true) => {
                    put!(c);
                    i += 1;
                    ws!();
                    read = key!();
                    continue 'value;
                }
                (b',', false) => {
                    put!(c);
                    i += 1;
                    read = false;
                    continue 'value;
                }
                (b'}', true) | (b']', false) => {
                    put!(c);
                    i += 1;
                }
                _ => return None,
            }
            objects >>= 1;
            depth -= 1;
        }
    }
}

/// The index after `word` at `i`.
#[inline(always)]
fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    b.get(i..)?.starts_with(word).then_some(i + word.len())
}

/// The index after the number at `i`:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match *b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits(b, i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(b, i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(b, i);
        if end == i {
            return None;
        }
        i = end;
    }
    Some(i)
}

/// The index after the run of ASCII digits starting at `i`.
fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}
