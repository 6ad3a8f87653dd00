//! The seed capability and the 40-file public corpus through the loader.
//!
//! The corpus is vendored at `<repo>/tests/corpus/public/` (a copy of
//! `shared/corpus/public/`, checked for drift when that directory exists) so the repository
//! is self-contained.
//!
//! The snapshots include the JSON-Schema level (`schema` / schema `unknown-key` warnings);
//! when that level changes, re-bless them with
//! `INSTA_UPDATE=always cargo test -p naftiko-spec --test seed_and_corpus` (or
//! `cargo insta accept`) and review the diff.
#![allow(missing_docs)]
// clippy's allow-expect-in-tests covers `#[test]` fns, not the helpers here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use naftiko_spec::{Diagnostics, LoadOptions, Loaded, Severity, load};

/// The corpus files that are valid under the official alpha2 JSON Schema. Computed with
/// python3 `jsonschema` 4.26 (`Draft202012Validator`, no format checking) against
/// `shared/spec/naftiko-schema.json`, each file read with PyYAML `SafeLoader` (with or
/// without its timestamp resolver, same result): `iter_errors(doc)` empty.
const SCHEMA_VALID: [&str; 7] = [
    "api-evangelist__hubspot__content-management.yaml",
    "naftiko__framework-fixture__aggregate-basic.yaml",
    "naftiko__framework-fixture__control-capability.yaml",
    "naftiko__framework-fixture__http-body-capability.yaml",
    "naftiko__framework-fixture__mcp-resources-prompts-capability.yaml",
    "naftiko__microsoft-teams__shared-microsoft-teams-api-consumes.yaml",
    "naftiko__shipyard-tutorial__step-7-shipyard-orchestrated-lookup.yaml",
];

/// Errors our loader reports on schema-valid files that are loader bugs, not file bugs:
/// `(file, line, code)`. Each must still occur (so a fix forces this list to shrink).
/// Empty since list-form `items` of orchestrated outputs are read.
const KNOWN_LOADER_BUGS: &[(&str, u32, &str)] = &[];

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn seed_path() -> PathBuf {
    manifest().join("../../capabilities/ory-identities.yml")
}

fn corpus_dir() -> PathBuf {
    manifest().join("../../tests/corpus/public")
}

/// The corpus files, sorted by name.
fn corpus() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus/public")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("read corpus file"))
        })
        .collect();
    files.sort();
    files
}

/// Loads with imports read relative to `dirs` (first hit wins), like `validate` does.
fn load_from(source: &str, options: LoadOptions, dirs: &[PathBuf]) -> Loaded {
    load(source, options, &mut |location| {
        dirs.iter()
            .find_map(|d| std::fs::read_to_string(d.join(location)).ok())
            .ok_or_else(|| format!("'{location}' not found"))
    })
}

fn lines(d: &Diagnostics) -> String {
    d.iter().fold(String::new(), |mut out, d| {
        let _ = writeln!(
            out,
            "{}:{} {}[{}] {}",
            d.pos.line,
            d.pos.col,
            d.severity.as_str(),
            d.code,
            d.message
        );
        out
    })
}

#[test]
fn seed_loads_without_errors() {
    let source = std::fs::read_to_string(seed_path()).expect("seed");
    let loaded = load_from(&source, LoadOptions::default(), &[]);
    let (errors, _) = loaded.diagnostics.counts();
    assert_eq!(errors, 0, "{}", lines(&loaded.diagnostics));
    let doc = loaded.servable().expect("the seed is servable");
    let cap = doc.capability.as_ref().expect("capability");
    assert_eq!((cap.consumes.len(), cap.exposes.len()), (1, 2));
    let baseuri_empty: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "baseuri-empty")
        .collect();
    assert_eq!(baseuri_empty.len(), 1);
    assert_eq!(
        (baseuri_empty[0].pos.line, baseuri_empty[0].pos.col),
        (18, 14)
    );
    insta::assert_snapshot!("seed_diagnostics", lines(&loaded.diagnostics));
}

#[test]
fn seed_under_strict_has_only_promoted_warnings() {
    let source = std::fs::read_to_string(seed_path()).expect("seed");
    let lax = load_from(&source, LoadOptions::default(), &[]);
    let strict = load_from(&source, LoadOptions { strict: true }, &[]);
    let (_, warnings) = lax.diagnostics.counts();
    assert_eq!(strict.diagnostics.counts(), (warnings, 0));
    assert!(strict.servable().is_none());
}

#[test]
fn vendored_corpus_matches_the_shared_one() {
    let files = corpus();
    assert_eq!(
        files.len(),
        40,
        "tests/corpus/public should hold the 40 public corpus files"
    );
    let shared = manifest().join("../../../shared/corpus/public");
    if !shared.is_dir() {
        return;
    }
    for (name, text) in &files {
        let original = std::fs::read_to_string(shared.join(name)).unwrap_or_default();
        assert!(
            original == *text,
            "{name} differs from shared/corpus/public"
        );
    }
}

