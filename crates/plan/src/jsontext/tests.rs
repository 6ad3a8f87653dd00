//! `jsontext` against serde_json: same verdicts, same values, same escaping.

use super::string::{chunk_stops, first_stop};
use super::*;

/// Copies of `seed` with one to three bytes replaced by bytes of `alphabet` (and, when
/// `reshape`, inserted or removed), from a xorshift generator: the same run every time.
fn mutations<'a>(
    seed: &'a str,
    alphabet: &'a [u8],
    mut state: u64,
    reshape: bool,
) -> impl Iterator<Item = Vec<u8>> + 'a {
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    std::iter::repeat_with(move || {
        let mut doc = seed.as_bytes().to_vec();
        for _ in 0..=(next() % 3) {
            let at = (next() as usize) % (doc.len() + 1);
            let c = alphabet[(next() as usize) % alphabet.len()];
            match (reshape, next() % 3) {
                (_, _) if at == doc.len() && !reshape => {}
                (false, _) | (true, 0) if at < doc.len() => doc[at] = c,
                (true, 1) if at < doc.len() => {
                    doc.remove(at);
                }
                _ => doc.insert(at, c),
            }
        }
        doc
    })
}

/// `src` as compact JSON text, or `None` when it is not one JSON value.
fn compact_json(src: &str) -> Option<Cow<'_, str>> {
    prepare(src).map(|p| p.json)
}

#[test]
fn compacts_like_serde() {
    for s in [
        r#"{ "a" : [ 1, -2.5e+3, 0, true, false, null, "x y\" \\ \u00e9 é" ], "b":{} , "c" : [ ] }"#,
        "\n\t[1,\r\n2]\n",
        r#""just a string""#,
        "0",
        "-0.0E-1",
        r#"{"nested":{"deep":[[[{"k":"v"}]]]}}"#,
        r#"["\/\b\f\n\r\t\uD83D\uDE00"]"#,
    ] {
        let ours = compact_json(s).unwrap_or_else(|| panic!("rejected {s}"));
        let theirs = serde_json::to_string(
            &serde_json::from_str::<&serde_json::value::RawValue>(s).unwrap(),
        )
        .unwrap();
        // serde keeps RawValue text verbatim; compare by value and by compactness.
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&ours).unwrap(),
            serde_json::from_str::<serde_json::Value>(&theirs).unwrap(),
            "{s}"
        );
        assert!(
            !ours.contains(": ") && !ours.contains(", ") && !ours.contains('\n'),
            "{ours}"
        );
    }
    assert_eq!(
        compact_json(r#"{ "a" : "b c" }"#).unwrap(),
        r#"{"a":"b c"}"#
    );
}

#[test]
fn rejects_what_serde_rejects() {
    for s in [
        "",
        " ",
        "{",
        "}",
        "[1,]",
        "[,1]",
        r#"{"a":}"#,
        r#"{"a" 1}"#,
        r#"{a:1}"#,
        r#"{"a":1,}"#,
        "01",
        "1.",
        ".5",
        "-",
        "1e",
        "1e+",
        "+1",
        "tru",
        "nul",
        "[1] 2",
        "\"unterminated",
        "\"bad \\x escape\"",
        "\"\\u12G4\"",
        "\"raw \u{1} control\"",
        "NaN",
        "[1 2]",
        r#"{"a":1 "b":2}"#,
        "'single'",
    ] {
        assert!(compact_json(s).is_none(), "accepted {s:?}");
        assert!(
            serde_json::from_str::<&serde_json::value::RawValue>(s).is_err(),
            "serde accepts {s:?}"
        );
    }
}

#[test]
fn escapes_like_serde() {
    for s in [
        r#"{"a":"q\"b\\s\n\u00e9\/","b":[1,true,null],"c":"é€😀"}"#,
        r#" [ "x" , { "k" : "v\\" } ] "#,
    ] {
        let p = prepare(s).unwrap();
        let expected = serde_json::to_string(p.json.as_ref()).unwrap();
        assert_eq!(format!("\"{}\"", p.escaped), expected, "{s}");
    }
}

