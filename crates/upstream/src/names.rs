//! Header field names remembered per connection.

use http::HeaderName;

/// Most field names a connection remembers.
const KNOWN_NAMES: usize = 16;

/// The field names of a connection's last message, by position.
///
/// A peer sends the same fields in the same order message after message (a client its
/// request fields, an upstream its response fields), so the `k`-th name is usually the
/// `k`-th of last time: one case-insensitive comparison instead of `HeaderName`'s
/// parse (a table lookup per byte, and an allocation for a name that is not a standard
/// one). Shared by the gateway's server side and the upstream client.
#[derive(Debug, Default)]
pub struct FieldNames(Vec<HeaderName>);

impl FieldNames {
    /// The name of the `k`-th field of a message, `raw` as sent; `None` if `raw` is not a
    /// valid field name. Any remembered position will do; only a name new to the
    /// connection is parsed.
    pub fn name(&mut self, k: usize, raw: &[u8]) -> Option<HeaderName> {
        let same = |n: &HeaderName| eq_folded(n.as_str().as_bytes(), raw);
        if let Some(known) = self.0.get(k).filter(|n| same(n)) {
            return Some(known.clone());
        }
        let name = match self.0.iter().find(|n| same(n)) {
            Some(known) => known.clone(),
            None => HeaderName::from_bytes(raw).ok()?,
        };
        if let Some(slot) = self.0.get_mut(k) {
            *slot = name.clone();
        } else if self.0.len() < KNOWN_NAMES {
            self.0.push(name.clone());
        }
        Some(name)
    }
}

/// Whether `raw` is `lower` (a lowercase name) in any case, eight bytes at a time:
/// `[u8]::eq_ignore_ascii_case` folds byte by byte, which cost more per name than
/// parsing it (clients send `Content-Type`, not `content-type`).
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
    fn names_are_parsed_once_and_checked_every_time() {
        let mut names = FieldNames::default();
        assert_eq!(names.name(0, b"Content-Type").unwrap(), "content-type");
        assert_eq!(names.name(1, b"X-Custom").unwrap(), "x-custom");
        // Same position, same name in another case.
        assert_eq!(names.name(0, b"content-TYPE").unwrap(), "content-type");
        // Another position, a known name; then a name new to the connection.
        assert_eq!(names.name(1, b"CONTENT-TYPE").unwrap(), "content-type");
        assert_eq!(names.name(0, b"x-other").unwrap(), "x-other");
        // A remembered name of another length or bytes is not taken for this one.
        assert_eq!(names.name(0, b"x-othe").unwrap(), "x-othe");
        assert!(names.name(0, b"bad name").is_none());
        assert!(names.name(0, b"").is_none());
        assert_eq!(names.name(0, b"x-othe").unwrap(), "x-othe");
    }

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

    #[test]
    fn names_are_kept_by_their_latest_position() {
        let mut names = FieldNames::default();
        let listed = |n: &FieldNames| n.0.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        for (k, raw) in ["Mcp-Session-Id", "Accept"].iter().enumerate() {
            names.name(k, raw.as_bytes()).unwrap();
        }
        assert_eq!(listed(&names), ["mcp-session-id", "accept"]);
        for (k, raw) in ["accept", "X-New", "MCP-SESSION-ID"].iter().enumerate() {
            names.name(k, raw.as_bytes()).unwrap();
        }
        assert_eq!(listed(&names), ["accept", "x-new", "mcp-session-id"]);
    }

    #[test]
    fn at_most_a_bounded_number_are_remembered() {
        let mut names = FieldNames::default();
        for k in 0..40 {
            let raw = format!("x-f{k}");
            assert_eq!(names.name(k, raw.as_bytes()).unwrap(), raw.as_str());
        }
        assert_eq!(names.0.len(), KNOWN_NAMES);
        assert_eq!(names.name(3, b"X-F39").unwrap(), "x-f39");
        assert_eq!(names.0[3], "x-f39", "kept at its position");
    }
}
