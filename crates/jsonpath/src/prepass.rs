//! The lenient pre-pass: turns a Naftiko mapping into RFC 9535 text.
//!
//! It is deliberately a lexical rewrite, not a parser: every decision it makes
//! is local and visible in the rewritten text, which error messages show.

/// The RFC 9535 text produced by [`rewrite`], plus enough bookkeeping to point
/// parse errors back into the text the author wrote.
#[derive(Debug)]
pub(crate) struct Prepassed {
    /// The text handed to the RFC 9535 parser.
    pub(crate) text: String,
    /// `(offset in text, offset in source)` pairs, ascending; from each pair
    /// on, the two texts agree byte for byte until the next pair.
    anchors: Vec<(usize, usize)>,
}

impl Prepassed {
    /// Maps a byte offset in [`Prepassed::text`] to one in the original source.
    ///
    /// Offsets inside a rewritten name land on (or just after) that name in
    /// the source, which is close enough for a diagnostic.
    pub(crate) fn to_source(&self, offset: usize, source_len: usize) -> usize {
        let (text_at, source_at) = self
            .anchors
            .iter()
            .rev()
            .find(|(text_at, _)| *text_at <= offset)
            .copied()
            .unwrap_or((0, 0));
        (source_at + (offset - text_at)).min(source_len)
    }
}

/// RFC 9535 blank space. Wider Unicode whitespace is a valid name character
/// there, so trimming it would change the meaning of valid queries.
const BLANK: [char; 4] = [' ', '\t', '\n', '\r'];

/// Applies the pre-pass described in the crate documentation.
pub(crate) fn rewrite(source: &str) -> Prepassed {
    let lead = source.len() - source.trim_start_matches(BLANK).len();
    let src = source.trim_matches(BLANK);
    let mut anchors = vec![(0, lead)];
    if src == "$." {
        return Prepassed {
            text: "$".to_owned(),
            anchors,
        };
    }

    let bytes = src.as_bytes();
    let mut text = String::with_capacity(src.len() + 8);
    // Bytes of `src` before `copied` are already in `text`.
    let mut copied = 0;
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    // Only ASCII bytes are compared below, and UTF-8 continuation bytes are
    // never ASCII, so stepping byte-wise through multi-byte chars is safe.
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        match (quote, b) {
            // Skipping the escaped byte keeps `\'` from closing the literal.
            (Some(_), b'\\') => i += 1,
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') if depth > 0 => quote = Some(b),
            (None, b'[') => depth += 1,
            (None, b']') => depth = depth.saturating_sub(1),
            (None, b'.') if depth == 0 => {
                let dot = i - 1;
                let start = if bytes.get(i) == Some(&b'.') {
                    i + 1
                } else {
                    i
                };
                let end = src[start..]
                    .find(['.', '[', ']'])
                    .map_or(src.len(), |n| start + n);
                // RFC 9535 allows blanks between segments (`$.a .b`), so
                // trailing blanks are not part of the name.
                let name = src[start..end].trim_end_matches(BLANK);
                // A blank right after the dot is more likely a typo than part
                // of a name, so it is left for the RFC parser to reject.
                let blank_first = name.starts_with(BLANK);
                if name.is_empty() || name == "*" || blank_first || is_shorthand(name) {
                    continue;
                }
                // `.name` becomes `['name']`; `..name` becomes `..['name']`.
                let keep_until = if start == dot + 1 { dot } else { start };
                text.push_str(&src[copied..keep_until]);
                anchors.push((text.len(), lead + keep_until));
                push_quoted(&mut text, name);
                copied = start + name.len();
                anchors.push((text.len(), lead + copied));
                i = copied;
            }
            (None, _) => {}
        }
    }
    text.push_str(&src[copied..]);
    Prepassed { text, anchors }
}

/// RFC 9535 `member-name-shorthand`: `name-first *name-char`.
fn is_shorthand(name: &str) -> bool {
    // Every non-ASCII `char` is in %x80-D7FF / %xE000-10FFFF: Rust chars
    // cannot be surrogates.
    let first = |c: char| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii();
    let mut chars = name.chars();
    chars.next().is_some_and(first) && chars.all(|c| first(c) || c.is_ascii_digit())
}

/// Appends `name` as an RFC 9535 bracketed name selector, `['…']`.
fn push_quoted(out: &mut String, name: &str) {
    out.push_str("['");
    for c in name.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push_str("']");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(src: &str) -> String {
        rewrite(src).text
    }

    #[test]
    fn root_forms() {
        assert_eq!(text("$"), "$");
        assert_eq!(text("$."), "$");
        assert_eq!(text("  $.  \n"), "$");
        assert_eq!(text(" $.a "), "$.a");
    }

    #[test]
    fn shorthand_names_are_untouched() {
        for src in [
            "$.a.b",
            "$.a_1.é",
            "$..a",
            "$.*",
            "$..*",
            "$..[0]",
            "$.a .b",
            "$.a\u{a0}",
        ] {
            assert_eq!(text(src), src);
        }
    }

    #[test]
    fn other_names_become_brackets() {
        assert_eq!(text("$.name-with-hyphen"), "$['name-with-hyphen']");
        assert_eq!(text("$.a.b-c.d"), "$.a['b-c'].d");
        assert_eq!(text("$.first name"), "$['first name']");
        assert_eq!(text("$.first name .x"), "$['first name'] .x");
        assert_eq!(text("$..x-y[0]"), "$..['x-y'][0]");
        assert_eq!(text("$.0"), "$['0']");
        assert_eq!(text("$.it's"), r"$['it\'s']");
        assert_eq!(text(r"$.a\b"), r"$['a\\b']");
        assert_eq!(text("$.a\tb\u{1}"), r"$['a\tb\u0001']");
    }

    #[test]
    fn brackets_and_strings_are_untouched() {
        for src in [
            "$.a['b-c']",
            "$['a.b-c'].d",
            "$[?@.x == 'a.b-c']",
            r#"$[?@.x == "it's.a-b"]"#,
            r"$[?@.x == 'a\'.b-c']",
            "$[?@[?@.k-v]].x",
        ] {
            assert_eq!(text(src), src);
        }
        assert_eq!(text("$['a.b'].c-d"), "$['a.b']['c-d']");
    }

    #[test]
    fn broken_input_is_passed_along() {
        let cases = [
            "", "$.[", "$.", "$..", "$.a.", "$[", "$['a", "$.a]", "a-b", "$. a", "$..\ta",
        ];
        for src in cases {
            let expected = if src == "$." { "$" } else { src };
            assert_eq!(text(src), expected);
        }
    }

    #[test]
    fn offsets_map_back_to_the_source() {
        let src = "  $.a-b.c]";
        let pre = rewrite(src);
        assert_eq!(pre.text, "$['a-b'].c]");
        let bracket = pre.text.rfind(']').unwrap_or_default();
        assert_eq!(
            pre.to_source(bracket, src.len()),
            src.rfind(']').unwrap_or_default()
        );
        assert_eq!(pre.to_source(0, src.len()), 2);
        assert_eq!(pre.to_source(pre.text.len(), src.len()), src.len());
    }
}