#[test]
fn first_stop_finds_the_first_in_every_lane() {
    // Every byte value in every lane, after fillers and before a stop (a false hit may
    // only follow a true one).
    for v in 0..=255u8 {
        for k in 0..8 {
            for filler in [b'a', 0xff, 0x7f, b' ', 0x80] {
                let mut lanes = [filler; 8];
                lanes[k] = v;
                if k < 7 {
                    lanes[7] = b'"';
                }
                let want = lanes
                    .iter()
                    .position(|&c| c < 0x20 || c == b'"' || c == b'\\' || c >= 0x80);
                assert_eq!(first_stop(u64::from_le_bytes(lanes)), want, "{lanes:?}");
            }
        }
    }
}

#[test]
fn chunk_stops_marks_every_stop_in_every_lane() {
    for v in 0..=255u8 {
        for k in 0..16 {
            for filler in [b'a', b' ', 0x7f, b'~'] {
                let mut lanes = [filler; 16];
                lanes[k] = v;
                let is_stop = v < 0x20 || v == b'"' || v == b'\\' || v >= 0x80;
                let want = if is_stop { 1 << k } else { 0 };
                assert_eq!(chunk_stops(lanes), want, "{lanes:?}");
            }
        }
    }
}

#[test]
fn strings_of_every_length_round_trip() {
    // Stops at every offset: in a first or second chunk, in the word after the chunks,
    // and in the byte-wise tail.
    for len in 0..48 {
        for at in 0..=len {
            for stop in ["\\\"", "\\\\", "\\n", "\\u00e9", "é", "€"] {
                let mut s = "a".repeat(len);
                s.insert_str(at, stop);
                let doc = format!("[\"{s}\",\"{s}\"]");
                let p = prepare(&doc).unwrap_or_else(|| panic!("rejected {doc}"));
                assert_eq!(p.json, doc);
                assert_eq!(
                    p.escaped,
                    serde_json::to_string(&doc).unwrap().trim_matches('"')
                );
                let mut raw = "a".repeat(len);
                raw.insert(at, '\u{1}');
                let raw = format!("[\"{raw}\"]");
                assert!(prepare(&raw).is_none(), "accepted {raw:?}");
                assert!(!is_json(raw.as_bytes()), "accepted {raw:?}");
            }
        }
    }
}

#[test]
fn depth_is_bounded() {
    let max = MAX_DEPTH as usize;
    let ok = format!("{}{}", "[".repeat(max), "]".repeat(max));
    assert!(compact_json(&ok).is_some());
    let deep = format!("{}{}", "[".repeat(max + 1), "]".repeat(max + 1));
    assert!(compact_json(&deep).is_none());
    assert!(!is_json(deep.as_bytes()));
    // Objects and arrays interleaved at the limit: each level closes with its own kind.
    let mixed = format!("{}1{}", r#"{"a":["#.repeat(max / 2), "]}".repeat(max / 2));
    assert!(compact_json(&mixed).is_some());
    // serde_json draws the line at the same place.
    for n in [max, max + 1] {
        for inner in ["", "1"] {
            let doc = format!("{}{inner}{}", "[".repeat(n), "]".repeat(n));
            let serde = serde_json::from_str::<serde_json::Value>(&doc).is_ok();
            assert_eq!(
                is_json(doc.as_bytes()),
                serde,
                "{n} levels, inner {inner:?}"
            );
        }
    }
    // A member's value read without the listing still counts the containers around it.
    for n in [max - 1, max] {
        let doc = format!(r#"{{"a":{}{}}}"#, "[".repeat(n), "]".repeat(n));
        let serde = serde_json::from_str::<serde_json::Value>(&doc).is_ok();
        assert_eq!(serde, n < max);
        for listing in [Listing::Skip, Listing::Member, Listing::Members] {
            assert_eq!(
                members(&doc, &|_, _, _| listing).is_some(),
                serde,
                "{n} levels, {listing:?}"
            );
        }
    }
    let crossed = format!("{}1{}", r#"{"a":["#.repeat(3), "}]".repeat(3));
    assert!(compact_json(&crossed).is_none());
}

#[test]
fn agrees_with_serde_on_mutations() {
    let seed = r#"{"id":"4c2b","n":[1,-2.5e3,0.0],"ok":true,"no":null,"s":"a\"b\\c\u00e9\n é","o":{"k":[{}, []]}, "long" : "a string \"\"\\\\ longer than sixteen bytes \\\" to copy"}"#;
    let alphabet: &[u8] = b" \t\n{}[]\",:\\/-+.0123456789eEtrufalsn\x01";
    for doc in mutations(seed, alphabet, 0x2545_f491_4f6c_dd1d, true).take(20_000) {
        let Ok(text) = std::str::from_utf8(&doc) else {
            continue;
        };
        let ours = prepare(text);
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        assert_eq!(ours.is_some(), theirs.is_ok(), "{text}");
        if let (Some(o), Ok(t)) = (ours, theirs) {
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&o.json).unwrap(),
                t,
                "{text}"
            );
            // The escaped text is exactly the compact text as a JSON string.
            let quoted = serde_json::to_string(o.json.as_ref()).unwrap();
            assert_eq!(format!("\"{}\"", o.escaped), quoted, "{text}");
        }
    }
}

/// Lists members down to depth `max`.
fn upto(depth: u32, max: u32) -> Listing {
    match depth.cmp(&max) {
        std::cmp::Ordering::Less => Listing::Members,
        std::cmp::Ordering::Equal => Listing::Member,
        std::cmp::Ordering::Greater => Listing::Skip,
    }
}

/// The object `value` as our members list it (last duplicate wins, as in serde_json).
fn object_from(all: &[Member<'_>], parent: Option<&Member<'_>>) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    let members: Vec<&Member<'_>> = match parent {
        Some(p) => p.children(all).collect(),
        None => all.iter().filter(|m| m.depth == 1).collect(),
    };
    for m in members {
        let value = serde_json::from_str(m.value).unwrap_or_else(|e| panic!("{e}: {m:?}"));
        map.insert(m.key().into_owned(), value);
    }
    serde_json::Value::Object(map)
}

