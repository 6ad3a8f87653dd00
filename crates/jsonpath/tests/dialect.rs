//! The Naftiko mapping dialect: pre-pass, Jayway-style results, errors.

use naftiko_jsonpath::{Mapping, MappingError, Selected};
use serde_json::{Value, json};

fn doc() -> Value {
    json!({
        "a": {"b": 1},
        "name-with-hyphen": "hy",
        "first name": "Ada",
        "it's": "quoted",
        "b-c": "top-level b-c",
        "items": [
            {"id": 1, "tag": "a.b-c"},
            {"id": 2, "tag": "x"},
            {"tag": "no id"}
        ],
        "nothing": null
    })
}

fn select(mapping: &str) -> Option<Value> {
    let doc = doc();
    Mapping::parse(mapping)
        .unwrap_or_else(|e| panic!("{mapping}: {e}"))
        .select(&doc)
        .to_value()
}

fn error(mapping: &str) -> MappingError {
    match Mapping::parse(mapping) {
        Ok(m) => panic!("`{mapping}` parsed: {m:?}"),
        Err(e) => e,
    }
}

#[test]
fn root_forms_select_the_whole_document() {
    for src in ["$", "$.", " $ ", "\t$.\n"] {
        let m = Mapping::parse(src).unwrap();
        assert!(m.is_root(), "{src:?}");
        assert!(m.is_definite());
        assert_eq!(m.source(), src);
        assert_eq!(m.select(&doc()).to_value(), Some(doc()));
    }
    assert!(!Mapping::parse("$.a").unwrap().is_root());
    assert!(!Mapping::parse("$[*]").unwrap().is_root());
}

#[test]
fn definite_paths_select_one_value() {
    assert_eq!(select("$.a.b"), Some(json!(1)));
    assert_eq!(select("$.a"), Some(json!({"b": 1})));
    assert_eq!(select("$.items[0].id"), Some(json!(1)));
    assert_eq!(select("$.items[-1].tag"), Some(json!("no id")));
    assert_eq!(select("$['a']['b']"), Some(json!(1)));
    // Present-but-null is a value, not a miss.
    assert_eq!(select("$.nothing"), Some(Value::Null));
    assert!(Mapping::parse("$.a.b").unwrap().is_definite());
}

#[test]
fn missing_definite_paths_select_nothing() {
    let doc = doc();
    for src in ["$.missing", "$.a.b.c", "$.items[7]", "$.a[0]", "$[0]"] {
        assert_eq!(
            Mapping::parse(src).unwrap().select(&doc),
            Selected::Missing,
            "{src}"
        );
    }
}

#[test]
fn index_on_root_array() {
    let doc = json!(["zero", "one"]);
    let m = Mapping::parse("$[0]").unwrap();
    assert!(m.is_definite());
    assert_eq!(m.select(&doc), Selected::One(&doc[0]));
    assert_eq!(
        Mapping::parse("$[-1]").unwrap().select(&doc),
        Selected::One(&doc[1])
    );
}

#[test]
fn indefinite_paths_select_an_array() {
    assert_eq!(select("$.items[*].id"), Some(json!([1, 2])));
    assert_eq!(select("$.items[*].missing"), Some(json!([])));
    assert_eq!(select("$..id"), Some(json!([1, 2])));
    assert_eq!(select("$.items[0:1].id"), Some(json!([1])));
    assert_eq!(select("$.items[0,1].id"), Some(json!([1, 2])));
    assert_eq!(select("$.items[?@.id > 1].id"), Some(json!([2])));
    // One match is still an array: the shape depends on the path, not the data.
    assert_eq!(select("$.a[*]"), Some(json!([1])));
    for src in [
        "$.items[*].id",
        "$..id",
        "$[0:1]",
        "$[0,1]",
        "$[?@.x]",
        "$.*",
    ] {
        assert!(!Mapping::parse(src).unwrap().is_definite(), "{src}");
    }
}

#[test]
fn dot_names_outside_shorthand_become_brackets() {
    assert_eq!(select("$.name-with-hyphen"), Some(json!("hy")));
    assert_eq!(select("$.first name"), Some(json!("Ada")));
    assert_eq!(select("$.it's"), Some(json!("quoted")));
    assert_eq!(select("$..b-c"), Some(json!(["top-level b-c"])));
    assert!(Mapping::parse("$.name-with-hyphen").unwrap().is_definite());
    // Strict RFC 9535 keeps rejecting them.
    assert!(Mapping::parse_rfc9535("$.name-with-hyphen").is_err());
    assert!(Mapping::parse_rfc9535("$.").is_err());
}

#[test]
fn brackets_and_filter_strings_are_untouched() {
    let doc = json!({"a": {"b-c": 1, "b": {"c": 2}}});
    let m = Mapping::parse("$.a['b-c']").unwrap();
    assert_eq!(m.select(&doc), Selected::One(&json!(1)));
    assert!(m.is_definite());

    assert_eq!(select("$.items[?@.tag == 'a.b-c'].id"), Some(json!([1])));
    assert_eq!(select(r#"$.items[?@.tag == "a.b-c"].id"#), Some(json!([1])));
    // A hyphenated name inside a filter is RFC 9535's business, not ours.
    assert!(Mapping::parse("$.items[?@.tag-x == 1]").is_err());
}

#[test]
fn invalid_mappings_get_clear_errors() {
    let e = error("$.[");
    assert_eq!(e.offset(), 2);
    assert!(e.to_string().starts_with("invalid mapping `$.[`: "), "{e}");
    assert!(e.to_string().contains("at byte 2 (`[`)"), "{e}");

    let e = error("");
    assert!(e.message().contains("empty"), "{e}");

    let e = error("user.id");
    assert!(e.message().contains("must start with `$`"), "{e}");

    let e = error("$.items[0");
    assert!(e.to_string().ends_with("at the end"), "{e}");
    assert!(!e.to_string().contains("read as"), "{e}");

    // When the pre-pass changed the text, the error shows what was parsed,
    // and the offset still points into what the author wrote.
    let e = error("$.a-b]");
    assert!(e.to_string().contains("(read as `$['a-b']]`)"), "{e}");
    assert_eq!(e.offset(), 5);
    assert!(e.to_string().contains("at byte 5 (`]`)"), "{e}");

    // A blank after the dot is a typo, not the start of a name.
    assert!(error("$. a").to_string().contains("at byte 2"));

    for src in [
        "$[",
        "$.a[?@.x == 'a]",
        "$['a]",
        "$[01]",
        "$[?foo(@)]",
        "$..",
        "$.a.",
    ] {
        let e = error(src);
        assert!(!e.message().is_empty(), "{src}");
        assert!(e.offset() <= src.len(), "{src}");
    }
}

#[test]
fn mapping_is_shareable_across_threads() {
    fn assert_send_sync_clone<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_send_sync_clone::<Mapping>();
    assert_send_sync_clone::<MappingError>();
}

#[test]
fn query_nodes_is_the_raw_node_list() {
    let doc = doc();
    let m = Mapping::parse("$.a.b").unwrap();
    assert_eq!(m.query_nodes(&doc), vec![&json!(1)]);
    assert!(
        Mapping::parse("$.missing")
            .unwrap()
            .query_nodes(&doc)
            .is_empty()
    );
}
