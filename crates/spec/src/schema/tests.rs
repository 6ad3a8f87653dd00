//! Tests for the schema check: the seed's known deviations, the schema-valid corpus, and the
//! branch selection / message rules on small hand-written documents.

use super::{COMPILED, SchemaIssue, check};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

/// JSON copies of YAML files (see `testdata/README.md`), so these tests need no YAML loader.
const SEED: &str = include_str!("testdata/ory-identities.json");

/// Every corpus file the alpha2 schema accepts as is.
const VALID_CORPUS: [(&str, &str); 7] = [
    (
        "api-evangelist__hubspot__content-management",
        include_str!("testdata/api-evangelist__hubspot__content-management.json"),
    ),
    (
        "naftiko__framework-fixture__aggregate-basic",
        include_str!("testdata/naftiko__framework-fixture__aggregate-basic.json"),
    ),
    (
        "naftiko__framework-fixture__control-capability",
        include_str!("testdata/naftiko__framework-fixture__control-capability.json"),
    ),
    (
        "naftiko__framework-fixture__http-body-capability",
        include_str!("testdata/naftiko__framework-fixture__http-body-capability.json"),
    ),
    (
        "naftiko__framework-fixture__mcp-resources-prompts-capability",
        include_str!("testdata/naftiko__framework-fixture__mcp-resources-prompts-capability.json"),
    ),
    (
        "naftiko__microsoft-teams__shared-microsoft-teams-api-consumes",
        include_str!("testdata/naftiko__microsoft-teams__shared-microsoft-teams-api-consumes.json"),
    ),
    (
        "naftiko__shipyard-tutorial__step-7-shipyard-orchestrated-lookup",
        include_str!(
            "testdata/naftiko__shipyard-tutorial__step-7-shipyard-orchestrated-lookup.json"
        ),
    ),
];

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("test data is valid JSON")
}

/// The last pointer segment and the pointer of its parent.
fn split_last(pointer: &str) -> (&str, &str) {
    pointer.rsplit_once('/').expect("a non-root pointer")
}

fn issue(pointer: &str, message: &str, unknown_key: bool) -> SchemaIssue {
    SchemaIssue {
        pointer: pointer.to_owned(),
        message: message.to_owned(),
        unknown_key,
    }
}

/// A minimal valid document around one exposed adapter.
fn with_adapter(adapter: &Value) -> Value {
    json!({
        "naftiko": "1.0.0-alpha2",
        "info": {"label": "t", "description": "t"},
        "capability": {"exposes": [adapter]}
    })
}

#[test]
fn embedded_schema_compiles() {
    assert!(COMPILED.is_ok(), "{:?}", COMPILED.as_ref().err());
}