#[test]
fn members_are_located_like_serde_reads_them() {
    let doc = r#" {"jsonrpc":"2.0", "id" : 7,"method":"tools\/call","params":{"name":"get","arguments":{"id":"a\"b","n":[1,{"deep":true}],"e":{}},"_meta":null},"a\u0062":1,"id":8} "#;
    let all = members(doc, &|d, _, _| upto(d, 3)).unwrap();
    let value: serde_json::Value = serde_json::from_str(doc).unwrap();
    assert_eq!(object_from(&all, None), value);
    let params = all.iter().find(|m| m.key() == "params").unwrap();
    assert_eq!(object_from(&all, Some(params)), value["params"]);
    let arguments = params
        .children(&all)
        .find(|m| m.key() == "arguments")
        .unwrap();
    assert_eq!(
        arguments.value,
        r#"{"id":"a\"b","n":[1,{"deep":true}],"e":{}}"#
    );
    assert_eq!(
        object_from(&all, Some(arguments)),
        value["params"]["arguments"]
    );
    // Depth 4 (inside "n") is not listed; keys are unescaped.
    assert!(all.iter().all(|m| m.depth <= 3 && m.key() != "deep"));
    assert!(
        all.iter()
            .any(|m| m.key() == "ab" && m.raw_key == r#""a\u0062""#)
    );
    assert_eq!(
        members("[1,2]", &|_, _, _| Listing::Members).unwrap().len(),
        0
    );
    assert_eq!(members("{}", &|_, _, _| Listing::Members).unwrap().len(), 0);
    assert!(members(r#"{"a":1,}"#, &|_, _, _| Listing::Members).is_none());
    assert!(members("", &|_, _, _| Listing::Members).is_none());
}

#[test]
fn members_agree_with_serde_on_mutations() {
    let seed = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"id":"x\"y","body":{"k":[1,2],"s":"v"}}},"x":null}"#;
    let alphabet: &[u8] = b" {}[]\",:\\0123456789tnulaxyz";
    for doc in mutations(seed, alphabet, 0x9e37_79b9_7f4a_7c15, false).take(20_000) {
        let Ok(text) = std::str::from_utf8(&doc) else {
            continue;
        };
        let ours = members(text, &|d, _, _| upto(d, 2));
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        assert_eq!(ours.is_some(), theirs.is_ok(), "{text}");
        let (Some(all), Ok(value)) = (ours, theirs) else {
            continue;
        };
        if value.is_object() {
            assert_eq!(object_from(&all, None), value, "{text}");
            for m in all
                .iter()
                .filter(|m| m.depth == 1 && m.value.starts_with('{'))
            {
                assert_eq!(
                    object_from(&all, Some(m)),
                    value[m.key().as_ref()],
                    "{text}"
                );
            }
        } else {
            assert!(all.is_empty(), "{text}");
        }
    }
}

