//! Field names compared in any case, a word at a time: `[u8]::eq_ignore_ascii_case`
//! folds byte by byte (~260 instructions for a title-case `Content-Type`), and every
//! lookup in [`crate::Fields`] compares names.

/// Whether `raw` is `lower` (a lowercase name) in any case, eight bytes at a time.
pub(crate) fn eq_folded(lower: &[u8], raw: &[u8]) -> bool {
    if lower.len() != raw.len() {
        return false;
    }
    let whole = lower.len() & !7;
    let (lower_words, lower_tail) = lower.split_at(whole);
    let (raw_words, raw_tail) = raw.split_at(whole);
    lower_words
        .chunks_exact(8)
        .zip(raw_words.chunks_exact(8))
        .all(|(k, r)| word(k) == fold(word(r)))
        && lower_tail
            .iter()
            .zip(raw_tail)
            .all(|(&k, &r)| k == r.to_ascii_lowercase())
}

/// Eight bytes as one little-endian word (`chunks_exact(8)` gives no other length).
fn word(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_le_bytes)
}

/// `w` with every byte in `A..=Z` lowercased, other bytes unchanged.
fn fold(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let b = w & LOW7;
    // Per byte (no carry crosses bytes: each sum stays below 0x100): the high bit of
    // `b + 0x3f` is set from 'A' (0x41) up, that of `b + 0x25` from '[' (0x5b) up.
    let at_least_a = b + 0x3f3f_3f3f_3f3f_3f3f;
    let past_z = b + 0x2525_2525_2525_2525;
    let upper = at_least_a & !past_z & !w & HIGH;
    w | (upper >> 2)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn folding_matches_std_for_every_byte_at_every_position() {
        for len in [1usize, 7, 8, 9, 16, 17] {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut raw = vec![b'x'; len];
                    raw[at] = b;
                    for lower in [raw.to_ascii_lowercase(), vec![b'x'; len]] {
                        assert_eq!(
                            eq_folded(&lower, &raw),
                            lower.eq_ignore_ascii_case(&raw),
                            "{lower:?} {raw:?}"
                        );
                    }
                }
            }
        }
        // `^` and `~` differ by the case bit but are not letters.
        assert!(!eq_folded(b"a~", b"a^"));
        assert!(!eq_folded(b"content-type", b"content-typ"));
    }
}