#[test]
fn seed_reports_exactly_its_known_deviations() {
    let doc = parse(SEED);
    let issues = check(&doc);

    // Nothing opaque: no whole-document issue and no bare oneOf/anyOf message.
    for issue in &issues {
        assert!(!issue.pointer.is_empty(), "issue at the root: {issue:?}");
        assert!(
            !issue.message.contains("valid under"),
            "opaque issue: {issue:?}"
        );
        assert!(
            !issue.pointer.starts_with("/info") && !issue.pointer.starts_with("/binds"),
            "info and binds are valid: {issue:?}"
        );
        let resolved = doc.pointer(&issue.pointer);
        assert!(
            resolved.is_some(),
            "pointer outside the document: {issue:?}"
        );
    }
    let distinct: HashSet<_> = issues.iter().map(|i| (&i.pointer, &i.message)).collect();
    assert_eq!(distinct.len(), issues.len(), "duplicates were not removed");

    // 1. The empty base URI fails the pattern.
    let pattern: Vec<&SchemaIssue> = issues
        .iter()
        .filter(|i| i.message.contains("pattern"))
        .collect();
    assert_eq!(
        pattern,
        [&issue(
            "/capability/consumes/0/baseUri",
            "'' does not match pattern '^https?://[^/]+(/[^{]*)?$'",
            false
        )]
    );

    // 2. Consumed input parameters carry `type` (all 47), `description` (46) and `required`
    //    (19), which ConsumedInputParameter does not allow.
    let mut per_key: BTreeMap<&str, usize> = BTreeMap::new();
    let mut parameters = HashSet::new();
    for i in issues
        .iter()
        .filter(|i| i.pointer.contains("/inputParameters/"))
    {
        let (parent, key) = split_last(&i.pointer);
        assert!(i.unknown_key, "{i:?}");
        assert!(
            parent.starts_with("/capability/consumes/0/resources/"),
            "{i:?}"
        );
        assert_eq!(
            i.message,
            format!("unknown key '{key}' (not allowed here by the schema)")
        );
        *per_key.entry(key).or_default() += 1;
        parameters.insert(parent);
    }
    assert_eq!(parameters.len(), 47);
    let expected: BTreeMap<&str, usize> = [("description", 46), ("required", 19), ("type", 47)]
        .into_iter()
        .collect();
    assert_eq!(per_key, expected);

    // 3. The REST adapter carries `description`, which ExposesRest does not allow.
    let adapter: Vec<&SchemaIssue> = issues
        .iter()
        .filter(|i| i.unknown_key && !i.pointer.contains("/inputParameters/"))
        .collect();
    assert_eq!(
        adapter,
        [&issue(
            "/capability/exposes/0/description",
            "unknown key 'description' (not allowed here by the schema)",
            true
        )]
    );

    // 4. The `{type: object, mapping: $.}` output parameters (19 REST operations, 19 MCP
    //    tools) lack the `properties` MappedOutputParameterObject requires.
    let missing: Vec<&SchemaIssue> = issues
        .iter()
        .filter(|i| i.message == "missing required key 'properties'")
        .collect();
    assert_eq!(missing.len(), 38);
    for i in &missing {
        assert!(!i.unknown_key);
        assert!(i.pointer.starts_with("/capability/exposes/"), "{i:?}");
        assert!(i.pointer.ends_with("/outputParameters/0"), "{i:?}");
        let parameter = doc.pointer(&i.pointer).expect("checked above");
        assert_eq!(parameter, &json!({"type": "object", "mapping": "$."}));
    }
    let rest = missing
        .iter()
        .filter(|i| i.pointer.starts_with("/capability/exposes/0/"));
    assert_eq!(rest.count(), 19);

    // Nothing else.
    assert_eq!(issues.len(), 1 + 112 + 1 + 38, "{issues:#?}");
}

#[test]
fn schema_valid_corpus_has_no_issues() {
    for (name, text) in VALID_CORPUS {
        assert_eq!(check(&parse(text)), [], "{name}");
    }
}

#[test]
fn unknown_discriminator_value_lists_the_accepted_ones() {
    let doc = with_adapter(&json!({"type": "grpc", "namespace": "x", "port": 1}));
    assert_eq!(
        check(&doc),
        [issue(
            "/capability/exposes/0/type",
            "expected 'control', 'mcp', 'rest' or 'skill', found 'grpc'",
            false
        )]
    );
}

#[test]
fn discriminator_picks_the_branch_and_reports_its_leaves() {
    // `type: mcp` selects ExposesMcp: only its complaints are reported, not the other forms'.
    let doc = with_adapter(&json!({"type": "mcp", "namespace": "x", "port": 1, "extra": 1}));
    let mut issues = check(&doc);
    issues.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    assert_eq!(
        issues,
        [
            issue(
                "/capability/exposes/0",
                "missing required key 'tools'",
                false
            ),
            issue(
                "/capability/exposes/0/extra",
                "unknown key 'extra' (not allowed here by the schema)",
                true
            ),
        ]
    );
}

#[test]
fn required_keys_pick_between_inline_and_imported_consumes() {
    let doc = json!({
        "naftiko": "1.0.0-alpha2",
        "consumes": [{"location": "file:///shared/api.yml"}]
    });
    assert_eq!(
        check(&doc),
        [issue("/consumes/0", "missing required key 'import'", false)]
    );
}

