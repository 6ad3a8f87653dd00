//! Definiteness of an already-validated RFC 9535 query.
//!
//! `serde_json_path` keeps its syntax tree private, so this re-reads the text.
//! That is sound only because the text has been accepted by the parser: in a
//! valid query every selector other than a name or an index announces itself
//! with `..`, `.*`, `*`, `:`, `?` or a `,` between selectors.

/// Whether a valid RFC 9535 query is *definite* (a "singular query" in RFC
/// terms): only child segments holding one name or index selector each.
pub(crate) fn is_definite(query: &str) -> bool {
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    // Only ASCII bytes are compared, and UTF-8 continuation bytes are never
    // ASCII, so stepping byte-wise through multi-byte chars is safe.
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        match (quote, depth, b) {
            (Some(_), _, b'\\') => i += 1,
            (Some(q), _, _) if b == q => quote = None,
            (Some(_), _, _) => {}
            (None, 0, b'.') if matches!(bytes.get(i), Some(b'.' | b'*')) => return false,
            (None, 1, b'*' | b':' | b'?' | b',') => return false,
            (None, 1.., b'\'' | b'"') => quote = Some(b),
            (None, _, b'[') => depth += 1,
            (None, _, b']') => depth = depth.saturating_sub(1),
            (None, _, _) => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::is_definite;

    #[test]
    fn definite_queries() {
        for q in [
            "$",
            "$.a",
            "$.a.b",
            "$[0]",
            "$[-1]",
            "$['a']['b'][2]",
            "$['a,b:*?']",
            r#"$["it's"]"#,
            r"$['\'*']",
            "$ .a [0]",
            "$.é",
        ] {
            assert!(is_definite(q), "{q}");
        }
    }

    #[test]
    fn indefinite_queries() {
        for q in [
            "$..a",
            "$.*",
            "$..*",
            "$[*]",
            "$.a[1:]",
            "$[0,1]",
            "$['a','b']",
            "$[?@.a]",
            "$['a'][?@['b,']]",
            "$.a..[0]",
            "$[ * ]",
        ] {
            assert!(!is_definite(q), "{q}");
        }
    }
}
