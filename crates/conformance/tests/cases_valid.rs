//! Every case file validates against `conformance/case.schema.json` (JSON Schema draft
//! 2020-12) and is readable by the runner; ids are unique; every behaviour of
//! semantics.md §8 (items 1–78) has at least one case.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use naftiko_conformance::case::{self, collect_case_files, load_case, yaml_to_json};
use serde_json::Value;

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

fn case_files() -> Vec<PathBuf> {
    let files = collect_case_files(&[conformance_dir().join("cases")]).unwrap();
    assert!(
        files.len() > 100,
        "expected the whole suite, found {} files",
        files.len()
    );
    files
}

#[test]
fn schema_is_draft_2020_12_and_compiles() {
    let text = std::fs::read_to_string(conformance_dir().join("case.schema.json")).unwrap();
    assert_eq!(
        text,
        case::CASE_SCHEMA,
        "the runner embeds the schema file as is"
    );
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    jsonschema::draft202012::new(&schema).expect("the case schema compiles");
}

#[test]
fn every_case_validates_against_the_schema() {
    let text = std::fs::read_to_string(conformance_dir().join("case.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let mut bad = Vec::new();
    for f in case_files() {
        let doc = yaml_to_json(&std::fs::read_to_string(&f).unwrap())
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", f.display()));
        for e in validator.iter_errors(&doc) {
            bad.push(format!(
                "{}: {}: {e}",
                f.display(),
                e.instance_path().as_str()
            ));
        }
    }
    assert!(bad.is_empty(), "schema violations:\n{}", bad.join("\n"));
}

#[test]
fn every_case_is_readable_by_the_runner() {
    let mut bad = Vec::new();
    let mut ids: BTreeMap<String, PathBuf> = BTreeMap::new();
    for f in case_files() {
        let lc = load_case(&f);
        match &lc.case {
            Ok(c) => {
                if let Some(other) = ids.insert(c.id.clone(), f.clone()) {
                    bad.push(format!(
                        "duplicate id {} in {} and {}",
                        c.id,
                        f.display(),
                        other.display()
                    ));
                }
                let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
                if stem != c.id {
                    bad.push(format!(
                        "{}: id `{}` differs from the file name",
                        f.display(),
                        c.id
                    ));
                }
                if c.reference_differs && c.reference_note.is_none() {
                    bad.push(format!(
                        "{}: reference_differs without reference_note",
                        f.display()
                    ));
                }
                if let Some(cf) = &c.capability_file {
                    let p = f.parent().unwrap().join(cf);
                    if !p.is_file() {
                        bad.push(format!(
                            "{}: capability_file {} is missing",
                            f.display(),
                            p.display()
                        ));
                    }
                }
            }
            Err(e) => bad.push(format!("{}: {e}", f.display())),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn areas_are_the_documented_ones() {
    let expected: BTreeSet<&str> = [
        "loading",
        "binds",
        "request-building",
        "rest-routing",
        "rest-responses",
        "output-mapping",
        "mcp-protocol",
        "mcp-tools",
        "errors",
        "security",
    ]
    .into_iter()
    .collect();
    let found: BTreeSet<String> = case_files()
        .iter()
        .map(|f| {
            f.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let found: BTreeSet<&str> = found.iter().map(String::as_str).collect();
    assert_eq!(found, expected);
}

#[test]
fn every_semantics_item_has_a_case() {
    let mut covered = BTreeSet::new();
    let mut mcp_rules = BTreeSet::new();
    for f in case_files() {
        for t in load_case(&f).tags {
            if let Some(n) = t.strip_prefix("sem-") {
                covered.insert(
                    n.parse::<u32>()
                        .unwrap_or_else(|_| panic!("{}: bad tag {t}", f.display())),
                );
            }
            if let Some(n) = t.strip_prefix("mcp-")
                && let Ok(n) = n.parse::<u32>()
            {
                mcp_rules.insert(n);
            }
        }
    }
    let missing: Vec<u32> = (1..=78).filter(|n| !covered.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "semantics.md §8 items without a case: {missing:?}"
    );
    assert!(
        covered.iter().all(|n| (1..=78).contains(n)),
        "unknown sem-N tags: {covered:?}"
    );
    // mcp.md §9: the ten rules, all observable from a client.
    for rule in 1..=10 {
        assert!(
            mcp_rules.contains(&rule),
            "mcp.md §9 rule {rule} has no case"
        );
    }
}

#[test]
fn unsupported_items_are_tagged_unsupported() {
    // Items that need features naftiko-gateway does not implement.
    let unsupported_items = [48, 56, 57, 77];
    for f in case_files() {
        let tags = load_case(&f).tags;
        for n in unsupported_items {
            if tags.iter().any(|t| *t == format!("sem-{n}")) {
                assert!(
                    tags.iter().any(|t| t == "unsupported"),
                    "{} covers sem-{n} and must be tagged unsupported",
                    f.display()
                );
            }
        }
    }
}