#[test]
fn forms_differing_only_in_required_keys_are_named_together() {
    let missing = json!({"naftiko": "1.0.0-alpha2"});
    assert_eq!(
        check(&missing),
        [issue(
            "",
            "missing required key 'capability' or 'consumes'",
            false
        )]
    );
    let both = json!({
        "naftiko": "1.0.0-alpha2",
        "capability": {"consumes": [{"location": "l", "import": "a"}]},
        "consumes": [{"location": "l", "import": "b"}]
    });
    assert_eq!(
        check(&both),
        [issue(
            "",
            "only one of 'capability' or 'consumes' may be set",
            false
        )]
    );
}

#[test]
fn present_required_keys_point_at_the_intended_form() {
    // A tool with `name` and `call` but no `description` meant the `call` form, not `ref`.
    let doc = with_adapter(&json!({
        "type": "mcp", "namespace": "x", "port": 1,
        "tools": [{"name": "t", "call": "a.b"}]
    }));
    assert_eq!(
        check(&doc),
        [issue(
            "/capability/exposes/0/tools/0",
            "missing required key 'description'",
            false
        )]
    );
}

#[test]
fn exclusion_and_exclusive_keys_are_named() {
    let stdio_with_port = with_adapter(&json!({
        "type": "mcp", "namespace": "x", "transport": "stdio", "port": 1,
        "tools": [{"name": "t", "description": "d", "call": "a.b"}]
    }));
    assert_eq!(
        check(&stdio_with_port),
        [issue(
            "/capability/exposes/0/port",
            "key 'port' is not allowed in this form",
            false
        )]
    );
    let both = with_adapter(&json!({
        "type": "mcp", "namespace": "x", "port": 1,
        "tools": [{
            "name": "t", "description": "d", "call": "a.b",
            "outputParameters": [{"type": "string", "mapping": "$.a", "value": "v"}]
        }]
    }));
    assert_eq!(
        check(&both),
        [issue(
            "/capability/exposes/0/tools/0/outputParameters/0",
            "only one of 'mapping' or 'value' may be set",
            false
        )]
    );
}

#[test]
fn unknown_keys_get_escaped_pointers_and_plain_leaves_keep_their_wording() {
    let doc = json!({
        "naftiko": "1.0.0-alpha1",
        "info": {"label": "t", "description": "t", "a/b~c": 1},
        "capability": {"exposes": [{"type": "rest", "namespace": "x", "port": "80"}]}
    });
    let mut issues = check(&doc);
    issues.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    assert_eq!(
        issues,
        [
            issue(
                "/capability/exposes/0/port",
                "expected integer, found string",
                false
            ),
            issue(
                "/info/a~1b~0c",
                "unknown key 'a/b~c' (not allowed here by the schema)",
                true
            ),
            issue(
                "/naftiko",
                "expected '1.0.0-alpha2', found '1.0.0-alpha1'",
                false
            ),
        ]
    );
}

#[test]
fn a_key_pinned_by_one_branch_only_is_ranked_not_short_circuited() {
    // Only ConsumesHttp pins `type`; ImportedConsumesHttp merely forbids it. The inline form
    // still fits best, so its own complaint about the value is what gets reported.
    let consumes = json!({
        "naftiko": "1.0.0-alpha2",
        "consumes": [{"type": "grpc", "namespace": "a", "baseUri": "https://x"}]
    });
    assert_eq!(
        check(&consumes),
        [issue(
            "/consumes/0/type",
            "expected 'http', found 'grpc'",
            false
        )]
    );
    // `transport` is pinned by ExposesMcp alone (and again by its inner stdio/http forms,
    // whose identical complaint is de-duplicated).
    let transport = with_adapter(&json!({
        "type": "mcp", "namespace": "m", "transport": "websocket", "port": 1,
        "tools": [{"name": "t", "description": "d", "call": "a.b"}]
    }));
    assert_eq!(
        check(&transport),
        [issue(
            "/capability/exposes/0/transport",
            "expected 'http' or 'stdio', found 'websocket'",
            false
        )]
    );
}
