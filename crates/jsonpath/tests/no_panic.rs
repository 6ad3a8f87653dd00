//! Mutation testing: mangled mappings must produce errors, never panics, and
//! whatever still parses must evaluate and classify consistently.
//!
//! A fixed-seed generator instead of proptest keeps the run deterministic,
//! fast, and free of extra dependencies.

use naftiko_jsonpath::{Mapping, Selected};
use serde_json::{Value, json};

const SEEDS: &[&str] = &[
    "$",
    "$.",
    "$.a.b",
    "$.name-with-hyphen",
    "$.first name.x",
    "$..it's",
    "$.a['b-c']",
    "$.items[*].id",
    "$.items[0:2:1]",
    "$[0,-1]",
    "$..*",
    r#"$.items[?@.tag == 'a.b-c' && @["x\"y"] != "]"].id"#,
    "$[?match(@.tag, 'a.*') || length(@.id) > 1]",
    r"$['\u00e9\'\\']",
];

/// Characters that stress the pre-pass, the RFC parser, and byte-offset
/// handling (multi-byte chars right where errors are reported).
const ALPHABET: &[char] = &[
    '$', '.', '.', '[', ']', '\'', '"', '\\', '?', '@', '*', ':', ',', '-', ' ', '(', ')', '=',
    '!', '<', '&', '|', '0', '1', '-', 'a', 'é', '😀', '\u{0}', '\n', '\t', '\u{7f}', 'u',
    '\u{a0}',
];

/// xorshift64*: good enough to spread mutations, reproducible by seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for _ in 0..=rng.below(3) {
        let at = rng.below(chars.len() + 1);
        match rng.below(3) {
            0 => chars.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            _ if at < chars.len() => chars[at] = ALPHABET[rng.below(ALPHABET.len())],
            _ => chars.push(char::from(rng.below(128) as u8)),
        }
    }
    chars.into_iter().collect()
}

fn check(src: &str, doc: &Value) {
    // The pre-pass must leave RFC 9535 queries alone.
    if let (Ok(strict), Ok(lenient)) = (Mapping::parse_rfc9535(src), Mapping::parse(src)) {
        assert_eq!(strict.query_nodes(doc), lenient.query_nodes(doc), "{src:?}");
        assert_eq!(strict.is_definite(), lenient.is_definite(), "{src:?}");
    } else {
        assert!(
            Mapping::parse_rfc9535(src).is_err(),
            "lenient rejected RFC 9535 {src:?}"
        );
    }
    for parsed in [Mapping::parse(src), Mapping::parse_rfc9535(src)] {
        match parsed {
            Ok(m) => {
                let selected = m.select(doc);
                let _ = selected.to_value();
                if m.is_definite() {
                    assert!(!matches!(selected, Selected::Many(_)), "{src:?}");
                    assert!(m.query_nodes(doc).len() <= 1, "{src:?}");
                } else {
                    assert!(matches!(selected, Selected::Many(_)), "{src:?}");
                }
                if let Some(rfc) = as_comparison(&m) {
                    let singular = Mapping::parse_rfc9535(&rfc).is_ok();
                    assert_eq!(m.is_definite(), singular, "{src:?} vs {rfc:?}");
                }
            }
            Err(e) => {
                assert!(e.offset() <= src.len(), "{src:?}: {e}");
                let _ = e.to_string();
            }
        }
    }
}

/// `$[?<query> == 0]` for an RFC 9535 mapping. RFC 9535 allows only singular
/// queries in comparisons, which makes the parser an oracle for definiteness.
fn as_comparison(m: &Mapping) -> Option<String> {
    Mapping::parse_rfc9535(m.source())
        .is_ok()
        .then(|| format!("$[?{} == 0]", m.source()))
}

#[test]
fn mutated_mappings_never_panic() {
    let doc = json!({
        "a": {"b": [1, {"c": "d"}]},
        "name-with-hyphen": 1,
        "items": [{"id": 1, "tag": "a.b-c"}, {"id": "22"}],
    });
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for round in 0..10_000 {
        let seed = SEEDS[round % SEEDS.len()];
        let src = mutate(&mut rng, seed);
        check(&src, &doc);
        parsed += usize::from(Mapping::parse(&src).is_ok());
    }
    for seed in SEEDS {
        check(seed, &doc);
    }
    // The oracle itself must tell the two kinds apart.
    for (src, singular) in [("$.a[0]", true), ("$.a[*]", false), ("$..a", false)] {
        let rfc = as_comparison(&Mapping::parse_rfc9535(src).unwrap()).unwrap();
        assert_eq!(Mapping::parse_rfc9535(&rfc).is_ok(), singular, "{rfc}");
    }
    // Guards against a mutator so aggressive that nothing parses any more.
    assert!(parsed > 400, "only {parsed} mutants parsed");
}
