//! String literals, sixteen bytes at a time: checked ([`skip_string`]) or checked and
//! written escaped ([`escape_string`]). UTF-8 is checked here too, where it can only
//! occur (outside strings every JSON byte is ASCII), so a document is read once.
//!
//! A chunk is tested with SIMD compares (`wide`: SSE2 on x86-64, NEON on aarch64; our
//! own code stays free of `unsafe`): three compares and one mask for sixteen bytes.
//! Most strings in API answers (keys, ids, dates, names) end within their first chunk,
//! so the loop's one data-dependent branch (another chunk or not) is rarely taken; in a
//! server, where the predictor never sees the same document twice, a mispredicted branch
//! per string cost more than the scanning. The word test takes the last bytes.

use wide::i8x16;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// A chunk stored whole may run this far past the bytes it is meant to write.
pub(super) const SLACK: usize = 16;

/// The sixteen bytes at `i`.
#[inline(always)]
fn chunk_at(b: &[u8], i: usize) -> Option<[u8; 16]> {
    let mut lanes = [0u8; 16];
    lanes.copy_from_slice(b.get(i..i + 16)?);
    Some(lanes)
}

/// Bit `k` set when byte `k` of `chunk` is a `"`, `\\`, control character or non-ASCII
/// byte (what [`first_stop`] finds in a word).
#[inline(always)]
pub(super) fn chunk_stops(chunk: [u8; 16]) -> u32 {
    let v: i8x16 = wide::bytemuck::cast(chunk);
    let quote = v.simd_eq(i8x16::splat(b'"' as i8));
    let slash = v.simd_eq(i8x16::splat(b'\\' as i8));
    // Signed: below 0x20 are the control characters and every byte from 0x80 up.
    let low = v.simd_lt(i8x16::splat(0x20));
    (quote | slash | low).to_bitmask()
}

/// The eight bytes at `i` as a little-endian word.
#[inline(always)]
fn word_at(b: &[u8], i: usize) -> Option<u64> {
    let mut lanes = [0u8; 8];
    lanes.copy_from_slice(b.get(i..i + 8)?);
    Some(u64::from_le_bytes(lanes))
}

/// The lane of the first `"`, `\\`, control character or non-ASCII byte in `w`, if any.
///
/// `x ^ 0x02 < 0x21` holds exactly for `"` and the control characters (the XOR swaps
/// `"` with the space and keeps 0x00..=0x1f among themselves), so two lane tests do:
/// `(y - n) & !y & 0x80` is set in lanes where `y < n` (`y == 0` for the backslash).
/// Only the lowest set lane is exact (a false one can only follow a true one), which is
/// the one taken. Non-ASCII lanes are the ones with their own high bit set.
#[inline(always)]
pub(super) fn first_stop(w: u64) -> Option<usize> {
    let quote_or_control = w ^ (ONES * 0x02);
    let slash = w ^ (ONES * u64::from(b'\\'));
    let hits = ((quote_or_control.wrapping_sub(ONES * 0x21) & !quote_or_control)
        | (slash.wrapping_sub(ONES) & !slash)
        | w)
        & HIGHS;
    (hits != 0).then(|| (hits.trailing_zeros() / 8) as usize)
}

/// Whether the byte-wise tail needs a closer look at `c` (what [`first_stop`] stops at).
#[inline(always)]
fn is_stop(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\' || c >= 0x80
}

/// The length of the valid escape sequence at `i` (a backslash), if it is one.
#[inline(always)]
fn escape_at(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i + 1)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(2),
        b'u' if b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => Some(6),
        _ => None,
    }
}

/// The end of the run of non-ASCII bytes at `i`, when the run is whole UTF-8 characters.
/// Taken a run at a time so that text in other scripts is checked at `from_utf8`'s pace.
#[cold]
fn utf8_run(b: &[u8], i: usize) -> Option<usize> {
    let rest = b.get(i..)?;
    let n = rest.iter().position(u8::is_ascii).unwrap_or(rest.len());
    std::str::from_utf8(rest.get(..n)?).ok()?;
    Some(i + n)
}

/// Checks the string whose opening quote is at `i`; the index after its closing quote.
/// Inlined into the pass, whose cursors are locals: a call saved and restored registers
/// for every string, most of which are a word or two long.
#[inline(always)]
pub(super) fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        if let Some(chunk) = chunk_at(b, i) {
            match chunk_stops(chunk) {
                0 => {
                    i += 16;
                    continue;
                }
                hits => i += hits.trailing_zeros() as usize,
            }
        } else if let Some(w) = word_at(b, i) {
            match first_stop(w) {
                None => {
                    i += 8;
                    continue;
                }
                Some(lane) => i += lane,
            }
        } else if !is_stop(*b.get(i)?) {
            i += 1;
            continue;
        }
        match *b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += escape_at(b, i)?,
            0x80.. => i = utf8_run(b, i)?,
            // A raw control character.
            _ => return None,
        }
    }
}

/// Checks the string whose opening quote is at `i` and writes it, quotes included,
/// escaped as string contents into `out` at `len`: the index after its closing quote and
/// the new length. The cursors are locals, not fields, so that they stay in registers
/// (stores into `out` could alias a field as far as the compiler knows).
///
/// `out` must hold twice the input plus [`SLACK`] (a chunk is stored whole, its extra
/// bytes overwritten by the next write); when it does not, the string is refused.
#[inline(always)]
pub(super) fn escape_string(
    b: &[u8],
    mut i: usize,
    out: &mut [u8],
    mut len: usize,
) -> Option<(usize, usize)> {
    out.get_mut(len..len + 2)?.copy_from_slice(b"\\\"");
    len += 2;
    i += 1;
    loop {
        if let Some(chunk) = chunk_at(b, i) {
            out.get_mut(len..len + 16)?.copy_from_slice(&chunk);
            match chunk_stops(chunk) {
                0 => {
                    i += 16;
                    len += 16;
                    continue;
                }
                hits => {
                    let lane = hits.trailing_zeros() as usize;
                    i += lane;
                    len += lane;
                }
            }
        } else if let Some(w) = word_at(b, i) {
            out.get_mut(len..len + 8)?.copy_from_slice(&w.to_le_bytes());
            match first_stop(w) {
                None => {
                    i += 8;
                    len += 8;
                    continue;
                }
                Some(lane) => {
                    i += lane;
                    len += lane;
                }
            }
        } else {
            let c = *b.get(i)?;
            if !is_stop(c) {
                *out.get_mut(len)? = c;
                i += 1;
                len += 1;
                continue;
            }
        }
        match *b.get(i)? {
            b'"' => break,
            b'\\' => {
                let n = escape_at(b, i)?;
                // `\\` then the sequence's own `\` again when it escapes `"` or `\`.
                let tail = b.get(i + 1..i + n)?;
                let again = usize::from(matches!(tail.first(), Some(b'"' | b'\\')));
                out.get_mut(len..len + 3)?.copy_from_slice(b"\\\\\\");
                len += 2 + again;
                out.get_mut(len..len + tail.len())?.copy_from_slice(tail);
                len += tail.len();
                i += n;
            }
            0x80.. => {
                let end = utf8_run(b, i)?;
                let run = b.get(i..end)?;
                out.get_mut(len..len + run.len())?.copy_from_slice(run);
                len += run.len();
                i = end;
            }
            // A raw control character.
            _ => return None,
        }
    }
    out.get_mut(len..len + 2)?.copy_from_slice(b"\\\"");
    Some((i + 1, len + 2))
}