#[test]
fn members_lists_only_what_keep_asks_for() {
    let doc = r#"{"junk":{"a":1},"params":{"name":"t","x":{"deep":1},"arguments":{"arguments":{"z":2},"k":[{"in":1}]}},"id":1}"#;
    let keep = |depth: u32, parent: Option<&str>, key: &str| match (depth, parent, key) {
        (1, None, "params") | (2, Some("params"), "arguments") => Listing::Members,
        (1, None, "id") | (2, Some("params"), "name") | (3, Some("arguments"), _) => {
            Listing::Member
        }
        _ => Listing::Skip,
    };
    let all = members(doc, &keep).unwrap();
    let listed: Vec<(u32, String)> = all
        .iter()
        .map(|m| (m.depth, m.key().into_owned()))
        .collect();
    assert_eq!(
        listed,
        [
            (1, "params".to_owned()),
            (2, "name".to_owned()),
            (2, "arguments".to_owned()),
            (3, "arguments".to_owned()),
            (3, "k".to_owned()),
            (1, "id".to_owned()),
        ]
    );
    // Values end where they end, whatever was skipped inside them.
    assert_eq!(
        all[0].value,
        &doc[doc.find(r#"{"name""#).unwrap()..doc.rfind(r#","id""#).unwrap()]
    );
    assert_eq!(all[4].value, r#"[{"in":1}]"#);
    assert_eq!(all[5].value, "1");
    // A million members nobody asked for are not kept.
    let big = format!("{{{}\"id\":1}}", r#""a":1,"#.repeat(1_000_000));
    let all = members(&big, &keep).unwrap();
    assert_eq!(all.len(), 1);
    assert!(
        all.capacity() <= 16,
        "the room made for a request, not grown"
    );
}

#[test]
fn utf8_is_checked_inside_strings_like_serde() {
    // Bytes that make or break UTF-8 (lead bytes, continuations, overlong, surrogate,
    // out-of-range) dropped into and around strings of a seed with multi-byte text.
    let seed = "{\"a\":\"é€😀 plain\",\"k\u{e9}y\":[\"x\",\"日本語のテキスト\"],\"n\":1}";
    let alphabet: &[u8] = &[
        0xc3, 0xa9, 0x80, 0xbf, 0xc0, 0xe2, 0x82, 0xed, 0xa0, 0xf0, 0xf4, 0xf5, 0xff, b'"', b'a',
    ];
    let mut seen = [0usize; 2];
    for doc in mutations(seed, alphabet, 0x1234_5678_9abc_def1, true).take(20_000) {
        let theirs = serde_json::from_slice::<serde_json::Value>(&doc);
        seen[usize::from(theirs.is_ok())] += 1;
        assert_eq!(is_json(&doc), theirs.is_ok(), "{doc:?}");
        let mut out = b"head".to_vec();
        let ours = escape_into(&doc, &mut out);
        assert_eq!(ours.is_some(), theirs.is_ok(), "{doc:?}");
        let Ok(value) = theirs else {
            assert_eq!(
                out, b"head",
                "a refused document leaves the buffer as it was"
            );
            continue;
        };
        let text = std::str::from_utf8(&out[4..]).unwrap();
        let compact = serde_json::from_str::<String>(&format!("\"{text}\"")).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&compact).unwrap(),
            value
        );
    }
    // Both verdicts are exercised.
    assert!(seen[0] > 1000 && seen[1] > 500, "{seen:?}");
}

#[test]
fn escape_into_appends_and_locates_the_value() {
    let mut out = b"[".to_vec();
    let found = escape_into(b" \n{\"a\": \"b\\\\\"}\t", &mut out).unwrap();
    assert_eq!(found.value, 2..14);
    assert!(!found.compact);
    assert_eq!(out, b"[{\\\"a\\\":\\\"b\\\\\\\\\\\"}");
    assert_eq!(unescape(&out[1..]).unwrap(), b"{\"a\":\"b\\\\\"}");
    let found = escape_into(b"[1,\"x\"]\n", &mut out).unwrap();
    assert!(found.compact);
    assert_eq!(found.value, 0..7);
    assert!(escape_into(b" \n ", &mut out).is_none());
    assert!(escape_into(b"", &mut out).is_none());
}