/// One line per file: counts, then codes with how often each occurs.
fn summary_line(name: &str, d: &Diagnostics) -> String {
    let mut by_code: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for x in d.iter() {
        *by_code.entry((x.severity.as_str(), x.code)).or_default() += 1;
    }
    let codes = |sev: &str| {
        let parts: Vec<String> = by_code
            .iter()
            .filter(|((s, _), _)| *s == sev)
            .map(|((_, c), n)| format!("{c}×{n}"))
            .collect();
        if parts.is_empty() {
            "-".to_string()
        } else {
            parts.join(" ")
        }
    };
    let (e, w) = d.counts();
    format!(
        "{name}\n  {e} error(s): {}\n  {w} warning(s): {}\n",
        codes("error"),
        codes("warning")
    )
}

#[test]
fn corpus_loads_without_panic() {
    let mut summary = String::new();
    let mut panicked = Vec::new();
    let (mut total_e, mut total_w, mut with_errors) = (0, 0, 0);
    for (name, source) in corpus() {
        let result = catch_unwind(AssertUnwindSafe(|| {
            load_from(&source, LoadOptions::default(), &[corpus_dir()])
        }));
        let Ok(loaded) = result else {
            panicked.push(name);
            continue;
        };
        let (e, w) = loaded.diagnostics.counts();
        (total_e, total_w) = (total_e + e, total_w + w);
        with_errors += usize::from(e > 0);
        summary.push_str(&summary_line(&name, &loaded.diagnostics));
        // Strict mode must not panic either, and only promotes.
        let strict = catch_unwind(AssertUnwindSafe(|| {
            load_from(&source, LoadOptions { strict: true }, &[corpus_dir()])
        }));
        match strict {
            Ok(s) => assert_eq!(
                s.diagnostics.counts(),
                (e + w, 0),
                "{name}: strict must promote every warning"
            ),
            Err(_) => panicked.push(format!("{name} (strict)")),
        }
    }
    assert!(panicked.is_empty(), "the loader panicked on: {panicked:?}");
    let _ = writeln!(
        summary,
        "total: {total_e} error(s), {total_w} warning(s); {with_errors} file(s) with errors"
    );
    insta::assert_snapshot!("corpus_summary", summary);
}

#[test]
fn schema_valid_corpus_files_have_no_errors() {
    let stand_ins = manifest().join("tests/fixtures/corpus-imports");
    let files = corpus();
    let mut problems = Vec::new();
    let mut seen_bugs = Vec::new();
    for name in SCHEMA_VALID {
        let (_, source) = files
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not in the corpus"));
        // The shipyard file imports two shared consumes files the corpus does not carry;
        // hand-written stand-ins supply the operations it calls.
        let loaded = load_from(
            source,
            LoadOptions::default(),
            &[corpus_dir(), stand_ins.clone()],
        );
        for d in loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            let key = (name, d.pos.line, d.code);
            if KNOWN_LOADER_BUGS.contains(&key) {
                seen_bugs.push(key);
            } else {
                problems.push(format!("{name}:{}: error[{}] {}", d.pos, d.code, d.message));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "schema-valid corpus files with errors:\n{}",
        problems.join("\n")
    );
    let fixed: Vec<_> = KNOWN_LOADER_BUGS
        .iter()
        .filter(|b| !seen_bugs.contains(b))
        .collect();
    assert!(
        fixed.is_empty(),
        "these known loader bugs no longer occur, remove them from KNOWN_LOADER_BUGS: {fixed:?}"
    );
}

#[test]
fn imports_resolve_through_the_reader() {
    // Without the stand-ins the shipyard file reports its two missing imports, each once,
    // at the `location` it could not read.
    let files = corpus();
    let (_, source) = files
        .iter()
        .find(|(n, _)| n.starts_with("naftiko__shipyard"))
        .expect("shipyard");
    let loaded = load_from(source, LoadOptions::default(), &[corpus_dir()]);
    let imports: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "import")
        .map(|d| format!("{} {}", d.pos, d.message))
        .collect();
    assert_eq!(imports.len(), 2, "{imports:#?}");
    assert!(
        imports[0].starts_with(
            "21:17 import source file './shared/step7-registry-consumes.yml' not found"
        ),
        "{imports:#?}"
    );
    assert!(
        imports[1]
            .starts_with("23:17 import source file './shared/legacy-consumes.yaml' not found"),
        "{imports:#?}"
    );
    // With them, every call into `registry` and `legacy` resolves.
    let stand_ins = manifest().join("tests/fixtures/corpus-imports");
    let loaded = load_from(source, LoadOptions::default(), &[stand_ins]);
    let doc = loaded.document.as_ref().expect("document");
    let cap = doc.capability.as_ref().expect("capability");
    assert!(
        cap.consumes
            .iter()
            .all(|c| matches!(c, naftiko_spec::ConsumesSpec::Http(_))),
        "imports were replaced by their HTTP consumes"
    );
    assert!(
        !loaded
            .diagnostics
            .iter()
            .any(|d| d.code == "import" || d.code == "call-target"),
        "{}",
        lines(&loaded.diagnostics)
    );
}
